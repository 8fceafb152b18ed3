// SyncCases and the offline writes' expected_version over real gRPC (loopback) and a
// real database (SQLite file, or PostgreSQL when the run asks), on a fake clock: a
// copy synced from empty and resumed, a transfer out arriving as a removal, the
// resync and invalid-cursor codes, stale writes refused with nothing written, and a
// write for a case out of scope answered as for a missing case.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/client/bearer_context.h"
#include "common/clock/clock.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/registry/case_sync.h"
#include "services/registry/registry_server.h"
#include "tests/testing/fixtures.h"

namespace pathway {
namespace registry {
namespace {

constexpr char kTokenKey[] = "case-sync-service-test-token-key-0123456789";
constexpr char kPiiKey[] = "case-sync-service-test-pii-key-0123456789ab";

// Answers every programme as "no record": the status view needs a source.
class NoRecords final : public ProgramStatusSource {
 public:
  void Fetch(Programme, const std::string&, Done done) override {
    done(absl::NotFoundError("no record"));
  }
};

class CaseSyncServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() + "/token.key") << kTokenKey;
    std::ofstream(dir_.path() + "/pii.key") << kPiiKey;
    RegistryServer::Options o;
    o.server.service_name = "registry";
    o.server.data_dir = dir_.path();
    o.server.database = TestDatabaseUriOrDie("registry");
    o.server.token_key_file = dir_.path() + "/token.key";
    o.server.tls.plaintext = true;  // a test server on loopback
    o.server.drain_timeout = absl::Seconds(1);
    o.pii_key_file = dir_.path() + "/pii.key";
    RuntimeOverrides overrides;
    overrides.clock = &clock_;
    overrides.cache = std::make_unique<InMemoryStatusCache>();
    auto server = RegistryServer::Start(o, std::move(overrides), std::make_unique<NoRecords>());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::Registry::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::string Token(Role role, const std::string& jurisdiction, const std::string& subject) {
    return test::SignedToken(kTokenKey, role, jurisdiction, subject);
  }
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    PrepareBearerContext(ctx.get(), token, absl::Seconds(20));
    return ctx;
  }

