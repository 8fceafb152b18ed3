#include "common/auth/token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/clock/clock.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 3, 1, 9, 0, 0), absl::UTCTimeZone());
const std::string kKey = "0123456789abcdef0123456789abcdef-test-key";
const std::string kOtherKey = "fedcba9876543210fedcba9876543210-other-key";
constexpr absl::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

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

std::string Mac(const EVP_MD* md, absl::string_view key, absl::string_view data) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), buf, &len);
  return std::string(reinterpret_cast<const char*>(buf), len);
}

// A token with any header and payload, correctly MACed with `key` and `md`.
std::string Forge(absl::string_view header_json, absl::string_view payload_json,
                  absl::string_view key = kKey, const EVP_MD* md = EVP_sha256()) {
  std::string input = absl::StrCat(B64Url(header_json), ".", B64Url(payload_json));
  return absl::StrCat(input, ".", B64Url(Mac(md, key, input)));
}

int64_t Unix(absl::Time t) { return absl::ToUnixSeconds(t); }

// A valid payload issued now, expiring in 8 hours, with `extra` fields
// appended (a JSON fragment starting with ',').
std::string Payload(absl::string_view extra = "") {
  return absl::StrCat(R"({"sub":"u-17","role":"caseworker","jur":"520102","iat":)", Unix(kNow),
                      R"(,"exp":)", Unix(kNow + absl::Hours(8)), extra, "}");
}

Claims CaseworkerClaims() {
  Claims c;
  c.subject = "u-17";
  c.role = Role::kCaseworker;
  c.jurisdiction = "520102";
  c.issued_at = kNow;
  c.expires_at = kNow + absl::Hours(8);
  return c;
}

class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = TokenSigner::Create(kKey);
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = *std::move(signer);
    auto verifier = TokenVerifier::Create(kKey, &clock_);
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = *std::move(verifier);
  }

  std::string SignOrDie(const Claims& claims) {
    absl::StatusOr<std::string> token = signer_->Sign(claims);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }

  void ExpectRejected(absl::string_view token, absl::string_view message = "invalid token") {
    absl::StatusOr<Claims> claims = verifier_->Verify(token);
    EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated) << "token: " << token;
    EXPECT_EQ(claims.status().message(), message) << "token: " << token;
  }

  FakeClock clock_{kNow};
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<TokenVerifier> verifier_;
};

// ---- keys and construction ----------------------------------------------------

