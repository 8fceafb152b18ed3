// The case identifier minted by the registry and accepted by every service
// (DESIGN.md §2):
//
//   <6-digit division code>-<4-digit year>-<7-digit sequence>-<check character>
//
// e.g. "520102-2026-0000042-2". The division code is the registering county
// (GB/T 2260); the check character is ISO 7064 MOD 11-2 over the 17 digits
// (6 + 4 + 7), as on resident ID cards, so a mistyped id is rejected with
// INVALID_ARGUMENT before any lookup. The id carries no personal data, so
// error messages may quote it.
//
//   ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(request.case_id()));
//   if (!id.division().IsWithin(caller.jurisdiction)) return NotFound();
//
//   ASSIGN_OR_RETURN(CaseId minted, CaseId::Mint("520102", 2026, 42));
//   minted.ToString();  // "520102-2026-0000042-2"
//
// Thread safety: immutable value type; const methods are safe to call
// concurrently.
#ifndef PATHWAY_COMMON_IDS_CASE_ID_H_
#define PATHWAY_COMMON_IDS_CASE_ID_H_

#include <cstdint>
#include <iosfwd>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/ids/division_code.h"

namespace pathway {

class CaseId {
 public:
  // Years a case id may carry. The floor leaves room for migrating cases
  // registered before Pathway; the ceiling keeps the year four digits.
  static constexpr int kMinYear = 1990;
  static constexpr int kMaxYear = 2999;
  // Sequence numbers run 1..kMaxSequence per division and year; 0 is never
  // issued.
  static constexpr int64_t kMaxSequence = 9'999'999;
  // Length of the canonical text form, "DDDDDD-YYYY-NNNNNNN-C".
  static constexpr size_t kLength = 21;

  // Parses the canonical text form. Exactly 21 characters, no surrounding
  // whitespace; a lower-case 'x' check character is accepted and normalised
  // to 'X'. Returns INVALID_ARGUMENT naming what is wrong: the shape (length,
  // dashes), the division code, the year (kMinYear..kMaxYear), the sequence
  // (0000001..9999999), or a check character that does not match.
  static absl::StatusOr<CaseId> Parse(absl::string_view text);

  // Builds the id for a newly registered case and computes its check
  // character. INVALID_ARGUMENT if `division` is not a valid division code,
  // `year` is outside kMinYear..kMaxYear or `sequence` < 1; OUT_OF_RANGE if
  // `sequence` > kMaxSequence (the division's numbers for that year are used
  // up).
  static absl::StatusOr<CaseId> Mint(absl::string_view division, int year,
                                     int64_t sequence);

  // The canonical form, e.g. "520102-2026-0000042-2". Parse(ToString()) gives
  // back an equal id.
  std::string ToString() const;

  const DivisionCode& division() const { return division_; }
  int year() const { return year_; }
  int64_t sequence() const { return sequence_; }
  // '0'..'9' or 'X' (always upper case).
  char check_char() const { return check_char_; }

  friend bool operator==(const CaseId& a, const CaseId& b) {
    return a.Key() == b.Key();
  }
  friend bool operator!=(const CaseId& a, const CaseId& b) { return !(a == b); }
  // Orders as the canonical strings do: by division code, year, sequence.
  friend bool operator<(const CaseId& a, const CaseId& b) {
    return a.Key() < b.Key();
  }
  template <typename H>
  friend H AbslHashValue(H h, const CaseId& id) {
    return H::combine(std::move(h), id.division_, id.year_, id.sequence_);
  }

 private:
  CaseId(DivisionCode division, int year, int64_t sequence, char check_char)
      : division_(std::move(division)),
        year_(year),
        sequence_(sequence),
        check_char_(check_char) {}

  // The check character is a function of the other fields.
  std::tuple<const std::string&, int, int64_t> Key() const {
    return std::tie(division_.code(), year_, sequence_);
  }

  DivisionCode division_;
  int year_;
  int64_t sequence_;
  char check_char_;
};

// Writes id.ToString(); lets tests and logs print ids (they hold no personal
// data).
std::ostream& operator<<(std::ostream& os, const CaseId& id);

}  // namespace pathway

#endif  // PATHWAY_COMMON_IDS_CASE_ID_H_
