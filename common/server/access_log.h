// A server interceptor that writes one access-log line per RPC: method, status code,
// latency and the caller's user id (from a verified token, "-" when there is none).
// Never a request field, so never personal data. Health and reflection calls are
// logged at debug level, since load balancers probe them every few seconds.
//
// It only observes: a 1.51 interceptor cannot reject a call, so authorisation stays
// with each handler (common/auth/guard.h).
#ifndef PATHWAY_COMMON_SERVER_ACCESS_LOG_H_
#define PATHWAY_COMMON_SERVER_ACCESS_LOG_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "common/auth/token.h"

namespace pathway {

// `verifier` is not owned and must outlive every server built with the factory.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewAccessLogInterceptorFactory(const BearerVerifier* verifier);

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_ACCESS_LOG_H_
