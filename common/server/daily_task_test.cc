#include "common/server/daily_task.h"

#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

// An instant given in China Standard Time.
absl::Time China(int y, int m, int d, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hour, minute, 0),
                         absl::FixedTimeZone(8 * 60 * 60));
}

TEST(DailyTaskTest, DueAtStartThenOnceADayFromTheHour) {
  const absl::CivilDay day(2026, 3, 1);
  EXPECT_TRUE(DailyTask::Due(std::nullopt, China(2026, 3, 1, 15), 1)) << "at start-up";
  EXPECT_FALSE(DailyTask::Due(day, China(2026, 3, 1, 23, 59), 1)) << "once a day";
  EXPECT_FALSE(DailyTask::Due(day, China(2026, 3, 2, 0, 59), 1)) << "not before the hour";
  EXPECT_TRUE(DailyTask::Due(day, China(2026, 3, 2, 1, 0), 1));
  EXPECT_TRUE(DailyTask::Due(day, China(2026, 3, 2, 22, 0), 1));
  // A day missed altogether (the service was down at the hour): at once.
  EXPECT_TRUE(DailyTask::Due(day, China(2026, 3, 3, 0, 10), 1));
  // The day is China's: 17:30 UTC on 1 March is already 2 March, 01:30 in China.
  EXPECT_TRUE(DailyTask::Due(day, absl::FromCivil(absl::CivilSecond(2026, 3, 1, 17, 30, 0),
                                                  absl::UTCTimeZone()),
                             1));
}

TEST(DailyTaskTest, RejectsABadHourOrInterval) {
  FakeClock clock(China(2026, 3, 1, 9));
  auto work = [](absl::Time) -> absl::StatusOr<int64_t> { return 0; };
  DailyTask::Options o;
  o.hour = 24;
  EXPECT_EQ(DailyTask::Start(&clock, o, work).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.hour = 1;
  o.check_interval = absl::ZeroDuration();
  EXPECT_EQ(DailyTask::Start(&clock, o, work).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DailyTaskTest, RunsAtStartAndAgainWhenTheClockReachesTheNextDaysHour) {
  FakeClock clock(China(2026, 3, 1, 9));
  absl::Mutex mu;
  std::vector<absl::Time> seen;
  bool fail_next = false;
  DailyTask::Options o;
  o.name = "test";
  o.hour = 1;
  o.check_interval = absl::Milliseconds(2);
  auto task = DailyTask::Start(&clock, o, [&](absl::Time now) -> absl::StatusOr<int64_t> {
    absl::MutexLock lock(&mu);
    if (fail_next) {
      fail_next = false;
      return absl::UnavailableError("store down");
    }
    seen.push_back(now);
    return static_cast<int64_t>(seen.size());
  });
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_TRUE((*task)->AwaitRunFor(absl::CivilDay(2026, 3, 1), absl::Seconds(30)))
      << "runs at start-up";
  EXPECT_EQ((*task)->last_day(), absl::CivilDay(2026, 3, 1));

  // The next day at 01:00 China time, after one failed try, it runs again.
  {
    absl::MutexLock lock(&mu);
    fail_next = true;
  }
  clock.Set(China(2026, 3, 2, 1, 5));
  ASSERT_TRUE((*task)->AwaitRunFor(absl::CivilDay(2026, 3, 2), absl::Seconds(30)))
      << "runs the next day after the failure";
  EXPECT_EQ((*task)->last_day(), absl::CivilDay(2026, 3, 2));
  EXPECT_GE((*task)->runs(), 3) << "start-up, the failed try, the retry";
  absl::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen.back(), China(2026, 3, 2, 1, 5));
}

}  // namespace
}  // namespace pathway
