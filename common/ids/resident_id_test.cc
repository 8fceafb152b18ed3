#include "common/ids/resident_id.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/ids/iso7064.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

const absl::CivilDay kToday(2026, 1, 10);

// A 17-digit body with its correct check character appended.
std::string WithCheck(absl::string_view body) {
  return absl::StrCat(body, std::string(1, Mod11_2CheckChar(body)));
}

// Asserts that `text` is rejected with INVALID_ARGUMENT, that the message
// names the problem (`says`), and that it leaks neither the number nor any of
// its fields.
void ExpectRejected(absl::string_view text, absl::string_view says,
                    absl::CivilDay today = kToday) {
  SCOPED_TRACE(absl::StrCat("input \"", text, "\""));
  absl::StatusOr<ResidentId> id = ResidentId::Parse(text, today);
  ASSERT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  const absl::string_view message = id.status().message();
  EXPECT_NE(message.find(says), absl::string_view::npos) << message;
  EXPECT_EQ(message.rfind("resident ID number: ", 0), 0u) << message;
  if (text.empty()) return;
  EXPECT_EQ(message.find(text), absl::string_view::npos) << message;
  if (text.size() >= 17) {
    // Address code, birth date, year+month, sequence+check, the 17 digits.
    for (absl::string_view part :
         {text.substr(0, 6), text.substr(6, 8), text.substr(6, 6),
          text.substr(14), text.substr(0, 17)}) {
      EXPECT_EQ(message.find(part), absl::string_view::npos)
          << "message leaks \"" << part << "\": " << message;
    }
  }
}

struct Valid {
  absl::string_view text;
  absl::CivilDay birth;
  ResidentId::Sex sex;
};

TEST(ResidentIdTest, AcceptsDomainNotesExamples) {
  const Valid kCases[] = {
      {"34052419800101001X", absl::CivilDay(1980, 1, 1),
       ResidentId::Sex::kMale},
      {"11010519491231002X", absl::CivilDay(1949, 12, 31),
       ResidentId::Sex::kFemale},
      // GB 11643-1999's own example, born 1880: why kMinBirthDate is 1850.
      {"440524188001010014", absl::CivilDay(1880, 1, 1),
       ResidentId::Sex::kMale},
  };
  for (const Valid& c : kCases) {
    absl::StatusOr<ResidentId> id = ResidentId::Parse(c.text, kToday);
    ASSERT_TRUE(id.ok()) << c.text << ": " << id.status();
    EXPECT_EQ(id->normalized(), c.text);
    EXPECT_EQ(id->birth_date(), c.birth);
    EXPECT_EQ(id->sex(), c.sex);
    EXPECT_EQ(id->address_code(), c.text.substr(0, 6));
  }
}

TEST(ResidentIdTest, LowerCaseXIsNormalised) {
  absl::StatusOr<ResidentId> id =
      ResidentId::Parse("34052419800101001x", kToday);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->normalized(), "34052419800101001X");
  EXPECT_EQ(*id, *ResidentId::Parse("34052419800101001X", kToday));
}

TEST(ResidentIdTest, EverySingleCharacterMutationIsRejected) {
  const std::string kSubstitutes = "0123456789Xxa -*";
  for (absl::string_view valid :
       {"34052419800101001X", "11010519491231002X", "440524188001010014"}) {
    for (size_t i = 0; i < valid.size(); ++i) {
      for (char c : kSubstitutes) {
        std::string mutated(valid);
        mutated[i] = c;
        // 'x' for 'X' in the check position is the same number.
        if (absl::AsciiStrToUpper(mutated) == valid) continue;
        absl::StatusOr<ResidentId> id = ResidentId::Parse(mutated, kToday);
        EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument)
            << "position " << i << " -> '" << c << "'";
        if (!id.ok()) {
          EXPECT_EQ(id.status().message().find(mutated),
                    absl::string_view::npos);
        }
      }
    }
  }
}

TEST(ResidentIdTest, CheckCharacterMismatchIsNamed) {
  ExpectRejected("340524198001010019", "check character does not match");
  ExpectRejected("440524188001010015", "check character does not match");
  ExpectRejected("44052418800101001X", "check character does not match");
  // Adjacent transposition in the birth date.
  ExpectRejected("34052419080101001X", "check character does not match");
}

TEST(ResidentIdTest, BadShapesAreRejected) {
  ExpectRejected("", "empty");
  ExpectRejected("34052419800101001", "must be 18 characters");
  ExpectRejected("34052419800101001X0", "must be 18 characters");
  ExpectRejected("3405241980010100X1", "first 17 characters must be digits");
  ExpectRejected("34052419800101001Y", "last character must be a digit or X");
  ExpectRejected("X4052419800101001X", "first 17 characters must be digits");
  ExpectRejected("３４０５２４１９８００１０１００１Ｘ",
                 "must be 18 characters");
}

