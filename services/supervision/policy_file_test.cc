#include "services/supervision/policy_file.h"

#include <gtest/gtest.h>

namespace pathway::supervision {
namespace {

TEST(PolicyFileTest, TheShippedFileStatesTheBuiltInDefaults) {
  absl::StatusOr<ProgramPolicy> p = LoadPolicyFile(PATHWAY_SHIPPED_POLICY, CommunityDetoxPolicy());
  ASSERT_TRUE(p.ok()) << p.status();
  ProgramPolicy d = CommunityDetoxPolicy();
  EXPECT_EQ(p->suspension_pauses_clock, d.suspension_pauses_clock);
  ASSERT_EQ(p->test_phases.size(), d.test_phases.size());
  for (size_t i = 0; i < d.test_phases.size(); ++i) {
    EXPECT_EQ(p->test_phases[i].months, d.test_phases[i].months);
    EXPECT_EQ(p->test_phases[i].min_tests, d.test_phases[i].min_tests);
  }
  EXPECT_EQ(p->agreement_within_days, d.agreement_within_days);
  EXPECT_EQ(p->police_report_days, d.police_report_days);
  EXPECT_EQ(p->missed_review_days, d.missed_review_days);
  EXPECT_EQ(p->calendar, nullptr);
}

TEST(PolicyFileTest, SettingsAndTheHolidayCalendarApply) {
  absl::StatusOr<ProgramPolicy> p = ApplyPolicyText(
      "suspension_pauses_clock = false  # Guizhou\n"
      "test_phases = 6:6, 30:10\n"
      "holiday = 2027-10-01\n"
      "holiday = 2027-10-04\n"
      "working_weekend_day = 2027-09-26\n",
      CommunityRehabPolicy());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->suspension_pauses_clock);
  ASSERT_EQ(p->test_phases.size(), 2u);
  EXPECT_EQ(p->test_phases[1].months, 30);
  ASSERT_NE(p->calendar, nullptr);
  EXPECT_TRUE(p->calendar->IsNonWorkingDay(absl::CivilDay(2027, 10, 1)));
  EXPECT_TRUE(p->calendar->IsNonWorkingDay(absl::CivilDay(2027, 10, 3)));   // a Sunday
  EXPECT_FALSE(p->calendar->IsNonWorkingDay(absl::CivilDay(2027, 9, 26)));  // 调休
  EXPECT_EQ(legal_time::MoveOffNonWorkingDay(absl::CivilDay(2027, 10, 1), p->calendar.get()),
            absl::CivilDay(2027, 10, 5));
}

TEST(PolicyFileTest, BadFilesAreRefusedNamingTheLine) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {"suspension_pauses_clock = yes\n", "line 1"},
           {"\n# c\nagreement_within_days = -1\n", "line 3"},
           {"holiday = 2027-13-01\n", "YYYY-MM-DD"},
           {"working_weekend_day = 2027-09-27\n", "not a Saturday or Sunday"},
           {"test_phases = 12\n", "months:tests"},
           {"police_report_days = 1\npolice_report_days = 2\n", "set twice"},
           {"colour = blue\n", "unknown key 'colour'"},
           {"no equals sign\n", "key = value"},
       }) {
    absl::StatusOr<ProgramPolicy> p = ApplyPolicyText(c.text, CommunityDetoxPolicy());
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.says), std::string::npos) << p.status();
  }
  EXPECT_EQ(LoadPolicyFile("/nonexistent/supervision.policy", CommunityDetoxPolicy()).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pathway::supervision
