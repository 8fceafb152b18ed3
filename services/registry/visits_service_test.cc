// RecordVisit and ListVisits over real gRPC (loopback TCP) on a real database (a
// SQLite file, or PostgreSQL when the run asks): an idempotent retry, who is refused,
// out of scope answered as absent, and the audit and logs free of the notes.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/audit/audit_log.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/client/bearer_context.h"
#include "common/codec/proto_date.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/log/log.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/registry/registry_server.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/service_database.h"

namespace pathway {
namespace registry {
namespace {

constexpr char kTokenKey[] = "visits-service-test-token-key-0123456789ab";
constexpr char kPiiKey[] = "visits-service-test-pii-key-0123456789abcd";
constexpr char kNotes[] = "测试谈话：合成对象近况良好，已联系社区就业岗位。";
constexpr char kPlace[] = "测试街道办事处";

class VisitsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::SetSinkForTesting([this](absl::string_view line) {
      absl::MutexLock lock(&log_mu_);
      log_.emplace_back(line);
    });
    std::ofstream(dir_.path() + "/token.key") << kTokenKey;
    std::ofstream(dir_.path() + "/pii.key") << kPiiKey;
    RegistryServer::Options r;
    r.server.service_name = "registry";
    r.server.data_dir = dir_.path();
    r.server.database = database_;
    r.server.token_key_file = dir_.path() + "/token.key";
    r.server.tls.plaintext = true;  // a test server on loopback
    r.server.drain_timeout = absl::Seconds(1);
    // The status view is not asked here: its peers are never dialled.
    r.server.detox_address = r.server.isolation_address = r.server.rehab_address =
        r.server.placement_address = "127.0.0.1:1";
    r.pii_key_file = dir_.path() + "/pii.key";
    RuntimeOverrides overrides;
    overrides.cache = std::make_unique<InMemoryStatusCache>();
    auto server = RegistryServer::Start(r, std::move(overrides));
    ASSERT_TRUE(server.ok()) << server.status();
    registry_ = *std::move(server);
    stub_ = v1::Registry::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", registry_->port()),
                                                      grpc::InsecureChannelCredentials()));

    // A case of county 520102, found today.
    v1::RegisterPersonRequest p;
    p.set_resident_id_number(GenerateSyntheticResidentId("520102", absl::CivilDay(1992, 5, 9), 31));
    p.set_name("测试人员");
    p.set_household_division("520102");
    p.add_drug_types("heroin");
    p.set_route_of_use(v1::ROUTE_OF_USE_INJECTION);
    ToProtoDate(Today(), p.mutable_found_on());
    v1::Case c;
    grpc::Status s = stub_->RegisterPerson(Ctx(cw_).get(), p, &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
    case_id_ = c.case_id();
  }

  void TearDown() override {
    if (registry_) registry_->Shutdown();
    log::SetSinkForTesting(nullptr);
  }

  static absl::CivilDay Today() {
    return absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));
  }

  std::string Token(Role role, const std::string& jurisdiction, const std::string& subject) {
    // An employer token names its organisation (a synthetic credit code).
    const std::string org = role == Role::kEmployer ? "91520102MA6DQ0000X" : "";
    return test::SignedToken(kTokenKey, role, jurisdiction, subject,
                             absl::FromCivil(absl::CivilDay(2025, 1, 1), absl::UTCTimeZone()),
                             absl::FromCivil(absl::CivilDay(2035, 1, 1), absl::UTCTimeZone()), org);
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, const std::string& key = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    PrepareBearerContext(ctx.get(), token, absl::Seconds(20));
    if (!key.empty()) ctx->AddMetadata("idempotency-key", key);
    return ctx;
  }

  v1::RecordVisitRequest Visit(const std::string& case_id) {
    v1::RecordVisitRequest r;
    r.set_case_id(case_id);
    ToProtoDate(Today(), r.mutable_visited_on());
    r.set_kind(v1::VISIT_KIND_TALK);
    r.set_place(kPlace);
    r.set_notes(kNotes);
    ToProtoDate(Today() + 14, r.mutable_next_visit_on());
    return r;
  }

  grpc::Status List(const std::string& token, const std::string& case_id,
                    v1::ListVisitsResponse* out) {
    v1::ListVisitsRequest r;
    r.set_case_id(case_id);
    return stub_->ListVisits(Ctx(token).get(), r, out);
  }

  std::vector<std::string> Log() {
    absl::MutexLock lock(&log_mu_);
    return log_;
  }

  ScopedTempDir dir_;
  const std::string database_ = TestDatabaseUriOrDie("registry");
  std::unique_ptr<RegistryServer> registry_;
  std::unique_ptr<v1::Registry::Stub> stub_;
  std::string case_id_;
  const std::string cw_ = Token(Role::kCaseworker, "520102", "cw-1");
  absl::Mutex log_mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(log_mu_);
};

