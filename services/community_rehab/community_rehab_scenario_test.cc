// The "Done when" for community rehabilitation, over real gRPC (in process,
// loopback TCP, a real store) with a fake clock, a fake registry and an
// in-memory status cache: an SK order walked from opening to discharge, the status view
// showing each state, and the registry told of the measure and a positive test.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock/clock.h"
#include "common/ids/case_id.h"
#include "common/registry_client/registry_client.h"
#include "gtest/gtest.h"
#include "services/community_rehab/community_rehab_server.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/supervision_server_test.h"

namespace pathway {
namespace rehab {
namespace {

constexpr char kKey[] = "rehab-scenario-test-key-0123456789abcdefghij";

using test::ChinaNoon;
using test::D;

class RehabScenarioTest
    : public test::SupervisionServerTest<CommunityRehabServer, v1::CommunityRehab> {
 protected:
  void SetUp() override {
    clock_.Set(ChinaNoon(2026, 3, 1));
    case_id_ = CaseId::Mint("520102", 2025, 7)->ToString();
    ASSERT_NO_FATAL_FAILURE(
        StartServer("community_rehab", kKey, {Facts(case_id_, "520102", /*residence=*/"")}));
    police_ = Token(Role::kPolice, "520102", "police-1");
    cw_ = Token(Role::kCaseworker, "520102", "cw-1");
  }

  common::v1::ProgramStatus Status() {
    common::v1::GetProgramStatusRequest req;
    req.set_case_id(case_id_);
    common::v1::ProgramStatus st;
    grpc::Status s = Call(&v1::CommunityRehab::Stub::GetProgramStatus, cw_, req, &st);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return st;
  }

  std::string case_id_;
  std::string police_;
  std::string cw_;
};

TEST_F(RehabScenarioTest, OpenedToDischarge) {
  // Ordered on release from isolation for 12 months (禁毒法 Art 48: at most 3 years).
  v1::OpenOrderRequest open;
  open.set_case_id(case_id_);
  open.set_division("520102");
  open.set_place("520102001");
  open.set_decision_number("TEST-SK-2026-1");
  *open.mutable_decision_date() = D(2026, 3, 1);
  *open.mutable_received_on() = D(2026, 3, 1);
  open.set_term_months(37);
  v1::Order order;
  EXPECT_EQ(Call(&v1::CommunityRehab::Stub::OpenOrder, police_, open, &order).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  open.set_term_months(12);
  grpc::Status s = Call(&v1::CommunityRehab::Stub::OpenOrder, police_, open, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Status().state(), "AWAITING_REPORT");
  EXPECT_EQ(Status().next_deadline().due().day(), 16);

  clock_.Set(ChinaNoon(2026, 3, 16));  // day 15 of the window
  v1::RecordReportRequest report;
  report.set_case_id(case_id_);
  *report.mutable_reported_on() = D(2026, 3, 16);
  ASSERT_TRUE(Call(&v1::CommunityRehab::Stub::RecordReport, cw_, report, &order).ok());
  EXPECT_EQ(order.term_last_day().year(), 2027);
  EXPECT_EQ(order.term_last_day().month(), 3);
  EXPECT_EQ(order.term_last_day().day(), 15);
  common::v1::ProgramStatus st = Status();
  EXPECT_EQ(st.state(), "ACTIVE");
  EXPECT_EQ(st.began().day(), 16);

  v1::SignAgreementRequest agreement;
  agreement.set_case_id(case_id_);
  *agreement.mutable_signed_on() = D(2026, 3, 16);
  ASSERT_TRUE(Call(&v1::CommunityRehab::Stub::SignAgreement, cw_, agreement, &order).ok());

  // A positive test: an alert for police and a drug-use finding for the registry.
  clock_.Set(ChinaNoon(2026, 4, 2));
  v1::RecordTestRequest test;
  test.set_case_id(case_id_);
  *test.mutable_tested_on() = D(2026, 4, 2);
  test.set_specimen(v1::SPECIMEN_URINE);
  test.set_result(v1::TEST_RESULT_POSITIVE);
  ASSERT_TRUE(Call(&v1::CommunityRehab::Stub::RecordTest, cw_, test, &order).ok());
  EXPECT_GE(Dispatch(), 1);
  std::vector<registry::v1::ReportEventRequest> events = registry_->events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
  EXPECT_EQ(events[0].program(), common::v1::PROGRAM_COMMUNITY_REHAB);
  EXPECT_EQ(events[1].kind(), registry::v1::ReportEventRequest::KIND_POSITIVE_TEST);
  EXPECT_EQ(events[1].occurred_on().day(), 2);
  v1::ListDueRequest due_req;
  due_req.set_kind("POSITIVE_TEST_REPORT");
  v1::ListDueResponse due;
  ASSERT_TRUE(Call(&v1::CommunityRehab::Stub::ListDue, cw_, due_req, &due).ok());
  ASSERT_EQ(due.items_size(), 1);
  EXPECT_EQ(due.items(0).alert().program(), common::v1::PROGRAM_COMMUNITY_REHAB);
  v1::RecordPoliceReportRequest ack;
  ack.set_case_id(case_id_);
  ack.set_alert_key(due.items(0).key());
  *ack.mutable_reported_on() = D(2026, 4, 2);
  ASSERT_TRUE(Call(&v1::CommunityRehab::Stub::RecordPoliceReport, cw_, ack, &order).ok());

  // Detention suspends (戒毒条例 Art 24); 10 paused days push the term's end back.
  clock_.Set(ChinaNoon(2026, 5, 1));
  v1::RecordSuspensionRequest suspend;
  suspend.set_case_id(case_id_);
  suspend.set_reason(v1::SUSPENSION_REASON_DETENTION);
  *suspend.mutable_start() = D(2026, 5, 1);
  ASSERT_TRUE(Call(&v1::CommunityRehab::Stub::RecordSuspension, police_, suspend, &order).ok());
  EXPECT_EQ(Status().state(), "SUSPENDED");
  clock_.Set(ChinaNoon(2026, 5, 11));
  v1::ResumeOrderRequest resume;
  resume.set_case_id(case_id_);
  *resume.mutable_resumed_on() = D(2026, 5, 11);
  ASSERT_TRUE(Call(&v1::CommunityRehab::Stub::ResumeOrder, police_, resume, &order).ok());
  EXPECT_EQ(Status().state(), "ACTIVE");
  EXPECT_EQ(order.excluded_days(), 10);
  EXPECT_EQ(order.term_last_day().month(), 3);
  EXPECT_EQ(order.term_last_day().day(), 25);

  // The term ends on 25 Mar 2027; the township may not discharge before it.
  clock_.Set(ChinaNoon(2027, 3, 20));
  v1::RecordDischargeRequest discharge;
  discharge.set_case_id(case_id_);
  discharge.set_notice_number("TEST-NOTICE-1");
  *discharge.mutable_notice_date() = D(2027, 3, 20);
  EXPECT_EQ(Call(&v1::CommunityRehab::Stub::RecordDischarge, cw_, discharge, &order).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  discharge.set_notice_number("");
  EXPECT_EQ(Call(&v1::CommunityRehab::Stub::RecordDischarge, cw_, discharge, &order).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Expired with no write: the nightly refresh shows it, and ListDue awaits the notice.
  clock_.Set(ChinaNoon(2027, 3, 27));
  v1::RefreshStatusesRequest refresh;
  v1::RefreshStatusesResponse refreshed;
  EXPECT_EQ(Call(&v1::CommunityRehab::Stub::RefreshStatuses, cw_, refresh, &refreshed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(&v1::CommunityRehab::Stub::RefreshStatuses, Token(Role::kBatch, "*", "batch-1"),
                   refresh, &refreshed)
                  .ok());
  EXPECT_EQ(refreshed.changed(), 1);
  EXPECT_EQ(Status().state(), "EXPIRED_AWAITING_DISCHARGE");
  due_req.set_kind("DISCHARGE_NOTICE");
  due.Clear();
  ASSERT_TRUE(Call(&v1::CommunityRehab::Stub::ListDue, police_, due_req, &due).ok());
  ASSERT_EQ(due.items_size(), 1);
  EXPECT_EQ(due.items(0).alert().due().month(), 4);
  EXPECT_EQ(due.items(0).alert().due().day(), 1);  // 7 days (戒毒条例 Art 23, 40)

  // The police notice, recorded by the township: discharged.
  discharge.set_notice_number("TEST-NOTICE-1");
  *discharge.mutable_notice_date() = D(2027, 3, 26);
  grpc::Status done = Call(&v1::CommunityRehab::Stub::RecordDischarge, cw_, discharge, &order);
  ASSERT_TRUE(done.ok()) << done.error_message();
  EXPECT_EQ(order.state(), "DISCHARGED");
  st = Status();
  EXPECT_EQ(st.state(), "DISCHARGED");
  EXPECT_FALSE(st.has_next_deadline());
  auto cached = server_->runtime().cache().Get(case_id_);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->at(Programme::kCommunityRehab).state, "DISCHARGED");
  EXPECT_EQ(cached->at(Programme::kCommunityRehab).version, st.version());
  EXPECT_EQ(Dispatch(), 1);
  events = registry_->events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_ENDED);
  EXPECT_EQ(events[2].occurred_on().day(), 26);
  // Nothing is due any more.
  due.Clear();
  due_req.clear_kind();
  ASSERT_TRUE(Call(&v1::CommunityRehab::Stub::ListDue, police_, due_req, &due).ok());
  EXPECT_EQ(due.items_size(), 0);
}

}  // namespace
}  // namespace rehab
}  // namespace pathway
