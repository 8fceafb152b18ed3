// Bearer tokens: signed claims of who is calling, in which role, for which
// jurisdiction (DESIGN.md §6).
//
// Tokens are JWTs in compact form, signed with HMAC-SHA-256 ("HS256") only;
// the header is always {"alg":"HS256","typ":"JWT"}. Payload claims:
//   sub  user id: opaque, 1..64 characters of [A-Za-z0-9._@-]
//   role wire name of a Role (see role.h)
//   jur  jurisdiction (see jurisdiction.h), valid for the role
//   iat  issued at, unix seconds
//   exp  expires at, unix seconds, after iat
//   org  the employer's unified social credit code: present for the employer
//        role and for no other
//
//   ASSIGN_OR_RETURN(std::string key, LoadKeyFile(options.token_key_file));
//   ASSIGN_OR_RETURN(auto signer, TokenSigner::Create(key));
//   ASSIGN_OR_RETURN(std::string token, signer->Sign(claims));
//
//   ASSIGN_OR_RETURN(auto verifier,
//                    TokenVerifier::Create(key, &clock));  // clock not owned
//   absl::StatusOr<Claims> claims = verifier->Verify(token);
//
// The key is configuration, read from a file; never compile it in, log it or
// put it in an error message. Signer and verifier own a copy of the key and
// wipe it when destroyed. Both are immutable after Create and thread-safe.
#ifndef PATHWAY_COMMON_AUTH_TOKEN_H_
#define PATHWAY_COMMON_AUTH_TOKEN_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/role.h"
#include "common/clock/clock.h"

namespace pathway {

// Smallest and largest accepted HMAC key, in bytes.
inline constexpr size_t kMinTokenKeyBytes = 32;
inline constexpr size_t kMaxTokenKeyBytes = 4096;
// Longest token Verify will look at, in bytes.
inline constexpr size_t kMaxTokenBytes = 4096;

// What a token says about its bearer. Times are whole unix seconds on the wire;
// Sign drops any fraction.
struct Claims {
  std::string subject;
  Role role = Role::kCaseworker;
  std::string jurisdiction;
  absl::Time issued_at;
  absl::Time expires_at;
  // Unified social credit code (18 characters of [0-9A-HJ-NP-RTUW-Y]);
  // required for Role::kEmployer, empty for every other role.
  std::string organization;
};

// OK if `claims` is well formed: subject, jurisdiction for the role,
// organization rule, and issued_at < expires_at within years 1970..9999.
// INVALID_ARGUMENT naming the first problem otherwise. Does not look at a clock.
absl::Status ValidateClaims(const Claims& claims);

// Signs claims into tokens.
class TokenSigner {
 public:
  // INVALID_ARGUMENT unless kMinTokenKeyBytes <= key.size() <= kMaxTokenKeyBytes.
  static absl::StatusOr<std::unique_ptr<TokenSigner>> Create(std::string key);

  TokenSigner(const TokenSigner&) = delete;
  TokenSigner& operator=(const TokenSigner&) = delete;
  ~TokenSigner();

  // The compact token for `claims`; INVALID_ARGUMENT if ValidateClaims fails.
  absl::StatusOr<std::string> Sign(const Claims& claims) const;

 private:
  explicit TokenSigner(std::string key);

  std::string key_;
};

// Anything that turns a bearer token into the caller's claims: the shared-key
// TokenVerifier below, the identity provider's JwksVerifier (jwks_verifier.h), or
// both together (ProviderTokenVerifier, provider_verifier.h). Implementations are
// thread-safe; a refusal is UNAUTHENTICATED with a short message.
class BearerVerifier {
 public:
  virtual ~BearerVerifier() = default;
  virtual absl::StatusOr<Claims> Verify(absl::string_view token) const = 0;
};

// Checks HS256 tokens signed with the deployment's shared key and returns their
// claims.
class TokenVerifier final : public BearerVerifier {
 public:
  // `clock`: not owned; must outlive the verifier. `leeway` is the allowed
  // clock skew for exp and iat, between zero and 10 minutes. INVALID_ARGUMENT
  // for a bad key size (as TokenSigner::Create), a null clock or a bad leeway.
  static absl::StatusOr<std::unique_ptr<TokenVerifier>> Create(
      std::string key, const Clock* clock, absl::Duration leeway = absl::Seconds(60));

  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;
  ~TokenVerifier() override;

  // The token's claims, or UNAUTHENTICATED with a short generic message:
  // "token expired" (exp + leeway has passed), "token not yet valid"
  // (iat is more than leeway ahead of the clock) or "invalid token" for
  // everything else: over kMaxTokenBytes, not three base64url segments,
  // any alg but exactly "HS256" (checked before anything else), a bad
  // signature (compared in constant time), malformed JSON, missing or
  // wrongly typed claims, or claims that fail ValidateClaims.
  //
  // A token that passed once is remembered (whole token -> claims, at most
  // kMaxRememberedTokens): an app sends the same token with every call, and
  // decoding its JSON cost more than the rest of a cached status read. The
  // times are checked against the clock on every call, remembered or not.
  absl::StatusOr<Claims> Verify(absl::string_view token) const override;

  // How many verified tokens are remembered now (for tests).
  size_t RememberedTokensForTesting() const;

  static constexpr size_t kRememberShards = 16;
  static constexpr size_t kMaxRememberedTokens = 4096;

 private:
  TokenVerifier(std::string key, const Clock* clock, absl::Duration leeway);

  // Signature, header and claims checks; no clock.
  absl::StatusOr<Claims> Decode(absl::string_view token) const;
  absl::StatusOr<Claims> CheckTimes(Claims claims) const;

  // Sharded so that concurrent calls rarely meet on one lock.
  struct RememberShard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Claims> claims ABSL_GUARDED_BY(mu);
  };

  std::string key_;
  const Clock* clock_;  // not owned
  absl::Duration leeway_;
  mutable RememberShard remembered_[kRememberShards];
};

// Reads an HMAC key from the file at `path`: the file's bytes minus trailing
// whitespace. NOT_FOUND if the file does not exist, FAILED_PRECONDITION if it
// is not a regular file or the key is shorter than kMinTokenKeyBytes or longer
// than kMaxTokenKeyBytes, PERMISSION_DENIED or INTERNAL if it cannot be read.
// Messages name the path, never the key.
absl::StatusOr<std::string> LoadKeyFile(absl::string_view path);

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_TOKEN_H_
