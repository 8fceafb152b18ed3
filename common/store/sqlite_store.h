// SqliteStore: the embedded Store (common/store/store.h), one SQLite file per
// service (DESIGN.md §7).
//
//   SqliteStoreOptions options;
//   options.path = "/var/lib/pathway/registry.db";
//   options.migrations = AuditMigrations();
//   options.migrations.push_back({"registry", 1, "CREATE TABLE cases(...)"});
//   ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(options));
//
// Durability: WAL journal with synchronous=FULL, so a Write that returned OK
// survives power loss. foreign_keys=ON. One writer connection, used only by a
// single writer thread that groups concurrent Writes into one transaction and
// one commit (each Write in its own SAVEPOINT); `reader_connections` query_only
// connections serve Reads beside it. Prepared statements are cached per
// connection, keyed by SQL text.
//
// Migrations (common/store/schema_migrations.h, shared with PgStore): Open
// applies, in one transaction, every (component, version) not yet recorded in
// schema_migrations, each component's versions ascending and components in
// the order they first appear in `migrations`. If the database
// holds a version of a component newer than the newest given for it (a
// component not given at all counts as version 0), Open fails with
// FAILED_PRECONDITION ("database schema is newer than this binary"): an old
// binary never runs against a schema it does not know.
//
// Only one process may use a database file at a time.
//
// Ownership and thread safety: thread-safe. The destructor completes every
// queued Write, then stops the writer thread; no call may be in progress or
// start once destruction has begun. `clock` in the options is not owned and
// must outlive the store.
#ifndef PATHWAY_COMMON_STORE_SQLITE_STORE_H_
#define PATHWAY_COMMON_STORE_SQLITE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/store/store.h"

namespace pathway {

struct SqliteStoreOptions {
  // Path of the database file; created if missing (its directory must exist).
  std::string path;
  std::vector<Migration> migrations;
  // Connections serving Read; at least 1.
  int reader_connections = 4;
  // Most Writes grouped into one commit; at least 1.
  int max_batch = 256;
  // How long a connection waits on a lock before UNAVAILABLE.
  absl::Duration busy_timeout = absl::Seconds(5);
  // Used for Write deadlines and schema_migrations.applied_at_us. Not owned;
  // must outlive the store. Null means the real clock.
  const Clock* clock = nullptr;
};

class SqliteStore final : public Store {
 public:
  // Counters since Open, for tests and metrics.
  struct Stats {
    int64_t commits = 0;         // successful COMMITs
    int64_t failed_commits = 0;  // COMMITs that failed (every Write in them failed)
    int64_t writes = 0;          // Write functions run (whatever their outcome)
    int64_t reads = 0;           // Read functions run
  };

  // Opens (creating if needed) the database, sets it up and applies
  // migrations. INVALID_ARGUMENT for bad options or migrations,
  // FAILED_PRECONDITION if the schema is newer than `migrations`, UNAVAILABLE
  // or INTERNAL if the file cannot be opened or a migration fails.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::Status Write(const std::function<absl::Status(Transaction&)>& fn,
                     absl::Time deadline = absl::InfiniteFuture()) override;
  absl::Status Read(const std::function<absl::Status(ReadTransaction&)>& fn) override;

  // Writes a consistent copy of the database as of one moment to `path`, a new
  // file (mode 0600) in rollback-journal mode so that it opens on its own. Uses
  // SQLite's online backup from a reader connection: Writes carry on meanwhile
  // and the copy holds every commit before that moment and none after.
  // ALREADY_EXISTS if `path` exists; UNAVAILABLE if it cannot be created or
  // written (nothing is left behind then).
  absl::Status BackupTo(const std::string& path);

  // Runs fn on the database file `path` opened read-only (never created,
  // migrated or changed), e.g. to check a backup. NOT_FOUND if it cannot be
  // opened; otherwise fn's status.
  static absl::Status ReadFile(const std::string& path,
                               const std::function<absl::Status(ReadTransaction&)>& fn);

  Stats stats() const;

  // Blocks until at least `n` Writes are queued and not yet taken by the
  // writer thread. Lets a test build a batch deterministically.
  void AwaitQueuedForTesting(size_t n) const;

 private:
  class Connection;
  struct WriteRequest;

  SqliteStore(const SqliteStoreOptions& options, std::unique_ptr<Clock> default_clock);

  absl::Status ApplyMigrations(const std::vector<Migration>& migrations);
  void WriterLoop();
  void RunBatch(const std::vector<WriteRequest*>& batch);
  Connection* AcquireReader();
  void ReleaseReader(Connection* c);
  static absl::Status ReadOn(Connection* conn,
                             const std::function<absl::Status(ReadTransaction&)>& fn);

  const int max_batch_;
  std::unique_ptr<Clock> default_clock_;  // set when options.clock is null
  const Clock* const clock_;

  // Used only by the writer thread once Open returns.
  std::unique_ptr<Connection> writer_conn_;
  std::vector<std::unique_ptr<Connection>> readers_;
  std::thread writer_thread_;

  mutable absl::Mutex mu_;
  std::deque<WriteRequest*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);

  mutable absl::Mutex readers_mu_;
  std::vector<Connection*> free_readers_ ABSL_GUARDED_BY(readers_mu_);
  int64_t reads_ ABSL_GUARDED_BY(readers_mu_) = 0;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_STORE_SQLITE_STORE_H_
