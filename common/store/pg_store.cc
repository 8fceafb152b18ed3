#include "common/store/pg_store.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/log/log.h"
#include "common/store/schema_migrations.h"
#include "common/status/status_macros.h"

namespace pathway {

namespace {

// Statements cached per connection beyond this many are prepared unnamed each
// time (protects against SQL built from varying text).
constexpr size_t kMaxCachedStatements = 512;

// Key of the advisory lock that serialises migrations between replicas.
constexpr int64_t kMigrationLockKey = 0x7061746877617931;  // "pathway1"

// How often the server checks, during a long statement, that the client is
// still connected (client_connection_check_interval, milliseconds).
constexpr int kClientCheckIntervalMs = 1000;

// Backoff before running a Write function again after a serialization failure.
constexpr absl::Duration kRetryBackoffBase = absl::Milliseconds(2);
constexpr absl::Duration kRetryBackoffMax = absl::Milliseconds(100);

// Type OIDs (pg_type.dat; stable across releases).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultFree>;

struct ConninfoFree {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using ConninfoPtr = std::unique_ptr<PQconninfoOption, ConninfoFree>;

// Text for the log: whitespace collapsed, truncated. SQL carries `?`
// placeholders, never values, so it holds no personal data.
std::string OneLine(absl::string_view text, size_t limit = 200) {
  std::string out;
  bool space = false;
  for (char ch : text) {
    if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(ch);
    if (out.size() >= limit) {
      out += "...";
      break;
    }
  }
  return out;
}

absl::Status InternalMisuse(absl::string_view what, absl::string_view sql) {
  log::Error("store_misuse", {{"what", what}, {"sql", OneLine(sql)}});
  return absl::InternalError("internal storage error");
}

const char* Field(const PGresult* r, int code) {
  const char* v = r != nullptr ? PQresultErrorField(r, code) : nullptr;
  return v != nullptr ? v : "";
}

// How a failed libpq call is reported (see the header): the status for the
// caller, and what the store must do about the connection and the function.
struct Failure {
  absl::Status status;
  bool retryable = false;        // 40001 / 40P01: run the Write function again
  bool drop_connection = false;  // the connection is gone or points at the wrong server
};

// The one place PostgreSQL errors become absl::Status. `r` may be null (the
// error is then on the connection). Only the primary message goes to the log:
// the detail can quote row values.
Failure MapError(PGconn* conn, const PGresult* r, absl::string_view op, absl::string_view sql) {
  const std::string sqlstate = Field(r, PG_DIAG_SQLSTATE);
  Failure f;
  if (sqlstate.empty() || PQstatus(conn) == CONNECTION_BAD) {
    // No server error: the connection failed (or libpq itself did).
    log::Warning("store_connection_lost",
                 {{"op", op}, {"error", OneLine(PQerrorMessage(conn), 300)}, {"sql", OneLine(sql)}});
    f.status = absl::UnavailableError("database unavailable; retry later");
    f.drop_connection = true;
    return f;
  }
  // A data exception's primary message may quote the offending value.
  const std::string message =
      absl::StartsWith(sqlstate, "22") ? "" : OneLine(Field(r, PG_DIAG_MESSAGE_PRIMARY), 300);
  if (sqlstate == "23505") {
    log::Debug("store_constraint", {{"op", op},
                                    {"sqlstate", sqlstate},
                                    {"constraint", Field(r, PG_DIAG_CONSTRAINT_NAME)},
                                    {"sql", OneLine(sql)}});
    f.status = absl::AlreadyExistsError("record already exists");
    return f;
  }
  if (sqlstate == "40001" || sqlstate == "40P01") {
    log::Debug("store_conflict", {{"op", op}, {"sqlstate", sqlstate}, {"sql", OneLine(sql)}});
    f.status = absl::UnavailableError("write conflicted with a concurrent write; retry");
    f.retryable = true;
    return f;
  }
  if (absl::StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03" || sqlstate == "25006") {
    log::Warning("store_server_unavailable",
                 {{"op", op}, {"sqlstate", sqlstate}, {"error", message}, {"sql", OneLine(sql)}});
    f.status = absl::UnavailableError("database unavailable; retry later");
    f.drop_connection = true;
    return f;
  }
  if (sqlstate == "57014") {  // query_canceled: statement_timeout
    log::Warning("store_statement_timeout", {{"op", op}, {"sql", OneLine(sql)}});
    f.status = absl::DeadlineExceededError("database statement timed out");
    return f;
  }
  log::Error("store_sql_error",
             {{"op", op}, {"sqlstate", sqlstate}, {"error", message}, {"sql", OneLine(sql)}});
  f.status = absl::InternalError("internal storage error");
  return f;
}

// True when `sql` starts with a command that is the store's business
// (transaction control, session settings, explicit locks).
bool IsStoreCommand(absl::string_view sql) {
  sql = absl::StripLeadingAsciiWhitespace(sql);
  size_t n = 0;
  while (n < sql.size() && absl::ascii_isalpha(static_cast<unsigned char>(sql[n]))) ++n;
  const std::string word = absl::AsciiStrToUpper(sql.substr(0, n));
  static const std::set<std::string>* const kWords = new std::set<std::string>{
      "BEGIN", "START",   "COMMIT", "END",     "ROLLBACK",   "ABORT",   "SAVEPOINT", "RELEASE",
      "PREPARE", "SET",   "RESET",  "LOCK",    "DISCARD",    "DEALLOCATE", "LISTEN", "COPY"};
  return kWords->count(word) > 0;
}

Value ConvertField(const PGresult* r, int row, int col, Oid type) {
  if (PQgetisnull(r, row, col)) return std::monostate();
  const char* v = PQgetvalue(r, row, col);
  const absl::string_view text(v, static_cast<size_t>(PQgetlength(r, row, col)));
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      int64_t n = 0;
      if (absl::SimpleAtoi(text, &n)) return n;
      return std::string(text);
    }
    case kBoolOid:
      return static_cast<int64_t>(text == "t" ? 1 : 0);
    case kNumericOid:
      return pg_internal::ParseNumeric(text);
    case kFloat4Oid:
    case kFloat8Oid:
      return std::strtod(v, nullptr);  // handles Infinity and NaN
    case kByteaOid: {
      size_t len = 0;
      unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &len);
      Blob blob;
      if (bytes != nullptr) {
        blob.bytes.assign(reinterpret_cast<const char*>(bytes), len);
        PQfreemem(bytes);
      }
      return blob;
    }
    default:
      return std::string(text);
  }
}

