// Idempotency keys: exactly-once effects for retried mutating RPCs
// (DESIGN.md §5). Every mutating RPC accepts an `idempotency-key` metadata
// entry; the first result is stored with the key, in the same transaction as
// the change, and replayed for a repeat. A repeat carrying a different request
// is rejected with ALREADY_EXISTS. Keys are scoped per caller (subject), so one
// user can never replay another's result.
//
//   IdempotencyKey k{caller.subject, key_from_metadata, "/pathway.sk.v1.Sk/Admit",
//                    HashRequest(SerializeDeterministically(request))};
//   ASSIGN_OR_RETURN(IdempotentResult r,
//                    RunIdempotent(store, clock, k, [&](Transaction& tx)
//                                      -> absl::StatusOr<std::string> {
//                      RETURN_IF_ERROR(tx.Exec("INSERT INTO admissions ...", {...}));
//                      RETURN_IF_ERROR(AppendAudit(tx, entry));
//                      return response.SerializeAsString();
//                    }));
//   response.ParseFromString(r.response);
//
// The request must be serialised deterministically (protobuf:
// io::CodedOutputStream::SetSerializationDeterministic) so that a retry hashes
// the same. An error from `fn` stores nothing, so a retry runs it again.
// Stored keys are removed by PurgeIdempotencyKeys after the retry window.
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

// Migrations creating idempotency_keys (component "idempotency").
std::vector<Migration> IdempotencyMigrations();

struct IdempotencyKey {
  std::string subject;       // the caller's user id; keys are scoped per caller
  std::string key;           // the client's idempotency-key
  std::string method;        // the full RPC method name
  std::string request_hash;  // HashRequest of the deterministic serialization of the request
};

// SHA-256 of the serialized request (32 raw bytes).
std::string HashRequest(absl::string_view serialized_request);

// OK for 1..128 characters of [A-Za-z0-9._:-]; INVALID_ARGUMENT otherwise.
absl::Status ValidateIdempotencyKey(absl::string_view key);

struct IdempotentResult {
  std::string response;   // the serialized response, first run or replayed
  bool replayed = false;  // true if `fn` was not run this time
};

// In ONE store Write: looks up (subject, key). Found with the same method and
// request hash: returns the stored response with replayed=true without running
// `fn`. Found otherwise: ALREADY_EXISTS ("idempotency key was already used for
// a different request"). Not found: runs `fn`; if it returns a response, stores
// it with the key in the same transaction; if it fails, stores nothing and
// returns its error. INVALID_ARGUMENT for a malformed key or an empty subject,
// method or request hash. `deadline` is passed to Store::Write. `clock` stamps
// created_us.
absl::StatusOr<IdempotentResult> RunIdempotent(
    Store& store, const Clock& clock, const IdempotencyKey& k,
    const std::function<absl::StatusOr<std::string>(Transaction&)>& fn,
    absl::Time deadline = absl::InfiniteFuture());

// Removes keys created before `created_before`, in several short Writes.
// Returns the number of rows removed.
absl::StatusOr<int64_t> PurgeIdempotencyKeys(Store& store, absl::Time created_before);

}  // namespace pathway

#endif  // PATHWAY_COMMON_IDEMPOTENCY_IDEMPOTENCY_H_
