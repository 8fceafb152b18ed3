// The supervision engine shared by community detox (社区戒毒, SD) and community
// rehabilitation (社区康复, SK): 禁毒法 Art 48 applies the SD rules to SK, so the
// rules of 戒毒条例 Art 13-24 (and 37-40) are written once here and each service is a
// thin shell choosing a ProgramPolicy (term, who opens, SD no-show = refusal, the
// regional drug-test schedule).
//
//   SupervisionEngine engine(CommunityDetoxPolicy());
//   absl::Status s = store.Write([&](Transaction& tx) -> absl::Status {
//     OpenOrderInput in{.case_id = id, .division = "520102", .place = "520102001",
//                       .decision_number = "筑公(禁)决字[2026]1号",
//                       .decision_date = absl::CivilDay(2026, 1, 8),
//                       .received_on = absl::CivilDay(2026, 1, 10)};
//     ASSIGN_OR_RETURN(WriteResult r, engine.OpenOrder(tx, caller, in, now));
//     ...  // r.order: the full order; r.status: saved in this tx, publish it after commit
//     return absl::OkStatus();
//   });
//   // ListDue(tx, caller, as_of, page) answers what is due or overdue, sorted by date.
//
// Every write takes the date the event took effect (which may lie in the past) and
// validates it against the order's history and against `now` (China Standard Time,
// legal_time::ToCivilDay). Every write also saves the ProgramStatusRecord in the same
// transaction. Jurisdiction: an order outside the caller's jurisdiction is answered
// exactly as a missing one (CaseNotFound("order")). Roles are checked by the service.
//
// Errors: INVALID_ARGUMENT (bad field, named), NOT_FOUND (no such order, or outside the
// jurisdiction), ALREADY_EXISTS (a second open order for a case), FAILED_PRECONDITION
// (a transition the law forbids; the message names the article).
//
// SupervisionEngine is immutable after construction and thread-safe; the transaction
// passed in is the caller's. The policy's calendar (if any) is not owned and must
// outlive the engine.
#ifndef PATHWAY_SERVICES_SUPERVISION_SUPERVISION_H_
#define PATHWAY_SERVICES_SUPERVISION_SUPERVISION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/auth/case_scope.h"
#include "common/cache/status_cache.h"
#include "common/legal_time/legal_time.h"
#include "common/program_status/program_status.h"
#include "common/store/store.h"

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

// The schema of the engine's tables, for the owning service's migrations.
std::vector<Migration> SupervisionMigrations();

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

struct WriteResult {
  Order order;                          // after the change, evaluated at `now`
  ProgramStatusRecord status;           // saved in the transaction; publish after commit
  // For the registry's abstinence clock: the service enqueues them as hand-offs in
  // the same transaction (common/outbox).
  std::vector<RegistryEvent> events;
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

struct ListDueQuery {
  absl::CivilDay as_of;
  int page_size = 50;       // 1..500
  std::string page_token;   // from the previous page; empty for the first
  std::string kind;         // optional filter on DueItem.kind
  bool overdue_only = false;
};

struct DuePage {
  std::vector<DueItem> items;
  std::string next_page_token;
};

struct OrderFilter {
  std::string division_prefix;  // optional, narrows within the jurisdiction
  std::string state;            // optional
  bool include_closed = false;
  int page_size = 50;           // 1..500
  std::string page_token;
};

struct OrderPage {
  std::vector<Order> orders;    // by order id; history loaded, due items at as_of
  std::string next_page_token;
};

// ---------------------------------------------------------------------------------

class SupervisionEngine {
 public:
  explicit SupervisionEngine(ProgramPolicy policy);

  const ProgramPolicy& policy() const { return policy_; }