Row ConvertRow(const PGresult* r, int row, const std::vector<Oid>& types) {
  std::vector<Value> values;
  values.reserve(types.size());
  for (size_t c = 0; c < types.size(); ++c) {
    values.push_back(ConvertField(r, row, static_cast<int>(c), types[c]));
  }
  return Row(std::move(values));
}

std::vector<Oid> ColumnTypes(const PGresult* r) {
  std::vector<Oid> types(static_cast<size_t>(PQnfields(r)));
  for (size_t c = 0; c < types.size(); ++c) types[c] = PQftype(r, static_cast<int>(c));
  return types;
}

// Connection keywords whose values are secrets: the password, and the
// passphrase of a client key (sslpassword). File names (passfile, sslkey,
// sslcert, sslrootcert, sslcrl) are not.
bool IsSecretKeyword(absl::string_view keyword) {
  return keyword == "password" || keyword == "sslpassword";
}

// A conninfo value quoted for key=value form.
std::string QuoteConninfoValue(absl::string_view v) {
  const bool plain =
      !v.empty() && v.find_first_of(" \t\n'\\") == absl::string_view::npos;
  if (plain) return std::string(v);
  std::string out = "'";
  for (char ch : v) {
    if (ch == '\'' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

namespace pg_internal {

std::string RewritePlaceholders(absl::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  size_t i = 0;
  while (i < sql.size()) {
    const char ch = sql[i];
    if (ch == '\'' || ch == '"') {  // literal or quoted identifier; a doubled quote escapes
      out.push_back(ch);
      ++i;
      while (i < sql.size()) {
        out.push_back(sql[i]);
        if (sql[i] == ch) {
          if (i + 1 < sql.size() && sql[i + 1] == ch) {
            out.push_back(sql[i + 1]);
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        ++i;
      }
    } else if (ch == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') out.push_back(sql[i++]);
    } else if (ch == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      const size_t end = sql.find("*/", i + 2);
      const size_t stop = end == absl::string_view::npos ? sql.size() : end + 2;
      out.append(sql.data() + i, stop - i);
      i = stop;
    } else if (ch == '?') {
      absl::StrAppend(&out, "$", ++n);
      ++i;
    } else {
      out.push_back(ch);
      ++i;
    }
  }
  *count = n;
  return out;
}

Value ParseNumeric(absl::string_view text) {
  absl::string_view integral = text;
  const size_t dot = text.find('.');
  if (dot != absl::string_view::npos) {
    const absl::string_view fraction = text.substr(dot + 1);
    if (fraction.find_first_not_of('0') == absl::string_view::npos) integral = text.substr(0, dot);
  }
  int64_t n = 0;
  if (absl::SimpleAtoi(integral, &n)) return n;
  return std::strtod(std::string(text).c_str(), nullptr);  // also NaN, Infinity
}

}  // namespace pg_internal

// One libpq connection (possibly not connected) with its prepared statements.
// Used by one thread at a time (the pool hands it out). Every wait is bounded
// by the deadline given to the call.
class PgStore::Connection {
 public:
  explicit Connection(const PgStore* store) : store_(store) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return conn_ != nullptr; }
  // True while this connection has served a transaction since it connected
  // (a connection found dead then is replaced once, transparently).
  bool used() const { return used_; }
  void set_used() { used_ = true; }
  // Whether the last failed call lost a serialisation conflict (40001/40P01).
  bool last_retryable() const { return last_retryable_; }
  // Why the last Connect failed, one line (libpq's words, which never hold a
  // password: PgStore never sees one); empty after a success.
  const std::string& connect_error() const { return connect_error_; }

  void Close() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
    prepared_.clear();
    used_ = false;
  }

  bool InTransaction() const {
    return conn_ != nullptr && PQtransactionStatus(conn_) != PQTRANS_IDLE;
  }

  // Connects (asynchronously, polling against the earlier of `deadline` and
  // connect_timeout) and sets up the session.
  absl::Status Connect(absl::Time deadline) {
    Close();
    connect_error_.clear();
    const absl::Time attempt_deadline = std::min(deadline, absl::Now() + store_->connect_timeout_);
    std::vector<const char*> keywords;
    std::vector<const char*> values;
    for (size_t i = 0; i < store_->keywords_.size(); ++i) {
      keywords.push_back(store_->keywords_[i].c_str());
      values.push_back(store_->values_[i].c_str());
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectStartParams(keywords.data(), values.data(), /*expand_dbname=*/0);
    if (conn_ == nullptr) {
      connect_error_ = "out of memory";
      log::Error("store_connect_failed", {{"error", connect_error_}});
      return absl::UnavailableError("database unavailable; retry later");
    }
    PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
    while (PQstatus(conn_) != CONNECTION_BAD && poll_status != PGRES_POLLING_OK &&
           poll_status != PGRES_POLLING_FAILED) {
      const short events = poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
      if (!WaitSocket(events, attempt_deadline)) {
        log::Warning("store_connect_timeout",
                     {{"ms", absl::ToInt64Milliseconds(store_->connect_timeout_)}});
        connect_error_ = absl::StrCat("no answer within ",
                                      absl::ToInt64Milliseconds(store_->connect_timeout_), " ms");
        Close();
        if (absl::Now() >= deadline) {
          return absl::DeadlineExceededError("deadline exceeded connecting to the database");
        }
        return absl::UnavailableError("database unavailable; retry later");
      }
      poll_status = PQconnectPoll(conn_);
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
      connect_error_ = OneLine(PQerrorMessage(conn_), 300);
      log::Warning("store_connect_failed", {{"error", connect_error_}});
      Close();
      return absl::UnavailableError("database unavailable; retry later");
    }
    // Server notices ("relation already exists, skipping") are not errors and
    // would go to stderr unformatted.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    if (PQsetnonblocking(conn_, 1) != 0) {
      connect_error_ = "cannot set non-blocking mode";
      log::Error("store_connect_failed", {{"error", connect_error_}});
      Close();
      return absl::UnavailableError("database unavailable; retry later");
    }
    std::string setup = absl::StrCat("SET client_connection_check_interval = ",
                                      kClientCheckIntervalMs, "; SET statement_timeout = ",
                                      absl::ToInt64Milliseconds(store_->statement_timeout_));
    absl::StatusOr<ResultPtr> r = Simple(setup, deadline);
    if (!r.ok()) {
      Close();
      return r.status();
    }
    return absl::OkStatus();
  }

  // Runs `sql` (one or several statements, no parameters) with the simple
  // query protocol; returns the last statement's result.
  absl::StatusOr<ResultPtr> Simple(const std::string& sql, absl::Time deadline) {
    return Run("simple", sql, [&] { return PQsendQuery(conn_, sql.c_str()); }, deadline);
  }

  // Runs one statement of the caller's, prepared once and cached by its text.
  absl::StatusOr<ResultPtr> Exec(absl::string_view sql, const std::vector<Value>& params,
                                 absl::Time deadline) {
    std::string key(sql);
    auto it = prepared_.find(key);
    Prepared stmt;
    if (it != prepared_.end()) {
      stmt = it->second;
    } else {
      const std::string rewritten = pg_internal::RewritePlaceholders(sql, &stmt.params);
      const bool cache = prepared_.size() < kMaxCachedStatements;
      stmt.name = cache ? absl::StrCat("pathway_", next_statement_++) : "";
      // Parameter types 0: the server infers each from its context.
      ASSIGN_OR_RETURN(ResultPtr prepared, Run("prepare", sql, [&] {
                         return PQsendPrepare(conn_, stmt.name.c_str(), rewritten.c_str(), 0,
                                              nullptr);
                       }, deadline));
      if (cache) prepared_.emplace(key, stmt);
    }
    if (static_cast<int>(params.size()) != stmt.params) {
      return InternalMisuse("parameter_count_mismatch", sql);
    }
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (const int64_t* n = std::get_if<int64_t>(&v)) {
        text[i] = absl::StrCat(*n);
      } else if (const double* d = std::get_if<double>(&v)) {
        text[i] = absl::StrFormat("%.17g", *d);
      } else if (const std::string* s = std::get_if<std::string>(&v)) {
        if (s->find('\0') != std::string::npos) return InternalMisuse("text_with_nul", sql);
        values[i] = s->c_str();
        continue;
      } else if (const Blob* b = std::get_if<Blob>(&v)) {
        // data() is never null, so an empty Blob binds as an empty bytea, not NULL.
        values[i] = b->bytes.data();
        lengths[i] = static_cast<int>(b->bytes.size());
        formats[i] = 1;
        continue;
      } else {
        continue;  // NULL
      }
      values[i] = text[i].c_str();
    }
    absl::StatusOr<ResultPtr> r = Run("exec", sql, [&] {
      return PQsendQueryPrepared(conn_, stmt.name.c_str(), stmt.params, values.data(),
                                 lengths.data(), formats.data(), /*resultFormat=*/0);
    }, deadline);
    // "cached plan must not change result type": the schema changed under a
    // cached statement (another replica migrated); prepare it afresh next time.
    if (!r.ok() && last_sqlstate_ == "0A000") prepared_.erase(key);
    return r;
  }

 private:
  struct Prepared {
    std::string name;
    int params = 0;
  };

  // Waits until the socket is ready for `events`; false at the deadline.
  bool WaitSocket(short events, absl::Time deadline) {
    for (;;) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      pollfd pfd;
      pfd.fd = PQsocket(conn_);
      pfd.events = events;
      pfd.revents = 0;
      const int64_t ms = std::min<int64_t>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))),
                                           60000);
      const int rc = poll(&pfd, 1, static_cast<int>(ms));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return true;  // let libpq report the error
    }
  }

  // Sends with `send`, then collects every result until the command is done.
  // Returns the last result, or the first error mapped to a status. At the
  // deadline, or when the connection fails, the connection is closed.
  template <typename Send>
  absl::StatusOr<ResultPtr> Run(absl::string_view op, absl::string_view sql, Send send,
                                absl::Time deadline) {
    last_retryable_ = false;
    last_sqlstate_.clear();
    if (conn_ == nullptr) return absl::UnavailableError("database unavailable; retry later");
    if (!send()) return Fail(nullptr, op, sql);
    // Flush what libpq could not send at once (non-blocking mode).
    for (;;) {
      const int f = PQflush(conn_);
      if (f == 0) break;
      if (f < 0) return Fail(nullptr, op, sql);
      if (!WaitSocket(POLLIN | POLLOUT, deadline)) return Expired(op, sql);
      if (!PQconsumeInput(conn_)) return Fail(nullptr, op, sql);
    }
    ResultPtr last;
    ResultPtr error;
    for (;;) {
      while (PQisBusy(conn_)) {
        if (!WaitSocket(POLLIN, deadline)) return Expired(op, sql);
        if (!PQconsumeInput(conn_)) return Fail(nullptr, op, sql);
      }
      ResultPtr r(PQgetResult(conn_));
      if (r == nullptr) break;
      const ExecStatusType st = PQresultStatus(r.get());
      if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR) {
        if (error == nullptr) error = std::move(r);
      } else if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
        log::Error("store_misuse", {{"what", "copy"}, {"sql", OneLine(sql)}});
        Close();
        return absl::InternalError("internal storage error");
      } else {
        last = std::move(r);
      }
      if (PQstatus(conn_) == CONNECTION_BAD) break;
    }
    if (error != nullptr || PQstatus(conn_) == CONNECTION_BAD) return Fail(error.get(), op, sql);
    if (last == nullptr) return Fail(nullptr, op, sql);
    return last;
  }

  absl::Status Fail(const PGresult* r, absl::string_view op, absl::string_view sql) {
    Failure f = MapError(conn_, r, op, sql);
    last_retryable_ = f.retryable;
    last_sqlstate_ = Field(r, PG_DIAG_SQLSTATE);
    if (f.drop_connection) Close();
    return f.status;
  }

  absl::Status Expired(absl::string_view op, absl::string_view sql) {
    log::Warning("store_deadline_exceeded", {{"op", op}, {"sql", OneLine(sql)}});
    // The statement may still be running; closing the connection makes the
    // server drop it (client_connection_check_interval) and roll back.
    Close();
    return absl::DeadlineExceededError("deadline exceeded waiting for the database");
  }

  const PgStore* const store_;
  PGconn* conn_ = nullptr;
  bool used_ = false;
  bool last_retryable_ = false;
  std::string connect_error_;
  std::string last_sqlstate_;
  int64_t next_statement_ = 0;
  absl::flat_hash_map<std::string, Prepared> prepared_;
};

