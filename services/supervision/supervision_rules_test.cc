// The supervision rules on orders built by hand: no store, no clock, explicit dates.
// (supervision_test.cc runs the same law through the engine and a real store.)
#include "services/supervision/supervision_rules.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pathway::supervision {
namespace {

using absl::CivilDay;

// An order received on `received` at one place, as the tables would read it.
Order Received(CivilDay received, int term_months = 36) {
  Order o;
  o.order_id = 7;
  o.case_id = "520102-2026-0000001-X";
  o.decision_number = "TEST-DECISION-1";
  o.decision_date = received - 2;
  o.received_on = received;
  o.term_months = term_months;
  Place p;
  p.seq = 1;
  p.division = "520102";
  p.place = "520102001";
  p.assigned_on = received;
  p.report_deadline = ReportDeadline(received, nullptr);
  o.places.push_back(p);
  return o;
}

// The same order, reported on `reported` (which starts the term).
Order Reported(CivilDay received, CivilDay reported, int term_months = 36) {
  Order o = Received(received, term_months);
  o.places[0].reported_on = reported;
  o.term_start = reported;
  return o;
}

std::optional<DueItem> Find(const Order& o, absl::string_view kind) {
  for (const DueItem& d : o.due) {
    if (d.kind == kind) return d;
  }
  return std::nullopt;
}

DrugTest MakeTest(int64_t id, CivilDay on, TestResult result) {
  DrugTest t;
  t.test_id = id;
  t.tested_on = on;
  t.result = result;
  return t;
}

TEST(ReportDeadlineTest, FifteenDaysMovedOffANonWorkingDay) {
  EXPECT_EQ(ReportDeadline(CivilDay(2026, 1, 10), nullptr), CivilDay(2026, 1, 25));
  // 25 Jan 2026 is a Sunday: with a calendar the last day moves to Monday.
  legal_time::ConfiguredHolidayCalendar weekends({}, {});
  EXPECT_EQ(ReportDeadline(CivilDay(2026, 1, 10), &weekends), CivilDay(2026, 1, 26));
}

TEST(EvaluateOrderTest, DetoxNoShowIsRefusalFromTheSixteenthDay) {
  const Order received = Received(CivilDay(2026, 1, 10));
  struct Row {
    CivilDay as_of;
    bool overdue;
    bool refusal;
  };
  const Row rows[] = {{CivilDay(2026, 1, 25), false, false},
                      {CivilDay(2026, 1, 26), true, true}};
  for (const Row& row : rows) {
    Order o = received;
    EvaluateOrder(CommunityDetoxPolicy(), &o, row.as_of);
    EXPECT_EQ(o.state, kStateAwaitingReport);
    std::optional<DueItem> report = Find(o, kDueReport);
    ASSERT_TRUE(report.has_value()) << row.as_of;
    EXPECT_EQ(report->key, "REPORT:1");
    EXPECT_EQ(report->due, CivilDay(2026, 1, 25));
    EXPECT_EQ(report->overdue, row.overdue) << row.as_of;
    EXPECT_EQ(report->legal_basis, "戒毒条例 Art 14");
    EXPECT_EQ(Find(o, kDueNoShowRefusal).has_value(), row.refusal) << row.as_of;
  }
  // Community rehabilitation: overdue, never deemed refusal.
  Order rehab = Received(CivilDay(2026, 1, 10), 24);
  EvaluateOrder(CommunityRehabPolicy(), &rehab, CivilDay(2026, 2, 1));
  ASSERT_TRUE(Find(rehab, kDueReport).has_value());
  EXPECT_TRUE(Find(rehab, kDueReport)->overdue);
  EXPECT_EQ(Find(rehab, kDueReport)->legal_basis, "戒毒条例 Art 38");
  EXPECT_FALSE(Find(rehab, kDueNoShowRefusal).has_value());
}

TEST(EvaluateOrderTest, AnAcknowledgedRefusalIsNoLongerDue) {
  Order o = Received(CivilDay(2026, 1, 10));
  o.police_reports.push_back(PoliceReport{"NO_SHOW_REFUSAL:1", CivilDay(2026, 1, 27)});
  EvaluateOrder(CommunityDetoxPolicy(), &o, CivilDay(2026, 1, 26));
  EXPECT_TRUE(Find(o, kDueNoShowRefusal).has_value());  // not yet reported on that day
  EvaluateOrder(CommunityDetoxPolicy(), &o, CivilDay(2026, 1, 27));
  EXPECT_FALSE(Find(o, kDueNoShowRefusal).has_value());
}

TEST(EvaluateOrderTest, TermRunsFromTheReportDateAndExpiresIntoTheDischargeNotice) {
  Order o = Reported(CivilDay(2026, 1, 20), CivilDay(2026, 2, 1));
  EvaluateOrder(CommunityDetoxPolicy(), &o, CivilDay(2026, 2, 1));
  EXPECT_EQ(o.state, kStateActive);
  EXPECT_EQ(o.state_since, CivilDay(2026, 2, 1));
  // 自2026年2月1日起至2029年1月31日止.
  EXPECT_EQ(o.term_last_day, CivilDay(2029, 1, 31));
  ASSERT_TRUE(Find(o, kDueTermEnd).has_value());
  EXPECT_FALSE(Find(o, kDueTermEnd)->open);

  EvaluateOrder(CommunityDetoxPolicy(), &o, CivilDay(2029, 2, 1));
  EXPECT_EQ(o.state, kStateExpired);
  EXPECT_EQ(o.state_since, CivilDay(2029, 2, 1));
  std::optional<DueItem> notice = Find(o, kDueDischargeNotice);
  ASSERT_TRUE(notice.has_value());
  EXPECT_EQ(notice->due, CivilDay(2029, 2, 7));  // Art 23, 40: within 7 days
  EXPECT_EQ(notice->legal_basis, "戒毒条例 Art 23, 40");
}

TEST(EvaluateOrderTest, CreditAndPausedDaysMoveTheLastDay) {
  // 戒毒条例 Art 31: 100 days of isolation credited bring the last day 100 days earlier.
  Order credited = Reported(CivilDay(2026, 2, 1), CivilDay(2026, 2, 1));
  credited.credited_days = 100;
  EvaluateOrder(CommunityDetoxPolicy(), &credited, CivilDay(2026, 3, 1));
  EXPECT_EQ(credited.term_last_day, CivilDay(2029, 1, 31) - 100);
  // A credit longer than the term leaves the report day itself as the last.
  credited.credited_days = kMaxCreditedDays;
  EvaluateOrder(CommunityDetoxPolicy(), &credited, CivilDay(2026, 3, 1));
  EXPECT_EQ(credited.term_last_day, CivilDay(2026, 2, 1));

  // Art 24 with a pausing policy: 10 days of detention push the last day back 10 days.
  Order paused = Reported(CivilDay(2026, 2, 1), CivilDay(2026, 2, 1));
  paused.suspensions.push_back(Suspension{1, SuspensionReason::kDetention,
                                          CivilDay(2026, 3, 1), CivilDay(2026, 3, 11), true});
  EvaluateOrder(CommunityDetoxPolicy(), &paused, CivilDay(2026, 4, 1));
  EXPECT_EQ(paused.excluded_days, 10);
  EXPECT_EQ(paused.term_last_day, CivilDay(2029, 1, 31) + 10);
  EXPECT_EQ(paused.state, kStateActive);
  EXPECT_EQ(paused.state_since, CivilDay(2026, 3, 11));
  // While the detention runs, the order is suspended and nothing but alerts is due.
  EvaluateOrder(CommunityDetoxPolicy(), &paused, CivilDay(2026, 3, 5));
  EXPECT_EQ(paused.state, kStateSuspended);
  EXPECT_FALSE(Find(paused, kDueTest).has_value());
  EXPECT_FALSE(Find(paused, kDueTermEnd).has_value());
}

TEST(TestScheduleTest, DefaultPhasesAreMonthlyThenEveryTwoMonthsThenQuarterly) {
  const CivilDay start(2026, 3, 15);
  const CivilDay last = legal_time::TermLastDay(start, 36);
  const std::vector<TestSlot> slots = TestSchedule(DefaultTestPhases(), start, 36, last);
  ASSERT_EQ(slots.size(), 12u + 6u + 4u);
  EXPECT_EQ(slots[0].start, start);
  EXPECT_EQ(slots[0].end, CivilDay(2026, 4, 14));
  EXPECT_EQ(slots[1].start, CivilDay(2026, 4, 15));
  EXPECT_EQ(slots[12].start, CivilDay(2027, 3, 15));  // year 2
  EXPECT_EQ(slots[12].end, CivilDay(2027, 5, 14));
  EXPECT_EQ(slots[18].start, CivilDay(2028, 3, 15));  // year 3
  EXPECT_EQ(slots[18].end, CivilDay(2028, 6, 14));
  EXPECT_EQ(slots.back().end, last);
  // Consecutive: every day of the term lies in exactly one period.
  for (size_t i = 1; i < slots.size(); ++i) EXPECT_EQ(slots[i].start, slots[i - 1].end + 1);
  // A shorter term (SK, 6 months) has only the first six monthly periods.
  EXPECT_EQ(TestSchedule(DefaultTestPhases(), start, 6, legal_time::TermLastDay(start, 6)).size(),
            6u);
}

TEST(TestScheduleTest, APeriodIsSatisfiedByATestOrWaivedBySuspension) {
  Order o = Reported(CivilDay(2026, 3, 15), CivilDay(2026, 3, 15));
  const TestSlot slot{CivilDay(2026, 3, 15), CivilDay(2026, 4, 14)};
  EXPECT_FALSE(TestSlotSatisfied(o, slot, CivilDay(2026, 4, 14)));
  // A missed test satisfies the period only once confirmed as evaded.
  o.tests.push_back(MakeTest(1, CivilDay(2026, 3, 20), TestResult::kMissed));
  EXPECT_FALSE(TestSlotSatisfied(o, slot, CivilDay(2026, 4, 14)));
  o.tests[0].reviewed_on = CivilDay(2026, 3, 25);
  o.tests[0].evaded = true;
  EXPECT_FALSE(TestSlotSatisfied(o, slot, CivilDay(2026, 3, 24)));
  EXPECT_TRUE(TestSlotSatisfied(o, slot, CivilDay(2026, 3, 25)));
  // A period overlapping a suspension is waived.
  Order held = Reported(CivilDay(2026, 3, 15), CivilDay(2026, 3, 15));
  held.suspensions.push_back(Suspension{1, SuspensionReason::kArrest, CivilDay(2026, 4, 1),
                                        std::nullopt, true});
  EXPECT_TRUE(TestSlotSatisfied(held, slot, CivilDay(2026, 4, 14)));
}

TEST(EvaluateOrderTest, ThirdRefusedTestIsASeriousViolation) {
  ProgramPolicy policy = CommunityDetoxPolicy();
  Order o = Reported(CivilDay(2026, 1, 10), CivilDay(2026, 1, 10));
  o.places[0].agreement_on = CivilDay(2026, 1, 10);
  o.tests = {MakeTest(1, CivilDay(2026, 2, 1), TestResult::kRefused),
             MakeTest(2, CivilDay(2026, 3, 1), TestResult::kRefused)};
  EvaluateOrder(policy, &o, CivilDay(2026, 4, 1));
  EXPECT_EQ(o.evaded_or_refused_tests, 2);
  EXPECT_FALSE(Find(o, kDueSeriousViolation).has_value());
  o.tests.push_back(MakeTest(3, CivilDay(2026, 4, 2), TestResult::kRefused));
  EvaluateOrder(policy, &o, CivilDay(2026, 4, 2));
  std::optional<DueItem> alert = Find(o, kDueSeriousViolation);
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->key, "SERIOUS_VIOLATION_REPORT:TESTS");
  EXPECT_EQ(alert->due, CivilDay(2026, 4, 2) + policy.police_report_days);
  EXPECT_EQ(alert->legal_basis, "戒毒条例 Art 20, 21; 禁毒法 Art 38");
}

