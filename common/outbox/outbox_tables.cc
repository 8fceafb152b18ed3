#include "common/outbox/outbox_tables.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

constexpr char kColumns[] =
    "id, target, method, payload, idempotency_key, state, attempts, created_us,"
    " next_attempt_us, last_error, last_error_message";

OutboxRow Decode(const Row& r) {
  OutboxRow o;
  o.id = r.GetInt(0);
  o.message.target = r.GetString(1);
  o.message.method = r.GetString(2);
  o.message.payload = r.GetString(3);
  o.message.idempotency_key = r.GetString(4);
  o.state = r.GetString(5);
  o.attempts = static_cast<int>(r.GetInt(6));
  o.created_at = absl::FromUnixMicros(r.GetInt(7));
  o.next_attempt_at = absl::FromUnixMicros(r.GetInt(8));
  o.last_error = r.GetString(9);
  o.last_error_message = r.GetString(10);
  return o;
}

std::vector<OutboxRow> DecodeAll(const std::vector<Row>& rows) {
  std::vector<OutboxRow> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(Decode(r));
  return out;
}

// Version 1, for both engines (EngineMigration): an id is never handed out twice,
// even after the newest row was deleted.
constexpr char kOutboxV1[] =
    "CREATE TABLE outbox ("
    "  id {AUTO_ID_NEVER_REUSED},"
    "  target TEXT NOT NULL, method TEXT NOT NULL, payload {BLOB} NOT NULL,"
    "  idempotency_key TEXT NOT NULL UNIQUE,"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  attempts BIGINT NOT NULL DEFAULT 0,"
    "  created_us BIGINT NOT NULL, next_attempt_us BIGINT NOT NULL,"
    "  last_error TEXT NOT NULL DEFAULT '', delivered_us BIGINT);"
    "CREATE INDEX outbox_due ON outbox(state, next_attempt_us, id);";

constexpr char kInsertHandoff[] =
    "INSERT INTO outbox(target, method, payload, idempotency_key, created_us,"
    " next_attempt_us) VALUES(?, ?, ?, ?, ?, ?)";

std::vector<Value> HandoffParams(const OutboxMessage& m, int64_t now_us) {
  return {m.target, m.method, Blob{m.payload}, m.idempotency_key, now_us, now_us};
}

}  // namespace

std::vector<Migration> OutboxMigrations() {
  return {EngineMigration("outbox", 1, kOutboxV1),
          // The receiver's error message beside its code, so a parked hand-off says why
          // (an existing outbox gains the column; old rows keep an empty message).
          {"outbox", 2,
           "ALTER TABLE outbox ADD COLUMN last_error_message TEXT NOT NULL DEFAULT '';"},
          // Until when a dispatcher has claimed the row to send it (microseconds; 0:
          // unclaimed), so dispatchers of several replicas never send one row twice.
          {"outbox", 3,
           "ALTER TABLE outbox ADD COLUMN claimed_until_us BIGINT NOT NULL DEFAULT 0;"}};
}

namespace outbox_tables {

absl::Status InsertHandoff(Transaction& tx, const OutboxMessage& message, int64_t now_us) {
  return tx.Exec(kInsertHandoff, HandoffParams(message, now_us));
}

absl::StatusOr<bool> InsertHandoffOnce(Transaction& tx, const OutboxMessage& message,
                                       int64_t now_us) {
  RETURN_IF_ERROR(tx.Exec(absl::StrCat(kInsertHandoff, " ON CONFLICT(idempotency_key) DO NOTHING"),
                          HandoffParams(message, now_us)));
  return tx.ChangedRows() > 0;
}

absl::StatusOr<bool> HasOutboxMigrations(ReadTransaction& tx) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT COUNT(*) FROM schema_migrations WHERE component = ?",
                            {std::string("outbox")}));
  return !rows.empty() && rows[0].GetInt(0) > 0;
}

absl::StatusOr<OutboxHighWater> ReadOutboxHighWater(ReadTransaction& tx) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM outbox"));
  OutboxHighWater hw;
  if (!rows.empty()) {
    hw.max_id = rows[0].GetInt(0);
    hw.rows = rows[0].GetInt(1);
  }
  return hw;
}

