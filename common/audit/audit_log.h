// The audit trail: an append-only, tamper-evident record in each service's own
// store of who did what to which case, when, and with what outcome
// (DESIGN.md §6: every read and write of a person's data is audited).
//
// A write is audited in the SAME transaction as the change it describes, so
// either both are kept or neither:
//
//   absl::Status s = store.Write([&](Transaction& tx) -> absl::Status {
//     RETURN_IF_ERROR(registry::UpdateCase(tx, row));  // the service's tables layer
//     return AppendAudit(tx, {clock.Now(), caller.subject, caller.role,
//                             "/pathway.registry.v1.Registry/SetRiskGrade", case_id, "OK"});
//   });
//
// A read is audited through an AuditBuffer, which groups the entries of
// concurrent reads into one store Write (one fsync):
//
//   int64_t ticket = audit_buffer.Record({clock.Now(), caller.subject, caller.role,
//                        "/pathway.registry.v1.Registry/GetCase", case_id, "NOT_FOUND"});
//   audit_buffer.WhenDurable(ticket, [](absl::Status s) { /* now answer */ });
//
// The servers hold every answer until the entries recorded before it are
// durable (common/server/audit_interceptor.h), so no read is answered unaudited.
//
// Entries carry identifiers only: a subject (user id from the token), a role,
// an RPC method, a case id and a status code name. Never a name, a resident ID
// number or an address.
//
// Tamper evidence: rows form a hash chain. Row `seq` (1, 2, 3, ...) stores
// prev_hash = hash of row seq-1 (32 zero bytes for row 1), a chain version and
//   chain 2 (keyed):   hash = HMAC-SHA-256(key, prev_hash || "pathway.audit.v2" || B)
//   chain 1 (unkeyed): hash = SHA-256(prev_hash || "pathway.audit.v1" || B)
//   B = u64be(seq) || u64be(at_us) ||
//       for subject, role, action, case_id, outcome: u32be(len) || bytes ||
//       [u32be(len) || request_id bytes, only when the request id is not empty]
// The request id came after rows were already chained. Rows written before it
// have an empty request id, so their B, and hence every stored hash, is exactly
// what it was: the verifier checks old and new rows with one rule. The encoding
// stays unambiguous: the five fields before it are length-prefixed, so a reader
// of B always knows where the outcome ends; what follows is either nothing (no
// request id) or exactly one more length-prefixed field whose length is at
// least 1, and a row cannot be read both ways. Dropping a row's request id, or
// giving an old row one, changes its B and breaks the chain there.
// The key is read from a file (never stored in the database), so someone who can
// write the database but has no key cannot re-hash rows they changed or removed.
// Rows written before the keyed chain existed keep chain 1; StartKeyedAuditChain
// appends a marker row (action kAuditKeyedChainStart) after them and every later
// row is chain 2. A chain-1 row after a chain-2 row is a break (a downgrade).
// AppendAudit writes chain 2 when its transaction carries the key (every Write
// through a KeyedAuditStore does), chain 1 otherwise. The table and its statements
// are in audit_tables.h; this file holds no SQL.
//
// UPDATE and DELETE on audit_log are refused by triggers. The chain shows any
// change to or removal of a row before the last keyed one; removal of the newest
// rows shows against the anchors (audit_anchor.h): the head (seq, hash) written
// from time to time to a keyed, append-only file outside the database.
//
// AppendAudits reads the chain head inside the write's transaction and relies on
// the store to make concurrent writers look one at a time: SqliteStore has one
// writer thread; PgStore runs each Write SERIALIZABLE, so two replicas that read
// the same head cannot both append after it (the loser's insert of the taken
// seq is a serialization failure, not a unique violation, because the head was
// read first) and PgStore runs the loser again on a fresh snapshot.
//
// Thread safety: the free functions are thread-safe as their Store is.
// AuditBuffer, KeyedAuditStore are thread-safe; an AuditChainVerifier is used
// from one thread.
#ifndef PATHWAY_COMMON_AUDIT_AUDIT_LOG_H_
#define PATHWAY_COMMON_AUDIT_AUDIT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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
// migrations. Version 2 adds the chain column (existing rows: chain 1); version 3
// the request_id column (existing rows: empty) and the time-ordered indexes by
// case and by subject that ListAuditByTime reads.
std::vector<Migration> AuditMigrations();

