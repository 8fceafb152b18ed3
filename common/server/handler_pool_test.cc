#include "common/server/handler_pool.h"

#include <atomic>
#include <memory>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(HandlerPoolTest, AsManyWaitingHandlersAsThreadsRunAtOnce) {
  // Each task waits until all of them have started: with fewer threads than
  // tasks this would never finish, so finishing shows they ran side by side.
  constexpr int kThreads = 16;
  HandlerPool pool(kThreads);
  absl::BlockingCounter started(kThreads);
  absl::Notification all_started;
  absl::BlockingCounter done(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    pool.Run([&] {
      started.DecrementCount();
      all_started.WaitForNotification();
      done.DecrementCount();
    });
  }
  started.Wait();
  all_started.Notify();
  done.Wait();
}

TEST(HandlerPoolTest, DestructionRunsWhatIsQueuedFirst) {
  std::atomic<int> ran{0};
  absl::Notification release;
  {
    HandlerPool pool(1);
    pool.Run([&] {
      release.WaitForNotification();
      ++ran;
    });
    for (int i = 0; i < 100; ++i) pool.Run([&] { ++ran; });
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 101);
}

TEST(HandlerPoolTest, AtLeastOneThread) {
  HandlerPool pool(0);
  EXPECT_EQ(pool.threads(), 1);
  absl::Notification ran;
  pool.Run([&] { ran.Notify(); });
  ran.WaitForNotification();
}

}  // namespace
}  // namespace pathway
