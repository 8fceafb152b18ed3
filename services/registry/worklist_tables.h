// The registry's programme index and worklist tables: each programme's current state
// of each case, and everything due, as the programme services report them
// (ReportProgramStatuses) and casework visits add. ListCases filters by programme
// state here and GetWorklist reads here, so neither ever depends on the Redis cache.
//
//   ASSIGN_OR_RETURN(ReportOutcome o, ApplyProgrammeReport(tx, report, now));
//   ASSIGN_OR_RETURN(std::vector<WorkRow> page, ListWorkRows(tx, query));
//
// Portable SQL (common/store/store.h); days are TEXT "YYYY-MM-DD", so comparing the
// text compares the days. Stateless; thread-safe as the transactions passed in are.
#ifndef PATHWAY_SERVICES_REGISTRY_WORKLIST_TABLES_H_
#define PATHWAY_SERVICES_REGISTRY_WORKLIST_TABLES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/program_status/program_status.h"
#include "common/store/store.h"

namespace pathway {
namespace registry {

// Migration 3 of component "registry": programme_states and work_items.
extern const char kWorklistSchema[];

// Programme numbers are common.v1.Program values; casework visits use 0.
inline constexpr int64_t kCaseworkProgram = 0;

// One programme's status of one case, as its owning service reported it.
struct ProgrammeReport {
  std::string case_id;
  int64_t program = 0;
  std::string state;
  int64_t version = 0;
  std::string division;  // executing county
  std::vector<DueItemRecord> items;
};

enum class ReportOutcome { kApplied, kStale };

// Stores `report` as the case's state in its programme and replaces the programme's
// work items, unless the registry already holds this version or a newer one (kStale,
// nothing written).
absl::StatusOr<ReportOutcome> ApplyProgrammeReport(Transaction& tx, const ProgrammeReport& report,
                                                   absl::Time now);

// Replaces the work items of (case, program) with `items`, executed in `division`.
absl::Status ReplaceWorkItems(Transaction& tx, absl::string_view case_id, int64_t program,
                              absl::string_view division,
                              const std::vector<DueItemRecord>& items);

// A worklist query. Exactly one scope: a township (cases of `township` or assigned
// to `caseworker`, executed in `county`), or a division prefix on the executing
// division (empty prefix: everywhere). The logic checks every row again.
struct WorkQuery {
  std::string township;
  std::string caseworker;
  std::string county;            // with township
  std::string division_prefix;   // without township
  std::vector<int64_t> programs;  // non-empty
  std::vector<std::string> kinds;  // empty: any
  std::optional<absl::CivilDay> due_from;
  absl::CivilDay due_to;
  // Only deadlines due before this day (overdue_only).
  std::optional<absl::CivilDay> due_before;
  bool include_upcoming = false;
  // Leaves out sealed records: those with no open measure whose abstinence anchor is
  // on or before this day (registry_rules.h SealedAnchorLimit).
  std::optional<absl::CivilDay> sealed_anchor_limit;
  // Keyset: strictly after this (due, case id, program, key); unset = from the start.
  struct After {
    absl::CivilDay due;
    std::string case_id;
    int64_t program = 0;
    std::string key;
  };
  std::optional<After> after;
  int64_t limit = 0;
};

// One item with what the scope check needs.
struct WorkRow {
  std::string case_id;
  int64_t program = 0;
  DueItemRecord item;
  std::string division;
  // The case's scope columns (no personal field).
  std::string household_division;
  std::string residence_division;
  std::string township;
  std::string assigned_caseworker;
  absl::CivilDay abstinence_anchor;
  int64_t open_measures = 0;
};

// A page in (due, case id, program, key) order.
absl::StatusOr<std::vector<WorkRow>> ListWorkRows(ReadTransaction& tx, const WorkQuery& q);
// The statement ListWorkRows runs for `q`, with its parameters (for query-plan tests).
std::string WorkRowsStatement(const WorkQuery& q, std::vector<Value>* params);
// How many rows the query matches without `after` and `limit`.
absl::StatusOr<int64_t> CountWorkRows(ReadTransaction& tx, const WorkQuery& q);

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_WORKLIST_TABLES_H_
