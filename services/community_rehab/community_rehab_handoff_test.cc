// The receiving ends of the isolation hand-offs on community rehabilitation, over real
// gRPC (in process, port 0, a real store) with a fake clock, a fake registry and
// an in-memory cache: OpenFromRelease opens the SK order decided at release (禁毒法
// Art 48; report window from the release date; term as decided), replays the first
// answer for a repeated key, accepts an identical order already recorded by hand, and
// refuses a different one; CloseForIsolation closes it; both are for the service and
// admin roles only.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/client/bearer_context.h"
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

constexpr char kKey[] = "rehab-handoff-test-key-0123456789abcdefghijk";

using test::ChinaNoon;
using test::D;

class RehabHandoffTest
    : public test::SupervisionServerTest<CommunityRehabServer, v1::CommunityRehab> {
 protected:
  void SetUp() override {
    clock_.Set(ChinaNoon(2027, 3, 26));
    case_ = CaseId::Mint("520102", 2026, 61)->ToString();
    // Lives in another county (520103) than the household place.
    ASSERT_NO_FATAL_FAILURE(
        StartServer("community_rehab", kKey, {Facts(case_, "520102", "520103")}));
  }

  std::string Token(Role role, const std::string& jurisdiction) {
    return SupervisionServerTest::Token(
        role, jurisdiction, role == Role::kService ? "svc-compulsory_isolation" : "user-1");
  }

  v1::OpenFromReleaseRequest OpenReq(const std::string& case_id) {
    v1::OpenFromReleaseRequest req;
    req.set_case_id(case_id);
    req.set_decision_number("筑公康字[2027]011号");
    *req.mutable_released_on() = D(2027, 3, 25);
    req.set_term_months(36);
    req.set_isolation_decision_id(7);
    return req;
  }

  grpc::Status Open(Role role, const v1::OpenFromReleaseRequest& req, const std::string& key,
                    v1::Order* out) {
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, Token(role, role == Role::kService ? "*" : "52"),
                         absl::Seconds(10));
    if (!key.empty()) ctx.AddMetadata("idempotency-key", key);
    return stub_->OpenFromRelease(&ctx, req, out);
  }

  std::string case_;
};

