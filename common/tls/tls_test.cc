#include "common/tls/tls.h"

#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/dev_pki.h"

namespace pathway {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// Answers SERVING to every health check.
class ServingHealth final : public Health::CallbackService {
 public:
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx, const HealthCheckRequest*,
                                  HealthCheckResponse* resp) override {
    resp->set_status(HealthCheckResponse::SERVING);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/pathway-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    auto pki = test::MakeDevPki(*dir_ + "/pki", {"registry", "client"});
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = new test::DevPki(*pki);
    // A second, unrelated CA: its certificates must be refused.
    auto other = test::MakeDevPki(*dir_ + "/other", {"client"});
    ASSERT_TRUE(other.ok()) << other.status();
    other_ = new test::DevPki(*other);
  }
  static void TearDownTestSuite() {
    std::string cmd = "rm -rf '" + *dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    delete pki_;
    delete other_;
    delete dir_;
  }

  TlsOptions ServerTls(bool mutual) const {
    TlsOptions tls;
    tls.cert_file = pki_->Cert("registry");
    tls.key_file = pki_->Key("registry");
    tls.ca_file = pki_->CaFile();
    tls.require_client_cert = mutual;
    return tls;
  }

  // A server answering the standard health service with `tls`.
  void Start(const TlsOptions& tls) {
    auto creds = MakeServerCredentials(tls);
    ASSERT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    builder.RegisterService(&health_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  grpc::Status Check(const ChannelSecurity& security, const std::string& host = "127.0.0.1") {
    auto stub = Health::NewStub(SecureChannel(absl::StrCat(host, ":", port_), security));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    HealthCheckRequest req;
    HealthCheckResponse resp;
    return stub->Check(&ctx, req, &resp);
  }

  ChannelSecurity Client(const test::DevPki& pki, bool with_cert,
                         const std::string& server_name = "") {
    TlsOptions tls;
    tls.ca_file = pki_->CaFile();
    if (with_cert) {
      tls.cert_file = pki.Cert("client");
      tls.key_file = pki.Key("client");
    }
    tls.server_name = server_name;
    auto security = MakeChannelSecurity(tls);
    EXPECT_TRUE(security.ok()) << security.status();
    return *security;
  }

  static std::string* dir_;
  static test::DevPki* pki_;
  static test::DevPki* other_;
  ServingHealth health_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

std::string* TlsTest::dir_ = nullptr;
test::DevPki* TlsTest::pki_ = nullptr;
test::DevPki* TlsTest::other_ = nullptr;

TEST_F(TlsTest, ServerAnswersATrustingClientAndRefusesPlaintext) {
  ASSERT_NO_FATAL_FAILURE(Start(ServerTls(false)));
  EXPECT_TRUE(Check(Client(*pki_, false)).ok());
  EXPECT_EQ(Check(PlaintextChannelSecurity()).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ClientRefusesAServerItsCaDidNotSign) {
  TlsOptions tls;
  tls.cert_file = other_->Cert("client");  // valid for 127.0.0.1, but from the other CA
  tls.key_file = other_->Key("client");
  ASSERT_NO_FATAL_FAILURE(Start(tls));
  EXPECT_EQ(Check(Client(*pki_, false)).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsNeedsAClientCertificateFromTheCa) {
  ASSERT_NO_FATAL_FAILURE(Start(ServerTls(true)));
  EXPECT_TRUE(Check(Client(*pki_, true)).ok());
  EXPECT_EQ(Check(Client(*pki_, false)).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(Client(*other_, true)).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(PlaintextChannelSecurity()).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, TheNameCheckedIsTheOverrideWhenGiven) {
  ASSERT_NO_FATAL_FAILURE(Start(ServerTls(false)));
  // The certificate names 127.0.0.1 and localhost, not another name.
  EXPECT_TRUE(Check(Client(*pki_, false, "localhost")).ok());
  EXPECT_EQ(Check(Client(*pki_, false, "registry.pathway.example")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, PlaintextOnlyWhenAskedFor) {
  TlsOptions none;
  absl::Status s = ValidateServerTls(none);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--plaintext"), std::string::npos) << s;
  TlsOptions plaintext;
  plaintext.plaintext = true;
  EXPECT_TRUE(ValidateServerTls(plaintext).ok());
  plaintext.cert_file = pki_->Cert("registry");
  plaintext.key_file = pki_->Key("registry");
  EXPECT_EQ(ValidateServerTls(plaintext).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TlsTest, IncompleteOrUnreadableFilesAreClearErrors) {
  TlsOptions tls = ServerTls(false);
  tls.key_file.clear();
  EXPECT_EQ(MakeServerCredentials(tls).status().code(), absl::StatusCode::kInvalidArgument);
  tls = ServerTls(true);
  tls.ca_file.clear();
  EXPECT_EQ(MakeServerCredentials(tls).status().code(), absl::StatusCode::kInvalidArgument);
  tls = ServerTls(false);
  tls.cert_file = *dir_ + "/missing.pem";
  absl::Status missing = MakeServerCredentials(tls).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("missing.pem"), std::string::npos);
  const std::string not_pem = *dir_ + "/not.pem";
  std::ofstream(not_pem) << "not a certificate\n";
  tls.cert_file = not_pem;
  EXPECT_EQ(MakeServerCredentials(tls).status().code(), absl::StatusCode::kFailedPrecondition);
  TlsOptions client;
  client.ca_file = *dir_ + "/missing-ca.pem";
  EXPECT_EQ(MakeChannelSecurity(client).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TlsTest, KeyMaterialNeverInAnError) {
  // A key file given where a certificate belongs is still only named, never shown.
  TlsOptions tls = ServerTls(false);
  tls.cert_file = "/nonexistent/registry.pem";
  absl::Status s = MakeServerCredentials(tls).status();
  EXPECT_EQ(s.message().find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace pathway
