// PostgreSQL-only behaviour of PgStore; the behaviour shared with SqliteStore
// is in store_contract.h.
#include "common/store/pg_store.h"

#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"
#include "common/store/testing_postgres.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

using test::TestingPostgres;

const std::vector<Migration> kSchema = {
    {"pgtest", 1,
     "CREATE TABLE counters(name TEXT PRIMARY KEY, n BIGINT NOT NULL);"
     "INSERT INTO counters(name, n) VALUES('c', 0)",
     ""},
};

// Creates a fresh database and returns its connection string; its name goes
// to `*name` when given.
std::string NewDatabase(TestingPostgres& server, std::string* name = nullptr) {
  static std::atomic<int> next{0};
  const std::string db = absl::StrCat("pgtest_", next++);
  if (name != nullptr) *name = db;
  absl::StatusOr<std::string> conninfo = server.CreateDatabase(db);
  EXPECT_TRUE(conninfo.ok()) << conninfo.status();
  return conninfo.ok() ? *conninfo : "";
}

TestingPostgres& Shared() {
  absl::StatusOr<TestingPostgres*> server = TestingPostgres::Shared();
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    std::abort();
  }
  return **server;
}

std::unique_ptr<PgStore> OpenOrDie(PgStoreOptions options) {
  absl::StatusOr<std::unique_ptr<PgStore>> store = PgStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

absl::Status Increment(Store& store, absl::Time deadline = absl::InfiniteFuture()) {
  return store.Write(
      [](Transaction& tx) {
        return tx.Exec("UPDATE counters SET n = n + 1 WHERE name = ?", {std::string("c")});
      },
      deadline);
}

absl::StatusOr<int64_t> Counter(Store& store) {
  int64_t n = -1;
  absl::Status s = store.Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT n FROM counters"));
    n = rows.at(0).GetInt(0);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return n;
}

TEST(PgInternalTest, RewritesPlaceholdersOutsideLiteralsAndComments) {
  int n = -1;
  EXPECT_EQ(pg_internal::RewritePlaceholders("SELECT a FROM t WHERE b = ? AND c = ?", &n),
            "SELECT a FROM t WHERE b = $1 AND c = $2");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(pg_internal::RewritePlaceholders(
                "SELECT '?', 'it''s ?', \"odd?\" FROM t -- what?\nWHERE x = ? /* ? */ AND y = ?",
                &n),
            "SELECT '?', 'it''s ?', \"odd?\" FROM t -- what?\nWHERE x = $1 /* ? */ AND y = $2");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(pg_internal::RewritePlaceholders("SELECT 1", &n), "SELECT 1");
  EXPECT_EQ(n, 0);
  EXPECT_EQ(pg_internal::RewritePlaceholders("SELECT 'unterminated ?", &n),
            "SELECT 'unterminated ?");
  EXPECT_EQ(n, 0);
}

TEST(PgInternalTest, NumericIsInt64WhenIntegral) {
  EXPECT_EQ(pg_internal::ParseNumeric("42"), Value(int64_t{42}));
  EXPECT_EQ(pg_internal::ParseNumeric("-7.000"), Value(int64_t{-7}));
  EXPECT_EQ(pg_internal::ParseNumeric("2.5"), Value(2.5));
  EXPECT_EQ(pg_internal::ParseNumeric("99999999999999999999"), Value(1e20));
}

TEST(PgStoreOptionsTest, PasswordInConninfoIsRefusedAndNeverLogged) {
  for (const char* conninfo : {"postgresql://u:hunter2@localhost/db",
                               "host=localhost dbname=db password=hunter2",
                               "host=localhost dbname=db sslmode=verify-full sslkey=/k.pem "
                               "sslpassword=hunter2"}) {
    PgStoreOptions options;
    options.conninfo = conninfo;
    absl::StatusOr<std::unique_ptr<PgStore>> store = PgStore::Open(options);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(absl::StrContains(store.status().message(), "hunter2"));
    const std::string redacted = PgStore::RedactConninfo(conninfo);
    EXPECT_FALSE(absl::StrContains(redacted, "hunter2")) << redacted;
    EXPECT_TRUE(absl::StrContains(redacted, "password=<redacted>")) << redacted;
  }
  PgStoreOptions bad;
  bad.conninfo = "host=x password='unterminated";
  absl::StatusOr<std::unique_ptr<PgStore>> store = PgStore::Open(bad);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(absl::StrContains(store.status().message(), "unterminated"));
  bad.conninfo = "host=x";
  bad.pool_size = 0;
  EXPECT_EQ(PgStore::Open(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PgStoreTest, ColumnsMapByType) {
  PgStoreOptions options;
  options.conninfo = NewDatabase(Shared());
  std::unique_ptr<PgStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  absl::Status s = store->Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        tx.Query("SELECT CAST(1 AS SMALLINT), CAST(2 AS INTEGER), CAST(3 AS BIGINT), TRUE, FALSE, "
                 "CAST(4.000 AS NUMERIC), CAST(2.5 AS NUMERIC), CAST(1.5 AS REAL), "
                 "CAST('v' AS VARCHAR(3)), CAST(NULL AS BIGINT), CAST('ab' AS BYTEA), "
                 "CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION)",
                 {std::string("t"), 0.25}));
    const Row& r = rows.at(0);
    EXPECT_EQ(r.Get(0), Value(int64_t{1}));
    EXPECT_EQ(r.Get(1), Value(int64_t{2}));
    EXPECT_EQ(r.Get(2), Value(int64_t{3}));
    EXPECT_EQ(r.Get(3), Value(int64_t{1}));
    EXPECT_EQ(r.Get(4), Value(int64_t{0}));
    EXPECT_EQ(r.Get(5), Value(int64_t{4}));
    EXPECT_EQ(r.Get(6), Value(2.5));
    EXPECT_EQ(r.Get(7), Value(1.5));
    EXPECT_EQ(r.Get(8), Value(std::string("v")));
    EXPECT_TRUE(r.IsNull(9));
    EXPECT_EQ(r.Get(10), Value(Blob{"ab"}));
    EXPECT_EQ(r.Get(11), Value(std::string("t")));
    EXPECT_EQ(r.Get(12), Value(0.25));
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  absl::Status w = store->Write([&](Transaction& tx) -> absl::Status {
    EXPECT_EQ(tx.LastInsertId(), -1);  // SQLite only
    return absl::OkStatus();
  });
  EXPECT_TRUE(w.ok()) << w;
}

TEST(PgStoreTest, SerializationConflictIsRetriedTransparently) {
  PgStoreOptions options;
  options.conninfo = NewDatabase(Shared());
  options.migrations = kSchema;
  std::unique_ptr<PgStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  int runs = 0;
  absl::Status s = store->Write([&](Transaction& tx) -> absl::Status {
    ++runs;
    ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT n FROM counters WHERE name = 'c'"));
    const int64_t n = rows.at(0).GetInt(0);
    if (runs == 1) {
      // Another replica commits a change to the row after this snapshot.
      std::thread other([&] {
        absl::Status o = store->Write([](Transaction& tx2) {
          return tx2.Exec("UPDATE counters SET n = n + 100 WHERE name = 'c'");
        });
        EXPECT_TRUE(o.ok()) << o;
      });
      other.join();
    }
    return tx.Exec("UPDATE counters SET n = ? WHERE name = 'c'", {n + 1});
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(store->stats().retries, 1);
  absl::StatusOr<int64_t> n = Counter(*store);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 101);  // the other write is not lost
}

// The audit chain's pattern: read the head, insert head + 1. When another
// replica inserted that key after this transaction's snapshot, PostgreSQL's
// serialisable isolation reports a serialization failure (not the unique
// violation), because the key was read first; the store runs the function
// again, which then chains after the other row. Never ALREADY_EXISTS.
TEST(PgStoreTest, AKeyTakenConcurrentlyAfterItWasReadIsRetriedNotAlreadyExists) {
  PgStoreOptions options;
  options.conninfo = NewDatabase(Shared());
  options.migrations = {{"pgtest", 1, "CREATE TABLE chain(seq BIGINT PRIMARY KEY)", ""}};
  std::unique_ptr<PgStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  std::unique_ptr<PgStore> replica = OpenOrDie(options);
  ASSERT_NE(replica, nullptr);
  auto append = [](Transaction& tx) -> absl::StatusOr<int64_t> {
    ASSIGN_OR_RETURN(std::vector<Row> head,
                     tx.Query("SELECT seq FROM chain ORDER BY seq DESC LIMIT 1"));
    const int64_t next = head.empty() ? 1 : head[0].GetInt(0) + 1;
    RETURN_IF_ERROR(tx.Exec("INSERT INTO chain(seq) VALUES(?)", {next}));
    return next;
  };
  ASSERT_TRUE(store->Write([&](Transaction& tx) { return append(tx).status(); }).ok());
  int runs = 0;
  int64_t written = 0;
  absl::Status s = store->Write([&](Transaction& tx) -> absl::Status {
    ++runs;
    ASSIGN_OR_RETURN(std::vector<Row> head,
                     tx.Query("SELECT seq FROM chain ORDER BY seq DESC LIMIT 1"));
    const int64_t next = head.at(0).GetInt(0) + 1;
    if (runs == 1) {
      // The other replica appends the same next seq and commits first.
      absl::Status o = replica->Write([&](Transaction& tx2) { return append(tx2).status(); });
      EXPECT_TRUE(o.ok()) << o;
    }
    written = next;
    return tx.Exec("INSERT INTO chain(seq) VALUES(?)", {next});
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(store->stats().retries, 1);
  EXPECT_EQ(written, 3) << "the retry chained after the other replica's row";
}

TEST(PgStoreTest, StatementStillRunningAtTheDeadlineIsAbandoned) {
  PgStoreOptions options;
  options.conninfo = NewDatabase(Shared());
  options.migrations = kSchema;
  options.default_timeout = absl::Milliseconds(500);
  std::unique_ptr<PgStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  const absl::Time start = absl::Now();
  absl::Status s = store->Write(
      [](Transaction& tx) {
        RETURN_IF_ERROR(tx.Exec("UPDATE counters SET n = 50 WHERE name = 'c'"));
        return tx.Query("SELECT pg_sleep(30)").status();
      },
      absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  // A Read has the default deadline.
  s = store->Read([](ReadTransaction& tx) { return tx.Query("SELECT pg_sleep(30)").status(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // Nothing of the abandoned write was kept, and the store carries on.
  EXPECT_TRUE(Increment(*store).ok());
  absl::StatusOr<int64_t> n = Counter(*store);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
}

TEST(PgStoreTest, HungServerGivesAnErrorWithinTheDeadline) {
  PgStoreOptions options;
  options.conninfo = NewDatabase(Shared());
  options.migrations = kSchema;
  options.pool_size = 1;
  std::unique_ptr<PgStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  int64_t backend = 0;
  absl::Status s = store->Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT pg_backend_pid()"));
    backend = rows.at(0).GetInt(0);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_GT(backend, 0);
  ASSERT_EQ(kill(static_cast<pid_t>(backend), SIGSTOP), 0);
  const absl::Time start = absl::Now();
  s = Increment(*store, absl::Now() + absl::Milliseconds(400));
  const absl::Duration took = absl::Now() - start;
  kill(static_cast<pid_t>(backend), SIGCONT);
  EXPECT_TRUE(absl::IsDeadlineExceeded(s) || absl::IsUnavailable(s)) << s;
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_TRUE(Increment(*store).ok());
}

TEST(PgStoreTest, KilledServerGivesUnavailableAndTheStoreRecovers) {
  absl::StatusOr<std::unique_ptr<TestingPostgres>> server = TestingPostgres::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  PgStoreOptions options;
  options.conninfo = NewDatabase(**server);
  options.migrations = kSchema;
  options.pool_size = 4;
  options.connect_timeout = absl::Seconds(1);
  options.default_timeout = absl::Seconds(2);
  std::unique_ptr<PgStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Increment(*store).ok());

  ASSERT_TRUE((*server)->Stop().ok());
  const absl::Time start = absl::Now();
  absl::Status s = Increment(*store, absl::Now() + absl::Seconds(1));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_TRUE(absl::IsUnavailable(Counter(*store).status()));
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));

  ASSERT_TRUE((*server)->StartAgain().ok());
  const int64_t connects = store->stats().connects;
  s = Increment(*store);
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<int64_t> n = Counter(*store);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
  EXPECT_GT(store->stats().connects, connects);
}

TEST(PgStoreTest, ConnectionToAReadOnlyServerIsDroppedAndRemade) {
  TestingPostgres& server = Shared();
  PgStoreOptions options;
  std::string db;
  options.conninfo = NewDatabase(server, &db);
  options.migrations = kSchema;
  options.pool_size = 1;
  std::unique_ptr<PgStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  // New sessions on the database now start read-only, as on a standby.
  ASSERT_TRUE(server.RunSql(absl::StrCat("ALTER DATABASE ", db, " SET default_transaction_read_only = on")).ok());
  ASSERT_TRUE(server.RunSql(absl::StrCat(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '", db, "'")).ok());
  absl::Status s = Increment(*store);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  // The "failover" completes: the next call connects afresh and writes.
  ASSERT_TRUE(server.RunSql(absl::StrCat("ALTER DATABASE ", db, " SET default_transaction_read_only = off")).ok());
  const int64_t connects = store->stats().connects;
  s = Increment(*store);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_GT(store->stats().connects, connects);
}

TEST(PgStoreTest, SeveralHostsConnectToTheOneThatAnswers) {
  TestingPostgres& server = Shared();
  std::string db;
  NewDatabase(server, &db);
  PgStoreOptions options;
  options.conninfo = absl::StrCat("host=/nonexistent-pathway-dir,", server.socket_dir(),
                                  " port=", server.port(), ",", server.port(), " dbname=", db,
                                  " user=postgres target_session_attrs=read-write");
  options.migrations = kSchema;
  std::unique_ptr<PgStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(Increment(*store).ok());
}

TEST(PgStoreTest, ConcurrentOpensApplyEachMigrationOnce) {
  PgStoreOptions options;
  options.conninfo = NewDatabase(Shared());
  options.migrations = kSchema;
  options.migrations.push_back({"pgtest", 2, "CREATE TABLE later(k TEXT PRIMARY KEY)", ""});
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<std::unique_ptr<PgStore>> store = PgStore::Open(options);
      if (!store.ok()) {
        ADD_FAILURE() << store.status();
        ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::unique_ptr<PgStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  absl::Status s = store->Read([](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT COUNT(*) FROM schema_migrations"));
    EXPECT_EQ(rows.at(0).GetInt(0), 2);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<int64_t> n = Counter(*store);  // v1's INSERT ran once
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0);
}

TEST(PgStoreTest, PasswordComesFromThePasswordFileAndIsNeverLogged) {
  TestingPostgres& server = Shared();
  const std::string password = "pw-for-tests-only-7Qx";
  ASSERT_TRUE(server.CreatePasswordRole("pathway_pw", password).ok());
  absl::StatusOr<std::string> conninfo = server.CreateDatabase("pgtest_pw", "pathway_pw");
  ASSERT_TRUE(conninfo.ok()) << conninfo.status();

  absl::Mutex mu;
  std::vector<std::string> lines;
  log::SetMinLevel(log::Level::kDebug);
  log::SetSinkForTesting([&](absl::string_view line) {
    absl::MutexLock lock(&mu);
    lines.emplace_back(line);
  });

  ScopedTempDir dir;
  PgStoreOptions options;
  options.conninfo = *conninfo;
  options.migrations = kSchema;
  options.password_file = dir.File("missing.pgpass");
  EXPECT_TRUE(absl::IsUnavailable(PgStore::Open(options).status()));

  options.password_file = dir.File("pgpass");
  {
    std::ofstream out(options.password_file);
    out << "*:*:pgtest_pw:pathway_pw:" << password << "\n";
  }
  ASSERT_EQ(chmod(options.password_file.c_str(), 0600), 0);
  std::unique_ptr<PgStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(Increment(*store).ok());
  store.reset();

  log::Flush();
  log::SetSinkForTesting(nullptr);
  log::SetMinLevel(log::Level::kInfo);
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(lines.empty());
  for (const std::string& line : lines) {
    EXPECT_FALSE(absl::StrContains(line, password)) << line;
  }
}

}  // namespace
}  // namespace pathway
