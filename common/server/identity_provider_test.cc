// A server whose people sign in at an identity provider, over real gRPC: the
// provider's ES256 and RS256 tokens are accepted, keys rotate without a restart, a
// person's token signed with the deployment's shared key is refused even when the
// signature is right, and only services may still use that key. The finer cases of
// the token itself (algorithms, confusion, times, audience) are in
// common/auth/jwks_verifier_test.cc; here the question is what a deployment accepts.
#include <stdlib.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/jwt_issuer.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/server/testing_programme_server.h"
#include "common/store/testing_store.h"
#include "gtest/gtest.h"
#include "pathway/common/v1/operations.grpc.pb.h"

namespace pathway {
namespace {

constexpr char kSharedKey[] = "identity-provider-test-key-0123456789abcdefghij";
constexpr char kIssuer[] = "https://idp.example.gov.cn/realms/pathway";

class IdentityProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pathway-idp-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    jwks_ = dir_ + "/jwks.json";
    ASSERT_TRUE(WriteDevelopmentKeyPair(dir_ + "/es.pem", jwks_, "es-1", JwtAlgorithm::kEs256).ok());
    ASSERT_TRUE(WriteDevelopmentKeyPair(dir_ + "/rs.pem", jwks_, "rs-1", JwtAlgorithm::kRs256).ok());
    TestProgrammeServer::Options o;
    o.service_name = "community_detox";
    o.data_dir = dir_;
    o.database = TestDatabaseUriOrDie("idp");
    o.token_key = kSharedKey;
    o.with_outbox = true;
    o.identity_provider.jwks_file = jwks_;
    o.identity_provider.issuer = kIssuer;
    o.identity_provider.audience = "pathway";
    // Look at the file on every call: the rotation below needs no waiting.
    o.identity_provider.check_interval = absl::ZeroDuration();
    auto server = TestProgrammeServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = common::v1::Operations::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_.reset();
    std::string cmd = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }

  std::string ProviderToken(const std::string& key_file, const std::string& kid, Role role) {
    JwtIssuerOptions o;
    o.private_key_file = key_file;
    o.kid = kid;
    o.issuer = kIssuer;
    o.audience = "pathway";
    auto issuer = JwtIssuer::Create(o);
    EXPECT_TRUE(issuer.ok()) << issuer.status();
    if (!issuer.ok()) return "";
    auto token = (*issuer)->Issue(TestClaims(role));
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }

  std::string SharedKeyToken(Role role) {
    return *(*TokenSigner::Create(kSharedKey))->Sign(TestClaims(role));
  }

  static Claims TestClaims(Role role) {
    Claims c;
    c.subject = role == Role::kService ? "svc-compulsory_isolation" : "ops-7";
    c.role = role;
    c.jurisdiction = "*";
    c.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())) - absl::Minutes(1);
    c.expires_at = c.issued_at + absl::Hours(1);
    return c;
  }

  grpc::StatusCode Call(const std::string& token) {
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, token, absl::Seconds(10));
    common::v1::GetOutboxSummaryRequest req;
    common::v1::OutboxSummary summary;
    return stub_->GetOutboxSummary(&ctx, req, &summary).error_code();
  }

  std::string dir_;
  std::string jwks_;
  std::unique_ptr<TestProgrammeServer> server_;
  std::unique_ptr<common::v1::Operations::Stub> stub_;
};

TEST_F(IdentityProviderTest, ProviderTokensOfBothAlgorithmsAreAccepted) {
  EXPECT_EQ(Call(ProviderToken(dir_ + "/es.pem", "es-1", Role::kAdmin)), grpc::StatusCode::OK);
  EXPECT_EQ(Call(ProviderToken(dir_ + "/rs.pem", "rs-1", Role::kAdmin)), grpc::StatusCode::OK);
}

TEST_F(IdentityProviderTest, APersonsSharedKeyTokenIsRefusedAServicesIsNot) {
  EXPECT_EQ(Call(SharedKeyToken(Role::kAdmin)), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Call(SharedKeyToken(Role::kService)), grpc::StatusCode::OK);
}

TEST_F(IdentityProviderTest, TheProviderCannotSpeakForAService) {
  EXPECT_EQ(Call(ProviderToken(dir_ + "/es.pem", "es-1", Role::kService)),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(IdentityProviderTest, KeysRotateWithoutARestart) {
  // A key the provider adds is accepted at once; the running server was not told.
  ASSERT_TRUE(
      WriteDevelopmentKeyPair(dir_ + "/es2.pem", jwks_, "es-2", JwtAlgorithm::kEs256).ok());
  EXPECT_EQ(Call(ProviderToken(dir_ + "/es2.pem", "es-2", Role::kAdmin)), grpc::StatusCode::OK);
  // A token under a kid the provider never published is refused.
  EXPECT_EQ(Call(ProviderToken(dir_ + "/es.pem", "es-9", Role::kAdmin)),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(IdentityProviderTest, NoTokenOrGarbageIsUnauthenticated) {
  EXPECT_EQ(Call(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Call("not.a.token"), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace pathway
