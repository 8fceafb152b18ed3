#include "common/auth/jwks_verifier.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "common/auth/jwt_issuer.h"
#include "common/clock/clock.h"
#include "common/log/log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 3, 1, 9, 0, 0), absl::UTCTimeZone());
constexpr char kIssuer[] = "https://idp.example.test/realms/pathway";
constexpr char kAudience[] = "pathway";

// ---- OpenSSL helpers: every key is generated here, at test time ------------------

std::string B64Url(absl::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  return absl::StrReplaceAll(out, {{"+", "-"}, {"/", "_"}});
}

std::string B64UrlDecode(absl::string_view in) {
  std::string s = absl::StrReplaceAll(in, {{"-", "+"}, {"_", "/"}});
  size_t pad = 0;
  while (s.size() % 4 != 0) {
    s.push_back('=');
    ++pad;
  }
  std::string out(s.size() / 4 * 3, '\0');
  int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string PrivatePem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::string pem = BioText(bio);
  BIO_free(bio);
  return pem;
}

std::string PublicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  std::string pem = BioText(bio);
  BIO_free(bio);
  return pem;
}

std::string BnB64(EVP_PKEY* key, const char* param, int pad) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, param, &bn), 1) << param;
  std::string bytes(pad > 0 ? static_cast<size_t>(pad) : static_cast<size_t>(BN_num_bytes(bn)),
                    '\0');
  if (pad > 0) {
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), pad);
  } else {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  }
  BN_free(bn);
  return B64Url(bytes);
}

bool IsEc(EVP_PKEY* key) { return EVP_PKEY_get_base_id(key) == EVP_PKEY_EC; }

// The public JWK of `key`, with `extra` members (e.g. R"("alg":"ES384")")
// replacing the default use and alg when given.
std::string PublicJwk(EVP_PKEY* key, absl::string_view kid, absl::string_view extra = "") {
  std::string members =
      extra.empty() ? absl::StrCat(R"("use":"sig","alg":")", IsEc(key) ? "ES256" : "RS256", "\"")
                    : std::string(extra);
  if (IsEc(key)) {
    return absl::StrCat(R"({"kty":"EC","crv":"P-256","kid":")", kid, R"(",)", members, R"(,"x":")",
                        BnB64(key, OSSL_PKEY_PARAM_EC_PUB_X, 32), R"(","y":")",
                        BnB64(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32), R"("})");
  }
  return absl::StrCat(R"({"kty":"RSA","kid":")", kid, R"(",)", members, R"(,"n":")",
                      BnB64(key, OSSL_PKEY_PARAM_RSA_N, 0), R"(","e":")",
                      BnB64(key, OSSL_PKEY_PARAM_RSA_E, 0), R"("})");
}

std::string Jwks(const std::vector<std::string>& jwks) {
  return absl::StrCat(R"({"keys":[)", absl::StrJoin(jwks, ","), "]}");
}

// A JWS signature over `input` by `key`: RS256 for RSA, ES256 (r || s) for EC.
std::string SignRaw(EVP_PKEY* key, absl::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, data, input.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, data, input.size()),
      1);
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (!IsEc(key)) return sig;
  const auto* der = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(ecdsa);
  return raw;
}

// A token with any header and payload, signed by `key`.
std::string Forge(absl::string_view header, absl::string_view payload, EVP_PKEY* key) {
  std::string input = absl::StrCat(B64Url(header), ".", B64Url(payload));
  return absl::StrCat(input, ".", B64Url(SignRaw(key, input)));
}

// A token with any header and payload, HMAC-SHA-256'd with `secret`.
std::string ForgeHs256(absl::string_view header, absl::string_view payload,
                       absl::string_view secret) {
  std::string input = absl::StrCat(B64Url(header), ".", B64Url(payload));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return absl::StrCat(input, ".",
                      B64Url(absl::string_view(reinterpret_cast<const char*>(mac), len)));
}

