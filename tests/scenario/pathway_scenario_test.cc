// One synthetic person through the services, in process over real gRPC with a real
// redis-server, real SQLite files and one fake clock: the registry, community
// detox, compulsory isolation and community rehabilitation talk to each other for
// real (the programme services validate the case with the registry and report
// measures to it). At every step the registry's status view, assembled from Redis,
// must show the programme's state: the "Done when" of the community detox /
// rehabilitation and compulsory isolation issues.
#include <map>
#include <string>

#include "common/client/bearer_context.h"
#include "common/codec/proto_date.h"
#include "tests/scenario/pathway_stack.h"

namespace pathway {
namespace {

using test::ChinaNoon;
using test::D;

class PathwayScenarioTest : public test::PathwayStackTest {};

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

// The community detox rules a caseworker meets over gRPC: no refusal alleged while a
// person detained inside the report window cannot report (戒毒条例 Art 24), the
// agreement's legal basis (Art 16), and discharge only from the day after the term's
// last day (Art 23, 40).
TEST_F(PathwayScenarioTest, DetoxWindowAgreementAndDischargeFollowTheLaw) {
  RegisterPerson();
  Today(2026, 3, 1);
  detox::v1::OpenOrderRequest open;
  open.set_case_id(case_id_);
  open.set_division("520102");
  open.set_place("520102001");
  open.set_decision_number("TEST-SD-RULES");
  *open.mutable_decision_date() = D(2026, 3, 1);
  *open.mutable_received_on() = D(2026, 3, 1);
  detox::v1::Order order;
  ASSERT_TRUE(detox_stub_->OpenOrder(Ctx(Role::kPolice).get(), open, &order).ok());

  Today(2026, 3, 5);
  detox::v1::RecordSuspensionRequest suspend;
  suspend.set_case_id(case_id_);
  suspend.set_reason(detox::v1::SUSPENSION_REASON_DETENTION);
  *suspend.mutable_start() = D(2026, 3, 5);
  ASSERT_TRUE(detox_stub_->RecordSuspension(Ctx(Role::kPolice).get(), suspend, &order).ok());

  auto kinds_on = [&](int y, int m, int d) {
    detox::v1::GetOrderRequest get;
    get.set_case_id(case_id_);
    *get.mutable_as_of() = D(y, m, d);
    detox::v1::Order o;
    EXPECT_TRUE(detox_stub_->GetOrder(Ctx(Role::kCaseworker).get(), get, &o).ok());
    std::map<std::string, common::v1::Alert> kinds;
    for (const auto& item : o.due()) kinds[item.alert().kind()] = item.alert();
    return kinds;
  };
  Today(2026, 4, 20);
  EXPECT_EQ(kinds_on(2026, 4, 20).count("NO_SHOW_REFUSAL"), 0u) << "still detained";

  detox::v1::ResumeOrderRequest resume;
  resume.set_case_id(case_id_);
  *resume.mutable_resumed_on() = D(2026, 4, 4);
  ASSERT_TRUE(detox_stub_->ResumeOrder(Ctx(Role::kPolice).get(), resume, &order).ok());
  EXPECT_EQ(kinds_on(2026, 4, 19).count("NO_SHOW_REFUSAL"), 0u) << "15 days from release";
  EXPECT_EQ(kinds_on(2026, 4, 20).count("NO_SHOW_REFUSAL"), 1u);

  detox::v1::RecordReportRequest report;
  report.set_case_id(case_id_);
  *report.mutable_reported_on() = D(2026, 4, 20);
  ASSERT_TRUE(detox_stub_->RecordReport(Ctx(Role::kCaseworker).get(), report, &order).ok());
  auto due = kinds_on(2026, 4, 20);
  ASSERT_EQ(due.count("AGREEMENT"), 1u);
  EXPECT_EQ(due["AGREEMENT"].legal_basis(), "戒毒条例 Art 16");

  // The term runs three years from the report: its last day is still served.
  ASSERT_TRUE(order.has_term_last_day());
  const common::v1::Date last = order.term_last_day();
  const absl::CivilDay last_day = DayOf(last);
  Today(last.year(), last.month(), last.day());
  detox::v1::RecordDischargeRequest discharge;
  discharge.set_case_id(case_id_);
  discharge.set_notice_number("JC-1");
  *discharge.mutable_notice_date() = last;
  grpc::Status s = detox_stub_->RecordDischarge(Ctx(Role::kPolice).get(), discharge, &order);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  const absl::CivilDay after = last_day + 1;
  Today(static_cast<int>(after.year()), after.month(), after.day());
  *discharge.mutable_notice_date() = ToProtoDate(after);
  s = detox_stub_->RecordDischarge(Ctx(Role::kPolice).get(), discharge, &order);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(order.state(), "DISCHARGED");
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

// Helpers for the isolation rules below: one decision walked to its one-year
// assessment, over gRPC.
// Statuses that change with time alone (DESIGN.md §4): nothing writes when a term
// ends, yet the registry's view shows it after the service's daily refresh.
class ScheduledRefreshScenarioTest : public test::PathwayStackTest {
 protected:
  void SetUp() override {
    status_refresh_check_ = absl::Milliseconds(20);
    test::PathwayStackTest::SetUp();
  }
};

TEST_F(ScheduledRefreshScenarioTest, ATermThatEndsWithoutAWriteIsPublishedByTheDailyRefresh) {
  RegisterPerson();
  Today(2026, 1, 10);
  detox::v1::OpenOrderRequest open;
  open.set_case_id(case_id_);
  open.set_division("520102");
  open.set_place("520102001");
  open.set_decision_number("TEST-SD-TIME-1");
  *open.mutable_decision_date() = D(2026, 1, 8);
  *open.mutable_received_on() = D(2026, 1, 10);
  detox::v1::Order order;
  ASSERT_TRUE(detox_stub_->OpenOrder(Ctx(Role::kPolice).get(), open, &order).ok());
  detox::v1::RecordReportRequest report;
  report.set_case_id(case_id_);
  *report.mutable_reported_on() = D(2026, 1, 10);
  ASSERT_TRUE(detox_stub_->RecordReport(Ctx(Role::kCaseworker).get(), report, &order).ok());
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMMUNITY_DETOX), "ACTIVE");

