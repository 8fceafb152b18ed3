#include "common/auth/jwks_verifier.h"

#include <fcntl.h>
#include <jansson.h>
#include <orcania.h>
#include <rhonabwy.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/auth/rhonabwy_ptr.h"
#include "common/auth/role.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"

// r_global_init is not called: it only points jansson at orcania's allocator
// (malloc by default, as jansson's own) and initialises libcurl, which this
// code never uses since nothing is fetched. So jansson's strings are freed
// with free().

namespace pathway {

// The usable keys of one JWKS file, by kid. Immutable once built. Each key is
// kept as its JWK JSON text and imported per call, so no rhonabwy or jansson
// object is ever shared between threads.
struct JwksVerifier::KeySet {
  struct Key {
    jwa_alg alg = R_JWA_ALG_UNKNOWN;  // R_JWA_ALG_ES256 or R_JWA_ALG_RS256
    std::string jwk_json;
  };
  absl::flat_hash_map<std::string, Key> keys;
};

namespace {

using KeySet = JwksVerifier::KeySet;

// 9999-12-31T23:59:59Z, as token.cc.
constexpr int64_t kMaxUnixSeconds = 253402300799;
constexpr unsigned int kMinRsaBits = 2048;
// Never fetch anything a key or token points at.
constexpr int kNoRemote = R_FLAG_IGNORE_REMOTE;


absl::Status Refuse(absl::string_view what) { return absl::UnauthenticatedError(what); }

// ---- token structure ---------------------------------------------------------

bool IsBase64UrlSegment(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return s.size() % 4 != 1;
}

bool Base64UrlDecode(absl::string_view in, std::string* out) {
  std::string buf(in.size() + 3, '\0');
  size_t len = 0;
  if (!o_base64url_decode(reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                          reinterpret_cast<unsigned char*>(buf.data()), &len) ||
      len > buf.size()) {
    return false;
  }
  buf.resize(len);
  *out = std::move(buf);
  return true;
}

// An object parsed from `text`, refusing duplicate member names so that this
// code and the library cannot read two different values for one name.
JsonPtr ParseObject(absl::string_view text) {
  json_error_t error;
  JsonPtr j(json_loadb(text.data(), text.size(), JSON_REJECT_DUPLICATES, &error));
  if (j == nullptr || !json_is_object(j.get())) return nullptr;
  return j;
}

const char* StringMember(const json_t* object, const char* name) {
  const json_t* v = json_object_get(object, name);
  return json_is_string(v) ? json_string_value(v) : nullptr;
}

// ---- key set -----------------------------------------------------------------

struct FileRead {
  std::string text;
  struct stat st;
};

absl::StatusOr<FileRead> ReadJwksFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT)
      return absl::NotFoundError(absl::StrCat("JWKS file ", path, " does not exist"));
    std::string reason = absl::StrCat("cannot open JWKS file ", path, ": ", strerror(err));
    if (err == EACCES) return absl::PermissionDeniedError(reason);
    return absl::InternalError(reason);
  }
  FileRead read;
  if (fstat(fd, &read.st) != 0 || !S_ISREG(read.st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("JWKS file ", path, " is not a regular file"));
  }
  read.text.resize(kMaxJwksFileBytes + 1);
  size_t used = 0;
  while (used < read.text.size()) {
    ssize_t n = ::read(fd, read.text.data() + used, read.text.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return absl::InternalError(absl::StrCat("cannot read JWKS file ", path, ": ", strerror(err)));
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  close(fd);
  if (used > kMaxJwksFileBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("JWKS file ", path, " is larger than ", kMaxJwksFileBytes, " bytes"));
  }
  read.text.resize(used);
  return read;
}

