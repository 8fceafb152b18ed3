// The supervision engine shared by community detox (社区戒毒, SD) and community
// rehabilitation (社区康复, SK): 禁毒法 Art 48 applies the SD rules to SK, so the
// rules of 戒毒条例 Art 13-24 (and 37-40) are written once and each service is a
// thin shell choosing a ProgramPolicy (term, who opens, SD no-show = refusal, the
// regional drug-test schedule). The engine is the use cases, one per write or read:
// load the order through the tables layer (supervision_tables.h, the only SQL), ask
// the rules (supervision_rules.h, the law, no SQL) and store what they allow.
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
#include "common/program_status/program_status.h"
#include "common/store/store.h"
#include "services/supervision/supervision_rules.h"
#include "services/supervision/supervision_tables.h"

namespace pathway::supervision {

struct WriteResult {
  Order order;                          // after the change, evaluated at `now`
  ProgramStatusRecord status;           // saved in the transaction; publish after commit
  // For the registry's abstinence clock: the service enqueues them as hand-offs in
  // the same transaction (common/outbox).
  std::vector<RegistryEvent> events;
};

// ---------------------------------------------------------------------------------
// Queries.

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
  int64_t total_size = 0;  // every item of the query (all pages), exact
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
  // The orders of the query in the caller's jurisdiction (all pages), before the state
  // filter: an upper bound of what the pages hold.
  int64_t total_bound = 0;
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
  // order, or is the case's township there (CheckExecutesCase); OK when it has none:
  // the change then answers for itself.
  absl::Status CheckActs(ReadTransaction& tx, const Caller& caller,
                         const CaseScope& scope) const;

  // The case's open order, or else its latest one; evaluated at as_of.
  absl::StatusOr<Order> GetOrder(ReadTransaction& tx, const Caller& caller,
                                 absl::string_view case_id, absl::CivilDay as_of) const;
  absl::StatusOr<OrderPage> ListOrders(ReadTransaction& tx, const Caller& caller,
                                       const OrderFilter& filter, absl::CivilDay as_of) const;
  // What is due or overdue in the caller's jurisdiction at as_of, sorted by (due,
  // case, key), paged: CollectDue then PageDue.
  absl::StatusOr<DuePage> ListDue(ReadTransaction& tx, const Caller& caller,
                                  const ListDueQuery& query) const;
  // Every open item of ListDue's query in the caller's jurisdiction, unsorted, and
  // the page of them the query asks for; apart so a list can drop items case by case
  // (a township's, common/registry_client CasesListedFor) before it is paged.
  absl::StatusOr<std::vector<DueItem>> CollectDue(ReadTransaction& tx, const Caller& caller,
                                                  const ListDueQuery& query) const;
  static absl::StatusOr<DuePage> PageDue(std::vector<DueItem> items, const ListDueQuery& query);

  // Recomputes the stored status of every open order in the caller's jurisdiction
  // whose state or next deadline changed by the passage of time (a term that expired
  // without a write); returns the changed records, to publish after commit.
  absl::StatusOr<std::vector<ProgramStatusRecord>> RefreshStatuses(Transaction& tx,
                                                                   const Caller& caller,
                                                                   absl::Time now) const;

  // EvaluateOrder under this engine's policy: fills the counters, due items, the
  // term's last day and the state of `order` as of `as_of`.
  void Evaluate(Order* order, absl::CivilDay as_of) const;

 private:
  ProgramPolicy policy_;
};

}  // namespace pathway::supervision

#endif  // PATHWAY_SERVICES_SUPERVISION_SUPERVISION_H_
