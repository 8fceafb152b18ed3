// The authorisation guard every RPC handler calls first (DESIGN.md §6,
// STYLE.md rule 11: a gRPC 1.51 interceptor cannot reject a call).
//
//   void CaseService::GetCase(grpc::CallbackServerContext* ctx, ...) {
//     absl::StatusOr<Caller> caller =
//         authorizer_->Authorize(*ctx, {Role::kCaseworker, Role::kPolice});
//     if (!caller.ok()) return reactor->Finish(ToGrpcStatus(caller.status()));
//     ... logic_->GetCase(*caller, id) ...  // jurisdiction: see caller.h
//   }
//
// The token comes from the "authorization" metadata as "Bearer <token>" (the
// scheme is case-insensitive; exactly one such header). Errors, all safe to
// return to the client:
//   UNAUTHENTICATED   no or malformed header, or a token the verifier rejects
//   PERMISSION_DENIED a valid token whose role is not in `allowed`
// An empty `allowed` list denies every role.
//
// Service identity (service_identity.h): with a ServicePeerBinding that is
// enforced (the server requires client certificates), a token of role service
// is accepted only if the call's verified client certificate names an allowed
// caller and the token's subject names that same service; otherwise
// UNAUTHENTICATED with a fixed message, whatever `allowed` says. The *Header
// variants know no peer, so when enforced they refuse every service token.
// Not enforced (plaintext, or TLS without client certificates), a service token
// is accepted on the shared key alone.
//
// The verifier is not owned and must outlive the Authorizer. Authorizer is
// immutable and thread-safe.
#ifndef PATHWAY_COMMON_AUTH_GUARD_H_
#define PATHWAY_COMMON_AUTH_GUARD_H_

#include <grpcpp/server_context.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/caller.h"
#include "common/auth/role.h"
#include "common/auth/token.h"

namespace pathway {

// Whether service tokens are bound to the peer certificate, and to which callers.
struct ServicePeerBinding {
  // Set only where every client presents a verified certificate (mutual TLS).
  bool enforced = false;
  // Names of the services (certificate CNs) whose service tokens are accepted.
  std::vector<std::string> allowed_callers;
};

class Authorizer {
 public:
  // `verifier`: not owned; must outlive this.
  explicit Authorizer(const BearerVerifier* verifier, ServicePeerBinding binding = {});

  // The caller of the RPC in `ctx` if it presents a valid token whose role is
  // in `allowed`, with the call's request id (RequestIdOf, request_id_interceptor.h).
  absl::StatusOr<Caller> Authorize(const grpc::ServerContextBase& ctx,
                                   std::initializer_list<Role> allowed) const;

  // The caller of the RPC in `ctx` if it presents a valid token, whatever its
  // role. For handlers whose role rules depend on the request.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& ctx) const;

  // As Authorize / Authenticate, given the value of the authorization header.
  absl::StatusOr<Caller> AuthorizeHeader(absl::string_view authorization,
                                         std::initializer_list<Role> allowed) const;
  absl::StatusOr<Caller> AuthenticateHeader(absl::string_view authorization) const;

 private:
  // The token's claims, with no peer check.
  absl::StatusOr<Caller> Verify(absl::string_view authorization) const;

  const BearerVerifier* verifier_;  // not owned
  const ServicePeerBinding binding_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_GUARD_H_
