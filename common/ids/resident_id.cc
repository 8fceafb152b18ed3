#include "common/ids/resident_id.h"

#include <cassert>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/ids/division_code.h"
#include "common/ids/iso7064.h"

namespace pathway {
namespace {

// Layout: address code, birth date YYYYMMDD, sequence, check character.
constexpr size_t kAddressLen = 6;
constexpr size_t kBirthPos = 6;
constexpr size_t kSequencePos = 14, kSequenceLen = 3;
constexpr size_t kCheckPos = 17;
constexpr size_t kLegacyLength = 15;

// Every message starts with this and never carries the number or its parts.
absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("resident ID number: ", what));
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int DigitsValue(absl::string_view s) {
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

absl::StatusOr<ResidentId> ResidentId::Parse(absl::string_view text,
                                             absl::CivilDay today) {
  if (text.empty()) return Invalid("empty");
  for (char c : text) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return Invalid("contains whitespace; send the 18 characters only");
    }
  }
  if (text.size() == kLegacyLength && AllDigits(text)) {
    return Invalid(
        "15-digit numbers are no longer valid (since 2013-01-01); "
        "ask for the 18-character number");
  }
  if (text.size() != kLength) {
    return Invalid("must be 18 characters: 17 digits and a check digit or X");
  }
  absl::string_view body = text.substr(0, kCheckPos);
  if (!AllDigits(body)) {
    return Invalid("the first 17 characters must be digits");
  }
  char check = text[kCheckPos];
  if (check == 'x') check = 'X';
  if (check != 'X' && (check < '0' || check > '9')) {
    return Invalid("the last character must be a digit or X");
  }
  // The check character first: a mistyped number is the common case, and
  // saying so helps more than pointing at the field the typo happened to hit.
  if (Mod11_2CheckChar(body) != check) {
    return Invalid("check character does not match");
  }

  if (!ValidateDivisionCode(text.substr(0, kAddressLen)).ok()) {
    return Invalid("address code must not be all zeros");
  }

  const int year = DigitsValue(text.substr(kBirthPos, 4));
  const int month = DigitsValue(text.substr(kBirthPos + 4, 2));
  const int day = DigitsValue(text.substr(kBirthPos + 6, 2));
  // absl::CivilDay normalises out-of-range fields (31 April becomes 1 May), so
  // a date is real exactly when it survives construction unchanged.
  const absl::CivilDay birth(year, month, day);
  if (birth.year() != year || birth.month() != month || birth.day() != day) {
    return Invalid("birth date is not a real calendar date");
  }
  if (birth < kMinBirthDate) {
    return Invalid("birth date is before 1850-01-01");
  }
  if (birth > today) {
    return Invalid("birth date is in the future");
  }

  if (DigitsValue(text.substr(kSequencePos, kSequenceLen)) == 0) {
    return Invalid("sequence code must not be zero");
  }

  std::string normalized(text);
  normalized[kCheckPos] = check;
  return ResidentId(std::move(normalized), birth);
}

ResidentId::Sex ResidentId::sex() const {
  const int last_sequence_digit = normalized_[kCheckPos - 1] - '0';
  return last_sequence_digit % 2 == 1 ? Sex::kMale : Sex::kFemale;
}

int ResidentId::AgeOn(absl::CivilDay day) const {
  int age = static_cast<int>(day.year() - birth_date_.year());
  // The birthday in day's year. CivilDay would normalise 29 February of a
  // non-leap year to 1 March by itself; spelled out here because it is the
  // documented rule, not an accident.
  absl::CivilDay birthday(day.year(), birth_date_.month(), birth_date_.day());
  if (birth_date_.month() == 2 && birth_date_.day() == 29 &&
      birthday.month() != 2) {
    birthday = absl::CivilDay(day.year(), 3, 1);
  }
  if (day < birthday) --age;
  return age;
}

std::string ResidentId::Masked() const {
  return absl::StrCat(normalized_.substr(0, kAddressLen),
                      std::string(kCheckPos - kAddressLen, '*'),
                      normalized_.substr(kCheckPos));
}

std::string GenerateSyntheticResidentId(absl::string_view address_code,
                                        absl::CivilDay birth, int sequence) {
  assert(address_code.size() == kAddressLen && AllDigits(address_code));
  assert(birth.year() >= 0 && birth.year() <= 9999);
  assert(sequence >= 0 && sequence <= 999);
  std::string body = absl::StrFormat("%s%04d%02d%02d%03d", address_code,
                                     static_cast<int>(birth.year()),
                                     birth.month(), birth.day(), sequence);
  body.push_back(Mod11_2CheckChar(body));
  return body;
}

}  // namespace pathway
