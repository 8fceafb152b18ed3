#include "common/audit/audit_log.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status/status_macros.h"
#include "common/store/open_store.h"
#include "common/store/pg_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

AuditEntry Entry(int i, const std::string& case_id = "c1", const std::string& subject = "u1") {
  return AuditEntry{kT0 + absl::Seconds(i), subject, "township_caseworker",
                    "/pathway.registry.v1.Registry/GetCase", case_id, "OK"};
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = TestDatabaseUriOrDie("audit");
    store_ = Open();
  }

  // Opens the test's database (again): the SQLite file, or the PostgreSQL database.
  std::unique_ptr<CountingStore> Open() {
    std::vector<Migration> migrations = AuditMigrations();
    migrations.push_back({"test", 1, "CREATE TABLE t(id BIGINT PRIMARY KEY)"});
    OpenStoreOptions where;
    where.default_sqlite_path = path();
    auto store = OpenStore(database_, std::move(migrations), nullptr, where);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::make_unique<CountingStore>(*std::move(store)) : nullptr;
  }

  std::string path() const { return dir_.File("svc.db"); }

  void Append(int from, int to) {
    ASSERT_TRUE(store_
                    ->Write([&](Transaction& tx) -> absl::Status {
                      for (int i = from; i < to; ++i) RETURN_IF_ERROR(AppendAudit(tx, Entry(i)));
                      return absl::OkStatus();
                    })
                    .ok());
  }

  int64_t CountRows(const std::string& table) {
    int64_t n = -1;
    EXPECT_TRUE(store_
                    ->Read([&](ReadTransaction& tx) -> absl::Status {
                      ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT COUNT(*) FROM " + table));
                      n = rows[0].GetInt(0);
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  // Runs SQL on the database directly, bypassing the store, as an attacker with
  // access to the database file or server would: `sqlite_sql` on the closed
  // SQLite file, or `postgres_sql` through libpq on the PostgreSQL database.
  void RawSql(const std::string& sqlite_sql, const std::string& postgres_sql) {
    store_.reset();
    if (TestDatabaseEngine() == "postgres") {
      PGconn* conn = PQconnectdb(database_.c_str());
      ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
      PGresult* r = PQexec(conn, postgres_sql.c_str());
      EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn);
      PQclear(r);
      PQfinish(conn);
    } else {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
      char* err = nullptr;
      EXPECT_EQ(sqlite3_exec(db, sqlite_sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
          << (err ? err : "");
      sqlite3_free(err);
      sqlite3_close(db);
    }
    store_ = Open();
  }

  ScopedTempDir dir_;
  std::string database_;  // "" (SQLite in dir_) or a PostgreSQL URI
  std::unique_ptr<CountingStore> store_;
};

TEST_F(AuditTest, AppendsInTheSameTransactionAsTheWrite) {
  ASSERT_TRUE(store_
                  ->Write([](Transaction& tx) -> absl::Status {
                    RETURN_IF_ERROR(tx.Exec("INSERT INTO t(id) VALUES(1)"));
                    return AppendAudit(tx, Entry(0, "case-7"));
                  })
                  .ok());
  auto rows = ListAudit(*store_, {});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  const AuditRow& r = (*rows)[0];
  EXPECT_EQ(r.seq, 1);
  EXPECT_EQ(r.entry.at, kT0);
  EXPECT_EQ(r.entry.subject, "u1");
  EXPECT_EQ(r.entry.role, "township_caseworker");
  EXPECT_EQ(r.entry.action, "/pathway.registry.v1.Registry/GetCase");
  EXPECT_EQ(r.entry.case_id, "case-7");
  EXPECT_EQ(r.entry.outcome, "OK");
  EXPECT_EQ(r.prev_hash, std::string(32, '\0'));
  EXPECT_EQ(r.hash.size(), 32u);
}

TEST_F(AuditTest, RolledBackWriteLeavesNoAuditRow) {
  absl::Status s = store_->Write([](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO t(id) VALUES(1)"));
    RETURN_IF_ERROR(AppendAudit(tx, Entry(0)));
    return absl::FailedPreconditionError("transition not allowed");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CountRows("audit_log"), 0);
  EXPECT_EQ(CountRows("t"), 0);
  Append(1, 2);
  auto rows = ListAudit(*store_, {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].seq, 1);
  EXPECT_TRUE(VerifyAuditChain(*store_, nullptr).ok());
}

TEST_F(AuditTest, ChainVerifies) {
  int64_t checked = -1;
  EXPECT_TRUE(VerifyAuditChain(*store_, &checked).ok());
  EXPECT_EQ(checked, 0);
  Append(0, 10);
  Append(10, 30);
  Append(30, 31);
  EXPECT_TRUE(VerifyAuditChain(*store_, &checked).ok());
  EXPECT_EQ(checked, 31);
  auto rows = ListAudit(*store_, {});
  ASSERT_TRUE(rows.ok());
  for (size_t i = 1; i < rows->size(); ++i) EXPECT_EQ((*rows)[i].prev_hash, (*rows)[i - 1].hash);
}

TEST_F(AuditTest, TamperedRowIsDetectedWithItsSeq) {
  Append(0, 6);
  RawSql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET outcome = 'OK_EDITED' WHERE seq = 3;",
         "DROP TRIGGER audit_log_no_update ON audit_log;"
         " UPDATE audit_log SET outcome = 'OK_EDITED' WHERE seq = 3;");
  int64_t checked = -1;
  absl::Status s = VerifyAuditChain(*store_, &checked);
  EXPECT_EQ(s, absl::DataLossError("audit chain broken at seq 3"));
  EXPECT_EQ(checked, 2);
}

TEST_F(AuditTest, RecomputedHashIsStillDetectedByTheNextRow) {
  Append(0, 6);
  // Change a row and give it a matching-looking hash: the next row's
  // prev_hash no longer matches.
  RawSql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET hash = zeroblob(32) WHERE seq = 4;",
         "DROP TRIGGER audit_log_no_update ON audit_log;"
         " UPDATE audit_log SET hash = decode(repeat('00', 32), 'hex') WHERE seq = 4;");
  EXPECT_EQ(VerifyAuditChain(*store_, nullptr), absl::DataLossError("audit chain broken at seq 4"));
}

TEST_F(AuditTest, DeletedRowIsDetected) {
  Append(0, 6);
  RawSql("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2;",
         "DROP TRIGGER audit_log_no_delete ON audit_log; DELETE FROM audit_log WHERE seq = 2;");
  int64_t checked = -1;
  // The missing entry itself is named.
  EXPECT_EQ(VerifyAuditChain(*store_, &checked), absl::DataLossError("audit chain broken at seq 2"));
  EXPECT_EQ(checked, 1);
}

TEST_F(AuditTest, UpdateAndDeleteAreRefused) {
  Append(0, 3);
  absl::Status s = store_->Write([](Transaction& tx) { return tx.Exec("UPDATE audit_log SET outcome = 'OK'"); });
  EXPECT_FALSE(s.ok());
  s = store_->Write([](Transaction& tx) { return tx.Exec("DELETE FROM audit_log WHERE seq = 1"); });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(CountRows("audit_log"), 3);
  EXPECT_TRUE(VerifyAuditChain(*store_, nullptr).ok());
}

TEST_F(AuditTest, ListFiltersAndPages) {
  ASSERT_TRUE(store_
                  ->Write([](Transaction& tx) -> absl::Status {
                    for (int i = 0; i < 30; ++i) {
                      RETURN_IF_ERROR(AppendAudit(
                          tx, Entry(i, absl::StrCat("case-", i % 3), absl::StrCat("user-", i % 2))));
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  AuditFilter f;
  f.case_id = "case-1";
  auto rows = ListAudit(*store_, f);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 10u);
  for (const AuditRow& r : *rows) EXPECT_EQ(r.entry.case_id, "case-1");

  f.subject = "user-0";
  rows = ListAudit(*store_, f);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 5u);  // i = 4, 10, 16, 22, 28

  AuditFilter page;
  page.subject = "user-1";
  page.limit = 4;
  std::vector<int64_t> seen;
  for (;;) {
    rows = ListAudit(*store_, page);
    ASSERT_TRUE(rows.ok());
    if (rows->empty()) break;
    EXPECT_LE(rows->size(), 4u);
    for (const AuditRow& r : *rows) seen.push_back(r.seq);
    page.after_seq = rows->back().seq;
  }
  EXPECT_EQ(seen.size(), 15u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  AuditFilter bad;
  bad.limit = -1;
  EXPECT_EQ(ListAudit(*store_, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditTest, ListByTimeIsOldestFirstWithinTheRangeAndPagesByCursor) {
  // Entries of case 520102-...-A and 530101-...-B by two users; seq order is not
  // time order (a buffered read committed after a later write).
  const std::string a = "520102-2026-0000001-0";
  const std::string b = "530101-2026-0000002-0";
  const std::vector<std::pair<int, std::string>> order = {
      {5, a}, {1, a}, {2, b}, {3, a}, {3, a}, {7, b}, {4, ""}, {6, a}, {0, a}};
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> absl::Status {
                    for (size_t i = 0; i < order.size(); ++i) {
                      AuditEntry e = Entry(order[i].first, order[i].second,
                                           i % 2 == 0 ? "u-even" : "u-odd");
                      e.request_id = absl::StrCat("r", i);
                      RETURN_IF_ERROR(AppendAudit(tx, e));
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  auto at = [](const std::vector<AuditRow>& rows) {
    std::vector<int64_t> out;
    for (const AuditRow& r : rows) out.push_back(absl::ToUnixSeconds(r.entry.at - absl::Seconds(1'800'000'000)));
    return out;
  };
  AuditTimeQuery q;
  q.case_id = a;
  auto rows = ListAuditByTime(*store_, q);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(at(*rows), (std::vector<int64_t>{0, 1, 3, 3, 5, 6}));
  EXPECT_EQ((*rows)[2].seq, 4);  // equal times: seq order
  EXPECT_EQ((*rows)[3].seq, 5);
  EXPECT_EQ((*rows)[0].entry.request_id, "r8");

  q.from = kT0 + absl::Seconds(1);
  q.to = kT0 + absl::Seconds(6);  // exclusive
  rows = ListAuditByTime(*store_, q);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(at(*rows), (std::vector<int64_t>{1, 3, 3, 5}));

  // Pages of one, resumed after (at, seq): nothing lost or repeated at equal times.
  q.limit = 1;
  std::vector<int64_t> seqs;
  for (int i = 0; i < 10; ++i) {
    rows = ListAuditByTime(*store_, q);
    ASSERT_TRUE(rows.ok());
    if (rows->empty()) break;
    seqs.push_back(rows->back().seq);
    q.after = AuditCursor{absl::ToUnixMicros(rows->back().entry.at), rows->back().seq};
  }
  EXPECT_EQ(seqs, (std::vector<int64_t>{2, 4, 5, 1}));

  // By subject: every case, or only those starting with a prefix (never none).
  AuditTimeQuery by_user;
  by_user.subject = "u-even";  // i = 0, 2, 4, 6, 8: times 5, 2, 3, 4 (no case), 0
  rows = ListAuditByTime(*store_, by_user);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(at(*rows), (std::vector<int64_t>{0, 2, 3, 4, 5}));
  by_user.case_prefix = "5201";
  rows = ListAuditByTime(*store_, by_user);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(at(*rows), (std::vector<int64_t>{0, 3, 5}));
  by_user.case_prefix = "53";
  rows = ListAuditByTime(*store_, by_user);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(at(*rows), (std::vector<int64_t>{2}));

  // Refused queries.
  AuditTimeQuery neither;
  EXPECT_EQ(ListAuditByTime(*store_, neither).status().code(), absl::StatusCode::kInvalidArgument);
  AuditTimeQuery both = q;
  both.subject = "u-odd";
  EXPECT_EQ(ListAuditByTime(*store_, both).status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* prefix : {"5", "52010", "520102001", "52a1", "%"}) {
    AuditTimeQuery p = by_user;
    p.case_prefix = prefix;
    EXPECT_EQ(ListAuditByTime(*store_, p).status().code(), absl::StatusCode::kInvalidArgument)
        << prefix;
  }
  for (int limit : {0, -1, 1002}) {
    AuditTimeQuery l = by_user;
    l.limit = limit;
    EXPECT_EQ(ListAuditByTime(*store_, l).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(AuditTest, ListByTimeReadsTheTimeIndexes) {
  if (TestDatabaseEngine() != "sqlite") GTEST_SKIP() << "SQLite's query plan";
  Append(0, 3);
  // The statements ScanAuditRowsByTime builds, as SQLite plans them.
  // A pair, not a structured binding: C++17 lambdas cannot capture a binding.
  for (const std::pair<std::string, std::string>& statement :
       std::vector<std::pair<std::string, std::string>>{
           {"EXPLAIN QUERY PLAN SELECT * FROM audit_log WHERE case_id = ? AND at_us >= ? AND "
            "at_us < ? AND (at_us > ? OR seq > ?) ORDER BY at_us, seq LIMIT ?",
            "audit_log_by_case_time"},
           {"EXPLAIN QUERY PLAN SELECT * FROM audit_log WHERE subject = ? AND at_us >= ? AND "
            "at_us < ? AND SUBSTR(case_id, 1, 4) = ? ORDER BY at_us, seq LIMIT ?",
            "audit_log_by_subject_time"}}) {
    const std::string& sql = statement.first;
    const std::string& index = statement.second;
    std::string plan;
    absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
      std::vector<Value> params;
      for (char c : sql) {
        if (c == '?') params.push_back(int64_t{1});
      }
      ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(sql, params));
      for (const Row& r : rows) plan += r.GetString(3) + "\n";
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_TRUE(absl::StrContains(plan, "INDEX " + index)) << plan;
    EXPECT_FALSE(absl::StrContains(plan, "TEMP B-TREE")) << plan;  // no sort: index order
  }
}

TEST(AuditOutcomeTest, NamesStatusCodes) {
  EXPECT_EQ(AuditOutcome(absl::OkStatus()), "OK");
  EXPECT_EQ(AuditOutcome(absl::NotFoundError("x")), "NOT_FOUND");
  EXPECT_EQ(AuditOutcome(absl::PermissionDeniedError("x")), "PERMISSION_DENIED");
}

TEST_F(AuditTest, BufferGroupsRecordsIntoFewCommits) {
  const int64_t writes_before = store_->writes();
  constexpr int kEntries = 5000;
  {
    AuditBufferOptions options;
    options.flush_interval = absl::Hours(1);  // only size and Flush trigger writes
    options.max_batch = 1000;
    AuditBuffer buffer(store_.get(), options);
    for (int i = 0; i < kEntries; ++i) buffer.Record(Entry(i));
    ASSERT_TRUE(buffer.Flush().ok());
    // Durable once Flush returns, while the buffer is still alive.
    EXPECT_EQ(CountRows("audit_log"), kEntries);
    AuditBuffer::Stats stats = buffer.stats();
    EXPECT_EQ(stats.recorded, kEntries);
    EXPECT_EQ(stats.written, kEntries);
    EXPECT_LE(stats.store_writes, 10);
    EXPECT_GE(stats.store_writes, 5);
  }
  EXPECT_LE(store_->writes() - writes_before, 10);
  int64_t checked = 0;
  EXPECT_TRUE(VerifyAuditChain(*store_, &checked).ok());
  EXPECT_EQ(checked, kEntries);
}

TEST_F(AuditTest, BufferAppliesBackPressureWithoutLoss) {
  AuditBufferOptions options;
  options.flush_interval = absl::Hours(1);
  options.max_batch = 4;
  options.max_pending = 10;
  AuditBuffer buffer(store_.get(), options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&buffer, t] {
      for (int i = 0; i < 100; ++i) buffer.Record(Entry(t * 100 + i));
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(buffer.Flush().ok());
  EXPECT_EQ(CountRows("audit_log"), 400);
  EXPECT_GT(buffer.stats().waits, 0);
  EXPECT_TRUE(VerifyAuditChain(*store_, nullptr).ok());
}

TEST_F(AuditTest, BufferDestructorFlushes) {
  {
    AuditBufferOptions options;
    options.flush_interval = absl::Hours(1);
    AuditBuffer buffer(store_.get(), options);
    for (int i = 0; i < 10; ++i) buffer.Record(Entry(i));
  }
  EXPECT_EQ(CountRows("audit_log"), 10);
}

TEST_F(AuditTest, FlushOfNothingReturnsAtOnce) {
  AuditBuffer buffer(store_.get());
  EXPECT_TRUE(buffer.Flush().ok());
}

TEST_F(AuditTest, BufferReportsStoreFailureAndDropsOnlyAtShutdown) {
  store_.reset();
  auto store = OpenTestStore({});  // no audit_log table
  ASSERT_TRUE(store.ok()) << store.status();
  {
    AuditBuffer buffer(store->get());
    buffer.Record(Entry(0));
    EXPECT_EQ(buffer.Flush().code(), absl::StatusCode::kInternal);
  }  // the destructor gives up after a few attempts instead of hanging
}

// Replicas of a service share one PostgreSQL database and append to one audit
// chain at once: every append must land (a lost race is retried by the store,
// never reported), and the chain stays one chain with no seq twice.
TEST(AuditReplicasTest, TwoStoresOnOneDatabaseKeepOneChain) {
  if (TestDatabaseEngine() != "postgres") {
    GTEST_SKIP() << "one SQLite file has one writer process";
  }
  const std::string uri = TestDatabaseUriOrDie("audit_replicas");
  const std::string key = "audit-replicas-test-key-0123456789abcdefghij";
  std::vector<std::unique_ptr<PgStore>> engines;
  std::vector<std::unique_ptr<KeyedAuditStore>> replicas;
  for (int i = 0; i < 2; ++i) {
    PgStoreOptions options;
    options.conninfo = uri;
    options.migrations = AuditMigrations();
    auto engine = PgStore::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    auto keyed = KeyedAuditStore::Create(engine->get(), key);
    ASSERT_TRUE(keyed.ok()) << keyed.status();
    engines.push_back(*std::move(engine));
    replicas.push_back(*std::move(keyed));
  }
  constexpr int kThreadsPerReplica = 4;
  constexpr int kWritesPerThread = 25;
  std::atomic<int64_t> appended{0};
  std::vector<absl::Status> failures;
  absl::Mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerReplica; ++t) {
    threads.emplace_back([&, t] {
      KeyedAuditStore& store = *replicas[t % 2];
      for (int w = 0; w < kWritesPerThread; ++w) {
        // One entry, or a group of three as an AuditBuffer writes them.
        std::vector<AuditEntry> entries;
        for (int e = 0; e < (w % 2 == 0 ? 1 : 3); ++e) {
          entries.push_back(Entry(t * 1000 + w * 10 + e, absl::StrCat("case-", t)));
        }
        absl::Status s =
            store.Write([&](Transaction& tx) { return AppendAudits(tx, entries); });
        if (s.ok()) {
          appended += static_cast<int64_t>(entries.size());
        } else {
          absl::MutexLock lock(&mu);
          failures.push_back(s);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : failures) ADD_FAILURE() << s;
  AuditVerifyReport report;
  absl::Status verified = VerifyAuditChain(*replicas[0], key, {}, &report);
  EXPECT_TRUE(verified.ok()) << verified;
  EXPECT_EQ(report.rows_checked, appended.load());
  EXPECT_EQ(report.head.seq, appended.load()) << "no seq skipped or taken twice";
  EXPECT_EQ(report.keyed_from_seq, 1);
  // The races were real: at least one append ran again on a fresh snapshot.
  EXPECT_GT(engines[0]->stats().retries + engines[1]->stats().retries, 0);
}

}  // namespace
}  // namespace pathway
