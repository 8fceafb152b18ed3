#include "common/legal_time/legal_time.h"

#include <algorithm>

namespace pathway::legal_time {
namespace {

int DaysInMonth(absl::CivilMonth month) {
  return static_cast<int>(absl::CivilDay(month + 1) - absl::CivilDay(month));
}

// Longest run of consecutive non-working days we follow (a mis-configured calendar
// must not loop forever); Chinese public holidays never exceed 9 days in a row.
constexpr int kMaxNonWorkingRun = 366;

}  // namespace

absl::CivilDay DeadlineAfterDays(absl::CivilDay event, int days) {
  // 民法典 Art 201: the day of the event is not counted.
  return event + days;
}

absl::CivilDay DeadlineAfterMonths(absl::CivilDay event, int months) {
  // 民法典 Art 202: the corresponding day of the final month, or its last day.
  const absl::CivilMonth final_month = absl::CivilMonth(event) + months;
  const int day = std::min(event.day(), DaysInMonth(final_month));
  return absl::CivilDay(final_month.year(), final_month.month(), day);
}

ConfiguredHolidayCalendar::ConfiguredHolidayCalendar(
    std::vector<absl::CivilDay> holidays,
    std::vector<absl::CivilDay> working_weekend_days)
    : holidays_(holidays.begin(), holidays.end()),
      working_weekend_days_(working_weekend_days.begin(),
                            working_weekend_days.end()) {}

bool ConfiguredHolidayCalendar::IsNonWorkingDay(absl::CivilDay day) const {
  if (holidays_.count(day) > 0) return true;
  const absl::Weekday weekday = absl::GetWeekday(day);
  const bool weekend =
      weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday;
  return weekend && working_weekend_days_.count(day) == 0;
}

absl::CivilDay MoveOffNonWorkingDay(absl::CivilDay last_day,
                                    const HolidayCalendar* calendar) {
  // 民法典 Art 203: only where a calendar is configured.
  if (calendar == nullptr) return last_day;
  absl::CivilDay day = last_day;
  for (int i = 0; i < kMaxNonWorkingRun && calendar->IsNonWorkingDay(day); ++i) {
    ++day;
  }
  return day;
}

absl::CivilDay TermLastDay(absl::CivilDay start, int months, int excluded_days) {
  // The first day counts: the term ends the day before the corresponding day; a
  // corresponding day that does not exist is the first day of the next month.
  const absl::CivilMonth final_month = absl::CivilMonth(start) + months;
  absl::CivilDay corresponding;
  if (start.day() > DaysInMonth(final_month)) {
    corresponding = absl::CivilDay(final_month + 1);
  } else {
    corresponding = absl::CivilDay(final_month.year(), final_month.month(), start.day());
  }
  return corresponding - 1 + excluded_days;
}

absl::CivilDay ServedThrough(absl::CivilDay start, int months, int excluded_days) {
  return TermLastDay(start, months, excluded_days);
}

int64_t DaysBetween(absl::CivilDay from, absl::CivilDay to) {
  return static_cast<int64_t>(to - from);
}

absl::CivilDay ToCivilDay(absl::Time t) {
  static const absl::TimeZone kChinaStandardTime =
      absl::FixedTimeZone(8 * 60 * 60);
  return absl::ToCivilDay(t, kChinaStandardTime);
}

}  // namespace pathway::legal_time
