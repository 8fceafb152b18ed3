#include "common/auth/service_token.h"

#include <utility>

#include "common/auth/jurisdiction.h"
#include "common/log/log.h"

namespace pathway {

ServiceTokenSource::ServiceTokenSource(const TokenSigner* signer, const Clock* clock,
                                       std::string subject, absl::Duration lifetime)
    : signer_(signer), clock_(clock), subject_(std::move(subject)), lifetime_(lifetime) {}

std::string ServiceTokenSource::Token() const {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (now + lifetime_ / 4 < expires_) return token_;
  Claims c;
  c.subject = subject_;
  c.role = Role::kService;
  c.jurisdiction = std::string(kNationalJurisdiction);
  // Whole seconds: tokens carry unix seconds.
  c.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  c.expires_at = c.issued_at + lifetime_;
  absl::StatusOr<std::string> token = signer_->Sign(c);
  if (!token.ok()) {
    // Only a misconfigured subject can fail here; the callee will answer
    // UNAUTHENTICATED, which is the clearest signal to the operator.
    log::Error("service_token_failed", {{"error", token.status().ToString()}});
    return "";
  }
  token_ = *std::move(token);
  expires_ = c.expires_at;
  return token_;
}

}  // namespace pathway
