// One synthetic person through the services, in process over real gRPC with a real
// redis-server, real SQLite files and one fake clock: the registry, community
// detox, compulsory isolation and community rehabilitation talk to each other for
// real (the programme services validate the case with the registry and report
// measures to it). At every step the registry's status view, assembled from Redis,
// must show the programme's state: the "Done when" of the community detox /
// rehabilitation and compulsory isolation issues.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "common/clock/clock.h"
#include "common/ids/resident_id.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/community_detox/community_detox_server.h"
#include "services/community_rehab/community_rehab_server.h"
#include "services/compulsory_isolation/compulsory_isolation_server.h"
#include "services/registry/registry_server.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/redis_server.h"

namespace pathway {
namespace {

constexpr char kTokenKey[] = "scenario-test-token-key-0123456789abcdefgh";
constexpr char kPiiKey[] = "scenario-test-pii-key-0123456789abcdefghijk";

using test::ChinaNoon;
using test::D;

class PathwayScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = test::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    std::ofstream(dir_.path() + "/token.key") << kTokenKey;
    std::ofstream(dir_.path() + "/pii.key") << kPiiKey;
    for (int i = 0; i < 4; ++i) {
      auto port = test::PickUnusedLoopbackPort();
      ASSERT_TRUE(port.ok());
      ports_.push_back(*port);
    }

    registry::RegistryServer::Options r;
    r.server = Base("registry", 0);
    r.pii_key_file = dir_.path() + "/pii.key";
    auto registry = registry::RegistryServer::Start(r, Overrides());
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);

    detox::CommunityDetoxServer::Options d;
    d.server = Base("community_detox", 1);
    auto detox = detox::CommunityDetoxServer::Start(d, Overrides());
    ASSERT_TRUE(detox.ok()) << detox.status();
    detox_ = *std::move(detox);

    isolation::CompulsoryIsolationServer::Options q;
    q.server = Base("compulsory_isolation", 2);
    q.isolation.facilities = {
        {"gy-police", isolation::v1::FACILITY_KIND_POLICE, "520102", "test police facility"},
        {"gz-judicial", isolation::v1::FACILITY_KIND_JUDICIAL, "520113", "test judicial facility"}};
    auto qz = isolation::CompulsoryIsolationServer::Start(q, Overrides());
    ASSERT_TRUE(qz.ok()) << qz.status();
    isolation_ = *std::move(qz);

    rehab::CommunityRehabServer::Options k;
    k.server = Base("community_rehab", 3);
    auto sk = rehab::CommunityRehabServer::Start(k, Overrides());
    ASSERT_TRUE(sk.ok()) << sk.status();
    rehab_ = *std::move(sk);

