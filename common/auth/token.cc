#include "common/auth/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/jurisdiction.h"
#include "common/auth/secret_file.h"
#include "common/status/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace pathway {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

constexpr absl::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";
constexpr absl::string_view kAlgorithm = "HS256";
constexpr size_t kSignatureBytes = 32;  // SHA-256
constexpr size_t kMaxSubjectBytes = 64;
constexpr size_t kOrganizationBytes = 18;
// 9999-12-31T23:59:59Z; also keeps seconds exactly representable as a double.
constexpr int64_t kMaxUnixSeconds = 253402300799;

absl::Status InvalidToken() { return absl::UnauthenticatedError("invalid token"); }

// ---- base64url (RFC 4648 §5, no padding) ---------------------------------

std::string Base64UrlEncode(absl::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

// Strict: only the url-safe alphabet, no padding, and the canonical encoding
// (unused trailing bits zero), so each byte string has exactly one encoding.
bool Base64UrlDecode(absl::string_view in, std::string* out) {
  if (in.size() % 4 == 1) return false;
  std::string standard;
  standard.reserve(in.size() + 3);
  for (char c : in) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      standard.push_back(c);
    } else if (c == '-') {
      standard.push_back('+');
    } else if (c == '_') {
      standard.push_back('/');
    } else {
      return false;
    }
  }
  size_t padding = 0;
  while (standard.size() % 4 != 0) {
    standard.push_back('=');
    ++padding;
  }
  std::string decoded(standard.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                          reinterpret_cast<const unsigned char*>(standard.data()),
                          static_cast<int>(standard.size()));
  if (n < 0 || static_cast<size_t>(n) != decoded.size()) return false;
  decoded.resize(decoded.size() - padding);
  if (Base64UrlEncode(decoded) != in) return false;
  *out = std::move(decoded);
  return true;
}

// ---- HMAC -----------------------------------------------------------------

bool HmacSha256(absl::string_view key, absl::string_view data, std::string* mac) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), buf,
           &len) == nullptr ||
      len != kSignatureBytes) {
    return false;
  }
  mac->assign(reinterpret_cast<const char*>(buf), len);
  return true;
}

absl::Status ValidateKey(absl::string_view key) {
  if (key.size() < kMinTokenKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("token key must be at least ", kMinTokenKeyBytes, " bytes"));
  }
  if (key.size() > kMaxTokenKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("token key must be at most ", kMaxTokenKeyBytes, " bytes"));
  }
  return absl::OkStatus();
}

void Wipe(std::string* s) {
  if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
}

// ---- claim checks ----------------------------------------------------------

bool IsSubjectChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' ||
         c == '-';
}

// GB 32100-2015 alphabet: digits and capitals without I, O, S, V, Z.
bool IsOrganizationChar(char c) {
  if (absl::ascii_isdigit(static_cast<unsigned char>(c))) return true;
  if (c < 'A' || c > 'Y') return false;
  return c != 'I' && c != 'O' && c != 'S' && c != 'V';
}

