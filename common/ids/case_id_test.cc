#include "common/ids/case_id.h"

#include <cstdint>
#include <map>
#include <sstream>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

// DESIGN.md §2 writes this id with check character 'X'; MOD 11-2 over
// 52010220260000042 gives '2'.
constexpr absl::string_view kExample = "520102-2026-0000042-2";
// An id whose check character is 'X'.
constexpr absl::string_view kExampleX = "520102-2026-0000006-X";

TEST(CaseIdTest, ParsesDesignExample) {
  absl::StatusOr<CaseId> id = CaseId::Parse(kExample);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->division().code(), "520102");
  EXPECT_EQ(id->year(), 2026);
  EXPECT_EQ(id->sequence(), 42);
  EXPECT_EQ(id->check_char(), '2');
  EXPECT_EQ(id->ToString(), kExample);
}

TEST(CaseIdTest, DesignExampleWithXIsRejected) {
  absl::StatusOr<CaseId> id = CaseId::Parse("520102-2026-0000042-X");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(id.status().message().find("check character does not match"),
            absl::string_view::npos)
      << id.status();
}

TEST(CaseIdTest, LowerCaseXIsNormalised) {
  absl::StatusOr<CaseId> upper = CaseId::Parse(kExampleX);
  absl::StatusOr<CaseId> lower = CaseId::Parse("520102-2026-0000006-x");
  ASSERT_TRUE(upper.ok()) << upper.status();
  ASSERT_TRUE(lower.ok()) << lower.status();
  EXPECT_EQ(lower->check_char(), 'X');
  EXPECT_EQ(lower->ToString(), kExampleX);
  EXPECT_EQ(*lower, *upper);
}

TEST(CaseIdTest, MintComputesCheckCharacter) {
  absl::StatusOr<CaseId> id = CaseId::Mint("520102", 2026, 42);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->ToString(), kExample);
  absl::StatusOr<CaseId> x = CaseId::Mint("520102", 2026, 6);
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(x->ToString(), kExampleX);
}

TEST(CaseIdTest, MintParseRoundTrip) {
  const char* kDivisions[] = {"520102", "110105", "650000", "990101"};
  const int kYears[] = {CaseId::kMinYear, 2007, 2026, CaseId::kMaxYear};
  const int64_t kSequences[] = {1, 9, 10, 42, 1234567, CaseId::kMaxSequence};
  for (const char* division : kDivisions) {
    for (int year : kYears) {
      for (int64_t sequence : kSequences) {
        absl::StatusOr<CaseId> minted = CaseId::Mint(division, year, sequence);
        ASSERT_TRUE(minted.ok()) << minted.status();
        const std::string text = minted->ToString();
        ASSERT_EQ(text.size(), CaseId::kLength);
        absl::StatusOr<CaseId> parsed = CaseId::Parse(text);
        ASSERT_TRUE(parsed.ok()) << parsed.status();
        EXPECT_EQ(*parsed, *minted);
        EXPECT_EQ(parsed->ToString(), text);
        EXPECT_EQ(parsed->division().code(), division);
        EXPECT_EQ(parsed->year(), year);
        EXPECT_EQ(parsed->sequence(), sequence);
      }
    }
  }
}

TEST(CaseIdTest, MintRejectsBadInput) {
  struct Case {
    const char* division;
    int year;
    int64_t sequence;
    absl::StatusCode code;
  };
  const Case kCases[] = {
      {"000000", 2026, 1, absl::StatusCode::kInvalidArgument},
      {"52010", 2026, 1, absl::StatusCode::kInvalidArgument},
      {"52010x", 2026, 1, absl::StatusCode::kInvalidArgument},
      {"", 2026, 1, absl::StatusCode::kInvalidArgument},
      {"520102", CaseId::kMinYear - 1, 1, absl::StatusCode::kInvalidArgument},
      {"520102", CaseId::kMaxYear + 1, 1, absl::StatusCode::kInvalidArgument},
      {"520102", -2026, 1, absl::StatusCode::kInvalidArgument},
      {"520102", 2026, 0, absl::StatusCode::kInvalidArgument},
      {"520102", 2026, -1, absl::StatusCode::kInvalidArgument},
      {"520102", 2026, CaseId::kMaxSequence + 1, absl::StatusCode::kOutOfRange},
      {"520102", 2026, INT64_MAX, absl::StatusCode::kOutOfRange},
  };
  for (const Case& c : kCases) {
    absl::StatusOr<CaseId> id = CaseId::Mint(c.division, c.year, c.sequence);
    EXPECT_EQ(id.status().code(), c.code) << c.division << " " << c.year << " "
                                          << c.sequence << ": " << id.status();
  }
}

TEST(CaseIdTest, EveryWrongCheckCharacterIsRejected) {
  for (absl::string_view valid : {kExample, kExampleX}) {
    for (char check : std::string("0123456789Xx")) {
      std::string text(valid);
      if (check == text.back() || (check == 'x' && text.back() == 'X')) {
        continue;
      }
      text.back() = check;
      absl::StatusOr<CaseId> id = CaseId::Parse(text);
      EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << text;
      EXPECT_NE(id.status().message().find("check character does not match"),
                absl::string_view::npos)
          << id.status();
    }
  }
}