    registry_stub_ = registry::v1::Registry::NewStub(Channel(0));
    detox_stub_ = detox::v1::CommunityDetox::NewStub(Channel(1));
    isolation_stub_ = isolation::v1::CompulsoryIsolation::NewStub(Channel(2));
    rehab_stub_ = rehab::v1::CommunityRehab::NewStub(Channel(3));
  }

  void TearDown() override {
    if (rehab_) rehab_->Shutdown();
    if (isolation_) isolation_->Shutdown();
    if (detox_) detox_->Shutdown();
    if (registry_) registry_->Shutdown();
  }

  ServerOptions Base(const std::string& name, int index) {
    ServerOptions o;
    o.service_name = name;
    o.port = ports_[index];
    o.data_dir = dir_.path();
    o.token_key_file = dir_.path() + "/token.key";
    o.redis.port = redis_->port();
    o.drain_timeout = absl::Seconds(1);
    o.registry_address = absl::StrCat("127.0.0.1:", ports_[0]);
    o.detox_address = absl::StrCat("127.0.0.1:", ports_[1]);
    o.isolation_address = absl::StrCat("127.0.0.1:", ports_[2]);
    o.rehab_address = absl::StrCat("127.0.0.1:", ports_[3]);
    o.placement_address = absl::StrCat("127.0.0.1:", ports_[3]);  // not started here
    return o;
  }

  RuntimeOverrides Overrides() {
    RuntimeOverrides o;
    o.clock = &clock_;  // the real cache and the real registry client
    return o;
  }

  std::shared_ptr<grpc::Channel> Channel(int index) {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", ports_[index]),
                               grpc::InsecureChannelCredentials());
  }

  // Tokens are checked against the fake clock, so they are minted on it.
  std::string Token(Role role, const std::string& jurisdiction, const std::string& subject) {
    Claims c;
    c.subject = subject;
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()));
    c.expires_at = c.issued_at + absl::Hours(1);
    return *(*TokenSigner::Create(kTokenKey))->Sign(c);
  }

  std::unique_ptr<grpc::ClientContext> Ctx(Role role, const std::string& jurisdiction = "520102") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    ctx->AddMetadata("authorization",
                     "Bearer " + Token(role, jurisdiction, absl::StrCat("user-", RoleName(role))));
    return ctx;
  }

  void Today(int y, int m, int d) { clock_.Set(ChinaNoon(y, m, d)); }

  // Hand-offs travel through an outbox and arrive a moment after the call that
  // caused them: wait for their effect, polling with a deadline.
  static bool Eventually(const std::function<bool()>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!done()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  }

  // The registry's status view of one programme: state, or "" when absent.
  std::string ViewState(common::v1::Program program, common::v1::Freshness* freshness = nullptr) {
    registry::v1::GetCaseStatusRequest req;
    req.set_case_id(case_id_);
    registry::v1::CaseStatus st;
    grpc::Status s = registry_stub_->GetCaseStatus(Ctx(Role::kCaseworker).get(), req, &st);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const auto& v : st.programs()) {
      if (v.status().program() == program) {
        if (freshness != nullptr) *freshness = v.freshness();
        return v.status().state();
      }
    }
    return "";
  }

  registry::v1::Case GetCase() {
    registry::v1::GetCaseRequest req;
    req.set_case_id(case_id_);
    registry::v1::Case c;
    EXPECT_TRUE(registry_stub_->GetCase(Ctx(Role::kPolice).get(), req, &c).ok());
    return c;
  }

  void RegisterPerson(registry::v1::Person::Sex sex = registry::v1::Person::SEX_MALE) {
    registry::v1::RegisterPersonRequest r;
    int seq = sex == registry::v1::Person::SEX_MALE ? 101 : 102;
    r.set_resident_id_number(
        GenerateSyntheticResidentId("520102", absl::CivilDay(1990, 4, 12), seq));
    r.set_name("场景测试");
    r.set_household_division("520102");
    r.add_drug_types("methamphetamine");
    *r.mutable_found_on() = D(2026, 1, 5);
    registry::v1::Case c;
    grpc::Status s = registry_stub_->RegisterPerson(Ctx(Role::kPolice).get(), r, &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
    case_id_ = c.case_id();
  }

  detox::v1::Order DetoxTest(int y, int m, int d, detox::v1::TestResult result) {
    Today(y, m, d);
    detox::v1::RecordTestRequest req;
    req.set_case_id(case_id_);
    *req.mutable_tested_on() = D(y, m, d);
    req.set_specimen(detox::v1::SPECIMEN_URINE);
    req.set_result(result);
    detox::v1::Order order;
    grpc::Status s = detox_stub_->RecordTest(Ctx(Role::kCaseworker).get(), req, &order);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return order;
  }

  ScopedTempDir dir_;
  FakeClock clock_{ChinaNoon(2026, 1, 6)};
  std::unique_ptr<test::RedisServer> redis_;
  std::vector<int> ports_;
  std::unique_ptr<registry::RegistryServer> registry_;
  std::unique_ptr<detox::CommunityDetoxServer> detox_;
  std::unique_ptr<isolation::CompulsoryIsolationServer> isolation_;
  std::unique_ptr<rehab::CommunityRehabServer> rehab_;
  std::unique_ptr<registry::v1::Registry::Stub> registry_stub_;
  std::unique_ptr<detox::v1::CommunityDetox::Stub> detox_stub_;
  std::unique_ptr<isolation::v1::CompulsoryIsolation::Stub> isolation_stub_;
  std::unique_ptr<rehab::v1::CommunityRehab::Stub> rehab_stub_;
  std::string case_id_;
};

