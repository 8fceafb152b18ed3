// The law of community detox (社区戒毒, SD) and community rehabilitation (社区康复, SK):
// 禁毒法 Art 48 applies the SD rules to SK, so 戒毒条例 Art 13-24 (and 37-40) are
// written once here, as plain values and functions with no SQL and no gRPC, testable
// without a store. A ProgramPolicy says what differs between SD and SK and what a
// region configures; an Order is a measure with its whole history, and EvaluateOrder
// tells what that history means on a given day (state, term, counters, due items).
//
//   Order o = ...;  // as the tables layer reads it (supervision_tables.h)
//   EvaluateOrder(CommunityDetoxPolicy(), &o, absl::CivilDay(2026, 3, 1));
//   // o.state, o.term_last_day, o.due (what is due or overdue, by date)
//
// The Check* functions are the law's answer to a proposed change of a loaded order:
// OK, or INVALID_ARGUMENT (a field that contradicts the history, named),
// FAILED_PRECONDITION (a transition the law forbids; the message names the article),
// NOT_FOUND (the test, absence or alert named does not exist), ALREADY_EXISTS (an
// agreement already signed at the place). Dates are civil days in China Standard
// Time (legal_time::ToCivilDay); `today` is the day of `now`.
//
// Everything here is a value or a pure function: thread-safe.
#ifndef PATHWAY_SERVICES_SUPERVISION_SUPERVISION_RULES_H_
#define PATHWAY_SERVICES_SUPERVISION_SUPERVISION_RULES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/codec/date_text.h"
#include "common/legal_time/legal_time.h"
#include "common/program_status/program_status.h"