// The Transaction handed to a Read or Write function.
class PgStore::Tx final : public Transaction {
 public:
  Tx(Connection* conn, absl::Time deadline) : conn_(conn), deadline_(deadline) {}

  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         const std::vector<Value>& params) override {
    ASSIGN_OR_RETURN(ResultPtr r, Run(sql, params));
    const std::vector<Oid> types = ColumnTypes(r.get());
    std::vector<Row> rows;
    const int n = PQntuples(r.get());
    rows.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) rows.push_back(ConvertRow(r.get(), i, types));
    return rows;
  }

  absl::Status QueryEach(absl::string_view sql, const std::vector<Value>& params,
                         const std::function<bool(const Row&)>& fn) override {
    ASSIGN_OR_RETURN(ResultPtr r, Run(sql, params));
    const std::vector<Oid> types = ColumnTypes(r.get());
    const int n = PQntuples(r.get());
    for (int i = 0; i < n; ++i) {
      if (!fn(ConvertRow(r.get(), i, types))) break;
    }
    return absl::OkStatus();
  }

  absl::Status Exec(absl::string_view sql, const std::vector<Value>& params) override {
    changed_rows_ = 0;
    ASSIGN_OR_RETURN(ResultPtr r, Run(sql, params));
    const char* tuples = PQcmdTuples(r.get());
    int64_t n = 0;
    if (tuples != nullptr && absl::SimpleAtoi(tuples, &n)) changed_rows_ = n;
    return absl::OkStatus();
  }

  // SQLite's alone; see the header.
  int64_t LastInsertId() const override { return -1; }
  int64_t ChangedRows() const override { return changed_rows_; }

  // Set once a statement lost a serialisation conflict.
  bool retryable() const { return retryable_; }
  // The failure that closed the connection (OK while it is open).
  const absl::Status& connection_failure() const { return connection_failure_; }

 private:
  absl::StatusOr<ResultPtr> Run(absl::string_view sql, const std::vector<Value>& params) {
    if (!connection_failure_.ok()) return connection_failure_;
    if (IsStoreCommand(sql)) return InternalMisuse("store_command_in_function", sql);
    absl::StatusOr<ResultPtr> r = conn_->Exec(sql, params, deadline_);
    if (!r.ok()) {
      if (conn_->last_retryable()) retryable_ = true;
      if (!conn_->connected()) connection_failure_ = r.status();
    }
    return r;
  }

  Connection* const conn_;
  const absl::Time deadline_;
  int64_t changed_rows_ = 0;
  bool retryable_ = false;
  absl::Status connection_failure_;
};