// Chain versions (audit_log.chain).
inline constexpr int kAuditChainUnkeyed = 1;
inline constexpr int kAuditChainKeyed = 2;
// Action of the row that starts the keyed chain after unkeyed rows.
inline constexpr char kAuditKeyedChainStart[] = "pathway.audit/keyed-chain-start";
// Smallest audit key accepted, in bytes.
inline constexpr size_t kMinAuditKeyBytes = 32;

// Implemented by transactions that carry the audit key (KeyedAuditStore's), so
// AppendAudit can write keyed rows through the plain Transaction interface.
class AuditKeySource {
 public:
  virtual ~AuditKeySource() = default;
  virtual absl::string_view audit_key() const = 0;
};

struct AuditEntry {
  absl::Time at;
  std::string subject;  // who: the caller's user id from the token
  std::string role;     // the caller's role
  std::string action;   // what: e.g. the full RPC method name
  std::string case_id;  // which case; empty if none
  std::string outcome;  // status code name, e.g. "OK", "NOT_FOUND"
  // The RPC's request id (common/trace/request_id.h); empty for rows written
  // before request ids and for the service's own rows.
  std::string request_id = {};
};

// The outcome string for a status: "OK", "NOT_FOUND", "PERMISSION_DENIED", ...
std::string AuditOutcome(const absl::Status& status);

// Appends `e` to the audit trail within `tx`, the transaction of the write it
// describes. If that write's function fails, the entry is rolled back with it.
absl::Status AppendAudit(Transaction& tx, const AuditEntry& e);
// As AppendAudit for each entry in order, reading the chain head once.
absl::Status AppendAudits(Transaction& tx, absl::Span<const AuditEntry> entries);

struct AuditRow {
  int64_t seq = 0;
  AuditEntry entry;
  std::string prev_hash;  // 32 bytes
  std::string hash;       // 32 bytes
  int chain = kAuditChainUnkeyed;
};

// A Store whose Writes hand AppendAudit the audit key: every audit row written
// through it is keyed. Reads and everything else go to `base` unchanged.
//
//   ASSIGN_OR_RETURN(auto keyed, KeyedAuditStore::Create(sqlite.get(), key));
//   RETURN_IF_ERROR(StartKeyedAuditChain(*keyed));
class KeyedAuditStore final : public Store {
 public:
  // `base` is not owned and must outlive the result. INVALID_ARGUMENT for a key
  // shorter than kMinAuditKeyBytes.
  static absl::StatusOr<std::unique_ptr<KeyedAuditStore>> Create(Store* base, std::string key);
  ~KeyedAuditStore() override;

  absl::Status Write(const std::function<absl::Status(Transaction&)>& fn,
                     absl::Time deadline = absl::InfiniteFuture()) override;
  absl::Status Read(const std::function<absl::Status(ReadTransaction&)>& fn) override;

  absl::string_view key() const { return key_; }

 private:
  KeyedAuditStore(Store* base, std::string key) : base_(base), key_(std::move(key)) {}
  Store* const base_;
  std::string key_;
};

// If the newest audit row is unkeyed (a database from before the keyed chain),
// appends the marker row that starts the keyed chain; otherwise does nothing.
// `store` must be a KeyedAuditStore (FAILED_PRECONDITION otherwise).
absl::Status StartKeyedAuditChain(Store& store, absl::Time now);

// The newest row's seq, hash and chain version (0, 32 zero bytes and 0 when there
// is none).
struct AuditHead {
  int64_t seq = 0;
  std::string hash;
  int chain = 0;
};
absl::StatusOr<AuditHead> ReadAuditHead(Store& store);
// The same inside a transaction, e.g. on a backup file opened read-only.
absl::StatusOr<AuditHead> ReadAuditHead(ReadTransaction& tx);

