#include "common/codec/date_text.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace pathway {
namespace {

using absl::CivilDay;

TEST(DayTextTest, FormatsZeroPadded) {
  EXPECT_EQ(DayText(CivilDay(2026, 3, 5)), "2026-03-05");
  EXPECT_EQ(DayText(CivilDay(2026, 12, 31)), "2026-12-31");
  EXPECT_EQ(DayText(CivilDay(1900, 1, 1)), "1900-01-01");
  EXPECT_EQ(DayText(CivilDay(9999, 12, 31)), "9999-12-31");
  EXPECT_EQ(DayText(CivilDay(1, 1, 1)), "0001-01-01");
}

TEST(DayTextTest, FormatsLeapDay) {
  EXPECT_EQ(DayText(CivilDay(2028, 2, 29)), "2028-02-29");
  EXPECT_EQ(DayText(CivilDay(2000, 2, 29)), "2000-02-29");
}

TEST(DayTextTest, SortsAsTheDaysDo) {
  EXPECT_LT(DayText(CivilDay(2026, 9, 30)), DayText(CivilDay(2026, 10, 1)));
  EXPECT_LT(DayText(CivilDay(999, 12, 31)), DayText(CivilDay(1000, 1, 1)));
}

TEST(ParseDayTextTest, ReadsWhatDayTextWrites) {
  for (CivilDay day : {CivilDay(2028, 2, 29), CivilDay(1900, 1, 1), CivilDay(9999, 12, 31),
                       CivilDay(2026, 1, 31), CivilDay(0, 1, 1)}) {
    std::optional<CivilDay> parsed = ParseDayText(DayText(day));
    ASSERT_TRUE(parsed.has_value()) << DayText(day);
    EXPECT_EQ(*parsed, day);
  }
}

TEST(ParseDayTextTest, RefusesDaysTheCalendarDoesNotHave) {
  EXPECT_FALSE(ParseDayText("2026-02-29").has_value()) << "2026 is no leap year";
  EXPECT_FALSE(ParseDayText("1900-02-29").has_value()) << "nor is 1900";
  EXPECT_TRUE(ParseDayText("2000-02-29").has_value()) << "2000 is";
  EXPECT_FALSE(ParseDayText("2026-02-30").has_value());
  EXPECT_FALSE(ParseDayText("2026-04-31").has_value());
  EXPECT_FALSE(ParseDayText("2026-13-01").has_value());
  EXPECT_FALSE(ParseDayText("2026-00-10").has_value());
  EXPECT_FALSE(ParseDayText("2026-01-00").has_value());
  EXPECT_FALSE(ParseDayText("0000-00-00").has_value()) << "the zero date";
}

TEST(ParseDayTextTest, RefusesMalformedText) {
  for (const char* text :
       {"", "2026", "2026-03", "2026-3-5", "2026-03-5", "26-03-05", "2026/03/05", "20260305",
        " 2026-03-05", "2026-03-05 ", "2026-03-05\n", "+2026-03-05", "-2026-03-05",
        "2026-03-05T00:00", "20260-03-05", "2026-0a-05", "2026--3-05", "2026-03-+5",
        "２０２６-03-05"}) {
    EXPECT_FALSE(ParseDayText(text).has_value()) << "\"" << text << "\"";
  }
  EXPECT_FALSE(ParseDayText(absl::string_view("2026-03-0\0", 10)).has_value());
}

}  // namespace
}  // namespace pathway
