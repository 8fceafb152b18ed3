// The community detox service over real gRPC (in process, loopback TCP) with a real
// store and an in-memory status cache: GetProgramStatus with seeded records,
// jurisdiction hiding, auditing and the access log.
#include "services/community_detox/community_detox_service.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/audit/audit_log.h"
#include "common/auth/token.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/client/bearer_context.h"
#include "common/log/log.h"
#include "common/program_status/program_status.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "common/registry_client/registry_client.h"
#include "gtest/gtest.h"
#include "services/community_detox/community_detox_server.h"

namespace pathway {
namespace detox {
namespace {

constexpr char kKey[] = "detox-service-test-key-0123456789abcdefghij";
constexpr char kCaseInGuiyang[] = "520102-2026-0000042-2";
constexpr char kCaseInKunming[] = "530102-2026-0000007-X";

class CommunityDetoxServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::SetSinkForTesting([this](absl::string_view line) {
      absl::MutexLock lock(&log_mu_);
      log_.emplace_back(line);
    });
    CommunityDetoxServer::Options o;
    o.server.service_name = "community_detox";
    o.server.port = 0;
    o.server.data_dir = dir_.path();
    o.server.database = TestDatabaseUriOrDie("community_detox");
    o.server.token_key_file = dir_.path() + "/key";
    o.server.tls.plaintext = true;  // a test server on loopback
    std::ofstream(o.server.token_key_file) << kKey;
    RuntimeOverrides overrides;
    overrides.cache = std::make_unique<InMemoryStatusCache>();
    // The registry decides who sees a case (DESIGN.md §6): both cases live where they
    // are executed.
    auto registry = std::make_unique<FakeRegistryClient>();
    for (const auto& [id, division] : {std::pair<std::string, std::string>{kCaseInGuiyang, "520102"},
                                       {kCaseInKunming, "530102"}}) {
      registry::v1::CaseFacts facts;
      facts.set_case_id(id);
      facts.set_household_division(division);
      facts.set_residence_division(division);
      registry->AddCase(facts);
    }
    overrides.registry = std::move(registry);
    o.handoffs.background = false;  // registry events stay in the outbox: no peer here
    auto server = CommunityDetoxServer::Start(o, std::move(overrides));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::CommunityDetox::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
    Seed(kCaseInGuiyang, "520102");
    Seed(kCaseInKunming, "530102");
  }

  void TearDown() override {
    server_->Shutdown();
    log::SetSinkForTesting(nullptr);
  }

  void Seed(const std::string& case_id, const std::string& division) {
    ProgramStatusRecord r;
    r.case_id = case_id;
    r.division = division;
    r.state = "AWAITING_REPORT";
    r.began = absl::CivilDay(2026, 3, 1);
    r.deadline_kind = "REPORT";
    r.deadline = absl::CivilDay(2026, 3, 16);
    ServiceRuntime& rt = server_->runtime();
    ASSERT_TRUE(rt.store()
                    .Write([&](Transaction& tx) { return SaveProgramStatus(tx, rt.clock().Now(), &r); })
                    .ok());
    PublishProgramStatus(rt.cache(), Programme::kCommunityDetox, r);
  }

  std::string Token(Role role, const std::string& jurisdiction, const std::string& subject,
                    const std::string& organization = "") {
    Claims c;
    c.organization = organization;
    c.subject = subject;
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.issued_at = absl::Now();
    c.expires_at = absl::Now() + absl::Hours(1);
    return *(*TokenSigner::Create(kKey))->Sign(c);
  }

  grpc::Status Get(const std::string& token, const std::string& case_id,
                   common::v1::ProgramStatus* out) {
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, token, absl::Seconds(10));
    common::v1::GetProgramStatusRequest req;
    req.set_case_id(case_id);
    return stub_->GetProgramStatus(&ctx, req, out);
  }

  std::vector<std::string> Log() {
    absl::MutexLock lock(&log_mu_);
    return log_;
  }