  // Three years on (戒毒条例 Art 14: the term runs from the report), with no write in
  // between: the service's daily refresh sees the term has ended and publishes it.
  Today(2029, 1, 15);
  EXPECT_TRUE(Eventually([&] {
    return ViewState(common::v1::PROGRAM_COMMUNITY_DETOX) == "EXPIRED_AWAITING_DISCHARGE";
  })) << ViewState(common::v1::PROGRAM_COMMUNITY_DETOX);
  // The registry's own record follows too: the programme index behind ListCases, and
  // the worklist, where the discharge notice is now police work (戒毒条例 Art 23, 40).
  EXPECT_TRUE(Eventually([&] {
    registry::v1::ListCasesRequest list;
    list.set_program(common::v1::PROGRAM_COMMUNITY_DETOX);
    list.set_program_state("EXPIRED_AWAITING_DISCHARGE");
    registry::v1::ListCasesResponse cases;
    return registry_stub_->ListCases(Ctx(Role::kCaseworker).get(), list, &cases).ok() &&
           cases.cases_size() == 1 && cases.cases(0).case_id() == case_id_;
  }));
  registry::v1::GetWorklistResponse worklist;
  ASSERT_TRUE(registry_stub_->GetWorklist(Ctx(Role::kPolice).get(), {}, &worklist).ok());
  bool notice = false;
  for (const auto& item : worklist.items()) {
    notice = notice || (item.case_id() == case_id_ && item.item().kind() == "DISCHARGE_NOTICE");
  }
  EXPECT_TRUE(notice) << worklist.DebugString();
  // The refresh is the service's own act, audited under its own name.
  common::v1::ListAuditEntriesRequest audit;
  audit.set_subject("scheduler:community_detox");
  common::v1::ListAuditEntriesResponse entries;
  auto ops = common::v1::Operations::NewStub(Channel(1));
  ASSERT_TRUE(ops->ListAuditEntries(Ctx(Role::kAuditor, "*").get(), audit, &entries).ok());
  ASSERT_GE(entries.entries_size(), 1);
  EXPECT_EQ(entries.entries(entries.entries_size() - 1).action(),
            "/pathway.detox.v1.CommunityDetox/RefreshStatuses#scheduled");
}

class IsolationRulesScenarioTest : public test::PathwayStackTest {
 protected:
  static bool SameDay(const common::v1::Date& d, int y, int m, int day) {
    return DayOf(d) == absl::CivilDay(y, m, day);
  }

