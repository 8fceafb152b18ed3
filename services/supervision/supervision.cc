#include "services/supervision/supervision.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/auth/jurisdiction.h"
#include "common/ids/division_code.h"
#include "common/status/status_macros.h"

namespace pathway::supervision {
namespace {

using absl::CivilDay;
using legal_time::DaysBetween;
using legal_time::TermLastDay;

// 戒毒条例 Art 14 (SD), Art 38 (SK), Art 22 (change of place): report within 15 days.
constexpr int kReportWindowDays = 15;
// 戒毒条例 Art 20: serious violation thresholds (law, not configuration).
constexpr int kSeriousTestThreshold = 3;       // evaded or refused tests
constexpr int kSeriousDepartureThreshold = 3;  // unauthorised departures
constexpr int kSeriousDaysAwayLimit = 30;      // more than 30 days away in total
// 戒毒条例 Art 19: leaving the county for 3 days or more needs a written report first.
constexpr int kLeaveReportDays = 3;
// 戒毒条例 Art 23, 40: police issue the discharge notice and notify within 7 days.
constexpr int kDischargeNoticeDays = 7;
constexpr int kMaxPageSize = 500;
constexpr size_t kMaxTextField = 128;

// ---- dates in the database ----

std::string DayText(CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}
Value DayValue(CivilDay d) { return DayText(d); }
Value DayValue(const std::optional<CivilDay>& d) {
  if (!d.has_value()) return std::monostate{};
  return DayText(*d);
}
CivilDay DayAt(const Row& row, int col) {
  CivilDay day;
  if (!absl::ParseCivilTime(row.GetString(col), &day)) return CivilDay();
  return day;
}
std::optional<CivilDay> OptDayAt(const Row& row, int col) {
  if (row.IsNull(col)) return std::nullopt;
  return DayAt(row, col);
}

absl::Status CheckText(absl::string_view value, absl::string_view field, bool required) {
  if (required && value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (value.size() > kMaxTextField) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is too long"));
  }
  return absl::OkStatus();
}

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

std::string JurisdictionLike(const Caller& caller) {
  if (caller.jurisdiction() == kNationalJurisdiction) return "%";
  return caller.jurisdiction() + "%";
}

// The suspension covering `day`, if any.
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

bool Acknowledged(const Order& order, absl::string_view key, CivilDay as_of) {
  for (const PoliceReport& r : order.police_reports) {
    if (r.alert_key == key && r.reported_on <= as_of) return true;
  }
  return false;
}

std::string EncodeToken(absl::string_view text) { return absl::WebSafeBase64Escape(text); }

absl::StatusOr<std::string> DecodeToken(absl::string_view token) {
  std::string text;
  if (!absl::WebSafeBase64Unescape(token, &text)) {
    return absl::InvalidArgumentError("page_token is malformed");
  }
  return text;
}

int ClampPageSize(int size) {
  if (size <= 0) return 50;
  return std::min(size, kMaxPageSize);
}

// ---- loading ----

constexpr char kOrderColumns[] =
    "order_id, case_id, state, state_since, decision_number, decision_date, received_on, "
    "term_months, term_start, closed, close_reason, closed_on, "
    "closing_document, credited_days";

Order OrderFromRow(const Row& r) {
  Order o;
  o.order_id = r.GetInt(0);
  o.case_id = r.GetString(1);
  o.state = r.GetString(2);
  o.state_since = DayAt(r, 3);
  o.decision_number = r.GetString(4);
  o.decision_date = DayAt(r, 5);
  o.received_on = DayAt(r, 6);
  o.term_months = static_cast<int>(r.GetInt(7));
  o.term_start = OptDayAt(r, 8);
  o.closed = r.GetInt(9) != 0;
  o.close_reason = r.GetString(10);
  o.closed_on = OptDayAt(r, 11);
  o.closing_document = r.GetString(12);
  o.credited_days = static_cast<int>(r.GetInt(13));
  return o;
}

absl::Status LoadHistory(ReadTransaction& tx, Order* o) {
  const std::vector<Value> id = {o->order_id};
  ASSIGN_OR_RETURN(std::vector<Row> places,
                   tx.Query("SELECT seq, division, place, assigned_on, report_deadline, "
                            "reported_on, agreement_on, agreement_number FROM sv_places "
                            "WHERE order_id = ? ORDER BY seq",
                            id));
  for (const Row& r : places) {
    Place p;
    p.seq = static_cast<int>(r.GetInt(0));
    p.division = r.GetString(1);
    p.place = r.GetString(2);
    p.assigned_on = DayAt(r, 3);
    p.report_deadline = DayAt(r, 4);
    p.reported_on = OptDayAt(r, 5);
    p.agreement_on = OptDayAt(r, 6);
    p.agreement_number = r.GetString(7);
    o->places.push_back(std::move(p));
  }
  if (o->places.empty()) return absl::InternalError("order without a place");
  ASSIGN_OR_RETURN(std::vector<Row> tests,
                   tx.Query("SELECT test_id, tested_on, specimen, result, unannounced, "
                            "reviewed_on, evaded FROM sv_tests WHERE order_id = ? "
                            "ORDER BY tested_on, test_id",
                            id));
  for (const Row& r : tests) {
    DrugTest t;
    t.test_id = r.GetInt(0);
    t.tested_on = DayAt(r, 1);
    t.specimen = static_cast<Specimen>(r.GetInt(2));
    t.result = static_cast<TestResult>(r.GetInt(3));
    t.unannounced = r.GetInt(4) != 0;
    t.reviewed_on = OptDayAt(r, 5);
    t.evaded = r.GetInt(6) != 0;
    o->tests.push_back(t);
  }
  ASSIGN_OR_RETURN(std::vector<Row> leaves,
                   tx.Query("SELECT leave_id, reported_on, start_on, end_on, destination "
                            "FROM sv_leaves WHERE order_id = ? ORDER BY start_on, leave_id",
                            id));
  for (const Row& r : leaves) {
    o->leaves.push_back(
        Leave{r.GetInt(0), DayAt(r, 1), DayAt(r, 2), DayAt(r, 3), r.GetString(4)});
  }
  ASSIGN_OR_RETURN(std::vector<Row> absences,
                   tx.Query("SELECT absence_id, left_on, returned_on FROM sv_absences "
                            "WHERE order_id = ? ORDER BY left_on, absence_id",
                            id));
  for (const Row& r : absences) {
    o->absences.push_back(Absence{r.GetInt(0), DayAt(r, 1), OptDayAt(r, 2)});
  }
  ASSIGN_OR_RETURN(std::vector<Row> suspensions,
                   tx.Query("SELECT suspension_id, reason, start_on, resumed_on, pauses_clock "
                            "FROM sv_suspensions WHERE order_id = ? ORDER BY start_on",
                            id));
  for (const Row& r : suspensions) {
    o->suspensions.push_back(Suspension{r.GetInt(0),
                                        static_cast<SuspensionReason>(r.GetInt(1)),
                                        DayAt(r, 2), OptDayAt(r, 3), r.GetInt(4) != 0});
  }
  ASSIGN_OR_RETURN(std::vector<Row> reports,
                   tx.Query("SELECT alert_key, reported_on FROM sv_police_reports "
                            "WHERE order_id = ? ORDER BY reported_on, alert_key",
                            id));
  for (const Row& r : reports) {
    o->police_reports.push_back(PoliceReport{r.GetString(0), DayAt(r, 1)});
  }
  return absl::OkStatus();
}

absl::StatusOr<Order> LoadOrderById(ReadTransaction& tx, int64_t order_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kOrderColumns,
                                         " FROM sv_orders WHERE order_id = ?"),
                            {order_id}));
  if (rows.empty()) return CaseNotFound("order");
  Order o = OrderFromRow(rows[0]);
  RETURN_IF_ERROR(LoadHistory(tx, &o));
  return o;
}