  ScopedTempDir dir_;
  std::unique_ptr<CommunityDetoxServer> server_;
  std::unique_ptr<v1::CommunityDetox::Stub> stub_;
  absl::Mutex log_mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(log_mu_);
};

TEST_F(CommunityDetoxServiceTest, ReturnsTheStoredStatusInJurisdiction) {
  common::v1::ProgramStatus st;
  grpc::Status s = Get(Token(Role::kCaseworker, "5201", "cw-1"), kCaseInGuiyang, &st);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(st.case_id(), kCaseInGuiyang);
  EXPECT_EQ(st.program(), common::v1::PROGRAM_COMMUNITY_DETOX);
  EXPECT_EQ(st.state(), "AWAITING_REPORT");
  EXPECT_EQ(st.version(), 1);
  EXPECT_EQ(st.next_deadline().kind(), "REPORT");
  EXPECT_EQ(st.next_deadline().due().day(), 16);

  auto cached = server_->runtime().cache().Get(kCaseInGuiyang);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->at(Programme::kCommunityDetox).version, 1);
}

TEST_F(CommunityDetoxServiceTest, OutOfJurisdictionLooksExactlyLikeMissing) {
  std::string guiyang = Token(Role::kPolice, "5201", "police-1");
  common::v1::ProgramStatus st;
  grpc::Status outside = Get(guiyang, kCaseInKunming, &st);
  grpc::Status missing = Get(guiyang, "520102-2026-0000043-0", &st);
  EXPECT_EQ(outside.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(outside.error_message(), missing.error_message());
  // A national token sees both.
  EXPECT_TRUE(Get(Token(Role::kAuditor, "*", "audit-1"), kCaseInKunming, &st).ok());
}

TEST_F(CommunityDetoxServiceTest, BadInputAndRolesGetTheRightCodes) {
  common::v1::ProgramStatus st;
  std::string cw = Token(Role::kCaseworker, "520102", "cw-1");
  EXPECT_EQ(Get(cw, "520102-2026-0000042-X", &st).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Get(cw, "", &st).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Employers and labor bureaus never see programme detail (禁毒法 Art 52, 70).
  EXPECT_EQ(Get(Token(Role::kEmployer, "520102", "emp-1", "91520102MA6DQ0000X"), kCaseInGuiyang,
                &st)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(Token(Role::kLaborBureau, "52", "lb-1"), kCaseInGuiyang, &st).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CommunityDetoxServiceTest, EveryReadIsAuditedAndLoggedWithoutTheCase) {
  common::v1::ProgramStatus st;
  ASSERT_TRUE(Get(Token(Role::kCaseworker, "520102", "cw-9"), kCaseInGuiyang, &st).ok());
  EXPECT_FALSE(Get(Token(Role::kCaseworker, "520102", "cw-9"), kCaseInKunming, &st).ok());

  ServiceRuntime& rt = server_->runtime();
  ASSERT_TRUE(rt.read_audit().Flush().ok());
  AuditFilter f;
  f.subject = "cw-9";
  auto rows = ListAudit(rt.store(), f);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].entry.case_id, kCaseInGuiyang);
  EXPECT_EQ((*rows)[0].entry.outcome, "OK");
  EXPECT_EQ((*rows)[0].entry.action, "GetProgramStatus");
  EXPECT_EQ((*rows)[1].entry.outcome, "NOT_FOUND");
  EXPECT_EQ((*rows)[1].entry.case_id, "") << "an unseen case is not recorded as seen";

  server_->Shutdown();  // the access-log line is written before the status is sent
  int rpc_lines = 0;
  for (const std::string& line : Log()) {
    EXPECT_FALSE(absl::StrContains(line, "0000042")) << line;
    if (absl::StrContains(line, "event=rpc") && absl::StrContains(line, "caller=cw-9")) {
      ++rpc_lines;
      EXPECT_TRUE(absl::StrContains(line, "method=/pathway.detox.v1.CommunityDetox/GetProgramStatus"))
          << line;
    }
  }
  EXPECT_EQ(rpc_lines, 2);
}

}  // namespace
}  // namespace detox
}  // namespace pathway
