#include "common/audit/audit_tables.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

constexpr char kColumns[] =
    "seq, at_us, subject, role, action, case_id, outcome, prev_hash, hash, chain, request_id";

AuditRow ToAuditRow(const Row& row) {
  AuditRow r;
  r.seq = row.GetInt(0);
  r.entry.at = absl::FromUnixMicros(row.GetInt(1));
  r.entry.subject = row.GetString(2);
  r.entry.role = row.GetString(3);
  r.entry.action = row.GetString(4);
  r.entry.case_id = row.GetString(5);
  r.entry.outcome = row.GetString(6);
  r.prev_hash = row.GetString(7);
  r.hash = row.GetString(8);
  r.chain = static_cast<int>(row.GetInt(9));
  r.entry.request_id = row.GetString(10);
  return r;
}

// Version 1, for both engines (EngineMigration). seq is given by AppendAudits (the
// chain head plus one), never generated.
constexpr char kAuditLogV1[] =
    "CREATE TABLE audit_log("
    "  seq {BIGINT_KEY},"
    "  at_us BIGINT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  case_id TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  prev_hash {BLOB} NOT NULL,"
    "  hash {BLOB} NOT NULL);"
    "CREATE INDEX audit_log_by_case ON audit_log(case_id, seq);"
    "CREATE INDEX audit_log_by_subject ON audit_log(subject, seq);";

// Append-only, after kAuditLogV1: SQLite raises from a trigger body; PostgreSQL's
// triggers call a function.
constexpr char kSqliteAppendOnly[] =
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;";
constexpr char kPostgresqlAppendOnly[] =
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    "  $$BEGIN RAISE EXCEPTION 'audit_log is append-only'; END$$;"
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    "  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    "  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();";

// Version 3, portable. Rows written before it get an empty request id, which
// leaves their chain hashes as they were (audit_log.h). Listing a case's or a
// user's entries over a time range, oldest first, reads one range of
// (case_id | subject, at_us, seq); those indexes replace the (case_id, seq) and
// (subject, seq) ones, which nothing but whole-table scans in seq order needs,
// so an append still updates two secondary indexes, not four.
constexpr char kAuditLogV3[] =
    "ALTER TABLE audit_log ADD COLUMN request_id TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX audit_log_by_case_time ON audit_log(case_id, at_us, seq);"
    "CREATE INDEX audit_log_by_subject_time ON audit_log(subject, at_us, seq);"
    "DROP INDEX audit_log_by_case;"
    "DROP INDEX audit_log_by_subject;";

}  // namespace

std::vector<Migration> AuditMigrations() {
  Migration v1 = EngineMigration("audit", 1, kAuditLogV1);
  v1.sql += kSqliteAppendOnly;
  v1.postgresql_sql += kPostgresqlAppendOnly;
  return {
      std::move(v1),
      // Rows from before the keyed chain keep chain 1 (unkeyed SHA-256).
      {"audit", 2, "ALTER TABLE audit_log ADD COLUMN chain BIGINT NOT NULL DEFAULT 1"},
      {"audit", 3, kAuditLogV3},
  };
}

namespace audit_tables {

absl::StatusOr<std::optional<AuditLink>> ReadAuditLink(ReadTransaction& tx) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
  if (rows.empty()) return std::optional<AuditLink>();
  return std::optional<AuditLink>(AuditLink{rows[0].GetInt(0), rows[0].GetString(1)});
}

absl::StatusOr<std::optional<int>> ReadNewestAuditChain(ReadTransaction& tx) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT chain FROM audit_log ORDER BY seq DESC LIMIT 1"));
  if (rows.empty()) return std::optional<int>();
  return std::optional<int>(static_cast<int>(rows[0].GetInt(0)));
}

absl::StatusOr<std::optional<AuditHead>> ReadAuditHead(ReadTransaction& tx) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT seq, hash, chain FROM audit_log ORDER BY seq DESC LIMIT 1"));
  if (rows.empty()) return std::optional<AuditHead>();
  AuditHead head;
  head.seq = rows[0].GetInt(0);
  head.hash = rows[0].GetString(1);
  head.chain = static_cast<int>(rows[0].GetInt(2));
  return std::optional<AuditHead>(std::move(head));
}

absl::Status InsertAuditRow(Transaction& tx, const AuditRow& row) {
  const AuditEntry& e = row.entry;
  return tx.Exec(
      "INSERT INTO audit_log(seq, at_us, subject, role, action, case_id, outcome, prev_hash,"
      " hash, chain, request_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {row.seq, absl::ToUnixMicros(e.at), e.subject, e.role, e.action, e.case_id, e.outcome,
       Blob{row.prev_hash}, Blob{row.hash}, static_cast<int64_t>(row.chain), e.request_id});
}

absl::Status ScanAuditRows(ReadTransaction& tx, int64_t after_seq, int64_t limit,
                           const AuditRowVisitor& fn) {
  return ScanMatchingAuditRows(tx, after_seq, "", "", limit, fn);
}

