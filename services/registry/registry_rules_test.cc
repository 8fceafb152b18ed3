// The registry's law without a store: the abstinence clock of 戒毒条例 Art 7 and the
// scope it gives a case.
#include "services/registry/registry_rules.h"

#include <vector>

#include "gtest/gtest.h"

namespace pathway {
namespace registry {
namespace {

// 戒毒条例 Art 7: three years without relapse from the latest finding or measure end.
TEST(AbstinenceClockTest, MilestoneAcrossLeapYears) {
  struct Row {
    absl::CivilDay anchor;
    absl::CivilDay milestone;
  };
  for (const Row& r : std::vector<Row>{
           {absl::CivilDay(2024, 2, 29), absl::CivilDay(2027, 2, 28)},  // no 29 Feb in 2027
           {absl::CivilDay(2025, 2, 28), absl::CivilDay(2028, 2, 28)},
           {absl::CivilDay(2026, 1, 10), absl::CivilDay(2029, 1, 10)},
           {absl::CivilDay(2025, 3, 1), absl::CivilDay(2028, 3, 1)},
       }) {
    CaseRecord c;
    c.abstinence_anchor = r.anchor;
    ASSERT_EQ(AbstinenceMilestone(c), r.milestone) << r.anchor;
    EXPECT_FALSE(Sealed(c, r.milestone)) << "the last day still counts";
    EXPECT_TRUE(Sealed(c, r.milestone + 1));
    c.open_measures = 1;
    EXPECT_FALSE(AbstinenceMilestone(c).has_value()) << "a measure is open";
    EXPECT_FALSE(Sealed(c, r.milestone + 1000));
  }
}

TEST(AbstinenceClockTest, ARecordFoundThreeYearsAgoIsSealedAtRegistration) {
  const absl::CivilDay found(2023, 3, 15);
  // The milestone is the last day of the three years; sealed from the day after.
  EXPECT_FALSE(SealedAtRegistration(found, absl::CivilDay(2026, 3, 15)));
  EXPECT_TRUE(SealedAtRegistration(found, absl::CivilDay(2026, 3, 16)));
  EXPECT_FALSE(SealedAtRegistration(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 3, 16)));
}

TEST(AbstinenceClockTest, ScopeCarriesBothPlacesAndSealing) {
  CaseRecord c;
  c.case_id = "case-1";
  c.household_division = "520102";
  c.residence_division = "530102";
  c.abstinence_anchor = absl::CivilDay(2026, 1, 10);
  CaseScope open = ScopeOf(c, absl::CivilDay(2029, 1, 10));
  EXPECT_EQ(open.case_id, "case-1");
  EXPECT_EQ(open.household_division, "520102");
  EXPECT_EQ(open.residence_division, "530102");
  EXPECT_FALSE(open.sealed);
  EXPECT_TRUE(ScopeOf(c, absl::CivilDay(2029, 1, 11)).sealed);
  c.open_measures = 1;  // a measure open: the clock has not started
  EXPECT_FALSE(ScopeOf(c, absl::CivilDay(2035, 1, 1)).sealed);
}

TEST(RegistryConfigTest, DefaultGradeMustBeInTheScheme) {
  RegistryConfig config;
  EXPECT_TRUE(config.Validate().ok());
  config.default_risk_grade = "extreme";
  EXPECT_EQ(config.Validate().code(), absl::StatusCode::kInvalidArgument);
  config.risk_grades = {};
  EXPECT_EQ(config.Validate().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace registry
}  // namespace pathway