void WriteFile(const std::string& path, absl::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// Replaces `path` by rename, as a deployment should.
void ReplaceFile(const std::string& path, absl::string_view text) {
  const std::string temp = path + ".new";
  WriteFile(temp, text);
  ASSERT_EQ(std::rename(temp.c_str(), path.c_str()), 0);
}

// Log lines written while alive.
class LogCapture {
 public:
  LogCapture() {
    log::SetSinkForTesting([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      text_.append(line.data(), line.size());
    });
  }
  ~LogCapture() { log::SetSinkForTesting(nullptr); }
  std::string Text() {
    log::Flush();
    absl::MutexLock lock(&mu_);
    return text_;
  }

 private:
  absl::Mutex mu_;
  std::string text_ ABSL_GUARDED_BY(mu_);
};

// ---- fixture ----------------------------------------------------------------------

class JwksVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ec_ = EVP_EC_gen("P-256");
    ec_other_ = EVP_EC_gen("P-256");
    rsa_ = EVP_RSA_gen(2048);
    ASSERT_NE(ec_, nullptr);
    ASSERT_NE(ec_other_, nullptr);
    ASSERT_NE(rsa_, nullptr);
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(ec_);
    EVP_PKEY_free(ec_other_);
    EVP_PKEY_free(rsa_);
  }

  void SetUp() override {
    std::string templ = ::testing::TempDir() + "jwks_test_XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    jwks_path_ = dir_ + "/jwks.json";
    WriteFile(jwks_path_, Jwks({PublicJwk(ec_, "ec-1"), PublicJwk(rsa_, "rsa-1")}));
    WriteFile(dir_ + "/ec.pem", PrivatePem(ec_));
    WriteFile(dir_ + "/ec-other.pem", PrivatePem(ec_other_));
    WriteFile(dir_ + "/rsa.pem", PrivatePem(rsa_));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  JwksVerifierOptions Options() const {
    JwksVerifierOptions options;
    options.jwks_file = jwks_path_;
    options.issuer = kIssuer;
    options.audience = kAudience;
    return options;
  }

  std::unique_ptr<JwksVerifier> NewVerifier(const JwksVerifierOptions& options) {
    absl::StatusOr<std::unique_ptr<JwksVerifier>> verifier = JwksVerifier::Create(options, &clock_);
    EXPECT_TRUE(verifier.ok()) << verifier.status();
    return verifier.ok() ? *std::move(verifier) : nullptr;
  }
  std::unique_ptr<JwksVerifier> NewVerifier() { return NewVerifier(Options()); }

  std::unique_ptr<JwtIssuer> NewIssuer(absl::string_view pem, absl::string_view kid,
                                       JwtClaimNames names = {}) {
    JwtIssuerOptions options;
    options.private_key_file = absl::StrCat(dir_, "/", pem);
    options.kid = std::string(kid);
    options.issuer = kIssuer;
    options.audience = kAudience;
    options.claim_names = std::move(names);
    absl::StatusOr<std::unique_ptr<JwtIssuer>> issuer = JwtIssuer::Create(options);
    EXPECT_TRUE(issuer.ok()) << issuer.status();
    return issuer.ok() ? *std::move(issuer) : nullptr;
  }

  static Claims Caseworker() {
    Claims claims;
    claims.subject = "cw-0001";
    claims.role = Role::kCaseworker;
    claims.jurisdiction = "5201";
    claims.issued_at = kNow - absl::Minutes(1);
    claims.expires_at = kNow + absl::Hours(1);
    return claims;
  }

  std::string Issue(absl::string_view pem, absl::string_view kid, const Claims& claims) {
    std::unique_ptr<JwtIssuer> issuer = NewIssuer(pem, kid);
    if (issuer == nullptr) return "";
    absl::StatusOr<std::string> token = issuer->Issue(claims);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }

  // The caseworker's payload with `change` applied: a JSON text.
  static std::string Payload(const std::function<void(json_t*)>& change = nullptr) {
    json_t* p =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "iss", kIssuer, "aud", kAudience,
                  "sub", "cw-0001", "pathway_role", "caseworker", "pathway_jur", "5201", "iat",
                  static_cast<json_int_t>(absl::ToUnixSeconds(kNow - absl::Minutes(1))), "nbf",
                  static_cast<json_int_t>(absl::ToUnixSeconds(kNow - absl::Minutes(1))), "exp",
                  static_cast<json_int_t>(absl::ToUnixSeconds(kNow + absl::Hours(1))));
    if (change) change(p);
    char* text = json_dumps(p, JSON_COMPACT);
    std::string out(text);
    free(text);
    json_decref(p);
    return out;
  }
  static void SetTime(json_t* p, const char* claim, absl::Time t) {
    json_object_set_new(p, claim, json_integer(absl::ToUnixSeconds(t)));
  }

  static std::string EcHeader(absl::string_view kid = "ec-1") {
    return absl::StrCat(R"({"alg":"ES256","typ":"JWT","kid":")", kid, R"("})");
  }

  // Verify refuses `token` with UNAUTHENTICATED and a message containing
  // `what` and not the token.
  static void ExpectRefused(const JwksVerifier& verifier, const std::string& token,
                            absl::string_view what) {
    absl::StatusOr<Claims> claims = verifier.Verify(token);
    ASSERT_FALSE(claims.ok()) << "accepted; expected: " << what;
    EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated) << claims.status();
    EXPECT_THAT(claims.status().message(), HasSubstr(what));
    if (token.size() > 8) {
      for (absl::string_view part : absl::StrSplit(token, '.')) {
        if (part.size() > 8) {
          EXPECT_THAT(claims.status().message(), Not(HasSubstr(part)));
        }
      }
    }
  }

  static EVP_PKEY* ec_;
  static EVP_PKEY* ec_other_;
  static EVP_PKEY* rsa_;
  FakeClock clock_{kNow};
  std::string dir_;
  std::string jwks_path_;
};

