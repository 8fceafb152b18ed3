// Verifies bearer tokens issued by an OpenID Connect provider: compact JWS
// JWTs signed ES256 or RS256, checked against the provider's published key
// set (JWKS), and mapped to the same `Claims` that TokenVerifier returns
// (token.h), so the two are interchangeable behind one Verify call.
//
//   JwksVerifierOptions options;
//   options.jwks_file = "/etc/pathway/province-jwks.json";
//   options.issuer = "https://idp.example.gov.cn/realms/pathway";
//   options.audience = "pathway";
//   ASSIGN_OR_RETURN(auto verifier, JwksVerifier::Create(options, &clock));
//   absl::StatusOr<Claims> claims = verifier->Verify(token);
//
// Library: Debian 12's librhonabwy (1.1.11, pkg-config `librhonabwy`) parses
// the JWKS into JWKs and checks JWS signatures through GnuTLS. It was chosen
// over the header-only libcpp-jwt because it reads JWKS documents itself (kty,
// crv, n/e, x/y into public keys, with key validation), while cpp-jwt wants a
// PEM per key, which would have meant hand-converting JWK parameters into PEM
// with OpenSSL here. Rhonabwy is used narrowly: its parser never follows a
// token's jku/jwk/x5u/x5c headers (R_PARSE_NONE), nothing is fetched over the
// network, and the key is always chosen here by kid, never by the library.
// Claims are checked here against the injected clock, not with rhonabwy's
// r_jwt_validate_claims, which reads the system time.
//
// What Verify accepts:
//   - a compact JWS of three base64url segments, at most kMaxJwtBytes;
//   - header alg exactly "ES256" or "RS256" (anything else, "none" and every
//     HS* included, is refused before a key is looked at), a non-empty kid, no
//     "crit" and no "zip";
//   - the kid names a key of the current key set whose type fits the alg: an
//     EC P-256 key for ES256, an RSA key of at least 2048 bits for RS256, and
//     if the key declares "alg" it equals the token's; a valid signature;
//   - iss equal to options.issuer; aud equal to options.audience or an array
//     of strings containing it;
//   - exp and iat required, nbf optional (NumericDate, integer or not; a
//     fraction is dropped): now <= exp + clock_skew, nbf <= now + clock_skew,
//     iat <= now + clock_skew, iat < exp and exp - iat <= max_lifetime;
//   - the claims named by options.claim_names (subject, role, jurisdiction as
//     strings; organization a string or absent) map to a Claims for which
//     ValidateClaims (token.h) passes; issued_at and expires_at are iat and exp.
// Every refusal is UNAUTHENTICATED with a short message naming the problem
// (also the rare "token could not be checked" when the library fails to
// allocate: the check fails closed),
// e.g. "token expired" or "unknown signing key"; a message never contains the
// token, key material or a claim's text (only claim names, and Pathway's own
// role names as ValidateClaims words them).
//
// Key rotation: the JWKS file is looked at (stat: inode, size, mtime) at most
// once per options.check_interval and re-read when it changed; a token whose
// kid is not in the current set makes the file be re-read at once, at most
// once per options.unknown_kid_reread_interval, so a key added by the provider
// is accepted without a restart and a removed key is refused after the next
// look. Replace the file by rename, so a reader never sees half of it. A file
// that cannot be read or parsed, holds private key material, repeats a kid or
// has no usable signing key leaves the last good key set in place; the event
// is logged (path and reason, never key material). Keys that are not signing
// keys for ES256/RS256 (other kty, other curve, use other than "sig", another
// alg, no kid, RSA under 2048 bits) are skipped and counted in the log.
//
// Thread safety: Verify may be called from any number of threads. The key set
// is an immutable snapshot swapped under a mutex; a reload is done by one
// thread while the others go on with the snapshot they hold.
#ifndef PATHWAY_COMMON_AUTH_JWKS_VERIFIER_H_
#define PATHWAY_COMMON_AUTH_JWKS_VERIFIER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/token.h"
#include "common/clock/clock.h"

