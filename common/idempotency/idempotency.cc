#include "common/idempotency/idempotency.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/string_view.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace pathway {

namespace {

constexpr size_t kMaxKeyLength = 128;
constexpr int64_t kPurgeBatch = 1000;
// Expired rows removed by each write that stores a key: more than keys are
// created, so the table stays bounded without a background job.
constexpr int64_t kPurgeOnWrite = 8;

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

absl::Status DeleteExpired(Transaction& tx, int64_t now_us, int64_t limit) {
  return tx.Exec(
      "DELETE FROM idempotency_keys WHERE (subject, key) IN"
      " (SELECT subject, key FROM idempotency_keys WHERE expires_us <= ? LIMIT ?)",
      {now_us, limit});
}

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

std::string HashRequest(absl::string_view serialized_request) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(serialized_request.data(), serialized_request.size(), md, &md_len, EVP_sha256(),
                 nullptr) != 1) {
    // Only if OpenSSL itself is broken; continuing would compare garbage.
    log::Error("idempotency_hash_failed");
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(md), md_len);
}

absl::Status ValidateIdempotencyKey(absl::string_view key) {
  bool ok = !key.empty() && key.size() <= kMaxKeyLength;
  for (size_t i = 0; ok && i < key.size(); ++i) ok = IsKeyChar(key[i]);
  if (!ok) {
    return absl::InvalidArgumentError(
        "idempotency-key must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'");
  }
  return absl::OkStatus();
}

absl::StatusOr<IdempotentResult> RunIdempotent(
    Store& store, const Clock& clock, const IdempotencyKey& k,
    const std::function<absl::StatusOr<std::string>(Transaction&)>& fn, absl::Time deadline) {
  RETURN_IF_ERROR(ValidateIdempotencyKey(k.key));
  if (k.subject.empty() || k.method.empty() || k.request_hash.empty()) {
    return absl::InvalidArgumentError("idempotency key needs a subject, a method and a request hash");
  }
  if (k.lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("idempotency key needs a positive lifetime");
  }
  IdempotentResult result;
  // (Not RETURN_IF_ERROR around a lambda that uses it: the macros' locals would shadow.)
  absl::Status written = store.Write(
      [&](Transaction& tx) -> absl::Status {
        const absl::Time now = clock.Now();
        const int64_t now_us = absl::ToUnixMicros(now);
        ASSIGN_OR_RETURN(std::vector<Row> rows,
                         tx.Query("SELECT method, request_hash, stored, expires_us"
                                  " FROM idempotency_keys WHERE subject = ? AND key = ?",
                                  {k.subject, k.key}));
        if (!rows.empty() && rows[0].GetInt(3) <= now_us) {
          // Expired: the key is new again.
          RETURN_IF_ERROR(tx.Exec("DELETE FROM idempotency_keys WHERE subject = ? AND key = ?",
                                  {k.subject, k.key}));
          rows.clear();
        }
        if (!rows.empty()) {
          if (rows[0].GetString(0) != k.method || rows[0].GetString(1) != k.request_hash) {
            log::Info("idempotency_key_reused", {{"method", k.method}});
            return absl::AlreadyExistsError(kIdempotencyKeyReusedMessage);
          }
          if (rows[0].IsNull(2)) {
            return absl::AlreadyExistsError(
                "this request was already applied under this idempotency-key; its result is no "
                "longer kept");
          }
          result.stored = rows[0].GetString(2);
          result.replayed = true;
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(std::string stored, fn(tx));
        RETURN_IF_ERROR(tx.Exec(
            "INSERT INTO idempotency_keys(subject, key, method, request_hash, stored, created_us,"
            " expires_us) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(subject, key) DO NOTHING",
            {k.subject, k.key, k.method, Blob{k.request_hash}, Blob{stored}, now_us,
             absl::ToUnixMicros(now + k.lifetime)}));
        if (tx.ChangedRows() == 0) {
          // Only with a store that runs writers concurrently: another request
          // with this key committed first. Undo ours; the retry replays theirs.
          return absl::AbortedError("a request with the same idempotency key is in progress; retry");
        }
        RETURN_IF_ERROR(DeleteExpired(tx, now_us, kPurgeOnWrite));
        result.stored = std::move(stored);
        result.replayed = false;
        return absl::OkStatus();
      },
      deadline);
  if (!written.ok()) return written;
  return result;
}

absl::StatusOr<int64_t> PurgeExpiredIdempotencyKeys(Store& store, absl::Time now) {
  const int64_t now_us = absl::ToUnixMicros(now);
  int64_t total = 0;
  for (;;) {
    int64_t removed = 0;
    absl::Status written = store.Write([&](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(DeleteExpired(tx, now_us, kPurgeBatch));
      removed = tx.ChangedRows();
      return absl::OkStatus();
    });
    if (!written.ok()) return written;
    total += removed;
    if (removed < kPurgeBatch) break;
  }
  log::Info("idempotency_keys_purged", {{"rows", total}});
  return total;
}

}  // namespace pathway
