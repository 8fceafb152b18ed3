// The registry's visit tables (DESIGN.md §8): the append-only visit and support
// record of each case (home visits, talks, 心理辅导, 帮扶) and the one row per case
// that holds its current next visit date, for worklists. Part of the registry's
// tables layer: the only SQL of visits, portable by the rules of
// common/store/store.h.
//
//   ASSIGN_OR_RETURN(int64_t last, LastVisitId(tx, case_id));
//   RETURN_IF_ERROR(InsertVisit(tx, row));       // place and notes as ciphertext
//   ASSIGN_OR_RETURN(std::optional<absl::CivilDay> due, LoadNextVisitDue(tx, case_id));
//
// Place and notes travel as ciphertext only (services/registry/visits.h encrypts
// them); nothing here sees their text. Dates are TEXT "YYYY-MM-DD", times
// microseconds since the epoch, as in registry_tables.h.
// Stateless; thread-safe as the transactions passed in are.
#ifndef PATHWAY_SERVICES_REGISTRY_VISIT_TABLES_H_
#define PATHWAY_SERVICES_REGISTRY_VISIT_TABLES_H_

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

// Registry migration 5: the tables `visits` and `visit_next_due`. Appended to
// RegistryTableMigrations (registry_tables.cc).
Migration VisitTablesMigration();

// One row of `visits`. The primary key is (case_id, visit_id); visit ids count from
// 1 within each case, in the order the entries were recorded. Rows are never updated
// or deleted: a correction is a new row naming the one it corrects.
struct VisitRow {
  std::string case_id;
  int64_t visit_id = 0;
  absl::CivilDay visited_on;
  int64_t kind = 0;          // a v1::VisitKind
  std::string place_cipher;  // PiiCipher ciphertexts
  std::string notes_cipher;
  std::optional<absl::CivilDay> next_visit_on;
  std::string recorded_by;    // the recorder's user id
  std::string recorder_role;  // RoleName, e.g. "caseworker"
  int64_t recorded_us = 0;
  int64_t corrects_visit_id = 0;  // 0: not a correction
  // Read only (never stored): the visit that corrects this one, 0 if none.
  int64_t superseded_by = 0;
};

// The highest visit id of the case, 0 if it has none.
absl::StatusOr<int64_t> LastVisitId(ReadTransaction& tx, absl::string_view case_id);

// Appends a visit. ALREADY_EXISTS if (case_id, visit_id) is taken, or if the visit
// it corrects is already corrected (one correction per visit, kept by a unique index
// so that two concurrent corrections cannot both commit).
absl::Status InsertVisit(Transaction& tx, const VisitRow& row);

// One visit of the case, with superseded_by filled in; nullopt if none.
absl::StatusOr<std::optional<VisitRow>> LoadVisit(ReadTransaction& tx, absl::string_view case_id,
                                                  int64_t visit_id);

// A page of the case's visits, newest first: (visited_on DESC, visit_id DESC),
// strictly after (after_day, after_visit_id) in that order; an absent `after` starts
// at the newest. superseded_by is filled in.
struct VisitPageQuery {
  std::string case_id;
  std::optional<absl::CivilDay> after_day;
  int64_t after_visit_id = 0;
  int64_t limit = 0;
};
absl::StatusOr<std::vector<VisitRow>> ListVisitRows(ReadTransaction& tx, const VisitPageQuery& q);

// How many visits the case has, corrected ones and corrections included.
absl::StatusOr<int64_t> CountVisits(ReadTransaction& tx, absl::string_view case_id);

// What the next visit date is computed from: every visit of the case, dates and
// correction links only (no ciphertext is read).
struct VisitDatesRow {
  int64_t visit_id = 0;
  absl::CivilDay visited_on;
  std::optional<absl::CivilDay> next_visit_on;
  int64_t corrects_visit_id = 0;
};
absl::StatusOr<std::vector<VisitDatesRow>> LoadVisitDates(ReadTransaction& tx,
                                                          absl::string_view case_id);

// The date the case was registered on (the earliest a visit may be dated); nullopt
// for a case never issued. Reads no personal column.
absl::StatusOr<std::optional<absl::CivilDay>> LoadCaseRegisteredOn(ReadTransaction& tx,
                                                                   absl::string_view case_id);

// ---------------------------------------------------------------------------------
// The next visit due, for worklists (DESIGN.md §8).
//
// `visit_next_due` holds at most one row per case: the date the case's next visit is
// due, as the case's visits set it (NextVisitDue in services/registry/visits.h: the
// next_visit_on of the newest visit not superseded by a correction that names one,
// unless a later visit already took place on or after that date). A case with no
// such date has no row. The row is rewritten in the same transaction as every
// RecordVisit, so it is always what the visits say. It is indexed by
// (next_visit_on, case_id), so "due on or before D" is a range scan.
//
// Scope is not applied here: these are the tables. A worklist first draws the cases
// the caller may see and act on (CheckCaseVisible / CheckExecutesCase, as
// VisitLogic::Record does), then reads their dates with LoadNextVisitsDue. Sealed
// cases keep their row; a worklist drops them by their scope like any other item.

// The case's next visit date; nullopt when none is set.
absl::StatusOr<std::optional<absl::CivilDay>> LoadNextVisitDue(ReadTransaction& tx,
                                                               absl::string_view case_id);

struct NextVisitDueRow {
  std::string case_id;
  absl::CivilDay next_visit_on;
};
// The next visit dates of those of `case_ids` that have one, in (next_visit_on,
// case_id) order, earliest first; cases without a date are left out, and a
// duplicated id is answered once. Any number of ids (queried in chunks).
absl::StatusOr<std::vector<NextVisitDueRow>> LoadNextVisitsDue(
    ReadTransaction& tx, const std::vector<std::string>& case_ids);

// Sets the case's next visit date, or removes its row when `next_visit_on` is empty.
absl::Status StoreNextVisitDue(Transaction& tx, absl::string_view case_id,
                               const std::optional<absl::CivilDay>& next_visit_on);

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_VISIT_TABLES_H_
