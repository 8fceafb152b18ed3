// Tokens a service presents when it calls another service (role "service", national
// jurisdiction): minted with the deployment's signing key, cached, and renewed well
// before they expire.
//
//   ServiceTokenSource tokens(signer.get(), &clock, "svc-community_detox");
//   SetBearerToken(&ctx, tokens.Token());  // common/client/bearer_context.h
//
// Thread-safe. `signer` and `clock` are not owned and must outlive the source.
#ifndef PATHWAY_COMMON_AUTH_SERVICE_TOKEN_H_
#define PATHWAY_COMMON_AUTH_SERVICE_TOKEN_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/token.h"
#include "common/clock/clock.h"

namespace pathway {

class ServiceTokenSource {
 public:
  ServiceTokenSource(const TokenSigner* signer, const Clock* clock, std::string subject,
                     absl::Duration lifetime = absl::Hours(1));

  // A valid token with at least a quarter of its lifetime left.
  std::string Token() const;

 private:
  const TokenSigner* signer_;
  const Clock* clock_;
  const std::string subject_;
  const absl::Duration lifetime_;
  mutable absl::Mutex mu_;
  mutable std::string token_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time expires_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_SERVICE_TOKEN_H_
