// The change feed behind SyncCases: an offline copy (a caseworker's tablet) of the
// cases its caller may see, kept correct by paging through the case change log
// (change_log_tables.h) from an opaque cursor.
//
//   CaseSync sync(&logic, CaseSync::DeriveCursorKey(*cipher), absl::Hours(24 * 30));
//   v1::SyncCasesResponse page;
//   store.Read([&](ReadTransaction& tx) {
//     return sync.Sync(tx, caller, request, clock.Now(), &page);
//   });
//
// What a page holds, for the cursor (seq s, day d0) and the server's today d1:
//   - every case with a log entry after s under the caller's county, in order of its
//     first such entry, at most page_size of them: an upsert (the case as GetCase
//     shows it now) if the caller may see it today (RegistryLogic::CheckVisible),
//     else a removal if the caller could have held it: its current state, or some
//     entry's "before" snapshot, was visible on max(d0, the day that state began),
//     i.e. while it was current and no earlier than the copy's day. Nothing at all
//     for a case the caller never could see, so removals reveal no ids.
//   - once the log is read to its end in this snapshot, and d1 > d0: the cases that
//     became sealed by time since d0 (found by their abstinence anchor, not by a scan
//     of all cases) that the caller could have held: a removal, or an upsert for roles
//     that still see sealed cases (the Case's `sealed` changed).
// The next cursor continues after the last entry used; its day moves to d1 only when
// the sealing sweep ran, so a copy is always correct "as of" its cursor's day.
//
// Cursor: base64url of "v1|seq|day|scope fingerprint|mac", the MAC an HMAC-SHA-256
// under a key derived from the personal-data master key; the fingerprint binds it to
// the caller's subject, role, jurisdiction and organization.
//
// Thread-safe: immutable after construction. `logic` is not owned; must outlive this.
#ifndef PATHWAY_SERVICES_REGISTRY_CASE_SYNC_H_
#define PATHWAY_SERVICES_REGISTRY_CASE_SYNC_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/crypto/pii_cipher.h"
#include "common/store/store.h"
#include "pathway/registry/v1/registry.pb.h"
#include "services/registry/registry_logic.h"

namespace pathway {
namespace registry {

// The one message of FAILED_PRECONDITION from SyncCases: the app deletes its copy
// and starts again with an empty cursor.
inline constexpr char kResyncRequired[] =
    "resync required: discard the local copy and sync again from an empty cursor";

inline constexpr absl::Duration kDefaultSyncRetention = absl::Hours(24 * 30);

class CaseSync {
 public:
  // What a cursor says (exposed for tests).
  struct Cursor {
    int64_t seq = 0;     // the copy reflects every log entry up to seq
    absl::CivilDay day;  // and the passage of time up to this day
    std::string scope;   // fingerprint of the caller it was made for
  };

  // `cursor_key`: >= 32 secret bytes (DeriveCursorKey). `retention`: how long a
  // cursor can be resumed; the log keeps superseded entries at least this long.
  CaseSync(const RegistryLogic* logic, std::string cursor_key,
           absl::Duration retention = kDefaultSyncRetention);

  // HMAC-SHA-256 under the blind-index key of a fixed label (no normalised ID number
  // equals it): a key of its own, derived from the master key, never stored.
  static std::string DeriveCursorKey(const PiiCipher& cipher);

  // One page for `caller` at `now`, read in the one snapshot `tx`.
  // INVALID_ARGUMENT for a cursor this registry did not issue or that was altered, or
  // a negative page_size; FAILED_PRECONDITION kResyncRequired for a cursor of another
  // scope, older than the retention, dated after today, or past what the log holds.
  absl::Status Sync(ReadTransaction& tx, const Caller& caller, const v1::SyncCasesRequest& request,
                    absl::Time now, v1::SyncCasesResponse* out) const;

  // Deletes log entries superseded more than retention + 1 day before `now` (the day
  // covers writes still open when a cursor was made). Returns how many.
  absl::StatusOr<int64_t> Prune(Transaction& tx, absl::Time now) const;

  std::string EncodeCursor(const Cursor& cursor) const;
  // INVALID_ARGUMENT unless `token` is one EncodeCursor made with this key.
  absl::StatusOr<Cursor> DecodeCursor(absl::string_view token) const;
  std::string ScopeFingerprint(const Caller& caller) const;

 private:
  std::string Mac(absl::string_view data) const;

  const RegistryLogic* logic_;
  std::string key_;
  absl::Duration retention_;
};

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_CASE_SYNC_H_
