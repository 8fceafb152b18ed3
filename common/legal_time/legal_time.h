// Legal time arithmetic shared by every service: deadlines counted from an event
// (民法典 Art 201-203) and terms of measures (first day counts), all in China Standard
// Time. DESIGN.md §3 "Two ways of counting time" is written once, here.
//
//   absl::CivilDay received(2026, 1, 10);
//   absl::CivilDay last = legal_time::DeadlineAfterDays(received, 15);  // 2026-01-25
//   bool late = legal_time::IsOverdue(last, absl::CivilDay(2026, 1, 26));  // true
//   absl::CivilDay end = legal_time::TermLastDay(absl::CivilDay(2026, 2, 1), 36);
//   // end == 2029-01-31 (自2026年2月1日起至2029年1月31日止)
//
// Free functions over values; ConfiguredHolidayCalendar is immutable after construction
// and safe to share between threads.
#ifndef PATHWAY_COMMON_LEGAL_TIME_LEGAL_TIME_H_
#define PATHWAY_COMMON_LEGAL_TIME_LEGAL_TIME_H_

#include <cstdint>
#include <set>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace pathway::legal_time {

// Deadlines counted from an event (民法典 Art 201): the event day is not counted; the
// deadline is the END of the returned day; from the next day it is overdue.
// DeadlineAfterDays(10 Jan, 15) == 25 Jan.
absl::CivilDay DeadlineAfterDays(absl::CivilDay event, int days);

// Periods in months (民法典 Art 202): the corresponding day of the final month, or its
// last day where it has none. DeadlineAfterMonths(31 Jan, 1) == 28/29 Feb.
absl::CivilDay DeadlineAfterMonths(absl::CivilDay event, int months);

// 民法典 Art 203: a deadline's last day on a non-working day moves to the next working
// day, only where a calendar is configured (calendar may be null = no move). Terms of
// measures never move.
class HolidayCalendar {
 public:
  virtual ~HolidayCalendar() = default;
  virtual bool IsNonWorkingDay(absl::CivilDay day) const = 0;
};

// Weekends and the listed holidays are non-working; the listed make-up working days
// (调休, weekend days worked) are working. A day listed as a holiday is non-working
// even if it is also listed as a working weekend day.
class ConfiguredHolidayCalendar final : public HolidayCalendar {
 public:
  ConfiguredHolidayCalendar(std::vector<absl::CivilDay> holidays,
                            std::vector<absl::CivilDay> working_weekend_days);
  bool IsNonWorkingDay(absl::CivilDay day) const override;

 private:
  std::set<absl::CivilDay> holidays_;
  std::set<absl::CivilDay> working_weekend_days_;
};

// The first working day at or after `last_day`; `last_day` itself when calendar is null.
absl::CivilDay MoveOffNonWorkingDay(absl::CivilDay last_day,
                                    const HolidayCalendar* calendar);

// True once the deadline's last day has passed.
inline bool IsOverdue(absl::CivilDay deadline, absl::CivilDay as_of) {
  return as_of > deadline;
}

// Terms of measures (first day counts, as decision documents write them): the term ends
// the day BEFORE the corresponding day; where the corresponding day does not exist
// (29 Feb, 31st) it is taken as the first day of the next month, so a term starting
// 29 Feb 2024 for 12 months ends 28 Feb 2025; 15 Mar 2026 + 24 months ends 14 Mar 2028;
// 1 Feb 2026 + 36 months ends 31 Jan 2029. excluded_days (escape, a clock-pausing
// suspension) push the last day back by as many days.
absl::CivilDay TermLastDay(absl::CivilDay start, int months, int excluded_days = 0);

// The last day of the first `months` of a term, i.e. the day by whose end that much
// has been served (TermLastDay(start, months, excluded_days)); something allowed
// "after one year served" is allowed from the NEXT day: a 2-year isolation decided
// 15 Mar 2026 has served one year at the end of 14 Mar 2027, early release can be
// proposed from 15 Mar 2027.
absl::CivilDay ServedThrough(absl::CivilDay start, int months, int excluded_days = 0);

// Whole days from `from` to `to` (to - from); negative if to < from.
int64_t DaysBetween(absl::CivilDay from, absl::CivilDay to);

// The calendar day of `t` in China Standard Time (UTC+8, no DST), the time zone of
// every legal date here.
absl::CivilDay ToCivilDay(absl::Time t);

}  // namespace pathway::legal_time

#endif  // PATHWAY_COMMON_LEGAL_TIME_LEGAL_TIME_H_
