// The idempotency_keys table: its schema and every statement RunIdempotent and the
// purge run, as typed rows. The only SQL of common/idempotency; whether a key
// replays, is refused or runs its function is decided in idempotency.cc.
//
//   ASSIGN_OR_RETURN(std::optional<idempotency_tables::StoredKey> found,
//                    idempotency_tables::FindKey(tx, subject, key));
//
// Every statement is portable SQL (common/store/store.h). Times are microseconds
// since the epoch; the request hash and the stored result are bytes. Internal to
// the idempotency library. Stateless; thread-safe as the transactions passed in are.
#ifndef PATHWAY_COMMON_IDEMPOTENCY_IDEMPOTENCY_TABLES_H_
#define PATHWAY_COMMON_IDEMPOTENCY_IDEMPOTENCY_TABLES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/idempotency/idempotency.h"
#include "common/store/store.h"

namespace pathway::idempotency_tables {

// (The schema is IdempotencyMigrations(), declared in idempotency.h and defined
// with these functions.)

// One row of idempotency_keys.
struct StoredKey {
  std::string subject;
  std::string key;
  std::string method;
  std::string request_hash;
  // What the first run returned; nullopt for a version-1 key whose result is no
  // longer kept.
  std::optional<std::string> stored;
  int64_t created_us = 0;
  int64_t expires_us = 0;
};

// The row of (subject, key), expired or not, with method, request_hash, stored and
// expires_us read (subject and key as asked, created_us 0); nullopt when there is
// none.
absl::StatusOr<std::optional<StoredKey>> FindKey(ReadTransaction& tx, absl::string_view subject,
                                                 absl::string_view key);

// Removes the row of (subject, key), if any.
absl::Status DeleteKey(Transaction& tx, absl::string_view subject, absl::string_view key);

// Stores `row` (a nullopt `stored` as NULL): true if it was added, false (nothing
// written) if (subject, key) is taken.
absl::StatusOr<bool> InsertKey(Transaction& tx, const StoredKey& row);

// Removes up to `limit` rows that expired at or before `now_us`; returns how many.
absl::StatusOr<int64_t> DeleteExpiredKeys(Transaction& tx, int64_t now_us, int64_t limit);

// The number of keys and the newest created_us (0 when there are none).
absl::StatusOr<IdempotencyHighWater> ReadKeysHighWater(ReadTransaction& tx);

}  // namespace pathway::idempotency_tables

#endif  // PATHWAY_COMMON_IDEMPOTENCY_IDEMPOTENCY_TABLES_H_