absl::Status ScanMatchingAuditRows(ReadTransaction& tx, int64_t after_seq,
                                   absl::string_view case_id, absl::string_view subject,
                                   int64_t limit, const AuditRowVisitor& fn) {
  std::string sql = absl::StrCat("SELECT ", kColumns, " FROM audit_log WHERE seq > ?");
  std::vector<Value> params = {after_seq};
  if (!case_id.empty()) {
    sql += " AND case_id = ?";
    params.push_back(std::string(case_id));
  }
  if (!subject.empty()) {
    sql += " AND subject = ?";
    params.push_back(std::string(subject));
  }
  sql += " ORDER BY seq LIMIT ?";
  params.push_back(limit);
  return tx.QueryEach(sql, params, [&fn](const Row& row) { return fn(ToAuditRow(row)); });
}

namespace {

// The filters of a time-ordered listing from `from_us` on (all but the resume point
// and limit), shared by its page and its count; appends their parameters. The
// equality column first, then the time range: one range of the
// (case_id | subject, at_us, seq) index.
std::string AuditTimeWhere(const AuditTimeQuery& q, int64_t from_us, std::vector<Value>* params) {
  std::string sql;
  if (!q.case_id.empty()) {
    sql += "case_id = ?";
    params->push_back(q.case_id);
  } else {
    sql += "subject = ?";
    params->push_back(q.subject);
  }
  sql += " AND at_us >= ? AND at_us < ?";
  params->push_back(from_us);
  params->push_back(absl::ToUnixMicros(q.to));
  if (!q.case_prefix.empty()) {
    // The prefix is 2, 4 or 6 digits (checked by ListAuditByTime): its length is
    // written into the statement, the digits are bound.
    absl::StrAppend(&sql, " AND SUBSTR(case_id, 1, ", q.case_prefix.size(), ") = ?");
    params->push_back(q.case_prefix);
  }
  return sql;
}

}  // namespace

absl::Status ScanAuditRowsByTime(ReadTransaction& tx, const AuditTimeQuery& q,
                                 const AuditRowVisitor& fn) {
  std::vector<Value> params;
  int64_t from_us = absl::ToUnixMicros(q.from);
  if (q.after.has_value()) from_us = std::max(from_us, q.after->at_us);
  std::string sql =
      absl::StrCat("SELECT ", kColumns, " FROM audit_log WHERE ", AuditTimeWhere(q, from_us, &params));
  if (q.after.has_value()) {
    // Strictly after (at_us, seq): the bound above starts the range, this skips
    // the rows at that instant already returned.
    sql += " AND (at_us > ? OR seq > ?)";
    params.push_back(q.after->at_us);
    params.push_back(q.after->seq);
  }
  sql += " ORDER BY at_us, seq LIMIT ?";
  params.push_back(static_cast<int64_t>(q.limit));
  return tx.QueryEach(sql, params, [&fn](const Row& row) { return fn(ToAuditRow(row)); });
}

absl::StatusOr<int64_t> CountAuditRowsByTime(ReadTransaction& tx, const AuditTimeQuery& q) {
  std::vector<Value> params;
  const std::string where = AuditTimeWhere(q, absl::ToUnixMicros(q.from), &params);
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT COUNT(*) FROM audit_log WHERE ", where), params));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::Status ScanAuditDatabaseFile(const std::string& path, const AuditRowVisitor& fn) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  // Databases from before the request_id column read with empty request ids;
  // those from before the keyed chain have no chain column either: all chain 1.
  sqlite3_stmt* stmt = nullptr;
  bool prepared = false;
  for (const std::string& sql :
       {absl::StrCat("SELECT ", kColumns, " FROM audit_log ORDER BY seq"),
        std::string("SELECT seq, at_us, subject, role, action, case_id, outcome, prev_hash, hash,"
                    " chain, '' FROM audit_log ORDER BY seq"),
        std::string("SELECT seq, at_us, subject, role, action, case_id, outcome, prev_hash, hash,"
                    " 1, '' FROM audit_log ORDER BY seq")}) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      prepared = true;
      break;
    }
    sqlite3_finalize(stmt);
    stmt = nullptr;
  }
  if (!prepared) {
    sqlite3_close(db);
    return absl::FailedPreconditionError(absl::StrCat(path, " has no audit_log table"));
  }
  auto text = [stmt](int col) {
    const void* p = sqlite3_column_blob(stmt, col);
    return std::string(static_cast<const char*>(p),
                       static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
  };
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    AuditRow r;
    r.seq = sqlite3_column_int64(stmt, 0);
    r.entry.at = absl::FromUnixMicros(sqlite3_column_int64(stmt, 1));
    r.entry.subject = text(2);
    r.entry.role = text(3);
    r.entry.action = text(4);
    r.entry.case_id = text(5);
    r.entry.outcome = text(6);
    r.prev_hash = text(7);
    r.hash = text(8);
    r.chain = sqlite3_column_int(stmt, 9);
    r.entry.request_id = text(10);
    if (!fn(r)) break;
  }
  const bool read_error = rc != SQLITE_ROW && rc != SQLITE_DONE;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (read_error) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  return absl::OkStatus();
}

}  // namespace audit_tables
}  // namespace pathway
