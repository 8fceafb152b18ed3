#include "common/store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>

#include <cstring>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/store/schema_migrations.h"
#include "common/status/status_macros.h"

namespace pathway {

namespace {

// Statements cached per connection beyond this many are prepared afresh each
// time (protects against SQL built from varying text).
constexpr size_t kMaxCachedStatements = 512;

// SQL text for the log: whitespace collapsed, truncated. SQL carries `?`
// placeholders, never values, so it holds no personal data.
std::string SqlForLog(absl::string_view sql) {
  std::string out;
  bool space = false;
  for (char ch : sql) {
    if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(ch);
    if (out.size() >= 200) {
      out += "...";
      break;
    }
  }
  return out;
}

// The one place SQLite result codes become absl::Status (see store.h).
absl::Status SqlError(sqlite3* db, int rc, absl::string_view op, absl::string_view sql) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int primary = rc & 0xff;
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
      rc == SQLITE_CONSTRAINT_ROWID) {
    log::Debug("store_constraint", {{"op", op}, {"rc", rc}, {"error", msg}, {"sql", SqlForLog(sql)}});
    return absl::AlreadyExistsError("record already exists");
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    log::Warning("store_busy", {{"op", op}, {"rc", rc}, {"error", msg}, {"sql", SqlForLog(sql)}});
    return absl::UnavailableError("database busy; retry later");
  }
  log::Error("store_sql_error", {{"op", op}, {"rc", rc}, {"error", msg}, {"sql", SqlForLog(sql)}});
  return absl::InternalError("internal storage error");
}

absl::Status InternalMisuse(absl::string_view what, absl::string_view sql) {
  log::Error("store_misuse", {{"what", what}, {"sql", SqlForLog(sql)}});
  return absl::InternalError("internal storage error");
}

struct CachedStmt {
  sqlite3_stmt* stmt = nullptr;
  bool in_use = false;
};

// A prepared statement borrowed from a connection's cache (or prepared just for
// this use). Resets the statement and returns it on destruction.
class ScopedStmt {
 public:
  ScopedStmt(sqlite3_stmt* stmt, CachedStmt* cached) : stmt_(stmt), cached_(cached) {}
  ScopedStmt(ScopedStmt&& other) noexcept : stmt_(other.stmt_), cached_(other.cached_) {
    other.stmt_ = nullptr;
    other.cached_ = nullptr;
  }
  ScopedStmt& operator=(ScopedStmt&&) = delete;
  ScopedStmt(const ScopedStmt&) = delete;
  ScopedStmt& operator=(const ScopedStmt&) = delete;
  ~ScopedStmt() {
    if (stmt_ == nullptr) return;
    if (cached_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
      cached_->in_use = false;
    } else {
      sqlite3_finalize(stmt_);
    }
  }

  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
  CachedStmt* cached_;
};

bool OnlyWhitespaceOrSemicolons(const char* p, const char* end) {
  for (; p < end && *p != '\0'; ++p) {
    if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t' && *p != ';') return false;
  }
  return true;
}

Row ReadRow(sqlite3_stmt* stmt) {
  const int n = sqlite3_column_count(stmt);
  std::vector<Value> values;
  values.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
        break;
      case SQLITE_FLOAT:
        values.emplace_back(sqlite3_column_double(stmt, i));
        break;
      case SQLITE_TEXT: {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        const int len = sqlite3_column_bytes(stmt, i);
        values.emplace_back(text == nullptr
                                ? std::string()
                                : std::string(reinterpret_cast<const char*>(text),
                                              static_cast<size_t>(len)));
        break;
      }
      case SQLITE_BLOB: {
        const void* data = sqlite3_column_blob(stmt, i);
        const int len = sqlite3_column_bytes(stmt, i);
        Blob blob;
        if (data != nullptr) blob.bytes.assign(static_cast<const char*>(data), static_cast<size_t>(len));
        values.emplace_back(std::move(blob));
        break;
      }
      default:
        values.emplace_back(std::monostate());
        break;
    }
  }
  return Row(std::move(values));
}

}  // namespace

