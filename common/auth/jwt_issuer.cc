#include "common/auth/jwt_issuer.h"

#include <fcntl.h>
#include <jansson.h>
#include <rhonabwy.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/rhonabwy_ptr.h"
#include "common/auth/role.h"
#include "common/auth/secret_file.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

constexpr size_t kMaxPemBytes = 64 * 1024;
constexpr unsigned int kMinRsaBits = 2048;
constexpr int kNoRemote = R_FLAG_IGNORE_REMOTE;

struct RFree {
  void operator()(char* p) const { r_free(p); }
};

absl::StatusOr<JwkPtr> NewJwk() {
  jwk_t* raw = nullptr;
  if (r_jwk_init(&raw) != RHN_OK) return absl::InternalError("cannot allocate a JWK");
  return JwkPtr(raw);
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (fsync(fd) != 0) {
    return absl::InternalError(absl::StrCat("cannot sync ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

// Creates `path` with `mode`, failing if it exists, and writes `data` to it.
absl::Status WriteNewFile(const std::string& path, absl::string_view data, mode_t mode,
                          bool exclusive) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  int fd = open(path.c_str(), flags, mode);
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) return absl::AlreadyExistsError(absl::StrCat(path, " already exists"));
    return absl::InternalError(absl::StrCat("cannot create ", path, ": ", strerror(err)));
  }
  absl::Status status = WriteAll(fd, data, path);
  if (close(fd) != 0 && status.ok()) {
    status = absl::InternalError(absl::StrCat("cannot close ", path, ": ", strerror(errno)));
  }
  if (!status.ok()) unlink(path.c_str());
  return status;
}

}  // namespace

absl::string_view JwtAlgorithmName(JwtAlgorithm alg) {
  return alg == JwtAlgorithm::kEs256 ? "ES256" : "RS256";
}

struct JwtIssuer::PrivateKey {
  JwkPtr jwk;
};

absl::StatusOr<std::unique_ptr<JwtIssuer>> JwtIssuer::Create(JwtIssuerOptions options) {
  if (options.kid.empty()) return absl::InvalidArgumentError("no key id given");
  if (options.issuer.empty()) return absl::InvalidArgumentError("no token issuer given");
  if (options.audience.empty()) return absl::InvalidArgumentError("no token audience given");
  if (options.private_key_file.empty()) {
    return absl::InvalidArgumentError("no private key file given");
  }
  RETURN_IF_ERROR(ValidateJwtClaimNames(options.claim_names));
  ASSIGN_OR_RETURN(std::string pem,
                   ReadSecretFile(options.private_key_file, "private key file", kMaxPemBytes));
  ASSIGN_OR_RETURN(JwkPtr jwk, NewJwk());
  int imported =
      r_jwk_import_from_pem_der(jwk.get(), R_X509_TYPE_PRIVKEY, R_FORMAT_PEM,
                                reinterpret_cast<const unsigned char*>(pem.data()), pem.size());
  WipeSecret(&pem);
  const absl::Status unusable = absl::FailedPreconditionError(
      absl::StrCat("key file ", options.private_key_file,
                   " holds no EC P-256 or RSA (2048 bits or more) private key"));
  if (imported != RHN_OK) return unusable;
  unsigned int bits = 0;
  int type = r_jwk_key_type(jwk.get(), &bits, kNoRemote);
  if (!(type & R_KEY_TYPE_PRIVATE)) return unusable;
  JwtAlgorithm alg;
  if (type & R_KEY_TYPE_EC) {
    const char* crv = r_jwk_get_property_str(jwk.get(), "crv");
    if (crv == nullptr || strcmp(crv, "P-256") != 0) return unusable;
    alg = JwtAlgorithm::kEs256;
  } else if (type & R_KEY_TYPE_RSA) {
    if (bits < kMinRsaBits) return unusable;
    alg = JwtAlgorithm::kRs256;
  } else {
    return unusable;
  }
  auto key = std::make_unique<PrivateKey>();
  key->jwk = std::move(jwk);
  return std::unique_ptr<JwtIssuer>(new JwtIssuer(std::move(options), alg, std::move(key)));
}