PgStore::PgStore(const PgStoreOptions& options, std::vector<std::string> keywords,
                 std::vector<std::string> values, std::unique_ptr<Clock> default_clock)
    : default_clock_(std::move(default_clock)),
      clock_(options.clock != nullptr ? options.clock : default_clock_.get()),
      connect_timeout_(options.connect_timeout),
      statement_timeout_(options.statement_timeout),
      default_timeout_(options.default_timeout),
      keywords_(std::move(keywords)),
      values_(std::move(values)) {
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < options.pool_size; ++i) {
    pool_.push_back(std::make_unique<Connection>(this));
    free_.push_back(pool_.back().get());
  }
}

absl::StatusOr<std::unique_ptr<PgStore>> PgStore::Open(const PgStoreOptions& options) {
  if (options.conninfo.empty()) return absl::InvalidArgumentError("database connection string is empty");
  if (options.pool_size < 1) return absl::InvalidArgumentError("pool_size must be at least 1");
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.default_timeout <= absl::ZeroDuration() ||
      options.migration_timeout <= absl::ZeroDuration() ||
      options.statement_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("database timeouts must be positive");
  }
  char* err = nullptr;
  ConninfoPtr parsed(PQconninfoParse(options.conninfo.c_str(), &err));
  if (parsed == nullptr) {
    // libpq's message may quote the string, which could hold a secret.
    PQfreemem(err);
    return absl::InvalidArgumentError("malformed database connection string");
  }
  std::vector<std::string> keywords;
  std::vector<std::string> values;
  bool has_app_name = false;
  for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    const std::string keyword = o->keyword;
    if (IsSecretKeyword(keyword)) {
      return absl::InvalidArgumentError(
          "the database connection string must not carry a password (nor sslpassword); use a "
          "password file");
    }
    if (keyword == "passfile" && !options.password_file.empty()) continue;
    if (keyword == "application_name" || keyword == "fallback_application_name") {
      has_app_name = true;
    }
    keywords.push_back(keyword);
    values.push_back(o->val);
  }
  if (!options.password_file.empty()) {
    keywords.push_back("passfile");
    values.push_back(options.password_file);
  }
  if (!has_app_name) {
    keywords.push_back("fallback_application_name");
    values.push_back("pathway");
  }
  std::unique_ptr<Clock> default_clock;
  if (options.clock == nullptr) default_clock = std::make_unique<RealClock>();
  std::unique_ptr<PgStore> store(
      new PgStore(options, std::move(keywords), std::move(values), std::move(default_clock)));
  log::Info("store_connecting", {{"engine", "postgresql"},
                                 {"conninfo", RedactConninfo(options.conninfo)},
                                 {"pool", options.pool_size}});
  RETURN_IF_ERROR(store->ConnectFirst(absl::Now() + options.migration_timeout));
  RETURN_IF_ERROR(store->ApplyMigrations(options.migrations, options.migration_timeout));
  log::Info("store_open", {{"engine", "postgresql"},
                           {"pool", options.pool_size},
                           {"migrations", options.migrations.size()}});
  return store;
}