// One SQLite connection with its statement cache. Used by one thread at a time.
class SqliteStore::Connection {
 public:
  // `read_only_file` (with `reader`): opened SQLITE_OPEN_READONLY, e.g. a backup.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, bool reader,
                                                          absl::Duration busy_timeout,
                                                          bool read_only_file = false) {
    sqlite3* db = nullptr;
    const int flags = read_only_file ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
                                     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                                           (reader ? 0 : SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
      log::Error("store_open_failed", {{"path", path}, {"rc", rc}, {"error", sqlite3_errstr(rc)}});
      sqlite3_close_v2(db);
      if (read_only_file) return absl::NotFoundError("cannot open database file");
      return absl::UnavailableError("cannot open database");
    }
    std::unique_ptr<Connection> c(new Connection(db));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
    if (reader) {
      RETURN_IF_ERROR(c->ExecScript("PRAGMA query_only=ON"));
    } else {
      std::string mode;
      rc = sqlite3_exec(
          db, "PRAGMA journal_mode=WAL",
          [](void* out, int ncols, char** vals, char**) {
            if (ncols > 0 && vals[0] != nullptr) *static_cast<std::string*>(out) = vals[0];
            return 0;
          },
          &mode, nullptr);
      if (rc != SQLITE_OK) return SqlError(db, rc, "open", "PRAGMA journal_mode=WAL");
      if (mode != "wal") {
        log::Error("store_open_failed", {{"path", path}, {"journal_mode", mode}});
        return absl::InternalError("database does not support WAL");
      }
      RETURN_IF_ERROR(c->ExecScript("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"));
    }
    sqlite3_set_authorizer(db, &Connection::Authorize, c.get());
    return c;
  }

  ~Connection() {
    for (auto* cache : {&user_cache_, &internal_cache_}) {
      for (auto& [sql, entry] : *cache) sqlite3_finalize(entry->stmt);
    }
    sqlite3_close_v2(db_);
  }

  sqlite3* db() const { return db_; }

  // While set, statements being prepared may not control transactions, ATTACH
  // or run PRAGMAs: that is the store's business.
  void set_user_code(bool user_code) { user_code_ = user_code; }

  absl::StatusOr<ScopedStmt> Prepare(absl::string_view sql, bool internal) {
    auto& cache = internal ? internal_cache_ : user_cache_;
    auto it = cache.find(sql);
    if (it != cache.end() && !it->second->in_use) {
      it->second->in_use = true;
      return ScopedStmt(it->second->stmt, it->second.get());
    }
    // Not cached, or in use by an enclosing QueryEach: prepare (another) one.
    const bool cache_it = it == cache.end() && cache.size() < kMaxCachedStatements;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      cache_it ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
    if (rc != SQLITE_OK) {
      absl::Status status = SqlError(db_, rc, "prepare", sql);
      sqlite3_finalize(stmt);
      return status;
    }
    if (stmt == nullptr) return InternalMisuse("empty_statement", sql);
    if (!OnlyWhitespaceOrSemicolons(tail, sql.data() + sql.size())) {
      sqlite3_finalize(stmt);
      return InternalMisuse("multiple_statements", sql);
    }
    if (!cache_it) return ScopedStmt(stmt, nullptr);
    auto entry = std::make_unique<CachedStmt>();
    entry->stmt = stmt;
    entry->in_use = true;
    CachedStmt* raw = entry.get();
    cache.emplace(std::string(sql), std::move(entry));
    return ScopedStmt(stmt, raw);
  }

  // Runs a parameterless statement of the store's own (BEGIN, SAVEPOINT, ...).
  absl::Status ExecInternal(absl::string_view sql) {
    ASSIGN_OR_RETURN(ScopedStmt stmt, Prepare(sql, /*internal=*/true));
    for (;;) {
      const int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) return absl::OkStatus();
      if (rc != SQLITE_ROW) return SqlError(db_, rc, "exec", sql);
    }
  }

  // Runs a script of one or more statements (setup and migrations).
  absl::Status ExecScript(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return SqlError(db_, rc, "script", sql);
    return absl::OkStatus();
  }

  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  static int Authorize(void* self, int action, const char*, const char*, const char*,
                       const char*) {
    if (!static_cast<Connection*>(self)->user_code_) return SQLITE_OK;
    switch (action) {
      case SQLITE_TRANSACTION:
      case SQLITE_SAVEPOINT:
      case SQLITE_ATTACH:
      case SQLITE_DETACH:
      case SQLITE_PRAGMA:
        return SQLITE_DENY;
      default:
        return SQLITE_OK;
    }
  }

  sqlite3* const db_;
  bool user_code_ = false;
  absl::flat_hash_map<std::string, std::unique_ptr<CachedStmt>> user_cache_;
  absl::flat_hash_map<std::string, std::unique_ptr<CachedStmt>> internal_cache_;
};

