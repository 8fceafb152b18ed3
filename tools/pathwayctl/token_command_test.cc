#include "tools/pathwayctl/token_command.h"

#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/auth/jwks_verifier.h"
#include "common/auth/token.h"
#include "common/clock/clock.h"
#include "gtest/gtest.h"
#include "tools/pathwayctl/pathwayctl.h"

namespace pathway {
namespace pathwayctl {
namespace {

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 3, 1, 9, 0, 0), absl::UTCTimeZone());
const std::string kKey = "pathwayctl-test-key-0123456789abcdef";

std::string KeyFile() {
  static const std::string* path = [] {
    auto* p = new std::string(absl::StrCat(::testing::TempDir(), "/pathwayctl_key"));
    std::ofstream out(*p, std::ios::trunc);
    out << kKey << "\n";
    return p;
  }();
  return *path;
}

std::string MissingFile() { return absl::StrCat(::testing::TempDir(), "/pathwayctl_no_such_key"); }

struct Result {
  int code;
  std::string out;
  std::string err;
};

class TokenCommandTest : public ::testing::Test {
 protected:
  Result RunToken(const std::vector<std::string>& args, absl::string_view env_key_file = "") {
    std::ostringstream out;
    std::ostringstream err;
    int code = RunTokenCommand(args, env_key_file, clock_, out, err);
    return {code, out.str(), err.str()};
  }

  Result RunCtl(const std::vector<std::string>& args, const Environment& env = {}) {
    std::ostringstream out;
    std::ostringstream err;
    int code = pathwayctl::Run(args, env, clock_, out, err);
    return {code, out.str(), err.str()};
  }

  absl::StatusOr<Claims> Verify(absl::string_view line) {
    EXPECT_TRUE(absl::EndsWith(line, "\n"));
    absl::string_view token = line;
    absl::ConsumeSuffix(&token, "\n");
    auto verifier = TokenVerifier::Create(kKey, &clock_);
    EXPECT_TRUE(verifier.ok());
    return (*verifier)->Verify(token);
  }

  FakeClock clock_{kNow};
};

TEST_F(TokenCommandTest, MintsATokenTheVerifierAccepts) {
  Result r = RunToken({"--role", "caseworker", "--jurisdiction", "520102", "--subject", "cw.17@gy",
                       "--ttl", "2h", "--key-file", KeyFile()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  absl::StatusOr<Claims> claims = Verify(r.out);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "cw.17@gy");
  EXPECT_EQ(claims->role, Role::kCaseworker);
  EXPECT_EQ(claims->jurisdiction, "520102");
  EXPECT_EQ(claims->issued_at, kNow);
  EXPECT_EQ(claims->expires_at, kNow + absl::Hours(2));
  EXPECT_EQ(claims->organization, "");
}

TEST_F(TokenCommandTest, DefaultsSubjectTtlAndKeyFileFromEnvironment) {
  Result r = RunToken({"--role=facility_staff", "--jurisdiction=5201"}, KeyFile());
  ASSERT_EQ(r.code, 0) << r.err;
  absl::StatusOr<Claims> claims = Verify(r.out);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "dev-facility_staff");
  EXPECT_EQ(claims->role, Role::kFacilityStaff);
  EXPECT_EQ(claims->expires_at, kNow + kDefaultTokenTtl);
}

TEST_F(TokenCommandTest, KeyFileFlagOverridesEnvironment) {
  Result r =
      RunToken({"--role", "admin", "--jurisdiction", "*", "--key-file", KeyFile()}, MissingFile());
  ASSERT_EQ(r.code, 0) << r.err;
  absl::StatusOr<Claims> claims = Verify(r.out);
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->jurisdiction, "*");
}