// A head (seq, hash) written outside the database at a time (audit_anchor.h).
struct AuditAnchor {
  int64_t seq = 0;
  std::string hash;  // 32 bytes
  absl::Time at;
};

struct AuditVerifyReport {
  int64_t rows_checked = 0;   // rows found intact before the first bad one
  int64_t first_bad_seq = 0;  // 0 when intact: the first changed, missing or extra entry
  std::string problem;        // what is wrong there; empty when intact
  AuditHead head;             // the newest row seen
  int64_t keyed_from_seq = 0; // the first keyed row; 0 when none
  int64_t anchors_checked = 0;
};

// Checks audit rows fed in seq order against the chain and the anchors.
//
//   AuditChainVerifier v(key, anchors);
//   for (const AuditRow& r : rows) if (!v.Add(r)) break;
//   absl::Status s = v.Finish(&report);  // DATA_LOSS naming the first bad seq
//
// With an empty key, keyed rows are checked for linkage only (their hash cannot
// be recomputed). Each anchor's seq must exist with the anchored hash: an anchor
// beyond the newest row shows removed rows (the first missing seq is named).
class AuditChainVerifier {
 public:
  AuditChainVerifier(std::string key, std::vector<AuditAnchor> anchors);
  // False once a break is found; further rows are ignored.
  bool Add(const AuditRow& row);
  // OK if intact; DATA_LOSS "audit chain broken at seq N: <problem>" otherwise.
  // `report` may be null.
  absl::Status Finish(AuditVerifyReport* report);

 private:
  bool Break(int64_t seq, std::string problem);

  std::string key_;
  std::map<int64_t, std::string> anchors_;  // seq -> hash
  std::string prev_hash_;
  AuditVerifyReport report_;
  bool broken_ = false;
};

// Recomputes the whole chain from `store`, in chunks of consistent reads, and
// checks it against `anchors`. OK if intact; DATA_LOSS naming the first bad seq
// ("audit chain broken at seq N: <problem>") otherwise; other codes if the store
// cannot be read. `report` may be null.
absl::Status VerifyAuditChain(Store& store, absl::string_view key,
                              std::vector<AuditAnchor> anchors, AuditVerifyReport* report);

// Without the key or anchors: unkeyed rows recomputed, keyed rows checked for
// linkage only. DATA_LOSS "audit chain broken at seq N" otherwise. `rows_checked`
// (may be null) receives the number of rows found intact before the first bad one.
absl::Status VerifyAuditChain(Store& store, int64_t* rows_checked);

// As VerifyAuditChain over a database file opened read-only with SQLite itself
// (no migration, no write), e.g. a copy taken for an inspection.
absl::Status VerifyAuditDatabaseFile(const std::string& path, absl::string_view key,
                                     std::vector<AuditAnchor> anchors, AuditVerifyReport* report);

struct AuditFilter {
  std::string case_id;    // empty: any case
  std::string subject;    // empty: any subject
  int64_t after_seq = 0;  // rows with seq > after_seq; page with the last seq seen
  int limit = 100;        // 0 means 100; more than 1000 means 1000
};

// Audit rows matching `filter`, in seq order. INVALID_ARGUMENT for a negative
// limit or after_seq.
absl::StatusOr<std::vector<AuditRow>> ListAudit(Store& store, const AuditFilter& filter);

// Where a time-ordered listing resumes: entries strictly after (at_us, seq).
struct AuditCursor {
  int64_t at_us = 0;
  int64_t seq = 0;
};

// The entries of one case, or of one subject, in a time range.
struct AuditTimeQuery {
  // Exactly one of the two is set.
  std::string case_id;
  std::string subject;
  absl::Time from = absl::InfinitePast();  // inclusive
  absl::Time to = absl::InfiniteFuture();  // exclusive
  // Set: only entries whose case id starts with these 2, 4 or 6 digits (so never
  // an entry without a case). Empty: no such restriction.
  std::string case_prefix;
  std::optional<AuditCursor> after;  // nullopt: from the oldest
  int limit = 100;                   // 1 to 1001
};