TEST(ResidentIdTest, SurroundingWhitespaceIsRejectedNotTrimmed) {
  ExpectRejected(" 34052419800101001X", "whitespace");
  ExpectRejected("34052419800101001X ", "whitespace");
  ExpectRejected("34052419800101001X\n", "whitespace");
  ExpectRejected("\t34052419800101001X", "whitespace");
  ExpectRejected("340524 19800101001X", "whitespace");
  ExpectRejected("34052419800101 01X", "whitespace");
}

TEST(ResidentIdTest, Legacy15DigitNumbersAreRejected) {
  ExpectRejected("340524800101001", "15-digit numbers are no longer valid");
}

TEST(ResidentIdTest, AddressCodeMayBeRetiredButNotZero) {
  // 522200 (铜仁地区) was retired in 2011; ids issued under it remain valid.
  EXPECT_TRUE(ResidentId::Parse(WithCheck("52220019800101001"), kToday).ok());
  EXPECT_TRUE(ResidentId::Parse(WithCheck("99990019800101001"), kToday).ok());
  ExpectRejected(WithCheck("00000019800101001"), "address code");
}

TEST(ResidentIdTest, BirthDateMustBeARealDate) {
  struct Case {
    absl::string_view date;  // YYYYMMDD
    bool valid;
  };
  const Case kCases[] = {
      {"20000229", true},   // leap year (divisible by 400)
      {"19960229", true},   // leap year
      {"20240229", true},   // leap year
      {"19000229", false},  // not leap (divisible by 100, not 400)
      {"20230229", false},  // not leap
      {"19950229", false},  // not leap
      {"20000230", false},  // never
      {"19800431", false},  // 31 April
      {"19800631", false},  // 31 June
      {"19801301", false},  // month 13
      {"19800001", false},  // month 0
      {"19800100", false},  // day 0
      {"19800132", false},  // day 32
      {"19801231", true},   // last day of the year
      {"19800131", true},  {"19800430", true},
  };
  for (const Case& c : kCases) {
    const std::string text = WithCheck(absl::StrCat("340524", c.date, "001"));
    if (c.valid) {
      absl::StatusOr<ResidentId> id = ResidentId::Parse(text, kToday);
      EXPECT_TRUE(id.ok()) << c.date << ": " << id.status();
    } else {
      ExpectRejected(text, "birth date is not a real calendar date");
    }
  }
}

TEST(ResidentIdTest, BirthDateBounds) {
  const absl::CivilDay today(2026, 3, 15);
  // Born today: accepted (a newborn's number is issued at birth registration).
  EXPECT_TRUE(ResidentId::Parse(WithCheck("52010220260315001"), today).ok());
  // Born tomorrow: rejected.
  ExpectRejected(WithCheck("52010220260316001"), "birth date is in the future",
                 today);
  ExpectRejected(WithCheck("52010220270101001"), "birth date is in the future",
                 today);
  // The floor.
  EXPECT_TRUE(ResidentId::Parse(WithCheck("52010218500101001"), today).ok());
  ExpectRejected(WithCheck("52010218491231001"), "before 1850-01-01", today);
  ExpectRejected(WithCheck("52010209800101001"), "before 1850-01-01", today);
  ExpectRejected(WithCheck("52010200000101001"), "before 1850-01-01", today);
}

TEST(ResidentIdTest, SequenceZeroIsRejected) {
  ExpectRejected(WithCheck("34052419800101000"), "sequence code");
}

TEST(ResidentIdTest, SequenceParityGivesSex) {
  for (int sequence = 1; sequence <= 999; ++sequence) {
    const std::string text = GenerateSyntheticResidentId(
        "520102", absl::CivilDay(1990, 6, 1), sequence);
    absl::StatusOr<ResidentId> id = ResidentId::Parse(text, kToday);
    ASSERT_TRUE(id.ok()) << sequence << ": " << id.status();
    EXPECT_EQ(id->sex(), sequence % 2 == 1 ? ResidentId::Sex::kMale
                                           : ResidentId::Sex::kFemale)
        << sequence;
  }
}

struct AgeCase {
  absl::CivilDay birth;
  absl::CivilDay on;
  int age;
};

