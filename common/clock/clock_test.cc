#include "common/clock/clock.h"

#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(FakeClockTest, MovesOnlyWhenTold) {
  absl::Time start = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
  FakeClock clock(start);
  EXPECT_EQ(clock.Now(), start);
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(absl::Hours(36));
  EXPECT_EQ(clock.Now(), start + absl::Hours(36));
  clock.Set(start);
  EXPECT_EQ(clock.Now(), start);
}

TEST(RealClockTest, IsNearSystemTime) {
  RealClock clock;
  EXPECT_LT(absl::AbsDuration(clock.Now() - absl::Now()), absl::Seconds(5));
}

}  // namespace
}  // namespace pathway
