#include "common/codec/date_text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace pathway {
namespace {

// The value of text[pos, pos + n), all digits (checked by the caller).
int Digits(absl::string_view text, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (text[i] - '0');
  return v;
}

}  // namespace

std::string DayText(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", static_cast<int>(day.year()), day.month(), day.day());
}

std::optional<absl::CivilDay> ParseDayText(absl::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  const int y = Digits(text, 0, 4), m = Digits(text, 5, 2), d = Digits(text, 8, 2);
  const absl::CivilDay day(y, m, d);
  // CivilDay normalises (2026-02-30 becomes 2026-03-02); anything it changed is refused.
  if (day.year() != y || day.month() != m || day.day() != d) return std::nullopt;
  return day;
}

}  // namespace pathway
