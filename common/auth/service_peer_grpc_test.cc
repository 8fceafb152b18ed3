// Service tokens bound to the peer certificate, over real gRPC: an in-process
// server on 127.0.0.1:0 with mutual TLS (certificates made by
// deploy/local/dev-tls.sh, CN = the name), a callback generic service whose one
// handler authorises like every Pathway handler, and clients presenting the
// certificates of a service, of another service and of a plain client.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "common/auth/guard.h"
#include "common/auth/testing_guarded_service.h"
#include "common/auth/service_identity.h"
#include "common/clock/clock.h"
#include "common/status/grpc_status.h"
#include "common/tls/tls.h"
#include "gtest/gtest.h"
#include "tests/testing/dev_pki.h"

namespace pathway {
namespace {

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 3, 1, 9, 0, 0), absl::UTCTimeZone());
const std::string kKey(40, 'S');
constexpr char kMethod[] = "/pathway.test.v1.Guarded/Get";

class ServicePeerGrpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/pathway-service-peer-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    auto pki = test::MakeDevPki(*dir_ + "/pki",
                                {"community_rehab", "compulsory_isolation", "placement", "client"});
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = new test::DevPki(*pki);
  }
  static void TearDownTestSuite() {
    std::string cmd = "rm -rf '" + *dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    delete pki_;
    delete dir_;
  }

  void SetUp() override {
    signer_ = *TokenSigner::Create(kKey);
    verifier_ = *TokenVerifier::Create(kKey, &clock_);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // The community rehabilitation service's port as the binary runs it: its own
  // certificate, clients verified against the CA when `mutual`.
  void Start(bool mutual, ServicePeerBinding binding) {
    authorizer_ = std::make_unique<Authorizer>(verifier_.get(), std::move(binding));
    service_ = std::make_unique<test::GuardedService>(
        [this](const grpc::ServerContextBase& ctx) {
          return authorizer_->Authorize(ctx, {Role::kService, Role::kCaseworker});
        });
    TlsOptions tls;
    tls.cert_file = pki_->Cert("community_rehab");
    tls.key_file = pki_->Key("community_rehab");
    tls.ca_file = pki_->CaFile();
    tls.require_client_cert = mutual;
    auto creds = MakeServerCredentials(tls);
    ASSERT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    builder.RegisterCallbackGenericService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  std::string Token(Role role, const std::string& subject) {
    Claims c;
    c.subject = subject;
    c.role = role;
    c.jurisdiction = role == Role::kService ? "*" : "520102";
    c.issued_at = kNow;
    c.expires_at = kNow + absl::Hours(1);
    return *signer_->Sign(c);
  }

  // Calls kMethod presenting the certificate `cert` ("" for none) and `token`.
  grpc::Status Call(const std::string& cert, const std::string& token,
                    std::string* response = nullptr) {
    TlsOptions tls;
    tls.ca_file = pki_->CaFile();
    if (!cert.empty()) {
      tls.cert_file = pki_->Cert(cert);
      tls.key_file = pki_->Key(cert);
    }
    auto security = MakeChannelSecurity(tls);
    EXPECT_TRUE(security.ok()) << security.status();
    grpc::GenericStub stub(SecureChannel(absl::StrCat("127.0.0.1:", port_), *security));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.AddMetadata("authorization", "Bearer " + token);
    grpc::Slice slice(std::string("request"));
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer reply;
    grpc::Status result;
    absl::Notification done;
    stub.UnaryCall(&ctx, kMethod, grpc::StubOptions(), &request, &reply, [&](grpc::Status status) {
      result = std::move(status);
      done.Notify();
    });
    done.WaitForNotification();
    if (result.ok() && response != nullptr) {
      std::vector<grpc::Slice> slices;
      if (reply.Dump(&slices).ok()) {
        response->clear();
        for (const grpc::Slice& s : slices) {
          response->append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
      }
    }
    return result;
  }

  static void ExpectRefused(const grpc::Status& status, const std::string& why) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << why;
    EXPECT_EQ(status.error_message(), kServicePeerRefused) << why;
  }

  static std::string* dir_;
  static test::DevPki* pki_;
  FakeClock clock_{kNow};
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<test::GuardedService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

std::string* ServicePeerGrpcTest::dir_ = nullptr;
test::DevPki* ServicePeerGrpcTest::pki_ = nullptr;

TEST_F(ServicePeerGrpcTest, MutualTlsAcceptsAServiceTokenOnlyFromThatAllowedService) {
  ASSERT_NO_FATAL_FAILURE(Start(/*mutual=*/true, {true, DefaultServiceCallers("community_rehab")}));
  const std::string isolation = Token(Role::kService, "svc-compulsory_isolation");
  std::string subject;
  grpc::Status ok = Call("compulsory_isolation", isolation, &subject);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(subject, "svc-compulsory_isolation");

  ExpectRefused(Call("client", isolation), "a client holding the service key");
  ExpectRefused(Call("placement", Token(Role::kService, "svc-placement")),
                "a service that does not call this one");
  ExpectRefused(Call("placement", isolation), "a service presenting another's token");
  ExpectRefused(Call("compulsory_isolation", Token(Role::kService, "svc-registry")),
                "an allowed service presenting another allowed service's token");
  // A refused service credential is refused before the role is looked at.
  ExpectRefused(Call("client", Token(Role::kService, "svc-client")), "a token naming the client");
}

TEST_F(ServicePeerGrpcTest, PeopleAreServedWhateverTheirCertificate) {
  ASSERT_NO_FATAL_FAILURE(Start(/*mutual=*/true, {true, DefaultServiceCallers("community_rehab")}));
  std::string subject;
  grpc::Status ok = Call("client", Token(Role::kCaseworker, "cw-1"), &subject);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(subject, "cw-1");
  EXPECT_EQ(Call("client", Token(Role::kPolice, "police-1")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ServicePeerGrpcTest, AnEmptyCallerListRefusesEveryService) {
  ASSERT_NO_FATAL_FAILURE(Start(/*mutual=*/true, {true, {}}));
  ExpectRefused(Call("compulsory_isolation", Token(Role::kService, "svc-compulsory_isolation")),
                "no caller allowed");
}

TEST_F(ServicePeerGrpcTest, WithoutClientCertificatesTheKeyAloneStillCounts) {
  // TLS without client certificates has no verified peer to bind to: the binding
  // is not enforced and a service token is accepted as before (README, "TLS").
  ASSERT_NO_FATAL_FAILURE(
      Start(/*mutual=*/false, {false, DefaultServiceCallers("community_rehab")}));
  std::string subject;
  grpc::Status ok = Call("", Token(Role::kService, "svc-compulsory_isolation"), &subject);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(subject, "svc-compulsory_isolation");
}

TEST_F(ServicePeerGrpcTest, EnforcedWithoutAVerifiedPeerRefusesServiceTokens) {
  // Fails closed: a binding enforced on a port that asks for no certificate
  // (a misconfiguration) sees no peer and accepts no service token.
  ASSERT_NO_FATAL_FAILURE(
      Start(/*mutual=*/false, {true, DefaultServiceCallers("community_rehab")}));
  ExpectRefused(Call("", Token(Role::kService, "svc-compulsory_isolation")), "no peer");
}

}  // namespace
}  // namespace pathway
