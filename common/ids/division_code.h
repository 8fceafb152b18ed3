// An administrative division code (行政区划代码, GB/T 2260): six digits, two
// each for province, prefecture-level city and county. Case ids carry the
// registering county's code, and a caller's jurisdiction is a prefix of one
// (DESIGN.md §2, §6).
//
// Only the shape is validated: six digits, not "000000". Codes are never
// checked against the current table, because a code retired when a division
// changes stays valid forever on the ids and records that carry it
// (domain-notes.md §5).
//
//   ASSIGN_OR_RETURN(DivisionCode code, DivisionCode::Parse("520102"));
//   code.province();         // "52"
//   code.city();             // "5201"
//   code.county();           // "520102"
//   code.IsWithin("5201");   // true
//
// Thread safety: immutable value type; const methods are safe to call
// concurrently.
#ifndef PATHWAY_COMMON_IDS_DIVISION_CODE_H_
#define PATHWAY_COMMON_IDS_DIVISION_CODE_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pathway {

// OK if `code` is six ASCII digits and not "000000"; otherwise
// INVALID_ARGUMENT. The message does not echo `code`, since it may be part of
// a resident ID number.
absl::Status ValidateDivisionCode(absl::string_view code);

class DivisionCode {
 public:
  // Validates as ValidateDivisionCode.
  static absl::StatusOr<DivisionCode> Parse(absl::string_view code);

  // The six digits.
  const std::string& code() const { return code_; }
  // Two-digit province prefix, e.g. "52".
  std::string province() const { return code_.substr(0, 2); }
  // Four-digit province + prefecture-level city prefix, e.g. "5201".
  std::string city() const { return code_.substr(0, 4); }
  // The full six-digit county code, e.g. "520102".
  std::string county() const { return code_; }

  // True if `prefix` is a 2-, 4- or 6-digit jurisdiction prefix (province,
  // city or county) that this code starts with. Any other prefix is false.
  bool IsWithin(absl::string_view prefix) const;

  friend bool operator==(const DivisionCode& a, const DivisionCode& b) {
    return a.code_ == b.code_;
  }
  friend bool operator!=(const DivisionCode& a, const DivisionCode& b) {
    return !(a == b);
  }
  friend bool operator<(const DivisionCode& a, const DivisionCode& b) {
    return a.code_ < b.code_;
  }
  template <typename H>
  friend H AbslHashValue(H h, const DivisionCode& c) {
    return H::combine(std::move(h), c.code_);
  }

 private:
  explicit DivisionCode(std::string code) : code_(std::move(code)) {}

  std::string code_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_IDS_DIVISION_CODE_H_