namespace pathway::supervision {

// ---------------------------------------------------------------------------------
// Policy: what differs between SD and SK, and regional configuration.

// One phase of the drug-test schedule, measured from the report date: `months` long,
// with at least `min_tests` tests, one in each of `min_tests` equal sub-periods.
// `months` must be a multiple of `min_tests`.
struct TestPhase {
  int months = 0;
  int min_tests = 0;
};

struct ProgramPolicy {
  Programme programme = Programme::kCommunityDetox;
  // Short prefix for ids sent to the registry ("sd", "sk").
  std::string event_prefix;
  // SD: the term is fixed (戒毒条例 Art 14: 3 years). SK: set per case, at most
  // max_term_months (禁毒法 Art 48: at most 3 years).
  bool fixed_term = true;
  int term_months = 36;      // the fixed term (fixed_term only)
  int max_term_months = 36;  // the ceiling of a per-case term
  // SD: failing to report within the window without good reason is deemed refusal
  // (视为拒绝, 戒毒条例 Art 14; a ground for isolation, 禁毒法 Art 38).
  bool no_show_is_refusal = true;
  // Whether a suspension (中止, 戒毒条例 Art 24) pauses the term: paused days push the
  // term's last day back. Regional policy; the law is silent.
  bool suspension_pauses_clock = true;
  // Regional configuration (no national rule): e.g. year 1 monthly, year 2 every two
  // months, year 3 quarterly. Unannounced extra tests are always allowed.
  std::vector<TestPhase> test_phases;
  // Regional working rules (not law): days after reporting to sign the agreement,
  // days to report a serious violation or positive test to police (Art 21: promptly),
  // days to review a missed test.
  int agreement_within_days = 7;
  int police_report_days = 1;
  int missed_review_days = 7;
  // 民法典 Art 203 holiday calendar for the report window; null = no move. Shared, so a
  // policy loaded from a file (policy_file.h) keeps its calendar alive.
  std::shared_ptr<const legal_time::HolidayCalendar> calendar;
};

// The default regional schedule: year 1 monthly, year 2 every 2 months, year 3 quarterly.
std::vector<TestPhase> DefaultTestPhases();
// SD: police order, fixed 3-year term, no-show = refusal.
ProgramPolicy CommunityDetoxPolicy();
// SK: police order, per-case term of at most 3 years.
ProgramPolicy CommunityRehabPolicy();
// INVALID_ARGUMENT for an unusable policy (bad phases, terms, negative days).
absl::Status ValidatePolicy(const ProgramPolicy& policy);


// ---------------------------------------------------------------------------------
// Values.

enum class Specimen { kUrine, kHair, kBlood, kSaliva };
enum class TestResult { kNegative, kPositive, kRefused, kMissed };
enum class SuspensionReason { kDetention, kArrest };  // 拘留 / 逮捕 (Art 24)
// 收监执行刑罚 / 强制性教育措施 (Art 24), 强制隔离戒毒 (禁毒法 Art 38), death.
enum class TerminationReason { kImprisonment, kCompulsoryEducation, kIsolation, kDeath };

// 戒毒条例 Art 31 credits isolation served against the SD term; isolation lasts at most
// 3 years (2, 禁毒法 Art 47 adds at most 1), so no credit exceeds 3 years of days.
inline constexpr int kMaxCreditedDays = 3 * 366;

// Order states (ProgramStatus.state codes).
inline constexpr char kStateAwaitingReport[] = "AWAITING_REPORT";
inline constexpr char kStateActive[] = "ACTIVE";
inline constexpr char kStateSuspended[] = "SUSPENDED";
inline constexpr char kStateExpired[] = "EXPIRED_AWAITING_DISCHARGE";
inline constexpr char kStateTerminated[] = "TERMINATED";
inline constexpr char kStateDischarged[] = "DISCHARGED";

// Kinds of due items (Alert.kind, ProgramStatus deadline kinds).
inline constexpr char kDueReport[] = "REPORT";                       // Art 14/38/22
inline constexpr char kDueNoShowRefusal[] = "NO_SHOW_REFUSAL";       // SD, Art 14
inline constexpr char kDueAgreement[] = "AGREEMENT";                 // Art 16 (SD), 38 (SK)
inline constexpr char kDueTest[] = "TEST";                           // schedule
inline constexpr char kDueMissedTestReview[] = "MISSED_TEST_REVIEW"; // Art 20
inline constexpr char kDueSeriousViolation[] = "SERIOUS_VIOLATION_REPORT";  // Art 20, 21
inline constexpr char kDuePositiveTest[] = "POSITIVE_TEST_REPORT";   // 禁毒法 Art 38
inline constexpr char kDueTermEnd[] = "TERM_END";                    // status only
inline constexpr char kDueDischargeNotice[] = "DISCHARGE_NOTICE";    // Art 23/40

struct Place {
  int seq = 0;                 // 1 = the place in the decision
  std::string division;        // executing county, 6 digits
  std::string place;           // township / street office code or name
  absl::CivilDay assigned_on;  // receipt of the decision, or the change date (Art 22)
  absl::CivilDay report_deadline;  // assigned_on + 15 days, moved off holidays
  std::optional<absl::CivilDay> reported_on;
  std::optional<absl::CivilDay> agreement_on;
  std::string agreement_number;
};

struct DrugTest {
  int64_t test_id = 0;
  absl::CivilDay tested_on;
  Specimen specimen = Specimen::kUrine;
  TestResult result = TestResult::kNegative;
  bool unannounced = false;
  // A missed test's review by a caseworker: evaded (counts under Art 20) or excused.
  std::optional<absl::CivilDay> reviewed_on;
  bool evaded = false;
};

struct Leave {
  int64_t leave_id = 0;
  absl::CivilDay reported_on;  // the written report (Art 19), before leaving
  absl::CivilDay start;
  absl::CivilDay end;          // inclusive
  std::string destination;
};

struct Absence {
  int64_t absence_id = 0;
  absl::CivilDay left_on;
  std::optional<absl::CivilDay> returned_on;  // nullopt while still away
};

struct Suspension {
  int64_t suspension_id = 0;
  SuspensionReason reason = SuspensionReason::kDetention;
  absl::CivilDay start;
  std::optional<absl::CivilDay> resumed_on;
  bool pauses_clock = false;
};

// A due item's acknowledgement: the alert was reported to police (Art 21).
struct PoliceReport {
  std::string alert_key;
  absl::CivilDay reported_on;
};

// Something due or overdue for an order.
struct DueItem {
  std::string case_id;
  int64_t order_id = 0;
  std::string kind;         // kDue*
  std::string key;          // unique within the order: what RecordPoliceReport names
  absl::CivilDay due;       // the last day on time
  bool overdue = false;     // as_of > due
  bool open = false;        // its window has opened by as_of (ListDue lists only these)
  std::string legal_basis;  // e.g. "戒毒条例 Art 20"
};

struct Order {
  int64_t order_id = 0;
  std::string case_id;
  std::string state;
  absl::CivilDay state_since;
  std::string decision_number;
  absl::CivilDay decision_date;
  absl::CivilDay received_on;
  int term_months = 0;
  // 戒毒条例 Art 31: days of compulsory isolation served before a conversion to
  // community detox, credited against the term (its last day comes that many days
  // earlier). 0 for any other order.
  int credited_days = 0;
  std::optional<absl::CivilDay> term_start;      // the first report date
  // With excluded days and the credit; unknown before reporting.
  std::optional<absl::CivilDay> term_last_day;
  int excluded_days = 0;  // days of clock-pausing suspensions after term start, to as_of
  bool closed = false;
  std::string close_reason;  // "DISCHARGED" or a TerminationReason name
  std::optional<absl::CivilDay> closed_on;
  std::string closing_document;  // discharge notice or termination document number
  std::vector<Place> places;     // in order; back() is the current place
  std::vector<DrugTest> tests;   // by date
  std::vector<Leave> leaves;
  std::vector<Absence> absences;
  std::vector<Suspension> suspensions;
  std::vector<PoliceReport> police_reports;
  // Art 20 counters as of the evaluation day.
  int evaded_or_refused_tests = 0;
  int unauthorised_departures = 0;
  int64_t days_away = 0;
  // Past test-schedule periods that ended without a test (a gap in supervision).
  int schedule_gaps = 0;
  // Open and upcoming due items as of the evaluation day, by due date.
  std::vector<DueItem> due;