TEST(EvaluateOrderTest, DaysAwayAlertOnTheThirtyFirstDay) {
  Order o = Reported(CivilDay(2026, 1, 10), CivilDay(2026, 1, 10));
  o.absences.push_back(Absence{1, CivilDay(2026, 2, 1), CivilDay(2026, 2, 11)});  // 10 days
  o.absences.push_back(Absence{2, CivilDay(2026, 4, 1), std::nullopt});           // still away
  EvaluateOrder(CommunityDetoxPolicy(), &o, CivilDay(2026, 4, 21));
  EXPECT_EQ(o.days_away, 30);
  EXPECT_EQ(o.unauthorised_departures, 2);
  EXPECT_FALSE(Find(o, kDueSeriousViolation).has_value());
  EvaluateOrder(CommunityDetoxPolicy(), &o, CivilDay(2026, 4, 22));
  EXPECT_EQ(o.days_away, 31);
  std::optional<DueItem> alert = Find(o, kDueSeriousViolation);
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->key, "SERIOUS_VIOLATION_REPORT:DAYS_AWAY");
  EXPECT_EQ(alert->due, CivilDay(2026, 4, 22) + 1);
}

TEST(StatusOfTest, TheFirstDueItemIsTheNextDeadline) {
  Order o = Received(CivilDay(2026, 1, 10));
  EvaluateOrder(CommunityDetoxPolicy(), &o, CivilDay(2026, 1, 12));
  const ProgramStatusRecord r = StatusOf(o);
  EXPECT_EQ(r.case_id, o.case_id);
  EXPECT_EQ(r.division, "520102");
  EXPECT_EQ(r.state, "AWAITING_REPORT");
  EXPECT_EQ(r.began, CivilDay(2026, 1, 10));
  EXPECT_EQ(r.deadline_kind, "REPORT");
  EXPECT_EQ(r.deadline, CivilDay(2026, 1, 25));
}

