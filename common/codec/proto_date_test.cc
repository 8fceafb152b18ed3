#include "common/codec/proto_date.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace pathway {
namespace {

using absl::CivilDay;

common::v1::Date Wire(int y, int m, int d) {
  common::v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

void ExpectInvalid(const absl::Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), message);
}

TEST(ProtoDateTest, IsDateSetOnlyForANonZeroField) {
  EXPECT_FALSE(IsDateSet(common::v1::Date()));
  EXPECT_FALSE(IsDateSet(Wire(0, 0, 0)));
  EXPECT_TRUE(IsDateSet(Wire(2026, 0, 0)));
  EXPECT_TRUE(IsDateSet(Wire(0, 3, 0)));
  EXPECT_TRUE(IsDateSet(Wire(0, 0, 5)));
  EXPECT_TRUE(IsDateSet(Wire(2026, 3, 5)));
}

TEST(ProtoDateTest, RequiredDateTakesARealDay) {
  EXPECT_EQ(*RequiredDate(Wire(2026, 3, 5), "x"), CivilDay(2026, 3, 5));
  EXPECT_EQ(*RequiredDate(Wire(2028, 2, 29), "x"), CivilDay(2028, 2, 29));
  EXPECT_EQ(*RequiredDate(Wire(1900, 1, 1), "x"), CivilDay(1900, 1, 1));
  EXPECT_EQ(*RequiredDate(Wire(9999, 12, 31), "x"), CivilDay(9999, 12, 31));
}

TEST(ProtoDateTest, RequiredDateRefusesAnAbsentOneNamingTheField) {
  ExpectInvalid(RequiredDate(common::v1::Date(), "decided_on").status(),
                "decided_on is required");
  ExpectInvalid(RequiredDate(Wire(0, 0, 0), "found_on").status(), "found_on is required");
}

TEST(ProtoDateTest, RequiredDateRefusesPartialImpossibleAndOutOfRangeDates) {
  for (const common::v1::Date& d :
       {Wire(2026, 0, 0), Wire(2026, 3, 0), Wire(2026, 0, 5), Wire(0, 3, 5), Wire(0, 0, 5),
        Wire(2026, 2, 29), Wire(1900, 2, 29), Wire(2026, 2, 30), Wire(2026, 4, 31),
        Wire(2026, 13, 1), Wire(2026, -1, 1), Wire(2026, 1, 32), Wire(2026, 1, -1),
        Wire(1899, 12, 31), Wire(10000, 1, 1), Wire(-2026, 3, 5)}) {
    ExpectInvalid(RequiredDate(d, "effective_on").status(), "effective_on is not a valid date");
  }
}

TEST(ProtoDateTest, OptionalDateMayBeAbsentButNotPartial) {
  absl::StatusOr<std::optional<CivilDay>> absent = OptionalDate(Wire(0, 0, 0), "as_of");
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_FALSE(absent->has_value());
  EXPECT_EQ(**OptionalDate(Wire(2028, 2, 29), "as_of"), CivilDay(2028, 2, 29));
  ExpectInvalid(OptionalDate(Wire(2026, 4, 0), "as_of").status(), "as_of is not a valid date");
  ExpectInvalid(OptionalDate(Wire(2026, 2, 29), "as_of").status(), "as_of is not a valid date");
  ExpectInvalid(OptionalDate(Wire(1800, 1, 1), "as_of").status(), "as_of is not a valid date");
}

TEST(ProtoDateTest, ToProtoDateWritesEveryField) {
  const common::v1::Date d = ToProtoDate(CivilDay(2028, 2, 29));
  EXPECT_EQ(d.year(), 2028);
  EXPECT_EQ(d.month(), 2);
  EXPECT_EQ(d.day(), 29);
  common::v1::Date out = Wire(1, 1, 1);
  ToProtoDate(CivilDay(9999, 12, 31), &out);
  EXPECT_EQ(DayOf(out), CivilDay(9999, 12, 31));
}

TEST(ProtoDateTest, ToProtoDateOfNoDayLeavesTheDateAlone) {
  common::v1::Date out = Wire(2026, 3, 5);
  ToProtoDate(std::optional<CivilDay>(), &out);
  EXPECT_EQ(DayOf(out), CivilDay(2026, 3, 5));
  ToProtoDate(std::optional<CivilDay>(CivilDay(2027, 1, 2)), &out);
  EXPECT_EQ(DayOf(out), CivilDay(2027, 1, 2));
  common::v1::Date untouched;
  ToProtoDate(std::optional<CivilDay>(), &untouched);
  EXPECT_FALSE(IsDateSet(untouched));
}

TEST(ProtoDateTest, DayOfRoundTripsAndChecksNothing) {
  for (CivilDay day : {CivilDay(2028, 2, 29), CivilDay(1900, 1, 1), CivilDay(9999, 12, 31)}) {
    EXPECT_EQ(DayOf(ToProtoDate(day)), day);
    EXPECT_EQ(*RequiredDate(ToProtoDate(day), "x"), day);
  }
  EXPECT_EQ(DayOf(Wire(2026, 2, 30)), CivilDay(2026, 3, 2)) << "normalised, not refused";
}

}  // namespace
}  // namespace pathway