JwtIssuer::JwtIssuer(JwtIssuerOptions options, JwtAlgorithm alg, std::unique_ptr<PrivateKey> key)
    : options_(std::move(options)), alg_(alg), key_(std::move(key)) {}

JwtIssuer::~JwtIssuer() = default;

absl::StatusOr<std::string> JwtIssuer::SignPayload(absl::string_view payload) const {
  jws_t* raw = nullptr;
  if (r_jws_init(&raw) != RHN_OK) return absl::InternalError("cannot allocate a JWS");
  JwsPtr jws(raw);
  const jwa_alg alg = alg_ == JwtAlgorithm::kEs256 ? R_JWA_ALG_ES256 : R_JWA_ALG_RS256;
  if (r_jws_set_alg(jws.get(), alg) != RHN_OK ||
      r_jws_set_header_str_value(jws.get(), "typ", "JWT") != RHN_OK ||
      r_jws_set_header_str_value(jws.get(), "kid", options_.kid.c_str()) != RHN_OK ||
      r_jws_set_payload(jws.get(), reinterpret_cast<const unsigned char*>(payload.data()),
                        payload.size()) != RHN_OK) {
    return absl::InternalError("cannot build a JWS");
  }
  std::unique_ptr<char, RFree> token;
  {
    absl::MutexLock lock(&mu_);
    token.reset(r_jws_serialize(jws.get(), key_->jwk.get(), kNoRemote));
  }
  if (token == nullptr) return absl::InternalError("cannot sign a JWS");
  return std::string(token.get());
}

absl::StatusOr<std::string> JwtIssuer::Issue(const Claims& claims) const {
  RETURN_IF_ERROR(ValidateClaims(claims));
  const JwtClaimNames& names = options_.claim_names;
  JsonPtr payload(json_object());
  if (payload == nullptr) return absl::InternalError("cannot allocate JSON");
  const std::string role(RoleName(claims.role));
  const int64_t iat = absl::ToUnixSeconds(claims.issued_at);
  bool ok =
      json_object_set_new(payload.get(), "iss", json_string(options_.issuer.c_str())) == 0 &&
      json_object_set_new(payload.get(), "aud", json_string(options_.audience.c_str())) == 0 &&
      json_object_set_new(payload.get(), "iat", json_integer(iat)) == 0 &&
      json_object_set_new(payload.get(), "nbf", json_integer(iat)) == 0 &&
      json_object_set_new(payload.get(), "exp",
                          json_integer(absl::ToUnixSeconds(claims.expires_at))) == 0 &&
      json_object_set_new(payload.get(), names.subject_claim.c_str(),
                          json_string(claims.subject.c_str())) == 0 &&
      json_object_set_new(payload.get(), names.role_claim.c_str(), json_string(role.c_str())) ==
          0 &&
      json_object_set_new(payload.get(), names.jurisdiction_claim.c_str(),
                          json_string(claims.jurisdiction.c_str())) == 0;
  if (ok && !claims.organization.empty()) {
    ok = json_object_set_new(payload.get(), names.organization_claim.c_str(),
                             json_string(claims.organization.c_str())) == 0;
  }
  if (!ok) return absl::InternalError("cannot build token claims");
  std::unique_ptr<char, FreeChars> text(json_dumps(payload.get(), JSON_COMPACT));
  if (text == nullptr) return absl::InternalError("cannot serialise token claims");
  return SignPayload(text.get());
}

