#include "common/client/bearer_context.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// A health service that remembers the authorization headers and the deadline of the
// last call it answered.
class RecordingHealth final : public Health::CallbackService {
 public:
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx, const HealthCheckRequest*,
                                  HealthCheckResponse* resp) override {
    {
      absl::MutexLock lock(&mu_);
      authorization_.clear();
      auto [begin, end] = ctx->client_metadata().equal_range("authorization");
      for (auto it = begin; it != end; ++it) {
        authorization_.emplace_back(it->second.data(), it->second.size());
      }
      deadline_ = absl::FromChrono(ctx->deadline());
    }
    resp->set_status(HealthCheckResponse::SERVING);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  std::vector<std::string> authorization() const {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }
  absl::Time deadline() const {
    absl::MutexLock lock(&mu_);
    return deadline_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> authorization_ ABSL_GUARDED_BY(mu_);
  absl::Time deadline_ ABSL_GUARDED_BY(mu_);
};

class BearerContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&health_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    stub_ = Health::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  grpc::Status Check(grpc::ClientContext* ctx) {
    HealthCheckRequest req;
    HealthCheckResponse resp;
    return stub_->Check(ctx, req, &resp);
  }

  RecordingHealth health_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Health::Stub> stub_;
};

TEST(BearerHeaderTest, IsTheSchemeASpaceAndTheToken) {
  EXPECT_EQ(BearerHeader("a.b.c"), "Bearer a.b.c");
}

TEST_F(BearerContextTest, SendsOneBearerHeaderAndTheDeadlineFromNow) {
  grpc::ClientContext ctx;
  const absl::Time before = absl::Now();
  PrepareBearerContext(&ctx, "header.payload.signature", absl::Seconds(30));
  const absl::Time after = absl::Now();
  ASSERT_TRUE(Check(&ctx).ok());
  EXPECT_EQ(health_.authorization(), std::vector<std::string>{"Bearer header.payload.signature"});
  // The context carries the deadline 30 s from the call...
  const absl::Time set = absl::FromChrono(ctx.deadline());
  EXPECT_GE(set, before + absl::Seconds(30));
  EXPECT_LE(set, after + absl::Seconds(30));
  // ...and the server gets it: gRPC sends the time left, rounded up to its timeout
  // units, which the server adds to its own clock on receipt.
  EXPECT_GE(health_.deadline(), set - absl::Milliseconds(5));
  EXPECT_LT(health_.deadline(), set + absl::Seconds(5));
}

TEST_F(BearerContextTest, TakesAnAbsoluteDeadline) {
  grpc::ClientContext ctx;
  const absl::Time deadline = absl::Now() + absl::Seconds(42);
  PrepareBearerContext(&ctx, "t", deadline);
  ASSERT_TRUE(Check(&ctx).ok());
  EXPECT_EQ(health_.authorization(), std::vector<std::string>{"Bearer t"});
  EXPECT_LE(absl::AbsDuration(absl::FromChrono(ctx.deadline()) - deadline), absl::Microseconds(1));
  // On the wire the time left is rounded up to gRPC's timeout units (grpc-timeout),
  // so the server's deadline may be a little later, never earlier.
  EXPECT_GE(health_.deadline(), deadline - absl::Milliseconds(5));
  EXPECT_LT(health_.deadline(), deadline + absl::Seconds(5));
}

TEST_F(BearerContextTest, APassedDeadlineFailsTheCall) {
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, "t", absl::Now() - absl::Seconds(1));
  EXPECT_EQ(Check(&ctx).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(BearerContextTest, AnEmptyTokenSendsNoHeader) {
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, "", absl::Seconds(5));
  ASSERT_TRUE(Check(&ctx).ok());
  EXPECT_TRUE(health_.authorization().empty());
}

TEST_F(BearerContextTest, SetBearerTokenLeavesTheDeadlineAlone) {
  grpc::ClientContext ctx;
  SetBearerToken(&ctx, "t");
  ASSERT_TRUE(Check(&ctx).ok());
  EXPECT_EQ(health_.authorization(), std::vector<std::string>{"Bearer t"});
  // No deadline: the server sees the largest time it can represent.
  EXPECT_GT(health_.deadline(), absl::Now() + absl::Hours(24 * 365 * 100));
}

}  // namespace
}  // namespace pathway
