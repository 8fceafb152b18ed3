#include "common/codec/proto_date.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pathway {

bool IsDateSet(const common::v1::Date& date) {
  return date.year() != 0 || date.month() != 0 || date.day() != 0;
}

absl::StatusOr<absl::CivilDay> RequiredDate(const common::v1::Date& date,
                                            absl::string_view field) {
  if (!IsDateSet(date)) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  const absl::CivilDay day = DayOf(date);
  if (date.year() < kMinProtoDateYear || date.year() > kMaxProtoDateYear ||
      day.year() != date.year() || day.month() != date.month() || day.day() != date.day()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not a valid date"));
  }
  return day;
}

absl::StatusOr<std::optional<absl::CivilDay>> OptionalDate(const common::v1::Date& date,
                                                           absl::string_view field) {
  if (!IsDateSet(date)) return std::optional<absl::CivilDay>();
  absl::StatusOr<absl::CivilDay> day = RequiredDate(date, field);
  if (!day.ok()) return day.status();
  return std::optional<absl::CivilDay>(*day);
}

absl::CivilDay DayOf(const common::v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

common::v1::Date ToProtoDate(absl::CivilDay day) {
  common::v1::Date out;
  ToProtoDate(day, &out);
  return out;
}

void ToProtoDate(absl::CivilDay day, common::v1::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

void ToProtoDate(const std::optional<absl::CivilDay>& day, common::v1::Date* out) {
  if (day.has_value()) ToProtoDate(*day, out);
}

}  // namespace pathway
