// Idempotency keys: exactly-once effects for retried mutating RPCs
// (DESIGN.md §5). Every mutating RPC accepts an `idempotency-key` metadata
// entry; what is needed to answer a repeat is stored with the key, in the same
// transaction as the change, and handed back for a repeat instead of running the
// change again.
//
// A key is scoped to the caller (subject): one user can never replay another's
// result. It is bound to the method and to a fingerprint of the request (SHA-256
// of its deterministic serialization, HashRequest): the same key with another
// method or request is refused with ALREADY_EXISTS and a message saying so, as
// Stripe refuses a key reused with different parameters (a distinct message: a
// service's own ALREADY_EXISTS, e.g. a person registered twice, says otherwise). It lives for `lifetime` (kIdempotencyKeyLifetime unless
// the caller says otherwise); an expired key is new again, and expired rows are
// removed a few at a time by every write that stores a key.
//
// What is stored must hold no personal data in plaintext: store a reference (the
// record's id) and read the record again for a repeat, as RunMutation does for
// services that answer with personal data (common/server/mutation.h).
//
//   IdempotencyKey k{caller.subject, key_from_metadata, "/pathway.sk.v1.Sk/Admit",
//                    HashRequest(SerializeDeterministically(request))};
//   ASSIGN_OR_RETURN(IdempotentResult r,
//                    RunIdempotent(store, clock, k, [&](Transaction& tx)
//                                      -> absl::StatusOr<std::string> {
//                      RETURN_IF_ERROR(InsertAdmission(tx, admission));  // tables layer
//                      RETURN_IF_ERROR(AppendAudit(tx, entry));
//                      return admission_id;   // what a repeat needs, nothing personal
//                    }));
//   // r.stored: the first run's admission_id, whether or not this call ran it.
//
// The request must be serialised deterministically (protobuf:
// io::CodedOutputStream::SetSerializationDeterministic) so that a retry hashes
// the same. An error from `fn` stores nothing, so a retry runs it again.
//
// The table lives in the service's own store; add IdempotencyMigrations() to
// its migrations. Thread-safety: the functions are thread-safe as the Store is;
// concurrent repeats of one key run `fn` once, because the store serialises
// writes (a store with concurrent writers gets ABORTED for the loser, whose
// retry then replays).
#ifndef PATHWAY_COMMON_IDEMPOTENCY_IDEMPOTENCY_H_
#define PATHWAY_COMMON_IDEMPOTENCY_IDEMPOTENCY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/store/store.h"

namespace pathway {

// The gRPC metadata entry carrying the key.
inline constexpr char kIdempotencyKeyMetadata[] = "idempotency-key";

// How long a client's key is remembered: a retry within a day replays; after
// that the same key is a new request.
inline constexpr absl::Duration kIdempotencyKeyLifetime = absl::Hours(24);
// How long a hand-off's key is remembered by its receiver. A sender retries until
// acknowledged (common/outbox), possibly after its own outage of days, so the
// receiver keeps these keys for longer.
inline constexpr absl::Duration kHandoffKeyLifetime = absl::Hours(24 * 30);

// Migrations creating idempotency_keys (component "idempotency").
std::vector<Migration> IdempotencyMigrations();

struct IdempotencyKey {
  std::string subject;       // the caller's user id; keys are scoped per caller
  std::string key;           // the client's idempotency-key
  std::string method;        // the full RPC method name
  std::string request_hash;  // HashRequest of the deterministic serialization of the request
  absl::Duration lifetime = kIdempotencyKeyLifetime;  // > 0
};

// SHA-256 of the serialized request (32 raw bytes).
std::string HashRequest(absl::string_view serialized_request);

// OK for 1..128 characters of [A-Za-z0-9._:-]; INVALID_ARGUMENT otherwise.
absl::Status ValidateIdempotencyKey(absl::string_view key);

// The answer to a key reused with another method or request.
inline constexpr char kIdempotencyKeyReusedMessage[] =
    "idempotency-key was already used for a different request; use a new key for a new request";

struct IdempotentResult {
  std::string stored;     // what `fn` returned, first run or replayed
  bool replayed = false;  // true if `fn` was not run this time
};

// In ONE store Write: looks up (subject, key). Found, unexpired, with the same
// method and request hash: returns what was stored with replayed=true without
// running `fn`. Found with another method or hash: ALREADY_EXISTS
// (kIdempotencyKeyReusedMessage). Found but expired, or not found: runs `fn`; if it
// returns a value, stores it with the key in the same transaction (and removes a
// few expired rows); if it fails, stores nothing and returns its error.
// INVALID_ARGUMENT for a malformed key or an empty subject, method or request
// hash. ALREADY_EXISTS for a key whose first result a former version kept and this
// one no longer replays (only within a lifetime of an upgrade). `deadline` is
// passed to Store::Write. `clock` stamps created_us and expires_us.
absl::StatusOr<IdempotentResult> RunIdempotent(
    Store& store, const Clock& clock, const IdempotencyKey& k,
    const std::function<absl::StatusOr<std::string>(Transaction&)>& fn,
    absl::Time deadline = absl::InfiniteFuture());

// Removes keys that expired at or before `now`, in several short Writes. Returns
// the number of rows removed. (Writes remove a few on the way; this clears a
// backlog, e.g. from a maintenance job.)
absl::StatusOr<int64_t> PurgeExpiredIdempotencyKeys(Store& store, absl::Time now);

// How far the keys have come: how many are kept and when the newest was created
// (0 when none), in microseconds since the epoch (what a backup's manifest records).
struct IdempotencyHighWater {
  int64_t keys = 0;
  int64_t newest_created_us = 0;
};
absl::StatusOr<IdempotencyHighWater> ReadIdempotencyHighWater(ReadTransaction& tx);

}  // namespace pathway

#endif  // PATHWAY_COMMON_IDEMPOTENCY_IDEMPOTENCY_H_