TEST(TokenKeyTest, KeyMustBeAtLeast32Bytes) {
  EXPECT_EQ(TokenSigner::Create(std::string(31, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenSigner::Create("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(TokenSigner::Create(std::string(32, 'k')).ok());
  FakeClock clock(kNow);
  EXPECT_EQ(TokenVerifier::Create(std::string(31, 'k'), &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(TokenVerifier::Create(std::string(32, 'k'), &clock).ok());
}

TEST(TokenKeyTest, KeyIsNeverInTheError) {
  std::string key(20, 'Q');
  absl::Status status = TokenSigner::Create(key).status();
  EXPECT_EQ(status.message().find("QQQQ"), absl::string_view::npos);
}

TEST(TokenKeyTest, VerifierNeedsClockAndSaneLeeway) {
  FakeClock clock(kNow);
  EXPECT_EQ(TokenVerifier::Create(kKey, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenVerifier::Create(kKey, &clock, absl::Seconds(-1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenVerifier::Create(kKey, &clock, absl::Hours(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(TokenVerifier::Create(kKey, &clock, absl::ZeroDuration()).ok());
}

// ---- round trip ------------------------------------------------------------------

TEST_F(TokenTest, SignThenVerifyRoundTrips) {
  std::string token = SignOrDie(CaseworkerClaims());
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(B64UrlDecode(parts[0]), kHs256Header);
  EXPECT_EQ(token.find('='), std::string::npos);

  absl::StatusOr<Claims> claims = verifier_->Verify(token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "u-17");
  EXPECT_EQ(claims->role, Role::kCaseworker);
  EXPECT_EQ(claims->jurisdiction, "520102");
  EXPECT_EQ(claims->issued_at, kNow);
  EXPECT_EQ(claims->expires_at, kNow + absl::Hours(8));
  EXPECT_EQ(claims->organization, "");
}

TEST_F(TokenTest, EveryRoleRoundTrips) {
  for (Role role : AllRoles()) {
    Claims c = CaseworkerClaims();
    c.role = role;
    c.jurisdiction = "52";
    if (role == Role::kEmployer) c.organization = "91520100MA6DKQ0X5L";
    absl::StatusOr<Claims> claims = verifier_->Verify(SignOrDie(c));
    ASSERT_TRUE(claims.ok()) << RoleName(role) << ": " << claims.status();
    EXPECT_EQ(claims->role, role);
    EXPECT_EQ(claims->organization, c.organization);
  }
}

TEST_F(TokenTest, NationalScopeForAdmin) {
  Claims c = CaseworkerClaims();
  c.role = Role::kAdmin;
  c.jurisdiction = "*";
  absl::StatusOr<Claims> claims = verifier_->Verify(SignOrDie(c));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->jurisdiction, "*");
}

TEST_F(TokenTest, SignDropsFractionalSeconds) {
  Claims c = CaseworkerClaims();
  c.issued_at = kNow + absl::Milliseconds(900);
  absl::StatusOr<Claims> claims = verifier_->Verify(SignOrDie(c));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->issued_at, kNow);
}

TEST_F(TokenTest, SignRejectsBadClaims) {
  auto expect_bad = [&](const Claims& c, absl::string_view why) {
    EXPECT_EQ(signer_->Sign(c).status().code(), absl::StatusCode::kInvalidArgument) << why;
  };
  Claims c = CaseworkerClaims();
  c.subject = "";
  expect_bad(c, "empty subject");
  c.subject = std::string(65, 'a');
  expect_bad(c, "long subject");
  c.subject = "a b";
  expect_bad(c, "space in subject");
  c.subject = "名字";
  expect_bad(c, "non-ASCII subject");
  c = CaseworkerClaims();
  c.jurisdiction = "*";
  expect_bad(c, "national caseworker");
  c.jurisdiction = "5";
  expect_bad(c, "short jurisdiction");
  c = CaseworkerClaims();
  c.organization = "91520100MA6DKQ0X5L";
  expect_bad(c, "org on a caseworker");
  c = CaseworkerClaims();
  c.role = Role::kEmployer;
  expect_bad(c, "employer without org");
  c.organization = "91520100MA6DKQ0X5";
  expect_bad(c, "short org");
  c.organization = "91520100MA6DKQ0XSL";
  expect_bad(c, "S is not in the alphabet");
  c = CaseworkerClaims();
  c.expires_at = c.issued_at;
  expect_bad(c, "exp == iat");
  c.expires_at = c.issued_at - absl::Seconds(1);
  expect_bad(c, "exp < iat");
  c = CaseworkerClaims();
  c.expires_at = absl::InfiniteFuture();
  expect_bad(c, "infinite exp");
  c = CaseworkerClaims();
  c.issued_at = absl::FromUnixSeconds(-10);
  expect_bad(c, "before 1970");
}

TEST_F(TokenTest, SubjectCharacterSet) {
  Claims c = CaseworkerClaims();
  c.subject = "Ab9._@-";
  EXPECT_TRUE(verifier_->Verify(SignOrDie(c)).ok());
  c.subject = std::string(64, 'z');
  EXPECT_TRUE(verifier_->Verify(SignOrDie(c)).ok());
}

// ---- time ------------------------------------------------------------------------

TEST_F(TokenTest, ExpiredBeyondLeeway) {
  std::string token = SignOrDie(CaseworkerClaims());
  clock_.Set(kNow + absl::Hours(8) + absl::Seconds(59));
  EXPECT_TRUE(verifier_->Verify(token).ok()) << "within leeway";
  clock_.Set(kNow + absl::Hours(8) + absl::Seconds(60));
  ExpectRejected(token, "token expired");
  clock_.Set(kNow + absl::Hours(24 * 365));
  ExpectRejected(token, "token expired");
}

TEST_F(TokenTest, NotYetValidBeyondLeeway) {
  Claims c = CaseworkerClaims();
  c.issued_at = kNow + absl::Seconds(60);
  c.expires_at = kNow + absl::Hours(1);
  EXPECT_TRUE(verifier_->Verify(SignOrDie(c)).ok()) << "within leeway";
  c.issued_at = kNow + absl::Seconds(61);
  ExpectRejected(SignOrDie(c), "token not yet valid");
}

TEST_F(TokenTest, ExpNotAfterIatIsInvalid) {
  ExpectRejected(Forge(kHs256Header, absl::StrCat(R"({"sub":"u","role":"admin","jur":"*","iat":)",
                                                  Unix(kNow), R"(,"exp":)", Unix(kNow), "}")));
  ExpectRejected(Forge(kHs256Header, absl::StrCat(R"({"sub":"u","role":"admin","jur":"*","iat":)",
                                                  Unix(kNow), R"(,"exp":)", Unix(kNow) - 5, "}")));
}

// ---- tampering ---------------------------------------------------------------------

TEST_F(TokenTest, ForgedPayloadWithHelperVerifies) {
  // Sanity check of the test's own forging helper.
  absl::StatusOr<Claims> claims = verifier_->Verify(Forge(kHs256Header, Payload()));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "u-17");
}

TEST_F(TokenTest, TamperedPayloadIsRejected) {
  std::string token = SignOrDie(CaseworkerClaims());
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string payload = B64UrlDecode(parts[1]);
  std::string elevated = absl::StrReplaceAll(payload, {{"caseworker", "admin"}});
  ASSERT_NE(elevated, payload);
  ExpectRejected(absl::StrCat(parts[0], ".", B64Url(elevated), ".", parts[2]));
  std::string widened = absl::StrReplaceAll(payload, {{"520102", "52"}});
  ExpectRejected(absl::StrCat(parts[0], ".", B64Url(widened), ".", parts[2]));
}

// ---- remembered tokens ------------------------------------------------------------

TEST_F(TokenTest, RememberedTokenStillAnswersToTheClock) {
  std::string token = SignOrDie(CaseworkerClaims());
  ASSERT_TRUE(verifier_->Verify(token).ok());
  ASSERT_EQ(verifier_->RememberedTokensForTesting(), 1u);
  absl::StatusOr<Claims> again = verifier_->Verify(token);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->subject, "u-17");
  EXPECT_EQ(again->jurisdiction, "520102");
  EXPECT_EQ(verifier_->RememberedTokensForTesting(), 1u);
  clock_.Set(kNow + absl::Hours(9));
  ExpectRejected(token, "token expired");
}

TEST_F(TokenTest, RememberingAValidTokenDoesNotAdmitItsNeighbours) {
  std::string token = SignOrDie(CaseworkerClaims());
  ASSERT_TRUE(verifier_->Verify(token).ok());
  // The same signature under an elevated payload, and the same payload under a
  // changed signature, after the genuine token was remembered.
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string payload = B64UrlDecode(parts[1]);
  std::string elevated = absl::StrReplaceAll(payload, {{"caseworker", "admin"}});
  ExpectRejected(absl::StrCat(parts[0], ".", B64Url(elevated), ".", parts[2]));
  std::string t = token;
  t.back() = t.back() == 'A' ? 'B' : 'A';
  ExpectRejected(t);
  EXPECT_EQ(verifier_->RememberedTokensForTesting(), 1u) << "rejected tokens are not remembered";
}

TEST_F(TokenTest, RememberedTokensAreBounded) {
  Claims c = CaseworkerClaims();
  const size_t many = TokenVerifier::kMaxRememberedTokens * 2;
  for (size_t i = 0; i < many; ++i) {
    c.subject = absl::StrCat("u-", i);
    ASSERT_TRUE(verifier_->Verify(SignOrDie(c)).ok());
  }
  EXPECT_LE(verifier_->RememberedTokensForTesting(), TokenVerifier::kMaxRememberedTokens);
  EXPECT_GT(verifier_->RememberedTokensForTesting(), TokenVerifier::kMaxRememberedTokens / 2);
  // A forgotten token is decoded again, and still verifies.
  c.subject = "u-0";
  EXPECT_TRUE(verifier_->Verify(SignOrDie(c)).ok());
}

TEST_F(TokenTest, TamperedSignatureIsRejected) {
  std::string token = SignOrDie(CaseworkerClaims());
  size_t sig_start = token.rfind('.') + 1;
  for (size_t i = sig_start; i < token.size(); ++i) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    ExpectRejected(t);
  }
  ExpectRejected(token.substr(0, token.size() - 1));  // truncated
  ExpectRejected(absl::StrCat(token, "A"));           // extended
  ExpectRejected(absl::StrCat(token.substr(0, sig_start), B64Url(std::string(32, '\0'))));
}

TEST_F(TokenTest, NonCanonicalSignatureEncodingIsRejected) {
  // 32 bytes encode to 43 characters; the last carries 2 unused bits. A
  // different character with the same 4 significant bits decodes to the same
  // MAC but must still be refused.
  std::string token = SignOrDie(CaseworkerClaims());
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t last = alphabet.find(token.back());
  ASSERT_NE(last, std::string::npos);
  ASSERT_EQ(last % 4, 0u) << "canonical encoding has zero unused bits";
  std::string t = token;
  t.back() = alphabet[last + 1];
  ExpectRejected(t);
}

TEST_F(TokenTest, WrongKeyIsRejected) {
  ExpectRejected(Forge(kHs256Header, Payload(), kOtherKey));
  auto other = TokenSigner::Create(kOtherKey);
  ASSERT_TRUE(other.ok());
  absl::StatusOr<std::string> token = (*other)->Sign(CaseworkerClaims());
  ASSERT_TRUE(token.ok());
  ExpectRejected(*token);
}

// ---- algorithm pinning ---------------------------------------------------------------

TEST_F(TokenTest, AlgNoneIsRejected) {
  std::string input = absl::StrCat(B64Url(R"({"alg":"none","typ":"JWT"})"), ".", B64Url(Payload()));
  ExpectRejected(absl::StrCat(input, "."));
  ExpectRejected(input);
  ExpectRejected(Forge(R"({"alg":"none","typ":"JWT"})", Payload()));
  ExpectRejected(Forge(R"({"alg":"None"})", Payload()));
  ExpectRejected(Forge(R"({"alg":"NONE"})", Payload()));
}

TEST_F(TokenTest, OtherAlgorithmsAreRejectedEvenWithAValidMac) {
  ExpectRejected(Forge(R"({"alg":"HS512","typ":"JWT"})", Payload(), kKey, EVP_sha512()));
  ExpectRejected(Forge(R"({"alg":"HS384","typ":"JWT"})", Payload(), kKey, EVP_sha384()));
  // Right MAC, wrong label: still refused.
  for (absl::string_view header :
       {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"hs256","typ":"JWT"})",
        R"({"alg":"Hs256","typ":"JWT"})", R"({"alg":"HS256 ","typ":"JWT"})",
        R"({"alg":"RS256","typ":"JWT"})", R"({"alg":"ES256","typ":"JWT"})", R"({"typ":"JWT"})",
        R"({"alg":256,"typ":"JWT"})", R"({"alg":null})", R"({"alg":["HS256"]})",
        R"({"alg":"HS256","typ":"JWS"})", R"({"alg":"HS256","typ":1})",
        R"({"alg":"HS256","crit":["exp"]})", R"(["HS256"])", "HS256", ""}) {
    ExpectRejected(Forge(header, Payload()));
  }
}

TEST_F(TokenTest, HeaderWithoutTypIsAccepted) {
  EXPECT_TRUE(verifier_->Verify(Forge(R"({"alg":"HS256"})", Payload())).ok());
}

// ---- malformed -------------------------------------------------------------------------

TEST_F(TokenTest, MalformedSegmentsAreRejected) {
  std::string good = SignOrDie(CaseworkerClaims());
  std::vector<std::string> p = absl::StrSplit(good, '.');
  for (const std::string& t :
       std::vector<std::string>{"",
                                ".",
                                "..",
                                "...",
                                "a",
                                "a.b",
                                "a.b.c.d",
                                good + ".",
                                "." + good,
                                absl::StrCat(p[0], "..", p[2]),
                                absl::StrCat(".", p[1], ".", p[2]),
                                absl::StrCat(p[0], ".", p[1], "."),
                                absl::StrCat(p[0], "=.", p[1], ".", p[2]),  // padding
                                absl::StrCat(p[0], ".", p[1], "=.", p[2]),
                                absl::StrCat(p[0], ".", p[1], ".", p[2], "="),
                                absl::StrCat(p[0], ".", p[1], " .", p[2]),  // whitespace
                                absl::StrCat(" ", good),
                                absl::StrCat(good, "\n"),
                                absl::StrCat(p[0], ".", p[1], "+", ".", p[2]),  // standard alphabet
                                absl::StrCat(p[0], ".", p[1], ".", p[2].substr(1)),
                                absl::StrCat(p[0], ".A.", p[2]),  // length % 4 == 1
                                std::string("\0", 1) + good}) {
    ExpectRejected(t);
  }
}

TEST_F(TokenTest, MalformedJsonIsRejected) {
  for (absl::string_view payload : {"", "{", "null", "[]", "42", R"("x")", "not json",
                                    R"({"sub":"u-17","role":"caseworker",})"}) {
    ExpectRejected(Forge(kHs256Header, payload));
  }
}

TEST_F(TokenTest, MissingClaimsAreRejected) {
  const std::string iat = absl::StrCat(Unix(kNow));
  const std::string exp = absl::StrCat(Unix(kNow + absl::Hours(1)));
  const std::vector<std::pair<std::string, std::string>> fields = {{"sub", R"("u-17")"},
                                                                   {"role", R"("caseworker")"},
                                                                   {"jur", R"("520102")"},
                                                                   {"iat", iat},
                                                                   {"exp", exp}};
  for (size_t skip = 0; skip < fields.size(); ++skip) {
    std::string json = "{";
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i == skip) continue;
      if (json.size() > 1) json += ",";
      absl::StrAppend(&json, "\"", fields[i].first, "\":", fields[i].second);
    }
    json += "}";
    ExpectRejected(Forge(kHs256Header, json));
  }
  ExpectRejected(Forge(kHs256Header, "{}"));
}

TEST_F(TokenTest, WronglyTypedClaimsAreRejected) {
  const std::string iat = absl::StrCat(Unix(kNow));
  const std::string exp = absl::StrCat(Unix(kNow + absl::Hours(1)));
  auto payload = [&](absl::string_view sub, absl::string_view role, absl::string_view jur,
                     absl::string_view i, absl::string_view e) {
    return absl::StrCat(R"({"sub":)", sub, R"(,"role":)", role, R"(,"jur":)", jur, R"(,"iat":)", i,
                        R"(,"exp":)", e, "}");
  };
  EXPECT_TRUE(
      verifier_->Verify(Forge(kHs256Header, payload(R"("u")", R"("police")", R"("52")", iat, exp)))
          .ok());
  const std::vector<std::string> bad = {
      payload("17", R"("police")", R"("52")", iat, exp),
      payload(R"(["u"])", R"("police")", R"("52")", iat, exp),
      payload("null", R"("police")", R"("52")", iat, exp),
      payload(R"("u")", "1", R"("52")", iat, exp),
      payload(R"("u")", R"("police")", "52", iat, exp),
      payload(R"("u")", R"("police")", R"("52")", absl::StrCat("\"", iat, "\""), exp),
      payload(R"("u")", R"("police")", R"("52")", iat, absl::StrCat("\"", exp, "\"")),
      payload(R"("u")", R"("police")", R"("52")", iat, absl::StrCat(exp, ".5")),
      payload(R"("u")", R"("police")", R"("52")", "-1", exp),
      payload(R"("u")", R"("police")", R"("52")", iat, "1e300"),
      payload(R"("u")", R"("police")", R"("52")", iat, "true"),
      payload(R"("u")", R"("police")", R"("52")", iat, "{}"),
  };
  for (const std::string& p : bad) ExpectRejected(Forge(kHs256Header, p));
  ExpectRejected(Forge(kHs256Header, Payload(R"(,"org":18)")));
  ExpectRejected(Forge(kHs256Header, Payload(R"(,"org":null)")));
}

TEST_F(TokenTest, UnknownRoleIsRejected) {
  for (absl::string_view role : {"superuser", "Admin", "ADMIN", "", "admin "}) {
    ExpectRejected(Forge(kHs256Header,
                         absl::StrCat(R"({"sub":"u","role":")", role, R"(","jur":"52","iat":)",
                                      Unix(kNow), R"(,"exp":)", Unix(kNow + absl::Hours(1)), "}")));
  }
}

TEST_F(TokenTest, JurisdictionMustSuitTheRole) {
  auto token = [&](absl::string_view role, absl::string_view jur) {
    return Forge(kHs256Header,
                 absl::StrCat(R"({"sub":"u","role":")", role, R"(","jur":")", jur, R"(","iat":)",
                              Unix(kNow), R"(,"exp":)", Unix(kNow + absl::Hours(1)), "}"));
  };
  ExpectRejected(token("caseworker", "5"));
  ExpectRejected(token("caseworker", "5201021"));
  ExpectRejected(token("caseworker", "*"));
  ExpectRejected(token("caseworker", ""));
  ExpectRejected(token("police", "*"));
  ExpectRejected(token("admin", "5"));
  EXPECT_TRUE(verifier_->Verify(token("caseworker", "520102")).ok());
  EXPECT_TRUE(verifier_->Verify(token("auditor", "*")).ok());
}

TEST_F(TokenTest, OrganizationRules) {
  // Employer without org, org on a non-employer, malformed org.
  auto token = [&](absl::string_view role, absl::string_view org_fragment) {
    return Forge(kHs256Header,
                 absl::StrCat(R"({"sub":"u","role":")", role, R"(","jur":"52","iat":)", Unix(kNow),
                              R"(,"exp":)", Unix(kNow + absl::Hours(1)), org_fragment, "}"));
  };
  ExpectRejected(token("employer", ""));
  ExpectRejected(token("employer", R"(,"org":"")"));
  ExpectRejected(token("employer", R"(,"org":"not-a-code")"));
  ExpectRejected(token("caseworker", R"(,"org":"91520100MA6DKQ0X5L")"));
  absl::StatusOr<Claims> ok =
      verifier_->Verify(token("employer", R"(,"org":"91520100MA6DKQ0X5L")"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->organization, "91520100MA6DKQ0X5L");
}

TEST_F(TokenTest, UnknownClaimsAreIgnored) {
  EXPECT_TRUE(verifier_->Verify(Forge(kHs256Header, Payload(R"(,"jti":"x","n":1)"))).ok());
}

TEST_F(TokenTest, HugeTokensAreRejected) {
  // A correctly signed token just over the limit is refused; just under passes.
  auto padded = [&](size_t total) {
    std::string base = Forge(kHs256Header, Payload(R"(,"pad":"")"));
    size_t pad = 0;
    std::string t = base;
    while (t.size() < total) {
      ++pad;
      t = Forge(kHs256Header, Payload(absl::StrCat(R"(,"pad":")", std::string(pad, 'x'), "\"")));
    }
    return t;
  };
  std::string under = padded(kMaxTokenBytes - 3);
  ASSERT_LE(under.size(), kMaxTokenBytes);
  EXPECT_TRUE(verifier_->Verify(under).ok());
  std::string over = padded(kMaxTokenBytes + 1);
  ASSERT_GT(over.size(), kMaxTokenBytes);
  ExpectRejected(over);
  ExpectRejected(std::string(1 << 20, 'A'));
  ExpectRejected(absl::StrCat(std::string(1 << 20, 'A'), ".", "B", ".", "C"));
}

// ---- key files ---------------------------------------------------------------------------

std::string WriteTempFile(absl::string_view name, absl::string_view contents) {
  std::string path = absl::StrCat(::testing::TempDir(), "/", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return path;
}

TEST(LoadKeyFileTest, StripsTrailingWhitespace) {
  std::string path = WriteTempFile("key_ok", kKey + "\n\r\n \t");
  absl::StatusOr<std::string> key = LoadKeyFile(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, kKey);
}

TEST(LoadKeyFileTest, KeepsLeadingAndInnerBytes) {
  std::string raw = std::string("  \0\x01", 4) + std::string(40, 'k');
  std::string path = WriteTempFile("key_binary", raw);
  absl::StatusOr<std::string> key = LoadKeyFile(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, raw);
}

TEST(LoadKeyFileTest, MissingFileNamesThePath) {
  std::string path = absl::StrCat(::testing::TempDir(), "/no_such_key_file");
  absl::Status status = LoadKeyFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find(path), absl::string_view::npos) << status;
}

TEST(LoadKeyFileTest, ShortKeyIsRefusedWithoutShowingIt) {
  std::string path = WriteTempFile("key_short", "SECRETSECRETSECRETSECRETSECRET1\n");  // 31
  absl::Status status = LoadKeyFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find(path), absl::string_view::npos);
  EXPECT_EQ(status.message().find("SECRET"), absl::string_view::npos);
  EXPECT_FALSE(LoadKeyFile(WriteTempFile("key_empty", "")).ok());
  EXPECT_FALSE(LoadKeyFile(WriteTempFile("key_blank", std::string(64, '\n'))).ok());
}

TEST(LoadKeyFileTest, HugeFileIsRefused) {
  EXPECT_EQ(LoadKeyFile(WriteTempFile("key_huge", std::string(1 << 16, 'k'))).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(LoadKeyFile(WriteTempFile("key_max", std::string(kMaxTokenKeyBytes, 'k'))).ok());
  EXPECT_FALSE(
      LoadKeyFile(WriteTempFile("key_max1", std::string(kMaxTokenKeyBytes + 1, 'k'))).ok());
}

TEST(LoadKeyFileTest, DirectoryIsRefused) {
  EXPECT_FALSE(LoadKeyFile(::testing::TempDir()).ok());
  EXPECT_EQ(LoadKeyFile("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LoadKeyFileTest, LoadedKeyVerifiesTokens) {
  std::string path = WriteTempFile("key_rt", kKey + "\n");
  absl::StatusOr<std::string> key = LoadKeyFile(path);
  ASSERT_TRUE(key.ok());
  FakeClock clock(kNow);
  auto verifier = TokenVerifier::Create(*key, &clock);
  ASSERT_TRUE(verifier.ok());
  EXPECT_TRUE((*verifier)->Verify(Forge(kHs256Header, Payload())).ok());
}

}  // namespace
}  // namespace pathway