EVP_PKEY* JwksVerifierTest::ec_ = nullptr;
EVP_PKEY* JwksVerifierTest::ec_other_ = nullptr;
EVP_PKEY* JwksVerifierTest::rsa_ = nullptr;

// ---- the token matrix ---------------------------------------------------------------

TEST_F(JwksVerifierTest, ValidEs256) {
  auto verifier = NewVerifier();
  ASSERT_NE(verifier, nullptr);
  EXPECT_EQ(verifier->KeyCount(), 2u);
  std::string token = Issue("ec.pem", "ec-1", Caseworker());
  EXPECT_THAT(token, HasSubstr("."));
  EXPECT_THAT(B64UrlDecode(token.substr(0, token.find('.'))), HasSubstr(R"("alg":"ES256")"));
  absl::StatusOr<Claims> claims = verifier->Verify(token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "cw-0001");
  EXPECT_EQ(claims->role, Role::kCaseworker);
  EXPECT_EQ(claims->jurisdiction, "5201");
  EXPECT_EQ(claims->organization, "");
  EXPECT_EQ(claims->issued_at, kNow - absl::Minutes(1));
  EXPECT_EQ(claims->expires_at, kNow + absl::Hours(1));
  EXPECT_TRUE(ValidateClaims(*claims).ok());
}

TEST_F(JwksVerifierTest, ValidRs256) {
  auto verifier = NewVerifier();
  Claims employer = Caseworker();
  employer.role = Role::kEmployer;
  employer.organization = "91520100MA6DKQ0X5L";
  std::string token = Issue("rsa.pem", "rsa-1", employer);
  EXPECT_THAT(B64UrlDecode(token.substr(0, token.find('.'))), HasSubstr(R"("alg":"RS256")"));
  absl::StatusOr<Claims> claims = verifier->Verify(token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->role, Role::kEmployer);
  EXPECT_EQ(claims->organization, "91520100MA6DKQ0X5L");
}

TEST_F(JwksVerifierTest, HandForgedEs256AndRs256AreAccepted) {
  // Tokens signed by OpenSSL, not by the issuer: the verifier follows the
  // standard, not just its own issuer.
  auto verifier = NewVerifier();
  EXPECT_TRUE(verifier->Verify(Forge(EcHeader(), Payload(), ec_)).ok());
  EXPECT_TRUE(verifier->Verify(Forge(R"({"alg":"RS256","kid":"rsa-1"})", Payload(), rsa_)).ok());
}

TEST_F(JwksVerifierTest, MissingOrMalformedToken) {
  auto verifier = NewVerifier();
  ExpectRefused(*verifier, "", "missing token");
  ExpectRefused(*verifier, "not-a-token", "malformed token");
  ExpectRefused(*verifier, "a.b", "malformed token");
  std::string good = Forge(EcHeader(), Payload(), ec_);
  ExpectRefused(*verifier, good + ".extra", "malformed token");
  ExpectRefused(*verifier, good.substr(0, good.rfind('.') + 1), "malformed token");
  ExpectRefused(*verifier, "e30!.e30.c2ln", "malformed token");
  ExpectRefused(*verifier, absl::StrCat(B64Url("not json"), ".e30.c2ln"), "malformed token header");
  ExpectRefused(*verifier, absl::StrCat(B64Url(R"(["ES256"])"), ".e30.c2ln"),
                "malformed token header");
  ExpectRefused(*verifier, std::string(kMaxJwtBytes + 1, 'a'), "token too long");
  ExpectRefused(*verifier, Forge(R"({"alg":"ES256"})", Payload(), ec_), "token has no key id");
  ExpectRefused(*verifier, Forge(R"({"alg":"ES256","kid":"ec-1","crit":["exp"]})", Payload(), ec_),
                "critical header");
  // A payload that is not a JSON object, correctly signed.
  ExpectRefused(*verifier, Forge(EcHeader(), "[1,2]", ec_), "malformed token claims");
  // Duplicate claim names are refused rather than resolved one way or the other.
  ExpectRefused(*verifier,
                Forge(EcHeader(), R"({"iss":"x","iss":")" + std::string(kIssuer) + R"("})", ec_),
                "malformed token claims");
}

TEST_F(JwksVerifierTest, Expired) {
  auto verifier = NewVerifier();
  ExpectRefused(*verifier,
                Forge(EcHeader(), Payload([](json_t* p) {
                        SetTime(p, "iat", kNow - absl::Hours(2));
                        SetTime(p, "nbf", kNow - absl::Hours(2));
                        SetTime(p, "exp", kNow - absl::Seconds(61));
                      }),
                      ec_),
                "token expired");
  ExpectRefused(*verifier,
                Forge(EcHeader(), Payload([](json_t* p) { json_object_del(p, "exp"); }), ec_),
                "token has no expiry");
}

