#include "common/server/handler_pool.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(HandlerPoolTest, AsManyWaitingHandlersAsThreadsRunAtOnce) {
  // Each task waits until all of them have started: with fewer threads than
  // tasks this would never finish, so finishing shows they ran side by side.
  constexpr int kThreads = 16;
  HandlerPool pool(kThreads, kThreads);
  absl::BlockingCounter started(kThreads);
  absl::Notification all_started;
  absl::BlockingCounter done(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(pool.Run([&](absl::Status admitted) {
                      EXPECT_TRUE(admitted.ok());
                      started.DecrementCount();
                      all_started.WaitForNotification();
                      done.DecrementCount();
                    }).ok());
  }
  started.Wait();
  all_started.Notify();
  done.Wait();
}

TEST(HandlerPoolTest, DestructionRunsWhatIsQueuedFirst) {
  std::atomic<int> ran{0};
  absl::Notification release;
  {
    HandlerPool pool(1, 101);  // the first may not have been picked up yet
    ASSERT_TRUE(pool.Run([&](absl::Status) {
                      release.WaitForNotification();
                      ++ran;
                    }).ok());
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(pool.Run([&](absl::Status) { ++ran; }).ok());
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 101);
}

TEST(HandlerPoolTest, AtLeastOneThreadAndOneQueued) {
  HandlerPool pool(0, 0);
  EXPECT_EQ(pool.threads(), 1);
  EXPECT_EQ(pool.max_queued(), 1);
  absl::Notification ran;
  ASSERT_TRUE(pool.Run([&](absl::Status) { ran.Notify(); }).ok());
  ran.WaitForNotification();
}

// Blocks the pool's only thread until released; returns once it runs.
void Occupy(HandlerPool& pool, absl::Notification* running, absl::Notification* release) {
  ASSERT_TRUE(pool.Run([running, release](absl::Status) {
                    running->Notify();
                    release->WaitForNotification();
                  }).ok());
  running->WaitForNotification();
}

TEST(HandlerPoolTest, AFullQueueRefusesAtOnceAndRunsNothingMore) {
  HandlerPool pool(1, 3);
  absl::Notification running, release;
  Occupy(pool, &running, &release);
  std::atomic<int> ran{0};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(pool.Run([&](absl::Status admitted) { ran += admitted.ok() ? 1 : 0; }).ok());
  }
  std::atomic<bool> refused_ran{false};
  absl::Status refused = pool.Run([&](absl::Status) { refused_ran = true; });
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(pool.stats().refused, 1);
  EXPECT_EQ(pool.stats().queued, 3);
  release.Notify();
  // Once a place frees up, work is taken again.
  absl::Notification later;
  absl::Status accepted = absl::UnknownError("not yet");
  while (!accepted.ok()) {
    accepted = pool.Run([&](absl::Status) { later.Notify(); });
    if (!accepted.ok()) std::this_thread::yield();
  }
  later.WaitForNotification();
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(refused_ran.load());
}

