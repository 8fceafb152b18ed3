// The storage interface every Pathway service uses for its own database
// (DESIGN.md §7). The embedded implementation is SqliteStore
// (common/store/sqlite_store.h); PgStore (common/store/pg_store.h) is the
// PostgreSQL one, and OpenStore (common/store/open_store.h) picks between them.
//
//   absl::Status s = store.Write([&](Transaction& tx) -> absl::Status {
//     RETURN_IF_ERROR(tx.Exec("INSERT INTO cases(id, county) VALUES(?, ?)",
//                             {case_id, county}));
//     return AppendAudit(tx, entry);  // same transaction as the write
//   });
//
//   std::string county;
//   absl::Status r = store.Read([&](ReadTransaction& tx) -> absl::Status {
//     ASSIGN_OR_RETURN(std::vector<Row> rows,
//                      tx.Query("SELECT county FROM cases WHERE id = ?", {case_id}));
//     if (rows.empty()) return absl::NotFoundError("case not found");
//     county = rows[0].GetString(0);
//     return absl::OkStatus();
//   });
//
// (Keep the Write/Read status in a variable as above: RETURN_IF_ERROR wrapped
// around a lambda that itself uses RETURN_IF_ERROR fails -Wshadow.)
//
// Portable SQL: every statement outside migrations runs unchanged on SQLite
// (3.40, Debian 12) and PostgreSQL 15. The rules:
//   - Placeholders are a bare `?` only (PostgreSQL's store rewrites them to
//     $1, $2, ... once per statement); never `?1`, `:name` or `$1`. A value used
//     twice is bound twice.
//   - Every `?` has a type PostgreSQL can infer from its context; where it
//     cannot (`? IS NULL`, a bare select list, arithmetic on two parameters),
//     write CAST(? AS BIGINT) / CAST(? AS TEXT).
//   - Generated keys come back with `INSERT ... RETURNING id` read through
//     Query, not LastInsertId (which only SQLite can answer; it is going away).
//   - A statement that may meet an existing key says so:
//     `INSERT ... ON CONFLICT (cols) DO NOTHING` (check ChangedRows or RETURNING)
//     or `ON CONFLICT (cols) DO UPDATE SET c = excluded.c`. Never INSERT OR
//     IGNORE / OR REPLACE, and never carry on after an ALREADY_EXISTS: on
//     PostgreSQL a failed statement aborts the whole transaction.
//   - Integers are BIGINT (PostgreSQL's INTEGER is 32 bits); bytes are bound as
//     Blob; booleans are BIGINT 0/1; no REAL columns (DOUBLE PRECISION if ever).
//   - Every selected column that is not aggregated appears in GROUP BY; no
//     SQLite-only functions (ifnull, strftime, julianday, printf, group_concat):
//     COALESCE, SUBSTR, LENGTH, LOWER, ABS, MIN/MAX, COUNT, SUM work on both
//     (SUM and COUNT come back as int64 from both stores).
//   - No rowid, no WITHOUT ROWID, no AUTOINCREMENT in statements. Migrations may
//     carry engine-specific DDL in Migration::postgresql_sql where it must
//     differ (an identity column, BYTEA for BLOB); otherwise `sql` is used for
//     both engines and must itself be portable. DDL that differs only in such
//     tokens is written once, through EngineMigration (below).
//   - Transaction control (BEGIN, COMMIT, SAVEPOINT, ...), ATTACH, PRAGMA,
//     FOR UPDATE and engine-specific locking are the store's business and are
//     not written inside a function. Foreign keys are checked immediately; do
//     not declare them DEFERRABLE.
// The tables layer of each service (<service>_tables.{h,cc}) and common/store
// are the only places that hold SQL.
//
// Error codes (the same from every implementation):
//   ALREADY_EXISTS  a UNIQUE or PRIMARY KEY constraint was violated. Return
//                   it (or another error) from the function: the transaction is
//                   not usable afterwards on every engine.
//   UNAVAILABLE     the database is busy, locked or unreachable, or a commit
//                   failed; a retry may succeed.
//   DEADLINE_EXCEEDED  a Write's deadline passed before its function started
//                   (or, on PostgreSQL, before it could finish).
//   INTERNAL        any other SQL error. The message is generic; the SQL error
//                   text goes to the log, never to the caller.
//
// A Write function may run more than once (PostgreSQL retries a serialisable
// transaction that lost a conflict), so it must assign, not accumulate, what
// it hands out, and touch nothing but the transaction.
//
// Ownership and thread safety: a Store is thread-safe. Transaction and
// ReadTransaction objects are owned by the store, valid only during the call
// to the function they are passed to, and must be used only from that thread.
// Rows are plain values owned by the caller.
#ifndef PATHWAY_COMMON_STORE_STORE_H_
#define PATHWAY_COMMON_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pathway {

// Binary data (SQL BLOB). Kept distinct from std::string, which binds as TEXT.
struct Blob {
  std::string bytes;
};
inline bool operator==(const Blob& a, const Blob& b) { return a.bytes == b.bytes; }
inline bool operator!=(const Blob& a, const Blob& b) { return !(a == b); }

// A parameter or column value. std::monostate is SQL NULL; std::string is TEXT.
// An `int` converts to int64_t; cast unsigned and other integer types explicitly.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;

