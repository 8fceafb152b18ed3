// The receiving end of the isolation hand-off on community detox, over real gRPC (in
// process, port 0, a real store) with a fake clock, a fake registry and an
// in-memory cache: CloseForIsolation closes the open SD order as handed over
// (禁毒法 Art 38) effective the decision date, answers OK and changes nothing when there
// is no open order, replays the first answer for a repeated key, reports "measure
// ended" through the outbox, and is open to the service and admin roles only.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/client/bearer_context.h"
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

constexpr char kKey[] = "detox-handoff-test-key-0123456789abcdefghijk";

using test::ChinaNoon;
using test::D;

class DetoxHandoffTest
    : public test::SupervisionServerTest<CommunityDetoxServer, v1::CommunityDetox> {
 protected:
  void SetUp() override {
    clock_.Set(ChinaNoon(2026, 3, 20));
    with_order_ = CaseId::Mint("520102", 2026, 51)->ToString();
    without_order_ = CaseId::Mint("520102", 2026, 52)->ToString();
    ASSERT_NO_FATAL_FAILURE(
        StartServer("community_detox", kKey, {Facts(with_order_), Facts(without_order_)}));

    v1::OpenOrderRequest open;
    open.set_case_id(with_order_);
    open.set_division("520102");
    open.set_place("520102001");
    open.set_decision_number("筑公(禁)决字[2026]51号");
    *open.mutable_decision_date() = D(2026, 1, 8);
    *open.mutable_received_on() = D(2026, 1, 10);
    v1::Order order;
    grpc::ClientContext ctx;
    SetBearerToken(&ctx, Token(Role::kPolice, "5201"));
    ASSERT_TRUE(stub_->OpenOrder(&ctx, open, &order).ok());
    ASSERT_EQ(Dispatch(), 1);  // measure started
  }

  std::string Token(Role role, const std::string& jurisdiction) {
    return SupervisionServerTest::Token(
        role, jurisdiction, role == Role::kService ? "svc-compulsory_isolation" : "user-1");
  }

  grpc::Status Close(Role role, const std::string& case_id, const std::string& key,
                     v1::CloseForIsolationResponse* out, const common::v1::Date& decided_on) {
    v1::CloseForIsolationRequest req;
    req.set_case_id(case_id);
    req.set_decision_number("筑公强戒决字[2026]051号");
    *req.mutable_decided_on() = decided_on;
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, Token(role, role == Role::kService ? "*" : "52"),
                         absl::Seconds(10));
    if (!key.empty()) ctx.AddMetadata("idempotency-key", key);
    return stub_->CloseForIsolation(&ctx, req, out);
  }

  v1::Order GetOrder(const std::string& case_id, grpc::Status* status = nullptr) {
    v1::GetOrderRequest req;
    req.set_case_id(case_id);
    grpc::ClientContext ctx;
    SetBearerToken(&ctx, Token(Role::kPolice, "5201"));
    v1::Order order;
    grpc::Status s = stub_->GetOrder(&ctx, req, &order);
    if (status != nullptr) *status = s;
    return order;
  }

  std::string with_order_, without_order_;
};

TEST_F(DetoxHandoffTest, ClosesTheOpenOrderAsHandedOverOnTheDecisionDate) {
  v1::CloseForIsolationResponse resp;
  grpc::Status s = Close(Role::kService, with_order_, "qz:7:close-sd", &resp, D(2026, 3, 15));
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(resp.closed());
  EXPECT_EQ(resp.closed_on().day(), 15);
  v1::Order order = GetOrder(with_order_);
  EXPECT_EQ(order.state(), "TERMINATED");
  EXPECT_EQ(order.close_reason(), "ISOLATION");
  EXPECT_EQ(order.closed_on().month(), 3);
  EXPECT_EQ(order.closed_on().day(), 15);
  EXPECT_EQ(order.closing_document(), "筑公强戒决字[2026]051号");
  EXPECT_EQ(order.order_id(), resp.order_id());
  // "Measure ended" leaves through the outbox, dated the decision.
  EXPECT_EQ(Dispatch(), 1);
  ASSERT_EQ(registry_->events().size(), 2u);
  EXPECT_EQ(registry_->events()[1].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_ENDED);
  EXPECT_EQ(registry_->events()[1].occurred_on().day(), 15);

  // The same hand-off again (the sender never saw the answer): the first answer,
  // nothing changes, nothing more for the registry.
  v1::CloseForIsolationResponse again;
  ASSERT_TRUE(Close(Role::kService, with_order_, "qz:7:close-sd", &again, D(2026, 3, 15)).ok());
  EXPECT_EQ(again.SerializeAsString(), resp.SerializeAsString());
  EXPECT_EQ(GetOrder(with_order_).SerializeAsString(), order.SerializeAsString());
  EXPECT_EQ(Dispatch(), 0);
  // The key names one request: reused for another, it is refused.
  EXPECT_EQ(
      Close(Role::kService, with_order_, "qz:7:close-sd", &again, D(2026, 3, 16)).error_code(),
      grpc::StatusCode::ALREADY_EXISTS);
  // A different hand-off for the closed order finds nothing open: OK, unchanged.
  ASSERT_TRUE(Close(Role::kService, with_order_, "qz:8:close-sd", &again, D(2026, 3, 18)).ok());
  EXPECT_FALSE(again.closed());
  EXPECT_EQ(GetOrder(with_order_).closed_on().day(), 15);
}

TEST_F(DetoxHandoffTest, NoOpenOrderAnswersOkAndChangesNothing) {
  v1::CloseForIsolationResponse resp;
  grpc::Status s = Close(Role::kService, without_order_, "qz:9:close-sd", &resp, D(2026, 3, 15));
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(resp.closed());
  EXPECT_EQ(resp.order_id(), 0);
  grpc::Status get;
  GetOrder(without_order_, &get);
  EXPECT_EQ(get.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Dispatch(), 0) << "nothing for the registry";
}

TEST_F(DetoxHandoffTest, OnlyServiceAndAdminMayCallIt) {
  v1::CloseForIsolationResponse resp;
  for (Role role :
       {Role::kPolice, Role::kCaseworker, Role::kFacilityStaff, Role::kAuditor, Role::kBatch}) {
    EXPECT_EQ(Close(role, with_order_, "", &resp, D(2026, 3, 15)).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << RoleName(role);
  }
  EXPECT_EQ(GetOrder(with_order_).state(), "AWAITING_REPORT");
  ASSERT_TRUE(Close(Role::kAdmin, with_order_, "", &resp, D(2026, 3, 15)).ok());
  EXPECT_TRUE(resp.closed());
}

TEST_F(DetoxHandoffTest, BadDatesAreRefusedNamingTheField) {
  v1::CloseForIsolationResponse resp;
  grpc::Status s = Close(Role::kService, with_order_, "", &resp, common::v1::Date());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("decided_on"), std::string::npos) << s.error_message();
  // In the future of the service's clock.
  EXPECT_EQ(Close(Role::kService, with_order_, "", &resp, D(2026, 3, 21)).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Before the SD decision was received.
  EXPECT_EQ(Close(Role::kService, with_order_, "", &resp, D(2026, 1, 9)).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GetOrder(with_order_).state(), "AWAITING_REPORT");
}

}  // namespace
}  // namespace detox
}  // namespace pathway