  // Police order (决定书). ALREADY_EXISTS when the case already has an open order.
  absl::StatusOr<WriteResult> OpenOrder(Transaction& tx, const Caller& caller,
                                        const OpenOrderInput& in, absl::Time now) const;
  // The person reported to the current place (Art 14, 38; Art 22 after a change). The
  // first report starts the term.
  absl::StatusOr<WriteResult> RecordReport(Transaction& tx, const Caller& caller,
                                           absl::string_view case_id, absl::CivilDay reported_on,
                                           absl::Time now) const;
  // The agreement (协议; SD Art 16, SK Art 38) for the current place, after reporting there.
  absl::StatusOr<WriteResult> SignAgreement(Transaction& tx, const Caller& caller,
                                            absl::string_view case_id, absl::CivilDay signed_on,
                                            absl::string_view agreement_number,
                                            absl::Time now) const;
  // Art 22: the file moves; a new 15-day window and a new agreement; the term runs on.
  absl::StatusOr<WriteResult> ChangeExecutionPlace(Transaction& tx, const Caller& caller,
                                                   absl::string_view case_id,
                                                   absl::string_view new_division,
                                                   absl::string_view new_place,
                                                   absl::CivilDay changed_on,
                                                   absl::Time now) const;
  absl::StatusOr<WriteResult> RecordTest(Transaction& tx, const Caller& caller,
                                         absl::string_view case_id, const TestInput& in,
                                         absl::Time now, int64_t* test_id = nullptr) const;
  // A missed test becomes evaded (Art 20) only once a caseworker confirms it;
  // evaded = false records that it was missed with good reason (excused).
  absl::StatusOr<WriteResult> ConfirmMissedTest(Transaction& tx, const Caller& caller,
                                                absl::string_view case_id, int64_t test_id,
                                                bool evaded, absl::CivilDay confirmed_on,
                                                absl::Time now) const;
  // Art 19: a written report before leaving the county (needed for 3 days or more).
  absl::StatusOr<WriteResult> RecordLeave(Transaction& tx, const Caller& caller,
                                          absl::string_view case_id, const LeaveInput& in,
                                          absl::Time now) const;
  // An unauthorised departure from the county (Art 20); returned_on may be unknown yet.
  absl::StatusOr<WriteResult> RecordAbsence(Transaction& tx, const Caller& caller,
                                            absl::string_view case_id, absl::CivilDay left_on,
                                            std::optional<absl::CivilDay> returned_on,
                                            absl::Time now) const;
  absl::StatusOr<WriteResult> RecordReturn(Transaction& tx, const Caller& caller,
                                           absl::string_view case_id, int64_t absence_id,
                                           absl::CivilDay returned_on, absl::Time now) const;
  // The alert `alert_key` (a DueItem.key) was reported to police (Art 21).
  absl::StatusOr<WriteResult> RecordPoliceReport(Transaction& tx, const Caller& caller,
                                                 absl::string_view case_id,
                                                 absl::string_view alert_key,
                                                 absl::CivilDay reported_on,
                                                 absl::Time now) const;
  // Art 24: detention or arrest suspends (中止).
  absl::StatusOr<WriteResult> Suspend(Transaction& tx, const Caller& caller,
                                      absl::string_view case_id, SuspensionReason reason,
                                      absl::CivilDay start, absl::Time now) const;
  absl::StatusOr<WriteResult> Resume(Transaction& tx, const Caller& caller,
                                     absl::string_view case_id, absl::CivilDay resumed_on,
                                     absl::Time now) const;
  // Art 24 (终止): imprisonment, compulsory education; 禁毒法 Art 38: isolation.
  absl::StatusOr<WriteResult> Terminate(Transaction& tx, const Caller& caller,
                                        absl::string_view case_id, TerminationReason reason,
                                        absl::string_view document_number,
                                        absl::CivilDay effective_on, absl::Time now) const;
  // Hand-off from compulsory isolation (禁毒法 Art 38): the isolation decision ends the
  // case's open order, recorded as terminated for isolation and handed over
  // (违反协议已移交), effective the decision date, with the isolation decision's number
  // as the closing document. nullopt, and nothing written, when the case has no open
  // order here: the isolation service sends to SD and SK without asking first.
  absl::StatusOr<std::optional<WriteResult>> CloseForIsolation(
      Transaction& tx, const Caller& caller, absl::string_view case_id,
      absl::string_view decision_number, absl::CivilDay decided_on, absl::Time now) const;
  // Hand-off from compulsory isolation (禁毒法 Art 48): the order decided at release
  // (in.received_on = the release date, from which the report window counts). When the
  // case already has an open order with the same decision number (recorded by hand),
  // that order is answered unchanged and *opened is false; a different open order is
  // ALREADY_EXISTS.
  absl::StatusOr<WriteResult> OpenFromRelease(Transaction& tx, const Caller& caller,
                                              const OpenOrderInput& in, absl::Time now,
                                              bool* opened) const;
  // Hand-off from compulsory isolation (戒毒条例 Art 31): an approved conversion of
  // medical parole to community detox opens the SD order (in.received_on = the
  // conversion day, from which the report window counts; in.credited_days = the
  // isolation days served). Idempotent as OpenFromRelease: an open order with the same
  // decision number is answered unchanged (*opened false); another open order is
  // ALREADY_EXISTS. INVALID_ARGUMENT for a programme other than community detox.
  absl::StatusOr<WriteResult> OpenFromConversion(Transaction& tx, const Caller& caller,
                                                 const OpenOrderInput& in, absl::Time now,
                                                 bool* opened) const;
  // Art 23, 40: the police discharge notice, on or after the term's last day + 1.
  absl::StatusOr<WriteResult> RecordDischarge(Transaction& tx, const Caller& caller,
                                              absl::string_view case_id,
                                              absl::string_view notice_number,
                                              absl::CivilDay notice_date, absl::Time now) const;