TEST_F(JwksVerifierTest, NotYetValid) {
  auto verifier = NewVerifier();
  ExpectRefused(*verifier,
                Forge(EcHeader(),
                      Payload([](json_t* p) { SetTime(p, "nbf", kNow + absl::Seconds(61)); }), ec_),
                "token not yet valid");
  ExpectRefused(*verifier,
                Forge(EcHeader(), Payload([](json_t* p) {
                        SetTime(p, "iat", kNow + absl::Seconds(61));
                        json_object_del(p, "nbf");
                      }),
                      ec_),
                "token issued in the future");
}

TEST_F(JwksVerifierTest, WithinClockSkewIsAccepted) {
  auto verifier = NewVerifier();
  // Expired 60 s ago, valid from 60 s from now, issued 60 s from now: all
  // within the default 60 s skew.
  EXPECT_TRUE(verifier
                  ->Verify(Forge(EcHeader(), Payload([](json_t* p) {
                                   SetTime(p, "iat", kNow - absl::Hours(1));
                                   SetTime(p, "nbf", kNow - absl::Hours(1));
                                   SetTime(p, "exp", kNow - absl::Seconds(60));
                                 }),
                                 ec_))
                  .ok());
  EXPECT_TRUE(verifier
                  ->Verify(Forge(EcHeader(), Payload([](json_t* p) {
                                   SetTime(p, "iat", kNow + absl::Seconds(60));
                                   SetTime(p, "nbf", kNow + absl::Seconds(60));
                                 }),
                                 ec_))
                  .ok());
  // Non-integer NumericDates are read without their fraction.
  EXPECT_TRUE(verifier
                  ->Verify(Forge(EcHeader(), Payload([](json_t* p) {
                                   json_object_set_new(p, "nbf",
                                                       json_real(absl::ToUnixSeconds(kNow) + 60.9));
                                 }),
                                 ec_))
                  .ok());
  // A smaller configured skew refuses the same expired token.
  JwksVerifierOptions strict = Options();
  strict.clock_skew = absl::Seconds(10);
  auto strict_verifier = NewVerifier(strict);
  ExpectRefused(*strict_verifier,
                Forge(EcHeader(), Payload([](json_t* p) {
                        SetTime(p, "iat", kNow - absl::Hours(1));
                        SetTime(p, "exp", kNow - absl::Seconds(60));
                      }),
                      ec_),
                "token expired");
}

TEST_F(JwksVerifierTest, TooLongLived) {
  auto verifier = NewVerifier();
  std::string long_lived = Forge(EcHeader(), Payload([](json_t* p) {
                                   SetTime(p, "iat", kNow - absl::Minutes(1));
                                   SetTime(p, "exp", kNow - absl::Minutes(1) + absl::Hours(13));
                                 }),
                                 ec_);
  ExpectRefused(*verifier, long_lived, "token lifetime too long");
  JwksVerifierOptions lenient = Options();
  lenient.max_lifetime = absl::Hours(24);
  EXPECT_TRUE(NewVerifier(lenient)->Verify(long_lived).ok());
  ExpectRefused(*verifier,
                Forge(EcHeader(), Payload([](json_t* p) { json_object_del(p, "iat"); }), ec_),
                "token has no issue time");
  ExpectRefused(*verifier,
                Forge(EcHeader(), Payload([](json_t* p) {
                        SetTime(p, "iat", kNow - absl::Seconds(30));
                        SetTime(p, "exp", kNow - absl::Seconds(30));
                      }),
                      ec_),
                "token expires before it is issued");
}

TEST_F(JwksVerifierTest, WrongIssuer) {
  auto verifier = NewVerifier();
  ExpectRefused(*verifier,
                Forge(EcHeader(), Payload([](json_t* p) {
                        json_object_set_new(p, "iss", json_string("https://idp.other.test/"));
                      }),
                      ec_),
                "token issuer not accepted");
  ExpectRefused(*verifier,
                Forge(EcHeader(), Payload([](json_t* p) { json_object_del(p, "iss"); }), ec_),
                "token issuer not accepted");
}

TEST_F(JwksVerifierTest, WrongAudience) {
  auto verifier = NewVerifier();
  ExpectRefused(*verifier,
                Forge(EcHeader(), Payload([](json_t* p) {
                        json_object_set_new(p, "aud", json_string("other-app"));
                      }),
                      ec_),
                "token audience not accepted");
  ExpectRefused(*verifier,
                Forge(EcHeader(), Payload([](json_t* p) {
                        json_object_set_new(p, "aud", json_pack("[s,s]", "a", "other-app"));
                      }),
                      ec_),
                "token audience not accepted");
  ExpectRefused(*verifier,
                Forge(EcHeader(), Payload([](json_t* p) { json_object_del(p, "aud"); }), ec_),
                "token audience not accepted");
  ExpectRefused(
      *verifier,
      Forge(EcHeader(), Payload([](json_t* p) { json_object_set_new(p, "aud", json_pack("[]")); }),
            ec_),
      "token audience not accepted");
}