TEST_F(TokenCommandTest, EmployerCarriesOrganization) {
  Result r = RunToken({"--role", "employer", "--jurisdiction", "52", "--org", "91520100MA6DKQ0X5L"},
                      KeyFile());
  ASSERT_EQ(r.code, 0) << r.err;
  absl::StatusOr<Claims> claims = Verify(r.out);
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->organization, "91520100MA6DKQ0X5L");

  r = RunToken({"--role", "employer", "--jurisdiction", "52"}, KeyFile());
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "organization")) << r.err;
  r = RunToken({"--role", "police", "--jurisdiction", "52", "--org", "91520100MA6DKQ0X5L"},
               KeyFile());
  EXPECT_EQ(r.code, 2);
}

TEST_F(TokenCommandTest, BadRoleIsAUsageError) {
  Result r = RunToken({"--role", "superuser", "--jurisdiction", "52"}, KeyFile());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(absl::StrContains(r.err, "unknown role \"superuser\"")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "caseworker")) << r.err;
}

TEST_F(TokenCommandTest, BadJurisdictionIsAUsageError) {
  for (const char* jur : {"5", "5201021", "52a1", ""}) {
    Result r = RunToken({"--role", "caseworker", "--jurisdiction", jur}, KeyFile());
    EXPECT_EQ(r.code, 2) << jur;
    EXPECT_TRUE(absl::StrContains(r.err, "jurisdiction")) << r.err;
  }
  Result r = RunToken({"--role", "caseworker", "--jurisdiction", "*"}, KeyFile());
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "national")) << r.err;
}

TEST_F(TokenCommandTest, MissingKeyFileIsAClearError) {
  Result r = RunToken({"--role", "police", "--jurisdiction", "52", "--key-file", MissingFile()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(absl::StrContains(r.err, MissingFile())) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "does not exist")) << r.err;

  r = RunToken({"--role", "police", "--jurisdiction", "52"}, MissingFile());
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, MissingFile())) << r.err;
}

TEST_F(TokenCommandTest, NoKeyFileAtAllIsAUsageError) {
  Result r = RunToken({"--role", "police", "--jurisdiction", "52"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "PATHWAY_TOKEN_KEY_FILE")) << r.err;
}

TEST_F(TokenCommandTest, ShortKeyIsAFailureThatDoesNotShowTheKey) {
  std::string path = absl::StrCat(::testing::TempDir(), "/pathwayctl_short_key");
  {
    std::ofstream out(path, std::ios::trunc);
    out << "TOPSECRETTOPSECRET\n";
  }
  Result r = RunToken({"--role", "police", "--jurisdiction", "52"}, path);
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(absl::StrContains(r.err, "TOPSECRET")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, path)) << r.err;
}

TEST_F(TokenCommandTest, UsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                  // no --role
      {"--role", "police"},                // no --jurisdiction
      {"--jurisdiction", "52"},            // no --role
      {"--role"},                          // no value
      {"--role", "--jurisdiction", "52"},  // value is a flag
      {"--role", "police", "--jurisdiction", "52", "extra"},
      {"--role", "police", "--jurisdiction", "52", "--colour", "red"},
      {"--role", "police", "--role", "admin", "--jurisdiction", "52"},
      {"--role", "police", "--jurisdiction", "52", "--ttl", "forever"},
      {"--role", "police", "--jurisdiction", "52", "--ttl", "0s"},
      {"--role", "police", "--jurisdiction", "52", "--ttl", "-1h"},
      {"--role", "police", "--jurisdiction", "52", "--ttl", "169h"},
      {"--role", "police", "--jurisdiction", "52", "--ttl", "inf"},
      {"--role", "police", "--jurisdiction", "52", "--subject", "has space"},
      {"--role", "police", "--jurisdiction", "52", "--subject", std::string(65, 'a')},
      {"--role", "police", "--jurisdiction", "52", "--subject="},
      {"-role", "police", "--jurisdiction", "52"},
      {"--", "--role", "police", "--jurisdiction", "52"},
  };
  for (const auto& args : cases) {
    Result r = RunToken(args, KeyFile());
    EXPECT_EQ(r.code, 2) << absl::StrJoin(args, " ");
    EXPECT_EQ(r.out, "") << absl::StrJoin(args, " ");
    EXPECT_FALSE(r.err.empty());
  }
}

