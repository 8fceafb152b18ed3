// The program_status table: its schema and every statement program_status.h runs,
// as typed rows. The only SQL of common/program_status; the checks on a record and
// the version arithmetic are program_status.cc's.
//
//   ASSIGN_OR_RETURN(std::optional<int64_t> version,
//                    program_status_tables::ReadStatusVersion(tx, case_id));
//   RETURN_IF_ERROR(program_status_tables::UpsertStatus(tx, record));
//
// Every statement is portable SQL (common/store/store.h). Days are stored as
// "YYYY-MM-DD" text (NULL when absent), times as microseconds since the epoch.
// Internal to the program_status library. Stateless; thread-safe as the
// transactions passed in are.
#ifndef PATHWAY_COMMON_PROGRAM_STATUS_PROGRAM_STATUS_TABLES_H_
#define PATHWAY_COMMON_PROGRAM_STATUS_PROGRAM_STATUS_TABLES_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/program_status/program_status.h"
#include "common/store/store.h"

namespace pathway::program_status_tables {

// (The schema is ProgramStatusMigrations(), declared in program_status.h and
// defined with these functions.)

// The stored version of the case's status; nullopt when it has none.
absl::StatusOr<std::optional<int64_t>> ReadStatusVersion(ReadTransaction& tx,
                                                         absl::string_view case_id);

// Inserts the record, or replaces every field but published_version of the
// case's row, as it is (version and updated_at included).
absl::Status UpsertStatus(Transaction& tx, const ProgramStatusRecord& record);

// The case's stored status; nullopt when it has none.
absl::StatusOr<std::optional<ProgramStatusRecord>> FindStatus(ReadTransaction& tx,
                                                              absl::string_view case_id);

// Up to `limit` statuses whose version is above the one `sink` holds
// (published_version or indexed_version) and case_id > `after_case_id`, in case id
// order.
absl::StatusOr<std::vector<ProgramStatusRecord>> ListUnsentStatuses(
    ReadTransaction& tx, StatusSink sink, absl::string_view after_case_id, int64_t limit);

// Up to `limit` statuses with case_id > `after_case_id` whose division starts with
// `division_prefix` (empty: any), in case id order.
absl::StatusOr<std::vector<ProgramStatusRecord>> ListStatusPage(
    ReadTransaction& tx, absl::string_view after_case_id, absl::string_view division_prefix,
    int64_t limit);
// How many rows ListStatusPage would return without a limit.
absl::StatusOr<int64_t> CountStatuses(ReadTransaction& tx, absl::string_view after_case_id,
                                      absl::string_view division_prefix);

// Sets the case's version held by `sink` to `version` unless it is already at least
// that.
absl::Status MarkStatusSent(Transaction& tx, StatusSink sink, absl::string_view case_id,
                            int64_t version);

}  // namespace pathway::program_status_tables

#endif  // PATHWAY_COMMON_PROGRAM_STATUS_PROGRAM_STATUS_TABLES_H_