TEST(CaseIdTest, EverySingleDigitSubstitutionIsRejected) {
  const std::string valid(kExample);
  for (size_t i = 0; i + 1 < valid.size(); ++i) {
    if (valid[i] == '-') continue;
    for (char d = '0'; d <= '9'; ++d) {
      if (d == valid[i]) continue;
      std::string text = valid;
      text[i] = d;
      EXPECT_FALSE(CaseId::Parse(text).ok()) << text;
    }
  }
}

struct Malformed {
  absl::string_view text;
  absl::string_view says;  // a fragment the message must contain
};

TEST(CaseIdTest, MalformedInputIsRejectedWithAReason) {
  const Malformed kCases[] = {
      {"", "empty"},
      {"520102-2026-000042-X", "must be 21 characters"},    // 6-digit sequence
      {"520102-2026-00000042-2", "must be 21 characters"},  // 8-digit sequence
      {"520102-26-0000042-2", "must be 21 characters"},
      {"5201022026000004222", "must be 21 characters"},
      {" 520102-2026-0000042-2", "must be 21 characters"},
      {"520102-2026-0000042-2 ", "must be 21 characters"},
      {"520102-2026-0000042-2\n", "must be 21 characters"},
      {"520102-2026-0000042--2", "must be 21 characters"},
      {"520102--2026-000042-2", "'-'"},
      {"520102_2026_0000042_2", "'-'"},
      {"520102-2026-00000422-", "'-'"},
      {"52010220-26-0000042-2", "'-'"},
      {"52o102-2026-0000042-2", "division code"},
      {"000000-2026-0000042-2", "division code"},
      {"-52010-2026-0000042-2", "division code"},
      {"520102-20X6-0000042-2", "year must be 4 digits"},
      {"520102-+026-0000042-2", "year must be 4 digits"},
      {"520102-1989-0000042-2", "year must be between 1990 and 2999"},
      {"520102-3000-0000042-2", "year must be between 1990 and 2999"},
      {"520102-0000-0000042-2", "year must be between 1990 and 2999"},
      {"520102-2026-00000A2-2", "sequence must be 7 digits"},
      {"520102-2026- 000042-2", "sequence must be 7 digits"},
      {"520102-2026-0000000-2", "sequence must be between"},
      {"520102-2026-0000042-Y", "check character must be a digit or X"},
      {"520102-2026-0000042- ", "check character must be a digit or X"},
      {"520102-2026-0000042-*", "check character must be a digit or X"},
  };
  for (const Malformed& c : kCases) {
    absl::StatusOr<CaseId> id = CaseId::Parse(c.text);
    ASSERT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument)
        << "\"" << c.text << "\"";
    EXPECT_NE(id.status().message().find(c.says), absl::string_view::npos)
        << "\"" << c.text << "\": " << id.status();
  }
}

TEST(CaseIdTest, MessageQuotesTheIdButNotLongInput) {
  absl::StatusOr<CaseId> id = CaseId::Parse("520102-2026-0000042-X");
  EXPECT_NE(id.status().message().find("\"520102-2026-0000042-X\""),
            absl::string_view::npos)
      << id.status();

  const std::string long_input(1000, '7');
  absl::StatusOr<CaseId> long_id = CaseId::Parse(long_input);
  EXPECT_EQ(long_id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(long_id.status().message().size(), 200u) << long_id.status();
  EXPECT_EQ(long_id.status().message().find("7777"), absl::string_view::npos);

  // Control characters are escaped, not passed into logs raw.
  absl::StatusOr<CaseId> control = CaseId::Parse("520102-2026\n0000042-2");
  EXPECT_EQ(control.status().message().find('\n'), absl::string_view::npos)
      << control.status();
}

TEST(CaseIdTest, OrderingEqualityAndHash) {
  CaseId a = *CaseId::Mint("520102", 2026, 42);
  CaseId b = *CaseId::Parse(kExample);
  CaseId c = *CaseId::Mint("520102", 2026, 43);
  CaseId d = *CaseId::Mint("520102", 2027, 1);
  CaseId e = *CaseId::Mint("520103", 1990, 1);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_LT(a, c);
  EXPECT_LT(c, d);
  EXPECT_LT(d, e);
  EXPECT_FALSE(b < a);
  // The order is that of the canonical strings.
  EXPECT_LT(a.ToString(), c.ToString());
  EXPECT_LT(c.ToString(), d.ToString());
  EXPECT_LT(d.ToString(), e.ToString());

  absl::flat_hash_set<CaseId> set = {a, b, c, d, e};
  EXPECT_EQ(set.size(), 4u);
  EXPECT_TRUE(set.contains(*CaseId::Parse("520102-2026-0000042-2")));

  std::map<CaseId, int> ordered = {{e, 5}, {a, 1}, {d, 4}, {c, 3}};
  EXPECT_EQ(ordered.begin()->first, a);
  EXPECT_EQ(ordered.rbegin()->first, e);
}

TEST(CaseIdTest, StreamsCanonicalForm) {
  std::ostringstream out;
  out << *CaseId::Parse(kExample);
  EXPECT_EQ(out.str(), kExample);
}

}  // namespace
}  // namespace pathway
