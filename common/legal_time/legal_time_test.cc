#include "common/legal_time/legal_time.h"

#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace pathway::legal_time {
namespace {

using absl::CivilDay;

struct DaysCase {
  CivilDay event;
  int days;
  CivilDay deadline;
};

TEST(DeadlineAfterDaysTest, EventDayIsNotCounted) {
  // 民法典 Art 201; DESIGN.md §3: received 10 Jan, report by the end of 25 Jan.
  const std::vector<DaysCase> cases = {
      {CivilDay(2026, 1, 10), 15, CivilDay(2026, 1, 25)},
      {CivilDay(2026, 2, 20), 15, CivilDay(2026, 3, 7)},
      {CivilDay(2024, 2, 20), 15, CivilDay(2024, 3, 6)},  // leap year
      {CivilDay(2026, 12, 25), 15, CivilDay(2027, 1, 9)},
      {CivilDay(2026, 1, 10), 0, CivilDay(2026, 1, 10)},
  };
  for (const DaysCase& c : cases) {
    EXPECT_EQ(DeadlineAfterDays(c.event, c.days), c.deadline) << c.event;
  }
}

TEST(IsOverdueTest, OverdueFromTheDayAfterTheDeadline) {
  const CivilDay deadline = DeadlineAfterDays(CivilDay(2026, 1, 10), 15);
  EXPECT_FALSE(IsOverdue(deadline, CivilDay(2026, 1, 24)));
  EXPECT_FALSE(IsOverdue(deadline, CivilDay(2026, 1, 25)));
  EXPECT_TRUE(IsOverdue(deadline, CivilDay(2026, 1, 26)));
}

struct MonthsCase {
  CivilDay event;
  int months;
  CivilDay deadline;
};

TEST(DeadlineAfterMonthsTest, CorrespondingDayOrLastDayOfMonth) {
  // 民法典 Art 202.
  const std::vector<MonthsCase> cases = {
      {CivilDay(2026, 1, 31), 1, CivilDay(2026, 2, 28)},
      {CivilDay(2024, 1, 31), 1, CivilDay(2024, 2, 29)},  // leap year
      {CivilDay(2026, 3, 31), 1, CivilDay(2026, 4, 30)},
      {CivilDay(2026, 1, 15), 1, CivilDay(2026, 2, 15)},
      {CivilDay(2026, 11, 30), 3, CivilDay(2027, 2, 28)},
      {CivilDay(2024, 2, 29), 12, CivilDay(2025, 2, 28)},
      {CivilDay(2024, 2, 29), 48, CivilDay(2028, 2, 29)},
  };
  for (const MonthsCase& c : cases) {
    EXPECT_EQ(DeadlineAfterMonths(c.event, c.months), c.deadline)
        << c.event << " + " << c.months;
  }
}

struct TermCase {
  CivilDay start;
  int months;
  int excluded_days;
  CivilDay last_day;
};

TEST(TermLastDayTest, FirstDayCountsAndMissingDayIsFirstOfNextMonth) {
  const std::vector<TermCase> cases = {
      // 2-year isolation decided 15 Mar 2026 (戒毒条例 Art 27).
      {CivilDay(2026, 3, 15), 24, 0, CivilDay(2028, 3, 14)},
      // SD term of 3 years from the report date (戒毒条例 Art 14):
      // 自2026年2月1日起至2029年1月31日止.
      {CivilDay(2026, 2, 1), 36, 0, CivilDay(2029, 1, 31)},
      // A term starting 29 Feb: the corresponding day does not exist.
      {CivilDay(2024, 2, 29), 12, 0, CivilDay(2025, 2, 28)},
      {CivilDay(2024, 2, 29), 36, 0, CivilDay(2027, 2, 28)},
      {CivilDay(2024, 2, 29), 48, 0, CivilDay(2028, 2, 28)},
      // 31 Jan + 1 month: 31 Feb does not exist, so 1 Mar, and the term ends 28/29 Feb.
      {CivilDay(2026, 1, 31), 1, 0, CivilDay(2026, 2, 28)},
      {CivilDay(2024, 1, 31), 1, 0, CivilDay(2024, 2, 29)},
      {CivilDay(2026, 1, 1), 12, 0, CivilDay(2026, 12, 31)},
      // Excluded days (escape, a clock-pausing suspension) push the last day back.
      {CivilDay(2026, 2, 1), 36, 10, CivilDay(2029, 2, 10)},
      {CivilDay(2026, 3, 15), 24, 1, CivilDay(2028, 3, 15)},
      {CivilDay(2024, 2, 29), 12, 1, CivilDay(2025, 3, 1)},
  };
  for (const TermCase& c : cases) {
    EXPECT_EQ(TermLastDay(c.start, c.months, c.excluded_days), c.last_day)
        << c.start << " + " << c.months << " months, excluded " << c.excluded_days;
  }
}

TEST(TermLastDayTest, TermsNeverMoveOffHolidays) {
  // A term ending on a Sunday stays on that Sunday (民法典 Art 203 applies to
  // deadlines, not to terms of measures): TermLastDay takes no calendar.
  EXPECT_EQ(TermLastDay(CivilDay(2026, 1, 26), 12), CivilDay(2027, 1, 25));
  EXPECT_EQ(absl::GetWeekday(CivilDay(2027, 1, 25)), absl::Weekday::monday);
  EXPECT_EQ(TermLastDay(CivilDay(2025, 1, 26), 12), CivilDay(2026, 1, 25));
  EXPECT_EQ(absl::GetWeekday(CivilDay(2026, 1, 25)), absl::Weekday::sunday);
}

TEST(ServedThroughTest, OneYearOfTwoYearIsolation) {
  // DESIGN.md §3: decided 15 Mar 2026, one year served at the end of 14 Mar 2027, early
  // release can be proposed from 15 Mar 2027.
  const CivilDay start(2026, 3, 15);
  const CivilDay served = ServedThrough(start, 12);
  EXPECT_EQ(served, CivilDay(2027, 3, 14));
  EXPECT_FALSE(CivilDay(2027, 3, 14) > served);
  EXPECT_TRUE(CivilDay(2027, 3, 15) > served);
  EXPECT_EQ(ServedThrough(start, 12, 5), CivilDay(2027, 3, 19));
  EXPECT_EQ(ServedThrough(CivilDay(2024, 2, 29), 12), CivilDay(2025, 2, 28));
}

TEST(DaysBetweenTest, SignedWholeDays) {
  EXPECT_EQ(DaysBetween(CivilDay(2026, 1, 10), CivilDay(2026, 1, 25)), 15);
  EXPECT_EQ(DaysBetween(CivilDay(2026, 1, 25), CivilDay(2026, 1, 10)), -15);
  EXPECT_EQ(DaysBetween(CivilDay(2024, 2, 28), CivilDay(2024, 3, 1)), 2);
  EXPECT_EQ(DaysBetween(CivilDay(2025, 2, 28), CivilDay(2025, 3, 1)), 1);
  EXPECT_EQ(DaysBetween(CivilDay(2026, 2, 1), CivilDay(2026, 2, 1)), 0);
}

struct MoveCase {
  CivilDay last_day;
  CivilDay moved;
};

TEST(MoveOffNonWorkingDayTest, WithConfiguredCalendar) {
  // 民法典 Art 203. A synthetic calendar: 1-7 Oct 2026 holidays, Saturday 26 Sep 2026
  // a make-up working day (调休).
  std::vector<CivilDay> holidays;
  for (int d = 1; d <= 7; ++d) holidays.push_back(CivilDay(2026, 10, d));
  const ConfiguredHolidayCalendar calendar(holidays, {CivilDay(2026, 9, 26)});
  const std::vector<MoveCase> cases = {
      // Received 10 Jan 2026: the 15th day is Sunday 25 Jan, moved to Monday 26 Jan.
      {DeadlineAfterDays(CivilDay(2026, 1, 10), 15), CivilDay(2026, 1, 26)},
      {CivilDay(2026, 1, 24), CivilDay(2026, 1, 26)},  // Saturday
      {CivilDay(2026, 1, 23), CivilDay(2026, 1, 23)},  // Friday: no move
      // Received 16 Sep 2026: the 15th day is 1 Oct, a holiday through 7 Oct.
      {DeadlineAfterDays(CivilDay(2026, 9, 16), 15), CivilDay(2026, 10, 8)},
      {CivilDay(2026, 10, 7), CivilDay(2026, 10, 8)},
      {CivilDay(2026, 9, 26), CivilDay(2026, 9, 26)},  // make-up working Saturday
      {CivilDay(2026, 9, 27), CivilDay(2026, 9, 28)},  // ordinary Sunday
  };
  for (const MoveCase& c : cases) {
    EXPECT_EQ(MoveOffNonWorkingDay(c.last_day, &calendar), c.moved) << c.last_day;
  }
  EXPECT_TRUE(IsOverdue(MoveOffNonWorkingDay(CivilDay(2026, 1, 25), &calendar),
                        CivilDay(2026, 1, 27)));
  EXPECT_FALSE(IsOverdue(MoveOffNonWorkingDay(CivilDay(2026, 1, 25), &calendar),
                         CivilDay(2026, 1, 26)));
}

TEST(MoveOffNonWorkingDayTest, NoCalendarNoMove) {
  EXPECT_EQ(MoveOffNonWorkingDay(CivilDay(2026, 1, 25), nullptr), CivilDay(2026, 1, 25));
  EXPECT_EQ(MoveOffNonWorkingDay(CivilDay(2026, 10, 1), nullptr), CivilDay(2026, 10, 1));
}

TEST(ToCivilDayTest, ChinaStandardTime) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  // 23:59 UTC on 25 Jan is 07:59 on 26 Jan in China.
  EXPECT_EQ(ToCivilDay(absl::FromCivil(absl::CivilSecond(2026, 1, 25, 23, 59, 0), utc)),
            CivilDay(2026, 1, 26));
  // 15:59:59 UTC is 23:59:59 the same China day; 16:00 UTC is the next China day.
  EXPECT_EQ(ToCivilDay(absl::FromCivil(absl::CivilSecond(2026, 1, 25, 15, 59, 59), utc)),
            CivilDay(2026, 1, 25));
  EXPECT_EQ(ToCivilDay(absl::FromCivil(absl::CivilSecond(2026, 1, 25, 16, 0, 0), utc)),
            CivilDay(2026, 1, 26));
  // New year's eve and a leap day.
  EXPECT_EQ(ToCivilDay(absl::FromCivil(absl::CivilSecond(2026, 12, 31, 23, 59, 0), utc)),
            CivilDay(2027, 1, 1));
  EXPECT_EQ(ToCivilDay(absl::FromCivil(absl::CivilSecond(2024, 2, 28, 20, 0, 0), utc)),
            CivilDay(2024, 2, 29));
}

}  // namespace
}  // namespace pathway::legal_time
