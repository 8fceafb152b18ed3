// PgStore: the Store (common/store/store.h) on PostgreSQL 15 through libpq,
// for deployments that run several replicas of a service against one
// database (one database per service; DESIGN.md §7).
//
//   PgStoreOptions options;
//   options.conninfo =
//       "postgresql://pathway@db1,db2/registry?target_session_attrs=read-write";
//   options.password_file = "/run/secrets/registry.pgpass";
//   options.migrations = AuditMigrations();
//   ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(options));
//
// Connection: `conninfo` is a libpq connection string (key=value or a
// postgresql:// URI). It may name several hosts; with
// target_session_attrs=read-write libpq connects only to the one accepting
// writes, so after a failover the next connection follows the new primary. It
// must not carry a password: the password comes from `password_file` (libpq's
// own `passfile`, format host:port:database:user:password, mode 0600), never
// from a flag or the command line, and never appears in a log line (the
// connection string is logged with any password removed). Nor may it carry
// `sslpassword` (a client key's passphrase).
//
// TLS: libpq's own keywords, in the string or the URI's query. A deployment
// whose database is not on the same host sets sslmode=verify-full (the server
// must present a certificate signed by `sslrootcert` for the host name or IP
// address connected to; anything less refuses to connect) and sslrootcert=<CA
// file>; sslcert/sslkey add a client certificate where the server asks for
// one:
//
//   postgresql://pathway@db1/registry?sslmode=verify-full&sslrootcert=/etc/pathway/db-ca.pem
//
// Durability: a Write returns OK only once PostgreSQL reported its COMMIT as
// done, with the server's synchronous_commit (on by default, so the commit is
// in the server's WAL on disk; with a synchronous standby configured, there
// too). A COMMIT whose outcome is not known (the connection dropped while it
// was in flight) or that the server turned into a ROLLBACK returns
// UNAVAILABLE; retrying is safe for the idempotent, keyed writes the services
// issue.
//
// Isolation: every Write runs in its own transaction, BEGIN ISOLATION LEVEL
// SERIALIZABLE. Replicas write to one database concurrently, and the services
// keep chains that must stay single: the audit trail's hash chain (each row
// hashes its predecessor) and the case-id counter (read, increment, write).
// Under READ COMMITTED two replicas could read the same predecessor or counter
// and both write, forking the chain or issuing one case id twice; under
// SERIALIZABLE one of them fails with serialization_failure (40001) instead,
// and PgStore runs its function again on a fresh snapshot (with a short
// jittered backoff; likewise for deadlock_detected 40P01) until the deadline.
// So a Write function sees exactly what SqliteStore's single writer gives it:
// as if the Writes ran one at a time. Hence the rule in store.h that a
// function may run more than once and must assign, not accumulate, its
// outputs. Reads run in READ ONLY REPEATABLE READ transactions: one consistent
// snapshot for the whole function, never blocked by writers and never failing
// with a serialization error.
//
// Deadlines: a Write uses its `deadline` (or `default_timeout` when it has
// none); a Read always uses `default_timeout`. Every wait for the server
// (connect, each statement, COMMIT) polls the socket against that deadline,
// so a hung or killed server yields DEADLINE_EXCEEDED or UNAVAILABLE, never a
// hang. A statement still running at the deadline is abandoned by closing its
// connection (libpq 15's PQcancel blocks without a time limit on a hung
// server, so it is not used); each session sets client_connection_check_interval
// so the server notices the closed connection and stops the statement, and
// `statement_timeout` bounds any statement on the server side. (libpq looks
// host names up synchronously while connecting: name servers that hang can
// delay a connection beyond the deadline; use hostaddr or a reliable resolver.)
//
// Errors (store.h's codes): unique_violation 23505 -> ALREADY_EXISTS;
// 40001/40P01 -> retried, then UNAVAILABLE; connection failures (class 08, a
// dropped socket), admin_shutdown 57P01, cannot_connect_now 57P03 and
// read_only_sql_transaction 25006 (the server turned out to be a standby) ->
// UNAVAILABLE, and the connection is closed so the next call connects afresh
// (to the new primary); statement timeout 57014 -> DEADLINE_EXCEEDED; anything
// else -> INTERNAL with a generic message, the server's text only in the log.
// A pooled connection found dead when its transaction begins is replaced once
// at once (nothing has run yet), so a restarted server costs no failed call.
//
// Statements: `?` placeholders are rewritten to $1..$n once per statement
// (a `?` inside a single-quoted literal, a double-quoted identifier or a
// comment is left alone), and each statement is prepared once per connection
// (cached by its SQL text) with every parameter type left for the server to
// infer (type OID 0) from its context: hence the CAST(? AS ...) rule in
// store.h. Parameters bind as: int64 and double as text, std::string as text,
// Blob as binary bytea, monostate as NULL. Result columns map by type: int2,
// int4, int8, oid -> int64; bool -> int64 0/1; numeric -> int64 when integral
// (SUM of BIGINT), else double; float4, float8 -> double; bytea -> Blob; NULL
// -> monostate; every other type (text, varchar, timestamps, ...) -> its text
// as std::string. QueryEach receives the whole result from the server before
// calling fn (so fn may issue further queries on the same transaction), then
// converts and hands out one row at a time. LastInsertId is SQLite's alone:
// here it always returns -1 (use INSERT ... RETURNING).
//
// Migrations: as SqliteStore (common/store/schema_migrations.h:
// schema_migrations(component, version, applied_at_us), every pending step in
// one transaction, each component's versions ascending, FAILED_PRECONDITION
// for a schema newer than the binary), using Migration::postgresql_sql where it is non-empty. Replicas
// starting together serialise on pg_advisory_xact_lock, so each step is
// applied exactly once; that transaction is READ COMMITTED so it sees what a
// replica before it committed.
//
// Ownership and thread safety: thread-safe. Up to `pool_size` calls run at
// once, each on its own connection; more wait for one (within their
// deadline). Connections are made lazily and a broken one is discarded and
// remade on next use. The destructor closes every connection; no call may be
// in progress or start once destruction has begun. `clock` in the options is
// not owned and must outlive the store.
#ifndef PATHWAY_COMMON_STORE_PG_STORE_H_
#define PATHWAY_COMMON_STORE_PG_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/store/store.h"

