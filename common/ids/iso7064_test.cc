#include "common/ids/iso7064.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

// Straight from the definition: weight 2^(n-i) mod 11 for the i-th of n digits
// (0-based), remainder mapped to "10X98765432".
char ReferenceCheckChar(absl::string_view digits) {
  const int n = static_cast<int>(digits.size());
  int sum = 0;
  for (int i = 0; i < n; ++i) {
    int weight = 1;
    for (int k = 0; k < n - i; ++k) weight = (weight * 2) % 11;
    sum += (digits[i] - '0') * weight;
  }
  return "10X98765432"[sum % 11];
}

struct Known {
  const char* digits;
  char check;
};

TEST(Mod11_2Test, KnownValues) {
  const Known kCases[] = {
      // The three resident ID numbers from domain-notes.md §5.
      {"34052419800101001", 'X'},
      {"11010519491231002", 'X'},
      {"44052418800101001", '4'},
      // DESIGN.md §2's example case id: the check is '2', not 'X'.
      {"52010220260000042", '2'},
      {"52010220260000006", 'X'},
  };
  for (const Known& c : kCases) {
    EXPECT_EQ(Mod11_2CheckChar(c.digits), c.check) << c.digits;
    EXPECT_EQ(ReferenceCheckChar(c.digits), c.check) << c.digits;
  }
}

TEST(Mod11_2Test, WeightsOver17Digits) {
  // A single 1 in position i isolates weight i.
  const int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  for (int i = 0; i < 17; ++i) {
    std::string digits(17, '0');
    digits[i] = '1';
    EXPECT_EQ(Mod11_2CheckChar(digits), "10X98765432"[kWeights[i] % 11]) << i;
  }
}

TEST(Mod11_2Test, MatchesDefinitionOnManyInputs) {
  unsigned state = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string digits;
    const int length = 1 + round % 24;
    for (int i = 0; i < length; ++i) {
      state = state * 1103515245u + 12345u;
      digits.push_back(static_cast<char>('0' + (state >> 16) % 10));
    }
    ASSERT_EQ(Mod11_2CheckChar(digits), ReferenceCheckChar(digits)) << digits;
  }
}

TEST(Mod11_2Test, ValidatingVariant) {
  absl::StatusOr<char> ok = ComputeMod11_2CheckChar("34052419800101001");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 'X');
  for (absl::string_view bad : {"", "3405241980010100a", "1234 5", "-1", "X"}) {
    absl::StatusOr<char> result = ComputeMod11_2CheckChar(bad);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(Mod11_2Test, HasValidCheckChar) {
  EXPECT_TRUE(HasValidMod11_2CheckChar("34052419800101001X"));
  EXPECT_TRUE(HasValidMod11_2CheckChar("34052419800101001x"));
  EXPECT_TRUE(HasValidMod11_2CheckChar("440524188001010014"));
  EXPECT_TRUE(HasValidMod11_2CheckChar("520102202600000422"));
  EXPECT_FALSE(HasValidMod11_2CheckChar("52010220260000042X"));
  EXPECT_FALSE(HasValidMod11_2CheckChar("440524188001010015"));
  EXPECT_FALSE(HasValidMod11_2CheckChar("4405241880010100X4"));
  EXPECT_FALSE(HasValidMod11_2CheckChar("1"));
  EXPECT_FALSE(HasValidMod11_2CheckChar(""));
}

TEST(Mod11_2Test, CatchesSingleSubstitutionsAndAdjacentTranspositions) {
  const std::string valid = "34052419800101001";
  const char check = Mod11_2CheckChar(valid);
  for (size_t i = 0; i < valid.size(); ++i) {
    for (char d = '0'; d <= '9'; ++d) {
      if (d == valid[i]) continue;
      std::string mutated = valid;
      mutated[i] = d;
      EXPECT_NE(Mod11_2CheckChar(mutated), check) << mutated;
    }
    if (i + 1 < valid.size() && valid[i] != valid[i + 1]) {
      std::string swapped = valid;
      std::swap(swapped[i], swapped[i + 1]);
      EXPECT_NE(Mod11_2CheckChar(swapped), check) << swapped;
    }
  }
}

}  // namespace
}  // namespace pathway
