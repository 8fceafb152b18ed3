// The registry's case change log: one row per write that changes a case, for the
// change feed of offline copies (case_sync.h). Its only SQL; portable by the rules of
// common/store/store.h.
//
//   RETURN_IF_ERROR(AppendCaseChange(tx, row.case_id, row.updated_us,
//                                    row.household_division, row.residence_division));
//   RETURN_IF_ERROR(tx.Exec("UPDATE cases ..."));   // the write it records, same tx
//
// Each row keeps the scope facts of the case BEFORE the change (divisions, township,
// caseworker, abstinence anchor and open measures, and since when they held), so the
// feed can tell whether a caller could have held the case, without revealing ids it
// never could see. Sealing is kept as its inputs (anchor, open measures), not as a
// flag: whether a case is sealed depends on the day it is looked at.
//
// Ordering: seq comes from a one-row counter that every case write increments in its
// own transaction. The row lock serialises case writes (SQLite serialises all writes
// anyway; PostgreSQL makes the second writer wait and, being serialisable, retry),
// so seq order is commit order and a reader never sees seq n without every smaller
// seq that committed. A sequence (nextval) would not do: its values commit out of
// order, and a reader could pass a gap that fills in later.
//
// Stateless; thread-safe as the transactions passed in are.
#ifndef PATHWAY_SERVICES_REGISTRY_CHANGE_LOG_TABLES_H_
#define PATHWAY_SERVICES_REGISTRY_CHANGE_LOG_TABLES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/store/store.h"

namespace pathway {
namespace registry {

// Registry migration 6: the log, its counter, one entry for every existing case, and
// an index on the abstinence anchor (cases sealed by time are found by date).
Migration ChangeLogMigration();

// Records a change of `case_id` with the next seq. Call it BEFORE the statement that
// inserts or updates the case row, in the same transaction: the row as it stands is
// the "before" snapshot (none for a new case). `household` and `residence` are the
// case's divisions after the change.
absl::Status AppendCaseChange(Transaction& tx, absl::string_view case_id, int64_t recorded_us,
                              absl::string_view household, absl::string_view residence);

struct ChangeLogCounter {
  int64_t last_seq = 0;  // highest seq handed out (and committed, in a snapshot)
  // PruneCaseChanges deleted entries recorded before this time (0: none yet).
  int64_t pruned_before_us = 0;
};
absl::StatusOr<ChangeLogCounter> ReadChangeLogCounter(ReadTransaction& tx);

struct CaseChangeRef {
  int64_t seq = 0;
  std::string case_id;
};
// Up to `limit` entries after `after_seq`, in seq order, whose case lay under
// `division_prefix` before or after the change (either division; "" matches all).
absl::StatusOr<std::vector<CaseChangeRef>> ScanCaseChanges(ReadTransaction& tx, int64_t after_seq,
                                                           absl::string_view division_prefix,
                                                           int64_t limit);

// The scope of a case before one of its changes, and since when it held.
struct PriorScopeRow {
  std::string household_division;
  std::string residence_division;
  std::string township;
  std::string assigned_caseworker;
  absl::CivilDay abstinence_anchor;
  int64_t open_measures = 0;
  int64_t since_us = 0;  // the case's updated_us before the change
};
// The "before" snapshots of the case's changes after `after_seq` (a new case's first
// entry has none), in seq order.
absl::StatusOr<std::vector<PriorScopeRow>> PriorScopesAfter(ReadTransaction& tx,
                                                            absl::string_view case_id,
                                                            int64_t after_seq);

// A case that may have become sealed by time: no open measure and an abstinence
// anchor within [anchor_from, anchor_to], under `division_prefix` (either division;
// "" matches all). The caller applies the exact rule (registry_rules.h Sealed).
struct SealingCandidateRow {
  std::string case_id;
  std::string household_division;
  std::string residence_division;
  std::string township;
  std::string assigned_caseworker;
  absl::CivilDay abstinence_anchor;
  int64_t updated_us = 0;
};
absl::StatusOr<std::vector<SealingCandidateRow>> SealingCandidates(
    ReadTransaction& tx, absl::CivilDay anchor_from, absl::CivilDay anchor_to,
    absl::string_view division_prefix);

// Deletes entries recorded before `before_us` that a later entry of the same case
// supersedes (every case keeps its newest entry, so a sync from an empty copy still
// finds it) and raises pruned_before_us to `before_us` if it deleted any. Returns how
// many it deleted.
absl::StatusOr<int64_t> PruneCaseChanges(Transaction& tx, int64_t before_us);

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_CHANGE_LOG_TABLES_H_