namespace {

// Transaction over one connection. Handed out as ReadTransaction on readers.
template <typename ConnectionT>
class SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(ConnectionT* conn) : conn_(conn) {}

  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         const std::vector<Value>& params) override {
    std::vector<Row> rows;
    RETURN_IF_ERROR(Run(sql, params, [&rows](sqlite3_stmt* stmt) {
      rows.push_back(ReadRow(stmt));
      return true;
    }));
    return rows;
  }

  absl::Status QueryEach(absl::string_view sql, const std::vector<Value>& params,
                         const std::function<bool(const Row&)>& fn) override {
    return Run(sql, params, [&fn](sqlite3_stmt* stmt) { return fn(ReadRow(stmt)); });
  }

  absl::Status Exec(absl::string_view sql, const std::vector<Value>& params) override {
    changed_rows_ = 0;
    RETURN_IF_ERROR(Run(sql, params, nullptr));
    changed_rows_ = sqlite3_changes64(conn_->db());
    return absl::OkStatus();
  }

  int64_t LastInsertId() const override { return sqlite3_last_insert_rowid(conn_->db()); }
  int64_t ChangedRows() const override { return changed_rows_; }

 private:
  absl::Status Bind(sqlite3_stmt* stmt, const std::vector<Value>& params, absl::string_view sql) {
    if (sqlite3_bind_parameter_count(stmt) != static_cast<int>(params.size())) {
      return InternalMisuse("parameter_count_mismatch", sql);
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int idx = static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, idx);
      } else if (const int64_t* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (const double* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, idx, *d);
      } else if (const std::string* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(stmt, idx, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else if (const Blob* b = std::get_if<Blob>(&v)) {
        // data() is never null, so an empty Blob binds as a zero-length BLOB, not NULL.
        rc = sqlite3_bind_blob64(stmt, idx, b->bytes.data(), b->bytes.size(), SQLITE_TRANSIENT);
      }
      if (rc != SQLITE_OK) return SqlError(conn_->db(), rc, "bind", sql);
    }
    return absl::OkStatus();
  }

  template <typename OnRow>
  absl::Status Run(absl::string_view sql, const std::vector<Value>& params, OnRow on_row) {
    ASSIGN_OR_RETURN(ScopedStmt stmt, conn_->Prepare(sql, /*internal=*/false));
    RETURN_IF_ERROR(Bind(stmt.get(), params, sql));
    for (;;) {
      const int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) return absl::OkStatus();
      if (rc != SQLITE_ROW) return SqlError(conn_->db(), rc, "step", sql);
      if constexpr (!std::is_same_v<OnRow, std::nullptr_t>) {
        if (!on_row(stmt.get())) return absl::OkStatus();
      }
    }
  }

  ConnectionT* const conn_;
  int64_t changed_rows_ = 0;
};

}  // namespace

struct SqliteStore::WriteRequest {
  const std::function<absl::Status(Transaction&)>* fn = nullptr;
  absl::Time deadline;
  absl::Status status;
  bool done = false;  // guarded by SqliteStore::mu_
};

SqliteStore::SqliteStore(const SqliteStoreOptions& options, std::unique_ptr<Clock> default_clock)
    : max_batch_(options.max_batch),
      default_clock_(std::move(default_clock)),
      clock_(options.clock != nullptr ? options.clock : default_clock_.get()) {}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("store path is empty");
  if (options.reader_connections < 1) {
    return absl::InvalidArgumentError("reader_connections must be at least 1");
  }
  if (options.max_batch < 1) return absl::InvalidArgumentError("max_batch must be at least 1");
  if (options.busy_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("busy_timeout must not be negative");
  }
  std::unique_ptr<Clock> default_clock;
  if (options.clock == nullptr) default_clock = std::make_unique<RealClock>();
  std::unique_ptr<SqliteStore> store(new SqliteStore(options, std::move(default_clock)));

  ASSIGN_OR_RETURN(store->writer_conn_,
                   Connection::Open(options.path, /*reader=*/false, options.busy_timeout));
  RETURN_IF_ERROR(store->ApplyMigrations(options.migrations));
  {
    absl::MutexLock lock(&store->readers_mu_);
    for (int i = 0; i < options.reader_connections; ++i) {
      ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader,
                       Connection::Open(options.path, /*reader=*/true, options.busy_timeout));
      store->free_readers_.push_back(reader.get());
      store->readers_.push_back(std::move(reader));
    }
  }
  SqliteStore* raw = store.get();
  store->writer_thread_ = std::thread([raw] { raw->WriterLoop(); });
  log::Info("store_open", {{"readers", options.reader_connections},
                           {"migrations", options.migrations.size()}});
  return store;
}

SqliteStore::~SqliteStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_thread_.joinable()) writer_thread_.join();
  readers_.clear();
  writer_conn_.reset();
}