  // OK if the caller sees the case (common/auth/case_scope.h): a place of 双向管控 in
  // the registry's `scope`, or the county executing its latest order; sealed cases only
  // for roles with a statutory need. CaseNotFound() otherwise, as for a case never
  // issued. Reads call it before GetOrder, writes before the change (which then lets
  // only the executing county act).
  absl::Status CheckVisible(ReadTransaction& tx, const Caller& caller,
                            const CaseScope& scope) const;

  // PERMISSION_DENIED unless the caller covers the county executing the case's latest
  // order (OK when it has none: the change then answers for itself).
  absl::Status CheckActs(ReadTransaction& tx, const Caller& caller,
                         absl::string_view case_id) const;

  // The case's open order, or else its latest one; evaluated at as_of.
  absl::StatusOr<Order> GetOrder(ReadTransaction& tx, const Caller& caller,
                                 absl::string_view case_id, absl::CivilDay as_of) const;
  absl::StatusOr<OrderPage> ListOrders(ReadTransaction& tx, const Caller& caller,
                                       const OrderFilter& filter, absl::CivilDay as_of) const;
  // What is due or overdue in the caller's jurisdiction at as_of, sorted by (due,
  // case, key), paged.
  absl::StatusOr<DuePage> ListDue(ReadTransaction& tx, const Caller& caller,
                                  const ListDueQuery& query) const;

  // Recomputes the stored status of every open order in the caller's jurisdiction
  // whose state or next deadline changed by the passage of time (a term that expired
  // without a write); returns the changed records, to publish after commit.
  absl::StatusOr<std::vector<ProgramStatusRecord>> RefreshStatuses(Transaction& tx,
                                                                   const Caller& caller,
                                                                   absl::Time now) const;

  // Pure rule evaluation, exposed for tests: fills the counters, due items, the term's
  // last day and the state of `order` as of `as_of`.
  void Evaluate(Order* order, absl::CivilDay as_of) const;

 private:
  ProgramPolicy policy_;
};

// Names for codes in messages and tables.
absl::string_view SpecimenName(Specimen s);
absl::string_view TestResultName(TestResult r);
absl::string_view SuspensionReasonName(SuspensionReason r);
absl::string_view TerminationReasonName(TerminationReason r);

}  // namespace pathway::supervision

#endif  // PATHWAY_SERVICES_SUPERVISION_SUPERVISION_H_