TEST_F(TokenCommandTest, HelpFlagPrintsUsage) {
  Result r = RunToken({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(absl::StrContains(r.out, "--jurisdiction")) << r.out;
}

TEST_F(TokenCommandTest, ParseAndMintAsALibrary) {
  absl::StatusOr<TokenRequest> request = ParseTokenArgs(
      std::vector<std::string>{"--role", "batch", "--jurisdiction", "*", "--ttl", "90m"},
      KeyFile());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->role, Role::kBatch);
  EXPECT_EQ(request->subject, "dev-batch");
  EXPECT_EQ(request->ttl, absl::Minutes(90));
  EXPECT_EQ(request->key_file, KeyFile());
  absl::StatusOr<std::string> token = MintToken(*request, clock_);
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<Claims> claims = Verify(absl::StrCat(*token, "\n"));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->role, Role::kBatch);
  EXPECT_EQ(claims->expires_at, kNow + absl::Minutes(90));
}

// ---- provider-style tokens ------------------------------------------------------

TEST_F(TokenCommandTest, MintsAProviderTokenTheJwksVerifierAccepts) {
  char tmpl[] = "/tmp/pathwayctl-jwt-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string key = dir + "/jwt-key.pem";
  const std::string jwks = dir + "/jwks.json";
  Result r = RunToken({"--role", "caseworker", "--jurisdiction", "520102", "--jwt-key", key,
                       "--new-jwks", jwks, "--kid", "dev-7", "--issuer", "pathway-test"});
  ASSERT_EQ(r.code, 0) << r.err;
  JwksVerifierOptions o;
  o.jwks_file = jwks;
  o.issuer = "pathway-test";
  o.audience = "pathway";
  auto verifier = JwksVerifier::Create(o, &clock_);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  std::string token = r.out;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  absl::StatusOr<Claims> claims = (*verifier)->Verify(token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->role, Role::kCaseworker);
  EXPECT_EQ(claims->jurisdiction, "520102");
  // The shared-key verifier refuses it: it is not an HS256 token.
  EXPECT_FALSE(Verify(r.out).ok());
  // The key pair exists now: a second token uses it as is; making it again is refused.
  EXPECT_EQ(RunToken({"--role", "police", "--jurisdiction", "52", "--jwt-key", key, "--kid",
                      "dev-7", "--issuer", "pathway-test"})
                .code,
            0);
  EXPECT_EQ(RunToken({"--role", "police", "--jurisdiction", "52", "--jwt-key", key,
                      "--new-jwks", jwks, "--kid", "dev-7"})
                .code,
            1);
  EXPECT_EQ(RunToken({"--role", "police", "--jurisdiction", "52", "--new-jwks", jwks}).code, 2);
  std::string cmd = "rm -rf '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

// ---- dispatch -------------------------------------------------------------------

TEST_F(TokenCommandTest, DispatchesToken) {
  Environment env;
  env.token_key_file = KeyFile();
  Result r = RunCtl({"token", "--role", "auditor", "--jurisdiction", "*"}, env);
  ASSERT_EQ(r.code, 0) << r.err;
  absl::StatusOr<Claims> claims = Verify(r.out);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->role, Role::kAuditor);
}

TEST_F(TokenCommandTest, HelpAndUnknownCommandsPrintUsage) {
  Result r = RunCtl({"help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(absl::StrContains(r.out, "usage: pathwayctl")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "token")) << r.out;

  r = RunCtl({"help", "token"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(absl::StrContains(r.out, "--key-file")) << r.out;

  r = RunCtl({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown command \"frobnicate\"")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "usage: pathwayctl")) << r.err;

  r = RunCtl({});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "usage: pathwayctl")) << r.err;
}

}  // namespace
}  // namespace pathwayctl
}  // namespace pathway