absl::Status SqliteStore::ApplyMigrations(const std::vector<Migration>& migrations) {
  ASSIGN_OR_RETURN(MigrationPlan plan, PlanMigrations(migrations));
  Connection& conn = *writer_conn_;
  MigrationEngine engine;
  engine.create_table_sql =
      "CREATE TABLE IF NOT EXISTS schema_migrations("
      "component TEXT NOT NULL, version INTEGER NOT NULL, applied_at_us INTEGER NOT NULL, "
      "PRIMARY KEY(component, version))";
  engine.step_sql = [](const Migration& m) -> const std::string& { return m.sql; };
  engine.exec_script = [&conn](const std::string& sql) { return conn.ExecScript(sql); };
  RETURN_IF_ERROR(conn.ExecInternal("BEGIN IMMEDIATE"));
  SqliteTransaction<Connection> tx(&conn);
  absl::Status status = ApplyMigrationPlan(plan, engine, *clock_, tx);
  if (!status.ok()) {
    if (conn.InTransaction()) conn.ExecInternal("ROLLBACK").IgnoreError();
    return status;
  }
  RETURN_IF_ERROR(conn.ExecInternal("COMMIT"));
  return absl::OkStatus();
}

absl::Status SqliteStore::Write(const std::function<absl::Status(Transaction&)>& fn,
                                absl::Time deadline) {
  if (std::this_thread::get_id() == writer_thread_.get_id()) {
    log::Error("store_misuse", {{"what", "nested_write"}});
    return absl::InternalError("internal storage error");
  }
  if (clock_->Now() >= deadline) {
    return absl::DeadlineExceededError("deadline exceeded before the write started");
  }
  WriteRequest request;
  request.fn = &fn;
  request.deadline = deadline;
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("store is closing");
  queue_.push_back(&request);
  mu_.Await(absl::Condition(&request.done));
  return request.status;
}

void SqliteStore::WriterLoop() {
  for (;;) {
    std::vector<WriteRequest*> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and every queued Write is done
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    RunBatch(batch);
    absl::MutexLock lock(&mu_);
    for (WriteRequest* r : batch) r->done = true;
  }
}

void SqliteStore::RunBatch(const std::vector<WriteRequest*>& batch) {
  Connection& conn = *writer_conn_;
  SqliteTransaction<Connection> tx(&conn);
  std::vector<WriteRequest*> to_commit;  // succeeded, awaiting COMMIT
  int64_t writes = 0;
  int64_t commits = 0;
  int64_t failed_commits = 0;

  // The whole transaction is gone (SQLite rolled it back, or we must): every
  // function that had succeeded in it fails.
  auto abandon = [&](absl::string_view why) {
    if (conn.InTransaction()) conn.ExecInternal("ROLLBACK").IgnoreError();
    log::Error("store_batch_aborted", {{"why", why}, {"lost_writes", to_commit.size()}});
    for (WriteRequest* r : to_commit) r->status = absl::UnavailableError("write aborted; retry");
    to_commit.clear();
  };

  for (WriteRequest* r : batch) {
    if (clock_->Now() >= r->deadline) {
      r->status = absl::DeadlineExceededError("deadline exceeded before the write started");
      continue;
    }
    if (!conn.InTransaction()) {
      absl::Status begin = conn.ExecInternal("BEGIN IMMEDIATE");
      if (!begin.ok()) {
        r->status = begin;
        continue;
      }
    }
    absl::Status s = conn.ExecInternal("SAVEPOINT pathway_write");
    if (!s.ok()) {
      r->status = s;
      abandon("savepoint");
      continue;
    }
    ++writes;
    conn.set_user_code(true);
    absl::Status fn_status = (*r->fn)(tx);
    conn.set_user_code(false);
    if (!conn.InTransaction()) {
      // SQLite rolled back the whole transaction (I/O error, disk full, ...).
      r->status = fn_status.ok() ? absl::UnavailableError("write aborted; retry") : fn_status;
      abandon("rolled_back_by_sqlite");
      continue;
    }
    if (fn_status.ok()) {
      s = conn.ExecInternal("RELEASE pathway_write");
      if (s.ok()) {
        r->status = absl::OkStatus();
        to_commit.push_back(r);
        continue;
      }
      fn_status = s;
    }
    r->status = fn_status;
    s = conn.ExecInternal("ROLLBACK TO pathway_write");
    if (s.ok()) s = conn.ExecInternal("RELEASE pathway_write");
    if (!s.ok()) abandon("rollback_to_savepoint");
  }

  if (conn.InTransaction()) {
    absl::Status s = conn.ExecInternal("COMMIT");
    if (s.ok()) {
      ++commits;
    } else {
      ++failed_commits;
      abandon("commit");
    }
  }
  absl::MutexLock lock(&mu_);
  stats_.writes += writes;
  stats_.commits += commits;
  stats_.failed_commits += failed_commits;
}

