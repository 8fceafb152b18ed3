// A citizen's resident ID number (公民身份号码, GB 11643-1999), validated
// (DESIGN.md §6, domain-notes.md §5). 18 characters:
//
//   6-digit address code  (GB/T 2260 county at first issue; retired codes stay
//                          valid, so only "digits, not all zeros" is checked)
//   8-digit birth date    YYYYMMDD, a real calendar date between
//                          kMinBirthDate and `today`
//   3-digit sequence      odd = male, even = female; "000" is never issued
//   1 check character     ISO 7064 MOD 11-2 over the first 17 digits; 'x' is
//                          accepted and normalised to 'X'
//
// The number is personal data: error messages never contain it or any part
// of it, Masked() is the only form fit for display to roles that do not need
// the number, and the class deliberately has no operator<< so it cannot be
// logged by accident. Surrounding whitespace is rejected, not trimmed. The
// 15-digit numbers of GB 11643-1989 are rejected (they stopped being valid on
// 2013-01-01, 居民身份证法 Art 23).
//
//   absl::CivilDay today = absl::ToCivilDay(clock.Now(), shanghai_tz);
//   ASSIGN_OR_RETURN(ResidentId id,
//                    ResidentId::Parse(request.id_number(), today));
//   id.sex();         // ResidentId::Sex::kMale
//   id.AgeOn(today);  // completed years
//   id.Masked();      // "340524***********X"
//
// Thread safety: immutable value type; const methods are safe to call
// concurrently.
#ifndef PATHWAY_COMMON_IDS_RESIDENT_ID_H_
#define PATHWAY_COMMON_IDS_RESIDENT_ID_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace pathway {

class ResidentId {
 public:
  enum class Sex { kMale, kFemale };

  // Length of an ID number.
  static constexpr size_t kLength = 18;
  // Earliest birth date accepted. Lower than anyone living so that the
  // standard's own example (440524188001010014, born 1880-01-01) is valid,
  // while a mistyped century such as 0980 is still caught.
  static constexpr absl::CivilDay kMinBirthDate = absl::CivilDay(1850, 1, 1);

  // Validates `text` as an 18-character ID number whose birth date is not
  // after `today` (the current date where the caller is, e.g. Asia/Shanghai).
  // Returns INVALID_ARGUMENT with a message that names the problem but never
  // includes the number or any part of it, e.g.
  // "resident ID number: check character does not match".
  static absl::StatusOr<ResidentId> Parse(absl::string_view text,
                                          absl::CivilDay today);

  // The 18 characters, with a check character 'x' upper-cased.
  const std::string& normalized() const { return normalized_; }
  absl::CivilDay birth_date() const { return birth_date_; }
  // From the parity of the sequence code: odd is male, even is female.
  Sex sex() const;
  // The first six digits (the GB/T 2260 code at first issue; may be retired).
  std::string address_code() const { return normalized_.substr(0, 6); }

  // Age in completed years on `day`. The age goes up on the birthday; for
  // someone born on 29 February it goes up on 1 March in non-leap years.
  // Negative if `day` is before the birth date.
  int AgeOn(absl::CivilDay day) const;

  // The address code and the check character with everything between (birth
  // date and sequence) masked: 6 digits, 11 '*', 1 character, e.g.
  // "340524***********X".
  std::string Masked() const;

  friend bool operator==(const ResidentId& a, const ResidentId& b) {
    return a.normalized_ == b.normalized_;
  }
  friend bool operator!=(const ResidentId& a, const ResidentId& b) {
    return !(a == b);
  }

 private:
  ResidentId(std::string normalized, absl::CivilDay birth_date)
      : normalized_(std::move(normalized)), birth_date_(birth_date) {}

  std::string normalized_;
  absl::CivilDay birth_date_;
};

// Builds a valid 18-character ID number (correct check character) from its
// parts. For tests and benchmarks only: synthetic data, never real people.
// Preconditions (checked in debug builds only): `address_code` is 6 digits,
// `birth` is in years 0..9999, `sequence` is 0..999. The result passes
// ResidentId::Parse when the address code is not all zeros, `sequence` is not
// 0 and `birth` lies between kMinBirthDate and the `today` given to Parse.
std::string GenerateSyntheticResidentId(absl::string_view address_code,
                                        absl::CivilDay birth, int sequence);

}  // namespace pathway

#endif  // PATHWAY_COMMON_IDS_RESIDENT_ID_H_