PgStore::~PgStore() {
  absl::MutexLock lock(&mu_);
  free_.clear();
  pool_.clear();
}

std::string PgStore::RedactConninfo(const std::string& conninfo) {
  char* err = nullptr;
  ConninfoPtr parsed(PQconninfoParse(conninfo.c_str(), &err));
  if (parsed == nullptr) {
    PQfreemem(err);
    return "<malformed>";
  }
  std::vector<std::string> parts;
  for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    const absl::string_view keyword = o->keyword;
    if (IsSecretKeyword(keyword)) {
      parts.push_back(absl::StrCat(keyword, "=<redacted>"));
    } else {
      parts.push_back(absl::StrCat(keyword, "=", QuoteConninfoValue(o->val)));
    }
  }
  return absl::StrJoin(parts, " ");
}

absl::Status PgStore::ConnectFirst(absl::Time real_deadline) {
  ASSIGN_OR_RETURN(Connection* c, Acquire(real_deadline));
  absl::Status status = c->Connect(real_deadline);
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    ++stats_.connects;
  } else if (!c->connect_error().empty()) {
    // Open's caller is the operator starting a service: say why (a wrong
    // address, certificate or password), as the log line does.
    status = absl::Status(status.code(),
                          absl::StrCat("cannot connect to the database: ", c->connect_error()));
  }
  Release(c);
  return status;
}