SqliteStore::Connection* SqliteStore::AcquireReader() {
  absl::MutexLock lock(&readers_mu_);
  auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(readers_mu_) {
    return !free_readers_.empty();
  };
  readers_mu_.Await(absl::Condition(&available));
  Connection* c = free_readers_.back();
  free_readers_.pop_back();
  ++reads_;
  return c;
}

void SqliteStore::ReleaseReader(Connection* c) {
  absl::MutexLock lock(&readers_mu_);
  free_readers_.push_back(c);
}

absl::Status SqliteStore::Read(const std::function<absl::Status(ReadTransaction&)>& fn) {
  Connection* conn = AcquireReader();
  absl::Status status = ReadOn(conn, fn);
  ReleaseReader(conn);
  return status;
}

absl::Status SqliteStore::ReadFile(const std::string& path,
                                   const std::function<absl::Status(ReadTransaction&)>& fn) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                   Connection::Open(path, /*reader=*/true, absl::Seconds(5),
                                    /*read_only_file=*/true));
  return ReadOn(conn.get(), fn);
}

absl::Status SqliteStore::BackupTo(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError("backup file already exists");
    log::Error("store_backup_failed", {{"path", path}, {"errno", errno}});
    return absl::UnavailableError("cannot create the backup file");
  }
  ::close(fd);
  sqlite3* dest = nullptr;
  absl::Status status;
  int rc = sqlite3_open_v2(path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    status = SqlError(dest, rc, "backup_open", "");
  } else {
    sqlite3_extended_result_codes(dest, 1);
    // One step copies every page inside one read transaction of the reader: a
    // snapshot, while the writer goes on committing to the WAL.
    Connection* conn = AcquireReader();
    sqlite3_backup* backup = sqlite3_backup_init(dest, "main", conn->db(), "main");
    if (backup == nullptr) {
      status = SqlError(dest, sqlite3_errcode(dest), "backup_init", "");
    } else {
      rc = sqlite3_backup_step(backup, -1);
      const int finish = sqlite3_backup_finish(backup);
      if (rc != SQLITE_DONE) {
        status = SqlError(dest, rc, "backup_step", "");
      } else if (finish != SQLITE_OK) {
        status = SqlError(dest, finish, "backup_finish", "");
      }
    }
    ReleaseReader(conn);
    if (status.ok()) {
      // The copy carries the source's WAL flag; a backup stands alone.
      rc = sqlite3_exec(dest, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
      if (rc != SQLITE_OK) status = SqlError(dest, rc, "backup_journal_mode", "");
    }
  }
  rc = sqlite3_close_v2(dest);
  if (status.ok() && rc != SQLITE_OK) status = absl::UnavailableError("cannot close the backup");
  if (status.ok()) {
    const int sync_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (sync_fd < 0 || ::fsync(sync_fd) != 0) {
      status = absl::UnavailableError("cannot sync the backup file");
    }
    if (sync_fd >= 0) ::close(sync_fd);
  }
  if (!status.ok()) {
    ::unlink(path.c_str());
    if (!absl::IsUnavailable(status)) status = absl::UnavailableError("cannot write the backup");
  }
  return status;
}

absl::Status SqliteStore::ReadOn(Connection* conn,
                                 const std::function<absl::Status(ReadTransaction&)>& fn) {
  absl::Status status = conn->ExecInternal("BEGIN");
  if (status.ok()) {
    SqliteTransaction<Connection> tx(conn);
    conn->set_user_code(true);
    status = fn(tx);
    conn->set_user_code(false);
    if (conn->InTransaction()) {
      absl::Status end = conn->ExecInternal("ROLLBACK");  // read-only: nothing to keep
      if (status.ok()) status = end;
    }
  }
  return status;
}

SqliteStore::Stats SqliteStore::stats() const {
  Stats s;
  {
    absl::MutexLock lock(&mu_);
    s = stats_;
  }
  absl::MutexLock lock(&readers_mu_);
  s.reads = reads_;
  return s;
}

void SqliteStore::AwaitQueuedForTesting(size_t n) const {
  absl::MutexLock lock(&mu_);
  auto queued = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_.size() >= n; };
  mu_.Await(absl::Condition(&queued));
}

}  // namespace pathway