  std::string Register(const std::string& county, int seq) {
    v1::RegisterPersonRequest r;
    r.set_resident_id_number(GenerateSyntheticResidentId(county, absl::CivilDay(1991, 8, 17), seq));
    r.set_name("测试人员");
    r.set_household_division(county);
    r.add_drug_types("heroin");
    r.set_route_of_use(v1::ROUTE_OF_USE_INJECTION);
    *r.mutable_found_on() = test::D(2026, 1, 10);
    v1::Case c;
    grpc::Status s =
        stub_->RegisterPerson(Ctx(Token(Role::kPolice, county, "police-1")).get(), r, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c.case_id();
  }

  grpc::Status Sync(const std::string& token, const std::string& cursor,
                    v1::SyncCasesResponse* out) {
    v1::SyncCasesRequest req;
    req.set_cursor(cursor);
    return stub_->SyncCases(Ctx(token).get(), req, out);
  }

  v1::Case Get(const std::string& token, const std::string& id) {
    v1::GetCaseRequest req;
    req.set_case_id(id);
    v1::Case c;
    EXPECT_TRUE(stub_->GetCase(Ctx(token).get(), req, &c).ok());
    return c;
  }

  ScopedTempDir dir_;
  FakeClock clock_{test::ChinaNoon(2026, 3, 2)};
  std::unique_ptr<RegistryServer> server_;
  std::unique_ptr<v1::Registry::Stub> stub_;
};

TEST_F(CaseSyncServiceTest, SyncsResumesAndTellsWhenToStartAgain) {
  const std::string cw = Token(Role::kCaseworker, "520102", "cw-1");
  const std::string a = Register("520102", 11), b = Register("520102", 13);
  const std::string elsewhere = Register("530102", 15);

  v1::SyncCasesResponse first;
  grpc::Status s = Sync(cw, "", &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(first.has_more());
  ASSERT_EQ(first.changes_size(), 2);
  EXPECT_EQ(first.changes(0).upsert().case_id(), a);
  EXPECT_EQ(first.changes(0).upsert().version(), 1);
  EXPECT_EQ(first.changes(1).upsert().case_id(), b);
  EXPECT_FALSE(first.changes(0).upsert().person().name().empty()) << "as GetCase shows it";

  // Nothing changed: an empty page.
  v1::SyncCasesResponse idle;
  ASSERT_TRUE(Sync(cw, first.next_cursor(), &idle).ok());
  EXPECT_EQ(idle.changes_size(), 0);

  // A grade change and a transfer out of the county.
  v1::SetRiskGradeRequest grade;
  grade.set_case_id(a);
  grade.set_risk_grade("high");
  grade.set_reason("review");
  grade.set_expected_version(1);
  v1::Case graded;
  ASSERT_TRUE(stub_->SetRiskGrade(Ctx(cw).get(), grade, &graded).ok());
  EXPECT_EQ(graded.version(), 2);
  v1::ChangeJurisdictionRequest move;
  move.set_case_id(b);
  move.set_new_household_division("530102");
  move.set_new_residence_division("530102");
  *move.mutable_effective_on() = test::D(2026, 3, 2);
  v1::Case moved;
  ASSERT_TRUE(
      stub_->ChangeJurisdiction(Ctx(Token(Role::kAdmin, "*", "admin-1")).get(), move, &moved).ok());
  v1::SyncCasesResponse next;
  ASSERT_TRUE(Sync(cw, idle.next_cursor(), &next).ok());
  ASSERT_EQ(next.changes_size(), 2);
  EXPECT_EQ(next.changes(0).upsert().case_id(), a);
  EXPECT_EQ(next.changes(0).upsert().version(), 2);
  EXPECT_EQ(next.changes(0).upsert().risk_grade(), "high");
  EXPECT_EQ(next.changes(1).removed_case_id(), b);
  for (const auto* page : {&first, &idle, &next}) {
    for (const v1::CaseChange& ch : page->changes()) {
      EXPECT_NE(ch.upsert().case_id(), elsewhere);
      EXPECT_NE(ch.removed_case_id(), elsewhere);
    }
  }

  // An altered cursor; the same user now working for another county; a cursor older
  // than the retention.
  std::string altered = next.next_cursor();
  altered[4] = altered[4] == 'x' ? 'y' : 'x';
  v1::SyncCasesResponse out;
  EXPECT_EQ(Sync(cw, altered, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = Sync(Token(Role::kCaseworker, "520103", "cw-1"), next.next_cursor(), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), kResyncRequired);
  clock_.Advance(absl::Hours(24 * 31));
  s = Sync(cw, next.next_cursor(), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), kResyncRequired);
  // Starting again from an empty copy works.
  ASSERT_TRUE(Sync(cw, "", &out).ok());
  ASSERT_EQ(out.changes_size(), 1);
  EXPECT_EQ(out.changes(0).upsert().case_id(), a);
}

TEST_F(CaseSyncServiceTest, StaleOfflineWritesAreAbortedAndWriteNothing) {
  const std::string cw = Token(Role::kCaseworker, "520102", "cw-1");
  const std::string police = Token(Role::kPolice, "520102", "police-1");
  const std::string id = Register("520102", 21);

  v1::SetRiskGradeRequest grade;
  grade.set_case_id(id);
  grade.set_risk_grade("low");
  grade.set_reason("offline review");
  grade.set_expected_version(1);
  v1::Case c;
  ASSERT_TRUE(stub_->SetRiskGrade(Ctx(cw).get(), grade, &c).ok());
  ASSERT_EQ(c.version(), 2);

  // Each write, based on version 1, now meets version 2.
  grade.set_risk_grade("high");
  grpc::Status s = stub_->SetRiskGrade(Ctx(cw).get(), grade, &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_NE(s.error_message().find("the case changed"), std::string::npos) << s.error_message();
  v1::SetStatusRequest status;
  status.set_case_id(id);
  status.set_control_status(v1::CONTROL_STATUS_LOST_CONTACT);
  *status.mutable_effective_on() = test::D(2026, 3, 1);
  status.set_expected_version(1);
  EXPECT_EQ(stub_->SetStatus(Ctx(cw).get(), status, &c).error_code(), grpc::StatusCode::ABORTED);
  v1::AssignCaseRequest assign;
  assign.set_case_id(id);
  assign.set_township("520102001");
  assign.set_reason("offline assignment");
  assign.set_expected_version(1);
  EXPECT_EQ(stub_->AssignCase(Ctx(cw).get(), assign, &c).error_code(), grpc::StatusCode::ABORTED);
  v1::ChangeJurisdictionRequest move;
  move.set_case_id(id);
  move.set_new_residence_division("520103");
  *move.mutable_effective_on() = test::D(2026, 3, 1);
  move.set_expected_version(1);
  EXPECT_EQ(stub_->ChangeJurisdiction(Ctx(police).get(), move, &c).error_code(),
            grpc::StatusCode::ABORTED);
  v1::Case now = Get(cw, id);
  EXPECT_EQ(now.version(), 2) << "nothing was written";
  EXPECT_EQ(now.risk_grade(), "low");
  EXPECT_EQ(now.control_status(), v1::CONTROL_STATUS_IN_CONTROL);
  EXPECT_TRUE(now.township().empty());
  EXPECT_EQ(now.residence_division(), "520102");

  // Based on the current version, they go through.
  status.set_expected_version(2);
  ASSERT_TRUE(stub_->SetStatus(Ctx(cw).get(), status, &c).ok());
  EXPECT_EQ(c.version(), 3);
  assign.set_expected_version(3);
  ASSERT_TRUE(stub_->AssignCase(Ctx(cw).get(), assign, &c).ok());
  EXPECT_EQ(c.version(), 4);
  grade.set_expected_version(-1);
  EXPECT_EQ(stub_->SetRiskGrade(Ctx(cw).get(), grade, &c).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Once the case left the caller's county, a write (stale or not) answers exactly as
  // for a case that does not exist.
  move.set_new_household_division("530102");
  move.set_new_residence_division("530102");
  move.set_expected_version(4);
  ASSERT_TRUE(
      stub_->ChangeJurisdiction(Ctx(Token(Role::kAdmin, "*", "admin-1")).get(), move, &c).ok());
  grade.set_expected_version(4);
  grpc::Status gone = stub_->SetRiskGrade(Ctx(cw).get(), grade, &c);
  grade.set_case_id(CaseId::Mint("520102", 2026, 9999)->ToString());
  grpc::Status missing = stub_->SetRiskGrade(Ctx(cw).get(), grade, &c);
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(gone.error_code(), missing.error_code());
  EXPECT_EQ(gone.error_message(), missing.error_message());
}

}  // namespace
}  // namespace registry
}  // namespace pathway