TEST(ResidentIdTest, AgeOn) {
  const AgeCase kCases[] = {
      {absl::CivilDay(1980, 6, 15), absl::CivilDay(1980, 6, 15), 0},
      {absl::CivilDay(1980, 6, 15), absl::CivilDay(1981, 6, 14), 0},
      {absl::CivilDay(1980, 6, 15), absl::CivilDay(1981, 6, 15), 1},
      {absl::CivilDay(1980, 6, 15), absl::CivilDay(2026, 6, 14), 45},
      {absl::CivilDay(1980, 6, 15), absl::CivilDay(2026, 6, 15), 46},
      {absl::CivilDay(1980, 6, 15), absl::CivilDay(2026, 6, 16), 46},
      {absl::CivilDay(1980, 6, 15), absl::CivilDay(1980, 6, 14), -1},
      {absl::CivilDay(1980, 1, 1), absl::CivilDay(2025, 12, 31), 45},
      {absl::CivilDay(1980, 1, 1), absl::CivilDay(2026, 1, 1), 46},
      {absl::CivilDay(1980, 12, 31), absl::CivilDay(2026, 12, 30), 45},
      {absl::CivilDay(1980, 12, 31), absl::CivilDay(2026, 12, 31), 46},
      // 29 February birthdays: reached on 29 Feb in leap years...
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2004, 2, 28), 3},
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2004, 2, 29), 4},
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2004, 3, 1), 4},
      // ... and on 1 March otherwise.
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2001, 2, 28), 0},
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2001, 3, 1), 1},
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2018, 2, 28), 17},
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2018, 3, 1), 18},
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2100, 2, 28), 99},
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2100, 3, 1), 100},
      // A 28 February birthday is unaffected by leap years.
      {absl::CivilDay(2001, 2, 28), absl::CivilDay(2004, 2, 28), 3},
      {absl::CivilDay(2001, 2, 28), absl::CivilDay(2004, 2, 27), 2},
      // A 1 March birthday in a leap year.
      {absl::CivilDay(2004, 3, 1), absl::CivilDay(2005, 2, 28), 0},
      {absl::CivilDay(2004, 3, 1), absl::CivilDay(2005, 3, 1), 1},
  };
  for (const AgeCase& c : kCases) {
    const std::string text = GenerateSyntheticResidentId("520102", c.birth, 1);
    absl::StatusOr<ResidentId> id =
        ResidentId::Parse(text, absl::CivilDay(2026, 12, 31));
    ASSERT_TRUE(id.ok()) << c.birth << ": " << id.status();
    EXPECT_EQ(id->AgeOn(c.on), c.age) << "born " << c.birth << " on " << c.on;
  }
}

TEST(ResidentIdTest, Masked) {
  absl::StatusOr<ResidentId> id =
      ResidentId::Parse("34052419800101001x", kToday);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->Masked(), "340524***********X");
  EXPECT_EQ(id->Masked().size(), ResidentId::kLength);
  EXPECT_EQ(ResidentId::Parse("440524188001010014", kToday)->Masked(),
            "440524***********4");
}

TEST(ResidentIdTest, SyntheticIdsAlwaysParse) {
  const absl::CivilDay today(2026, 1, 10);
  const int kDays = static_cast<int>(today - ResidentId::kMinBirthDate);
  unsigned state = 20260110;
  auto next = [&state](unsigned bound) {
    state = state * 1103515245u + 12345u;
    return (state >> 8) % bound;
  };
  for (int i = 0; i < 5000; ++i) {
    std::string address =
        absl::StrFormat("%02d%02d%02d", 11 + next(72), next(100), next(100));
    if (address == "000000") address = "110101";
    const absl::CivilDay birth =
        ResidentId::kMinBirthDate + static_cast<int>(next(kDays + 1));
    const int sequence = 1 + static_cast<int>(next(999));
    const std::string text =
        GenerateSyntheticResidentId(address, birth, sequence);
    ASSERT_EQ(text.size(), ResidentId::kLength);
    absl::StatusOr<ResidentId> id = ResidentId::Parse(text, today);
    ASSERT_TRUE(id.ok()) << text << ": " << id.status();
    EXPECT_EQ(id->normalized(), text);
    EXPECT_EQ(id->birth_date(), birth);
    EXPECT_EQ(id->address_code(), address);
    EXPECT_EQ(id->sex(), sequence % 2 == 1 ? ResidentId::Sex::kMale
                                           : ResidentId::Sex::kFemale);
  }
}

TEST(ResidentIdTest, GeneratorReproducesDomainNotesExamples) {
  EXPECT_EQ(
      GenerateSyntheticResidentId("340524", absl::CivilDay(1980, 1, 1), 1),
      "34052419800101001X");
  EXPECT_EQ(
      GenerateSyntheticResidentId("110105", absl::CivilDay(1949, 12, 31), 2),
      "11010519491231002X");
  EXPECT_EQ(
      GenerateSyntheticResidentId("440524", absl::CivilDay(1880, 1, 1), 1),
      "440524188001010014");
}

}  // namespace
}  // namespace pathway
