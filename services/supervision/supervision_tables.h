// The tables of the supervision engine: the only SQL of community detox and
// community rehabilitation. Typed rows in and out; no rule of law is decided here
// (supervision_rules.h) and nobody's jurisdiction is checked (the engine does that).
//
//   absl::Status s = store.Write([&](Transaction& tx) -> absl::Status {
//     ASSIGN_OR_RETURN(std::optional<int64_t> id, InsertOrder(tx, row));
//     if (!id.has_value()) return absl::AlreadyExistsError("...");  // an open order
//     return InsertPlace(tx, *id, first_place);
//   });
//
// Every statement is portable SQL (common/store/store.h): it runs unchanged on SQLite
// and PostgreSQL. Days are stored as "YYYY-MM-DD" text, flags as 0/1, enums by their
// numeric value. Reads return NOT_FOUND only where they say so; a missing row is
// otherwise an empty optional. Store errors are passed through unchanged.
//
// Stateless functions over the caller's transaction: thread-compatible as the
// transaction is.
#ifndef PATHWAY_SERVICES_SUPERVISION_SUPERVISION_TABLES_H_
#define PATHWAY_SERVICES_SUPERVISION_SUPERVISION_TABLES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/store/store.h"
#include "services/supervision/supervision_rules.h"

namespace pathway::supervision {

// The schema of the engine's tables, for the owning service's migrations.
std::vector<Migration> SupervisionMigrations();

// ---- orders ----

// A new order as first stored (state AWAITING_REPORT since the receipt).
struct NewOrderRow {
  std::string case_id;
  std::string division;  // the executing county
  std::string decision_number;
  absl::CivilDay decision_date;
  absl::CivilDay received_on;
  int term_months = 0;
  int credited_days = 0;
  std::string opened_by;  // the caller's subject
  absl::Time created;
};
// The new order's id; nullopt, with nothing written, when the case already has an
// open order.
absl::StatusOr<std::optional<int64_t>> InsertOrder(Transaction& tx, const NewOrderRow& row);

// The order with its whole history (places by seq; tests by date, then id; leaves,
// absences and suspensions by start; police reports by date, then key); nullopt when
// there is no such order. INTERNAL for an order without a place.
absl::StatusOr<std::optional<Order>> FindOrder(ReadTransaction& tx, int64_t order_id);

// The case's open order if any, else its latest; nullopt when it has none.
struct OrderRef {
  int64_t order_id = 0;
  std::string division;         // the executing county
  std::string decision_number;
};
absl::StatusOr<std::optional<OrderRef>> FindLatestOrder(ReadTransaction& tx,
                                                        absl::string_view case_id);
// The case's open order; nullopt when it has none.
absl::StatusOr<std::optional<OrderRef>> FindOpenOrder(ReadTransaction& tx,
                                                      absl::string_view case_id);

// Calls fn(order_id, division) for every open order whose county matches the LIKE
// pattern `division_like`, by order id; fn returns false to stop.
using OrderVisitor = std::function<bool(int64_t order_id, const std::string& division)>;
absl::Status ScanOpenOrders(ReadTransaction& tx, absl::string_view division_like,
                            const OrderVisitor& fn);
// As ScanOpenOrders, from the order after `after_order_id`, with counties matching
// both patterns, closed orders too when `include_closed`.
absl::Status ScanOrders(ReadTransaction& tx, int64_t after_order_id,
                        absl::string_view division_like, absl::string_view prefix_like,
                        bool include_closed, const OrderVisitor& fn);
// How many orders ScanOrders from the start would visit (same WHERE).
absl::StatusOr<int64_t> CountOrders(ReadTransaction& tx, absl::string_view division_like,
                                    absl::string_view prefix_like, bool include_closed);

// The state as evaluated, with the current executing county.
absl::Status SaveOrderState(Transaction& tx, int64_t order_id, absl::string_view state,
                            absl::CivilDay state_since, absl::string_view division);
absl::Status SetTermStart(Transaction& tx, int64_t order_id, absl::CivilDay term_start);
// Closes the order: `reason` is "DISCHARGED" or a TerminationReason name.
absl::Status CloseOrder(Transaction& tx, int64_t order_id, absl::string_view reason,
                        absl::CivilDay closed_on, absl::string_view document_number);

// ---- places ----

// Stores seq, division, place, assigned_on and report_deadline of `place`.
absl::Status InsertPlace(Transaction& tx, int64_t order_id, const Place& place);
absl::Status SetPlaceReported(Transaction& tx, int64_t order_id, int seq,
                              absl::CivilDay reported_on);
absl::Status SetPlaceAgreement(Transaction& tx, int64_t order_id, int seq,
                               absl::CivilDay signed_on, absl::string_view agreement_number);
absl::Status SetPlaceReportDeadline(Transaction& tx, int64_t order_id, int seq,
                                    absl::CivilDay report_deadline);

// ---- history ----

// The new test's id.
absl::StatusOr<int64_t> InsertTest(Transaction& tx, int64_t order_id, const TestInput& test,
                                   absl::string_view recorded_by);
absl::Status SetTestReview(Transaction& tx, int64_t test_id, absl::CivilDay reviewed_on,
                           bool evaded);
absl::Status InsertLeave(Transaction& tx, int64_t order_id, const LeaveInput& leave);
absl::Status InsertAbsence(Transaction& tx, int64_t order_id, absl::CivilDay left_on,
                           std::optional<absl::CivilDay> returned_on);
absl::Status SetAbsenceReturn(Transaction& tx, int64_t absence_id, absl::CivilDay returned_on);
// ALREADY_EXISTS when the alert was reported before.
absl::Status InsertPoliceReport(Transaction& tx, int64_t order_id, absl::string_view alert_key,
                                absl::CivilDay reported_on, absl::string_view reported_by);
absl::Status InsertSuspension(Transaction& tx, int64_t order_id, SuspensionReason reason,
                              absl::CivilDay start, bool pauses_clock);
absl::Status SetSuspensionResumed(Transaction& tx, int64_t suspension_id,
                                  absl::CivilDay resumed_on);
// Ends every suspension of the order still running, on `ended_on`.
absl::Status EndOpenSuspensions(Transaction& tx, int64_t order_id, absl::CivilDay ended_on);

}  // namespace pathway::supervision

#endif  // PATHWAY_SERVICES_SUPERVISION_SUPERVISION_TABLES_H_
