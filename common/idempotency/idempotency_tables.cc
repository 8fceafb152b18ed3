#include "common/idempotency/idempotency_tables.h"

#include <utility>
#include <vector>

#include "common/status/status_macros.h"

namespace pathway {
namespace {

// Version 1, for both engines (EngineMigration).
constexpr char kKeysV1[] =
    "CREATE TABLE idempotency_keys("
    "  subject TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  method TEXT NOT NULL,"
    "  request_hash {BLOB} NOT NULL,"
    "  response {BLOB} NOT NULL,"
    "  created_us BIGINT NOT NULL,"
    "  PRIMARY KEY(subject, key));"
    "CREATE INDEX idempotency_keys_by_created ON idempotency_keys(created_us);";

// Version 2, for both engines (EngineMigration). SQLite also zeroes the pages that
// held the old responses (kSqliteSecureDelete, first); PostgreSQL's VACUUM
// reclaims them.
constexpr char kKeysV2[] =
    "CREATE TABLE idempotency_keys_v2("
    "  subject TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  method TEXT NOT NULL,"
    "  request_hash {BLOB} NOT NULL,"
    "  stored {BLOB},"  // NULL: a version-1 key whose response is no longer kept
    "  created_us BIGINT NOT NULL,"
    "  expires_us BIGINT NOT NULL,"
    "  PRIMARY KEY(subject, key));"
    "INSERT INTO idempotency_keys_v2(subject, key, method, request_hash, stored, created_us,"
    "  expires_us)"
    "  SELECT subject, key, method, request_hash, NULL, created_us, created_us + 2592000000000"
    "  FROM idempotency_keys;"
    "DROP TABLE idempotency_keys;"
    "ALTER TABLE idempotency_keys_v2 RENAME TO idempotency_keys;"
    "CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys(expires_us);";
constexpr char kSqliteSecureDelete[] = "PRAGMA secure_delete = ON;";

}  // namespace

std::vector<Migration> IdempotencyMigrations() {
  // Version 1 kept whole responses, personal data included, in plaintext. Their
  // keys stay (a repeat is still not applied twice) but the responses go, and the
  // pages that held them are zeroed (secure_delete) rather than left in the file.
  // Each key now expires; a kept one 30 days after it was created (the longest
  // lifetime: the role that made it is unknown, and it may be a hand-off's).
  Migration v2 = EngineMigration("idempotency", 2, kKeysV2);
  v2.sql.insert(0, kSqliteSecureDelete);
  return {EngineMigration("idempotency", 1, kKeysV1), std::move(v2)};
}

namespace idempotency_tables {

absl::StatusOr<std::optional<StoredKey>> FindKey(ReadTransaction& tx, absl::string_view subject,
                                                 absl::string_view key) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT method, request_hash, stored, expires_us"
                            " FROM idempotency_keys WHERE subject = ? AND key = ?",
                            {std::string(subject), std::string(key)}));
  if (rows.empty()) return std::optional<StoredKey>();
  StoredKey k;
  k.subject = std::string(subject);
  k.key = std::string(key);
  k.method = rows[0].GetString(0);
  k.request_hash = rows[0].GetString(1);
  if (!rows[0].IsNull(2)) k.stored = rows[0].GetString(2);
  k.expires_us = rows[0].GetInt(3);
  return std::optional<StoredKey>(std::move(k));
}

absl::Status DeleteKey(Transaction& tx, absl::string_view subject, absl::string_view key) {
  return tx.Exec("DELETE FROM idempotency_keys WHERE subject = ? AND key = ?",
                 {std::string(subject), std::string(key)});
}

absl::StatusOr<bool> InsertKey(Transaction& tx, const StoredKey& row) {
  Value stored = std::monostate{};
  if (row.stored.has_value()) stored = Blob{*row.stored};
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO idempotency_keys(subject, key, method, request_hash, stored, created_us,"
      " expires_us) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(subject, key) DO NOTHING",
      {row.subject, row.key, row.method, Blob{row.request_hash}, std::move(stored),
       row.created_us, row.expires_us}));
  return tx.ChangedRows() > 0;
}

absl::StatusOr<int64_t> DeleteExpiredKeys(Transaction& tx, int64_t now_us, int64_t limit) {
  RETURN_IF_ERROR(tx.Exec(
      "DELETE FROM idempotency_keys WHERE (subject, key) IN"
      " (SELECT subject, key FROM idempotency_keys WHERE expires_us <= ? LIMIT ?)",
      {now_us, limit}));
  return tx.ChangedRows();
}

absl::StatusOr<IdempotencyHighWater> ReadKeysHighWater(ReadTransaction& tx) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT COUNT(*), COALESCE(MAX(created_us), 0) FROM idempotency_keys"));
  IdempotencyHighWater hw;
  if (!rows.empty()) {
    hw.keys = rows[0].GetInt(0);
    hw.newest_created_us = rows[0].GetInt(1);
  }
  return hw;
}

}  // namespace idempotency_tables
}  // namespace pathway
