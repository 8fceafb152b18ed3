#include "common/auth/guard.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/service_identity.h"
#include "common/status/status_macros.h"
#include "common/trace/request_id_interceptor.h"

namespace pathway {
namespace {

constexpr absl::string_view kAuthorizationKey = "authorization";
constexpr absl::string_view kBearer = "bearer";

// The one authorization header of the call.
absl::StatusOr<absl::string_view> AuthorizationHeader(const grpc::ServerContextBase& ctx) {
  const auto& metadata = ctx.client_metadata();
  auto range =
      metadata.equal_range(grpc::string_ref(kAuthorizationKey.data(), kAuthorizationKey.size()));
  if (range.first == range.second) {
    return absl::UnauthenticatedError("missing bearer token");
  }
  if (std::next(range.first) != range.second) {
    return absl::UnauthenticatedError("invalid authorization header");
  }
  const grpc::string_ref& value = range.first->second;
  return absl::string_view(value.data(), value.size());
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// The token in "Bearer <token>": scheme case-insensitive, then one or more
// blanks; surrounding blanks are ignored.
absl::StatusOr<absl::string_view> BearerToken(absl::string_view header) {
  while (!header.empty() && IsBlank(header.front())) header.remove_prefix(1);
  while (!header.empty() && IsBlank(header.back())) header.remove_suffix(1);
  if (header.empty()) return absl::UnauthenticatedError("missing bearer token");
  if (header.size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(header.substr(0, kBearer.size()), kBearer) ||
      !IsBlank(header[kBearer.size()])) {
    return absl::UnauthenticatedError("invalid authorization header");
  }
  header.remove_prefix(kBearer.size());
  while (!header.empty() && IsBlank(header.front())) header.remove_prefix(1);
  for (char c : header) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return absl::UnauthenticatedError("invalid authorization header");
    }
  }
  return header;
}

// The CN of the call's verified client certificate; empty when the peer is not
// authenticated by a certificate or names no single CN.
std::string PeerCommonName(const grpc::ServerContextBase& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "";
  std::vector<grpc::string_ref> cn = auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (cn.size() != 1) return "";
  return std::string(cn[0].data(), cn[0].size());
}

}  // namespace

Authorizer::Authorizer(const BearerVerifier* verifier, ServicePeerBinding binding)
    : verifier_(verifier), binding_(std::move(binding)) {}

absl::StatusOr<Caller> Authorizer::Verify(absl::string_view authorization) const {
  ASSIGN_OR_RETURN(absl::string_view token, BearerToken(authorization));
  if (verifier_ == nullptr) return absl::UnauthenticatedError("invalid token");
  ASSIGN_OR_RETURN(Claims claims, verifier_->Verify(token));
  Caller caller;
  caller.claims = std::move(claims);
  return caller;
}

absl::StatusOr<Caller> Authorizer::AuthenticateHeader(absl::string_view authorization) const {
  ASSIGN_OR_RETURN(Caller caller, Verify(authorization));
  if (binding_.enforced) {
    RETURN_IF_ERROR(CheckServicePeer("", caller.claims, binding_.allowed_callers));
  }
  return caller;
}

absl::StatusOr<Caller> Authorizer::AuthorizeHeader(absl::string_view authorization,
                                                   std::initializer_list<Role> allowed) const {
  ASSIGN_OR_RETURN(Caller caller, AuthenticateHeader(authorization));
  RETURN_IF_ERROR(CheckRole(caller, allowed));
  return caller;
}

absl::StatusOr<Caller> Authorizer::Authenticate(const grpc::ServerContextBase& ctx) const {
  ASSIGN_OR_RETURN(absl::string_view header, AuthorizationHeader(ctx));
  ASSIGN_OR_RETURN(Caller caller, Verify(header));
  if (binding_.enforced && caller.role() == Role::kService) {
    RETURN_IF_ERROR(CheckServicePeer(PeerCommonName(ctx), caller.claims, binding_.allowed_callers));
  }
  caller.request_id = RequestIdOf(ctx);
  return caller;
}

absl::StatusOr<Caller> Authorizer::Authorize(const grpc::ServerContextBase& ctx,
                                             std::initializer_list<Role> allowed) const {
  ASSIGN_OR_RETURN(Caller caller, Authenticate(ctx));
  RETURN_IF_ERROR(CheckRole(caller, allowed));
  return caller;
}

}  // namespace pathway
