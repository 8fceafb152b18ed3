// What a decision owes on a day, from its record alone (no store): the notices, the
// police-stage transfer, the assessments, early release and its bars, the term's end,
// and the credit on conversion.
#include "services/compulsory_isolation/compulsory_isolation_rules.h"

#include <string>

#include "common/legal_time/legal_time.h"
#include "gtest/gtest.h"

namespace pathway {
namespace isolation {
namespace {

using absl::CivilDay;

CivilDay D(int y, int m, int d) { return CivilDay(y, m, d); }

DecisionData Decided(CivilDay on) {
  DecisionData d;
  d.id = 7;
  d.case_id = "case-7";
  d.deciding_division = "520102";
  d.decided_on = on;
  d.served_on = on;
  d.ground = v1::GROUND_SEVERE_ADDICTION;
  d.state = kDecided;
  d.state_since = on;
  d.division = "520102";
  d.open = true;
  return d;
}

DecisionData Admitted(CivilDay on) {
  DecisionData d = Decided(on);
  d.state = kInPoliceFacility;
  d.admitted_on = on;
  d.facility_id = "gy-police";
  for (int r : {v1::NOTICE_RECIPIENT_FAMILY, v1::NOTICE_RECIPIENT_EMPLOYER,
                v1::NOTICE_RECIPIENT_HOUSEHOLD_POLICE_STATION}) {
    d.notices.push_back({r, on, false});
  }
  return d;
}

const DueData* Find(const Derived& x, const std::string& kind) {
  for (const DueData& item : x.due) {
    if (item.kind == kind) return &item;
  }
  return nullptr;
}

TEST(DeriveTest, ADecisionOwesItsNoticesByTheEndOfTheNextDay) {
  Derived x = Derive(Decided(D(2026, 3, 15)), IsolationOptions{}, D(2026, 3, 15));
  EXPECT_EQ(x.last_day, D(2028, 3, 14));
  EXPECT_EQ(x.early_from, D(2027, 3, 15));
  EXPECT_FALSE(x.barred);
  ASSERT_EQ(x.due.size(), 3u);  // not admitted yet: nothing of the facility is due
  for (const DueData& item : x.due) {
    EXPECT_EQ(item.due, D(2026, 3, 16)) << item.kind;
    EXPECT_EQ(item.basis, "禁毒法 Art 40");
  }
  ASSERT_TRUE(x.next.has_value());
  EXPECT_EQ(x.next->kind, "NOTICE_FAMILY");
}

TEST(DeriveTest, AnAdmissionOwesTransferAssessmentsAndTheTermsEnd) {
  const CivilDay admitted = D(2026, 3, 15);
  IsolationOptions o;
  Derived x = Derive(Admitted(admitted), o, D(2026, 3, 20));
  ASSERT_TRUE(x.transfer.has_value());
  EXPECT_EQ(x.transfer->by, PoliceStageTransferWindow(admitted, o.police_stage_max_months).by);
  ASSERT_NE(Find(x, "TRANSFER"), nullptr);
  ASSERT_NE(Find(x, "ASSESSMENT_INTAKE"), nullptr);
  EXPECT_EQ(Find(x, "ASSESSMENT_INTAKE")->due, legal_time::DeadlineAfterDays(admitted, 30));
  ASSERT_NE(Find(x, "ASSESSMENT_ONE_YEAR"), nullptr);
  EXPECT_EQ(Find(x, "ASSESSMENT_ONE_YEAR")->due, D(2027, 3, 15));
  ASSERT_NE(Find(x, "ASSESSMENT_PRE_EXPIRY"), nullptr);
  EXPECT_EQ(Find(x, "ASSESSMENT_PRE_EXPIRY")->due, D(2028, 3, 14) - 30);
  ASSERT_NE(Find(x, "RELEASE_NOTICE"), nullptr);
  EXPECT_EQ(Find(x, "RELEASE_NOTICE")->due, D(2028, 3, 11));
  ASSERT_NE(Find(x, "TERM_EXPIRY"), nullptr);
  EXPECT_EQ(Find(x, "TERM_EXPIRY")->due, D(2028, 3, 14));
  const DueData* early = Find(x, "EARLY_RELEASE_ELIGIBLE");
  ASSERT_NE(early, nullptr);
  EXPECT_FALSE(early->deadline) << "an opportunity, never overdue";
  ASSERT_TRUE(x.next.has_value());
  EXPECT_EQ(x.next->kind, "ASSESSMENT_INTAKE");
  EXPECT_FALSE(x.training_eligible);
}

TEST(DeriveTest, AnOpenEscapeStopsTheClockAndBarsEarlyRelease) {
  DecisionData d = Admitted(D(2026, 3, 15));
  d.state = kEscaped;
  d.absences.push_back({1, v1::ABSENCE_KIND_ESCAPE, D(2026, 6, 1), std::nullopt});
  Derived x = Derive(d, IsolationOptions{}, D(2026, 6, 21));
  EXPECT_TRUE(x.paused);
  EXPECT_EQ(x.excluded_days, 20);
  EXPECT_EQ(x.last_day, IsolationTermLastDay(D(2026, 3, 15), 0, 20));
  EXPECT_TRUE(x.barred);
  EXPECT_NE(x.bar_reason.find("戒毒条例 Art 32"), std::string::npos);
  EXPECT_EQ(Find(x, "TERM_EXPIRY"), nullptr) << "no term end while at large";
  EXPECT_EQ(Find(x, "EARLY_RELEASE_ELIGIBLE"), nullptr);
}

TEST(DeriveTest, CommunityRehabRunningAtTheDecisionBarsEarlyRelease) {
  DecisionData d = Admitted(D(2026, 3, 15));
  d.sk_running_at_decision = true;
  Derived x = Derive(d, IsolationOptions{}, D(2026, 3, 20));
  EXPECT_TRUE(x.barred);
  EXPECT_NE(x.bar_reason.find("戒毒条例 Art 38"), std::string::npos);
  EXPECT_EQ(Find(x, "EARLY_RELEASE_ELIGIBLE"), nullptr);
}

TEST(DeriveTest, AClosedDecisionOwesNothing) {
  DecisionData d = Admitted(D(2026, 3, 15));
  d.open = false;
  d.state = kReleased;
  Derived x = Derive(d, IsolationOptions{}, D(2028, 3, 15));
  EXPECT_TRUE(x.due.empty());
  EXPECT_FALSE(x.next.has_value());
  EXPECT_FALSE(x.training_eligible);
}

TEST(ConversionCreditTest, DaysServedLessEscapeNeverNegative) {
  EXPECT_EQ(ConversionCreditDays(D(2026, 3, 15), D(2026, 9, 1), 0), 170);
  EXPECT_EQ(ConversionCreditDays(D(2026, 3, 15), D(2026, 9, 1), 20), 150);
  EXPECT_EQ(ConversionCreditDays(D(2026, 3, 15), D(2026, 3, 20), 30), 0);
}

}  // namespace
}  // namespace isolation
}  // namespace pathway