absl::Status WriteDevelopmentKeyPair(absl::string_view private_key_file,
                                     absl::string_view jwks_file, absl::string_view kid,
                                     JwtAlgorithm alg) {
  const std::string private_path(private_key_file);
  const std::string jwks_path(jwks_file);
  const std::string key_id(kid);
  if (private_path.empty() || jwks_path.empty()) {
    return absl::InvalidArgumentError("no key file given");
  }
  if (key_id.empty()) return absl::InvalidArgumentError("no key id given");

  // The key set the public key joins: the existing file, or a new one.
  JsonPtr jwks;
  absl::StatusOr<std::string> existing =
      ReadSecretFile(jwks_path, "JWKS file", kMaxJwksFileBytes);
  if (existing.ok()) {
    json_error_t error;
    jwks.reset(json_loadb(existing->data(), existing->size(), JSON_REJECT_DUPLICATES, &error));
    if (jwks == nullptr || !json_is_object(jwks.get()) ||
        !json_is_array(json_object_get(jwks.get(), "keys"))) {
      return absl::FailedPreconditionError(
          absl::StrCat("JWKS file ", jwks_path, " is not a JSON object with a \"keys\" array"));
    }
    size_t index;
    json_t* key;
    json_array_foreach(json_object_get(jwks.get(), "keys"), index, key) {
      const char* other = json_string_value(json_object_get(key, "kid"));
      if (other != nullptr && key_id == other) {
        return absl::AlreadyExistsError(
            absl::StrCat("JWKS file ", jwks_path, " already has key id ", key_id));
      }
    }
  } else if (absl::IsNotFound(existing.status())) {
    jwks.reset(json_pack("{s:[]}", "keys"));
    if (jwks == nullptr) return absl::InternalError("cannot allocate JSON");
  } else {
    return existing.status();
  }

  ASSIGN_OR_RETURN(JwkPtr private_jwk, NewJwk());
  ASSIGN_OR_RETURN(JwkPtr public_jwk, NewJwk());
  const bool ec = alg == JwtAlgorithm::kEs256;
  if (r_jwk_generate_key_pair(private_jwk.get(), public_jwk.get(),
                              ec ? R_KEY_TYPE_EC : R_KEY_TYPE_RSA, ec ? 256 : 2048,
                              key_id.c_str()) != RHN_OK ||
      r_jwk_set_property_str(public_jwk.get(), "use", "sig") != RHN_OK ||
      r_jwk_set_property_str(public_jwk.get(), "alg", std::string(JwtAlgorithmName(alg)).c_str()) !=
          RHN_OK) {
    return absl::InternalError("cannot generate a key pair");
  }
  std::string pem(16 * 1024, '\0');
  size_t pem_len = pem.size();
  if (r_jwk_export_to_pem_der(private_jwk.get(), R_FORMAT_PEM,
                              reinterpret_cast<unsigned char*>(pem.data()), &pem_len,
                              kNoRemote) != RHN_OK ||
      pem_len > pem.size()) {
    WipeSecret(&pem);
    return absl::InternalError("cannot export the private key");
  }
  pem.resize(pem_len);
  JsonPtr public_json(r_jwk_export_to_json_t(public_jwk.get()));
  if (public_json == nullptr ||
      json_array_append(json_object_get(jwks.get(), "keys"), public_json.get()) != 0) {
    WipeSecret(&pem);
    return absl::InternalError("cannot export the public key");
  }
  std::unique_ptr<char, FreeChars> jwks_text(json_dumps(jwks.get(), JSON_INDENT(2)));
  if (jwks_text == nullptr) {
    WipeSecret(&pem);
    return absl::InternalError("cannot serialise the JWKS");
  }

  absl::Status written = WriteNewFile(private_path, pem, 0600, /*exclusive=*/true);
  WipeSecret(&pem);
  RETURN_IF_ERROR(written);
  const std::string temp_path = absl::StrCat(jwks_path, ".tmp");
  written = WriteNewFile(temp_path, absl::StrCat(jwks_text.get(), "\n"), 0644,
                         /*exclusive=*/false);
  if (written.ok() && rename(temp_path.c_str(), jwks_path.c_str()) != 0) {
    written = absl::InternalError(
        absl::StrCat("cannot rename ", temp_path, " to ", jwks_path, ": ", strerror(errno)));
    unlink(temp_path.c_str());
  }
  if (!written.ok()) unlink(private_path.c_str());
  return written;
}

}  // namespace pathway
