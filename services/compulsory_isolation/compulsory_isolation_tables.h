// The compulsory isolation service's tables: its schema and every statement it runs,
// mapping rows to the records of compulsory_isolation_rules.h. The only SQL of the
// service; portable by the rules of common/store/store.h.
//
//   ASSIGN_OR_RETURN(std::optional<DecisionData> d, LoadOpenDecision(tx, case_id));
//   if (d.has_value()) RETURN_IF_ERROR(SetDecisionState(tx, d->id, kEscaped, on));
//
// Dates are stored as TEXT "YYYY-MM-DD", booleans as 0/1. Every writer assigns the
// values it is given (never increments), so a Write that runs again writes the same.
// Stateless; thread-safe as the transactions passed in are.
#ifndef PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_TABLES_H_
#define PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_TABLES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/store/store.h"
#include "services/compulsory_isolation/compulsory_isolation_rules.h"

namespace pathway {
namespace isolation {

// Schema of the service's own tables (component "compulsory_isolation").
std::vector<Migration> IsolationTableMigrations();

// Decisions are loaded with their notices, absences, assessments and proposals.
// The case's latest decision (open or not), its open one, or the decision `id`.
absl::StatusOr<std::optional<DecisionData>> LoadLatestDecision(ReadTransaction& tx,
                                                               absl::string_view case_id);
absl::StatusOr<std::optional<DecisionData>> LoadOpenDecision(ReadTransaction& tx,
                                                             absl::string_view case_id);
absl::StatusOr<std::optional<DecisionData>> LoadDecision(ReadTransaction& tx, int64_t id);
absl::StatusOr<bool> HasOpenDecision(ReadTransaction& tx, absl::string_view case_id);

// Which decisions EachDecision walks, in (case_id, id) order after the key.
struct DecisionFilter {
  bool open_only = false;
  std::string facility_id;      // empty: any
  std::string division_prefix;  // empty: any
  // Empty: any; else only decisions whose division or deciding division starts with it
  // (the caller's jurisdiction, as IsolationLogic's visibility rule).
  std::string seen_prefix;
  std::string after_case_id;    // empty: from the start
  int64_t after_id = 0;
};
// Calls fn with each matching decision until it returns false or an error (which is
// returned).
absl::Status EachDecision(ReadTransaction& tx, const DecisionFilter& filter,
                          const std::function<absl::StatusOr<bool>(DecisionData)>& fn);
// How many decisions EachDecision would visit from the start (keyset ignored).
absl::StatusOr<int64_t> CountDecisions(ReadTransaction& tx, const DecisionFilter& filter);

// A new open decision. ALREADY_EXISTS if the case has an open one already.
struct NewDecision {
  std::string case_id;
  std::string decision_number;
  std::string deciding_division;
  absl::CivilDay decided_on;
  absl::CivilDay served_on;
  int ground = 0;
  std::vector<std::string> warnings;
  std::string state;
  absl::CivilDay state_since;
  std::string division;
  bool sk_running_at_decision = false;
  std::string created_by;
  int64_t created_us = 0;
};
// Returns the new decision's id.
absl::StatusOr<int64_t> InsertDecision(Transaction& tx, const NewDecision& d);

absl::Status SetDecisionState(Transaction& tx, int64_t id, absl::string_view state,
                              absl::CivilDay since);
// Admission to (or transfer into) `facility_id` of `division` on `on`, entering `state`.
absl::Status SetAdmitted(Transaction& tx, int64_t id, absl::string_view state,
                         absl::CivilDay on, absl::string_view facility_id,
                         absl::string_view division);
absl::Status SetTransferred(Transaction& tx, int64_t id, absl::string_view state,
                            absl::CivilDay on, absl::string_view facility_id,
                            absl::string_view division);
absl::Status SetEarlyReleaseOn(Transaction& tx, int64_t id, absl::CivilDay on);
absl::Status SetExtensionMonths(Transaction& tx, int64_t id, int months);
absl::Status SetReleaseNoticeOn(Transaction& tx, int64_t id, absl::CivilDay on);
// Closes the decision by conversion to community detox with `credit_days` credited.
absl::Status SetConverted(Transaction& tx, int64_t id, absl::string_view state,
                          absl::CivilDay on, int credit_days);
// Closes the decision by release, with the community rehabilitation order (if any).
struct ReleaseRecord {
  std::string state;
  absl::CivilDay released_on;
  std::string certificate;
  bool sk_ordered = false;
  int sk_term_months = 0;
  std::string sk_decision_number;
  std::string sk_division;
  std::string sk_place;
};
absl::Status SetReleased(Transaction& tx, int64_t id, const ReleaseRecord& r);

absl::Status InsertNotice(Transaction& tx, int64_t decision_id, const NoticeData& n);
absl::Status InsertAbsence(Transaction& tx, int64_t decision_id, int kind,
                           absl::CivilDay started_on);
absl::Status SetAbsenceEnded(Transaction& tx, int64_t absence_id, absl::CivilDay ended_on);
// `a.id` is ignored; the store assigns it.
absl::Status InsertAssessment(Transaction& tx, int64_t decision_id, const AssessmentData& a);
// `p.id` is ignored; the store assigns it.
absl::Status InsertProposal(Transaction& tx, int64_t decision_id, const ProposalData& p);
// Sets a proposal's status, decision date, and decision number or refusal reason.
absl::Status SetProposalDecided(Transaction& tx, int64_t proposal_id, int status,
                                absl::CivilDay decided_on,
                                absl::string_view decision_number,
                                absl::string_view refusal_reason);

}  // namespace isolation
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_TABLES_H_
