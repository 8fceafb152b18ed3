#include "common/auth/guard.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/auth/caller.h"
#include "common/clock/clock.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 3, 1, 9, 0, 0), absl::UTCTimeZone());
const std::string kKey(48, 'K');

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = TokenSigner::Create(kKey);
    ASSERT_TRUE(signer.ok());
    signer_ = *std::move(signer);
    auto verifier = TokenVerifier::Create(kKey, &clock_);
    ASSERT_TRUE(verifier.ok());
    verifier_ = *std::move(verifier);
    authorizer_ = std::make_unique<Authorizer>(verifier_.get());
  }

  std::string Token(Role role, absl::string_view jurisdiction = "5201",
                    absl::string_view subject = "u-1") {
    Claims c;
    c.subject = std::string(subject);
    c.role = role;
    c.jurisdiction = std::string(jurisdiction);
    c.issued_at = kNow;
    c.expires_at = kNow + absl::Hours(1);
    if (role == Role::kEmployer) c.organization = "91520100MA6DKQ0X5L";
    absl::StatusOr<std::string> token = signer_->Sign(c);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }

  FakeClock clock_{kNow};
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::unique_ptr<Authorizer> authorizer_;
};

TEST_F(AuthorizerTest, AcceptsBearerTokenWithAllowedRole) {
  absl::StatusOr<Caller> caller = authorizer_->AuthorizeHeader(
      absl::StrCat("Bearer ", Token(Role::kCaseworker, "5201", "cw-9")),
      {Role::kPolice, Role::kCaseworker});
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->subject(), "cw-9");
  EXPECT_EQ(caller->role(), Role::kCaseworker);
  EXPECT_EQ(caller->jurisdiction(), "5201");
  EXPECT_TRUE(caller->Covers("520102"));
  EXPECT_FALSE(caller->Covers("520201"));
  EXPECT_FALSE(caller->Covers("5201"));
}

TEST_F(AuthorizerTest, SchemeIsCaseInsensitiveAndBlanksAreTolerated) {
  std::string token = Token(Role::kPolice);
  for (const std::string& header :
       {absl::StrCat("bearer ", token), absl::StrCat("BEARER ", token),
        absl::StrCat("BeArEr ", token), absl::StrCat("Bearer   ", token),
        absl::StrCat("Bearer\t", token), absl::StrCat(" Bearer ", token, " ")}) {
    EXPECT_TRUE(authorizer_->AuthorizeHeader(header, {Role::kPolice}).ok()) << header;
  }
}

TEST_F(AuthorizerTest, MalformedHeadersAreUnauthenticated) {
  std::string token = Token(Role::kPolice);
  for (const std::string& header :
       {std::string(""), std::string("   "), std::string("Bearer"), std::string("Bearer "),
        absl::StrCat("Bearer", token), absl::StrCat("Basic ", token), absl::StrCat("Token ", token),
        absl::StrCat("Bearer ", token, " extra"), absl::StrCat("Bearer ", token, "\n"), token,
        absl::StrCat("Bearer: ", token), absl::StrCat("Bearer Bearer ", token)}) {
    absl::StatusOr<Caller> caller = authorizer_->AuthorizeHeader(header, {Role::kPolice});
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated) << header;
    EXPECT_EQ(caller.status().message().find(token), absl::string_view::npos);
  }
  EXPECT_EQ(authorizer_->AuthorizeHeader("", {Role::kPolice}).status().message(),
            "missing bearer token");
}

TEST_F(AuthorizerTest, BadTokensAreUnauthenticatedWithGenericReason) {
  absl::StatusOr<Caller> caller =
      authorizer_->AuthorizeHeader("Bearer abc.def.ghi", {Role::kPolice});
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(caller.status().message(), "invalid token");

  std::string token = Token(Role::kPolice);
  clock_.Advance(absl::Hours(2));
  caller = authorizer_->AuthorizeHeader(absl::StrCat("Bearer ", token), {Role::kPolice});
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(caller.status().message(), "token expired");
}

TEST_F(AuthorizerTest, RoleNotAllowedIsPermissionDenied) {
  absl::StatusOr<Caller> caller = authorizer_->AuthorizeHeader(
      absl::StrCat("Bearer ", Token(Role::kEmployer)), {Role::kCaseworker, Role::kPolice});
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(caller.status().message(), "role employer may not call this method");
}

