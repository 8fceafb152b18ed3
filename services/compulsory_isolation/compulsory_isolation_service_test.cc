// The compulsory isolation service over real gRPC (in process, loopback TCP, port 0)
// with a real store, a FakeClock, a FakeRegistryClient and an in-memory status
// cache: the "Done when" walk from decision to release, the pregnant-woman
// guard, roles, jurisdiction hiding, idempotent replay and auditing.
#include "services/compulsory_isolation/compulsory_isolation_service.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/audit/audit_log.h"
#include "common/auth/token.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/client/bearer_context.h"
#include "common/clock/clock.h"
#include "common/ids/case_id.h"
#include "common/outbox/testing_deliverer.h"
#include "common/program_status/program_status.h"
#include "common/registry_client/registry_client.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "pathway/detox/v1/detox.pb.h"
#include "pathway/rehab/v1/rehab.pb.h"
#include "services/compulsory_isolation/compulsory_isolation_server.h"
#include "tests/testing/fixtures.h"

namespace pathway {
namespace isolation {
namespace {

constexpr char kKey[] = "isolation-service-test-key-0123456789abcdef";

absl::Time NoonChina(int y, int m, int d) { return test::ChinaNoon(y, m, d); }

common::v1::Date Date(int y, int m, int d) { return test::D(y, m, d); }

// Who calls; the token is signed at call time against the fake clock, which the
// walk moves years ahead.
struct Who {
  Role role;
  std::string jurisdiction;
  std::string subject;
};

class CompulsoryIsolationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CompulsoryIsolationServer::Options o;
    o.server.service_name = "compulsory_isolation";
    o.server.port = 0;
    o.server.data_dir = dir_.path();
    o.server.database = TestDatabaseUriOrDie("compulsory_isolation");
    o.server.token_key_file = dir_.path() + "/key";
    o.server.tls.plaintext = true;  // a test server on loopback
    std::ofstream(o.server.token_key_file) << kKey;
    o.isolation.facilities = {
        {"gy-police", v1::FACILITY_KIND_POLICE, "520102", "Guiyang police facility"},
        {"gz-judicial", v1::FACILITY_KIND_JUDICIAL, "520113", "Guizhou judicial facility"}};
    RuntimeOverrides overrides;
    overrides.clock = &clock_;
    overrides.cache = std::make_unique<InMemoryStatusCache>();
    auto registry = std::make_unique<FakeRegistryClient>();
    registry_ = registry.get();
    overrides.registry = std::move(registry);
    // Hand-offs are delivered when the test says so (Dispatch), registry events to
    // the fake registry.
    deliverer_ = std::make_unique<TestingDeliverer>(registry_);
    o.handoffs.deliverer = deliverer_.get();
    o.handoffs.background = false;
    auto rehab = std::make_unique<FakeRehabStatusClient>();
    rehab_ = rehab.get();
    auto server = CompulsoryIsolationServer::Start(o, std::move(overrides), std::move(rehab));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::CompulsoryIsolation::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
    case_ = CaseId::Mint("520102", 2026, 42)->ToString();
    pregnant_case_ = CaseId::Mint("520102", 2026, 43)->ToString();
    AddCase(case_, 1995);
    AddCase(pregnant_case_, 1998);
    police_ = Token(Role::kPolice, "520102", "police-1");
    staff_ = Token(Role::kFacilityStaff, "52", "staff-1");
  }

  void TearDown() override { server_->Shutdown(); }

  void AddCase(const std::string& id, int birth_year) {
    registry::v1::CaseFacts f;
    f.set_case_id(id);
    f.set_household_division("520102");
    f.set_residence_division("520102");
    *f.mutable_birth_date() = Date(birth_year, 6, 1);
    f.set_sex(registry::v1::Person::SEX_FEMALE);
    registry_->AddCase(f);
  }

  static Who Token(Role role, const std::string& jurisdiction, const std::string& subject) {
    return Who{role, jurisdiction, subject};
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const Who& who,
                                           const std::string& idempotency_key = "") {
    Claims c;
    c.subject = who.subject;
    c.role = who.role;
    c.jurisdiction = who.jurisdiction;
    c.issued_at = clock_.Now();
    c.expires_at = clock_.Now() + absl::Hours(1);
    std::string token = *(*TokenSigner::Create(kKey))->Sign(c);
    auto ctx = std::make_unique<grpc::ClientContext>();
    PrepareBearerContext(ctx.get(), token, absl::Seconds(10));
    if (!idempotency_key.empty()) ctx->AddMetadata("idempotency-key", idempotency_key);
    return ctx;
  }