TEST_F(VisitsServiceTest, RetryWithTheSameKeyAnswersTheFirstAndWritesOnce) {
  v1::Visit first, retry;
  grpc::Status s = stub_->RecordVisit(Ctx(cw_, "visit-key-1").get(), Visit(case_id_), &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(first.visit_id(), 1);
  EXPECT_TRUE(first.text_withheld());
  s = stub_->RecordVisit(Ctx(cw_, "visit-key-1").get(), Visit(case_id_), &retry);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(retry.SerializeAsString(), first.SerializeAsString());

  v1::ListVisitsResponse listed;
  ASSERT_TRUE(List(cw_, case_id_, &listed).ok());
  EXPECT_EQ(listed.page().total_size(), 1);
  ASSERT_EQ(listed.visits_size(), 1);
  EXPECT_EQ(listed.visits(0).notes(), kNotes);
  EXPECT_EQ(listed.visits(0).place(), kPlace);
  EXPECT_EQ(DayOf(listed.visits(0).next_visit_on()), Today() + 14);

  // Another request under the same key is refused and writes nothing.
  v1::RecordVisitRequest other = Visit(case_id_);
  other.set_kind(v1::VISIT_KIND_HOME_VISIT);
  v1::Visit refused;
  s = stub_->RecordVisit(Ctx(cw_, "visit-key-1").get(), other, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  ASSERT_TRUE(List(cw_, case_id_, &listed).ok());
  EXPECT_EQ(listed.page().total_size(), 1);
  // Without a key, a second send is a second entry.
  ASSERT_TRUE(stub_->RecordVisit(Ctx(cw_).get(), other, &refused).ok());
  ASSERT_TRUE(List(cw_, case_id_, &listed).ok());
  EXPECT_EQ(listed.page().total_size(), 2);
}

TEST_F(VisitsServiceTest, RolesAndScope) {
  v1::Visit v;
  for (Role role : {Role::kFacilityStaff, Role::kLaborBureau, Role::kEmployer, Role::kBatch}) {
    const std::string t = Token(role, "520102", "someone");
    EXPECT_EQ(stub_->RecordVisit(Ctx(t).get(), Visit(case_id_), &v).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::ListVisitsResponse out;
    EXPECT_EQ(List(t, case_id_, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // Another county's caseworker: the same answer as a case never issued.
  const std::string outsider = Token(Role::kCaseworker, "530102", "cw-2");
  const std::string missing = CaseId::Mint("520102", 2026, 9999)->ToString();
  grpc::Status w_out = stub_->RecordVisit(Ctx(outsider).get(), Visit(case_id_), &v);
  grpc::Status w_missing = stub_->RecordVisit(Ctx(cw_).get(), Visit(missing), &v);
  EXPECT_EQ(w_out.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(w_out.error_code(), w_missing.error_code());
  EXPECT_EQ(w_out.error_message(), w_missing.error_message());
  v1::ListVisitsResponse out;
  grpc::Status r_out = List(outsider, case_id_, &out);
  grpc::Status r_missing = List(cw_, missing, &out);
  EXPECT_EQ(r_out.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(r_out.error_message(), r_missing.error_message());

  // A kept reply is bound to the authority it was given under: the same user on
  // another county's token does not get it.
  ASSERT_TRUE(stub_->RecordVisit(Ctx(cw_, "visit-key-2").get(), Visit(case_id_), &v).ok());
  v.Clear();
  grpc::Status replay = stub_->RecordVisit(
      Ctx(Token(Role::kCaseworker, "530102", "cw-1"), "visit-key-2").get(), Visit(case_id_), &v);
  EXPECT_EQ(replay.error_code(), grpc::StatusCode::ALREADY_EXISTS) << replay.error_message();
  EXPECT_TRUE(v.case_id().empty());

  // A repeat is answered only while the case is still the caller's to see: once the
  // case moves to another township, the township caseworker's retry is NOT_FOUND.
  const std::string township_cw = Token(Role::kCaseworker, "520102003", "cw-town");
  v1::AssignCaseRequest assign;
  assign.set_case_id(case_id_);
  assign.set_township("520102003");
  assign.set_reason("测试分派");
  v1::Case c;
  ASSERT_TRUE(stub_->AssignCase(Ctx(cw_).get(), assign, &c).ok());
  ASSERT_TRUE(stub_->RecordVisit(Ctx(township_cw, "visit-key-4").get(), Visit(case_id_), &v).ok());
  assign.set_township("520102004");
  ASSERT_TRUE(stub_->AssignCase(Ctx(cw_).get(), assign, &c).ok());
  v.Clear();
  grpc::Status gone =
      stub_->RecordVisit(Ctx(township_cw, "visit-key-4").get(), Visit(case_id_), &v);
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(gone.error_message(), w_missing.error_message());
  EXPECT_TRUE(v.case_id().empty());
}

TEST_F(VisitsServiceTest, AuditedWithoutTheTextAndNothingInTheClear) {
  v1::Visit v;
  ASSERT_TRUE(stub_->RecordVisit(Ctx(cw_, "visit-key-3").get(), Visit(case_id_), &v).ok());
  v1::RecordVisitRequest bad = Visit(case_id_);
  bad.set_notes(std::string(kNotes) + "\x01");
  grpc::Status refused = stub_->RecordVisit(Ctx(cw_).get(), bad, &v);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(absl::StrContains(refused.error_message(), "测试"));
  v1::ListVisitsResponse out;
  ASSERT_TRUE(List(Token(Role::kAuditor, "52", "auditor-1"), case_id_, &out).ok());
  ASSERT_EQ(out.visits_size(), 1);
  EXPECT_EQ(out.visits(0).notes(), kNotes);

  ServiceRuntime& rt = registry_->runtime();
  ASSERT_TRUE(rt.read_audit().Flush().ok());
  auto rows = ListAudit(rt.store(), AuditFilter{case_id_, "", 0, 100});
  ASSERT_TRUE(rows.ok()) << rows.status();
  int recorded = 0, listed = 0;
  for (const AuditRow& row : *rows) {
    if (absl::EndsWith(row.entry.action, "/RecordVisit") && row.entry.outcome == "OK") ++recorded;
    if (absl::EndsWith(row.entry.action, "/ListVisits") && row.entry.outcome == "OK") ++listed;
  }
  EXPECT_EQ(recorded, 1);
  EXPECT_EQ(listed, 1);

  registry_->Shutdown();
  absl::StatusOr<test::ServiceDatabase> db =
      test::OpenServiceDatabase(database_, dir_.path() + "/registry.db");
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<std::string> values = test::AllStoredValues(*db->store, db->location.engine);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_NE(values->find(case_id_), std::string::npos) << "the scan reads the tables";
  std::string files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (const std::string& text : {std::string(kNotes), std::string(kPlace)}) {
    EXPECT_EQ(values->find(text), std::string::npos) << "in a table";
    EXPECT_EQ(files.find(text), std::string::npos) << "in a file";
    for (const std::string& line : Log()) EXPECT_FALSE(absl::StrContains(line, text)) << line;
  }
}

}  // namespace
}  // namespace registry
}  // namespace pathway
