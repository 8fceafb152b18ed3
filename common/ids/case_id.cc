#include "common/ids/case_id.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/ids/iso7064.h"

namespace pathway {
namespace {

// Field layout of "DDDDDD-YYYY-NNNNNNN-C".
constexpr size_t kDivisionPos = 0, kDivisionLen = 6;
constexpr size_t kYearPos = 7, kYearLen = 4;
constexpr size_t kSequencePos = 12, kSequenceLen = 7;
constexpr size_t kCheckPos = 20;
constexpr size_t kDashPositions[] = {6, 11, 19};

// Inputs longer than this are not quoted back: a client that sends a kilobyte
// does not get it echoed into logs and replies.
constexpr size_t kMaxQuotedLength = 32;

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Parses a field already known to be all digits.
int64_t DigitsValue(absl::string_view s) {
  int64_t value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

absl::Status ParseError(absl::string_view text, absl::string_view what) {
  if (text.size() > kMaxQuotedLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("case id (", text.size(), " characters): ", what));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("case id \"", absl::CHexEscape(text), "\": ", what));
}

}  // namespace

absl::StatusOr<CaseId> CaseId::Parse(absl::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError("case id: empty");
  }
  if (text.size() != kLength) {
    return ParseError(
        text, absl::StrCat("must be ", kLength,
                           " characters in the form DDDDDD-YYYY-NNNNNNN-C, "
                           "got ",
                           text.size()));
  }
  for (size_t pos : kDashPositions) {
    if (text[pos] != '-') {
      return ParseError(text,
                        "must have the form DDDDDD-YYYY-NNNNNNN-C, with a '-' "
                        "after the division code, the year and the sequence");
    }
  }

  absl::string_view division_text = text.substr(kDivisionPos, kDivisionLen);
  absl::StatusOr<DivisionCode> division = DivisionCode::Parse(division_text);
  if (!division.ok()) {
    return ParseError(text, "division code must be 6 digits, not all zeros");
  }

  absl::string_view year_text = text.substr(kYearPos, kYearLen);
  if (!AllDigits(year_text)) {
    return ParseError(text, "year must be 4 digits");
  }
  const int year = static_cast<int>(DigitsValue(year_text));
  if (year < kMinYear || year > kMaxYear) {
    return ParseError(text, absl::StrCat("year must be between ", kMinYear,
                                         " and ", kMaxYear));
  }

  absl::string_view sequence_text = text.substr(kSequencePos, kSequenceLen);
  if (!AllDigits(sequence_text)) {
    return ParseError(text, "sequence must be 7 digits");
  }
  const int64_t sequence = DigitsValue(sequence_text);
  if (sequence < 1) {
    return ParseError(text, "sequence must be between 0000001 and 9999999");
  }

  char given = text[kCheckPos];
  if (given == 'x') given = 'X';
  if (given != 'X' && (given < '0' || given > '9')) {
    return ParseError(text, "check character must be a digit or X");
  }
  const std::string digits =
      absl::StrCat(division_text, year_text, sequence_text);
  if (Mod11_2CheckChar(digits) != given) {
    return ParseError(
        text, "check character does not match; the id was probably mistyped");
  }
  return CaseId(*std::move(division), year, sequence, given);
}

absl::StatusOr<CaseId> CaseId::Mint(absl::string_view division, int year,
                                    int64_t sequence) {
  absl::StatusOr<DivisionCode> code = DivisionCode::Parse(division);
  if (!code.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("case id: ", code.status().message()));
  }
  if (year < kMinYear || year > kMaxYear) {
    return absl::InvalidArgumentError(absl::StrCat("case id: year ", year,
                                                   " is not between ", kMinYear,
                                                   " and ", kMaxYear));
  }
  if (sequence < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("case id: sequence ", sequence, " must be at least 1"));
  }
  if (sequence > kMaxSequence) {
    return absl::OutOfRangeError(
        absl::StrCat("case id: sequence ", sequence, " exceeds ", kMaxSequence,
                     "; the division's case ids for ", year, " are used up"));
  }
  const std::string digits = absl::StrFormat("%s%04d%07d", code->code(), year,
                                             static_cast<long long>(sequence));
  const char check = Mod11_2CheckChar(digits);
  return CaseId(*std::move(code), year, sequence, check);
}

std::string CaseId::ToString() const {
  return absl::StrFormat("%s-%04d-%07d-%c", division_.code(), year_,
                         static_cast<long long>(sequence_), check_char_);
}

std::ostream& operator<<(std::ostream& os, const CaseId& id) {
  return os << id.ToString();
}

}  // namespace pathway