  void Today(int y, int m, int d) { clock_.Set(NoonChina(y, m, d)); }

  // Runs the outbox dispatcher once; returns how many hand-offs were acknowledged.
  int Dispatch() {
    absl::StatusOr<int> n = server_->handoffs().dispatcher().RunOnce();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  // The registry's fallback view of this programme, as a city-level caseworker sees it
  // (the record's division follows the facility holding the person).
  std::string Status() {
    common::v1::GetProgramStatusRequest req;
    req.set_case_id(case_);
    common::v1::ProgramStatus st;
    grpc::Status s =
        stub_->GetProgramStatus(Ctx(Token(Role::kCaseworker, "5201", "cw-1")).get(), req, &st);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return st.state();
  }

  v1::DecideRequest DecideReq(const std::string& id, int y, int m, int d) {
    v1::DecideRequest r;
    r.set_case_id(id);
    r.set_decision_number("筑公强戒决字[2026]042号");
    r.set_deciding_division("520102");
    *r.mutable_decided_on() = Date(y, m, d);
    *r.mutable_served_on() = Date(y, m, d);
    r.set_ground(v1::GROUND_DRUG_USE_DURING_COMMUNITY_MEASURE);
    return r;
  }

  grpc::Status Assess(v1::AssessmentKind kind, const common::v1::Date& on, v1::Decision* out) {
    v1::RecordAssessmentRequest r;
    r.set_case_id(case_);
    r.set_kind(kind);
    *r.mutable_assessed_on() = on;
    r.set_physiological_detox(v1::GRADE_PASS);
    r.set_physical_mental_recovery(v1::GRADE_PASS);
    r.set_behaviour(v1::GRADE_PASS);
    r.set_social_adaptability(v1::ADAPTABILITY_GOOD);
    return stub_->RecordAssessment(Ctx(staff_).get(), r, out);
  }

  FakeClock clock_{NoonChina(2026, 3, 15)};
  ScopedTempDir dir_;
  FakeRegistryClient* registry_ = nullptr;  // owned by the server's runtime
  FakeRehabStatusClient* rehab_ = nullptr;   // owned by the server
  std::unique_ptr<TestingDeliverer> deliverer_;  // outlives the server
  std::unique_ptr<CompulsoryIsolationServer> server_;
  std::unique_ptr<v1::CompulsoryIsolation::Stub> stub_;
  std::string case_, pregnant_case_;
  Who police_, staff_;
};

// 戒毒条例 Art 38(2): the decision asks the rehabilitation service whether SK was
// running; without an answer nothing is recorded (UNAVAILABLE: retry), with one the
// fact is kept and bars early release whatever the ground.
TEST_F(CompulsoryIsolationServiceTest, DecisionLearnsWhetherCommunityRehabWasRunning) {
  rehab_->SetUnavailable(true);
  v1::Decision d;
  grpc::Status s = stub_->Decide(Ctx(police_).get(), DecideReq(case_, 2026, 3, 15), &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(Dispatch(), 0) << "nothing was recorded";

  rehab_->SetUnavailable(false);
  common::v1::ProgramStatus sk;
  sk.set_case_id(case_);
  sk.set_program(common::v1::PROGRAM_COMMUNITY_REHAB);
  sk.set_state("ACTIVE");
  *sk.mutable_began() = Date(2026, 1, 20);
  rehab_->SetStatus(sk);
  s = stub_->Decide(Ctx(police_).get(), DecideReq(case_, 2026, 3, 15), &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(d.ground(), v1::GROUND_DRUG_USE_DURING_COMMUNITY_MEASURE);
  EXPECT_TRUE(d.community_rehab_running_at_decision());
  EXPECT_TRUE(d.early_release_barred());
  EXPECT_TRUE(absl::StrContains(d.early_release_bar_reason(), "戒毒条例 Art 38"))
      << d.early_release_bar_reason();
}

TEST_F(CompulsoryIsolationServiceTest, PregnantWomanGuardRefusesTheDecision) {
  v1::DecideRequest r = DecideReq(pregnant_case_, 2026, 3, 15);
  r.set_pregnant(true);
  v1::Decision d;
  grpc::Status s = stub_->Decide(Ctx(police_).get(), r, &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "pregnant")) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "禁毒法 Art 39")) << s.error_message();
  r.set_pregnant(false);
  *r.mutable_nursing_infant_birth_date() = Date(2025, 9, 1);
  s = stub_->Decide(Ctx(police_).get(), r, &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "nursing")) << s.error_message();
  EXPECT_EQ(Dispatch(), 0) << "a refused decision leaves no hand-off";
  EXPECT_TRUE(registry_->events().empty());
  common::v1::GetProgramStatusRequest req;
  req.set_case_id(pregnant_case_);
  common::v1::ProgramStatus st;
  EXPECT_EQ(stub_->GetProgramStatus(Ctx(police_).get(), req, &st).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(CompulsoryIsolationServiceTest, RegistryGatesTheCaseAndRolesAreChecked) {
  v1::Decision d;
  std::string unknown = CaseId::Mint("520102", 2026, 99)->ToString();
  EXPECT_EQ(stub_->Decide(Ctx(police_).get(), DecideReq(unknown, 2026, 3, 15), &d).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(stub_->Decide(Ctx(staff_).get(), DecideReq(case_, 2026, 3, 15), &d).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "only police decide";
  registry_->SetUnavailable(true);
  EXPECT_EQ(stub_->Decide(Ctx(police_).get(), DecideReq(case_, 2026, 3, 15), &d).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  registry_->SetUnavailable(false);
  Who kunming_police = Token(Role::kPolice, "530102", "police-km");
  EXPECT_EQ(
      stub_->Decide(Ctx(kunming_police).get(), DecideReq(case_, 2026, 3, 15), &d).error_code(),
      grpc::StatusCode::NOT_FOUND)
      << "a case outside the caller's scope is answered as one never issued";
  ASSERT_TRUE(stub_->Decide(Ctx(police_).get(), DecideReq(case_, 2026, 3, 15), &d).ok());
  EXPECT_EQ(stub_->Decide(Ctx(police_).get(), DecideReq(case_, 2026, 3, 15), &d).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  // Outside the jurisdiction looks exactly like missing.
  v1::GetDecisionRequest g;
  g.set_case_id(case_);
  grpc::Status outside = stub_->GetDecision(Ctx(kunming_police).get(), g, &d);
  g.set_case_id(unknown);
  grpc::Status missing = stub_->GetDecision(Ctx(police_).get(), g, &d);
  EXPECT_EQ(outside.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(outside.error_message(), missing.error_message());
  EXPECT_EQ(stub_->GetDecision(Ctx(Token(Role::kLaborBureau, "52", "lb-1")).get(), g, &d).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CompulsoryIsolationServiceTest, DecisionWalksThroughToRelease) {
  v1::Decision d;
  // 15 Mar 2026: the decision.
  ASSERT_TRUE(stub_->Decide(Ctx(police_).get(), DecideReq(case_, 2026, 3, 15), &d).ok());
  EXPECT_EQ(d.state(), v1::STATE_DECIDED);
  EXPECT_EQ(d.term_last_day().year(), 2028);
  EXPECT_EQ(d.next_deadline().kind(), "NOTICE_FAMILY");
  EXPECT_EQ(Status(), "DECIDED");
  // Nothing is sent before the dispatcher runs; the outbox holds it.
  EXPECT_TRUE(registry_->events().empty());
  EXPECT_EQ(Dispatch(), 4);
  ASSERT_EQ(registry_->events().size(), 1u);
  EXPECT_EQ(registry_->events()[0].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
  EXPECT_EQ(registry_->events()[0].program(), common::v1::PROGRAM_COMPULSORY_ISOLATION);
  EXPECT_EQ(registry_->events()[0].source_event_id(), absl::StrCat("qz-", d.decision_id(), "-started"));
  // 禁毒法 Art 38: the decision closes an open SD or SK order; both are asked.
  std::vector<OutboxMessage> handoffs = deliverer_->handoffs();
  ASSERT_EQ(handoffs.size(), 3u);
  EXPECT_EQ(handoffs[2].method, "/pathway.placement.v1.Placement/SuspendSeeker");
  EXPECT_EQ(handoffs[0].target, "community_detox");
  EXPECT_EQ(handoffs[0].method, "/pathway.detox.v1.CommunityDetox/CloseForIsolation");
  EXPECT_EQ(handoffs[0].idempotency_key, absl::StrCat("qz:", d.decision_id(), ":close-sd"));
  detox::v1::CloseForIsolationRequest close_sd;
  ASSERT_TRUE(close_sd.ParseFromString(handoffs[0].payload));
  EXPECT_EQ(close_sd.case_id(), case_);
  EXPECT_EQ(close_sd.decision_number(), "筑公强戒决字[2026]042号");
  EXPECT_EQ(close_sd.decided_on().day(), 15);
  EXPECT_EQ(handoffs[1].target, "community_rehab");
  EXPECT_EQ(handoffs[1].method, "/pathway.rehab.v1.CommunityRehab/CloseForIsolation");
  EXPECT_EQ(handoffs[1].idempotency_key, absl::StrCat("qz:", d.decision_id(), ":close-sk"));
  EXPECT_EQ(Dispatch(), 0) << "acknowledged hand-offs are not sent again";

  for (v1::NoticeRecipient r : {v1::NOTICE_RECIPIENT_FAMILY, v1::NOTICE_RECIPIENT_EMPLOYER,
                                v1::NOTICE_RECIPIENT_HOUSEHOLD_POLICE_STATION}) {
    v1::RecordNoticeRequest n;
    n.set_case_id(case_);
    n.set_recipient(r);
    *n.mutable_notified_on() = Date(2026, 3, 15);
    ASSERT_TRUE(stub_->RecordNotice(Ctx(police_).get(), n, &d).ok());
  }

  // 16 Mar 2026: admission to the police facility.
  Today(2026, 3, 16);
  v1::AdmitRequest admit;
  admit.set_case_id(case_);
  admit.set_facility_id("gy-police");
  *admit.mutable_admitted_on() = Date(2026, 3, 16);
  EXPECT_EQ(stub_->Admit(Ctx(police_).get(), admit, &d).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "facility staff record execution";
  ASSERT_TRUE(stub_->Admit(Ctx(staff_).get(), admit, &d).ok());
  EXPECT_EQ(Status(), "IN_POLICE_FACILITY");
  ASSERT_TRUE(Assess(v1::ASSESSMENT_KIND_INTAKE, Date(2026, 3, 16), &d).ok());

  // Transfer: refused before 3 months in the police facility, accepted after.
  Today(2026, 6, 1);
  v1::TransferRequest transfer;
  transfer.set_case_id(case_);
  transfer.set_facility_id("gz-judicial");
  *transfer.mutable_transferred_on() = Date(2026, 6, 1);
  grpc::Status early = stub_->Transfer(Ctx(staff_).get(), transfer, &d);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(early.error_message(), "戒毒条例 Art 27")) << early.error_message();
  Today(2026, 6, 20);
  *transfer.mutable_transferred_on() = Date(2026, 6, 20);
  ASSERT_TRUE(stub_->Transfer(Ctx(staff_).get(), transfer, &d).ok());
  EXPECT_EQ(d.division(), "520113");
  EXPECT_EQ(Status(), "IN_JUDICIAL_FACILITY");

  // Assessments at a stage checkpoint and at one year.
  Today(2027, 3, 10);
  ASSERT_TRUE(Assess(v1::ASSESSMENT_KIND_STAGE, Date(2026, 9, 1), &d).ok());
  ASSERT_TRUE(Assess(v1::ASSESSMENT_KIND_ONE_YEAR, Date(2027, 3, 10), &d).ok());
  int64_t one_year = d.assessments(d.assessments_size() - 1).id();
  EXPECT_EQ(d.assessments_size(), 3);

  // What is due: early release becomes possible on 15 Mar 2027.
  v1::ListDueRequest due_req;
  v1::ListDueResponse due;
  ASSERT_TRUE(stub_->ListDue(Ctx(staff_).get(), due_req, &due).ok());
  bool eligible_listed = false;
  for (const v1::DueItem& item : due.items()) {
    if (item.kind() == "EARLY_RELEASE_ELIGIBLE") {
      eligible_listed = true;
      EXPECT_EQ(item.due().day(), 15);
      EXPECT_EQ(item.facility_id(), "gz-judicial");
    }
  }
  EXPECT_TRUE(eligible_listed);

  // 14 Mar 2027: one day short of one year served: refused (禁毒法 Art 47).
  Today(2027, 3, 14);
  v1::ProposeEarlyReleaseRequest propose;
  propose.set_case_id(case_);
  *propose.mutable_proposed_on() = Date(2027, 3, 14);
  *propose.mutable_release_on() = Date(2027, 3, 25);
  propose.set_assessment_id(one_year);
  grpc::Status refused = stub_->ProposeEarlyRelease(Ctx(staff_).get(), propose, &d);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "one year served"))
      << refused.error_message();

  // 15 Mar 2027: proposed; 18 Mar: approved by the deciding police.
  Today(2027, 3, 15);
  *propose.mutable_proposed_on() = Date(2027, 3, 15);
  ASSERT_TRUE(stub_->ProposeEarlyRelease(Ctx(staff_).get(), propose, &d).ok());
  ASSERT_EQ(d.proposals_size(), 1);
  EXPECT_EQ(d.next_deadline().kind(), "PROPOSAL_DECISION");
  Today(2027, 3, 18);
  v1::DecideProposalRequest approve;
  approve.set_case_id(case_);
  approve.set_proposal_id(d.proposals(0).id());
  approve.set_approve(true);
  *approve.mutable_decided_on() = Date(2027, 3, 18);
  approve.set_decision_number("筑公提解字[2027]007号");
  EXPECT_EQ(stub_->DecideProposal(Ctx(staff_).get(), approve, &d).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->DecideProposal(Ctx(police_).get(), approve, &d).ok());
  EXPECT_EQ(d.scheduled_release_on().day(), 25);
  EXPECT_TRUE(d.training_eligible()) << "less than a year of the term remains";
  EXPECT_EQ(d.next_deadline().kind(), "RELEASE_NOTICE");
  EXPECT_EQ(Status(), "IN_JUDICIAL_FACILITY_TRAINING_ELIGIBLE");

  // The notice to the deciding body 3 days before release (戒毒条例 Art 34).
  Today(2027, 3, 22);
  v1::RecordReleaseNoticeRequest notice;
  notice.set_case_id(case_);
  *notice.mutable_notified_on() = Date(2027, 3, 22);
  ASSERT_TRUE(stub_->RecordReleaseNotice(Ctx(staff_).get(), notice, &d).ok());

  // 25 Mar 2027: release, with community rehabilitation ordered for 3 years.
  Today(2027, 3, 25);
  v1::ReleaseRequest release;
  release.set_case_id(case_);
  *release.mutable_released_on() = Date(2027, 3, 25);
  release.set_release_certificate_number("黔司戒解证[2027]101号");
  release.mutable_community_rehab()->set_ordered(true);
  release.mutable_community_rehab()->set_term_months(36);
  release.mutable_community_rehab()->set_decision_number("筑公康字[2027]011号");
  v1::Decision released;
  ASSERT_TRUE(stub_->Release(Ctx(staff_, "release-1").get(), release, &released).ok());
  EXPECT_EQ(released.state(), v1::STATE_RELEASED);
  EXPECT_EQ(released.community_rehab().term_months(), 36);
  EXPECT_EQ(Status(), "RELEASED");
  EXPECT_EQ(Dispatch(), 4);
  ASSERT_EQ(registry_->events().size(), 3u);
  EXPECT_EQ(registry_->events()[1].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
  EXPECT_EQ(registry_->events()[1].program(), common::v1::PROGRAM_COMMUNITY_REHAB);
  EXPECT_EQ(registry_->events()[2].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_ENDED);
  EXPECT_EQ(registry_->events()[2].occurred_on().day(), 25);
  // 禁毒法 Art 48: release with SK ordered opens it, the window counted from release.
  handoffs = deliverer_->handoffs();
  ASSERT_EQ(handoffs.size(), 5u);
  EXPECT_EQ(handoffs[3].method, "/pathway.rehab.v1.CommunityRehab/OpenFromRelease");
  EXPECT_EQ(handoffs[3].idempotency_key, absl::StrCat("qz:", d.decision_id(), ":open-sk"));
  EXPECT_EQ(handoffs[4].method, "/pathway.placement.v1.Placement/ResumeSeeker");
  rehab::v1::OpenFromReleaseRequest open_sk;
  ASSERT_TRUE(open_sk.ParseFromString(handoffs[3].payload));
  EXPECT_EQ(open_sk.case_id(), case_);
  EXPECT_EQ(open_sk.decision_number(), "筑公康字[2027]011号");
  EXPECT_EQ(open_sk.term_months(), 36);
  EXPECT_EQ(open_sk.released_on().day(), 25);
  EXPECT_EQ(open_sk.isolation_decision_id(), d.decision_id());

  // A retry with the same key replays the answer and changes nothing.
  v1::Decision replay;
  ASSERT_TRUE(stub_->Release(Ctx(staff_, "release-1").get(), release, &replay).ok());
  EXPECT_EQ(replay.SerializeAsString(), released.SerializeAsString());
  EXPECT_EQ(Dispatch(), 0) << "a replay enqueues nothing";
  EXPECT_EQ(registry_->events().size(), 3u);
  EXPECT_EQ(deliverer_->handoffs().size(), 5u);

  // The cache holds what GetProgramStatus answers.
  auto cached = server_->runtime().cache().Get(case_);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->at(Programme::kCompulsoryIsolation).state, "RELEASED");

  // The decision as an auditor sees it; the reads and writes are audited.
  v1::GetDecisionRequest g;
  g.set_case_id(case_);
  ASSERT_TRUE(stub_->GetDecision(Ctx(Token(Role::kAuditor, "*", "audit-1")).get(), g, &d).ok());
  EXPECT_EQ(d.release_certificate_number(), "黔司戒解证[2027]101号");
  ASSERT_TRUE(server_->runtime().read_audit().Flush().ok());
  AuditFilter f;
  f.case_id = case_;
  f.limit = 1000;
  auto rows = ListAudit(server_->runtime().store(), f);
  ASSERT_TRUE(rows.ok());
  bool release_audited = false, get_audited = false;
  for (const AuditRow& row : *rows) {
    if (absl::EndsWith(row.entry.action, "/Release") && row.entry.outcome == "OK") {
      release_audited = true;
    }
    if (absl::EndsWith(row.entry.action, "/GetDecision") && row.entry.subject == "audit-1") {
      get_audited = true;
    }
  }
  EXPECT_TRUE(release_audited);
  EXPECT_TRUE(get_audited);

  // Listing: the released decision, in the staff's jurisdiction.
  v1::ListDecisionsRequest list;
  v1::ListDecisionsResponse listed;
  ASSERT_TRUE(stub_->ListDecisions(Ctx(staff_).get(), list, &listed).ok());
  ASSERT_EQ(listed.decisions_size(), 1);
  list.set_open_only(true);
  ASSERT_TRUE(stub_->ListDecisions(Ctx(staff_).get(), list, &listed).ok());
  EXPECT_EQ(listed.decisions_size(), 0);
}

TEST_F(CompulsoryIsolationServiceTest, RefreshPublishesTrainingEligibilityAsTimePasses) {
  v1::Decision d;
  ASSERT_TRUE(stub_->Decide(Ctx(police_).get(), DecideReq(case_, 2026, 3, 15), &d).ok());
  v1::AdmitRequest admit;
  admit.set_case_id(case_);
  admit.set_facility_id("gy-police");
  *admit.mutable_admitted_on() = Date(2026, 3, 15);
  ASSERT_TRUE(stub_->Admit(Ctx(staff_).get(), admit, &d).ok());
  EXPECT_EQ(Status(), "IN_POLICE_FACILITY");
  Today(2027, 3, 16);
  v1::RefreshStatusesRequest req;
  v1::RefreshStatusesResponse resp;
  EXPECT_EQ(stub_->RefreshStatuses(Ctx(staff_).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      stub_->RefreshStatuses(Ctx(Token(Role::kBatch, "*", "nightly")).get(), req, &resp)
          .ok());
  EXPECT_EQ(resp.changed(), 1);
  EXPECT_EQ(Status(), "IN_POLICE_FACILITY_TRAINING_ELIGIBLE");
  auto cached = server_->runtime().cache().Get(case_);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->at(Programme::kCompulsoryIsolation).state,
            "IN_POLICE_FACILITY_TRAINING_ELIGIBLE");
}

}  // namespace
}  // namespace isolation
}  // namespace pathway