// Entries matching `q`, oldest first (by at, then seq), read through the index
// by case or by subject and time. INVALID_ARGUMENT unless exactly one of case_id
// and subject is set, the limit is in range and the prefix is 2, 4 or 6 digits.
// With `total` set, also how many entries match `q` from the start (q.after and
// q.limit ignored), counted in the same read.
absl::StatusOr<std::vector<AuditRow>> ListAuditByTime(Store& store, const AuditTimeQuery& q,
                                                      int64_t* total = nullptr);

struct AuditBufferOptions {
  // A group nobody waits for is written at most this long (real time) after its
  // first entry. Entries someone waits for (WhenDurable) are written at once.
  absl::Duration flush_interval = absl::Milliseconds(200);
  // Entries per store Write.
  size_t max_batch = 1000;
  // Record waits (back-pressure) while this many entries are unwritten.
  size_t max_pending = 100000;
};

// Collects audit entries for reads in memory and writes them in groups, one
// store Write per group, from a background thread. Whoever must not go on before
// an entry is durable waits for its ticket; while one group is being written the
// next one gathers, so concurrent reads share one commit (one fsync), as writes
// share the store's group commit.
//
//   AuditBuffer audit(store.get());       // store: not owned, must outlive `audit`
//   int64_t t = audit.Record(entry);      // returns at once
//   audit.WhenDurable(t, [](absl::Status s) { ... });  // or: audit.WaitDurable(t)
//   RETURN_IF_ERROR(audit.Flush());       // everything recorded so far is durable
//
// Record never waits on the disk unless more than max_pending entries are
// unwritten; then it waits for the flusher (back-pressure rather than loss).
// A failed group is kept and retried with backoff; everyone waiting at that
// moment is told the error at once (the entries stay queued). The destructor
// writes everything still pending; only if the store still fails after a few
// attempts then are entries dropped, with an error logged, and their waiters
// told so.
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

  // Returns the entry's ticket: 1 for the first entry, then 2, 3, ...
  int64_t Record(AuditEntry entry);
  // The ticket of the newest entry recorded so far (0 before the first).
  int64_t last_ticket() const;

  // Calls `done` once every entry up to `ticket` is durable (OK), or with the
  // error of a failed store Write meanwhile. Runs `done` on this thread if they
  // already are, otherwise on the flusher's thread after the commit: `done` must
  // be quick and must not call WhenDurable, WaitDurable or Flush.
  void WhenDurable(int64_t ticket, std::function<void(absl::Status)> done);
  // Blocks until WhenDurable(ticket) would report; returns what it would.
  absl::Status WaitDurable(int64_t ticket);

  // Blocks until every entry recorded before the call is durable (OK), or a
  // store Write fails meanwhile (that error; the entries stay queued and are
  // retried).
  absl::Status Flush();

  Stats stats() const;

 private:
  void Run();
  // Calls, outside the lock, and removes the waiters before `end`.
  void Notify(std::multimap<int64_t, std::function<void(absl::Status)>>::iterator end,
              const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store* const store_;
  const AuditBufferOptions options_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  std::deque<AuditEntry> pending_ ABSL_GUARDED_BY(mu_);
  absl::Time oldest_pending_ ABSL_GUARDED_BY(mu_);  // when pending_ last became non-empty
  int64_t processed_ ABSL_GUARDED_BY(mu_) = 0;      // entries written or dropped
  int64_t flush_target_ ABSL_GUARDED_BY(mu_) = 0;   // Flush wants processed_ to reach this
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  // ticket -> what to call once entries up to it are durable.
  std::multimap<int64_t, std::function<void(absl::Status)>> waiters_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUDIT_AUDIT_LOG_H_
