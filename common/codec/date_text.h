// A civil day as text, "YYYY-MM-DD": the form dates take in every database (it sorts
// as the dates do), in page tokens, reports and command lines.
//
//   std::string text = DayText(absl::CivilDay(2028, 2, 29));   // "2028-02-29"
//   std::optional<absl::CivilDay> day = ParseDayText(text);    // 2028-02-29
//
// Parsing is strict: exactly four digits, '-', two digits, '-', two digits, naming a
// day the calendar has. Nothing else is accepted (no sign, no space, no single-digit
// month, no "2026-02-30"), so a text read back is always one DayText wrote.
// Thread-safe: plain functions.
#ifndef PATHWAY_COMMON_CODEC_DATE_TEXT_H_
#define PATHWAY_COMMON_CODEC_DATE_TEXT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace pathway {

// "YYYY-MM-DD", zero-padded. Meant for years 0..9999 (what ParseDayText reads back).
std::string DayText(absl::CivilDay day);

// The day `text` names; nullopt for an empty, malformed or impossible text.
std::optional<absl::CivilDay> ParseDayText(absl::string_view text);

}  // namespace pathway

#endif  // PATHWAY_COMMON_CODEC_DATE_TEXT_H_