TEST(CheckNewOrderTest, TermIsFixedForDetoxAndAtMostThreeYearsForRehab) {
  OpenOrderInput in;
  in.case_id = "520102-2026-0000001-X";
  in.division = "520102";
  in.place = "520102001";
  in.decision_number = "TEST-DECISION-1";
  in.decision_date = CivilDay(2026, 1, 8);
  in.received_on = CivilDay(2026, 1, 10);
  const CivilDay today(2026, 1, 10);
  EXPECT_EQ(*CheckNewOrder(CommunityDetoxPolicy(), in, today), 36);
  in.term_months = 24;
  EXPECT_TRUE(absl::IsInvalidArgument(CheckNewOrder(CommunityDetoxPolicy(), in, today).status()));
  EXPECT_EQ(*CheckNewOrder(CommunityRehabPolicy(), in, today), 24);
  in.term_months = 37;
  EXPECT_TRUE(absl::IsInvalidArgument(CheckNewOrder(CommunityRehabPolicy(), in, today).status()));
  in.term_months = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(CheckNewOrder(CommunityRehabPolicy(), in, today).status()));
  // Dates: nothing in the future, and no receipt before the decision.
  in.term_months = 12;
  in.received_on = CivilDay(2026, 1, 11);
  EXPECT_TRUE(absl::IsInvalidArgument(CheckNewOrder(CommunityRehabPolicy(), in, today).status()));
  in.received_on = CivilDay(2026, 1, 7);
  EXPECT_TRUE(absl::IsInvalidArgument(CheckNewOrder(CommunityRehabPolicy(), in, today).status()));
  // 戒毒条例 Art 31: a credit only for community detox, at most kMaxCreditedDays.
  EXPECT_TRUE(CheckCredit(CommunityDetoxPolicy(), 200).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckCredit(CommunityDetoxPolicy(), kMaxCreditedDays + 1)));
  EXPECT_TRUE(absl::IsInvalidArgument(CheckCredit(CommunityRehabPolicy(), 200)));
}

