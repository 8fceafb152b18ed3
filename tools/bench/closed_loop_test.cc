#include "tools/bench/closed_loop.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace pathway {
namespace bench {
namespace {

TEST(PercentileTest, NearestRank) {
  std::vector<int64_t> micros;
  for (int i = 1; i <= 1000; ++i) micros.push_back(i * 1000);  // 1..1000 ms
  EXPECT_DOUBLE_EQ(PercentileMs(micros, 50), 500);
  EXPECT_DOUBLE_EQ(PercentileMs(micros, 99), 990);
  EXPECT_DOUBLE_EQ(PercentileMs(micros, 99.9), 999);
  EXPECT_DOUBLE_EQ(PercentileMs(micros, 100), 1000);
  EXPECT_DOUBLE_EQ(PercentileMs({}, 99), 0);
  EXPECT_DOUBLE_EQ(PercentileMs({7000}, 50), 7);
}

TEST(SummarizeTest, SortsAndComputesThroughput) {
  std::vector<int64_t> micros = {3000, 1000, 2000, 4000};
  LoadResult r;
  Summarize(&micros, 2.0, &r);
  EXPECT_EQ(r.calls, 4);
  EXPECT_DOUBLE_EQ(r.throughput, 2.0);
  EXPECT_DOUBLE_EQ(r.mean_ms, 2.5);
  EXPECT_DOUBLE_EQ(r.p50_ms, 2);
  EXPECT_DOUBLE_EQ(r.max_ms, 4);
}

TEST(ClosedLoopTest, KeepsOneCallPerSlotInFlightAndCountsErrors) {
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  ClosedLoop::Options o;
  o.concurrency = 4;
  o.duration = absl::Milliseconds(200);
  o.warmup = absl::Milliseconds(20);
  // Calls that complete inline, half of them failing: the loop must not recurse
  // and must count both.
  LoadResult r = ClosedLoop::Run(o, [&](int, uint64_t seq, ClosedLoop::DoneFn done) {
    int now = ++in_flight;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    --in_flight;
    done(seq % 2 == 0 ? grpc::Status::OK
                      : grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
  });
  EXPECT_GT(r.calls, 100);
  EXPECT_LE(max_in_flight.load(), 4);
  EXPECT_GT(r.errors, 0);
  EXPECT_LT(r.errors, r.calls);
  EXPECT_EQ(r.errors_by_code.at("UNAVAILABLE"), r.errors);
  EXPECT_EQ(r.concurrency, 4);
}

// A health service that always answers SERVING (callback API, as the servers).
class ServingHealth final : public grpc::health::v1::Health::CallbackService {
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx,
                                  const grpc::health::v1::HealthCheckRequest*,
                                  grpc::health::v1::HealthCheckResponse* resp) override {
    resp->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

TEST(ClosedLoopTest, DrivesRealAsyncCallsToAHealthServer) {
  ServingHealth health;
  grpc::ServerBuilder builder;
  builder.RegisterService(&health);
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  struct Call {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
  };
  ClosedLoop::Options o;
  o.concurrency = 8;
  o.duration = absl::Milliseconds(300);
  o.warmup = absl::Milliseconds(50);
  std::vector<int64_t> samples;
  LoadResult r = ClosedLoop::Run(
      o,
      [&](int, uint64_t, ClosedLoop::DoneFn done) {
        auto call = std::make_shared<Call>();
        stub->async()->Check(&call->ctx, &call->req, &call->resp,
                             [call, done](grpc::Status s) { done(s); });
      },
      &samples);
  EXPECT_GT(r.calls, 10);
  EXPECT_EQ(r.errors, 0);
  EXPECT_EQ(static_cast<int64_t>(samples.size()), r.calls);
  EXPECT_GT(r.p99_ms, 0);
  EXPECT_LE(r.p50_ms, r.p99_ms);
  EXPECT_LE(r.p99_ms, r.p999_ms);
  server->Shutdown();
}

}  // namespace
}  // namespace bench
}  // namespace pathway