absl::Time PgStore::RealDeadline(absl::Time deadline) const {
  if (deadline == absl::InfiniteFuture()) return absl::Now() + default_timeout_;
  return absl::Now() + (deadline - clock_->Now());
}

absl::StatusOr<PgStore::Connection*> PgStore::Acquire(absl::Time real_deadline) {
  absl::MutexLock lock(&mu_);
  auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !free_.empty(); };
  if (!mu_.AwaitWithDeadline(absl::Condition(&available), real_deadline)) {
    log::Warning("store_pool_exhausted", {{"pool", pool_.size()}});
    return absl::UnavailableError("database busy; retry later");
  }
  Connection* c = free_.back();
  free_.pop_back();
  return c;
}

void PgStore::Release(Connection* c) {
  // A connection left inside a transaction (an error while ending it) is not
  // handed out again as it is.
  if (c->InTransaction()) c->Close();
  absl::MutexLock lock(&mu_);
  free_.push_back(c);
}

absl::StatusOr<PgStore::Connection*> PgStore::AcquireAndBegin(absl::string_view begin_sql,
                                                            absl::Time real_deadline) {
  ASSIGN_OR_RETURN(Connection* c, Acquire(real_deadline));
  for (int attempt = 0;; ++attempt) {
    const bool reused = c->connected() && c->used();
    if (!c->connected()) {
      absl::Status s = c->Connect(real_deadline);
      if (!s.ok()) {
        Release(c);
        return s;
      }
      absl::MutexLock lock(&mu_);
      ++stats_.connects;
    }
    absl::StatusOr<ResultPtr> r = c->Simple(std::string(begin_sql), real_deadline);
    if (r.ok()) {
      c->set_used();
      return c;
    }
    // A pooled connection that died while idle (server restarted, failover):
    // nothing has run yet, so connect afresh once.
    if (reused && attempt == 0 && !c->connected()) continue;
    Release(c);
    return r.status();
  }
}