// Why one JWK of the set is not used, or empty if it is usable; `alg` is set
// for a usable key.
std::string UnusableReason(json_t* jwk_json, jwa_alg* alg) {
  const char* kty = StringMember(jwk_json, "kty");
  const char* use = StringMember(jwk_json, "use");
  const char* key_alg = StringMember(jwk_json, "alg");
  const char* kid = StringMember(jwk_json, "kid");
  if (kid == nullptr || kid[0] == '\0') return "no_kid";
  if (json_object_get(jwk_json, "use") != nullptr && (use == nullptr || strcmp(use, "sig") != 0)) {
    return "not_for_signing";
  }
  if (kty != nullptr && strcmp(kty, "EC") == 0) {
    const char* crv = StringMember(jwk_json, "crv");
    if (crv == nullptr || strcmp(crv, "P-256") != 0) return "curve";
    *alg = R_JWA_ALG_ES256;
  } else if (kty != nullptr && strcmp(kty, "RSA") == 0) {
    *alg = R_JWA_ALG_RS256;
  } else {
    return "kty";
  }
  if (json_object_get(jwk_json, "alg") != nullptr &&
      (key_alg == nullptr || strcmp(key_alg, r_jwa_alg_to_str(*alg)) != 0)) {
    return "alg";
  }
  JwkPtr jwk;
  {
    jwk_t* raw = nullptr;
    if (r_jwk_init(&raw) != RHN_OK) return "library";
    jwk.reset(raw);
  }
  if (r_jwk_import_from_json_t(jwk.get(), jwk_json) != RHN_OK ||
      r_jwk_is_valid(jwk.get()) != RHN_OK) {
    return "invalid";
  }
  unsigned int bits = 0;
  int type = r_jwk_key_type(jwk.get(), &bits, kNoRemote);
  if (!(type & R_KEY_TYPE_PUBLIC)) return "invalid";
  if (*alg == R_JWA_ALG_ES256 && !(type & R_KEY_TYPE_EC)) return "invalid";
  if (*alg == R_JWA_ALG_RS256) {
    if (!(type & R_KEY_TYPE_RSA)) return "invalid";
    if (bits < kMinRsaBits) return "rsa_too_short";
  }
  return "";
}

// The usable keys of a JWKS document. FAILED_PRECONDITION (naming the file,
// never a key) if the document cannot be used as a whole.
absl::StatusOr<std::shared_ptr<const KeySet>> ParseKeySet(const std::string& path,
                                                          absl::string_view text) {
  JsonPtr doc = ParseObject(text);
  const json_t* keys = doc == nullptr ? nullptr : json_object_get(doc.get(), "keys");
  if (!json_is_array(keys)) {
    return absl::FailedPreconditionError(
        absl::StrCat("JWKS file ", path, " is not a JSON object with a \"keys\" array"));
  }
  auto set = std::make_shared<KeySet>();
  size_t skipped = 0;
  std::string skip_reasons;
  size_t index;
  json_t* key;
  json_array_foreach(keys, index, key) {
    if (!json_is_object(key)) {
      return absl::FailedPreconditionError(
          absl::StrCat("JWKS file ", path, ": key ", index, " is not an object"));
    }
    // A private or symmetric key has no business in a published set; refuse
    // the whole file rather than hide the mistake.
    for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
      if (json_object_get(key, secret) != nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("JWKS file ", path, ": key ", index, " holds private key material"));
      }
    }
    jwa_alg alg = R_JWA_ALG_UNKNOWN;
    std::string reason = UnusableReason(key, &alg);
    if (!reason.empty()) {
      ++skipped;
      absl::StrAppend(&skip_reasons, skip_reasons.empty() ? "" : ",", reason);
      continue;
    }
    std::string kid = StringMember(key, "kid");
    std::unique_ptr<char, FreeChars> dumped(json_dumps(key, JSON_COMPACT));
    if (dumped == nullptr) return absl::InternalError("cannot serialise a JWK");
    if (!set->keys.emplace(kid, KeySet::Key{alg, dumped.get()}).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("JWKS file ", path, ": two signing keys share one kid"));
    }
  }
  if (set->keys.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("JWKS file ", path, " has no usable ES256 or RS256 signing key"));
  }
  log::Info("jwks_loaded", {{"path", path},
                            {"keys", set->keys.size()},
                            {"skipped", skipped},
                            {"skip_reasons", skip_reasons.empty() ? "-" : skip_reasons}});
  return std::shared_ptr<const KeySet>(std::move(set));
}

// ---- claims ------------------------------------------------------------------

// A NumericDate claim: *present is false if absent. Integer or not; a
// fraction is dropped. Refused outside 1970..9999.
absl::Status NumericDate(const json_t* payload, const char* name, absl::Time* out, bool* present) {
  const json_t* v = json_object_get(payload, name);
  *present = v != nullptr;
  if (v == nullptr) return absl::OkStatus();
  double seconds;
  if (json_is_integer(v)) {
    seconds = static_cast<double>(json_integer_value(v));
  } else if (json_is_real(v)) {
    seconds = std::floor(json_real_value(v));
  } else {
    return Refuse(absl::StrCat("token claim ", name, " is not a number"));
  }
  if (!std::isfinite(seconds) || seconds < 0 || seconds > static_cast<double>(kMaxUnixSeconds)) {
    return Refuse(absl::StrCat("token claim ", name, " is out of range"));
  }
  *out = absl::FromUnixSeconds(static_cast<int64_t>(seconds));
  return absl::OkStatus();
}

