#include "common/idempotency/idempotency.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/strings/string_view.h"
#include "common/idempotency/idempotency_tables.h"
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

}  // namespace

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
        ASSIGN_OR_RETURN(std::optional<idempotency_tables::StoredKey> found,
                         idempotency_tables::FindKey(tx, k.subject, k.key));
        if (found.has_value() && found->expires_us <= now_us) {
          // Expired: the key is new again.
          RETURN_IF_ERROR(idempotency_tables::DeleteKey(tx, k.subject, k.key));
          found.reset();
        }
        if (found.has_value()) {
          if (found->method != k.method || found->request_hash != k.request_hash) {
            log::Info("idempotency_key_reused", {{"method", k.method}});
            return absl::AlreadyExistsError(kIdempotencyKeyReusedMessage);
          }
          if (!found->stored.has_value()) {
            return absl::AlreadyExistsError(
                "this request was already applied under this idempotency-key; its result is no "
                "longer kept");
          }
          result.stored = std::move(*found->stored);
          result.replayed = true;
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(std::string stored, fn(tx));
        idempotency_tables::StoredKey row{k.subject, k.key, k.method, k.request_hash,
                                          std::move(stored), now_us,
                                          absl::ToUnixMicros(now + k.lifetime)};
        ASSIGN_OR_RETURN(bool inserted, idempotency_tables::InsertKey(tx, row));
        if (!inserted) {
          // Only with a store that runs writers concurrently: another request
          // with this key committed first. Undo ours; the retry replays theirs.
          return absl::AbortedError("a request with the same idempotency key is in progress; retry");
        }
        RETURN_IF_ERROR(
            idempotency_tables::DeleteExpiredKeys(tx, now_us, kPurgeOnWrite).status());
        result.stored = std::move(*row.stored);
        result.replayed = false;
        return absl::OkStatus();
      },
      deadline);
  if (!written.ok()) return written;
  return result;
}

absl::StatusOr<IdempotencyHighWater> ReadIdempotencyHighWater(ReadTransaction& tx) {
  return idempotency_tables::ReadKeysHighWater(tx);
}

absl::StatusOr<int64_t> PurgeExpiredIdempotencyKeys(Store& store, absl::Time now) {
  const int64_t now_us = absl::ToUnixMicros(now);
  int64_t total = 0;
  for (;;) {
    int64_t removed = 0;
    absl::Status written = store.Write([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(removed, idempotency_tables::DeleteExpiredKeys(tx, now_us, kPurgeBatch));
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