namespace pathway {

struct PgStoreOptions {
  // libpq connection string or postgresql:// URI, without a password.
  std::string conninfo;
  // libpq password file (host:port:database:user:password, mode 0600); empty
  // means libpq's default (PGPASSFILE or ~/.pgpass).
  std::string password_file;
  std::vector<Migration> migrations;
  // Connections, hence calls running at once; at least 1.
  int pool_size = 8;
  // Bounds one connection attempt (all hosts of the list together).
  absl::Duration connect_timeout = absl::Seconds(5);
  // Server-side limit on one statement (statement_timeout); zero means none.
  absl::Duration statement_timeout = absl::Seconds(30);
  // The deadline of a Read, and of a Write given none.
  absl::Duration default_timeout = absl::Seconds(10);
  // The deadline of Open's migrations (which may wait for another replica's).
  absl::Duration migration_timeout = absl::Minutes(5);
  // Used for Write deadlines and schema_migrations.applied_at_us. Not owned;
  // must outlive the store. Null means the real clock.
  const Clock* clock = nullptr;
};

class PgStore final : public Store {
 public:
  // Counters since Open, for tests and metrics.
  struct Stats {
    int64_t commits = 0;      // Writes committed
    int64_t retries = 0;      // Write functions run again after 40001/40P01
    int64_t connects = 0;     // connections made (including reconnects)
    int64_t reads = 0;        // Read functions run
  };

  // Validates the options, connects once (so a wrong address, certificate or
  // password is reported here) and applies migrations. INVALID_ARGUMENT for
  // bad options or migrations (including a password in `conninfo`),
  // FAILED_PRECONDITION if the schema is newer than `migrations`, INTERNAL if
  // a migration fails, UNAVAILABLE if the first connection fails, whatever
  // the reason (unreachable, TLS refused or unverified, password missing or
  // wrong: a retry may succeed once the server or the file is fixed); its
  // message gives libpq's reason, e.g. "cannot connect to the database: ...
  // fe_sendauth: no password supplied", never a password.
  static absl::StatusOr<std::unique_ptr<PgStore>> Open(const PgStoreOptions& options);

  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  absl::Status Write(const std::function<absl::Status(Transaction&)>& fn,
                     absl::Time deadline = absl::InfiniteFuture()) override;
  absl::Status Read(const std::function<absl::Status(ReadTransaction&)>& fn) override;

  Stats stats() const;

  // The connection string as it may be logged: parsed and re-serialised
  // without any password. Exposed for tests.
  static std::string RedactConninfo(const std::string& conninfo);

 private:
  class Connection;
  class Tx;

  PgStore(const PgStoreOptions& options, std::vector<std::string> keywords,
          std::vector<std::string> values, std::unique_ptr<Clock> default_clock);

  // Converts a deadline on clock_ to one on the real clock, which the socket
  // waits use; an infinite deadline becomes now + default_timeout.
  absl::Time RealDeadline(absl::Time deadline) const;
  // A free connection, connected; waits up to `real_deadline`.
  absl::StatusOr<Connection*> Acquire(absl::Time real_deadline);
  void Release(Connection* c);
  // Begins a transaction on a pooled connection, replacing a connection that
  // turned out to be dead once.
  absl::StatusOr<Connection*> AcquireAndBegin(absl::string_view begin_sql,
                                              absl::Time real_deadline);
  // Connects one pooled connection; on failure the status names libpq's
  // reason.
  absl::Status ConnectFirst(absl::Time real_deadline);
  absl::Status ApplyMigrations(const std::vector<Migration>& migrations, absl::Duration timeout);

  std::unique_ptr<Clock> default_clock_;  // set when options.clock is null
  const Clock* const clock_;
  const absl::Duration connect_timeout_;
  const absl::Duration statement_timeout_;
  const absl::Duration default_timeout_;
  // libpq connection keywords and values (including passfile), without a
  // password.
  const std::vector<std::string> keywords_;
  const std::vector<std::string> values_;

  std::vector<std::unique_ptr<Connection>> pool_;
  mutable absl::Mutex mu_;
  std::vector<Connection*> free_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

namespace pg_internal {

// `sql` with every `?` outside single-quoted literals, double-quoted
// identifiers and comments replaced by $1, $2, ... in order; `*count` is set
// to their number. Exposed for tests.
std::string RewritePlaceholders(absl::string_view sql, int* count);

// A numeric column's text as int64 when it is integral and fits, else as a
// double. Exposed for tests.
Value ParseNumeric(absl::string_view text);

}  // namespace pg_internal

}  // namespace pathway

#endif  // PATHWAY_COMMON_STORE_PG_STORE_H_
