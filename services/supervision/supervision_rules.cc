#include "services/supervision/supervision_rules.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/ids/division_code.h"
#include "common/status/status_macros.h"

namespace pathway::supervision {
namespace {

using absl::CivilDay;
using legal_time::DaysBetween;
using legal_time::TermLastDay;

absl::Status NotInFuture(CivilDay day, CivilDay today, absl::string_view field) {
  if (day > today) return absl::InvalidArgumentError(absl::StrCat(field, " is in the future"));
  return absl::OkStatus();
}

absl::Status NotBefore(CivilDay day, CivilDay earliest, absl::string_view field,
                       absl::string_view what) {
  if (day < earliest) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is before ", what));
  }
  return absl::OkStatus();
}

bool Acknowledged(const Order& order, absl::string_view key, CivilDay as_of) {
  for (const PoliceReport& r : order.police_reports) {
    if (r.alert_key == key && r.reported_on <= as_of) return true;
  }
  return false;
}

// The date an Art 20 count reaches its threshold, from the events' dates.
std::optional<CivilDay> NthDate(std::vector<CivilDay> dates, int n) {
  if (static_cast<int>(dates.size()) < n) return std::nullopt;
  std::sort(dates.begin(), dates.end());
  return dates[n - 1];
}

absl::Status RequireReported(const Order& o) {
  if (!o.term_start.has_value()) {
    return absl::FailedPreconditionError(
        "the person has not reported yet; supervision starts on the report date "
        "(戒毒条例 Art 14)");
  }
  return absl::OkStatus();
}

absl::Status RequireNotSuspended(const Order& o) {
  if (OpenSuspension(o) != nullptr) {
    return absl::FailedPreconditionError("the order is suspended (戒毒条例 Art 24)");
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------
// Policy.

std::vector<TestPhase> DefaultTestPhases() {
  // Regional configuration, e.g.: year 1 monthly, year 2 every 2 months, year 3 quarterly.
  return {{12, 12}, {12, 6}, {12, 4}};
}

ProgramPolicy CommunityDetoxPolicy() {
  ProgramPolicy p;
  p.programme = Programme::kCommunityDetox;
  p.event_prefix = "sd";
  p.fixed_term = true;  // 戒毒条例 Art 14: 3 years from the report date
  p.term_months = 36;
  p.max_term_months = 36;
  p.no_show_is_refusal = true;  // 戒毒条例 Art 14: 视为拒绝接受社区戒毒
  p.test_phases = DefaultTestPhases();
  return p;
}

ProgramPolicy CommunityRehabPolicy() {
  ProgramPolicy p;
  p.programme = Programme::kCommunityRehab;
  p.event_prefix = "sk";
  p.fixed_term = false;  // 禁毒法 Art 48: set per case, at most 3 years
  p.term_months = 0;
  p.max_term_months = 36;
  p.no_show_is_refusal = false;
  p.test_phases = DefaultTestPhases();
  return p;
}

absl::Status ValidatePolicy(const ProgramPolicy& p) {
  if (p.event_prefix.empty()) return absl::InvalidArgumentError("policy: event_prefix is empty");
  if (p.max_term_months < 1 || p.max_term_months > 36) {
    return absl::InvalidArgumentError("policy: max_term_months must be 1..36 (禁毒法 Art 48)");
  }
  if (p.fixed_term && (p.term_months < 1 || p.term_months > p.max_term_months)) {
    return absl::InvalidArgumentError("policy: term_months out of range");
  }
  for (const TestPhase& phase : p.test_phases) {
    if (phase.months <= 0 || phase.min_tests <= 0 || phase.months % phase.min_tests != 0) {
      return absl::InvalidArgumentError(
          "policy: a test phase needs months > 0 divisible by min_tests > 0");
    }
  }
  if (p.agreement_within_days < 0 || p.police_report_days < 0 || p.missed_review_days < 0) {
    return absl::InvalidArgumentError("policy: negative day counts");
  }
  return absl::OkStatus();
}

absl::string_view SpecimenName(Specimen s) {
  switch (s) {
    case Specimen::kUrine: return "URINE";
    case Specimen::kHair: return "HAIR";
    case Specimen::kBlood: return "BLOOD";
    case Specimen::kSaliva: return "SALIVA";
  }
  return "UNKNOWN";
}
absl::string_view TestResultName(TestResult r) {
  switch (r) {
    case TestResult::kNegative: return "NEGATIVE";
    case TestResult::kPositive: return "POSITIVE";
    case TestResult::kRefused: return "REFUSED";
    case TestResult::kMissed: return "MISSED";
  }
  return "UNKNOWN";
}
absl::string_view SuspensionReasonName(SuspensionReason r) {
  switch (r) {
    case SuspensionReason::kDetention: return "DETENTION";
    case SuspensionReason::kArrest: return "ARREST";
  }
  return "UNKNOWN";
}
absl::string_view TerminationReasonName(TerminationReason r) {
  switch (r) {
    case TerminationReason::kImprisonment: return "IMPRISONMENT";
    case TerminationReason::kCompulsoryEducation: return "COMPULSORY_EDUCATION";
    case TerminationReason::kIsolation: return "ISOLATION";
    case TerminationReason::kDeath: return "DEATH";
  }
  return "UNKNOWN";
}

// ---------------------------------------------------------------------------------
// Days, windows and the test schedule.

absl::Status CheckText(absl::string_view value, absl::string_view field, bool required) {
  if (required && value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (value.size() > kMaxTextField) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is too long"));
  }
  return absl::OkStatus();
}

CivilDay ReportDeadline(CivilDay from, const legal_time::HolidayCalendar* calendar) {
  return legal_time::MoveOffNonWorkingDay(legal_time::DeadlineAfterDays(from, kReportWindowDays),
                                          calendar);
}

const Suspension* SuspensionOn(const Order& order, CivilDay day) {
  for (const Suspension& s : order.suspensions) {
    if (s.start <= day && (!s.resumed_on.has_value() || day < *s.resumed_on)) return &s;
  }
  return nullptr;
}

const Suspension* OpenSuspension(const Order& order) {
  for (const Suspension& s : order.suspensions) {
    if (!s.resumed_on.has_value()) return &s;
  }
  return nullptr;
}

// Resume stores the window that runs on after release, so a resumed suspension needs
// nothing here.
std::optional<CivilDay> ReportDeadlineAfterSuspensions(const Order& o, const Place& p) {
  for (const Suspension& s : o.suspensions) {
    if (s.resumed_on.has_value() || s.start < p.assigned_on || s.start > p.report_deadline) {
      continue;
    }
    if (p.reported_on.has_value() && s.start > *p.reported_on) continue;
    return std::nullopt;
  }
  return p.report_deadline;
}

std::vector<TestSlot> TestSchedule(const std::vector<TestPhase>& phases, CivilDay term_start,
                                   int term_months, CivilDay term_last_day) {
  std::vector<TestSlot> slots;
  int offset = 0;
  for (const TestPhase& phase : phases) {
    if (phase.min_tests <= 0 || phase.months <= 0) continue;
    const int interval = phase.months / phase.min_tests;
    for (int k = 0; k < phase.min_tests && offset < term_months; ++k) {
      TestSlot s;
      s.start = offset == 0 ? term_start : TermLastDay(term_start, offset) + 1;
      s.end = std::min(TermLastDay(term_start, std::min(offset + interval, term_months)),
                       term_last_day);
      if (s.start <= s.end) slots.push_back(s);
      offset += interval;
    }
  }
  return slots;
}

bool TestSlotSatisfied(const Order& order, const TestSlot& slot, CivilDay as_of) {
  for (const DrugTest& t : order.tests) {
    if (t.tested_on < slot.start || t.tested_on > slot.end || t.tested_on > as_of) continue;
    if (t.result != TestResult::kMissed) return true;  // taken or refused (counted apart)
    if (t.reviewed_on.has_value() && *t.reviewed_on <= as_of && t.evaded) return true;
  }
  // A period overlapping a suspension is waived: the person was held elsewhere.
  for (const Suspension& s : order.suspensions) {
    const CivilDay end = s.resumed_on.has_value() ? *s.resumed_on - 1 : as_of;
    if (s.start <= slot.end && slot.start <= end) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------
// Evaluation.

void EvaluateOrder(const ProgramPolicy& policy, Order* o, CivilDay as_of) {
  o->due.clear();
  // Art 20 counters, from events on or before as_of.
  std::vector<CivilDay> test_violations;
  for (const DrugTest& t : o->tests) {
    if (t.tested_on > as_of) continue;
    if (t.result == TestResult::kRefused) test_violations.push_back(t.tested_on);
    // A missed test counts as evaded only from its confirmation.
    if (t.result == TestResult::kMissed && t.evaded && t.reviewed_on.has_value() &&
        *t.reviewed_on <= as_of) {
      test_violations.push_back(*t.reviewed_on);
    }
  }
  std::vector<CivilDay> departures;
  int64_t days_away = 0;
  std::optional<CivilDay> days_limit_passed;
  for (const Absence& a : o->absences) {  // sorted by left_on
    if (a.left_on > as_of) continue;
    departures.push_back(a.left_on);
    CivilDay back = a.returned_on.has_value() ? std::min(*a.returned_on, as_of) : as_of;
    const int64_t days = std::max<int64_t>(0, DaysBetween(a.left_on, back));
    if (!days_limit_passed.has_value() && days_away + days > kSeriousDaysAwayLimit) {
      // The day on which the total first exceeds 30.
      days_limit_passed = a.left_on + (kSeriousDaysAwayLimit + 1 - days_away);
    }
    days_away += days;
  }
  o->evaded_or_refused_tests = static_cast<int>(test_violations.size());
  o->unauthorised_departures = static_cast<int>(departures.size());
  o->days_away = days_away;

  // Term: from the first report date; closed clock-pausing suspensions, and the days so
  // far of an open one, push the last day back (戒毒条例 Art 24 policy flag).
  const Suspension* suspended = SuspensionOn(*o, as_of);
  int excluded = 0;
  if (o->term_start.has_value()) {
    for (const Suspension& s : o->suspensions) {
      if (!s.pauses_clock || s.start > as_of) continue;
      const CivilDay end = s.resumed_on.has_value() ? std::min(*s.resumed_on, as_of) : as_of;
      excluded += static_cast<int>(
          std::max<int64_t>(0, DaysBetween(std::max(s.start, *o->term_start), end)));
    }
  }
  o->excluded_days = excluded;
  o->term_last_day.reset();
  if (o->term_start.has_value()) {
    // 戒毒条例 Art 14: the term runs from the report date; Art 31: 已执行的强制隔离戒毒
    // 期限折抵社区戒毒期限 — the isolation days served before a conversion count toward
    // it, so its last day comes that many days earlier (paused days still push it
    // back). A credit as long as the term leaves the report day itself as the last.
    o->term_last_day = std::max(
        *o->term_start, TermLastDay(*o->term_start, o->term_months, excluded) - o->credited_days);
  }

  // State.
  if (o->closed) {
    o->state = o->close_reason == kStateDischarged ? kStateDischarged : kStateTerminated;
    o->state_since = o->closed_on.value_or(o->received_on);
  } else if (suspended != nullptr) {
    o->state = kStateSuspended;
    o->state_since = suspended->start;
  } else if (!o->term_start.has_value()) {
    o->state = kStateAwaitingReport;
    o->state_since = o->received_on;
  } else if (as_of > *o->term_last_day) {
    o->state = kStateExpired;
    o->state_since = *o->term_last_day + 1;
  } else {
    o->state = kStateActive;
    CivilDay since = *o->term_start;
    for (const Suspension& s : o->suspensions) {
      if (s.resumed_on.has_value() && *s.resumed_on <= as_of) since = std::max(since, *s.resumed_on);
    }
    o->state_since = since;
  }
  o->schedule_gaps = 0;
  if (o->closed) return;

  auto add = [&](absl::string_view kind, std::string key, CivilDay due, bool open,
                 absl::string_view basis) {
    DueItem item;
    item.case_id = o->case_id;
    item.order_id = o->order_id;
    item.kind = std::string(kind);
    item.key = std::move(key);
    item.due = due;
    item.overdue = legal_time::IsOverdue(due, as_of);
    item.open = open;
    item.legal_basis = std::string(basis);
    o->due.push_back(std::move(item));
  };
  const bool sd = policy.programme == Programme::kCommunityDetox;

  // Reporting: 15 days from receipt (Art 14 SD, Art 38 SK) or from the change of place
  // (Art 22). An SD no-show without good reason is deemed refusal (Art 14), which
  // staff report to police (Art 21); police decide whether it was without good reason.
  for (const Place& p : o->places) {
    const absl::string_view basis =
        p.seq > 1 ? "戒毒条例 Art 22" : (sd ? "戒毒条例 Art 14" : "戒毒条例 Art 38");
    // A person detained or arrested inside the window cannot report (Art 24): the
    // window is suspended with the order and runs on after resumption.
    const std::optional<CivilDay> deadline = ReportDeadlineAfterSuspensions(*o, p);
    const bool late = !deadline.has_value()
                          ? false
                          : (p.reported_on.has_value() ? *p.reported_on > *deadline
                                                       : legal_time::IsOverdue(*deadline, as_of));
    if (&p == &o->current_place() && !p.reported_on.has_value() && suspended == nullptr &&
        deadline.has_value()) {
      add(kDueReport, absl::StrCat("REPORT:", p.seq), *deadline, true, basis);
    }
    if (policy.no_show_is_refusal && late) {
      std::string key = absl::StrCat(kDueNoShowRefusal, ":", p.seq);
      if (!Acknowledged(*o, key, as_of)) {
        add(kDueNoShowRefusal, std::move(key), *deadline + 1 + policy.police_report_days, true,
            "戒毒条例 Art 14, 21; 禁毒法 Art 38");
      }
    }
  }
  // Agreement promptly after reporting at the current place (SD: 戒毒条例 Art 16; SK:
  // Art 38, report and sign; Art 22 after a change of place).
  const Place& current = o->current_place();
  if (current.reported_on.has_value() && !current.agreement_on.has_value() &&
      suspended == nullptr) {
    add(kDueAgreement, absl::StrCat("AGREEMENT:", current.seq),
        *current.reported_on + policy.agreement_within_days, true,
        current.seq > 1 ? (sd ? "戒毒条例 Art 16, 22" : "戒毒条例 Art 38, 22")
                        : (sd ? "戒毒条例 Art 16" : "戒毒条例 Art 38"));
  }
  // Tests on the regional schedule: the current period's test, or else the next one.
  if (o->term_start.has_value() && suspended == nullptr) {
    const std::vector<TestSlot> slots = TestSchedule(policy.test_phases, *o->term_start,
                                                  o->term_months, *o->term_last_day);
    bool listed = false;
    for (const TestSlot& s : slots) {
      if (s.end < as_of) {
        if (!TestSlotSatisfied(*o, s, as_of)) ++o->schedule_gaps;
        continue;
      }
      if (listed) break;
      if (s.start <= as_of) {
        if (TestSlotSatisfied(*o, s, as_of)) continue;
        add(kDueTest, absl::StrCat("TEST:", DayText(s.start)), s.end, true,
            "戒毒条例 Art 19 (regional schedule)");
      } else {
        add(kDueTest, absl::StrCat("TEST:", DayText(s.start)), s.end, false,
            "戒毒条例 Art 19 (regional schedule)");
      }
      listed = true;
    }
  }
  // Missed tests await a caseworker's review (evaded only once confirmed, Art 20).
  for (const DrugTest& t : o->tests) {
    if (t.result == TestResult::kMissed && t.tested_on <= as_of &&
        !(t.reviewed_on.has_value() && *t.reviewed_on <= as_of)) {
      add(kDueMissedTestReview, absl::StrCat("MISSED:", t.test_id),
          t.tested_on + policy.missed_review_days, true, "戒毒条例 Art 20");
    }
  }
  // Serious violation (Art 20), to be reported to police (Art 21).
  struct Ground {
    absl::string_view name;
    std::optional<CivilDay> reached;
  };
  const Ground grounds[] = {
      {"TESTS", NthDate(test_violations, kSeriousTestThreshold)},
      {"DEPARTURES", NthDate(departures, kSeriousDepartureThreshold)},
      {"DAYS_AWAY", days_limit_passed},
  };
  for (const Ground& g : grounds) {
    if (!g.reached.has_value()) continue;
    std::string key = absl::StrCat(kDueSeriousViolation, ":", g.name);
    if (Acknowledged(*o, key, as_of)) continue;
    add(kDueSeriousViolation, std::move(key), *g.reached + policy.police_report_days, true,
        "戒毒条例 Art 20, 21; 禁毒法 Art 38");
  }
  // Drug use during the programme: a ground for isolation (禁毒法 Art 38), reported to
  // police (Art 21).
  for (const DrugTest& t : o->tests) {
    if (t.result != TestResult::kPositive || t.tested_on > as_of) continue;
    std::string key = absl::StrCat(kDuePositiveTest, ":", t.test_id);
    if (Acknowledged(*o, key, as_of)) continue;
    add(kDuePositiveTest, std::move(key), t.tested_on + policy.police_report_days, true,
        "禁毒法 Art 38; 戒毒条例 Art 21");
  }
  // Term end, then the police discharge notice (Art 23, 40); the township never
  // discharges on its own.
  if (o->term_last_day.has_value() && suspended == nullptr) {
    if (as_of <= *o->term_last_day) {
      add(kDueTermEnd, "TERM_END", *o->term_last_day, false, sd ? "戒毒条例 Art 14" : "禁毒法 Art 48");
    } else {
      add(kDueDischargeNotice, "DISCHARGE_NOTICE", *o->term_last_day + kDischargeNoticeDays, true,
          "戒毒条例 Art 23, 40");
    }
  }
  std::sort(o->due.begin(), o->due.end(), [](const DueItem& a, const DueItem& b) {
    return std::tie(a.due, a.key) < std::tie(b.due, b.key);
  });
}

ProgramStatusRecord StatusOf(const Order& o) {
  ProgramStatusRecord r;
  r.case_id = o.case_id;
  r.division = o.current_place().division;
  r.state = o.state;
  r.began = o.state_since;
  if (!o.due.empty()) {
    r.deadline_kind = o.due.front().kind;
    r.deadline = o.due.front().due;
  }
  for (const DueItem& d : o.due) {
    r.due_items.push_back(DueItemRecord{d.kind, d.key, d.due, d.open, true, d.legal_basis});
  }
  return r;
}

std::string EventId(const ProgramPolicy& p, absl::string_view what, int64_t id) {
  return absl::StrCat(p.event_prefix, "-", what, "-", id);
}

// ---------------------------------------------------------------------------------
// The law's answer to each change.

absl::StatusOr<int> CheckNewOrder(const ProgramPolicy& policy, const OpenOrderInput& in,
                                  CivilDay today) {
  if (in.case_id.empty()) return absl::InvalidArgumentError("case_id is required");
  RETURN_IF_ERROR(ValidateDivisionCode(in.division));
  RETURN_IF_ERROR(CheckText(in.place, "place", true));
  RETURN_IF_ERROR(CheckText(in.decision_number, "decision_number", true));
  RETURN_IF_ERROR(NotInFuture(in.decision_date, today, "decision_date"));
  RETURN_IF_ERROR(NotInFuture(in.received_on, today, "received_on"));
  RETURN_IF_ERROR(NotBefore(in.received_on, in.decision_date, "received_on", "decision_date"));
  int term = in.term_months;
  if (policy.fixed_term) {
    // 戒毒条例 Art 14: community detox lasts 3 years.
    if (term != 0 && term != policy.term_months) {
      return absl::InvalidArgumentError(
          "term_months: the term is fixed by law (戒毒条例 Art 14: 3 years)");
    }
    term = policy.term_months;
  } else if (term < 1 || term > policy.max_term_months) {
    // 禁毒法 Art 48: community rehabilitation of at most 3 years.
    return absl::InvalidArgumentError("term_months must be 1..36 (禁毒法 Art 48)");
  }
  return term;
}

absl::Status CheckCredit(const ProgramPolicy& policy, int credited_days) {
  if (credited_days < 0 || credited_days > kMaxCreditedDays) {
    return absl::InvalidArgumentError("credited_days must be 0..1098 (戒毒条例 Art 31)");
  }
  if (credited_days != 0 && policy.programme != Programme::kCommunityDetox) {
    return absl::InvalidArgumentError(
        "credited_days applies only to community detox (戒毒条例 Art 31)");
  }
  return absl::OkStatus();
}

absl::Status CheckReport(const Order& o, CivilDay reported_on, CivilDay today) {
  RETURN_IF_ERROR(RequireNotSuspended(o));
  const Place& p = o.current_place();
  if (p.reported_on.has_value()) {
    return absl::FailedPreconditionError("the person has already reported at this place");
  }
  RETURN_IF_ERROR(NotInFuture(reported_on, today, "reported_on"));
  return NotBefore(reported_on, p.assigned_on, "reported_on",
                   p.seq == 1 ? "the decision was received" : "the change of place");
}

absl::Status CheckAgreement(const Order& o, CivilDay signed_on, CivilDay today) {
  RETURN_IF_ERROR(RequireNotSuspended(o));
  const Place& p = o.current_place();
  if (!p.reported_on.has_value()) {
    return absl::FailedPreconditionError(
        "the agreement is signed after reporting (戒毒条例 Art 16, 38)");
  }
  if (p.agreement_on.has_value()) {
    return absl::AlreadyExistsError("an agreement is already signed for this place");
  }
  RETURN_IF_ERROR(NotInFuture(signed_on, today, "signed_on"));
  return NotBefore(signed_on, *p.reported_on, "signed_on", "the report date");
}

absl::Status CheckPlaceChange(const Order& o, absl::string_view new_division,
                              absl::string_view new_place, CivilDay changed_on, CivilDay today) {
  RETURN_IF_ERROR(RequireNotSuspended(o));
  const Place& p = o.current_place();
  if (p.division == new_division && p.place == new_place) {
    return absl::InvalidArgumentError("new_place is the current place");
  }
  RETURN_IF_ERROR(NotInFuture(changed_on, today, "changed_on"));
  return NotBefore(changed_on, p.reported_on.value_or(p.assigned_on), "changed_on",
                   "the current place's last event");
}

absl::Status CheckTest(const ProgramPolicy& policy, const Order& order, CivilDay tested_on,
                       CivilDay today) {
  RETURN_IF_ERROR(RequireReported(order));
  RETURN_IF_ERROR(NotInFuture(tested_on, today, "tested_on"));
  RETURN_IF_ERROR(NotBefore(tested_on, *order.term_start, "tested_on", "the report date"));
  Order o = order;
  EvaluateOrder(policy, &o, today);
  if (tested_on > *o.term_last_day) {
    return absl::FailedPreconditionError("tested_on is after the term's last day");
  }
  if (SuspensionOn(o, tested_on) != nullptr) {
    return absl::FailedPreconditionError("the order was suspended on tested_on (戒毒条例 Art 24)");
  }
  return absl::OkStatus();
}

absl::Status CheckMissedTestReview(const Order& o, int64_t test_id, CivilDay confirmed_on,
                                   CivilDay today) {
  const DrugTest* test = nullptr;
  for (const DrugTest& t : o.tests) {
    if (t.test_id == test_id) test = &t;
  }
  if (test == nullptr) return absl::NotFoundError("test not found");
  if (test->result != TestResult::kMissed) {
    return absl::FailedPreconditionError("only a missed test can be confirmed as evaded");
  }
  if (test->reviewed_on.has_value()) {
    return absl::FailedPreconditionError("the missed test has already been reviewed");
  }
  RETURN_IF_ERROR(NotInFuture(confirmed_on, today, "confirmed_on"));
  return NotBefore(confirmed_on, test->tested_on, "confirmed_on", "the test date");
}

absl::Status CheckLeave(const Order& o, const LeaveInput& in, CivilDay today) {
  RETURN_IF_ERROR(RequireReported(o));
  RETURN_IF_ERROR(NotInFuture(in.reported_on, today, "reported_on"));
  if (in.end < in.start) return absl::InvalidArgumentError("end is before start");
  RETURN_IF_ERROR(NotBefore(in.start, *o.term_start, "start", "the report date"));
  // 戒毒条例 Art 19: leaving the county for 3 days or more needs a written report
  // beforehand.
  const int64_t days = DaysBetween(in.start, in.end) + 1;
  if (days >= kLeaveReportDays && in.reported_on > in.start) {
    return absl::FailedPreconditionError(
        "leave of 3 days or more needs a written report before leaving (戒毒条例 Art 19)");
  }
  return absl::OkStatus();
}

absl::Status CheckAbsence(const Order& o, CivilDay left_on, std::optional<CivilDay> returned_on,
                          CivilDay today) {
  RETURN_IF_ERROR(RequireReported(o));
  RETURN_IF_ERROR(NotInFuture(left_on, today, "left_on"));
  RETURN_IF_ERROR(NotBefore(left_on, *o.term_start, "left_on", "the report date"));
  if (returned_on.has_value()) {
    RETURN_IF_ERROR(NotInFuture(*returned_on, today, "returned_on"));
    RETURN_IF_ERROR(NotBefore(*returned_on, left_on, "returned_on", "left_on"));
  }
  // Days away are counted once: absences may not overlap.
  const CivilDay new_end = returned_on.value_or(CivilDay(9999, 12, 31));
  for (const Absence& a : o.absences) {
    const CivilDay end = a.returned_on.value_or(CivilDay(9999, 12, 31));
    if (left_on < end && a.left_on < new_end) {
      return absl::InvalidArgumentError("left_on overlaps a recorded absence");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckReturn(const Order& o, int64_t absence_id, CivilDay returned_on,
                         CivilDay today) {
  const Absence* absence = nullptr;
  for (const Absence& a : o.absences) {
    if (a.absence_id == absence_id) absence = &a;
  }
  if (absence == nullptr) return absl::NotFoundError("absence not found");
  if (absence->returned_on.has_value()) {
    return absl::FailedPreconditionError("the absence already has a return date");
  }
  RETURN_IF_ERROR(NotInFuture(returned_on, today, "returned_on"));
  RETURN_IF_ERROR(NotBefore(returned_on, absence->left_on, "returned_on", "left_on"));
  for (const Absence& a : o.absences) {
    if (a.absence_id != absence_id && a.left_on > absence->left_on && a.left_on < returned_on) {
      return absl::InvalidArgumentError("returned_on overlaps a later absence");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPoliceReport(const ProgramPolicy& policy, const Order& order,
                               absl::string_view alert_key, CivilDay reported_on,
                               CivilDay today) {
  RETURN_IF_ERROR(NotInFuture(reported_on, today, "reported_on"));
  Order o = order;
  EvaluateOrder(policy, &o, today);
  for (const DueItem& d : o.due) {
    if (d.key != alert_key) continue;
    if (d.kind == kDueSeriousViolation || d.kind == kDuePositiveTest ||
        d.kind == kDueNoShowRefusal) {
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError("alert not found");
}

absl::Status CheckSuspension(const Order& o, CivilDay start, CivilDay today) {
  RETURN_IF_ERROR(RequireNotSuspended(o));
  RETURN_IF_ERROR(NotInFuture(start, today, "start"));
  RETURN_IF_ERROR(NotBefore(start, o.received_on, "start", "the decision was received"));
  for (const Suspension& s : o.suspensions) {
    if (s.resumed_on.has_value() && start < *s.resumed_on) {
      return absl::InvalidArgumentError("start is before the last resumption");
    }
  }
  for (const DrugTest& t : o.tests) {
    if (t.tested_on >= start) {
      return absl::InvalidArgumentError("start is before a recorded test");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Suspension> CheckResume(const Order& o, CivilDay resumed_on, CivilDay today) {
  const Suspension* s = OpenSuspension(o);
  if (s == nullptr) return absl::FailedPreconditionError("the order is not suspended");
  RETURN_IF_ERROR(NotInFuture(resumed_on, today, "resumed_on"));
  RETURN_IF_ERROR(NotBefore(resumed_on, s->start, "resumed_on", "the suspension's start"));
  return *s;
}

std::optional<CivilDay> ReportDeadlineAfterResume(const ProgramPolicy& policy, const Order& o,
                                                  CivilDay resumed_on) {
  const Place& p = o.current_place();
  if (p.reported_on.has_value()) return std::nullopt;
  // Held before reporting: the 15-day window runs again from release.
  const CivilDay deadline = ReportDeadline(resumed_on, policy.calendar.get());
  if (deadline > p.report_deadline) return deadline;
  return std::nullopt;
}

absl::Status CheckTermination(const Order& o, CivilDay effective_on, CivilDay today) {
  RETURN_IF_ERROR(NotInFuture(effective_on, today, "effective_on"));
  return NotBefore(effective_on, o.received_on, "effective_on", "the decision was received");
}

absl::Status CheckDischarge(const ProgramPolicy& policy, const Order& order,
                            CivilDay notice_date, CivilDay today) {
  RETURN_IF_ERROR(RequireReported(order));
  RETURN_IF_ERROR(RequireNotSuspended(order));
  RETURN_IF_ERROR(NotInFuture(notice_date, today, "notice_date"));
  Order o = order;
  EvaluateOrder(policy, &o, today);
  // 戒毒条例 Art 23, 40: police discharge on expiry of the term; never earlier, and the
  // township never discharges on its own (it records the police notice).
  if (notice_date <= *o.term_last_day) {
    return absl::FailedPreconditionError(
        "discharge before the term's last day (戒毒条例 Art 23, 40)");
  }
  return absl::OkStatus();
}

}  // namespace pathway::supervision
