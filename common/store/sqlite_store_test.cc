#include "common/store/sqlite_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/clock/clock.h"
#include "common/status/status_macros.h"
#include "common/store/store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

const std::vector<Migration> kSchema = {
    {"test", 1, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"},
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStore> OpenStore(std::vector<Migration> migrations = kSchema,
                                         const Clock* clock = nullptr) {
    SqliteStoreOptions options;
    options.path = dir_.File("store.db");
    options.migrations = std::move(migrations);
    options.clock = clock;
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static absl::Status Insert(Store& store, int64_t id, const std::string& v = "x") {
    return store.Write([&](Transaction& tx) {
      return tx.Exec("INSERT INTO t(id, v) VALUES(?, ?)", {id, v});
    });
  }

  static int64_t Count(Store& store, const std::string& table = "t") {
    int64_t n = -1;
    absl::Status s = store.Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT COUNT(*) FROM " + table));
      n = rows.at(0).GetInt(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return n;
  }

  ScopedTempDir dir_;
};

// Holds the writer thread inside a Write so that later Writes queue up and
// are taken as one batch once it is released.
class WriterBlocker {
 public:
  explicit WriterBlocker(Store& store) {
    thread_ = std::thread([this, &store] {
      status_ = store.Write([this](Transaction&) {
        started_.Notify();
        release_.WaitForNotification();
        return absl::OkStatus();
      });
    });
    started_.WaitForNotification();
  }
  ~WriterBlocker() { Release().IgnoreError(); }
  absl::Status Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  absl::Notification started_;
  absl::Notification release_;
  absl::Status status_;
  std::thread thread_;
};

TEST(RowTest, LenientGetters) {
  Row row({std::monostate(), int64_t{7}, 2.5, std::string("txt"), Blob{"b"}});
  EXPECT_EQ(row.size(), 5);
  EXPECT_TRUE(row.IsNull(0));
  EXPECT_FALSE(row.IsNull(1));
  EXPECT_EQ(row.GetInt(0), 0);
  EXPECT_EQ(row.GetString(0), "");
  EXPECT_EQ(row.GetInt(1), 7);
  EXPECT_EQ(row.GetDouble(1), 7.0);
  EXPECT_EQ(row.GetInt(2), 2);
  EXPECT_EQ(row.GetString(3), "txt");
  EXPECT_EQ(row.GetString(4), "b");
}

TEST(RowDeathTest, OutOfRangeAborts) {
  Row row({int64_t{1}});
  EXPECT_DEATH(row.GetInt(1), "out of range");
}

TEST_F(SqliteStoreTest, RoundTripsEveryValueType) {
  auto store = OpenStore({{"test", 1, "CREATE TABLE v(k INTEGER PRIMARY KEY, x)"}});
  ASSERT_NE(store, nullptr);
  const std::string zeros("a\0b\0\0c", 6);
  const std::vector<Value> values = {
      std::monostate(),
      int64_t{0},
      INT64_MIN,
      INT64_MAX,
      -1.25,
      std::string(""),
      std::string("plain text"),
      std::string("\xE6\x88\x92\xE6\xAF\x92"),  // UTF-8
      Blob{""},
      Blob{zeros},
      Blob{std::string(1000, '\0')},
  };
  ASSERT_TRUE(store
                  ->Write([&](Transaction& tx) -> absl::Status {
                    for (size_t i = 0; i < values.size(); ++i) {
                      RETURN_IF_ERROR(tx.Exec("INSERT INTO v(k, x) VALUES(?, ?)",
                                              {static_cast<int64_t>(i), values[i]}));
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  std::vector<Row> rows;
  std::vector<std::string> types;
  ASSERT_TRUE(store
                  ->Read([&](ReadTransaction& tx) -> absl::Status {
                    ASSIGN_OR_RETURN(rows, tx.Query("SELECT x, typeof(x) FROM v ORDER BY k"));
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(rows[i].Get(0), values[i]) << "row " << i;
  }
  EXPECT_TRUE(rows[0].IsNull(0));
  EXPECT_EQ(rows[8].GetString(1), "blob");  // an empty Blob is not NULL
  EXPECT_EQ(rows[9].GetString(0), zeros);
  EXPECT_EQ(rows[9].GetString(0).size(), 6u);
}

TEST_F(SqliteStoreTest, LastInsertIdAndChangedRows) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Write([](Transaction& tx) -> absl::Status {
                    RETURN_IF_ERROR(tx.Exec("INSERT INTO t(v) VALUES('a')"));
                    EXPECT_EQ(tx.LastInsertId(), 1);
                    EXPECT_EQ(tx.ChangedRows(), 1);
                    RETURN_IF_ERROR(tx.Exec("INSERT INTO t(v) VALUES('b')"));
                    EXPECT_EQ(tx.LastInsertId(), 2);
                    RETURN_IF_ERROR(tx.Exec("UPDATE t SET v = 'c'"));
                    EXPECT_EQ(tx.ChangedRows(), 2);
                    RETURN_IF_ERROR(tx.Exec("DELETE FROM t WHERE id = ?", {int64_t{9}}));
                    EXPECT_EQ(tx.ChangedRows(), 0);
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_F(SqliteStoreTest, FailingWriteRollsBackOnlyItselfInASharedBatch) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  WriterBlocker blocker(*store);
  const int64_t commits_before = store->stats().commits;

  absl::Status a, b, c;
  std::thread ta([&] { a = Insert(*store, 1); });
  store->AwaitQueuedForTesting(1);
  std::thread tb([&] {
    b = store->Write([](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO t(id, v) VALUES(2, 'b')"));
      RETURN_IF_ERROR(tx.Exec("INSERT INTO t(id, v) VALUES(20, 'b')"));
      return absl::FailedPreconditionError("rule says no");
    });
  });
  store->AwaitQueuedForTesting(2);
  std::thread tc([&] { c = Insert(*store, 3); });
  store->AwaitQueuedForTesting(3);
  ASSERT_TRUE(blocker.Release().ok());
  ta.join();
  tb.join();
  tc.join();

  EXPECT_TRUE(a.ok()) << a;
  EXPECT_EQ(b, absl::FailedPreconditionError("rule says no"));
  EXPECT_TRUE(c.ok()) << c;
  // The blocker's batch and then one batch holding a, b and c.
  EXPECT_EQ(store->stats().commits - commits_before, 2);
  std::vector<int64_t> ids;
  ASSERT_TRUE(store
                  ->Read([&](ReadTransaction& tx) {
                    return tx.QueryEach("SELECT id FROM t ORDER BY id", {}, [&](const Row& r) {
                      ids.push_back(r.GetInt(0));
                      return true;
                    });
                  })
                  .ok());
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 3}));
}

TEST_F(SqliteStoreTest, ConstraintViolationIsAlreadyExistsAndLeavesTransactionUsable) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Insert(*store, 1).ok());
  absl::Status dup = Insert(*store, 1);
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message().find("UNIQUE"), absl::string_view::npos);
  EXPECT_EQ(dup.message().find("INSERT"), absl::string_view::npos);

  // Only the statement fails; the function may carry on.
  ASSERT_TRUE(store
                  ->Write([](Transaction& tx) -> absl::Status {
                    absl::Status s = tx.Exec("INSERT INTO t(id, v) VALUES(1, 'again')");
                    EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
                    return tx.Exec("INSERT INTO t(id, v) VALUES(2, 'new')");
                  })
                  .ok());
  EXPECT_EQ(Count(*store), 2);
}

TEST_F(SqliteStoreTest, OtherSqlErrorsAreGenericInternal) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::Status s = store->Write([](Transaction& tx) { return tx.Exec("INSERT INTO nope VALUES(1)"); });
  EXPECT_EQ(s, absl::InternalError("internal storage error"));
  s = store->Read([](ReadTransaction& tx) { return tx.Query("SELEC 1").status(); });
  EXPECT_EQ(s, absl::InternalError("internal storage error"));
  // Wrong number of parameters.
  s = store->Write([](Transaction& tx) { return tx.Exec("INSERT INTO t(id, v) VALUES(?, ?)", {int64_t{1}}); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  // Two statements in one call.
  s = store->Write([](Transaction& tx) { return tx.Exec("INSERT INTO t(id) VALUES(1); DELETE FROM t"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Count(*store), 0);
}

TEST_F(SqliteStoreTest, FunctionsCannotControlTransactionsOrRunPragmas) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (const char* sql : {"COMMIT", "BEGIN", "SAVEPOINT x", "ROLLBACK", "PRAGMA foreign_keys=OFF",
                          "ATTACH DATABASE 'x.db' AS x"}) {
    absl::Status s = store->Write([&](Transaction& tx) { return tx.Exec(sql); });
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << sql;
  }
  absl::Status s = store->Read([](ReadTransaction& tx) { return tx.Query("PRAGMA query_only=OFF").status(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  // Readers cannot write.
  s = store->Read([](ReadTransaction& tx) { return tx.Query("INSERT INTO t(id) VALUES(5)").status(); });
  EXPECT_FALSE(s.ok());
  // The store still works afterwards.
  EXPECT_TRUE(Insert(*store, 1).ok());
  EXPECT_EQ(Count(*store), 1);
}

TEST_F(SqliteStoreTest, NestedWriteFailsInsteadOfDeadlocking) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::Status inner;
  ASSERT_TRUE(store
                  ->Write([&](Transaction&) {
                    inner = store->Write([](Transaction&) { return absl::OkStatus(); });
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(inner.code(), absl::StatusCode::kInternal);
}

TEST_F(SqliteStoreTest, ConcurrentWritesAreGroupedAndAllLand) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  {
    // Hold the writer until every thread has a Write queued, so grouping
    // happens whatever the speed of fsync on this machine.
    WriterBlocker blocker(*store);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          if (!Insert(*store, t * 1000 + i).ok()) ++failures;
        }
      });
    }
    store->AwaitQueuedForTesting(kThreads);
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(*store), kThreads * kPerThread);
  SqliteStore::Stats stats = store->stats();
  EXPECT_EQ(stats.writes, kThreads * kPerThread + 1);
  EXPECT_LT(stats.commits, stats.writes);
  EXPECT_EQ(stats.failed_commits, 0);
}

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(Insert(*store, 42, "kept").ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::string v;
  ASSERT_TRUE(store
                  ->Read([&](ReadTransaction& tx) -> absl::Status {
                    ASSIGN_OR_RETURN(std::vector<Row> rows,
                                     tx.Query("SELECT v FROM t WHERE id = ?", {int64_t{42}}));
                    if (rows.size() != 1) return absl::NotFoundError("missing");
                    v = rows[0].GetString(0);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(v, "kept");
}

TEST_F(SqliteStoreTest, DestructorCompletesQueuedWrites) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  {
    WriterBlocker blocker(*store);
    for (int i = 0; i < 5; ++i) {
      threads.emplace_back([&, i] {
        if (Insert(*store, i).ok()) ++ok;
      });
    }
    store->AwaitQueuedForTesting(5);
  }
  for (auto& t : threads) t.join();
  store.reset();
  EXPECT_EQ(ok.load(), 5);
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(Count(*reopened), 5);
}

TEST_F(SqliteStoreTest, BackupWhileWritingIsAConsistentPrefix) {
  std::unique_ptr<SqliteStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  // The writer commits ids 1, 2, 3, ... one Write each, until told to stop.
  std::atomic<int64_t> committed{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int64_t id = 1; !stop.load(); ++id) {
      if (!Insert(*store, id, std::string(200, 'v')).ok()) return;
      committed.store(id);
    }
  });
  while (committed.load() < 50) std::this_thread::yield();
  const int64_t before = committed.load();
  const std::string path = dir_.File("backup.db");
  absl::Status backup = store->BackupTo(path);
  const int64_t settled_floor = committed.load();
  // The writer kept committing during and after the backup.
  while (committed.load() < settled_floor + 50) std::this_thread::yield();
  stop.store(true);
  writer.join();
  ASSERT_TRUE(backup.ok()) << backup;

  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::string integrity;
  ASSERT_EQ(sqlite3_exec(
                db, "PRAGMA integrity_check",
                [](void* out, int, char** vals, char**) {
                  *static_cast<std::string*>(out) += vals[0] != nullptr ? vals[0] : "";
                  return 0;
                },
                &integrity, nullptr),
            SQLITE_OK);
  sqlite3_close_v2(db);
  EXPECT_EQ(integrity, "ok");

  // The rows are exactly 1..n for one n: a prefix of the writer's sequence.
  int64_t n = -1, min = -1, max = -1;
  absl::Status read = SqliteStore::ReadFile(path, [&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     tx.Query("SELECT COUNT(*), MIN(id), MAX(id) FROM t"));
    n = rows.at(0).GetInt(0);
    min = rows.at(0).GetInt(1);
    max = rows.at(0).GetInt(2);
    return absl::OkStatus();
  });
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_GE(n, before);
  EXPECT_LE(n, settled_floor);
  EXPECT_EQ(min, 1);
  EXPECT_EQ(max, n);
  EXPECT_GT(Count(*store), n);  // the live database went on

  // The read-only file is not changed, and a second backup never overwrites.
  absl::Status write_attempt = SqliteStore::ReadFile(path, [](ReadTransaction& tx) {
    return tx.Query("SELECT 1 FROM t WHERE id = 1").status();
  });
  EXPECT_TRUE(write_attempt.ok()) << write_attempt;
  EXPECT_EQ(store->BackupTo(path).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->BackupTo(dir_.File("missing/backup.db")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteStore::ReadFile(dir_.File("none.db"),
                                  [](ReadTransaction&) { return absl::OkStatus(); })
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, MigrationsAppliedOnceAndInOrder) {
  // v2 is listed first but depends on v1.
  std::vector<Migration> migrations = {
      {"test", 2, "CREATE INDEX t_v ON t(v)"},
      {"test", 1, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"},
      {"other", 1, "CREATE TABLE o(id INTEGER PRIMARY KEY)"},
  };
  {
    auto store = OpenStore(migrations);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(Count(*store, "schema_migrations"), 3);
    ASSERT_TRUE(Insert(*store, 1).ok());
  }
  {
    // Reopening applies nothing again (re-running CREATE TABLE would fail).
    auto store = OpenStore(migrations);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(Count(*store, "schema_migrations"), 3);
    EXPECT_EQ(Count(*store), 1);
  }
  migrations.push_back({"test", 3, "ALTER TABLE t ADD COLUMN w INTEGER"});
  auto store = OpenStore(migrations);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Count(*store, "schema_migrations"), 4);
  EXPECT_TRUE(store->Write([](Transaction& tx) { return tx.Exec("UPDATE t SET w = 1"); }).ok());
}

TEST_F(SqliteStoreTest, RefusesDatabaseNewerThanBinary) {
  {
    auto store = OpenStore({{"test", 1, "CREATE TABLE t(id INTEGER PRIMARY KEY)"},
                            {"test", 2, "CREATE TABLE t2(id INTEGER PRIMARY KEY)"}});
    ASSERT_NE(store, nullptr);
  }
  SqliteStoreOptions options;
  options.path = dir_.File("store.db");
  options.migrations = {{"test", 1, "CREATE TABLE t(id INTEGER PRIMARY KEY)"}};
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  EXPECT_EQ(store.status(), absl::FailedPreconditionError("database schema is newer than this binary"));
  options.migrations = {{"test", 2, "CREATE TABLE t2(id INTEGER PRIMARY KEY)"},
                        {"test", 1, "CREATE TABLE t(id INTEGER PRIMARY KEY)"}};
  EXPECT_TRUE(SqliteStore::Open(options).ok());
  // A component this binary does not know at all counts as newer too.
  options.migrations = {};
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, FailedMigrationAppliesNothing) {
  SqliteStoreOptions options;
  options.path = dir_.File("store.db");
  options.migrations = {{"test", 1, "CREATE TABLE t(id INTEGER PRIMARY KEY)"},
                        {"test", 2, "CREATE TABLE broken("}};
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kInternal);
  options.migrations.pop_back();
  auto store = SqliteStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();  // v1 was rolled back, so it applies now
  EXPECT_EQ(Count(**store, "schema_migrations"), 1);
}

TEST_F(SqliteStoreTest, RejectsBadOptionsAndMigrations) {
  SqliteStoreOptions options;
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.path = dir_.File("store.db");
  options.reader_connections = 0;
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.reader_connections = 1;
  options.migrations = {{"a", 1, "SELECT 1"}, {"a", 1, "SELECT 2"}};
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.migrations = {{"a", 0, "SELECT 1"}};
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.path = dir_.File("no/such/dir/store.db");
  options.migrations = {};
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(SqliteStoreTest, PassedDeadlineIsNotRun) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  bool ran = false;
  absl::Status s = store->Write(
      [&](Transaction&) {
        ran = true;
        return absl::OkStatus();
      },
      absl::Now() - absl::Seconds(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(ran);
}

TEST_F(SqliteStoreTest, DeadlinePassingWhileQueuedIsNotRun) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  auto store = OpenStore(kSchema, &clock);
  ASSERT_NE(store, nullptr);
  std::atomic<bool> ran{false};
  absl::Status s;
  std::thread t;
  {
    WriterBlocker blocker(*store);
    t = std::thread([&] {
      s = store->Write(
          [&](Transaction&) {
            ran = true;
            return absl::OkStatus();
          },
          clock.Now() + absl::Seconds(1));
    });
    store->AwaitQueuedForTesting(1);
    clock.Advance(absl::Seconds(2));
  }
  t.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(ran.load());
}

TEST_F(SqliteStoreTest, QueryEachStopsEarlyAndAllowsNestedQueries) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Write([](Transaction& tx) -> absl::Status {
                    for (int64_t i = 1; i <= 10; ++i) {
                      RETURN_IF_ERROR(tx.Exec("INSERT INTO t(id, v) VALUES(?, ?)", {i, "v"}));
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  int visited = 0;
  int nested_total = 0;
  absl::Status s = store->Read([&](ReadTransaction& tx) {
    return tx.QueryEach("SELECT id FROM t ORDER BY id", {}, [&](const Row& row) {
      ++visited;
      // The same SQL again while its cached statement is in use.
      absl::Status inner = tx.QueryEach("SELECT id FROM t ORDER BY id", {}, [&](const Row&) {
        ++nested_total;
        return true;
      });
      EXPECT_TRUE(inner.ok()) << inner;
      return row.GetInt(0) < 3;
    });
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(visited, 3);
  EXPECT_EQ(nested_total, 30);
  // The statement was reset: the next use starts from the beginning.
  EXPECT_EQ(Count(*store), 10);
}

TEST_F(SqliteStoreTest, ReadsRunWhileAWriteIsInProgress) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::Notification inserted, release;
  absl::Status write_status;
  std::thread writer([&] {
    write_status = store->Write([&](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO t(id, v) VALUES(1, 'pending')"));
      inserted.Notify();
      release.WaitForNotification();
      return absl::OkStatus();
    });
  });
  inserted.WaitForNotification();
  // The write holds the database's write lock; the read neither waits nor
  // sees the uncommitted row.
  EXPECT_EQ(Count(*store), 0);
  release.Notify();
  writer.join();
  EXPECT_TRUE(write_status.ok()) << write_status;
  EXPECT_EQ(Count(*store), 1);
}

TEST_F(SqliteStoreTest, ReadSeesOneSnapshot) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Insert(*store, 1).ok());
  int64_t first = -1, second = -1;
  ASSERT_TRUE(store
                  ->Read([&](ReadTransaction& tx) -> absl::Status {
                    ASSIGN_OR_RETURN(std::vector<Row> a, tx.Query("SELECT COUNT(*) FROM t"));
                    first = a[0].GetInt(0);
                    std::thread other([&] { EXPECT_TRUE(Insert(*store, 2).ok()); });
                    other.join();
                    ASSIGN_OR_RETURN(std::vector<Row> b, tx.Query("SELECT COUNT(*) FROM t"));
                    second = b[0].GetInt(0);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  EXPECT_EQ(Count(*store), 2);
}

TEST_F(SqliteStoreTest, FailedCommitFailsEveryWriteInTheBatch) {
  // A deferred foreign key is checked only at COMMIT, so it makes the commit
  // fail (store.h tells services not to declare them; here it is the tool).
  auto store = OpenStore({{"test", 1,
                           "CREATE TABLE p(id INTEGER PRIMARY KEY);"
                           "CREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id)"
                           " DEFERRABLE INITIALLY DEFERRED)"}});
  ASSERT_NE(store, nullptr);
  absl::Status good, bad;
  std::thread tg, tb;
  {
    WriterBlocker blocker(*store);
    tg = std::thread([&] {
      good = store->Write([](Transaction& tx) { return tx.Exec("INSERT INTO p(id) VALUES(1)"); });
    });
    store->AwaitQueuedForTesting(1);
    tb = std::thread([&] {
      bad = store->Write([](Transaction& tx) { return tx.Exec("INSERT INTO c(id, p) VALUES(1, 99)"); });
    });
    store->AwaitQueuedForTesting(2);
  }
  tg.join();
  tb.join();
  EXPECT_EQ(good.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(bad.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Count(*store, "p"), 0);
  EXPECT_EQ(Count(*store, "c"), 0);
  EXPECT_EQ(store->stats().failed_commits, 1);
  // The store carries on.
  EXPECT_TRUE(store->Write([](Transaction& tx) { return tx.Exec("INSERT INTO p(id) VALUES(1)"); }).ok());
  EXPECT_EQ(Count(*store, "p"), 1);
}

TEST(ValueTest, IntLiteralsAndStringsConvert) {
  std::vector<Value> params = {1, 2.5, "text", std::string("s"), Blob{"b"}, std::monostate()};
  EXPECT_TRUE(std::holds_alternative<int64_t>(params[0]));
  EXPECT_TRUE(std::holds_alternative<double>(params[1]));
  EXPECT_TRUE(std::holds_alternative<std::string>(params[2]));
  EXPECT_TRUE(std::holds_alternative<Blob>(params[4]));
}

TEST_F(SqliteStoreTest, DatabaseIsInWalMode) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  store.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("store.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace pathway