TEST_F(JwksVerifierTest, AudienceArrayContainingOursIsAccepted) {
  auto verifier = NewVerifier();
  EXPECT_TRUE(verifier
                  ->Verify(Forge(EcHeader(), Payload([](json_t* p) {
                                   json_object_set_new(p, "aud",
                                                       json_pack("[s,s]", "account", kAudience));
                                 }),
                                 ec_))
                  .ok());
}

TEST_F(JwksVerifierTest, UnknownKid) {
  auto verifier = NewVerifier();
  ExpectRefused(*verifier, Forge(EcHeader("ec-9"), Payload(), ec_), "unknown signing key");
}

TEST_F(JwksVerifierTest, AlgNoneIsRefused) {
  auto verifier = NewVerifier();
  const std::string unsigned_token =
      absl::StrCat(B64Url(R"({"alg":"none","kid":"ec-1"})"), ".", B64Url(Payload()), ".");
  ExpectRefused(*verifier, unsigned_token, "token algorithm not allowed");
  ExpectRefused(*verifier, unsigned_token + "c2ln", "token algorithm not allowed");
  ExpectRefused(*verifier,
                absl::StrCat(B64Url(R"({"alg":"NONE","kid":"ec-1"})"), ".", B64Url(Payload()), "."),
                "token algorithm not allowed");
  ExpectRefused(*verifier, Forge(R"({"kid":"ec-1"})", Payload(), ec_),
                "token algorithm not allowed");
}

TEST_F(JwksVerifierTest, Hs256WithThePublicKeyAsSecretIsRefused) {
  // The classic confusion: an HMAC "signed" with the bytes of a public key,
  // which a verifier that lets the token pick the algorithm would accept.
  auto verifier = NewVerifier();
  for (const char* kid : {"ec-1", "rsa-1"}) {
    EVP_PKEY* key = std::string(kid) == "ec-1" ? ec_ : rsa_;
    const std::string header = absl::StrCat(R"({"alg":"HS256","kid":")", kid, R"("})");
    for (const std::string& secret :
         {PublicPem(key), PublicJwk(key, kid), Jwks({PublicJwk(key, kid)})}) {
      ExpectRefused(*verifier, ForgeHs256(header, Payload(), secret),
                    "token algorithm not allowed");
    }
  }
  ExpectRefused(*verifier, ForgeHs256(R"({"alg":"HS512","kid":"ec-1"})", Payload(), "k"),
                "token algorithm not allowed");
}

TEST_F(JwksVerifierTest, AlgorithmMustFitTheKey) {
  auto verifier = NewVerifier();
  // An RS256 header naming the EC key (signed by some RSA key), and the reverse.
  ExpectRefused(*verifier, Forge(R"({"alg":"RS256","kid":"ec-1"})", Payload(), rsa_),
                "token algorithm does not match its key");
  ExpectRefused(*verifier, Forge(R"({"alg":"ES256","kid":"rsa-1"})", Payload(), ec_),
                "token algorithm does not match its key");
  // Other algorithms of the same families are not allowed either.
  ExpectRefused(*verifier, Forge(R"({"alg":"ES384","kid":"ec-1"})", Payload(), ec_),
                "token algorithm not allowed");
  ExpectRefused(*verifier, Forge(R"({"alg":"PS256","kid":"rsa-1"})", Payload(), rsa_),
                "token algorithm not allowed");
}

TEST_F(JwksVerifierTest, TamperedPayload) {
  auto verifier = NewVerifier();
  for (const std::string& token :
       {Issue("ec.pem", "ec-1", Caseworker()), Issue("rsa.pem", "rsa-1", Caseworker())}) {
    ASSERT_TRUE(verifier->Verify(token).ok());
    std::vector<std::string> parts = absl::StrSplit(token, '.');
    std::string payload = B64UrlDecode(parts[1]);
    payload =
        absl::StrReplaceAll(payload, {{R"("caseworker")", R"("admin")"}, {R"("5201")", R"("*")"}});
    parts[1] = B64Url(payload);
    ExpectRefused(*verifier, absl::StrJoin(parts, "."), "bad token signature");
    // A flipped signature byte.
    parts = absl::StrSplit(token, '.');
    std::string sig = B64UrlDecode(parts[2]);
    sig[5] ^= 0x01;
    parts[2] = B64Url(sig);
    ExpectRefused(*verifier, absl::StrJoin(parts, "."), "bad token signature");
  }
}