namespace pathway {

// Longest token Verify looks at, in bytes. Larger than token.h's
// kMaxTokenBytes: provider tokens carry more claims and RSA signatures.
inline constexpr size_t kMaxJwtBytes = 8192;
// Largest JWKS file read, in bytes.
inline constexpr size_t kMaxJwksFileBytes = 1 << 20;

// Where Pathway's claims are found in a provider's token: top-level claim
// names. All four must be non-empty and distinct, and none may be one of the
// registered claims the verifier checks itself (iss, aud, exp, nbf, iat).
struct JwtClaimNames {
  std::string subject_claim = "sub";
  std::string role_claim = "pathway_role";
  std::string jurisdiction_claim = "pathway_jur";
  std::string organization_claim = "pathway_org";
};

// INVALID_ARGUMENT naming the first problem with `names`.
absl::Status ValidateJwtClaimNames(const JwtClaimNames& names);

struct JwksVerifierOptions {
  // The provider's public key set, {"keys":[...]}.
  std::string jwks_file;
  // Exact expected "iss" and one expected "aud" value; both required.
  std::string issuer;
  std::string audience;
  JwtClaimNames claim_names;
  // Allowed difference between the provider's clock and ours, for exp, nbf and
  // iat: 0 to 10 minutes.
  absl::Duration clock_skew = absl::Seconds(60);
  // Longest accepted exp - iat: more than zero, at most 7 days.
  absl::Duration max_lifetime = absl::Hours(12);
  // How often the file is looked at for a change: 0 (every call) to 1 hour.
  absl::Duration check_interval = absl::Seconds(1);
  // Least time between two re-reads caused by an unknown kid: 0 to 1 hour.
  absl::Duration unknown_kid_reread_interval = absl::Seconds(1);
};

// INVALID_ARGUMENT naming the first problem with `options`.
absl::Status ValidateJwksVerifierOptions(const JwksVerifierOptions& options);

class JwksVerifier final : public BearerVerifier {
 public:
  // Reads the key set once. `clock`: not owned; must outlive the verifier.
  // INVALID_ARGUMENT for bad options or a null clock; NOT_FOUND if the file
  // does not exist; FAILED_PRECONDITION if it cannot be used (not a regular
  // file, too large, not a JWKS, private key material, repeated kid, no usable
  // signing key); PERMISSION_DENIED or INTERNAL if it cannot be read.
  static absl::StatusOr<std::unique_ptr<JwksVerifier>> Create(JwksVerifierOptions options,
                                                              const Clock* clock);

  JwksVerifier(const JwksVerifier&) = delete;
  JwksVerifier& operator=(const JwksVerifier&) = delete;
  ~JwksVerifier() override;

  // The token's claims, or UNAUTHENTICATED (see the header comment). May
  // re-read the key file first.
  absl::StatusOr<Claims> Verify(absl::string_view token) const override;

  // How many usable keys the current key set holds (for tests and health).
  size_t KeyCount() const;

  // Opaque here; defined in jwks_verifier.cc.
  struct KeySet;

 private:
  struct FileIdentity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_sec = 0;
    int64_t mtime_nsec = 0;
    bool operator==(const FileIdentity& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime_sec == o.mtime_sec &&
             mtime_nsec == o.mtime_nsec;
    }
  };

  JwksVerifier(JwksVerifierOptions options, const Clock* clock, std::shared_ptr<const KeySet> keys,
               FileIdentity identity, std::string text);

  // The current key set, after looking at the file if check_interval passed.
  std::shared_ptr<const KeySet> CurrentKeys(absl::Time now) const;
  // Re-reads the file for an unknown kid, if unknown_kid_reread_interval
  // allows; the key set to use afterwards, or null if no re-read was done.
  std::shared_ptr<const KeySet> RereadForUnknownKid(absl::Time now) const;
  // Re-reads the file if `force` or its identity changed; the new key set if
  // one was loaded, null otherwise (unchanged, or the file was bad: logged).
  std::shared_ptr<const KeySet> Reload(bool force) const;

  absl::StatusOr<Claims> CheckClaims(absl::string_view payload, absl::Time now) const;

  const JwksVerifierOptions options_;
  const Clock* clock_;  // not owned

  mutable absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(state_mu_);
  // Identity of the file last read (good or bad); empty if it could not be
  // looked at.
  mutable std::optional<FileIdentity> read_identity_ ABSL_GUARDED_BY(reload_mu_);
  // Its content: a re-read that finds the same bytes changes nothing and logs
  // nothing, so unknown kids cannot make the log grow.
  mutable std::string read_text_ ABSL_GUARDED_BY(reload_mu_);

  mutable absl::Mutex state_mu_;
  mutable std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(state_mu_);
  mutable absl::Time next_check_ ABSL_GUARDED_BY(state_mu_);
  mutable absl::Time next_unknown_kid_reread_ ABSL_GUARDED_BY(state_mu_);
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_JWKS_VERIFIER_H_
