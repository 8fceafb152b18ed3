#include "common/idempotency/idempotency.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <utility>

#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace pathway {

namespace {

constexpr size_t kMaxKeyLength = 128;
constexpr int64_t kPurgeBatch = 1000;

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

}  // namespace

std::vector<Migration> IdempotencyMigrations() {
  return {
      {"idempotency", 1,
       "CREATE TABLE idempotency_keys("
       "  subject TEXT NOT NULL,"
       "  key TEXT NOT NULL,"
       "  method TEXT NOT NULL,"
       "  request_hash BLOB NOT NULL,"
       "  response BLOB NOT NULL,"
       "  created_us INTEGER NOT NULL,"
       "  PRIMARY KEY(subject, key));"
       "CREATE INDEX idempotency_keys_by_created ON idempotency_keys(created_us);"},
  };
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
  IdempotentResult result;
  // (Not RETURN_IF_ERROR around a lambda that uses it: the macros' locals would shadow.)
  absl::Status written = store.Write(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<Row> rows,
                         tx.Query("SELECT method, request_hash, response FROM idempotency_keys"
                                  " WHERE subject = ? AND key = ?",
                                  {k.subject, k.key}));
        if (!rows.empty()) {
          if (rows[0].GetString(0) != k.method || rows[0].GetString(1) != k.request_hash) {
            log::Info("idempotency_key_conflict", {{"method", k.method}});
            return absl::AlreadyExistsError(
                "idempotency key was already used for a different request");
          }
          result.response = rows[0].GetString(2);
          result.replayed = true;
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(std::string response, fn(tx));
        absl::Status inserted = tx.Exec(
            "INSERT INTO idempotency_keys(subject, key, method, request_hash, response, created_us)"
            " VALUES(?, ?, ?, ?, ?, ?)",
            {k.subject, k.key, k.method, Blob{k.request_hash}, Blob{response},
             absl::ToUnixMicros(clock.Now())});
        if (inserted.code() == absl::StatusCode::kAlreadyExists) {
          // Only with a store that runs writers concurrently: another request
          // with this key committed first. Undo ours; the retry replays theirs.
          return absl::AbortedError("a request with the same idempotency key is in progress; retry");
        }
        RETURN_IF_ERROR(inserted);
        result.response = std::move(response);
        result.replayed = false;
        return absl::OkStatus();
      },
      deadline);
  if (!written.ok()) return written;
  return result;
}

absl::StatusOr<int64_t> PurgeIdempotencyKeys(Store& store, absl::Time created_before) {
  const int64_t cutoff_us = absl::ToUnixMicros(created_before);
  int64_t total = 0;
  for (;;) {
    int64_t removed = 0;
    absl::Status written = store.Write([&](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.Exec(
          "DELETE FROM idempotency_keys WHERE (subject, key) IN"
          " (SELECT subject, key FROM idempotency_keys WHERE created_us < ? LIMIT ?)",
          {cutoff_us, kPurgeBatch}));
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