TEST(CheckLeaveTest, ThreeDaysOrMoreNeedAWrittenReportBeforeLeaving) {
  const Order o = Reported(CivilDay(2026, 1, 10), CivilDay(2026, 1, 10));
  const CivilDay today(2026, 3, 10);
  struct Row {
    CivilDay reported_on, start, end;
    bool ok;
  };
  const Row rows[] = {
      {CivilDay(2026, 3, 1), CivilDay(2026, 3, 2), CivilDay(2026, 3, 4), true},   // before
      {CivilDay(2026, 3, 3), CivilDay(2026, 3, 2), CivilDay(2026, 3, 3), true},   // 2 days
      {CivilDay(2026, 3, 3), CivilDay(2026, 3, 2), CivilDay(2026, 3, 4), false},  // 3, late
  };
  for (const Row& row : rows) {
    LeaveInput in{row.reported_on, row.start, row.end, "elsewhere"};
    absl::Status s = CheckLeave(o, in, today);
    EXPECT_EQ(s.ok(), row.ok) << s;
    if (!row.ok) {
      EXPECT_TRUE(absl::IsFailedPrecondition(s));
    }
  }
  // Before reporting there is no term to leave from.
  EXPECT_TRUE(absl::IsFailedPrecondition(
      CheckLeave(Received(CivilDay(2026, 1, 10)),
                 LeaveInput{today, today, today, "elsewhere"}, today)));
}

