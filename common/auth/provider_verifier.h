// The verifier of a deployment whose people sign in at the province's identity
// provider (DESIGN.md §6): a person's token is an ES256/RS256 JWT from the
// provider, checked against its published keys (JwksVerifier); the only tokens
// signed with the deployment's internal HS256 key that are accepted are the
// services' own (role service, minted by ServiceTokenSource for calls between
// services). So a person's HS256 token is refused even if it was signed with the
// right key, and a provider token claiming the service role is refused too: the
// provider speaks for people, never for a service.
//
//   ASSIGN_OR_RETURN(auto provider, JwksVerifier::Create(options.identity_provider, &clock));
//   ASSIGN_OR_RETURN(auto internal, TokenVerifier::Create(key, &clock));
//   ProviderTokenVerifier verifier(std::move(provider), std::move(internal));
//
// Thread-safe, as both verifiers are.
#ifndef PATHWAY_COMMON_AUTH_PROVIDER_VERIFIER_H_
#define PATHWAY_COMMON_AUTH_PROVIDER_VERIFIER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/jwks_verifier.h"
#include "common/auth/token.h"

namespace pathway {

class ProviderTokenVerifier final : public BearerVerifier {
 public:
  ProviderTokenVerifier(std::unique_ptr<JwksVerifier> provider,
                        std::unique_ptr<TokenVerifier> internal);

  // The claims of a service's internal token or of a person's provider token;
  // UNAUTHENTICATED otherwise, with the provider's reason for a token that is
  // neither.
  absl::StatusOr<Claims> Verify(absl::string_view token) const override;

 private:
  std::unique_ptr<JwksVerifier> provider_;
  std::unique_ptr<TokenVerifier> internal_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_PROVIDER_VERIFIER_H_
