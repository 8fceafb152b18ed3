// The wire date (pathway.common.v1.Date) and absl::CivilDay.
//
// A request's dates are checked on the way in, naming the field in the
// INVALID_ARGUMENT a caller sees:
//
//   ASSIGN_OR_RETURN(absl::CivilDay on, RequiredDate(req.decided_on(), "decided_on"));
//   ASSIGN_OR_RETURN(std::optional<absl::CivilDay> as_of, OptionalDate(req.as_of(), "as_of"));
//   ToProtoDate(on, reply.mutable_decided_on());
//
// An all-zero Date is an absent one (proto3 cannot tell an unset message field from
// one set to zeros). A partial date (year without month, month without day), a day
// the calendar does not have and a year outside 1900..9999 are refused, for required
// and optional dates alike; an absent required date is refused too.
// Thread-safe: plain functions.
#ifndef PATHWAY_COMMON_CODEC_PROTO_DATE_H_
#define PATHWAY_COMMON_CODEC_PROTO_DATE_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "pathway/common/v1/common.pb.h"

namespace pathway {

// The years a request's date may name.
inline constexpr int kMinProtoDateYear = 1900;
inline constexpr int kMaxProtoDateYear = 9999;

// False for an all-zero (absent) date, true if any of year, month or day is set.
bool IsDateSet(const common::v1::Date& date);

// A date a caller must give: INVALID_ARGUMENT "<field> is required" when absent,
// "<field> is not a valid date" when partial, impossible or out of range.
absl::StatusOr<absl::CivilDay> RequiredDate(const common::v1::Date& date,
                                            absl::string_view field);

// A date a caller may leave out: nullopt when absent, otherwise as RequiredDate.
absl::StatusOr<std::optional<absl::CivilDay>> OptionalDate(const common::v1::Date& date,
                                                           absl::string_view field);

// The day of a date Pathway itself wrote (a stored record, a peer service's reply),
// taken as it is: nothing is checked, and CivilDay normalises an impossible day.
// Anything a caller sent goes through RequiredDate or OptionalDate instead.
absl::CivilDay DayOf(const common::v1::Date& date);

// `day` as a wire date.
common::v1::Date ToProtoDate(absl::CivilDay day);
void ToProtoDate(absl::CivilDay day, common::v1::Date* out);
// Writes `day` into *out when it has a value; leaves *out untouched otherwise.
void ToProtoDate(const std::optional<absl::CivilDay>& day, common::v1::Date* out);

}  // namespace pathway

#endif  // PATHWAY_COMMON_CODEC_PROTO_DATE_H_