TEST_F(RehabHandoffTest, ReleaseOpensTheOrderWithTheWindowFromRelease) {
  v1::Order order;
  grpc::Status s = Open(Role::kService, OpenReq(case_), "qz:7:open-sk", &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(order.state(), "AWAITING_REPORT");
  EXPECT_EQ(order.term_months(), 36);
  EXPECT_EQ(order.decision_number(), "筑公康字[2027]011号");
  EXPECT_EQ(order.decision_date().day(), 25);
  EXPECT_EQ(order.received_on().day(), 25);
  // 戒毒条例 Art 37: the residence county executes it when none was named; 15 days to
  // report from the release (民法典 Art 201: 25 Mar + 15 = 9 Apr).
  EXPECT_EQ(order.division(), "520103");
  ASSERT_EQ(order.places_size(), 1);
  EXPECT_EQ(order.places(0).report_deadline().month(), 4);
  EXPECT_EQ(order.places(0).report_deadline().day(), 9);
  EXPECT_EQ(Dispatch(), 1);
  ASSERT_EQ(registry_->events().size(), 1u);
  EXPECT_EQ(registry_->events()[0].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
  EXPECT_EQ(registry_->events()[0].program(), common::v1::PROGRAM_COMMUNITY_REHAB);

  // A repeat of the hand-off answers the first result and opens nothing more.
  v1::Order again;
  ASSERT_TRUE(Open(Role::kService, OpenReq(case_), "qz:7:open-sk", &again).ok());
  EXPECT_EQ(again.SerializeAsString(), order.SerializeAsString());
  EXPECT_EQ(Dispatch(), 0);

  // Isolation decided again later closes the SK order as handed over.
  clock_.Set(ChinaNoon(2027, 9, 1));
  v1::CloseForIsolationRequest close;
  close.set_case_id(case_);
  close.set_decision_number("筑公强戒决字[2027]090号");
  *close.mutable_decided_on() = D(2027, 8, 30);
  v1::CloseForIsolationResponse closed;
  grpc::ClientContext ctx;
  SetBearerToken(&ctx, Token(Role::kService, "*"));
  ctx.AddMetadata("idempotency-key", "qz:9:close-sk");
  ASSERT_TRUE(stub_->CloseForIsolation(&ctx, close, &closed).ok());
  EXPECT_TRUE(closed.closed());
  EXPECT_EQ(closed.order_id(), order.order_id());
  EXPECT_EQ(closed.closed_on().day(), 30);
  EXPECT_EQ(Dispatch(), 1);
  ASSERT_EQ(registry_->events().size(), 2u);
  EXPECT_EQ(registry_->events()[1].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_ENDED);
}

TEST_F(RehabHandoffTest, NamedPlaceIsUsed) {
  v1::OpenFromReleaseRequest req = OpenReq(case_);
  req.set_division("520102");
  req.set_place("520102003");
  req.set_term_months(12);
  v1::Order order;
  ASSERT_TRUE(Open(Role::kService, req, "qz:7:open-sk", &order).ok());
  EXPECT_EQ(order.division(), "520102");
  EXPECT_EQ(order.places(0).place(), "520102003");
  EXPECT_EQ(order.term_months(), 12);
}

TEST_F(RehabHandoffTest, AnOrderRecordedByHandIsAcceptedOnlyIfItIsTheSameDecision) {
  v1::OpenOrderRequest manual;
  manual.set_case_id(case_);
  manual.set_division("520103");
  manual.set_place("520103001");
  manual.set_decision_number("筑公康字[2027]011号");
  *manual.mutable_decision_date() = D(2027, 3, 25);
  *manual.mutable_received_on() = D(2027, 3, 25);
  manual.set_term_months(36);
  v1::Order by_hand;
  grpc::ClientContext ctx;
  SetBearerToken(&ctx, Token(Role::kPolice, "520103"));
  ASSERT_TRUE(stub_->OpenOrder(&ctx, manual, &by_hand).ok());

  v1::Order order;
  ASSERT_TRUE(Open(Role::kService, OpenReq(case_), "qz:7:open-sk", &order).ok());
  EXPECT_EQ(order.order_id(), by_hand.order_id());
  EXPECT_EQ(order.places(0).place(), "520103001");
  v1::OpenFromReleaseRequest other = OpenReq(case_);
  other.set_decision_number("筑公康字[2027]012号");
  EXPECT_EQ(Open(Role::kService, other, "qz:8:open-sk", &order).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(RehabHandoffTest, RefusesWhatTheLawOrTheRegistryDoesNotAllow) {
  v1::Order order;
  v1::OpenFromReleaseRequest req = OpenReq(case_);
  req.set_term_months(37);  // 禁毒法 Art 48: at most 3 years
  EXPECT_EQ(Open(Role::kService, req, "", &order).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  req = OpenReq(case_);
  req.clear_released_on();
  EXPECT_EQ(Open(Role::kService, req, "", &order).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  req = OpenReq(case_);
  *req.mutable_released_on() = D(2027, 3, 27);  // in the future
  EXPECT_EQ(Open(Role::kService, req, "", &order).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A case the registry never issued.
  EXPECT_EQ(Open(Role::kService, OpenReq(CaseId::Mint("520102", 2026, 99)->ToString()), "", &order)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  registry_->SetUnavailable(true);
  EXPECT_EQ(Open(Role::kService, OpenReq(case_), "", &order).error_code(),
            grpc::StatusCode::UNAVAILABLE)
      << "retryable: the dispatcher tries again";
  registry_->SetUnavailable(false);
  for (Role role : {Role::kPolice, Role::kCaseworker, Role::kFacilityStaff, Role::kBatch}) {
    EXPECT_EQ(Open(role, OpenReq(case_), "", &order).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << RoleName(role);
  }
  ASSERT_TRUE(Open(Role::kAdmin, OpenReq(case_), "", &order).ok());
  EXPECT_EQ(order.state(), "AWAITING_REPORT");
}

TEST_F(RehabHandoffTest, AHungRegistryHoldsOnlyTheCallsThatNeedIt) {
  // More hand-offs waiting on the registry than gRPC has callback threads (2 on two
  // cores, 16 at most): they wait on the handler pool, so other calls still answer.
  constexpr int kStuck = 20;
  registry_->SetHeld(true);
  struct Pending {
    grpc::ClientContext ctx;
    v1::OpenFromReleaseRequest req;
    v1::Order resp;
  };
  std::vector<std::unique_ptr<Pending>> pending;
  absl::BlockingCounter answered(kStuck);
  for (int i = 0; i < kStuck; ++i) {
    auto p = std::make_unique<Pending>();
    PrepareBearerContext(&p->ctx, Token(Role::kService, "*"), absl::Seconds(60));
    p->ctx.AddMetadata("idempotency-key", absl::StrCat("held-", i));
    p->req = OpenReq(case_);
    stub_->async()->OpenFromRelease(&p->ctx, &p->req, &p->resp,
                                    [&answered](grpc::Status) { answered.DecrementCount(); });
    pending.push_back(std::move(p));
  }
  EXPECT_TRUE(registry_->AwaitHeldCalls(kStuck, absl::Seconds(30)))
      << "the hand-offs did not all reach the registry at once";

  common::v1::GetProgramStatusRequest req;
  req.set_case_id(case_);
  common::v1::ProgramStatus status;
  grpc::Status read =
      Call(&v1::CommunityRehab::Stub::GetProgramStatus, Token(Role::kCaseworker, "520102"), req,
           &status);
  EXPECT_NE(read.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << read.error_message();

  registry_->SetHeld(false);
  answered.Wait();
  // All the same decision: one order, the rest replays or the same answer.
  for (const auto& p : pending) EXPECT_EQ(p->resp.case_id(), case_);
}

}  // namespace
}  // namespace rehab
}  // namespace pathway