// Community detox: opened, reported, agreement, tests, a leave, three refused tests
// raising the serious-violation alert; the registry's view shows each state.
TEST_F(PathwayScenarioTest, CommunityDetoxOrderSeenThroughTheRegistry) {
  RegisterPerson();
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMMUNITY_DETOX), "");

  Today(2026, 1, 10);
  detox::v1::OpenOrderRequest open;
  open.set_case_id(case_id_);
  open.set_division("520102");
  open.set_place("520102001");
  open.set_decision_number("TEST-SD-1");
  *open.mutable_decision_date() = D(2026, 1, 8);
  *open.mutable_received_on() = D(2026, 1, 10);
  detox::v1::Order order;
  grpc::Status s = detox_stub_->OpenOrder(Ctx(Role::kPolice).get(), open, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  common::v1::Freshness freshness = common::v1::FRESHNESS_UNSPECIFIED;
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMMUNITY_DETOX, &freshness), "AWAITING_REPORT");
  EXPECT_EQ(freshness, common::v1::FRESHNESS_CACHE);
  // The detox service told the registry the measure started: no milestone while open.
  EXPECT_TRUE(Eventually([&] { return !GetCase().has_abstinence_milestone(); }));

  Today(2026, 1, 20);
  detox::v1::RecordReportRequest report;
  report.set_case_id(case_id_);
  *report.mutable_reported_on() = D(2026, 1, 20);
  ASSERT_TRUE(detox_stub_->RecordReport(Ctx(Role::kCaseworker).get(), report, &order).ok());
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMMUNITY_DETOX), "ACTIVE");

  detox::v1::SignAgreementRequest agreement;
  agreement.set_case_id(case_id_);
  *agreement.mutable_signed_on() = D(2026, 1, 20);
  agreement.set_agreement_number("TEST-AGREEMENT-1");
  ASSERT_TRUE(detox_stub_->SignAgreement(Ctx(Role::kCaseworker).get(), agreement, &order).ok());
  DetoxTest(2026, 1, 25, detox::v1::TEST_RESULT_NEGATIVE);

  Today(2026, 2, 1);
  detox::v1::RecordLeaveRequest leave;
  leave.set_case_id(case_id_);
  *leave.mutable_reported_on() = D(2026, 2, 1);
  *leave.mutable_start() = D(2026, 2, 5);
  *leave.mutable_end() = D(2026, 2, 10);
  leave.set_destination("530102");
  ASSERT_TRUE(detox_stub_->RecordLeave(Ctx(Role::kCaseworker).get(), leave, &order).ok());

  DetoxTest(2026, 2, 25, detox::v1::TEST_RESULT_REFUSED);
  DetoxTest(2026, 3, 25, detox::v1::TEST_RESULT_REFUSED);
  order = DetoxTest(2026, 4, 25, detox::v1::TEST_RESULT_REFUSED);
  EXPECT_EQ(order.evaded_or_refused_tests(), 3);
  detox::v1::ListDueRequest due_req;
  due_req.set_kind("SERIOUS_VIOLATION_REPORT");
  detox::v1::ListDueResponse due;
  ASSERT_TRUE(detox_stub_->ListDue(Ctx(Role::kPolice, "5201").get(), due_req, &due).ok());
  ASSERT_EQ(due.items_size(), 1) << "戒毒条例 Art 20: three refusals";
  EXPECT_EQ(due.items(0).alert().case_id(), case_id_);

  // The view carries the programme's next deadline: the report to police.
  registry::v1::GetCaseStatusRequest req;
  req.set_case_id(case_id_);
  registry::v1::CaseStatus st;
  ASSERT_TRUE(registry_stub_->GetCaseStatus(Ctx(Role::kCaseworker).get(), req, &st).ok());
  ASSERT_EQ(st.programs_size(), 1);
  EXPECT_EQ(st.programs(0).status().state(), "ACTIVE");
  EXPECT_EQ(st.programs(0).status().next_deadline().kind(), "SERIOUS_VIOLATION_REPORT");
}

