// The metadata and deadline of a call Pathway makes with a bearer token: a service
// calling a peer with its service token, a tool or a test calling a service.
//
//   grpc::ClientContext ctx;
//   PrepareBearerContext(&ctx, tokens->Token(), options.peer_timeout);
//   grpc::Status s = stub->GetCaseFacts(&ctx, request, &reply);
//
// The token goes in the "authorization" header as "Bearer <token>", the form
// common/auth/guard.h reads. Thread-safe: plain functions; a ClientContext itself is
// used by one call on one thread.
#ifndef PATHWAY_COMMON_CLIENT_BEARER_CONTEXT_H_
#define PATHWAY_COMMON_CLIENT_BEARER_CONTEXT_H_

#include <grpcpp/grpcpp.h>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pathway {

// The value of the authorization header for `token`: "Bearer <token>".
std::string BearerHeader(absl::string_view token);

// Adds "authorization: Bearer <token>" to `ctx`; an empty token adds nothing (the
// call goes out unauthenticated, for tools run without a token).
void SetBearerToken(grpc::ClientContext* ctx, absl::string_view token);

// SetBearerToken, and a deadline `timeout` from now or at `deadline`.
void PrepareBearerContext(grpc::ClientContext* ctx, absl::string_view token,
                          absl::Duration timeout);
void PrepareBearerContext(grpc::ClientContext* ctx, absl::string_view token,
                          absl::Time deadline);

}  // namespace pathway

#endif  // PATHWAY_COMMON_CLIENT_BEARER_CONTEXT_H_
