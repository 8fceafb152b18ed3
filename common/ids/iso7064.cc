#include "common/ids/iso7064.h"

#include <cassert>

#include "absl/status/status.h"

namespace pathway {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

char Mod11_2CheckChar(absl::string_view digits) {
  assert(AllDigits(digits));
  // Horner's rule: after each digit the running sum is doubled, so the digit
  // k places from the right of the check position ends up weighted 2^k mod 11.
  int sum = 0;
  for (char c : digits) {
    sum = ((sum + (c - '0')) * 2) % 11;
  }
  static constexpr char kCheckChars[] = "10X98765432";
  return kCheckChars[sum];
}

absl::StatusOr<char> ComputeMod11_2CheckChar(absl::string_view digits) {
  if (digits.empty()) {
    return absl::InvalidArgumentError("MOD 11-2: no digits to check");
  }
  if (!AllDigits(digits)) {
    return absl::InvalidArgumentError("MOD 11-2: input must be digits only");
  }
  return Mod11_2CheckChar(digits);
}

bool HasValidMod11_2CheckChar(absl::string_view text) {
  if (text.size() < 2) return false;
  absl::string_view body = text.substr(0, text.size() - 1);
  if (!AllDigits(body)) return false;
  char given = text.back();
  if (given == 'x') given = 'X';
  return Mod11_2CheckChar(body) == given;
}

}  // namespace pathway
