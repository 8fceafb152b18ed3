#include "services/placement/credit_code.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace pathway {
namespace placement {
namespace {

// GB 32100-2015 §4: the code table and the weights of positions 1..17.
constexpr char kTable[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr int kWeights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

int TableValue(char c) {
  for (int i = 0; i < 31; ++i) {
    if (kTable[i] == c) return i;
  }
  return -1;
}

}  // namespace

absl::StatusOr<char> CreditCodeCheckChar(absl::string_view first17) {
  if (first17.size() != 17) return absl::InvalidArgumentError("credit code body must be 17 characters");
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    int v = TableValue(first17[i]);
    if (v < 0) return absl::InvalidArgumentError("credit code has a character outside the code table");
    sum += v * kWeights[i];
  }
  int check = 31 - sum % 31;
  if (check == 31) check = 0;
  return kTable[check];
}

absl::Status ValidateCreditCode(absl::string_view code, absl::string_view field) {
  if (code.size() != static_cast<size_t>(kCreditCodeLength)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be 18 characters"));
  }
  for (char c : code) {
    if (TableValue(c) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": only digits and upper-case letters other than I, O, Z, S, V"));
    }
  }
  for (int i = 2; i < 8; ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(code[i]))) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": characters 3-8 must be a division code"));
    }
  }
  absl::StatusOr<char> check = CreditCodeCheckChar(code.substr(0, 17));
  if (!check.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": malformed"));
  if (*check != code[17]) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": check character does not match"));
  }
  return absl::OkStatus();
}

std::string GenerateSyntheticCreditCode(absl::string_view division, int64_t sequence) {
  char seq[16];
  std::snprintf(seq, sizeof(seq), "%07lld", static_cast<long long>(sequence % 10000000));
  std::string body = absl::StrCat("91", division, "MA", seq);
  absl::StatusOr<char> check = CreditCodeCheckChar(body);
  return check.ok() ? body + *check : std::string();
}

}  // namespace placement
}  // namespace pathway