TEST_F(JwksVerifierTest, WrongKeyWithTheSameKid) {
  auto verifier = NewVerifier();
  ExpectRefused(*verifier, Issue("ec-other.pem", "ec-1", Caseworker()), "bad token signature");
}

TEST_F(JwksVerifierTest, RotatedOutKeyIsRefusedAfterTheReRead) {
  auto verifier = NewVerifier();
  const std::string ec_token = Issue("ec.pem", "ec-1", Caseworker());
  const std::string rsa_token = Issue("rsa.pem", "rsa-1", Caseworker());
  ASSERT_TRUE(verifier->Verify(ec_token).ok());

  ReplaceFile(jwks_path_, Jwks({PublicJwk(rsa_, "rsa-1")}));
  // The file is looked at no more than once per check_interval.
  EXPECT_TRUE(verifier->Verify(ec_token).ok());
  clock_.Advance(absl::Seconds(1));
  ExpectRefused(*verifier, ec_token, "unknown signing key");
  EXPECT_EQ(verifier->KeyCount(), 1u);
  EXPECT_TRUE(verifier->Verify(rsa_token).ok());
}

TEST_F(JwksVerifierTest, RotatedInKeyIsAcceptedWithoutANewVerifier) {
  auto verifier = NewVerifier();
  ReplaceFile(jwks_path_, Jwks({PublicJwk(ec_, "ec-1"), PublicJwk(rsa_, "rsa-1"),
                                PublicJwk(ec_other_, "ec-2")}));
  // An unknown kid makes the file be re-read at once; no clock advance needed.
  absl::StatusOr<Claims> claims = verifier->Verify(Issue("ec-other.pem", "ec-2", Caseworker()));
  EXPECT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(verifier->KeyCount(), 3u);
}

TEST_F(JwksVerifierTest, UnknownKidReReadsAreRateLimited) {
  auto verifier = NewVerifier();
  const std::string token = Issue("ec-other.pem", "ec-3", Caseworker());
  ExpectRefused(*verifier, token, "unknown signing key");  // re-read, still unknown
  ReplaceFile(jwks_path_, Jwks({PublicJwk(ec_, "ec-1"), PublicJwk(ec_other_, "ec-3")}));
  ExpectRefused(*verifier, token, "unknown signing key");  // too soon for another re-read
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(verifier->Verify(token).ok());
}