  isolation::v1::Decision DecideIsolation(int y, int m, int d, isolation::v1::Ground ground,
                                          const std::string& number) {
    Today(y, m, d);
    isolation::v1::DecideRequest decide;
    decide.set_case_id(case_id_);
    decide.set_decision_number(number);
    decide.set_deciding_division("520102");
    *decide.mutable_decided_on() = D(y, m, d);
    *decide.mutable_served_on() = D(y, m, d);
    decide.set_ground(ground);
    isolation::v1::Decision out;
    grpc::Status s = isolation_stub_->Decide(Ctx(Role::kPolice).get(), decide, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    isolation::v1::AdmitRequest admit;
    admit.set_case_id(case_id_);
    admit.set_facility_id("gy-police");
    *admit.mutable_admitted_on() = D(y, m, d);
    s = isolation_stub_->Admit(Ctx(Role::kFacilityStaff).get(), admit, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status ProposeEarlyRelease(int y, int m, int d) {
    Today(y, m, d);
    isolation::v1::RecordAssessmentRequest assess;
    assess.set_case_id(case_id_);
    assess.set_kind(isolation::v1::ASSESSMENT_KIND_ONE_YEAR);
    *assess.mutable_assessed_on() = D(y, m, d);
    assess.set_physiological_detox(isolation::v1::GRADE_PASS);
    assess.set_physical_mental_recovery(isolation::v1::GRADE_PASS);
    assess.set_behaviour(isolation::v1::GRADE_PASS);
    assess.set_social_adaptability(isolation::v1::ADAPTABILITY_GOOD);
    isolation::v1::Decision out;
    grpc::Status s = isolation_stub_->RecordAssessment(Ctx(Role::kFacilityStaff).get(), assess, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok() || out.assessments_size() == 0) return s;
    isolation::v1::ProposeEarlyReleaseRequest propose;
    propose.set_case_id(case_id_);
    *propose.mutable_proposed_on() = D(y, m, d);
    propose.set_assessment_id(out.assessments(out.assessments_size() - 1).id());
    *propose.mutable_release_on() = D(y, m, d);
    return isolation_stub_->ProposeEarlyRelease(Ctx(Role::kFacilityStaff).get(), propose, &out);
  }
};

// 戒毒条例 Art 38(2) from the facts: a person whose SK order is running when isolation
// is decided cannot be released early, whatever ground the police wrote; the same
// decision for a person without SK can be.
TEST_F(IsolationRulesScenarioTest, EarlyReleaseBarFollowsCommunityRehabNotTheGround) {
  // With SK: ordered on 20 January, running when isolation is decided.
  RegisterPerson(registry::v1::Person::SEX_MALE);
  Today(2026, 1, 20);
  rehab::v1::OpenOrderRequest sk;
  sk.set_case_id(case_id_);
  sk.set_division("520102");
  sk.set_place("520102001");
  sk.set_decision_number("TEST-SK-38");
  *sk.mutable_decision_date() = D(2026, 1, 20);
  *sk.mutable_received_on() = D(2026, 1, 20);
  sk.set_term_months(36);
  rehab::v1::Order order;
  grpc::Status s = rehab_stub_->OpenOrder(Ctx(Role::kPolice).get(), sk, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  isolation::v1::Decision d = DecideIsolation(
      2026, 3, 15, isolation::v1::GROUND_DRUG_USE_DURING_COMMUNITY_MEASURE, "TEST-QZ-38A");
  EXPECT_TRUE(d.community_rehab_running_at_decision());
  EXPECT_TRUE(d.early_release_barred());
  // The decision closes the SK order as handed over.
  EXPECT_TRUE(Eventually(
      [&] { return ViewState(common::v1::PROGRAM_COMMUNITY_REHAB) == "TERMINATED"; }));
  s = ProposeEarlyRelease(2027, 3, 16);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("戒毒条例 Art 38"), std::string::npos) << s.error_message();

  // Without SK: the same ground, the same walk, early release may be proposed.
  RegisterPerson(registry::v1::Person::SEX_FEMALE);
  d = DecideIsolation(2027, 3, 16, isolation::v1::GROUND_DRUG_USE_DURING_COMMUNITY_MEASURE,
                      "TEST-QZ-38B");
  EXPECT_FALSE(d.community_rehab_running_at_decision());
  EXPECT_FALSE(d.early_release_barred());
  s = ProposeEarlyRelease(2028, 3, 17);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// 戒毒条例 Art 31: medical parole converted to community detox. The approval hands the
// order to the community detox service, which opens it received on the conversion day
// with the isolation days served credited against the term; the registry sees SD open
// as isolation ends; a repeated delivery is applied once.
TEST_F(IsolationRulesScenarioTest, ConversionOpensTheCommunityDetoxOrderWithTheCredit) {
  RegisterPerson();
  isolation::v1::Decision d = DecideIsolation(2026, 3, 15, isolation::v1::GROUND_SEVERE_ADDICTION,
                                              "TEST-QZ-31");
  Today(2026, 6, 1);
  isolation::v1::BeginAbsenceRequest parole;
  parole.set_case_id(case_id_);
  parole.set_kind(isolation::v1::ABSENCE_KIND_MEDICAL_PAROLE);
  *parole.mutable_started_on() = D(2026, 6, 1);
  grpc::Status s = isolation_stub_->BeginAbsence(Ctx(Role::kFacilityStaff).get(), parole, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Today(2026, 7, 1);
  isolation::v1::ProposeConversionRequest propose;
  propose.set_case_id(case_id_);
  *propose.mutable_proposed_on() = D(2026, 7, 1);
  s = isolation_stub_->ProposeConversionToCommunityDetox(Ctx(Role::kFacilityStaff).get(), propose,
                                                         &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(d.proposals_size(), 1);
  Today(2026, 7, 5);
  isolation::v1::DecideProposalRequest approve;
  approve.set_case_id(case_id_);
  approve.set_proposal_id(d.proposals(0).id());
  approve.set_approve(true);
  *approve.mutable_decided_on() = D(2026, 7, 5);
  approve.set_decision_number("TEST-SD-31");
  s = isolation_stub_->DecideProposal(Ctx(Role::kPolice).get(), approve, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(d.state(), isolation::v1::STATE_CONVERTED_TO_SD);
  EXPECT_EQ(d.community_detox_credit_days(), 112);  // 15 Mar .. 4 Jul 2026

  // The SD order arrives through the isolation service's outbox.
  detox::v1::GetOrderRequest get;
  get.set_case_id(case_id_);
  detox::v1::Order order;
  ASSERT_TRUE(Eventually([&] {
    return detox_stub_->GetOrder(Ctx(Role::kPolice).get(), get, &order).ok() &&
           order.decision_number() == "TEST-SD-31";
  }));
  EXPECT_EQ(order.state(), "AWAITING_REPORT");
  EXPECT_EQ(order.credited_days(), 112);
  EXPECT_EQ(order.division(), "520102");  // the household county: no residence recorded
  EXPECT_TRUE(SameDay(order.decision_date(), 2026, 7, 5));
  EXPECT_TRUE(SameDay(order.received_on(), 2026, 7, 5));
  ASSERT_EQ(order.places_size(), 1);
  EXPECT_TRUE(SameDay(order.places(0).report_deadline(), 2026, 7, 20)) << "15 days (Art 14)";

  // The registry's view: SD open, isolation converted, and a measure open throughout.
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMMUNITY_DETOX), "AWAITING_REPORT");
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMPULSORY_ISOLATION), "CONVERTED_TO_SD");
  EXPECT_FALSE(GetCase().has_abstinence_milestone());

  // A repeated delivery, as the isolation service's dispatcher would send it (same
  // identity, key and request), and again under another key: applied once.
  detox::v1::OpenFromConversionRequest repeat;
  repeat.set_case_id(case_id_);
  repeat.set_decision_number("TEST-SD-31");
  *repeat.mutable_converted_on() = D(2026, 7, 5);
  repeat.set_credited_days(112);
  repeat.set_isolation_decision_id(d.decision_id());
  for (const std::string& key :
       {absl::StrCat("qz:", d.decision_id(), ":open-sd"), std::string("another-key")}) {
    SCOPED_TRACE(key);
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, Token(Role::kService, "*", "svc-compulsory_isolation"),
                         absl::Seconds(20));
    ctx.AddMetadata("idempotency-key", key);
    detox::v1::Order again;
    s = detox_stub_->OpenFromConversion(&ctx, repeat, &again);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(again.order_id(), order.order_id());
    EXPECT_EQ(again.credited_days(), 112);
  }
  detox::v1::ListOrdersRequest list;
  list.set_include_closed(true);
  detox::v1::ListOrdersResponse orders;
  ASSERT_TRUE(detox_stub_->ListOrders(Ctx(Role::kPolice).get(), list, &orders).ok());
  int for_case = 0;
  for (const detox::v1::Order& o : orders.orders()) for_case += o.case_id() == case_id_;
  EXPECT_EQ(for_case, 1);

  // The term runs from the report date (Art 14), its last day brought forward by the
  // days served in isolation (Art 31).
  Today(2026, 7, 10);
  detox::v1::RecordReportRequest report;
  report.set_case_id(case_id_);
  *report.mutable_reported_on() = D(2026, 7, 10);
  s = detox_stub_->RecordReport(Ctx(Role::kCaseworker).get(), report, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const absl::CivilDay last = absl::CivilDay(2029, 7, 9) - 112;
  EXPECT_TRUE(SameDay(order.term_start(), 2026, 7, 10));
  EXPECT_EQ(DayOf(order.term_last_day()), last)
      << order.term_last_day().ShortDebugString();
  EXPECT_EQ(ViewState(common::v1::PROGRAM_COMMUNITY_DETOX), "ACTIVE");
}

}  // namespace
}  // namespace pathway
