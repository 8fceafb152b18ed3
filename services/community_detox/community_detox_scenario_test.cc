// The "Done when" for community detox, over real gRPC (in process, loopback
// TCP, a real store) with a fake clock, a fake registry and an in-memory status
// cache: an SD order opened, reported, agreement signed, tests, a leave, three refused
// tests raising the serious-violation alert in ListDue, reported to police; the
// status view shows each state.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/audit/audit_log.h"
#include "common/clock/clock.h"
#include "common/ids/case_id.h"
#include "common/registry_client/registry_client.h"
#include "gtest/gtest.h"
#include "services/community_detox/community_detox_server.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/supervision_server_test.h"

namespace pathway {
namespace detox {
namespace {

constexpr char kKey[] = "detox-scenario-test-key-0123456789abcdefghij";

using test::ChinaNoon;
using test::D;

class DetoxScenarioTest
    : public test::SupervisionServerTest<CommunityDetoxServer, v1::CommunityDetox> {
 protected:
  void SetUp() override {
    case_id_ = CaseId::Mint("520102", 2026, 42)->ToString();
    ASSERT_NO_FATAL_FAILURE(StartServer("community_detox", kKey, {Facts(case_id_)}));
    police_ = Token(Role::kPolice, "5201", "police-1");
    cw_ = Token(Role::kCaseworker, "520102", "cw-1");
  }

  common::v1::ProgramStatus Status() {
    common::v1::GetProgramStatusRequest req;
    req.set_case_id(case_id_);
    common::v1::ProgramStatus st;
    grpc::Status s = Call(&v1::CommunityDetox::Stub::GetProgramStatus, cw_, req, &st);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return st;
  }

  v1::Order Test(int y, int m, int d, v1::TestResult result, const std::string& key = "") {
    clock_.Set(ChinaNoon(y, m, d));
    v1::RecordTestRequest req;
    req.set_case_id(case_id_);
    *req.mutable_tested_on() = D(y, m, d);
    req.set_specimen(v1::SPECIMEN_URINE);
    req.set_result(result);
    v1::Order order;
    grpc::Status s = Call(&v1::CommunityDetox::Stub::RecordTest, cw_, req, &order, key);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return order;
  }

  std::vector<v1::DueItem> Due(const std::string& token, const std::string& kind = "") {
    v1::ListDueRequest req;
    req.set_kind(kind);
    v1::ListDueResponse resp;
    grpc::Status s = Call(&v1::CommunityDetox::Stub::ListDue, token, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.items().begin(), resp.items().end()};
  }

  std::string case_id_;
  std::string police_;
  std::string cw_;
};

TEST_F(DetoxScenarioTest, OrderReportAgreementTestsLeaveAndThreeRefusals) {
  // Opened by police; only police may open (PERMISSION_DENIED otherwise).
  v1::OpenOrderRequest open;
  open.set_case_id(case_id_);
  open.set_division("520102");
  open.set_place("520102001");
  open.set_decision_number("TEST-SD-2026-1");
  *open.mutable_decision_date() = D(2026, 1, 8);
  *open.mutable_received_on() = D(2026, 1, 10);
  v1::Order order;
  EXPECT_EQ(Call(&v1::CommunityDetox::Stub::OpenOrder, cw_, open, &order).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = Call(&v1::CommunityDetox::Stub::OpenOrder, police_, open, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(order.state(), "AWAITING_REPORT");
  EXPECT_EQ(order.places(0).report_deadline().day(), 25);
  common::v1::ProgramStatus st = Status();
  EXPECT_EQ(st.state(), "AWAITING_REPORT");
  EXPECT_EQ(st.next_deadline().kind(), "REPORT");
  EXPECT_EQ(st.next_deadline().due().day(), 25);
  // One open order per case; an id the registry never issued is NOT_FOUND.
  EXPECT_EQ(Call(&v1::CommunityDetox::Stub::OpenOrder, police_, open, &order).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  v1::OpenOrderRequest unknown = open;
  unknown.set_case_id(CaseId::Mint("520102", 2026, 43)->ToString());
  EXPECT_EQ(Call(&v1::CommunityDetox::Stub::OpenOrder, police_, unknown, &order).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The report window is due in the caseworker's ListDue.
  std::vector<v1::DueItem> due = Due(cw_);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].alert().kind(), "REPORT");
  EXPECT_EQ(due[0].alert().legal_basis(), "戒毒条例 Art 14");

  // Reported on day 10 of the window: the 3-year term starts.
  clock_.Set(ChinaNoon(2026, 1, 20));
  v1::RecordReportRequest report;
  report.set_case_id(case_id_);
  *report.mutable_reported_on() = D(2026, 1, 20);
  s = Call(&v1::CommunityDetox::Stub::RecordReport, cw_, report, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(order.state(), "ACTIVE");
  EXPECT_EQ(order.term_last_day().year(), 2029);
  EXPECT_EQ(order.term_last_day().month(), 1);
  EXPECT_EQ(order.term_last_day().day(), 19);
  EXPECT_EQ(Status().state(), "ACTIVE");
  EXPECT_EQ(Status().next_deadline().kind(), "AGREEMENT");

  v1::SignAgreementRequest agreement;
  agreement.set_case_id(case_id_);
  *agreement.mutable_signed_on() = D(2026, 1, 20);
  agreement.set_agreement_number("TEST-AGREEMENT-1");
  ASSERT_TRUE(Call(&v1::CommunityDetox::Stub::SignAgreement, cw_, agreement, &order).ok());
  EXPECT_EQ(Status().next_deadline().kind(), "TEST");
  EXPECT_EQ(Status().next_deadline().due().month(), 2);
  EXPECT_EQ(Status().next_deadline().due().day(), 19);

  // A negative test, recorded twice with one idempotency key: one test.
  order = Test(2026, 1, 25, v1::TEST_RESULT_NEGATIVE, "test-0125");
  v1::Order replay = Test(2026, 1, 25, v1::TEST_RESULT_NEGATIVE, "test-0125");
  EXPECT_EQ(replay.tests_size(), 1);
  EXPECT_EQ(replay.tests(0).test_id(), order.tests(0).test_id());

  // A leave of 6 days, reported in writing beforehand (戒毒条例 Art 19).
  clock_.Set(ChinaNoon(2026, 2, 1));
  v1::RecordLeaveRequest leave;
  leave.set_case_id(case_id_);
  *leave.mutable_reported_on() = D(2026, 2, 1);
  *leave.mutable_start() = D(2026, 2, 5);
  *leave.mutable_end() = D(2026, 2, 10);
  leave.set_destination("530102");
  s = Call(&v1::CommunityDetox::Stub::RecordLeave, cw_, leave, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(order.leaves_size(), 1);

  // Three refused tests: the third reaches the Art 20 threshold.
  Test(2026, 2, 25, v1::TEST_RESULT_REFUSED);
  order = Test(2026, 3, 25, v1::TEST_RESULT_REFUSED);
  EXPECT_EQ(order.evaded_or_refused_tests(), 2);
  EXPECT_TRUE(Due(cw_, "SERIOUS_VIOLATION_REPORT").empty());
  order = Test(2026, 4, 25, v1::TEST_RESULT_REFUSED);
  EXPECT_EQ(order.evaded_or_refused_tests(), 3);
  due = Due(cw_, "SERIOUS_VIOLATION_REPORT");
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].alert().case_id(), case_id_);
  EXPECT_EQ(due[0].alert().program(), common::v1::PROGRAM_COMMUNITY_DETOX);
  EXPECT_EQ(due[0].alert().due().day(), 26);
  EXPECT_EQ(due[0].alert().legal_basis(), "戒毒条例 Art 20, 21; 禁毒法 Art 38");
  EXPECT_EQ(due[0].key(), "SERIOUS_VIOLATION_REPORT:TESTS");
  // Police of the city see it; another county's caseworker does not.
  EXPECT_EQ(Due(police_, "SERIOUS_VIOLATION_REPORT").size(), 1u);
  EXPECT_TRUE(Due(Token(Role::kCaseworker, "520103", "cw-2")).empty());
  EXPECT_EQ(Status().next_deadline().kind(), "SERIOUS_VIOLATION_REPORT");

  // Reported to police (Art 21): the alert is done; the overdue view moves on.
  clock_.Set(ChinaNoon(2026, 4, 26));
  v1::RecordPoliceReportRequest ack;
  ack.set_case_id(case_id_);
  ack.set_alert_key(due[0].key());
  *ack.mutable_reported_on() = D(2026, 4, 26);
  s = Call(&v1::CommunityDetox::Stub::RecordPoliceReport, cw_, ack, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(Due(cw_, "SERIOUS_VIOLATION_REPORT").empty());

  // Every change moved the version; the cache holds the last one.
  st = Status();
  auto cached = server_->runtime().cache().Get(case_id_);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->at(Programme::kCommunityDetox).version, st.version());
  EXPECT_EQ(cached->at(Programme::kCommunityDetox).state, "ACTIVE");
  EXPECT_GE(st.version(), 9);

  // The registry learnt that the measure started.
  EXPECT_GE(Dispatch(), 1);
  std::vector<registry::v1::ReportEventRequest> events = registry_->events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
  EXPECT_EQ(events[0].program(), common::v1::PROGRAM_COMMUNITY_DETOX);

  // GetOrder shows the whole history, and the read is audited.
  v1::GetOrderRequest get;
  get.set_case_id(case_id_);
  s = Call(&v1::CommunityDetox::Stub::GetOrder, police_, get, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(order.tests_size(), 4);
  EXPECT_EQ(order.police_reports_size(), 1);
  ASSERT_TRUE(server_->runtime().read_audit().Flush().ok());
  AuditFilter f;
  f.subject = "police-1";
  auto rows = ListAudit(server_->runtime().store(), f);
  ASSERT_TRUE(rows.ok());
  bool audited_get = false;
  for (const AuditRow& r : *rows) {
    if (r.entry.action == "GetOrder" && r.entry.case_id == case_id_) audited_get = true;
  }
  EXPECT_TRUE(audited_get);
}

TEST_F(DetoxScenarioTest, NoShowIsDeemedRefusalAndTestsNeedAReport) {
  v1::OpenOrderRequest open;
  open.set_case_id(case_id_);
  open.set_division("520102");
  open.set_place("520102001");
  open.set_decision_number("TEST-SD-2026-2");
  *open.mutable_decision_date() = D(2026, 1, 10);
  *open.mutable_received_on() = D(2026, 1, 10);
  v1::Order order;
  ASSERT_TRUE(Call(&v1::CommunityDetox::Stub::OpenOrder, police_, open, &order).ok());
  // No test before the report date.
  v1::RecordTestRequest test;
  test.set_case_id(case_id_);
  *test.mutable_tested_on() = D(2026, 1, 10);
  test.set_specimen(v1::SPECIMEN_HAIR);
  test.set_result(v1::TEST_RESULT_NEGATIVE);
  EXPECT_EQ(Call(&v1::CommunityDetox::Stub::RecordTest, cw_, test, &order).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  test.set_specimen(v1::SPECIMEN_UNSPECIFIED);
  EXPECT_EQ(Call(&v1::CommunityDetox::Stub::RecordTest, cw_, test, &order).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Day 15 (25 Jan) is on time; on day 16 the no-show is deemed refusal (Art 14).
  clock_.Set(ChinaNoon(2026, 1, 25));
  EXPECT_TRUE(Due(cw_, "NO_SHOW_REFUSAL").empty());
  clock_.Set(ChinaNoon(2026, 1, 26));
  std::vector<v1::DueItem> due = Due(cw_, "NO_SHOW_REFUSAL");
  ASSERT_EQ(due.size(), 1u);
  due = Due(cw_, "REPORT");
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(due[0].alert().overdue());
}

}  // namespace
}  // namespace detox
}  // namespace pathway