// One result row: an immutable sequence of column values, indexed from 0.
// Getters convert leniently: GetInt of a REAL truncates, GetDouble of an
// INTEGER widens, and a getter applied to NULL or an unrelated type returns 0 or
// the empty string. A column index outside [0, size()) is a programming error
// and aborts the process.
class Row {
 public:
  Row() = default;
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}

  int size() const { return static_cast<int>(values_.size()); }
  bool IsNull(int col) const;
  int64_t GetInt(int col) const;
  double GetDouble(int col) const;
  // The bytes of a TEXT or BLOB column.
  const std::string& GetString(int col) const;
  const Value& Get(int col) const;
  const std::vector<Value>& values() const { return values_; }

 private:
  std::vector<Value> values_;
};

// Read access inside Store::Read or Store::Write.
class ReadTransaction {
 public:
  virtual ~ReadTransaction() = default;

  // Runs one statement and returns all its rows.
  virtual absl::StatusOr<std::vector<Row>> Query(
      absl::string_view sql, const std::vector<Value>& params = {}) = 0;

  // Streams rows to `fn` without materialising them all; fn returns false to
  // stop early (which is not an error). `fn` may issue further queries.
  virtual absl::Status QueryEach(absl::string_view sql,
                                 const std::vector<Value>& params,
                                 const std::function<bool(const Row&)>& fn) = 0;
};

// Read-write access inside Store::Write.
class Transaction : public ReadTransaction {
 public:
  // Runs one statement, discarding any rows it returns.
  virtual absl::Status Exec(absl::string_view sql,
                            const std::vector<Value>& params = {}) = 0;
  // The rowid (or serial id) of the last successful INSERT on this transaction.
  virtual int64_t LastInsertId() const = 0;
  // Rows inserted, updated or deleted by the last Exec.
  virtual int64_t ChangedRows() const = 0;
};

// One schema step owned by a component, e.g. {"audit", 1, "CREATE TABLE ..."}.
// Versions start at 1 and only ever grow; a shipped migration never changes.
// `sql` may hold several statements separated by semicolons.
struct Migration {
  Migration() = default;
  Migration(std::string component_in, int version_in, std::string sql_in,
            std::string postgresql_sql_in = "")
      : component(std::move(component_in)),
        version(version_in),
        sql(std::move(sql_in)),
        postgresql_sql(std::move(postgresql_sql_in)) {}

  std::string component;
  int version = 0;
  std::string sql;
  // The same step for PostgreSQL where its DDL must differ; empty means `sql`
  // is portable and used for both engines.
  std::string postgresql_sql;
};

// A migration step whose DDL is written once for both engines, with a token
// wherever the engines spell it differently:
//
//   token                   SQLite                             PostgreSQL
//   {BLOB}                  BLOB                               BYTEA
//   {AUTO_ID}               INTEGER PRIMARY KEY                BIGINT GENERATED ALWAYS
//                                                              AS IDENTITY PRIMARY KEY
//   {AUTO_ID_NEVER_REUSED}  INTEGER PRIMARY KEY AUTOINCREMENT  (as {AUTO_ID})
//   {BIGINT_KEY}            INTEGER PRIMARY KEY                BIGINT PRIMARY KEY
//
// {AUTO_ID} is a generated BIGINT key (on SQLite the rowid, which may hand out
// the id of a deleted newest row again; {AUTO_ID_NEVER_REUSED} never does, nor
// does an identity). {BIGINT_KEY} is a key the code assigns itself.
//
//   std::vector<Migration> CaseMigrations() {
//     return {EngineMigration("registry", 1,
//                             "CREATE TABLE notes(id {AUTO_ID}, case_id TEXT NOT NULL,"
//                             "  body {BLOB} NOT NULL);")};
//   }
//
// Both `sql` and `postgresql_sql` are set, so DDL that genuinely differs (an
// SQLite trigger body against a PL/pgSQL function) can be added to the one
// engine's text afterwards. Text outside the tokens is used as written.
Migration EngineMigration(std::string component, int version, absl::string_view ddl);

class Store {
 public:
  virtual ~Store() = default;

  // Runs fn in a read-write transaction; a failing fn rolls back only its own
  // changes and returns its own error. Returns OK only once the commit is
  // durable. (SqliteStore groups concurrent Writes into one commit, each fn in
  // its own SAVEPOINT; PgStore runs each in its own serialisable transaction.) fn must touch
  // only the database (it may be run on another thread, and must not block on
  // anything but the transaction, nor call Write itself).
  // If `deadline` passes before fn starts, returns DEADLINE_EXCEEDED without
  // running it. If the commit fails, every fn that succeeded gets UNAVAILABLE
  // and nothing it did is kept.
  virtual absl::Status Write(const std::function<absl::Status(Transaction&)>& fn,
                             absl::Time deadline = absl::InfiniteFuture()) = 0;

  // Runs fn on a consistent snapshot (a reader connection; WAL lets reads run
  // beside the writer). Returns fn's status. Reads beyond the number of reader
  // connections wait for one; so do not call Read from inside a Read fn.
  virtual absl::Status Read(const std::function<absl::Status(ReadTransaction&)>& fn) = 0;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_STORE_STORE_H_
