// The audit_log table: its schema and every statement the audit trail runs, as
// typed rows. The only SQL of common/audit; the hash chain, the verifier and the
// buffering (audit_log.h) decide, these functions only read and write rows.
//
//   ASSIGN_OR_RETURN(std::optional<audit_tables::AuditLink> link,
//                    audit_tables::ReadAuditLink(tx));
//   RETURN_IF_ERROR(audit_tables::InsertAuditRow(tx, row));  // row.seq = link->seq + 1
//
// Statements are portable (common/store/store.h) except ScanAuditDatabaseFile,
// which reads an SQLite file with SQLite itself. Times are microseconds since the
// epoch (at_us), hashes are bytes, the chain version is a BIGINT. Internal to the
// audit library. Stateless; thread-safe as the transactions passed in are.
#ifndef PATHWAY_COMMON_AUDIT_AUDIT_TABLES_H_
#define PATHWAY_COMMON_AUDIT_AUDIT_TABLES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/audit/audit_log.h"
#include "common/store/store.h"

namespace pathway::audit_tables {

// (The schema is AuditMigrations(), declared in audit_log.h and defined with
// these functions.)

// The newest row's seq and hash: what the next row links to.
struct AuditLink {
  int64_t seq = 0;
  std::string hash;
};
// nullopt when the table is empty.
absl::StatusOr<std::optional<AuditLink>> ReadAuditLink(ReadTransaction& tx);

// The newest row's chain version; nullopt when the table is empty.
absl::StatusOr<std::optional<int>> ReadNewestAuditChain(ReadTransaction& tx);

// The newest row's seq, hash and chain version; nullopt when the table is empty.
absl::StatusOr<std::optional<AuditHead>> ReadAuditHead(ReadTransaction& tx);

// Stores `row` as it is (seq, entry, prev_hash, hash, chain). ALREADY_EXISTS if
// its seq is taken.
absl::Status InsertAuditRow(Transaction& tx, const AuditRow& row);

// Called for each row in seq order; returns false to stop (not an error).
using AuditRowVisitor = std::function<bool(const AuditRow&)>;

// Up to `limit` rows with seq > `after_seq`, in seq order.
absl::Status ScanAuditRows(ReadTransaction& tx, int64_t after_seq, int64_t limit,
                           const AuditRowVisitor& fn);

// As ScanAuditRows, only rows of `case_id` (empty: any case) by `subject` (empty:
// any subject).
absl::Status ScanMatchingAuditRows(ReadTransaction& tx, int64_t after_seq,
                                   absl::string_view case_id, absl::string_view subject,
                                   int64_t limit, const AuditRowVisitor& fn);

// The rows matching `q` (validated by the caller), ordered by (at_us, seq), up to
// q.limit: through audit_log_by_case_time or audit_log_by_subject_time.
absl::Status ScanAuditRowsByTime(ReadTransaction& tx, const AuditTimeQuery& q,
                                 const AuditRowVisitor& fn);
// How many rows match `q` from its start (q.after and q.limit ignored), on the same
// index range as ScanAuditRowsByTime.
absl::StatusOr<int64_t> CountAuditRowsByTime(ReadTransaction& tx, const AuditTimeQuery& q);

// Every row of the SQLite database file at `path`, opened read-only with SQLite
// itself (no store, no migration, no write), in seq order. A file from before the
// chain column reads as chain 1 throughout, one from before the request_id column
// with empty request ids. NOT_FOUND if the file cannot be
// opened, FAILED_PRECONDITION if it has no audit_log table, UNAVAILABLE if a row
// cannot be read.
absl::Status ScanAuditDatabaseFile(const std::string& path, const AuditRowVisitor& fn);

}  // namespace pathway::audit_tables

#endif  // PATHWAY_COMMON_AUDIT_AUDIT_TABLES_H_