absl::Status PgStore::Write(const std::function<absl::Status(Transaction&)>& fn,
                            absl::Time deadline) {
  if (clock_->Now() >= deadline) {
    return absl::DeadlineExceededError("deadline exceeded before the write started");
  }
  const absl::Time real_deadline = RealDeadline(deadline);
  thread_local absl::BitGen bitgen;
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(Connection* c,
                     AcquireAndBegin("BEGIN ISOLATION LEVEL SERIALIZABLE", real_deadline));
    Tx tx(c, real_deadline);
    const absl::Status fn_status = fn(tx);
    absl::Status result;
    bool retry = false;
    if (!tx.connection_failure().ok()) {
      result = tx.connection_failure();
    } else if (!c->connected()) {
      result = absl::UnavailableError("database unavailable; retry later");
    } else if (tx.retryable() || !fn_status.ok()) {
      c->Simple("ROLLBACK", real_deadline).IgnoreError();
      retry = tx.retryable();
      result = fn_status;
    } else {
      absl::StatusOr<ResultPtr> r = c->Simple("COMMIT", real_deadline);
      if (!r.ok() && c->last_retryable()) {
        retry = true;  // a serialisation failure detected at commit
      } else if (!r.ok()) {
        log::Error("store_commit_failed", {{"code", absl::StatusCodeToString(r.status().code())}});
        result = absl::UnavailableError("write not committed; retry");
      } else if (std::strcmp(PQcmdStatus(r->get()), "COMMIT") != 0) {
        log::Error("store_commit_failed", {{"command", PQcmdStatus(r->get())}});
        result = absl::UnavailableError("write not committed; retry");
      } else {
        absl::MutexLock lock(&mu_);
        ++stats_.commits;
      }
    }
    Release(c);
    if (!retry) return result;
    const absl::Duration backoff =
        std::min(kRetryBackoffMax, kRetryBackoffBase * (int64_t{1} << std::min(attempt, 6))) *
        absl::Uniform(bitgen, 0.5, 1.5);
    if (absl::Now() + backoff >= real_deadline) {
      log::Warning("store_conflict_gave_up", {{"attempts", attempt + 1}});
      return absl::UnavailableError("write conflicted with concurrent writes; retry");
    }
    {
      absl::MutexLock lock(&mu_);
      ++stats_.retries;
    }
    absl::SleepFor(backoff);
  }
}

