#include "common/auth/provider_verifier.h"

#include <utility>

namespace pathway {

ProviderTokenVerifier::ProviderTokenVerifier(std::unique_ptr<JwksVerifier> provider,
                                             std::unique_ptr<TokenVerifier> internal)
    : provider_(std::move(provider)), internal_(std::move(internal)) {}

absl::StatusOr<Claims> ProviderTokenVerifier::Verify(absl::string_view token) const {
  // The internal verifier refuses anything but HS256 before it looks further, so
  // trying it first costs a provider token almost nothing.
  absl::StatusOr<Claims> internal = internal_->Verify(token);
  if (internal.ok()) {
    if (internal->role == Role::kService) return internal;
    return absl::UnauthenticatedError("a person's token must come from the identity provider");
  }
  absl::StatusOr<Claims> person = provider_->Verify(token);
  if (person.ok() && person->role == Role::kService) {
    return absl::UnauthenticatedError("the identity provider cannot speak for a service");
  }
  return person;
}

}  // namespace pathway