absl::Status ValidateSubject(absl::string_view subject) {
  if (subject.empty() || subject.size() > kMaxSubjectBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("subject must be 1 to ", kMaxSubjectBytes, " characters"));
  }
  for (char c : subject) {
    if (!IsSubjectChar(c)) {
      return absl::InvalidArgumentError("subject may contain only letters, digits and . _ @ -");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateOrganization(absl::string_view organization, Role role) {
  if (role != Role::kEmployer) {
    if (organization.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("role ", RoleName(role), " may not carry an organization"));
  }
  if (organization.size() != kOrganizationBytes) {
    return absl::InvalidArgumentError(
        "role employer needs an organization: an 18-character unified social "
        "credit code");
  }
  for (char c : organization) {
    if (!IsOrganizationChar(c)) {
      return absl::InvalidArgumentError(
          "organization must be a unified social credit code (digits and "
          "capitals except I, O, S, V, Z)");
    }
  }
  return absl::OkStatus();
}

bool InUnixRange(int64_t seconds) { return seconds >= 0 && seconds <= kMaxUnixSeconds; }

// ---- JSON ------------------------------------------------------------------

bool ParseObject(absl::string_view json, Struct* out) {
  google::protobuf::util::JsonParseOptions options;
  return google::protobuf::util::JsonStringToMessage(
             google::protobuf::StringPiece(json.data(), json.size()), out, options)
      .ok();
}

const Value* Find(const Struct& object, const char* key) {
  auto it = object.fields().find(key);
  return it == object.fields().end() ? nullptr : &it->second;
}

bool GetString(const Struct& object, const char* key, std::string* out) {
  const Value* v = Find(object, key);
  if (v == nullptr || v->kind_case() != Value::kStringValue) return false;
  *out = v->string_value();
  return true;
}

// A whole number of unix seconds within InUnixRange.
bool GetUnixSeconds(const Struct& object, const char* key, absl::Time* out) {
  const Value* v = Find(object, key);
  if (v == nullptr || v->kind_case() != Value::kNumberValue) return false;
  double d = v->number_value();
  if (!std::isfinite(d) || d != std::floor(d) || d < 0 ||
      d > static_cast<double>(kMaxUnixSeconds)) {
    return false;
  }
  *out = absl::FromUnixSeconds(static_cast<int64_t>(d));
  return true;
}

// True only for a header whose alg is exactly "HS256": the algorithm is
// pinned, never chosen by the token. typ, if present, must be "JWT"; a "crit"
// header names extensions we do not implement, so it is refused.
bool HeaderIsHs256(absl::string_view header_json) {
  Struct header;
  if (!ParseObject(header_json, &header)) return false;
  std::string alg;
  if (!GetString(header, "alg", &alg) || alg != kAlgorithm) return false;
  if (Find(header, "typ") != nullptr) {
    std::string typ;
    if (!GetString(header, "typ", &typ) || typ != "JWT") return false;
  }
  return Find(header, "crit") == nullptr;
}

}  // namespace

absl::Status ValidateClaims(const Claims& claims) {
  RETURN_IF_ERROR(ValidateSubject(claims.subject));
  RETURN_IF_ERROR(ValidateJurisdiction(claims.jurisdiction, claims.role));
  RETURN_IF_ERROR(ValidateOrganization(claims.organization, claims.role));
  if (claims.issued_at == absl::InfinitePast() || claims.issued_at == absl::InfiniteFuture() ||
      claims.expires_at == absl::InfinitePast() || claims.expires_at == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError("token times must be finite");
  }
  int64_t iat = absl::ToUnixSeconds(claims.issued_at);
  int64_t exp = absl::ToUnixSeconds(claims.expires_at);
  if (!InUnixRange(iat) || !InUnixRange(exp)) {
    return absl::InvalidArgumentError("token times must lie in years 1970 to 9999");
  }
  if (exp <= iat) {
    return absl::InvalidArgumentError("token must expire after it is issued");
  }
  return absl::OkStatus();
}

// ---- TokenSigner -------------------------------------------------------------

absl::StatusOr<std::unique_ptr<TokenSigner>> TokenSigner::Create(std::string key) {
  absl::Status status = ValidateKey(key);
  if (!status.ok()) {
    Wipe(&key);
    return status;
  }
  return std::unique_ptr<TokenSigner>(new TokenSigner(std::move(key)));
}

TokenSigner::TokenSigner(std::string key) : key_(std::move(key)) {}

TokenSigner::~TokenSigner() { Wipe(&key_); }

absl::StatusOr<std::string> TokenSigner::Sign(const Claims& claims) const {
  RETURN_IF_ERROR(ValidateClaims(claims));
  Struct payload;
  auto& fields = *payload.mutable_fields();
  fields["sub"].set_string_value(claims.subject);
  fields["role"].set_string_value(std::string(RoleName(claims.role)));
  fields["jur"].set_string_value(claims.jurisdiction);
  fields["iat"].set_number_value(static_cast<double>(absl::ToUnixSeconds(claims.issued_at)));
  fields["exp"].set_number_value(static_cast<double>(absl::ToUnixSeconds(claims.expires_at)));
  if (!claims.organization.empty()) {
    fields["org"].set_string_value(claims.organization);
  }
  std::string payload_json;
  if (!google::protobuf::util::MessageToJsonString(payload, &payload_json).ok()) {
    return absl::InternalError("cannot encode token claims");
  }
  std::string signing_input =
      absl::StrCat(Base64UrlEncode(kHeaderJson), ".", Base64UrlEncode(payload_json));
  std::string mac;
  if (!HmacSha256(key_, signing_input, &mac)) {
    return absl::InternalError("cannot sign token");
  }
  return absl::StrCat(signing_input, ".", Base64UrlEncode(mac));
}

// ---- TokenVerifier -----------------------------------------------------------

absl::StatusOr<std::unique_ptr<TokenVerifier>> TokenVerifier::Create(std::string key,
                                                                     const Clock* clock,
                                                                     absl::Duration leeway) {
  absl::Status status = ValidateKey(key);
  if (status.ok() && clock == nullptr) {
    status = absl::InvalidArgumentError("token verifier needs a clock");
  }
  if (status.ok() && (leeway < absl::ZeroDuration() || leeway > absl::Minutes(10))) {
    status = absl::InvalidArgumentError("token leeway must be 0 to 10 minutes");
  }
  if (!status.ok()) {
    Wipe(&key);
    return status;
  }
  return std::unique_ptr<TokenVerifier>(new TokenVerifier(std::move(key), clock, leeway));
}

TokenVerifier::TokenVerifier(std::string key, const Clock* clock, absl::Duration leeway)
    : key_(std::move(key)), clock_(clock), leeway_(leeway) {}

TokenVerifier::~TokenVerifier() { Wipe(&key_); }

absl::StatusOr<Claims> TokenVerifier::Verify(absl::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return InvalidToken();
  RememberShard& shard = remembered_[absl::HashOf(token) % kRememberShards];
  {
    absl::MutexLock lock(&shard.mu);
    auto it = shard.claims.find(token);
    if (it != shard.claims.end()) {
      Claims claims = it->second;
      return CheckTimes(std::move(claims));
    }
  }
  ASSIGN_OR_RETURN(Claims claims, Decode(token));
  {
    absl::MutexLock lock(&shard.mu);
    // Bounded: when full, one arbitrary entry makes room (tokens are many only
    // when many people are working, and a forgotten one is just decoded again).
    if (shard.claims.size() >= kMaxRememberedTokens / kRememberShards) {
      shard.claims.erase(shard.claims.begin());
    }
    shard.claims.emplace(std::string(token), claims);
  }
  return CheckTimes(std::move(claims));
}

size_t TokenVerifier::RememberedTokensForTesting() const {
  size_t n = 0;
  for (RememberShard& shard : remembered_) {
    absl::MutexLock lock(&shard.mu);
    n += shard.claims.size();
  }
  return n;
}

absl::StatusOr<Claims> TokenVerifier::Decode(absl::string_view token) const {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    return InvalidToken();
  }

  // The algorithm is pinned and checked before anything else.
  std::string header_json;
  if (!Base64UrlDecode(parts[0], &header_json) || !HeaderIsHs256(header_json)) {
    return InvalidToken();
  }

  std::string signature;
  if (!Base64UrlDecode(parts[2], &signature) || signature.size() != kSignatureBytes) {
    return InvalidToken();
  }
  std::string expected;
  absl::string_view signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!HmacSha256(key_, signing_input, &expected) ||
      CRYPTO_memcmp(expected.data(), signature.data(), kSignatureBytes) != 0) {
    return InvalidToken();
  }

  // Signed by us; now the claims.
  std::string payload_json;
  Struct payload;
  if (!Base64UrlDecode(parts[1], &payload_json) || !ParseObject(payload_json, &payload)) {
    return InvalidToken();
  }
  Claims claims;
  std::string role_name;
  if (!GetString(payload, "sub", &claims.subject) || !GetString(payload, "role", &role_name) ||
      !GetString(payload, "jur", &claims.jurisdiction) ||
      !GetUnixSeconds(payload, "iat", &claims.issued_at) ||
      !GetUnixSeconds(payload, "exp", &claims.expires_at)) {
    return InvalidToken();
  }
  if (Find(payload, "org") != nullptr && !GetString(payload, "org", &claims.organization)) {
    return InvalidToken();
  }
  absl::StatusOr<Role> role = ParseRole(role_name);
  if (!role.ok()) return InvalidToken();
  claims.role = *role;
  if (!ValidateClaims(claims).ok()) return InvalidToken();
  return claims;
}