TEST(HandlerPoolTest, WorkWhoseCallerHasGoneIsNotStarted) {
  HandlerPool pool(1, 10);
  absl::Notification running, release;
  Occupy(pool, &running, &release);

  std::vector<absl::Status> seen(3, absl::UnknownError("not called"));
  absl::BlockingCounter answered(3);
  auto record = [&](int i) {
    return [&, i](absl::Status admitted) {
      seen[static_cast<size_t>(i)] = admitted;
      answered.DecrementCount();
    };
  };
  std::atomic<bool> cancelled{false};
  // Queued with a deadline that has passed by the time the thread is free (it is
  // already past: what matters is that it is checked at pick-up, not at Run).
  ASSERT_TRUE(pool.Run(record(0), Admission{absl::Now() - absl::Seconds(1), nullptr}).ok());
  ASSERT_TRUE(
      pool.Run(record(1), Admission{absl::InfiniteFuture(), [&] { return cancelled.load(); }})
          .ok());
  ASSERT_TRUE(pool.Run(record(2), Admission{absl::InfiniteFuture(), nullptr}).ok());
  cancelled = true;  // the caller gives up while its work waits
  release.Notify();
  answered.Wait();
  EXPECT_EQ(seen[0].code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(seen[1].code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(seen[2].ok());
  HandlerPool::Stats st = pool.stats();
  EXPECT_EQ(st.expired, 1);
  EXPECT_EQ(st.cancelled, 1);
  EXPECT_EQ(st.run, 2);  // the blocker and the last one
}

// Over real gRPC: a health Check whose handler runs on a pool with one thread and
// one waiting place.
class PooledHealth final : public grpc::health::v1::Health::CallbackService {
 public:
  explicit PooledHealth(HandlerPool* pool) : pool_(pool) {}
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx,
                                  const grpc::health::v1::HealthCheckRequest*,
                                  grpc::health::v1::HealthCheckResponse* resp) override {
    {
      // The server's own view of the first call's deadline: the client's, shifted by
      // however long the call took to arrive.
      absl::MutexLock lock(&mu_);
      if (first_deadline_ == absl::InfiniteFuture()) {
        first_deadline_ = absl::FromChrono(ctx->deadline());
      }
    }
    return FinishOnPool(ctx, *pool_, [resp, this]() -> absl::Status {
      ++ran;
      resp->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
      return absl::OkStatus();
    });
  }
  std::atomic<int> ran{0};
  absl::Time first_deadline() {
    absl::MutexLock lock(&mu_);
    return first_deadline_;
  }

 private:
  HandlerPool* pool_;
  absl::Mutex mu_;
  absl::Time first_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
};

// Polls `done` until it holds or `limit` passes (a failing test, never a hang).
bool Within(absl::Duration limit, const std::function<bool()>& done) {
  const absl::Time end = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST(FinishOnPoolTest, RefusesWhenFullAndSkipsCallsWhoseDeadlinePassedInTheQueue) {
  HandlerPool pool(1, 1);
  PooledHealth service(&pool);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));

  absl::Notification running, release;
  Occupy(pool, &running, &release);

  // Takes the one waiting place; its deadline passes while it waits. The deadline is
  // long enough for the call to reach the queue on a loaded machine; the server decides
  // "passed" from the deadline itself, so nothing below races with the clock.
  grpc::ClientContext queued_ctx;
  queued_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse queued_resp;
  absl::Notification queued_done;
  grpc::Status queued_status;
  stub->async()->Check(&queued_ctx, &req, &queued_resp, [&](grpc::Status s) {
    queued_status = s;
    queued_done.Notify();
  });
  ASSERT_TRUE(Within(absl::Seconds(5), [&] { return pool.stats().queued >= 1; }))
      << "the call never reached the queue";

  // The next call finds the queue full: refused without waiting for anything.
  grpc::ClientContext full_ctx;
  full_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::health::v1::HealthCheckResponse full_resp;
  grpc::Status full = stub->Check(&full_ctx, req, &full_resp);
  EXPECT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  queued_done.WaitForNotification();  // the client gave up
  EXPECT_EQ(queued_status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server learned of the call a moment after the client sent it, so its deadline
  // is a moment later: wait until that has passed too before the pool may pick it up.
  ASSERT_TRUE(Within(absl::Seconds(30), [&] { return absl::Now() > service.first_deadline(); }));
  release.Notify();
  ASSERT_TRUE(Within(absl::Seconds(30),
                     [&] { return pool.stats().expired + pool.stats().cancelled >= 1; }));
  EXPECT_EQ(service.ran.load(), 0) << "work whose caller had gone was never run";

  // With room again, a call runs.
  grpc::ClientContext ok_ctx;
  ok_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::health::v1::HealthCheckResponse ok_resp;
  EXPECT_TRUE(stub->Check(&ok_ctx, req, &ok_resp).ok());
  EXPECT_EQ(service.ran.load(), 1);
  server->Shutdown();
}

}  // namespace
}  // namespace pathway