// The case's open order if any, else its latest; NOT_FOUND when there is none. Who
// may see it is decided before (SupervisionEngine::CheckVisible).
absl::StatusOr<Order> LoadLatestOrder(ReadTransaction& tx, absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT order_id FROM sv_orders WHERE case_id = ? "
                            "ORDER BY closed ASC, order_id DESC LIMIT 1",
                            {std::string(case_id)}));
  if (rows.empty()) return CaseNotFound("order");
  return LoadOrderById(tx, rows[0].GetInt(0));
}

// The open order, for recording its execution: only the executing township's side
// acts (DESIGN.md §6); the other place of 双向管控 sees it but is PERMISSION_DENIED.
absl::StatusOr<Order> LoadOpenOrder(ReadTransaction& tx, const Caller& caller,
                                    absl::string_view case_id) {
  ASSIGN_OR_RETURN(Order o, LoadLatestOrder(tx, case_id));
  RETURN_IF_ERROR(CheckExecutes(caller, o.current_place().division, "the executing county"));
  if (o.closed) {
    return absl::FailedPreconditionError(
        absl::StrCat("the order is closed (", o.close_reason, ")"));
  }
  return o;
}

// The report deadline of place `p`; nullopt while a suspension that began on or before
// it still runs (戒毒条例 Art 24: a detained person cannot report). Resume stores the
// window that runs on after release, so a resumed suspension needs nothing here.
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

// ---- the test schedule ----

struct Slot {
  CivilDay start;
  CivilDay end;  // inclusive
};

std::vector<Slot> ScheduleSlots(const std::vector<TestPhase>& phases, CivilDay term_start,
                                int term_months, CivilDay term_last_day) {
  std::vector<Slot> slots;
  int offset = 0;
  for (const TestPhase& phase : phases) {
    if (phase.min_tests <= 0 || phase.months <= 0) continue;
    const int interval = phase.months / phase.min_tests;
    for (int k = 0; k < phase.min_tests && offset < term_months; ++k) {
      Slot s;
      s.start = offset == 0 ? term_start : TermLastDay(term_start, offset) + 1;
      s.end = std::min(TermLastDay(term_start, std::min(offset + interval, term_months)),
                       term_last_day);
      if (s.start <= s.end) slots.push_back(s);
      offset += interval;
    }
  }
  return slots;
}

bool SlotSatisfied(const Order& order, const Slot& slot, CivilDay as_of) {
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

// The date an Art 20 count reaches its threshold, from the events' dates.
std::optional<CivilDay> NthDate(std::vector<CivilDay> dates, int n) {
  if (static_cast<int>(dates.size()) < n) return std::nullopt;
  std::sort(dates.begin(), dates.end());
  return dates[n - 1];
}

absl::Status InsertPlace(Transaction& tx, int64_t order_id, int seq, absl::string_view division,
                         absl::string_view place, CivilDay assigned_on, CivilDay deadline) {
  return tx.Exec(
      "INSERT INTO sv_places(order_id, seq, division, place, assigned_on, report_deadline) "
      "VALUES(?, ?, ?, ?, ?, ?)",
      {order_id, static_cast<int64_t>(seq), std::string(division), std::string(place),
       DayValue(assigned_on), DayValue(deadline)});
}

}  // namespace

// ---------------------------------------------------------------------------------

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

