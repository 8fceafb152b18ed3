// The case registry's tables: its schema and every statement it runs, as typed rows.
// The only SQL of the registry; portable by the rules of common/store/store.h.
// Personal fields travel as ciphertext (the logic encrypts and decrypts them with the
// case id as associated data); the blind index of the ID number is bytes too.
//
//   ASSIGN_OR_RETURN(int64_t seq, NextCaseSequence(tx, "520102", 2026));
//   ASSIGN_OR_RETURN(std::optional<CaseRow> row, LoadCaseRow(tx, case_id));
//
// Dates are stored as TEXT "YYYY-MM-DD", times as microseconds since the epoch.
// Stateless; thread-safe as the transactions passed in are.
#ifndef PATHWAY_SERVICES_REGISTRY_REGISTRY_TABLES_H_
#define PATHWAY_SERVICES_REGISTRY_REGISTRY_TABLES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/store/store.h"

namespace pathway {
namespace registry {

// Schema of the registry's own tables (component "registry").
std::vector<Migration> RegistryTableMigrations();

// The durable case-id sequence (DESIGN.md §2): the next number of `division`'s
// counter for `year`, starting at 1. One statement that increments and reads, so two
// transactions never get the same number (the loser of a race is retried or fails;
// it never reuses a number).
absl::StatusOr<int64_t> NextCaseSequence(Transaction& tx, absl::string_view division,
                                         int64_t year);

// One row of `cases`.
struct CaseRow {
  std::string case_id;
  std::string id_cipher;  // ciphertexts
  std::string name_cipher;
  std::string phone_cipher;
  std::string address_cipher;
  absl::CivilDay birth_date;
  int64_t sex = 0;  // 1 male, 2 female
  std::string household_division;
  std::string residence_division;
  std::string registering_division;
  std::vector<std::string> drug_types;
  int64_t route_of_use = 0;
  absl::CivilDay registered_on;
  std::string risk_grade;
  int64_t control_status = 0;
  int64_t life_status = 0;
  absl::CivilDay abstinence_anchor;
  int64_t open_measures = 0;
  int64_t version = 0;
  int64_t created_us = 0;
  int64_t updated_us = 0;
  std::string township;             // 9 digits or empty
  std::string assigned_caseworker;  // user id or empty
};

// Inserts a new case with the blind index of its ID number. ALREADY_EXISTS if the
// case id or the index is taken.
absl::Status InsertCase(Transaction& tx, const CaseRow& row, const std::string& id_index);
absl::StatusOr<std::optional<CaseRow>> LoadCaseRow(ReadTransaction& tx,
                                                   absl::string_view case_id);
absl::StatusOr<std::optional<CaseRow>> FindCaseRowByIndex(ReadTransaction& tx,
                                                          const std::string& id_index);
// The case id registered under the blind index, if any.
absl::StatusOr<std::optional<std::string>> FindCaseIdByIndex(ReadTransaction& tx,
                                                             const std::string& id_index);

// What visibility needs, without any personal field.
struct CaseScopeRow {
  std::string case_id;
  std::string household_division;
  std::string residence_division;
  absl::CivilDay abstinence_anchor;
  int64_t open_measures = 0;
  std::string township;
  std::string assigned_caseworker;
};
absl::StatusOr<std::optional<CaseScopeRow>> LoadCaseScopeRow(ReadTransaction& tx,
                                                             absl::string_view case_id);

// InsertCase and UpdateCase also append to the case change log (change_log_tables.h).

// Overwrites the mutable columns of `row.case_id` (divisions, grade, statuses, the
// abstinence facts, the assignment, version and updated_us) with the values given.
absl::Status UpdateCase(Transaction& tx, const CaseRow& row);

// A page of cases, newest first, strictly after (after_us, after_case_id) in
// (created_us DESC, case_id DESC) order. Each prefix filter matches either division
// (双向管控); empty matches all. control_status 0 and risk_grade "" match any.
// scope_township (a township caller's own code) keeps cases of that township or
// assigned to scope_caseworker; township and assigned_caseworker are exact filters;
// empty matches any. The logic still checks each row's visibility.
struct CaseListQuery {
  int64_t after_us = 0;
  std::string after_case_id;
  std::string jurisdiction_prefix;
  std::string division_prefix;
  int64_t control_status = 0;
  std::string risk_grade;
  std::string scope_township;
  std::string scope_caseworker;
  std::string township;
  std::string assigned_caseworker;
  // Cases with a status in this programme (common.v1.Program; 0: any), in
  // program_state if that is set (the programme index, worklist_tables.h).
  int64_t program = 0;
  std::string program_state;
  int64_t limit = 0;
};
absl::StatusOr<std::vector<CaseRow>> ListCaseRows(ReadTransaction& tx, const CaseListQuery& q);
// How many cases the query's filters match (after_* and limit ignored).
absl::StatusOr<int64_t> CountCaseRows(ReadTransaction& tx, const CaseListQuery& q);

// One entry of a case's risk grade history; seq counts from 1.
struct GradeChangeRow {
  std::string case_id;
  int64_t seq = 0;
  std::string grade;
  std::string previous;
  std::string reason;
  std::string actor;
  absl::CivilDay effective_on;
  int64_t recorded_us = 0;
};
// The highest seq of the case's grade history, 0 if none.
absl::StatusOr<int64_t> LastGradeSeq(ReadTransaction& tx, absl::string_view case_id);
absl::Status InsertGradeChange(Transaction& tx, const GradeChangeRow& row);
// In seq order.
absl::StatusOr<std::vector<GradeChangeRow>> LoadGradeHistory(ReadTransaction& tx,
                                                             absl::string_view case_id);

struct JurisdictionChangeRow {
  std::string case_id;
  int64_t recorded_us = 0;
  std::string household_division;
  std::string residence_division;
  absl::CivilDay effective_on;
  std::string reason;
  std::string actor;
};
absl::Status InsertJurisdictionChange(Transaction& tx, const JurisdictionChangeRow& row);

// One assignment of a case to a township and caseworker (AssignCase), or its
// clearing when the case leaves the township's county.
struct AssignmentRow {
  std::string case_id;
  int64_t recorded_us = 0;
  std::string township;
  std::string caseworker;
  std::string previous_township;
  std::string previous_caseworker;
  std::string reason;
  std::string actor;
  std::string actor_role;
};
absl::Status InsertAssignment(Transaction& tx, const AssignmentRow& row);
// Oldest first.
absl::StatusOr<std::vector<AssignmentRow>> LoadAssignments(ReadTransaction& tx,
                                                           absl::string_view case_id);

// kind "control" (value a v1::ControlStatus) or "life" (a v1::LifeStatus).
struct StatusChangeRow {
  std::string case_id;
  int64_t recorded_us = 0;
  std::string kind;
  int64_t value = 0;
  absl::CivilDay effective_on;
  std::string reason;
  std::string actor;
};
absl::Status InsertStatusChange(Transaction& tx, const StatusChangeRow& row);

// A reported event, keyed by (case_id, source_event_id).
struct CaseEventRow {
  std::string case_id;
  std::string source_event_id;
  int64_t kind = 0;
  int64_t program = 0;
  absl::CivilDay occurred_on;
  int64_t recorded_us = 0;
};
// Records the event unless its key is already recorded: true if it was new.
absl::StatusOr<bool> InsertCaseEventOnce(Transaction& tx, const CaseEventRow& row);

// The start date of the case's open measure of `program`, if one is open.
absl::StatusOr<std::optional<absl::CivilDay>> OpenMeasureStart(ReadTransaction& tx,
                                                               absl::string_view case_id,
                                                               int64_t program);
absl::Status InsertOpenMeasure(Transaction& tx, absl::string_view case_id, int64_t program,
                               absl::CivilDay started_on);
// Ends the case's open measures of `program` on `ended_on`; returns how many ended.
absl::StatusOr<int64_t> EndOpenMeasures(Transaction& tx, absl::string_view case_id,
                                        int64_t program, absl::CivilDay ended_on);

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_REGISTRY_TABLES_H_
