// ISO 7064:1983 MOD 11-2, the check character used by resident ID numbers
// (GB 11643-1999) and by Pathway's case ids (DESIGN.md §2).
//
// Each digit is weighted by 2^k mod 11, where k counts positions from the
// right starting at 1 (the check character itself has weight 1): over 17 digits
// the weights are 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2. The weighted sum S mod
// 11 = 0..10 is mapped to the check character "10X98765432"[S mod 11].
//
//   char c = Mod11_2CheckChar("34052419800101001");       // 'X'
//   bool ok = HasValidMod11_2CheckChar("34052419800101001X");  // true
//
// The check character catches every single-digit substitution and every
// transposition of two adjacent digits.
//
// Thread safety: pure functions; safe to call concurrently.
#ifndef PATHWAY_COMMON_IDS_ISO7064_H_
#define PATHWAY_COMMON_IDS_ISO7064_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pathway {

// Returns the MOD 11-2 check character ('0'..'9' or 'X') of `digits`.
// Precondition: every character of `digits` is '0'..'9' (checked in debug
// builds only). An empty string yields '1'.
char Mod11_2CheckChar(absl::string_view digits);

// As Mod11_2CheckChar, but returns INVALID_ARGUMENT if `digits` is empty or
// holds anything but '0'..'9'. The message does not echo the input, since the
// digits may be part of a resident ID number.
absl::StatusOr<char> ComputeMod11_2CheckChar(absl::string_view digits);

// True if `text` is at least two characters long, all but the last are digits,
// and the last is the matching check character. Accepts a lower-case 'x'.
bool HasValidMod11_2CheckChar(absl::string_view text);

}  // namespace pathway

#endif  // PATHWAY_COMMON_IDS_ISO7064_H_