absl::Status PgStore::Read(const std::function<absl::Status(ReadTransaction&)>& fn) {
  const absl::Time real_deadline = absl::Now() + default_timeout_;
  ASSIGN_OR_RETURN(Connection* c, AcquireAndBegin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                                                  real_deadline));
  Tx tx(c, real_deadline);
  absl::Status status = fn(tx);
  if (!tx.connection_failure().ok()) {
    status = tx.connection_failure();
  } else if (c->connected()) {
    absl::StatusOr<ResultPtr> end = c->Simple("ROLLBACK", real_deadline);  // read-only
    if (status.ok() && !end.ok()) status = end.status();
  }
  Release(c);
  absl::MutexLock lock(&mu_);
  ++stats_.reads;
  return status;
}

PgStore::Stats PgStore::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

absl::Status PgStore::ApplyMigrations(const std::vector<Migration>& migrations,
                                      absl::Duration timeout) {
  ASSIGN_OR_RETURN(MigrationPlan plan, PlanMigrations(migrations));
  const absl::Time real_deadline = absl::Now() + timeout;
  // READ COMMITTED: after waiting for the lock, each statement sees what a
  // replica that migrated first committed.
  ASSIGN_OR_RETURN(Connection* c,
                   AcquireAndBegin("BEGIN ISOLATION LEVEL READ COMMITTED", real_deadline));
  Tx tx(c, real_deadline);
  MigrationEngine engine;
  engine.create_table_sql =
      "CREATE TABLE IF NOT EXISTS schema_migrations("
      "component TEXT NOT NULL, version BIGINT NOT NULL, "
      "applied_at_us BIGINT NOT NULL, PRIMARY KEY(component, version))";
  engine.step_sql = [](const Migration& m) -> const std::string& {
    return m.postgresql_sql.empty() ? m.sql : m.postgresql_sql;
  };
  engine.exec_script = [c, real_deadline](const std::string& sql) {
    return c->Simple(sql, real_deadline).status();
  };
  engine.keep_transient_step_failures = true;
  absl::Status status =
      c->Simple(absl::StrCat("SELECT pg_advisory_xact_lock(", kMigrationLockKey, ")"),
                real_deadline)
          .status();
  if (status.ok()) status = ApplyMigrationPlan(plan, engine, *clock_, tx);
  if (status.ok()) {
    absl::StatusOr<ResultPtr> r = c->Simple("COMMIT", real_deadline);
    if (!r.ok()) {
      status = r.status();
    } else if (std::strcmp(PQcmdStatus(r->get()), "COMMIT") != 0) {
      status = absl::UnavailableError("migrations not committed; retry");
    }
  } else if (c->connected()) {
    c->Simple("ROLLBACK", real_deadline).IgnoreError();
  }
  Release(c);
  return status;
}

}  // namespace pathway
