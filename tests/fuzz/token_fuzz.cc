// libFuzzer target: the bearer token verifier. Half the inputs are taken as whole
// tokens (an attacker's bytes); the other half as a header and payload that the fuzzer
// signs with the verifier's key, so the JSON and claim checks behind the signature are
// reached too. Nothing may crash, and an accepted token must carry valid claims.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "common/auth/token.h"
#include "common/clock/clock.h"

namespace {

constexpr char kKey[] = "fuzz-token-key-0123456789abcdefghijklmnopqrstuv";

std::string B64Url(const std::string& in) {
  std::string out;
  absl::WebSafeBase64Escape(in, &out);  // no padding
  return out;
}

std::string Sign(const std::string& header, const std::string& payload) {
  const std::string input = B64Url(header) + "." + B64Url(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kKey, sizeof(kKey) - 1, reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  return input + "." + B64Url(std::string(reinterpret_cast<char*>(mac), len));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pathway::FakeClock* clock = new pathway::FakeClock(absl::FromUnixSeconds(1796000000));
  static std::unique_ptr<pathway::TokenVerifier> verifier =
      *pathway::TokenVerifier::Create(kKey, clock);
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string token;
  if (data[0] & 1) {
    token = rest;
  } else {
    // Header and payload split at the first NUL; a default header otherwise.
    const size_t cut = rest.find('\0');
    token = cut == std::string::npos
                ? Sign(R"({"alg":"HS256","typ":"JWT"})", rest)
                : Sign(rest.substr(0, cut), rest.substr(cut + 1));
  }
  absl::StatusOr<pathway::Claims> claims = verifier->Verify(token);
  if (claims.ok() && !pathway::ValidateClaims(*claims).ok()) std::abort();
  return 0;
}
