// The audit trail: an append-only, tamper-evident record in each service's own
// store of who did what to which case, when, and with what outcome
// (DESIGN.md §6: every read and write of a person's data is audited).
//
// A write is audited in the SAME transaction as the change it describes, so
// either both are kept or neither:
//
//   absl::Status s = store.Write([&](Transaction& tx) -> absl::Status {
//     RETURN_IF_ERROR(tx.Exec("UPDATE cases SET stage = ? WHERE id = ?", {...}));
//     return AppendAudit(tx, {clock.Now(), caller.subject, caller.role,
//                             "/pathway.registry.v1.Registry/AdvanceStage", case_id, "OK"});
//   });
//
// A read is audited through an AuditBuffer, which never makes the read wait
// on the disk:
//
//   audit_buffer.Record({clock.Now(), caller.subject, caller.role,
//                        "/pathway.registry.v1.Registry/GetCase", case_id, "NOT_FOUND"});
//
// Entries carry identifiers only: a subject (user id from the token), a role,
// an RPC method, a case id and a status code name. Never a name, a resident ID
// number or an address.
//
// Tamper evidence: rows form a hash chain. Row `seq` (1, 2, 3, ...) stores
// prev_hash = hash of row seq-1 (32 zero bytes for row 1) and
//   hash = SHA-256(prev_hash || "pathway.audit.v1" || u64be(seq) || u64be(at_us) ||
//                  for subject, role, action, case_id, outcome: u32be(len) || bytes)
// VerifyAuditChain recomputes it. UPDATE and DELETE on audit_log are refused by
// triggers. The chain shows any change to or removal of a row before the last
// one; to detect truncation of the newest rows, publish the latest hash
// elsewhere from time to time.
//
// AppendAudit relies on the store serialising writers (SqliteStore's single
// writer thread does). A PostgreSQL store would need a lock on the chain head
// (e.g. SELECT ... FOR UPDATE on a one-row table), and its own migrations
// (the triggers here are SQLite's dialect).
//
// Thread safety: the free functions are thread-safe as their Store is.
// AuditBuffer is thread-safe.
#ifndef PATHWAY_COMMON_AUDIT_AUDIT_LOG_H_
#define PATHWAY_COMMON_AUDIT_AUDIT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/store/store.h"

namespace pathway {

// Migrations creating audit_log (component "audit"). Add them to the store's
// migrations.
std::vector<Migration> AuditMigrations();

struct AuditEntry {
  absl::Time at;
  std::string subject;  // who: the caller's user id from the token
  std::string role;     // the caller's role
  std::string action;   // what: e.g. the full RPC method name
  std::string case_id;  // which case; empty if none
  std::string outcome;  // status code name, e.g. "OK", "NOT_FOUND"
};

// The outcome string for a status: "OK", "NOT_FOUND", "PERMISSION_DENIED", ...
std::string AuditOutcome(const absl::Status& status);

// Appends `e` to the audit trail within `tx`, the transaction of the write it
// describes. If that write's function fails, the entry is rolled back with it.
absl::Status AppendAudit(Transaction& tx, const AuditEntry& e);
// As AppendAudit for each entry in order, reading the chain head once.
absl::Status AppendAudits(Transaction& tx, absl::Span<const AuditEntry> entries);

// Recomputes the whole hash chain, in chunks of consistent reads. OK if intact;
// DATA_LOSS naming the first bad seq otherwise. `rows_checked` (may be null)
// receives the number of rows found intact before the first bad one.
absl::Status VerifyAuditChain(Store& store, int64_t* rows_checked);

struct AuditRow {
  int64_t seq = 0;
  AuditEntry entry;
  std::string prev_hash;  // 32 bytes
  std::string hash;       // 32 bytes
};

struct AuditFilter {
  std::string case_id;    // empty: any case
  std::string subject;    // empty: any subject
  int64_t after_seq = 0;  // rows with seq > after_seq; page with the last seq seen
  int limit = 100;        // 0 means 100; more than 1000 means 1000
};

// Audit rows matching `filter`, in seq order. INVALID_ARGUMENT for a negative
// limit or after_seq.
absl::StatusOr<std::vector<AuditRow>> ListAudit(Store& store, const AuditFilter& filter);

struct AuditBufferOptions {
  // A group is written at most this long (real time) after its first entry.
  absl::Duration flush_interval = absl::Milliseconds(200);
  // Entries per store Write.
  size_t max_batch = 1000;
  // Record waits (back-pressure) while this many entries are unwritten.
  size_t max_pending = 100000;
};

// Collects audit entries for reads in memory and writes them in groups, one
// store Write per group, from a background thread.
//
//   AuditBuffer audit(store.get());  // store: not owned, must outlive `audit`
//   audit.Record(entry);             // returns at once
//   RETURN_IF_ERROR(audit.Flush());  // everything recorded so far is durable
//
// Record never waits on the disk unless more than max_pending entries are
// unwritten; then it waits for the flusher (back-pressure rather than loss).
// A failed group is kept and retried with backoff. The destructor writes
// everything still pending; only if the store still fails after a few attempts
// then are entries dropped, with an error logged.
//
// Never call Record or Flush from inside a Store::Write function: the flusher
// needs the writer. Thread-safe.
class AuditBuffer {
 public:
  using Options = AuditBufferOptions;

  struct Stats {
    int64_t recorded = 0;      // entries given to Record
    int64_t written = 0;       // entries durable in the store
    int64_t store_writes = 0;  // successful store Writes (groups)
    int64_t failures = 0;      // failed store Writes
    int64_t dropped = 0;       // entries given up at shutdown
    int64_t waits = 0;         // Records that waited for room
  };

  // `store` is not owned and must outlive this buffer.
  explicit AuditBuffer(Store* store, AuditBufferOptions options = AuditBufferOptions());
  ~AuditBuffer();
  AuditBuffer(const AuditBuffer&) = delete;
  AuditBuffer& operator=(const AuditBuffer&) = delete;

  void Record(AuditEntry entry);

  // Blocks until every entry recorded before the call is durable (OK), or a
  // store Write fails meanwhile (that error; the entries stay queued and are
  // retried).
  absl::Status Flush();

  Stats stats() const;

 private:
  void Run();

  Store* const store_;
  const AuditBufferOptions options_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  std::deque<AuditEntry> pending_ ABSL_GUARDED_BY(mu_);
  absl::Time oldest_pending_ ABSL_GUARDED_BY(mu_);  // when pending_ last became non-empty
  int64_t processed_ ABSL_GUARDED_BY(mu_) = 0;      // entries written or dropped
  int64_t flush_target_ ABSL_GUARDED_BY(mu_) = 0;   // Flush wants processed_ to reach this
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUDIT_AUDIT_LOG_H_