TEST_F(AuthorizerTest, EmptyAllowListDeniesEveryone) {
  for (Role role : AllRoles()) {
    absl::StatusOr<Caller> caller =
        authorizer_->AuthorizeHeader(absl::StrCat("Bearer ", Token(role)), {});
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kPermissionDenied) << RoleName(role);
  }
}

TEST_F(AuthorizerTest, AuthenticationComesBeforeRoleCheck) {
  absl::StatusOr<Caller> caller = authorizer_->AuthorizeHeader("Bearer x.y.z", {});
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizerTest, AuthenticateAcceptsAnyRole) {
  for (Role role : AllRoles()) {
    absl::StatusOr<Caller> caller =
        authorizer_->AuthenticateHeader(absl::StrCat("Bearer ", Token(role)));
    ASSERT_TRUE(caller.ok()) << RoleName(role) << ": " << caller.status();
    EXPECT_EQ(caller->role(), role);
  }
  EXPECT_EQ(authorizer_->AuthenticateHeader("").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizerTest, EnforcedBindingRefusesServiceTokensWhereNoPeerIsKnown) {
  // The header variants see no certificate: with the binding enforced a service
  // token is refused, people are not concerned; not enforced, nothing changes.
  Authorizer bound(verifier_.get(), {true, {"registry"}});
  const std::string service = absl::StrCat("Bearer ", Token(Role::kService, "*", "svc-registry"));
  absl::StatusOr<Caller> refused = bound.AuthenticateHeader(service);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(refused.status().message(), "service credential not accepted from this peer");
  EXPECT_EQ(bound.AuthorizeHeader(service, {Role::kService}).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(bound.AuthenticateHeader(absl::StrCat("Bearer ", Token(Role::kPolice))).ok());
  EXPECT_TRUE(authorizer_->AuthorizeHeader(service, {Role::kService}).ok());
}

TEST(AuthorizerNullTest, NullVerifierFailsClosed) {
  Authorizer authorizer(nullptr);
  EXPECT_EQ(authorizer.AuthorizeHeader("Bearer a.b.c", {Role::kAdmin}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

// ---- caller.h ------------------------------------------------------------------

Caller MakeCaller(Role role, absl::string_view jurisdiction) {
  Caller caller;
  caller.claims.subject = "u";
  caller.claims.role = role;
  caller.claims.jurisdiction = std::string(jurisdiction);
  return caller;
}

TEST(CallerTest, CheckRole) {
  Caller police = MakeCaller(Role::kPolice, "52");
  EXPECT_TRUE(CheckRole(police, {Role::kPolice}).ok());
  EXPECT_EQ(CheckRole(police, {Role::kAdmin}).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckRole(police, {}).code(), absl::StatusCode::kPermissionDenied);
}

TEST(CallerTest, OutOfJurisdictionLooksExactlyLikeNotFound) {
  Caller caller = MakeCaller(Role::kCaseworker, "520102");
  absl::Status missing = CaseNotFound();
  absl::Status elsewhere = CheckInJurisdiction(caller, "530102");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(elsewhere, missing);
  EXPECT_EQ(elsewhere.message(), "case not found");
  EXPECT_TRUE(CheckInJurisdiction(caller, "520102").ok());
  // A malformed code on the record fails closed, looking the same.
  EXPECT_EQ(CheckInJurisdiction(caller, "5201"), missing);
  EXPECT_EQ(CheckInJurisdiction(caller, "530102", "placement"), CaseNotFound("placement"));
  EXPECT_EQ(CaseNotFound("placement").message(), "placement not found");
}

TEST(CallerTest, NationalCallerCoversEveryValidCode) {
  Caller auditor = MakeCaller(Role::kAuditor, "*");
  EXPECT_TRUE(auditor.Covers("110101"));
  EXPECT_TRUE(auditor.Covers("659001"));
  EXPECT_FALSE(auditor.Covers(""));
  EXPECT_EQ(CheckInJurisdiction(auditor, "bogus"), CaseNotFound());
}

}  // namespace
}  // namespace pathway