std::vector<Migration> SupervisionMigrations() {
  return {{"supervision", 1,
           "CREATE TABLE sv_orders ("
           "  order_id INTEGER PRIMARY KEY,"
           "  case_id TEXT NOT NULL,"
           "  division TEXT NOT NULL,"  // the current executing county
           "  state TEXT NOT NULL,"
           "  state_since TEXT NOT NULL,"
           "  decision_number TEXT NOT NULL,"
           "  decision_date TEXT NOT NULL,"
           "  received_on TEXT NOT NULL,"
           "  term_months INTEGER NOT NULL,"
           "  term_start TEXT,"
           "  closed INTEGER NOT NULL DEFAULT 0,"
           "  close_reason TEXT NOT NULL DEFAULT '',"
           "  closed_on TEXT,"
           "  closing_document TEXT NOT NULL DEFAULT '',"
           "  opened_by TEXT NOT NULL,"
           "  created_us INTEGER NOT NULL);"
           // One open order per case per service.
           "CREATE UNIQUE INDEX sv_orders_one_open ON sv_orders(case_id) WHERE closed = 0;"
           "CREATE INDEX sv_orders_case ON sv_orders(case_id, order_id);"
           "CREATE INDEX sv_orders_division ON sv_orders(closed, division, order_id);"
           "CREATE TABLE sv_places ("
           "  order_id INTEGER NOT NULL REFERENCES sv_orders(order_id),"
           "  seq INTEGER NOT NULL,"
           "  division TEXT NOT NULL,"
           "  place TEXT NOT NULL,"
           "  assigned_on TEXT NOT NULL,"
           "  report_deadline TEXT NOT NULL,"
           "  reported_on TEXT,"
           "  agreement_on TEXT,"
           "  agreement_number TEXT NOT NULL DEFAULT '',"
           "  PRIMARY KEY(order_id, seq));"
           "CREATE TABLE sv_tests ("
           "  test_id INTEGER PRIMARY KEY,"
           "  order_id INTEGER NOT NULL REFERENCES sv_orders(order_id),"
           "  tested_on TEXT NOT NULL,"
           "  specimen INTEGER NOT NULL,"
           "  result INTEGER NOT NULL,"
           "  unannounced INTEGER NOT NULL,"
           "  reviewed_on TEXT,"
           "  evaded INTEGER NOT NULL DEFAULT 0,"
           "  recorded_by TEXT NOT NULL);"
           "CREATE INDEX sv_tests_order ON sv_tests(order_id, tested_on);"
           "CREATE TABLE sv_leaves ("
           "  leave_id INTEGER PRIMARY KEY,"
           "  order_id INTEGER NOT NULL REFERENCES sv_orders(order_id),"
           "  reported_on TEXT NOT NULL,"
           "  start_on TEXT NOT NULL,"
           "  end_on TEXT NOT NULL,"
           "  destination TEXT NOT NULL);"
           "CREATE INDEX sv_leaves_order ON sv_leaves(order_id, start_on);"
           "CREATE TABLE sv_absences ("
           "  absence_id INTEGER PRIMARY KEY,"
           "  order_id INTEGER NOT NULL REFERENCES sv_orders(order_id),"
           "  left_on TEXT NOT NULL,"
           "  returned_on TEXT);"
           "CREATE INDEX sv_absences_order ON sv_absences(order_id, left_on);"
           "CREATE TABLE sv_suspensions ("
           "  suspension_id INTEGER PRIMARY KEY,"
           "  order_id INTEGER NOT NULL REFERENCES sv_orders(order_id),"
           "  reason INTEGER NOT NULL,"
           "  start_on TEXT NOT NULL,"
           "  resumed_on TEXT,"
           "  pauses_clock INTEGER NOT NULL);"
           "CREATE INDEX sv_suspensions_order ON sv_suspensions(order_id, start_on);"
           // Alerts reported to police (Art 21): acknowledges a due item by its key.
           "CREATE TABLE sv_police_reports ("
           "  order_id INTEGER NOT NULL REFERENCES sv_orders(order_id),"
           "  alert_key TEXT NOT NULL,"
           "  reported_on TEXT NOT NULL,"
           "  reported_by TEXT NOT NULL,"
           "  PRIMARY KEY(order_id, alert_key));"},
          // 戒毒条例 Art 31: isolation days credited against an SD term on conversion.
          {"supervision", 2,
           "ALTER TABLE sv_orders ADD COLUMN credited_days INTEGER NOT NULL DEFAULT 0;"}};
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
// Rule evaluation.

SupervisionEngine::SupervisionEngine(ProgramPolicy policy) : policy_(std::move(policy)) {}

void SupervisionEngine::Evaluate(Order* o, CivilDay as_of) const {
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
  const bool sd = policy_.programme == Programme::kCommunityDetox;

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
    if (policy_.no_show_is_refusal && late) {
      std::string key = absl::StrCat(kDueNoShowRefusal, ":", p.seq);
      if (!Acknowledged(*o, key, as_of)) {
        add(kDueNoShowRefusal, std::move(key), *deadline + 1 + policy_.police_report_days, true,
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
        *current.reported_on + policy_.agreement_within_days, true,
        current.seq > 1 ? (sd ? "戒毒条例 Art 16, 22" : "戒毒条例 Art 38, 22")
                        : (sd ? "戒毒条例 Art 16" : "戒毒条例 Art 38"));
  }
  // Tests on the regional schedule: the current period's test, or else the next one.
  if (o->term_start.has_value() && suspended == nullptr) {
    const std::vector<Slot> slots = ScheduleSlots(policy_.test_phases, *o->term_start,
                                                  o->term_months, *o->term_last_day);
    bool listed = false;
    for (const Slot& s : slots) {
      if (s.end < as_of) {
        if (!SlotSatisfied(*o, s, as_of)) ++o->schedule_gaps;
        continue;
      }
      if (listed) break;
      if (s.start <= as_of) {
        if (SlotSatisfied(*o, s, as_of)) continue;
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
          t.tested_on + policy_.missed_review_days, true, "戒毒条例 Art 20");
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
    add(kDueSeriousViolation, std::move(key), *g.reached + policy_.police_report_days, true,
        "戒毒条例 Art 20, 21; 禁毒法 Art 38");
  }
  // Drug use during the programme: a ground for isolation (禁毒法 Art 38), reported to
  // police (Art 21).
  for (const DrugTest& t : o->tests) {
    if (t.result != TestResult::kPositive || t.tested_on > as_of) continue;
    std::string key = absl::StrCat(kDuePositiveTest, ":", t.test_id);
    if (Acknowledged(*o, key, as_of)) continue;
    add(kDuePositiveTest, std::move(key), t.tested_on + policy_.police_report_days, true,
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

namespace {

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
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------
// Writes. Each loads the open order, checks the change against its history, applies
// it, then Finish re-evaluates and saves the order's state and programme status.

namespace {

// `stored`: the order exactly as LoadOrderById would read it now, change included.
absl::StatusOr<WriteResult> FinishLoaded(const SupervisionEngine& engine, Transaction& tx,
                                         Order stored, absl::Time now,
                                         std::vector<RegistryEvent> events) {
  WriteResult result;
  const int64_t order_id = stored.order_id;
  result.order = std::move(stored);
  engine.Evaluate(&result.order, legal_time::ToCivilDay(now));
  RETURN_IF_ERROR(tx.Exec(
      "UPDATE sv_orders SET state = ?, state_since = ?, division = ? WHERE order_id = ?",
      {result.order.state, DayValue(result.order.state_since),
       result.order.current_place().division, order_id}));
  result.status = StatusOf(result.order);
  RETURN_IF_ERROR(SaveProgramStatus(tx, now, &result.status));
  result.events = std::move(events);
  return result;
}

absl::StatusOr<WriteResult> Finish(const SupervisionEngine& engine, Transaction& tx,
                                   int64_t order_id, absl::Time now,
                                   std::vector<RegistryEvent> events = {}) {
  ASSIGN_OR_RETURN(Order stored, LoadOrderById(tx, order_id));
  return FinishLoaded(engine, tx, std::move(stored), now, std::move(events));
}

std::string EventId(const ProgramPolicy& p, absl::string_view what, int64_t id) {
  return absl::StrCat(p.event_prefix, "-", what, "-", id);
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

absl::StatusOr<WriteResult> SupervisionEngine::OpenOrder(Transaction& tx, const Caller& caller,
                                                         const OpenOrderInput& in,
                                                         absl::Time now) const {
  const CivilDay today = legal_time::ToCivilDay(now);
  if (in.case_id.empty()) return absl::InvalidArgumentError("case_id is required");
  RETURN_IF_ERROR(ValidateDivisionCode(in.division));
  RETURN_IF_ERROR(CheckText(in.place, "place", true));
  RETURN_IF_ERROR(CheckText(in.decision_number, "decision_number", true));
  RETURN_IF_ERROR(NotInFuture(in.decision_date, today, "decision_date"));
  RETURN_IF_ERROR(NotInFuture(in.received_on, today, "received_on"));
  RETURN_IF_ERROR(NotBefore(in.received_on, in.decision_date, "received_on", "decision_date"));
  int term = in.term_months;
  if (policy_.fixed_term) {
    // 戒毒条例 Art 14: community detox lasts 3 years.
    if (term != 0 && term != policy_.term_months) {
      return absl::InvalidArgumentError(
          "term_months: the term is fixed by law (戒毒条例 Art 14: 3 years)");
    }
    term = policy_.term_months;
  } else if (term < 1 || term > policy_.max_term_months) {
    // 禁毒法 Art 48: community rehabilitation of at most 3 years.
    return absl::InvalidArgumentError("term_months must be 1..36 (禁毒法 Art 48)");
  }
  if (!caller.Covers(in.division) && in.out_of_area_basis.empty()) {
    return absl::PermissionDeniedError("division (the execution place) is outside your jurisdiction");
  }
  if (in.credited_days < 0 || in.credited_days > kMaxCreditedDays) {
    return absl::InvalidArgumentError("credited_days must be 0..1098 (戒毒条例 Art 31)");
  }
  if (in.credited_days != 0 && policy_.programme != Programme::kCommunityDetox) {
    return absl::InvalidArgumentError(
        "credited_days applies only to community detox (戒毒条例 Art 31)");
  }
  absl::Status inserted = tx.Exec(
      "INSERT INTO sv_orders(case_id, division, state, state_since, decision_number, "
      "decision_date, received_on, term_months, opened_by, created_us, credited_days) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {in.case_id, in.division, std::string(kStateAwaitingReport), DayValue(in.received_on),
       in.decision_number, DayValue(in.decision_date), DayValue(in.received_on),
       static_cast<int64_t>(term), caller.subject(), absl::ToUnixMicros(now),
       static_cast<int64_t>(in.credited_days)});
  if (absl::IsAlreadyExists(inserted)) {
    return absl::AlreadyExistsError("the case already has an open order in this programme");
  }
  RETURN_IF_ERROR(inserted);
  const int64_t order_id = tx.LastInsertId();
  // 戒毒条例 Art 14 / 38: report within 15 days of receiving the decision (民法典 Art 201,
  // 203 for counting and holidays).
  const CivilDay deadline = legal_time::MoveOffNonWorkingDay(
      legal_time::DeadlineAfterDays(in.received_on, kReportWindowDays), policy_.calendar.get());
  RETURN_IF_ERROR(InsertPlace(tx, order_id, 1, in.division, in.place, in.received_on, deadline));
  std::vector<RegistryEvent> events = {{RegistryEvent::Kind::kMeasureStarted, in.case_id,
                                        in.received_on, EventId(policy_, "order-start", order_id)}};
  return Finish(*this, tx, order_id, now, std::move(events));
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordReport(Transaction& tx, const Caller& caller,
                                                            absl::string_view case_id,
                                                            CivilDay reported_on,
                                                            absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(RequireNotSuspended(o));
  const Place& p = o.current_place();
  if (p.reported_on.has_value()) {
    return absl::FailedPreconditionError("the person has already reported at this place");
  }
  RETURN_IF_ERROR(NotInFuture(reported_on, legal_time::ToCivilDay(now), "reported_on"));
  RETURN_IF_ERROR(NotBefore(reported_on, p.assigned_on, "reported_on",
                            p.seq == 1 ? "the decision was received" : "the change of place"));
  RETURN_IF_ERROR(tx.Exec("UPDATE sv_places SET reported_on = ? WHERE order_id = ? AND seq = ?",
                          {DayValue(reported_on), o.order_id, static_cast<int64_t>(p.seq)}));
  if (!o.term_start.has_value()) {
    // 戒毒条例 Art 14: the term runs from the report date. After a change of place the
    // term runs on without a break (Art 22).
    RETURN_IF_ERROR(tx.Exec("UPDATE sv_orders SET term_start = ? WHERE order_id = ?",
                            {DayValue(reported_on), o.order_id}));
  }
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::SignAgreement(
    Transaction& tx, const Caller& caller, absl::string_view case_id, CivilDay signed_on,
    absl::string_view agreement_number, absl::Time now) const {
  RETURN_IF_ERROR(CheckText(agreement_number, "agreement_number", false));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(RequireNotSuspended(o));
  const Place& p = o.current_place();
  if (!p.reported_on.has_value()) {
    return absl::FailedPreconditionError(
        "the agreement is signed after reporting (戒毒条例 Art 16, 38)");
  }
  if (p.agreement_on.has_value()) {
    return absl::AlreadyExistsError("an agreement is already signed for this place");
  }
  RETURN_IF_ERROR(NotInFuture(signed_on, legal_time::ToCivilDay(now), "signed_on"));
  RETURN_IF_ERROR(NotBefore(signed_on, *p.reported_on, "signed_on", "the report date"));
  RETURN_IF_ERROR(tx.Exec(
      "UPDATE sv_places SET agreement_on = ?, agreement_number = ? WHERE order_id = ? AND seq = ?",
      {DayValue(signed_on), std::string(agreement_number), o.order_id,
       static_cast<int64_t>(p.seq)}));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::ChangeExecutionPlace(
    Transaction& tx, const Caller& caller, absl::string_view case_id,
    absl::string_view new_division, absl::string_view new_place, CivilDay changed_on,
    absl::Time now) const {
  RETURN_IF_ERROR(ValidateDivisionCode(new_division));
  RETURN_IF_ERROR(CheckText(new_place, "new_place", true));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(RequireNotSuspended(o));
  const Place& p = o.current_place();
  if (p.division == new_division && p.place == new_place) {
    return absl::InvalidArgumentError("new_place is the current place");
  }
  RETURN_IF_ERROR(NotInFuture(changed_on, legal_time::ToCivilDay(now), "changed_on"));
  RETURN_IF_ERROR(NotBefore(changed_on, p.reported_on.value_or(p.assigned_on), "changed_on",
                            "the current place's last event"));
  // 戒毒条例 Art 22: report to the new place within 15 days of the change; a new
  // agreement follows; the term runs on without a break.
  const CivilDay deadline = legal_time::MoveOffNonWorkingDay(
      legal_time::DeadlineAfterDays(changed_on, kReportWindowDays), policy_.calendar.get());
  RETURN_IF_ERROR(
      InsertPlace(tx, o.order_id, p.seq + 1, new_division, new_place, changed_on, deadline));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordTest(Transaction& tx, const Caller& caller,
                                                          absl::string_view case_id,
                                                          const TestInput& in, absl::Time now,
                                                          int64_t* test_id) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  // As loaded, before evaluation: with the new test added below it is what a
  // reload would read, so Finish need not read the order's history again (a
  // test is the most frequent write of SD and SK).
  Order stored = o;
  RETURN_IF_ERROR(RequireReported(o));
  const CivilDay today = legal_time::ToCivilDay(now);
  RETURN_IF_ERROR(NotInFuture(in.tested_on, today, "tested_on"));
  RETURN_IF_ERROR(NotBefore(in.tested_on, *o.term_start, "tested_on", "the report date"));
  Evaluate(&o, today);
  if (in.tested_on > *o.term_last_day) {
    return absl::FailedPreconditionError("tested_on is after the term's last day");
  }
  if (SuspensionOn(o, in.tested_on) != nullptr) {
    return absl::FailedPreconditionError("the order was suspended on tested_on (戒毒条例 Art 24)");
  }
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO sv_tests(order_id, tested_on, specimen, result, unannounced, recorded_by) "
      "VALUES(?, ?, ?, ?, ?, ?)",
      {o.order_id, DayValue(in.tested_on), static_cast<int64_t>(in.specimen),
       static_cast<int64_t>(in.result), static_cast<int64_t>(in.unannounced ? 1 : 0),
       caller.subject()}));
  const int64_t id = tx.LastInsertId();
  if (test_id != nullptr) *test_id = id;
  std::vector<RegistryEvent> events;
  if (in.result == TestResult::kPositive) {
    // A positive test is a drug-use finding for the registry (戒毒条例 Art 7 clock).
    events.push_back({RegistryEvent::Kind::kPositiveTest, o.case_id, in.tested_on,
                      EventId(policy_, "test", id)});
  }
  DrugTest added;
  added.test_id = id;
  added.tested_on = in.tested_on;
  added.specimen = in.specimen;
  added.result = in.result;
  added.unannounced = in.unannounced;
  // LoadHistory's order: tested_on, then test_id (the new id is the largest).
  auto at = std::upper_bound(stored.tests.begin(), stored.tests.end(), added,
                             [](const DrugTest& a, const DrugTest& b) {
                               return std::tie(a.tested_on, a.test_id) <
                                      std::tie(b.tested_on, b.test_id);
                             });
  stored.tests.insert(at, added);
  return FinishLoaded(*this, tx, std::move(stored), now, std::move(events));
}

absl::StatusOr<WriteResult> SupervisionEngine::ConfirmMissedTest(
    Transaction& tx, const Caller& caller, absl::string_view case_id, int64_t test_id,
    bool evaded, CivilDay confirmed_on, absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
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
  RETURN_IF_ERROR(NotInFuture(confirmed_on, legal_time::ToCivilDay(now), "confirmed_on"));
  RETURN_IF_ERROR(NotBefore(confirmed_on, test->tested_on, "confirmed_on", "the test date"));
  RETURN_IF_ERROR(tx.Exec("UPDATE sv_tests SET reviewed_on = ?, evaded = ? WHERE test_id = ?",
                          {DayValue(confirmed_on), static_cast<int64_t>(evaded ? 1 : 0), test_id}));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordLeave(Transaction& tx, const Caller& caller,
                                                           absl::string_view case_id,
                                                           const LeaveInput& in,
                                                           absl::Time now) const {
  RETURN_IF_ERROR(CheckText(in.destination, "destination", false));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(RequireReported(o));
  RETURN_IF_ERROR(NotInFuture(in.reported_on, legal_time::ToCivilDay(now), "reported_on"));
  if (in.end < in.start) return absl::InvalidArgumentError("end is before start");
  RETURN_IF_ERROR(NotBefore(in.start, *o.term_start, "start", "the report date"));
  // 戒毒条例 Art 19: leaving the county for 3 days or more needs a written report
  // beforehand.
  const int64_t days = DaysBetween(in.start, in.end) + 1;
  if (days >= kLeaveReportDays && in.reported_on > in.start) {
    return absl::FailedPreconditionError(
        "leave of 3 days or more needs a written report before leaving (戒毒条例 Art 19)");
  }
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO sv_leaves(order_id, reported_on, start_on, end_on, destination) "
      "VALUES(?, ?, ?, ?, ?)",
      {o.order_id, DayValue(in.reported_on), DayValue(in.start), DayValue(in.end),
       in.destination}));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordAbsence(
    Transaction& tx, const Caller& caller, absl::string_view case_id, CivilDay left_on,
    std::optional<CivilDay> returned_on, absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(RequireReported(o));
  const CivilDay today = legal_time::ToCivilDay(now);
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
  RETURN_IF_ERROR(tx.Exec("INSERT INTO sv_absences(order_id, left_on, returned_on) VALUES(?, ?, ?)",
                          {o.order_id, DayValue(left_on), DayValue(returned_on)}));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordReturn(Transaction& tx, const Caller& caller,
                                                            absl::string_view case_id,
                                                            int64_t absence_id,
                                                            CivilDay returned_on,
                                                            absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  const Absence* absence = nullptr;
  for (const Absence& a : o.absences) {
    if (a.absence_id == absence_id) absence = &a;
  }
  if (absence == nullptr) return absl::NotFoundError("absence not found");
  if (absence->returned_on.has_value()) {
    return absl::FailedPreconditionError("the absence already has a return date");
  }
  RETURN_IF_ERROR(NotInFuture(returned_on, legal_time::ToCivilDay(now), "returned_on"));
  RETURN_IF_ERROR(NotBefore(returned_on, absence->left_on, "returned_on", "left_on"));
  for (const Absence& a : o.absences) {
    if (a.absence_id != absence_id && a.left_on > absence->left_on && a.left_on < returned_on) {
      return absl::InvalidArgumentError("returned_on overlaps a later absence");
    }
  }
  RETURN_IF_ERROR(tx.Exec("UPDATE sv_absences SET returned_on = ? WHERE absence_id = ?",
                          {DayValue(returned_on), absence_id}));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordPoliceReport(
    Transaction& tx, const Caller& caller, absl::string_view case_id,
    absl::string_view alert_key, CivilDay reported_on, absl::Time now) const {
  RETURN_IF_ERROR(CheckText(alert_key, "alert_key", true));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  const CivilDay today = legal_time::ToCivilDay(now);
  RETURN_IF_ERROR(NotInFuture(reported_on, today, "reported_on"));
  Evaluate(&o, today);
  const DueItem* item = nullptr;
  for (const DueItem& d : o.due) {
    if (d.key == alert_key) item = &d;
  }
  if (item == nullptr ||
      (item->kind != kDueSeriousViolation && item->kind != kDuePositiveTest &&
       item->kind != kDueNoShowRefusal)) {
    return absl::NotFoundError("alert not found");
  }
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO sv_police_reports(order_id, alert_key, reported_on, reported_by) "
      "VALUES(?, ?, ?, ?)",
      {o.order_id, std::string(alert_key), DayValue(reported_on), caller.subject()}));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::Suspend(Transaction& tx, const Caller& caller,
                                                       absl::string_view case_id,
                                                       SuspensionReason reason, CivilDay start,
                                                       absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(RequireNotSuspended(o));
  RETURN_IF_ERROR(NotInFuture(start, legal_time::ToCivilDay(now), "start"));
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
  // 戒毒条例 Art 24: detention or arrest suspends (中止); whether the clock pauses is
  // policy.
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO sv_suspensions(order_id, reason, start_on, pauses_clock) VALUES(?, ?, ?, ?)",
      {o.order_id, static_cast<int64_t>(reason), DayValue(start),
       static_cast<int64_t>(policy_.suspension_pauses_clock ? 1 : 0)}));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::Resume(Transaction& tx, const Caller& caller,
                                                      absl::string_view case_id,
                                                      CivilDay resumed_on, absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  const Suspension* s = OpenSuspension(o);
  if (s == nullptr) return absl::FailedPreconditionError("the order is not suspended");
  RETURN_IF_ERROR(NotInFuture(resumed_on, legal_time::ToCivilDay(now), "resumed_on"));
  RETURN_IF_ERROR(NotBefore(resumed_on, s->start, "resumed_on", "the suspension's start"));
  RETURN_IF_ERROR(tx.Exec("UPDATE sv_suspensions SET resumed_on = ? WHERE suspension_id = ?",
                          {DayValue(resumed_on), s->suspension_id}));
  // Paused days push the term's last day back: Evaluate counts them from the
  // suspension rows (legal_time::TermLastDay excluded_days).
  const Place& p = o.current_place();
  if (!p.reported_on.has_value()) {
    // Held before reporting: the 15-day window runs again from release.
    const CivilDay deadline = legal_time::MoveOffNonWorkingDay(
        legal_time::DeadlineAfterDays(resumed_on, kReportWindowDays), policy_.calendar.get());
    if (deadline > p.report_deadline) {
      RETURN_IF_ERROR(tx.Exec(
          "UPDATE sv_places SET report_deadline = ? WHERE order_id = ? AND seq = ?",
          {DayValue(deadline), o.order_id, static_cast<int64_t>(p.seq)}));
    }
  }
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::Terminate(
    Transaction& tx, const Caller& caller, absl::string_view case_id, TerminationReason reason,
    absl::string_view document_number, CivilDay effective_on, absl::Time now) const {
  RETURN_IF_ERROR(CheckText(document_number, "document_number", true));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(NotInFuture(effective_on, legal_time::ToCivilDay(now), "effective_on"));
  RETURN_IF_ERROR(NotBefore(effective_on, o.received_on, "effective_on", "the decision was received"));
  // 戒毒条例 Art 24: imprisonment or compulsory education terminates (终止); 禁毒法 Art 38:
  // so does a decision of compulsory isolation.
  RETURN_IF_ERROR(tx.Exec(
      "UPDATE sv_orders SET closed = 1, close_reason = ?, closed_on = ?, closing_document = ? "
      "WHERE order_id = ?",
      {std::string(TerminationReasonName(reason)), DayValue(effective_on),
       std::string(document_number), o.order_id}));
  RETURN_IF_ERROR(tx.Exec("UPDATE sv_suspensions SET resumed_on = ? WHERE order_id = ? AND resumed_on IS NULL",
                          {DayValue(effective_on), o.order_id}));
  std::vector<RegistryEvent> events = {{RegistryEvent::Kind::kMeasureEnded, o.case_id,
                                        effective_on, EventId(policy_, "order-end", o.order_id)}};
  return Finish(*this, tx, o.order_id, now, std::move(events));
}

absl::StatusOr<std::optional<WriteResult>> SupervisionEngine::CloseForIsolation(
    Transaction& tx, const Caller& caller, absl::string_view case_id,
    absl::string_view decision_number, CivilDay decided_on, absl::Time now) const {
  ASSIGN_OR_RETURN(std::vector<Row> open,
                   tx.Query("SELECT order_id FROM sv_orders WHERE case_id = ? AND closed = 0",
                            {std::string(case_id)}));
  if (open.empty()) return std::optional<WriteResult>();
  // 禁毒法 Art 38: the isolation decision ends community detox (and, by Art 48,
  // community rehabilitation); practice records it as 违反协议已移交 (handed over).
  ASSIGN_OR_RETURN(WriteResult r, Terminate(tx, caller, case_id, TerminationReason::kIsolation,
                                            decision_number, decided_on, now));
  return std::optional<WriteResult>(std::move(r));
}

absl::StatusOr<WriteResult> SupervisionEngine::OpenFromRelease(Transaction& tx,
                                                               const Caller& caller,
                                                               const OpenOrderInput& in,
                                                               absl::Time now,
                                                               bool* opened) const {
  *opened = false;
  ASSIGN_OR_RETURN(std::vector<Row> open,
                   tx.Query("SELECT order_id, decision_number FROM sv_orders"
                            " WHERE case_id = ? AND closed = 0",
                            {in.case_id}));
  if (!open.empty()) {
    if (open[0].GetString(1) != in.decision_number) {
      return absl::AlreadyExistsError("the case already has an open order in this programme");
    }
    // The same decision, already recorded by hand: answered as it stands.
    WriteResult same;
    ASSIGN_OR_RETURN(same.order, LoadOrderById(tx, open[0].GetInt(0)));
    RETURN_IF_ERROR(
        CheckExecutes(caller, same.order.current_place().division, "the executing county"));
    Evaluate(&same.order, legal_time::ToCivilDay(now));
    same.status = StatusOf(same.order);
    return same;
  }
  ASSIGN_OR_RETURN(WriteResult r, OpenOrder(tx, caller, in, now));
  *opened = true;
  return r;
}

absl::StatusOr<WriteResult> SupervisionEngine::OpenFromConversion(Transaction& tx,
                                                                  const Caller& caller,
                                                                  const OpenOrderInput& in,
                                                                  absl::Time now,
                                                                  bool* opened) const {
  *opened = false;
  // 戒毒条例 Art 31: only isolation converts, and only to community detox.
  if (policy_.programme != Programme::kCommunityDetox) {
    return absl::InvalidArgumentError("a conversion opens only a community detox order");
  }
  // The same answer to a repeat as a release hand-off: the same decision is answered
  // as it stands.
  return OpenFromRelease(tx, caller, in, now, opened);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordDischarge(
    Transaction& tx, const Caller& caller, absl::string_view case_id,
    absl::string_view notice_number, CivilDay notice_date, absl::Time now) const {
  RETURN_IF_ERROR(CheckText(notice_number, "notice_number", true));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(RequireReported(o));
  RETURN_IF_ERROR(RequireNotSuspended(o));
  const CivilDay today = legal_time::ToCivilDay(now);
  RETURN_IF_ERROR(NotInFuture(notice_date, today, "notice_date"));
  Evaluate(&o, today);
  // 戒毒条例 Art 23, 40: police discharge on expiry of the term; never earlier, and the
  // township never discharges on its own (it records the police notice).
  if (notice_date <= *o.term_last_day) {
    return absl::FailedPreconditionError(
        "discharge before the term's last day (戒毒条例 Art 23, 40)");
  }
  RETURN_IF_ERROR(tx.Exec(
      "UPDATE sv_orders SET closed = 1, close_reason = ?, closed_on = ?, closing_document = ? "
      "WHERE order_id = ?",
      {std::string(kStateDischarged), DayValue(notice_date), std::string(notice_number),
       o.order_id}));
  std::vector<RegistryEvent> events = {{RegistryEvent::Kind::kMeasureEnded, o.case_id,
                                        notice_date, EventId(policy_, "order-end", o.order_id)}};
  return Finish(*this, tx, o.order_id, now, std::move(events));
}

// ---------------------------------------------------------------------------------
// Reads.

absl::StatusOr<Order> SupervisionEngine::GetOrder(ReadTransaction& tx, const Caller& /*caller*/,
                                                  absl::string_view case_id,
                                                  CivilDay as_of) const {
  ASSIGN_OR_RETURN(Order o, LoadLatestOrder(tx, case_id));
  Evaluate(&o, as_of);
  return o;
}

absl::Status SupervisionEngine::CheckActs(ReadTransaction& tx, const Caller& caller,
                                          absl::string_view case_id) const {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT division FROM sv_orders WHERE case_id = ? "
                            "ORDER BY closed ASC, order_id DESC LIMIT 1",
                            {std::string(case_id)}));
  if (rows.empty()) return absl::OkStatus();
  return CheckExecutes(caller, rows[0].GetString(0), "the executing county");
}

absl::Status SupervisionEngine::CheckVisible(ReadTransaction& tx, const Caller& caller,
                                             const CaseScope& scope) const {
  if (CoversCase(caller, scope)) return CheckCaseVisible(caller, scope);
  // Not a place of 双向管控: the county executing the latest order still sees it.
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT division FROM sv_orders WHERE case_id = ? "
                            "ORDER BY closed ASC, order_id DESC LIMIT 1",
                            {scope.case_id}));
  if (rows.empty()) return CaseNotFound();
  return CheckCaseVisible(caller, scope, {rows[0].GetString(0)});
}

absl::StatusOr<OrderPage> SupervisionEngine::ListOrders(ReadTransaction& tx, const Caller& caller,
                                                        const OrderFilter& filter,
                                                        CivilDay as_of) const {
  const int size = ClampPageSize(filter.page_size);
  int64_t after = 0;
  if (!filter.page_token.empty()) {
    ASSIGN_OR_RETURN(std::string text, DecodeToken(filter.page_token));
    if (!absl::SimpleAtoi(text, &after) || after < 0) {
      return absl::InvalidArgumentError("page_token is malformed");
    }
  }
  if (!filter.division_prefix.empty()) {
    for (char c : filter.division_prefix) {
      if (c < '0' || c > '9' || filter.division_prefix.size() > 6) {
        return absl::InvalidArgumentError("division_prefix must be up to 6 digits");
      }
    }
  }
  std::string sql = absl::StrCat(
      "SELECT order_id, division FROM sv_orders WHERE order_id > ? AND division LIKE ? "
      "AND division LIKE ?",
      filter.include_closed ? "" : " AND closed = 0", " ORDER BY order_id");
  OrderPage page;
  int64_t last = 0;
  bool more = false;
  RETURN_IF_ERROR(tx.QueryEach(
      sql, {after, JurisdictionLike(caller), filter.division_prefix + "%"}, [&](const Row& r) {
        if (!caller.Covers(r.GetString(1))) return true;
        if (static_cast<int>(page.orders.size()) == size) {
          more = true;
          return false;
        }
        Order o;
        o.order_id = r.GetInt(0);
        page.orders.push_back(std::move(o));
        last = r.GetInt(0);
        return true;
      }));
  std::vector<Order> loaded;
  for (const Order& stub : page.orders) {
    ASSIGN_OR_RETURN(Order o, LoadOrderById(tx, stub.order_id));
    Evaluate(&o, as_of);
    if (!filter.state.empty() && o.state != filter.state) continue;
    loaded.push_back(std::move(o));
  }
  page.orders = std::move(loaded);
  if (more) page.next_page_token = EncodeToken(absl::StrCat(last));
  return page;
}

absl::StatusOr<DuePage> SupervisionEngine::ListDue(ReadTransaction& tx, const Caller& caller,
                                                   const ListDueQuery& q) const {
  const int size = ClampPageSize(q.page_size);
  // The token is the sort key of the last item returned: due|case|key.
  std::optional<std::tuple<std::string, std::string, std::string>> after;
  if (!q.page_token.empty()) {
    ASSIGN_OR_RETURN(std::string text, DecodeToken(q.page_token));
    std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits('|', 2));
    if (parts.size() != 3) return absl::InvalidArgumentError("page_token is malformed");
    after = std::make_tuple(parts[0], parts[1], parts[2]);
  }
  std::vector<int64_t> ids;
  RETURN_IF_ERROR(tx.QueryEach(
      "SELECT order_id, division FROM sv_orders WHERE closed = 0 AND division LIKE ? "
      "ORDER BY order_id",
      {JurisdictionLike(caller)}, [&](const Row& r) {
        if (caller.Covers(r.GetString(1))) ids.push_back(r.GetInt(0));
        return true;
      }));
  std::vector<DueItem> items;
  for (int64_t id : ids) {
    ASSIGN_OR_RETURN(Order o, LoadOrderById(tx, id));
    Evaluate(&o, q.as_of);
    for (DueItem& d : o.due) {
      if (!d.open) continue;
      if (!q.kind.empty() && d.kind != q.kind) continue;
      if (q.overdue_only && !d.overdue) continue;
      items.push_back(std::move(d));
    }
  }
  auto sort_key = [](const DueItem& d) {
    return std::make_tuple(DayText(d.due), d.case_id, d.key);
  };
  std::sort(items.begin(), items.end(),
            [&](const DueItem& a, const DueItem& b) { return sort_key(a) < sort_key(b); });
  DuePage page;
  for (DueItem& d : items) {
    if (after.has_value() && !(sort_key(d) > *after)) continue;
    if (static_cast<int>(page.items.size()) == size) {
      const auto& k = sort_key(page.items.back());
      page.next_page_token =
          EncodeToken(absl::StrCat(std::get<0>(k), "|", std::get<1>(k), "|", std::get<2>(k)));
      break;
    }
    page.items.push_back(std::move(d));
  }
  return page;
}

absl::StatusOr<std::vector<ProgramStatusRecord>> SupervisionEngine::RefreshStatuses(
    Transaction& tx, const Caller& caller, absl::Time now) const {
  const CivilDay today = legal_time::ToCivilDay(now);
  std::vector<int64_t> ids;
  RETURN_IF_ERROR(tx.QueryEach(
      "SELECT order_id, division FROM sv_orders WHERE closed = 0 AND division LIKE ? "
      "ORDER BY order_id",
      {JurisdictionLike(caller)}, [&](const Row& r) {
        if (caller.Covers(r.GetString(1))) ids.push_back(r.GetInt(0));
        return true;
      }));
  std::vector<ProgramStatusRecord> changed;
  for (int64_t id : ids) {
    ASSIGN_OR_RETURN(Order o, LoadOrderById(tx, id));
    Evaluate(&o, today);
    ProgramStatusRecord fresh = StatusOf(o);
    ASSIGN_OR_RETURN(std::optional<ProgramStatusRecord> stored, LoadProgramStatus(tx, o.case_id));
    if (stored.has_value() && stored->state == fresh.state && stored->began == fresh.began &&
        stored->deadline_kind == fresh.deadline_kind && stored->deadline == fresh.deadline &&
        stored->division == fresh.division) {
      continue;
    }
    ASSIGN_OR_RETURN(WriteResult r, Finish(*this, tx, id, now));
    changed.push_back(std::move(r.status));
  }
  return changed;
}

}  // namespace pathway::supervision
