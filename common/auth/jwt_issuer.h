// Issues provider-style tokens for development and tests: Claims signed into
// an ES256 or RS256 compact JWT that JwksVerifier (jwks_verifier.h) accepts,
// and a fresh development key pair (PEM private key + JWKS public key set).
// In production the province's OpenID Connect provider issues the tokens; this
// stands in for it on a laptop and in tests.
//
//   RETURN_IF_ERROR(WriteDevelopmentKeyPair("dev/jwt-key.pem", "dev/jwks.json",
//                                           "dev-1", JwtAlgorithm::kEs256));
//   JwtIssuerOptions options;
//   options.private_key_file = "dev/jwt-key.pem";
//   options.kid = "dev-1";
//   options.issuer = "https://idp.example.gov.cn/realms/pathway";
//   options.audience = "pathway";
//   ASSIGN_OR_RETURN(auto issuer, JwtIssuer::Create(options));
//   ASSIGN_OR_RETURN(std::string token, issuer->Issue(claims));
//
// Library: rhonabwy, as the verifier: it imports the PEM key, signs the JWS
// (GnuTLS underneath) and also generates key pairs (r_jwk_generate_key_pair),
// so no OpenSSL EVP code is needed here.
//
// The private key is configuration, read from a file; never log it or put it
// in an error message. JwtIssuer is immutable after Create and thread-safe
// (signing is serialised on one mutex: this is a development tool).
#ifndef PATHWAY_COMMON_AUTH_JWT_ISSUER_H_
#define PATHWAY_COMMON_AUTH_JWT_ISSUER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/jwks_verifier.h"
#include "common/auth/token.h"

namespace pathway {

enum class JwtAlgorithm {
  kEs256,  // ECDSA P-256 with SHA-256
  kRs256,  // RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys
};

// "ES256" or "RS256".
absl::string_view JwtAlgorithmName(JwtAlgorithm alg);

struct JwtIssuerOptions {
  // PEM private key: an EC P-256 key signs ES256, an RSA key of at least 2048
  // bits signs RS256.
  std::string private_key_file;
  // Written into every token's header; the verifier finds the key by it.
  std::string kid;
  std::string issuer;
  std::string audience;
  JwtClaimNames claim_names;
};

class JwtIssuer {
 public:
  // INVALID_ARGUMENT for an empty kid, issuer or audience or bad claim names;
  // NOT_FOUND if the key file does not exist; FAILED_PRECONDITION if it holds
  // no usable private key.
  static absl::StatusOr<std::unique_ptr<JwtIssuer>> Create(JwtIssuerOptions options);

  JwtIssuer(const JwtIssuer&) = delete;
  JwtIssuer& operator=(const JwtIssuer&) = delete;
  ~JwtIssuer();

  // The compact JWT for `claims`: header {alg, typ "JWT", kid}; payload iss,
  // aud, iat and nbf (issued_at), exp (expires_at), and the subject, role,
  // jurisdiction and (if not empty) organization under the configured claim
  // names. INVALID_ARGUMENT if ValidateClaims fails.
  absl::StatusOr<std::string> Issue(const Claims& claims) const;

  // Signs `payload` (normally a JSON object; used as is, unchecked) with
  // header {alg, typ "JWT", kid}. For tests that need claims Issue would not
  // write.
  absl::StatusOr<std::string> SignPayload(absl::string_view payload) const;

  JwtAlgorithm algorithm() const { return alg_; }

 private:
  struct PrivateKey;
  JwtIssuer(JwtIssuerOptions options, JwtAlgorithm alg, std::unique_ptr<PrivateKey> key);

  const JwtIssuerOptions options_;
  const JwtAlgorithm alg_;
  mutable absl::Mutex mu_;
  std::unique_ptr<PrivateKey> key_ ABSL_GUARDED_BY(mu_);
};

// Writes a fresh key pair for `alg` (EC P-256 or RSA 2048): the private key
// as PEM to `private_key_file`, created with mode 0600 and never overwritten,
// and the public key as a JWK {kty, kid, use "sig", alg, ...} into the JWKS at
// `jwks_file`: added to the keys already there if the file exists (so a
// development key can be rotated), otherwise a new {"keys":[...]}; the JWKS is
// replaced by rename. ALREADY_EXISTS if the private key file exists or the
// JWKS already has `kid`; INVALID_ARGUMENT for an empty path or kid;
// FAILED_PRECONDITION if an existing JWKS is not a JSON object with a "keys"
// array; INTERNAL if a file cannot be written (then no file is left changed).
absl::Status WriteDevelopmentKeyPair(absl::string_view private_key_file,
                                     absl::string_view jwks_file, absl::string_view kid,
                                     JwtAlgorithm alg);

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_JWT_ISSUER_H_