// Compulsory isolation from decision to release, then community rehabilitation from
// opening to discharge; the registry's view shows each state, and the registry's
// abstinence clock starts from the end of the last measure.
TEST_F(PathwayScenarioTest, IsolationToReleaseThenRehabToDischargeSeenThroughTheRegistry) {
  RegisterPerson();
  Today(2026, 3, 15);
  isolation::v1::DecideRequest decide;
  decide.set_case_id(case_id_);
  decide.set_decision_number("TEST-QZ-1");
  decide.set_deciding_division("520102");
  *decide.mutable_decided_on() = D(2026, 3, 15);
  *decide.mutable_served_on() = D(2026, 3, 15);
  decide.set_ground(isolation::v1::GROUND_SEVERE_ADDICTION);
  isolation::v1::Decision d;
  grpc::Status s = isolation_stub_->Decide(Ctx(Role::kPolice).get(), decide, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMPULSORY_ISOLATION), "DECIDED");

  Today(2026, 3, 16);
  isolation::v1::AdmitRequest admit;
  admit.set_case_id(case_id_);
  admit.set_facility_id("gy-police");
  *admit.mutable_admitted_on() = D(2026, 3, 16);
  ASSERT_TRUE(isolation_stub_->Admit(Ctx(Role::kFacilityStaff).get(), admit, &d).ok());
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMPULSORY_ISOLATION), "IN_POLICE_FACILITY");

  Today(2026, 6, 20);
  isolation::v1::TransferRequest transfer;
  transfer.set_case_id(case_id_);
  transfer.set_facility_id("gz-judicial");
  *transfer.mutable_transferred_on() = D(2026, 6, 20);
  ASSERT_TRUE(isolation_stub_->Transfer(Ctx(Role::kFacilityStaff, "52").get(), transfer, &d).ok());
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMPULSORY_ISOLATION), "IN_JUDICIAL_FACILITY");

  Today(2027, 3, 10);
  isolation::v1::RecordAssessmentRequest assess;
  assess.set_case_id(case_id_);
  assess.set_kind(isolation::v1::ASSESSMENT_KIND_ONE_YEAR);
  *assess.mutable_assessed_on() = D(2027, 3, 10);
  assess.set_physiological_detox(isolation::v1::GRADE_PASS);
  assess.set_physical_mental_recovery(isolation::v1::GRADE_PASS);
  assess.set_behaviour(isolation::v1::GRADE_PASS);
  assess.set_social_adaptability(isolation::v1::ADAPTABILITY_GOOD);
  ASSERT_TRUE(
      isolation_stub_->RecordAssessment(Ctx(Role::kFacilityStaff, "52").get(), assess, &d).ok());
  int64_t assessment = d.assessments(d.assessments_size() - 1).id();

  // One day short of a year served: refused (禁毒法 Art 47); from the next day: allowed.
  Today(2027, 3, 14);
  isolation::v1::ProposeEarlyReleaseRequest propose;
  propose.set_case_id(case_id_);
  *propose.mutable_proposed_on() = D(2027, 3, 14);
  *propose.mutable_release_on() = D(2027, 3, 25);
  propose.set_assessment_id(assessment);
  EXPECT_EQ(isolation_stub_->ProposeEarlyRelease(Ctx(Role::kFacilityStaff, "52").get(), propose, &d)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  Today(2027, 3, 15);
  *propose.mutable_proposed_on() = D(2027, 3, 15);
  ASSERT_TRUE(
      isolation_stub_->ProposeEarlyRelease(Ctx(Role::kFacilityStaff, "52").get(), propose, &d).ok());
  Today(2027, 3, 18);
  isolation::v1::DecideProposalRequest approve;
  approve.set_case_id(case_id_);
  approve.set_proposal_id(d.proposals(0).id());
  approve.set_approve(true);
  *approve.mutable_decided_on() = D(2027, 3, 18);
  approve.set_decision_number("TEST-QZ-EARLY-1");
  s = isolation_stub_->DecideProposal(Ctx(Role::kPolice).get(), approve, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();

  Today(2027, 3, 22);
  isolation::v1::RecordReleaseNoticeRequest notice;
  notice.set_case_id(case_id_);
  *notice.mutable_notified_on() = D(2027, 3, 22);
  ASSERT_TRUE(
      isolation_stub_->RecordReleaseNotice(Ctx(Role::kFacilityStaff, "52").get(), notice, &d).ok());
  Today(2027, 3, 25);
  isolation::v1::ReleaseRequest release;
  release.set_case_id(case_id_);
  *release.mutable_released_on() = D(2027, 3, 25);
  release.set_release_certificate_number("TEST-QZ-RELEASE-1");
  release.mutable_community_rehab()->set_ordered(true);
  release.mutable_community_rehab()->set_term_months(12);
  release.mutable_community_rehab()->set_decision_number("TEST-SK-1");
  s = isolation_stub_->Release(Ctx(Role::kFacilityStaff, "52").get(), release, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMPULSORY_ISOLATION), "RELEASED");

  // Community rehabilitation after release (禁毒法 Art 48): opened by the hand-off
  // from the isolation service, with the report window counted from release.
  rehab::v1::Order order;
  ASSERT_TRUE(Eventually([&] {
    rehab::v1::GetOrderRequest get;
    get.set_case_id(case_id_);
    return rehab_stub_->GetOrder(Ctx(Role::kPolice).get(), get, &order).ok();
  }));
  EXPECT_EQ(order.state(), "AWAITING_REPORT");
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMMUNITY_REHAB), "AWAITING_REPORT");
  Today(2027, 3, 30);
  rehab::v1::RecordReportRequest report;
  report.set_case_id(case_id_);
  *report.mutable_reported_on() = D(2027, 3, 30);
  ASSERT_TRUE(rehab_stub_->RecordReport(Ctx(Role::kCaseworker).get(), report, &order).ok());
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMMUNITY_REHAB), "ACTIVE");
  EXPECT_EQ(order.term_last_day().year(), 2028);

  // The police notice at the end of the term discharges (戒毒条例 Art 40).
  Today(2028, 3, 31);
  rehab::v1::RecordDischargeRequest discharge;
  discharge.set_case_id(case_id_);
  discharge.set_notice_number("TEST-SK-DISCHARGE-1");
  *discharge.mutable_notice_date() = D(2028, 3, 30);
  s = rehab_stub_->RecordDischarge(Ctx(Role::kPolice).get(), discharge, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMMUNITY_REHAB), "DISCHARGED");
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMPULSORY_ISOLATION), "RELEASED");

  // Both measures ended: the three-year clock runs from the last end.
  registry::v1::Case c;
  ASSERT_TRUE(Eventually([&] {
    c = GetCase();
    return c.has_abstinence_milestone();
  }));
  EXPECT_EQ(c.abstinence_milestone().year(), 2031);
}

TEST_F(PathwayScenarioTest, PregnantWomanCannotBeIsolated) {
  RegisterPerson(registry::v1::Person::SEX_FEMALE);
  Today(2026, 3, 15);
  isolation::v1::DecideRequest decide;
  decide.set_case_id(case_id_);
  decide.set_decision_number("TEST-QZ-2");
  decide.set_deciding_division("520102");
  *decide.mutable_decided_on() = D(2026, 3, 15);
  *decide.mutable_served_on() = D(2026, 3, 15);
  decide.set_ground(isolation::v1::GROUND_SEVERE_ADDICTION);
  decide.set_pregnant(true);
  isolation::v1::Decision d;
  grpc::Status s = isolation_stub_->Decide(Ctx(Role::kPolice).get(), decide, &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("Art 39"), std::string::npos) << s.error_message();
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMPULSORY_ISOLATION), "");
}

}  // namespace
}  // namespace pathway