absl::Status StringClaim(const json_t* payload, const std::string& name, bool required,
                         std::string* out) {
  const json_t* v = json_object_get(payload, name.c_str());
  if (v == nullptr && !required) return absl::OkStatus();
  if (!json_is_string(v)) {
    return Refuse(absl::StrCat("token claim ", name, " is missing or not a string"));
  }
  out->assign(json_string_value(v), json_string_length(v));
  return absl::OkStatus();
}

bool AudienceMatches(const json_t* aud, const std::string& audience) {
  if (json_is_string(aud)) return audience == json_string_value(aud);
  if (!json_is_array(aud) || json_array_size(aud) == 0) return false;
  bool found = false;
  size_t index;
  const json_t* v;
  json_array_foreach(aud, index, v) {
    if (!json_is_string(v)) return false;  // malformed: refuse, do not guess
    if (audience == json_string_value(v)) found = true;
  }
  return found;
}

absl::Status CheckDuration(absl::Duration d, absl::Duration lo, absl::Duration hi,
                           absl::string_view what) {
  if (d < lo || d > hi) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be between ", absl::FormatDuration(lo), " and ", absl::FormatDuration(hi)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateJwtClaimNames(const JwtClaimNames& names) {
  const std::string* all[] = {&names.subject_claim, &names.role_claim, &names.jurisdiction_claim,
                              &names.organization_claim};
  absl::flat_hash_set<std::string> seen;
  for (const std::string* name : all) {
    if (name->empty()) return absl::InvalidArgumentError("a claim name is empty");
    for (absl::string_view registered : {"iss", "aud", "exp", "nbf", "iat"}) {
      if (*name == registered) {
        return absl::InvalidArgumentError(
            absl::StrCat("claim name ", *name, " is a registered claim checked by the verifier"));
      }
    }
    if (!seen.insert(*name).second) {
      return absl::InvalidArgumentError(absl::StrCat("claim name ", *name, " is used twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateJwksVerifierOptions(const JwksVerifierOptions& options) {
  if (options.jwks_file.empty()) return absl::InvalidArgumentError("no JWKS file given");
  if (options.issuer.empty()) return absl::InvalidArgumentError("no token issuer given");
  if (options.audience.empty()) return absl::InvalidArgumentError("no token audience given");
  RETURN_IF_ERROR(ValidateJwtClaimNames(options.claim_names));
  RETURN_IF_ERROR(
      CheckDuration(options.clock_skew, absl::ZeroDuration(), absl::Minutes(10), "clock skew"));
  if (options.max_lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("maximum token lifetime must be positive");
  }
  RETURN_IF_ERROR(CheckDuration(options.max_lifetime, absl::ZeroDuration(), absl::Hours(24 * 7),
                                "maximum token lifetime"));
  RETURN_IF_ERROR(CheckDuration(options.check_interval, absl::ZeroDuration(), absl::Hours(1),
                                "JWKS check interval"));
  RETURN_IF_ERROR(CheckDuration(options.unknown_kid_reread_interval, absl::ZeroDuration(),
                                absl::Hours(1), "unknown kid re-read interval"));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<JwksVerifier>> JwksVerifier::Create(JwksVerifierOptions options,
                                                                   const Clock* clock) {
  if (clock == nullptr) return absl::InvalidArgumentError("JWKS verifier needs a clock");
  RETURN_IF_ERROR(ValidateJwksVerifierOptions(options));
  ASSIGN_OR_RETURN(FileRead read, ReadJwksFile(options.jwks_file));
  ASSIGN_OR_RETURN(std::shared_ptr<const KeySet> keys, ParseKeySet(options.jwks_file, read.text));
  FileIdentity identity{read.st.st_dev, read.st.st_ino, read.st.st_size, read.st.st_mtim.tv_sec,
                        read.st.st_mtim.tv_nsec};
  return std::unique_ptr<JwksVerifier>(
      new JwksVerifier(std::move(options), clock, std::move(keys), identity, std::move(read.text)));
}

JwksVerifier::JwksVerifier(JwksVerifierOptions options, const Clock* clock,
                           std::shared_ptr<const KeySet> keys, FileIdentity identity,
                           std::string text)
    : options_(std::move(options)), clock_(clock) {
  absl::Time now = clock_->Now();
  absl::MutexLock reload_lock(&reload_mu_);
  read_identity_ = identity;
  read_text_ = std::move(text);
  absl::MutexLock state_lock(&state_mu_);
  keys_ = std::move(keys);
  next_check_ = now + options_.check_interval;
  next_unknown_kid_reread_ = absl::InfinitePast();
}

JwksVerifier::~JwksVerifier() = default;

size_t JwksVerifier::KeyCount() const {
  absl::MutexLock lock(&state_mu_);
  return keys_->keys.size();
}

std::shared_ptr<const KeySet> JwksVerifier::Reload(bool force) const {
  absl::MutexLock lock(&reload_mu_);
  const std::string& path = options_.jwks_file;
  if (!force) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      if (read_identity_.has_value()) {
        log::Warning("jwks_reload_failed",
                     {{"path", path}, {"reason", "cannot stat"}, {"errno", errno}});
        read_identity_.reset();
      }
      return nullptr;
    }
    FileIdentity now{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    if (read_identity_.has_value() && *read_identity_ == now) return nullptr;
  }
  absl::StatusOr<FileRead> read = ReadJwksFile(path);
  if (!read.ok()) {
    if (read_identity_.has_value()) {  // once per failure, not once per look
      log::Warning("jwks_reload_failed",
                   {{"path", path}, {"reason", read.status().message()}, {"kept", "last_good"}});
    }
    read_identity_.reset();
    return nullptr;
  }
  read_identity_ = FileIdentity{read->st.st_dev, read->st.st_ino, read->st.st_size,
                                read->st.st_mtim.tv_sec, read->st.st_mtim.tv_nsec};
  if (read->text == read_text_) return nullptr;  // already in effect, or already refused
  read_text_ = std::move(read->text);
  absl::StatusOr<std::shared_ptr<const KeySet>> keys = ParseKeySet(path, read_text_);
  if (!keys.ok()) {
    log::Warning("jwks_reload_failed",
                 {{"path", path}, {"reason", keys.status().message()}, {"kept", "last_good"}});
    return nullptr;
  }
  absl::MutexLock state_lock(&state_mu_);
  keys_ = *keys;
  return *std::move(keys);
}

std::shared_ptr<const KeySet> JwksVerifier::CurrentKeys(absl::Time now) const {
  std::shared_ptr<const KeySet> keys;
  bool due = false;
  {
    absl::MutexLock lock(&state_mu_);
    keys = keys_;
    if (now >= next_check_) {
      due = true;  // claimed by this call; others go on with the snapshot
      next_check_ = now + options_.check_interval;
    }
  }
  if (!due) return keys;
  std::shared_ptr<const KeySet> reloaded = Reload(/*force=*/false);
  return reloaded != nullptr ? reloaded : keys;
}

std::shared_ptr<const KeySet> JwksVerifier::RereadForUnknownKid(absl::Time now) const {
  {
    absl::MutexLock lock(&state_mu_);
    if (now < next_unknown_kid_reread_) return nullptr;
    next_unknown_kid_reread_ = now + options_.unknown_kid_reread_interval;
  }
  return Reload(/*force=*/true);
}

absl::StatusOr<Claims> JwksVerifier::Verify(absl::string_view token) const {
  if (token.empty()) return Refuse("missing token");
  if (token.size() > kMaxJwtBytes) return Refuse("token too long");

  // Structure and header, before any key is looked at.
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == absl::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == absl::string_view::npos || token.find('.', dot2 + 1) != absl::string_view::npos) {
    return Refuse("malformed token");
  }
  absl::string_view header_b64 = token.substr(0, dot1);
  absl::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  absl::string_view signature_b64 = token.substr(dot2 + 1);
  std::string header_text;
  if (!IsBase64UrlSegment(header_b64) || !Base64UrlDecode(header_b64, &header_text)) {
    return Refuse("malformed token");
  }
  JsonPtr header = ParseObject(header_text);
  if (header == nullptr) return Refuse("malformed token header");
  const char* alg_name = StringMember(header.get(), "alg");
  jwa_alg alg = R_JWA_ALG_UNKNOWN;
  if (alg_name != nullptr && strcmp(alg_name, "ES256") == 0) {
    alg = R_JWA_ALG_ES256;
  } else if (alg_name != nullptr && strcmp(alg_name, "RS256") == 0) {
    alg = R_JWA_ALG_RS256;
  } else {
    return Refuse("token algorithm not allowed");
  }
  if (json_object_get(header.get(), "crit") != nullptr) {
    return Refuse("token has an unsupported critical header");
  }
  if (json_object_get(header.get(), "zip") != nullptr) return Refuse("compressed token");
  const char* kid_chars = StringMember(header.get(), "kid");
  if (kid_chars == nullptr || kid_chars[0] == '\0') return Refuse("token has no key id");
  const std::string kid = kid_chars;
  if (!IsBase64UrlSegment(payload_b64) || !IsBase64UrlSegment(signature_b64)) {
    return Refuse("malformed token");
  }

  // The key, by kid only.
  const absl::Time now = clock_->Now();
  std::shared_ptr<const KeySet> keys = CurrentKeys(now);
  auto it = keys->keys.find(kid);
  if (it == keys->keys.end()) {
    std::shared_ptr<const KeySet> reread = RereadForUnknownKid(now);
    if (reread != nullptr) keys = std::move(reread);
    it = keys->keys.find(kid);
    if (it == keys->keys.end()) return Refuse("unknown signing key");
  }
  const KeySet::Key& key = it->second;
  if (key.alg != alg) return Refuse("token algorithm does not match its key");

  // The signature, by rhonabwy, with exactly this key and no header-supplied one.
  JwsPtr jws;
  JwkPtr jwk;
  {
    jws_t* raw_jws = nullptr;
    jwk_t* raw_jwk = nullptr;
    if (r_jws_init(&raw_jws) != RHN_OK) return Refuse("token could not be checked");
    jws.reset(raw_jws);
    if (r_jwk_init(&raw_jwk) != RHN_OK) return Refuse("token could not be checked");
    jwk.reset(raw_jwk);
  }
  if (r_jwk_import_from_json_str(jwk.get(), key.jwk_json.c_str()) != RHN_OK) {
    return Refuse("token could not be checked");
  }
  const std::string token_copy(token);  // rhonabwy wants it NUL-terminated
  if (r_jws_advanced_compact_parsen(jws.get(), token_copy.c_str(), token_copy.size(), R_PARSE_NONE,
                                    kNoRemote) != RHN_OK ||
      r_jws_get_alg(jws.get()) != alg) {
    return Refuse("malformed token");
  }
  if (r_jws_verify_signature(jws.get(), jwk.get(), kNoRemote) != RHN_OK) {
    return Refuse("bad token signature");
  }
  size_t payload_len = 0;
  const unsigned char* payload = r_jws_get_payload(jws.get(), &payload_len);
  if (payload == nullptr) return Refuse("malformed token claims");
  return CheckClaims(absl::string_view(reinterpret_cast<const char*>(payload), payload_len), now);
}

absl::StatusOr<Claims> JwksVerifier::CheckClaims(absl::string_view payload_text,
                                                 absl::Time now) const {
  JsonPtr payload = ParseObject(payload_text);
  if (payload == nullptr) return Refuse("malformed token claims");
  const json_t* p = payload.get();

  const char* iss = StringMember(p, "iss");
  if (iss == nullptr || options_.issuer != iss) return Refuse("token issuer not accepted");
  if (!AudienceMatches(json_object_get(p, "aud"), options_.audience)) {
    return Refuse("token audience not accepted");
  }

  absl::Time exp, iat, nbf;
  bool has_exp, has_iat, has_nbf;
  RETURN_IF_ERROR(NumericDate(p, "exp", &exp, &has_exp));
  RETURN_IF_ERROR(NumericDate(p, "iat", &iat, &has_iat));
  RETURN_IF_ERROR(NumericDate(p, "nbf", &nbf, &has_nbf));
  if (!has_exp) return Refuse("token has no expiry");
  if (!has_iat) return Refuse("token has no issue time");
  const absl::Duration skew = options_.clock_skew;
  if (now > exp + skew) return Refuse("token expired");
  if (has_nbf && nbf > now + skew) return Refuse("token not yet valid");
  if (iat > now + skew) return Refuse("token issued in the future");
  if (exp <= iat) return Refuse("token expires before it is issued");
  if (exp - iat > options_.max_lifetime) return Refuse("token lifetime too long");

  const JwtClaimNames& names = options_.claim_names;
  Claims claims;
  std::string role;
  RETURN_IF_ERROR(StringClaim(p, names.subject_claim, /*required=*/true, &claims.subject));
  RETURN_IF_ERROR(StringClaim(p, names.role_claim, /*required=*/true, &role));
  RETURN_IF_ERROR(
      StringClaim(p, names.jurisdiction_claim, /*required=*/true, &claims.jurisdiction));
  RETURN_IF_ERROR(
      StringClaim(p, names.organization_claim, /*required=*/false, &claims.organization));
  absl::StatusOr<Role> parsed_role = ParseRole(role);
  if (!parsed_role.ok()) return Refuse("token role not recognised");
  claims.role = *parsed_role;
  claims.issued_at = iat;
  claims.expires_at = exp;
  absl::Status valid = ValidateClaims(claims);
  if (!valid.ok()) return Refuse(absl::StrCat("token claims not accepted: ", valid.message()));
  return claims;
}

}  // namespace pathway