absl::StatusOr<OutboxSummary> ReadOutboxSummary(ReadTransaction& tx) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT state, COUNT(*), MIN(created_us) FROM outbox GROUP BY state"));
  OutboxSummary s;
  for (const Row& r : rows) {
    const std::string& state = r.GetString(0);
    if (state == "pending") {
      s.pending = r.GetInt(1);
      s.oldest_pending = absl::FromUnixMicros(r.GetInt(2));
    } else if (state == "parked") {
      s.parked = r.GetInt(1);
    } else if (state == "delivered") {
      s.delivered = r.GetInt(1);
    }
  }
  return s;
}

absl::StatusOr<std::vector<int64_t>> ListParkedIds(ReadTransaction& tx,
                                                   absl::string_view target) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT id FROM outbox WHERE state = 'parked'"
                            " AND (CAST(? AS TEXT) = '' OR target = ?) ORDER BY id",
                            {std::string(target), std::string(target)}));
  std::vector<int64_t> ids;
  ids.reserve(rows.size());
  for (const Row& r : rows) ids.push_back(r.GetInt(0));
  return ids;
}

absl::StatusOr<bool> IsParked(ReadTransaction& tx, int64_t id, absl::string_view target) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT id FROM outbox WHERE id = ? AND state = 'parked'"
                            " AND (CAST(? AS TEXT) = '' OR target = ?)",
                            {id, std::string(target), std::string(target)}));
  return !rows.empty();
}

absl::Status RequeueHandoff(Transaction& tx, int64_t id, int64_t now_us) {
  return tx.Exec(
      "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_us = ? WHERE id = ?",
      {now_us, id});
}

absl::StatusOr<std::vector<OutboxRow>> ListStuckHandoffRows(ReadTransaction& tx,
                                                           int64_t created_before_us,
                                                           int64_t limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kColumns,
                                         " FROM outbox WHERE state = 'parked' OR"
                                         " (state = 'pending' AND created_us < ?)"
                                         " ORDER BY id LIMIT ?"),
                            {created_before_us, limit}));
  return DecodeAll(rows);
}

absl::StatusOr<std::vector<OutboxRow>> ListDueHandoffs(ReadTransaction& tx, int64_t now_us,
                                                       int64_t limit) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query(absl::StrCat("SELECT ", kColumns,
                            " FROM outbox o WHERE state = 'pending' AND next_attempt_us <= ?"
                            " AND claimed_until_us <= ?"
                            " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE"
                            " p.state = 'pending' AND p.target = o.target AND p.id < o.id"
                            " AND p.next_attempt_us > ?)"
                            " ORDER BY id LIMIT ?"),
               {now_us, now_us, now_us, limit}));
  return DecodeAll(rows);
}

absl::StatusOr<bool> ClaimHandoff(Transaction& tx, int64_t id, int64_t now_us,
                                  int64_t until_us) {
  RETURN_IF_ERROR(tx.Exec(
      "UPDATE outbox SET claimed_until_us = ? WHERE id = ? AND state = 'pending'"
      " AND next_attempt_us <= ? AND claimed_until_us <= ?"
      " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending'"
      " AND p.target = outbox.target AND p.id < outbox.id)",
      {until_us, id, now_us, now_us}));
  return tx.ChangedRows() == 1;
}

absl::Status MarkHandoffDelivered(Transaction& tx, int64_t id, int64_t now_us) {
  return tx.Exec("UPDATE outbox SET state = 'delivered', attempts = attempts + 1,"
                 " delivered_us = ?, last_error = '', last_error_message = '',"
                 " claimed_until_us = 0 WHERE id = ?",
                 {now_us, id});
}

absl::Status MarkHandoffRetry(Transaction& tx, int64_t id, int attempts,
                              int64_t next_attempt_us, absl::string_view error_code,
                              absl::string_view error_message) {
  return tx.Exec(
      "UPDATE outbox SET attempts = ?, next_attempt_us = ?, last_error = ?,"
      " last_error_message = ?, claimed_until_us = 0 WHERE id = ?",
      {int64_t{attempts}, next_attempt_us, std::string(error_code), std::string(error_message),
       id});
}

absl::Status MarkHandoffParked(Transaction& tx, int64_t id, absl::string_view error_code,
                               absl::string_view error_message) {
  return tx.Exec("UPDATE outbox SET state = 'parked', attempts = attempts + 1,"
                 " last_error = ?, last_error_message = ?, claimed_until_us = 0 WHERE id = ?",
                 {std::string(error_code), std::string(error_message), id});
}

}  // namespace outbox_tables
}  // namespace pathway