TEST_F(JwksVerifierTest, BrokenJwksKeepsTheLastGoodKeys) {
  auto verifier = NewVerifier();
  const std::string token = Issue("ec.pem", "ec-1", Caseworker());
  const std::string ec_x = BnB64(ec_, OSSL_PKEY_PARAM_EC_PUB_X, 32);
  const std::string private_jwk = absl::StrReplaceAll(
      PublicJwk(ec_, "ec-1"), {{R"("kty")", absl::StrCat(R"("d":"secretbits","kty")")}});
  const std::vector<std::pair<std::string, std::string>> broken = {
      {"{not json", "not a JSON object"},
      {R"({"keys":"none"})", "not a JSON object"},
      {Jwks({}), "no usable ES256 or RS256 signing key"},
      {Jwks({PublicJwk(ec_, "ec-1", R"("use":"enc")")}), "no usable ES256 or RS256 signing key"},
      {Jwks({R"({"kty":"oct","kid":"h-1","k":"c2VjcmV0c2VjcmV0c2VjcmV0"})"}),
       "private key material"},
      {Jwks({private_jwk}), "private key material"},
      {Jwks({PublicJwk(ec_, "ec-1"), PublicJwk(ec_other_, "ec-1")}), "share one kid"},
  };
  for (const auto& [text, reason] : broken) {
    LogCapture log;
    ReplaceFile(jwks_path_, text);
    clock_.Advance(absl::Seconds(1));
    absl::StatusOr<Claims> claims = verifier->Verify(token);
    EXPECT_TRUE(claims.ok()) << text << ": " << claims.status();
    EXPECT_EQ(verifier->KeyCount(), 2u) << text;
    std::string logged = log.Text();
    EXPECT_THAT(logged, HasSubstr("jwks_reload_failed")) << text;
    EXPECT_THAT(logged, HasSubstr(reason)) << text;
    EXPECT_THAT(logged, Not(HasSubstr(ec_x)));
    EXPECT_THAT(logged, Not(HasSubstr("secretbits")));
    EXPECT_THAT(logged, Not(HasSubstr("c2VjcmV0")));
  }
  // A removed file: the same.
  ASSERT_EQ(unlink(jwks_path_.c_str()), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(verifier->Verify(token).ok());
  // And a good file again takes effect.
  ReplaceFile(jwks_path_, Jwks({PublicJwk(ec_, "ec-1")}));
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(verifier->Verify(token).ok());
  EXPECT_EQ(verifier->KeyCount(), 1u);
}

TEST_F(JwksVerifierTest, KeysThatCannotSignEs256OrRs256AreSkipped) {
  ReplaceFile(jwks_path_,
              Jwks({PublicJwk(ec_, "ec-1"), PublicJwk(ec_other_, "ec-enc", R"("use":"enc")"),
                    PublicJwk(ec_other_, "ec-384", R"("alg":"ES384")"),
                    PublicJwk(rsa_, "rsa-ps", R"("alg":"PS256")"),
                    PublicJwk(ec_other_, "ec-noalg", R"("use":"sig")")}));
  auto verifier = NewVerifier();
  EXPECT_EQ(verifier->KeyCount(), 2u);  // ec-1, and ec-noalg: "alg" is optional
  ExpectRefused(*verifier, Forge(EcHeader("ec-enc"), Payload(), ec_other_), "unknown signing key");
  ExpectRefused(*verifier, Forge(EcHeader("ec-384"), Payload(), ec_other_), "unknown signing key");
  ExpectRefused(*verifier, Forge(R"({"alg":"RS256","kid":"rsa-ps"})", Payload(), rsa_),
                "unknown signing key");
  EXPECT_TRUE(verifier->Verify(Forge(EcHeader("ec-noalg"), Payload(), ec_other_)).ok());
}

TEST_F(JwksVerifierTest, CustomClaimNames) {
  JwtClaimNames names;
  names.subject_claim = "preferred_username";
  names.role_claim = "pw_role";
  names.jurisdiction_claim = "pw_division";
  names.organization_claim = "pw_uscc";
  JwksVerifierOptions options = Options();
  options.claim_names = names;
  auto verifier = NewVerifier(options);

  Claims employer = Caseworker();
  employer.role = Role::kEmployer;
  employer.organization = "91520100MA6DKQ0X5L";
  auto issuer = NewIssuer("ec.pem", "ec-1", names);
  absl::StatusOr<std::string> token = issuer->Issue(employer);
  ASSERT_TRUE(token.ok());
  EXPECT_THAT(B64UrlDecode(std::vector<std::string>(absl::StrSplit(*token, '.'))[1]),
              HasSubstr(R"("pw_role":"employer")"));
  absl::StatusOr<Claims> claims = verifier->Verify(*token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "cw-0001");
  EXPECT_EQ(claims->role, Role::kEmployer);
  EXPECT_EQ(claims->jurisdiction, "5201");
  EXPECT_EQ(claims->organization, "91520100MA6DKQ0X5L");

  // The default names do not find these claims.
  ExpectRefused(*NewVerifier(), *token, "token claim sub is missing or not a string");

  // Bad name sets are refused when the verifier is made.
  for (auto change : std::vector<std::function<void(JwtClaimNames*)>>{
           [](JwtClaimNames* n) { n->role_claim = ""; },
           [](JwtClaimNames* n) { n->role_claim = n->jurisdiction_claim; },
           [](JwtClaimNames* n) { n->subject_claim = "iss"; },
       }) {
    JwksVerifierOptions bad = Options();
    change(&bad.claim_names);
    EXPECT_EQ(JwksVerifier::Create(bad, &clock_).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(JwksVerifierTest, ClaimsThatValidateClaimsRefuses) {
  auto verifier = NewVerifier();
  auto with = [&](const char* claim, json_t* value) {
    return Forge(EcHeader(), Payload([&](json_t* p) { json_object_set_new(p, claim, value); }),
                 ec_);
  };
  // A caseworker may not hold national scope.
  ExpectRefused(*verifier, with("pathway_jur", json_string("*")), "token claims not accepted");
  ExpectRefused(*verifier, with("pathway_jur", json_string("52x")), "token claims not accepted");
  ExpectRefused(*verifier, with("pathway_role", json_string("superuser")),
                "token role not recognised");
  ExpectRefused(*verifier, with("pathway_role", json_integer(1)),
                "token claim pathway_role is missing or not a string");
  ExpectRefused(*verifier, with("sub", json_string("has space")), "token claims not accepted");
  // An employer needs an organization; nobody else may have one.
  ExpectRefused(*verifier, with("pathway_role", json_string("employer")),
                "token claims not accepted");
  ExpectRefused(*verifier, with("pathway_org", json_string("91520100MA6DKQ0X5L")),
                "token claims not accepted");
  // The refused values are not echoed.
  absl::StatusOr<Claims> refused = verifier->Verify(with("pathway_role", json_string("superuser")));
  EXPECT_THAT(refused.status().message(), Not(HasSubstr("superuser")));
}

TEST_F(JwksVerifierTest, CreateRefusesBadConfiguration) {
  EXPECT_EQ(JwksVerifier::Create(Options(), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  JwksVerifierOptions options = Options();
  options.issuer = "";
  EXPECT_EQ(JwksVerifier::Create(options, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.clock_skew = absl::Minutes(11);
  EXPECT_EQ(JwksVerifier::Create(options, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.max_lifetime = absl::ZeroDuration();
  EXPECT_EQ(JwksVerifier::Create(options, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.jwks_file = dir_ + "/missing.json";
  EXPECT_EQ(JwksVerifier::Create(options, &clock_).status().code(), absl::StatusCode::kNotFound);
  ReplaceFile(jwks_path_, Jwks({R"({"kty":"oct","kid":"h-1","k":"c2VjcmV0"})"}));
  absl::Status status = JwksVerifier::Create(Options(), &clock_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), Not(HasSubstr("c2VjcmV0")));
}

TEST_F(JwksVerifierTest, DevelopmentKeyPairsRoundTrip) {
  const std::string jwks = dir_ + "/dev-jwks.json";
  ASSERT_TRUE(
      WriteDevelopmentKeyPair(dir_ + "/dev-es.pem", jwks, "dev-es", JwtAlgorithm::kEs256).ok());
  // A second key joins the same set: development key rotation.
  ASSERT_TRUE(
      WriteDevelopmentKeyPair(dir_ + "/dev-rs.pem", jwks, "dev-rs", JwtAlgorithm::kRs256).ok());
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/dev-es.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  JwksVerifierOptions options = Options();
  options.jwks_file = jwks;
  auto verifier = NewVerifier(options);
  ASSERT_NE(verifier, nullptr);
  EXPECT_EQ(verifier->KeyCount(), 2u);
  for (const auto& [pem, kid, alg] :
       std::vector<std::tuple<std::string, std::string, JwtAlgorithm>>{
           {"dev-es.pem", "dev-es", JwtAlgorithm::kEs256},
           {"dev-rs.pem", "dev-rs", JwtAlgorithm::kRs256}}) {
    auto issuer = NewIssuer(pem, kid);
    ASSERT_NE(issuer, nullptr);
    EXPECT_EQ(issuer->algorithm(), alg);
    absl::StatusOr<std::string> token = issuer->Issue(Caseworker());
    ASSERT_TRUE(token.ok()) << token.status();
    absl::StatusOr<Claims> claims = verifier->Verify(*token);
    EXPECT_TRUE(claims.ok()) << kid << ": " << claims.status();
  }
  // Neither an existing private key nor an existing kid is overwritten.
  EXPECT_EQ(
      WriteDevelopmentKeyPair(dir_ + "/dev-es.pem", jwks, "dev-new", JwtAlgorithm::kEs256).code(),
      absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(
      WriteDevelopmentKeyPair(dir_ + "/dev-3.pem", jwks, "dev-es", JwtAlgorithm::kEs256).code(),
      absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/dev-3.pem"));
}

TEST_F(JwksVerifierTest, IssuerRefusesUnusableKeysAndClaims) {
  WriteFile(dir_ + "/public.pem", PublicPem(ec_));
  JwtIssuerOptions options;
  options.private_key_file = dir_ + "/public.pem";
  options.kid = "k";
  options.issuer = kIssuer;
  options.audience = kAudience;
  EXPECT_EQ(JwtIssuer::Create(options).status().code(), absl::StatusCode::kFailedPrecondition);
  options.private_key_file = dir_ + "/missing.pem";
  EXPECT_EQ(JwtIssuer::Create(options).status().code(), absl::StatusCode::kNotFound);
  Claims bad = Caseworker();
  bad.jurisdiction = "*";
  EXPECT_EQ(NewIssuer("ec.pem", "ec-1")->Issue(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(JwksVerifierTest, ConcurrentVerifyWhileKeysRotate) {
  auto verifier = NewVerifier();
  const std::string ec_token = Issue("ec.pem", "ec-1", Caseworker());
  const std::string rsa_token = Issue("rsa.pem", "rsa-1", Caseworker());
  std::atomic<int> failures{0};
  std::atomic<int> verified{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string& token = t % 2 == 0 ? ec_token : rsa_token;
      while (!done.load()) {
        if (!verifier->Verify(token).ok()) ++failures;
        ++verified;
      }
    });
  }
  // Every version of the file keeps both keys; the order changes.
  for (int i = 0; i < 20; ++i) {
    ReplaceFile(jwks_path_, i % 2 == 0 ? Jwks({PublicJwk(rsa_, "rsa-1"), PublicJwk(ec_, "ec-1")})
                                       : Jwks({PublicJwk(ec_, "ec-1"), PublicJwk(rsa_, "rsa-1")}));
    clock_.Advance(absl::Seconds(1));
    const int before = verified.load();
    while (verified.load() < before + 8) std::this_thread::yield();
  }
  done = true;
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(verifier->KeyCount(), 2u);
}

}  // namespace
}  // namespace pathway
