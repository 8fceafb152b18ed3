// A server interceptor that gives every call its request id (request_id.h): it
// reads "x-request-id" from the client's metadata, keeps it when well formed
// and otherwise replaces it with a fresh one, in the received metadata itself,
// so the handler (and the Authorizer, which puts it into the Caller) reads the
// call's one id with RequestIdOf(ctx). The same id goes back in the response's
// initial metadata "x-request-id".
//
//   builder.experimental().SetInterceptorCreators(...NewRequestIdInterceptorFactory()...);
//   std::string id = RequestIdOf(*ctx);  // in a handler
//
// It only rewrites that one header and adds one to the answer; it never rejects
// a call. Thread-safe.
#ifndef PATHWAY_COMMON_TRACE_REQUEST_ID_INTERCEPTOR_H_
#define PATHWAY_COMMON_TRACE_REQUEST_ID_INTERCEPTOR_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

namespace pathway {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRequestIdInterceptorFactory();

// The request id of the call: the one "x-request-id" in its received metadata
// if well formed (always, on a server with the interceptor), otherwise "".
std::string RequestIdOf(const grpc::ServerContextBase &ctx);

} // namespace pathway

#endif // PATHWAY_COMMON_TRACE_REQUEST_ID_INTERCEPTOR_H_