  const Place& current_place() const { return places.back(); }
};

// An event for the registry's abstinence clock (戒毒条例 Art 7), delivered through the
// service's outbox.
struct RegistryEvent {
  enum class Kind { kPositiveTest, kMeasureStarted, kMeasureEnded };
  Kind kind = Kind::kMeasureStarted;
  std::string case_id;
  absl::CivilDay occurred_on;
  std::string source_event_id;  // stable: the registry ignores a repeat
};


// ---------------------------------------------------------------------------------
// Inputs.

struct OpenOrderInput {
  std::string case_id;          // already validated and known to the registry
  std::string division;         // executing county (6 digits); the caller must cover it
  std::string place;            // township / street office
  std::string decision_number;  // 决定书 number
  absl::CivilDay decision_date;
  absl::CivilDay received_on;   // the person received the decision (Art 14, 38)
  int term_months = 0;          // SK: 1..36; SD: 0 or 36
  // SD only (戒毒条例 Art 31): isolation days served, credited against the term;
  // 0..kMaxCreditedDays.
  int credited_days = 0;
  // Empty: the caller must cover `division`. Set: police deciding for a person found in
  // their area who lives elsewhere (禁毒法 Art 33, 38); the service has checked that
  // `division` is the person's household or residence place and audited the path.
  std::string out_of_area_basis;
};

struct TestInput {
  absl::CivilDay tested_on;
  Specimen specimen = Specimen::kUrine;
  TestResult result = TestResult::kNegative;
  bool unannounced = false;
};

struct LeaveInput {
  absl::CivilDay reported_on;
  absl::CivilDay start;
  absl::CivilDay end;
  std::string destination;
};


// Names for codes in messages and tables.
absl::string_view SpecimenName(Specimen s);
absl::string_view TestResultName(TestResult r);
absl::string_view SuspensionReasonName(SuspensionReason r);
absl::string_view TerminationReasonName(TerminationReason r);

// ---------------------------------------------------------------------------------
// The rules.

// 戒毒条例 Art 14 (SD), Art 38 (SK), Art 22 (change of place): report within 15 days.
inline constexpr int kReportWindowDays = 15;
// 戒毒条例 Art 20: serious violation thresholds (law, not configuration).
inline constexpr int kSeriousTestThreshold = 3;       // evaded or refused tests
inline constexpr int kSeriousDepartureThreshold = 3;  // unauthorised departures
inline constexpr int kSeriousDaysAwayLimit = 30;      // more than 30 days away in total
// 戒毒条例 Art 19: leaving the county for 3 days or more needs a written report first.
inline constexpr int kLeaveReportDays = 3;
// 戒毒条例 Art 23, 40: police issue the discharge notice and notify within 7 days.
inline constexpr int kDischargeNoticeDays = 7;
// The longest free-text field (numbers of documents, places, destinations).
inline constexpr size_t kMaxTextField = 128;

// INVALID_ARGUMENT naming `field` when `value` is longer than kMaxTextField, or empty
// and `required`.
absl::Status CheckText(absl::string_view value, absl::string_view field, bool required);

// The last day to report after receiving the decision or a change of place on `from`:
// 15 days (民法典 Art 201), moved off a non-working day by `calendar` (Art 203; null =
// no move).
absl::CivilDay ReportDeadline(absl::CivilDay from, const legal_time::HolidayCalendar* calendar);

// The suspension covering `day`, if any; the one not yet resumed, if any. Pointers
// into `order`, valid while it lives unchanged.
const Suspension* SuspensionOn(const Order& order, absl::CivilDay day);
const Suspension* OpenSuspension(const Order& order);

// The report deadline of place `p`; nullopt while a suspension that began on or before
// it still runs (戒毒条例 Art 24: a detained person cannot report).
std::optional<absl::CivilDay> ReportDeadlineAfterSuspensions(const Order& order,
                                                             const Place& p);

// One period of the regional test schedule: at least one test from start to end
// (inclusive).
struct TestSlot {
  absl::CivilDay start;
  absl::CivilDay end;
};
// The periods of `phases` over a term that began on `term_start`, `term_months` long,
// cut at `term_last_day`.
std::vector<TestSlot> TestSchedule(const std::vector<TestPhase>& phases,
                                   absl::CivilDay term_start, int term_months,
                                   absl::CivilDay term_last_day);
// Whether `slot` had its test by `as_of`: taken, refused, or missed and confirmed as
// evaded (counted apart under Art 20); a period overlapping a suspension is waived.
bool TestSlotSatisfied(const Order& order, const TestSlot& slot, absl::CivilDay as_of);

// Fills the Art 20 counters, the term's last day, the state and the due items of
// `order` as of `as_of`, from its history alone.
void EvaluateOrder(const ProgramPolicy& policy, Order* order, absl::CivilDay as_of);

// The programme status of an evaluated order: its state, and its first due item as
// the next deadline.
ProgramStatusRecord StatusOf(const Order& order);

// The id under which an event of `what` (e.g. "order-start") about `id` reaches the
// registry: stable, so a repeat is ignored.
std::string EventId(const ProgramPolicy& policy, absl::string_view what, int64_t id);

// ---- the law's answer to each change ----

// A new order: its fields, dates and term (SD: fixed by 戒毒条例 Art 14; SK: 1..36
// months, 禁毒法 Art 48). Returns the term in months. Jurisdiction is not looked at.
absl::StatusOr<int> CheckNewOrder(const ProgramPolicy& policy, const OpenOrderInput& in,
                                  absl::CivilDay today);
// 戒毒条例 Art 31: days of isolation credited against the term (SD only).
absl::Status CheckCredit(const ProgramPolicy& policy, int credited_days);
// The person reports at the current place (Art 14, 38; Art 22 after a change).
absl::Status CheckReport(const Order& order, absl::CivilDay reported_on, absl::CivilDay today);
// The agreement at the current place, after reporting there (Art 16, 38).
absl::Status CheckAgreement(const Order& order, absl::CivilDay signed_on, absl::CivilDay today);
// Art 22: a change of the execution place (the new county's code already valid).
absl::Status CheckPlaceChange(const Order& order, absl::string_view new_division,
                              absl::string_view new_place, absl::CivilDay changed_on,
                              absl::CivilDay today);
// A test on `tested_on`: within the term, not while suspended.
absl::Status CheckTest(const ProgramPolicy& policy, const Order& order,
                       absl::CivilDay tested_on, absl::CivilDay today);
// A caseworker's review of the missed test `test_id` (Art 20).
absl::Status CheckMissedTestReview(const Order& order, int64_t test_id,
                                   absl::CivilDay confirmed_on, absl::CivilDay today);
// Art 19: leave of 3 days or more is reported in writing before leaving.
absl::Status CheckLeave(const Order& order, const LeaveInput& in, absl::CivilDay today);
// An unauthorised departure (Art 20); absences may not overlap (days away count once).
absl::Status CheckAbsence(const Order& order, absl::CivilDay left_on,
                          std::optional<absl::CivilDay> returned_on, absl::CivilDay today);
// The return from the absence `absence_id`.
absl::Status CheckReturn(const Order& order, int64_t absence_id, absl::CivilDay returned_on,
                         absl::CivilDay today);
// Art 21: the alert `alert_key` (an open police-report item) was reported to police.
absl::Status CheckPoliceReport(const ProgramPolicy& policy, const Order& order,
                               absl::string_view alert_key, absl::CivilDay reported_on,
                               absl::CivilDay today);
// Art 24: a suspension (中止) starting on `start`.
absl::Status CheckSuspension(const Order& order, absl::CivilDay start, absl::CivilDay today);
// The end of the open suspension on `resumed_on`; returns that suspension.
absl::StatusOr<Suspension> CheckResume(const Order& order, absl::CivilDay resumed_on,
                                       absl::CivilDay today);
// After a suspension that held the person before reporting at the current place ends
// on `resumed_on`, the 15-day window runs again from then: the new report deadline,
// or nullopt when the stored one stands.
std::optional<absl::CivilDay> ReportDeadlineAfterResume(const ProgramPolicy& policy,
                                                        const Order& order,
                                                        absl::CivilDay resumed_on);
// Art 24, 禁毒法 Art 38: termination, effective on `effective_on`.
absl::Status CheckTermination(const Order& order, absl::CivilDay effective_on,
                              absl::CivilDay today);
// Art 23, 40: the police discharge notice, never before the term's last day + 1.
absl::Status CheckDischarge(const ProgramPolicy& policy, const Order& order,
                            absl::CivilDay notice_date, absl::CivilDay today);

}  // namespace pathway::supervision

#endif  // PATHWAY_SERVICES_SUPERVISION_SUPERVISION_RULES_H_