TEST(CheckDischargeTest, OnlyAfterTheTermsLastDayAndNotWhileSuspended) {
  const ProgramPolicy policy = CommunityDetoxPolicy();
  Order o = Reported(CivilDay(2026, 1, 20), CivilDay(2026, 2, 1));
  const CivilDay today(2029, 3, 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(CheckDischarge(policy, o, CivilDay(2029, 1, 31), today)));
  EXPECT_TRUE(CheckDischarge(policy, o, CivilDay(2029, 2, 1), today).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckDischarge(policy, o, today + 1, today)));
  o.suspensions.push_back(Suspension{1, SuspensionReason::kArrest, CivilDay(2029, 2, 10),
                                     std::nullopt, true});
  EXPECT_TRUE(absl::IsFailedPrecondition(CheckDischarge(policy, o, CivilDay(2029, 2, 20), today)));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      CheckDischarge(policy, Received(CivilDay(2026, 1, 20)), CivilDay(2029, 2, 20), today)));
}

TEST(ResumeTest, HeldBeforeReportingTheWindowRunsAgainFromRelease) {
  Order o = Received(CivilDay(2026, 1, 10));
  o.suspensions.push_back(Suspension{4, SuspensionReason::kDetention, CivilDay(2026, 1, 20),
                                     std::nullopt, true});
  const absl::StatusOr<Suspension> s = CheckResume(o, CivilDay(2026, 2, 3), CivilDay(2026, 2, 3));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->suspension_id, 4);
  EXPECT_TRUE(absl::IsInvalidArgument(
      CheckResume(o, CivilDay(2026, 1, 19), CivilDay(2026, 2, 3)).status()));
  EXPECT_EQ(ReportDeadlineAfterResume(CommunityDetoxPolicy(), o, CivilDay(2026, 2, 3)),
            CivilDay(2026, 2, 18));
  // A person who had reported keeps the stored window.
  Order reported = Reported(CivilDay(2026, 1, 10), CivilDay(2026, 1, 12));
  EXPECT_EQ(ReportDeadlineAfterResume(CommunityDetoxPolicy(), reported, CivilDay(2026, 2, 3)),
            std::nullopt);
  // Not suspended: nothing to resume.
  EXPECT_TRUE(absl::IsFailedPrecondition(
      CheckResume(reported, CivilDay(2026, 2, 3), CivilDay(2026, 2, 3)).status()));
}

}  // namespace
}  // namespace pathway::supervision