absl::StatusOr<Claims> TokenVerifier::CheckTimes(Claims claims) const {
  absl::Time now = clock_->Now();
  if (now >= claims.expires_at + leeway_) {
    return absl::UnauthenticatedError("token expired");
  }
  if (claims.issued_at > now + leeway_) {
    return absl::UnauthenticatedError("token not yet valid");
  }
  return claims;
}

// ---- LoadKeyFile -------------------------------------------------------------

absl::StatusOr<std::string> LoadKeyFile(absl::string_view path) {
  // A little more than the largest key: slack for trailing newlines.
  ASSIGN_OR_RETURN(std::string data, ReadSecretFile(path, "key file", kMaxTokenKeyBytes + 64));
  size_t used = data.size();
  while (used > 0 && absl::ascii_isspace(static_cast<unsigned char>(data[used - 1]))) --used;
  if (used < kMinTokenKeyBytes || used > kMaxTokenKeyBytes) {
    WipeSecret(&data);
    return absl::FailedPreconditionError(
        absl::StrCat("key file ", path, " must hold ", kMinTokenKeyBytes, " to ", kMaxTokenKeyBytes,
                     " bytes of key (trailing whitespace is ignored)"));
  }
  std::string key(data.data(), used);
  WipeSecret(&data);
  return key;
}

}  // namespace pathway
