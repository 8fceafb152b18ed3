// The behaviour every Store implementation must have (store.h), as a gtest
// typed test suite (test-only header). An implementation's test instantiates
// it with an environment type that provides a fresh, empty database per test:
//
//   class MyEnv {
//    public:
//     absl::Status SetUp();   // once per test: a new empty database
//     // Opens (again) this test's database with `migrations`.
//     absl::StatusOr<std::unique_ptr<Store>> Open(std::vector<Migration> migrations,
//                                                 const Clock* clock);
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StoreContractTest, ::testing::Types<MyEnv>);
//
// Every statement here follows store.h's portable SQL rules; only the
// migration DDL differs between engines (through EngineMigration's tokens).
//
// Ownership: each test owns its environment and store. The suite calls the
// store from several threads in the concurrency tests.
#ifndef PATHWAY_COMMON_STORE_STORE_CONTRACT_H_
#define PATHWAY_COMMON_STORE_STORE_CONTRACT_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/status/status_macros.h"
#include "common/store/store.h"
#include "gtest/gtest.h"

namespace pathway {

namespace store_contract_internal {

inline Migration ItemsV1() {
  return EngineMigration("contract", 1,
                         "CREATE TABLE items(id {AUTO_ID}, name TEXT NOT NULL UNIQUE, n BIGINT, "
                         "d DOUBLE PRECISION, b {BLOB});"
                         "CREATE TABLE counters(name TEXT PRIMARY KEY, n BIGINT NOT NULL);"
                         "INSERT INTO counters(name, n) VALUES('c', 0)");
}

inline Migration ItemsV2() {
  return {"contract", 2, "CREATE TABLE notes(k TEXT PRIMARY KEY, v TEXT)", ""};
}

inline Migration OtherV1() {
  return {"other", 1, "CREATE TABLE other(k TEXT PRIMARY KEY)", ""};
}

constexpr char kInsertItem[] = "INSERT INTO items(name, n) VALUES(?, ?) RETURNING id";

}  // namespace store_contract_internal

template <typename Env>
class StoreContractTest : public ::testing::Test {
 protected:
  StoreContractTest() : clock_(absl::FromUnixSeconds(1767225600)) {}

  void SetUp() override {
    absl::Status s = env_.SetUp();
    ASSERT_TRUE(s.ok()) << s;
    absl::StatusOr<std::unique_ptr<Store>> store =
        env_.Open({store_contract_internal::ItemsV1()}, &clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
  }

  Store& store() { return *store_; }

  // Inserts an item and returns its generated id (0 on failure).
  int64_t AddItem(const std::string& name, int64_t n = 0) {
    int64_t id = 0;
    absl::Status s = store().Write([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<Row> rows,
                       tx.Query(store_contract_internal::kInsertItem, {name, n}));
      id = rows.at(0).GetInt(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return id;
  }

  int64_t CountItems() {
    int64_t count = -1;
    absl::Status s = store().Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT COUNT(*) FROM items"));
      count = rows.at(0).GetInt(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return count;
  }

  // The row of item `name` (id, n, d, b), or no values when it is missing.
  Row ItemRow(const std::string& name) {
    Row row;
    absl::Status s = store().Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<Row> rows,
                       tx.Query("SELECT id, n, d, b FROM items WHERE name = ?", {name}));
      if (!rows.empty()) row = rows[0];
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return row;
  }

  FakeClock clock_;
  Env env_;
  std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE_P(StoreContractTest);

TYPED_TEST_P(StoreContractTest, WriteCommitsAndReadSeesIt) {
  const int64_t id = this->AddItem("alpha", 7);
  EXPECT_GT(id, 0);
  Row row = this->ItemRow("alpha");
  ASSERT_EQ(row.size(), 4);
  EXPECT_EQ(row.GetInt(0), id);
  EXPECT_EQ(row.GetInt(1), 7);
  EXPECT_EQ(this->CountItems(), 1);
}

TYPED_TEST_P(StoreContractTest, ReturningGivesGeneratedIds) {
  std::vector<int64_t> ids;
  absl::Status s = this->store().Write([&](Transaction& tx) -> absl::Status {
    ids.clear();  // a Write function may run more than once: assign, not accumulate
    for (const char* name : {"a", "b", "c"}) {
      ASSIGN_OR_RETURN(std::vector<Row> rows,
                       tx.Query(store_contract_internal::kInsertItem, {std::string(name), 1}));
      EXPECT_EQ(rows.size(), 1u);
      ids.push_back(rows.at(0).GetInt(0));
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_GT(ids[0], 0);
  EXPECT_LT(ids[0], ids[1]);
  EXPECT_LT(ids[1], ids[2]);
  EXPECT_EQ(this->ItemRow("b").GetInt(0), ids[1]);
}

TYPED_TEST_P(StoreContractTest, FailingFunctionLeavesNothingAndReturnsItsError) {
  bool ran = false;
  absl::Status s = this->store().Write([&](Transaction& tx) -> absl::Status {
    ran = true;
    RETURN_IF_ERROR(tx.Exec("INSERT INTO items(name, n) VALUES(?, ?)", {std::string("x"), 1}));
    RETURN_IF_ERROR(tx.Exec("UPDATE counters SET n = ? WHERE name = ?", {5, std::string("c")}));
    return absl::InvalidArgumentError("changed my mind");
  });
  EXPECT_TRUE(ran);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), "changed my mind");
  EXPECT_EQ(this->CountItems(), 0);
  absl::Status r = this->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT n FROM counters"));
    EXPECT_EQ(rows.at(0).GetInt(0), 0);
    return absl::OkStatus();
  });
  EXPECT_TRUE(r.ok()) << r;
}

TYPED_TEST_P(StoreContractTest, FailingFunctionDoesNotAffectConcurrentWrites) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  std::atomic<int> unexpected{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const bool fail = (t + i) % 2 == 1;
        const std::string name = absl::StrCat("t", t, "_", i);
        absl::Status s = this->store().Write(
            [&](Transaction& tx) -> absl::Status {
              RETURN_IF_ERROR(tx.Exec("INSERT INTO items(name, n) VALUES(?, ?)", {name, i}));
              if (fail) return absl::FailedPreconditionError("refused");
              return absl::OkStatus();
            },
            this->clock_.Now() + absl::Seconds(60));
        if (s.code() != (fail ? absl::StatusCode::kFailedPrecondition : absl::StatusCode::kOk)) {
          ADD_FAILURE() << name << ": " << s;
          ++unexpected;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(this->CountItems(), kThreads * kPerThread / 2);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const bool present = this->ItemRow(absl::StrCat("t", t, "_", i)).size() > 0;
      EXPECT_EQ(present, (t + i) % 2 == 0) << t << "_" << i;
    }
  }
}

TYPED_TEST_P(StoreContractTest, UniqueViolationIsAlreadyExists) {
  this->AddItem("dup");
  absl::Status s = this->store().Write([&](Transaction& tx) -> absl::Status {
    return tx.Exec("INSERT INTO items(name, n) VALUES(?, ?)", {std::string("dup"), 2});
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(this->CountItems(), 1);
  // The store is fine afterwards.
  EXPECT_GT(this->AddItem("other"), 0);
}

TYPED_TEST_P(StoreContractTest, OnConflictDoNothingAndChangedRows) {
  std::vector<int64_t> changed;
  absl::Status s = this->store().Write([&](Transaction& tx) -> absl::Status {
    changed.clear();
    for (int i = 0; i < 2; ++i) {
      RETURN_IF_ERROR(tx.Exec(
          "INSERT INTO items(name, n) VALUES(?, ?) ON CONFLICT (name) DO NOTHING",
          {std::string("once"), i}));
      changed.push_back(tx.ChangedRows());
    }
    RETURN_IF_ERROR(tx.Exec("INSERT INTO items(name, n) VALUES(?, ?)", {std::string("two"), 1}));
    RETURN_IF_ERROR(tx.Exec("UPDATE items SET n = n + 10 WHERE n >= ?", {0}));
    changed.push_back(tx.ChangedRows());
    RETURN_IF_ERROR(tx.Exec("DELETE FROM items WHERE name = ?", {std::string("nobody")}));
    changed.push_back(tx.ChangedRows());
    RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO items(name, n) VALUES(?, ?) ON CONFLICT (name) DO UPDATE SET n = excluded.n",
        {std::string("two"), 99}));
    changed.push_back(tx.ChangedRows());
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(changed, (std::vector<int64_t>{1, 0, 2, 0, 1}));
  EXPECT_EQ(this->ItemRow("once").GetInt(1), 10);
  EXPECT_EQ(this->ItemRow("two").GetInt(1), 99);
}

TYPED_TEST_P(StoreContractTest, ConcurrentIncrementsLoseNoUpdate) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 15;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        // Read, then write what was read plus one: a lost update would show.
        absl::Status s = this->store().Write(
            [&](Transaction& tx) -> absl::Status {
              ASSIGN_OR_RETURN(std::vector<Row> rows,
                               tx.Query("SELECT n FROM counters WHERE name = ?", {std::string("c")}));
              const int64_t n = rows.at(0).GetInt(0);
              return tx.Exec("UPDATE counters SET n = ? WHERE name = ?", {n + 1, std::string("c")});
            },
            this->clock_.Now() + absl::Seconds(120));
        if (!s.ok()) {
          ADD_FAILURE() << s;
          ++failures;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  absl::Status r = this->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT n FROM counters"));
    EXPECT_EQ(rows.at(0).GetInt(0), kThreads * kPerThread);
    return absl::OkStatus();
  });
  EXPECT_TRUE(r.ok()) << r;
}

TYPED_TEST_P(StoreContractTest, QueryEachMayIssueFurtherQueriesAndStopEarly) {
  for (int i = 1; i <= 5; ++i) this->AddItem(absl::StrCat("q", i), i);
  std::vector<int64_t> seen;
  absl::Status s = this->store().Write([&](Transaction& tx) -> absl::Status {
    seen.clear();
    absl::Status inner;
    RETURN_IF_ERROR(tx.QueryEach(
        "SELECT name, n FROM items ORDER BY n", {}, [&](const Row& row) {
          // A nested query and a write while the outer result is open.
          absl::StatusOr<std::vector<Row>> bigger =
              tx.Query("SELECT COUNT(*) FROM items WHERE n > ?", {row.GetInt(1)});
          if (!bigger.ok()) {
            inner = bigger.status();
            return false;
          }
          seen.push_back(bigger->at(0).GetInt(0));
          inner = tx.Exec("UPDATE counters SET n = ? WHERE name = ?", {row.GetInt(1), std::string("c")});
          return inner.ok() && row.GetInt(1) < 4;  // stop after the fourth
        }));
    return inner;
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(seen, (std::vector<int64_t>{4, 3, 2, 1}));
  absl::Status r = this->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT n FROM counters"));
    EXPECT_EQ(rows.at(0).GetInt(0), 4);
    return absl::OkStatus();
  });
  EXPECT_TRUE(r.ok()) << r;
}

TYPED_TEST_P(StoreContractTest, PassedDeadlineDoesNotRunTheFunction) {
  bool ran = false;
  for (absl::Time deadline : {this->clock_.Now(), this->clock_.Now() - absl::Seconds(1)}) {
    absl::Status s = this->store().Write(
        [&](Transaction&) -> absl::Status {
          ran = true;
          return absl::OkStatus();
        },
        deadline);
    EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  }
  EXPECT_FALSE(ran);
}

TYPED_TEST_P(StoreContractTest, StoreCommandsAreRefusedInsideAFunction) {
  for (const char* sql : {"SAVEPOINT mine", "COMMIT", "BEGIN"}) {
    absl::Status s = this->store().Write(
        [&](Transaction& tx) -> absl::Status { return tx.Exec(sql); });
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << sql << ": " << s;
  }
  EXPECT_GT(this->AddItem("after"), 0);
}

TYPED_TEST_P(StoreContractTest, BlobRoundTripKeepsEveryByte) {
  const Blob with_nul{std::string("a\0b\xff\x00\x01", 6)};
  const Blob empty{""};
  absl::Status s = this->store().Write([&](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO items(name, b) VALUES(?, ?)", {std::string("nul"), with_nul}));
    return tx.Exec("INSERT INTO items(name, b) VALUES(?, ?)", {std::string("empty"), empty});
  });
  ASSERT_TRUE(s.ok()) << s;
  Row nul = this->ItemRow("nul");
  ASSERT_TRUE(std::holds_alternative<Blob>(nul.Get(3)));
  EXPECT_EQ(std::get<Blob>(nul.Get(3)), with_nul);
  EXPECT_EQ(nul.GetString(3).size(), 6u);
  Row e = this->ItemRow("empty");
  ASSERT_TRUE(std::holds_alternative<Blob>(e.Get(3))) << "an empty Blob is not NULL";
  EXPECT_EQ(std::get<Blob>(e.Get(3)), empty);
  // A Blob parameter compares with a stored Blob.
  absl::Status r = this->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT name FROM items WHERE b = ?", {with_nul}));
    EXPECT_EQ(rows.size(), 1u);
    if (!rows.empty()) {
      EXPECT_EQ(rows[0].GetString(0), "nul");
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(r.ok()) << r;
}

TYPED_TEST_P(StoreContractTest, Int64ExtremesAndDoublesRoundTrip) {
  const int64_t values[] = {std::numeric_limits<int64_t>::min(), -1, 0,
                            std::numeric_limits<int64_t>::max()};
  const double doubles[] = {-1e300, -0.5, 0.1, 3.141592653589793};
  absl::Status s = this->store().Write([&](Transaction& tx) -> absl::Status {
    for (int i = 0; i < 4; ++i) {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO items(name, n, d) VALUES(?, ?, ?)",
                              {absl::StrCat("v", i), values[i], doubles[i]}));
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  for (int i = 0; i < 4; ++i) {
    Row row = this->ItemRow(absl::StrCat("v", i));
    ASSERT_EQ(row.size(), 4);
    ASSERT_TRUE(std::holds_alternative<int64_t>(row.Get(1)));
    EXPECT_EQ(std::get<int64_t>(row.Get(1)), values[i]);
    ASSERT_TRUE(std::holds_alternative<double>(row.Get(2)));
    EXPECT_EQ(std::get<double>(row.Get(2)), doubles[i]);
  }
  absl::Status r = this->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     tx.Query("SELECT name FROM items WHERE n = ?", {values[0]}));
    EXPECT_EQ(rows.size(), 1u);
    // SUM and COUNT come back as int64 from every engine.
    ASSIGN_OR_RETURN(rows, tx.Query("SELECT COUNT(*), SUM(n) FROM items WHERE n > ?", {-2}));
    EXPECT_TRUE(std::holds_alternative<int64_t>(rows.at(0).Get(0)));
    EXPECT_TRUE(std::holds_alternative<int64_t>(rows.at(0).Get(1)));
    EXPECT_EQ(rows.at(0).GetInt(0), 3);
    EXPECT_EQ(rows.at(0).GetInt(1), std::numeric_limits<int64_t>::max() - 1);
    return absl::OkStatus();
  });
  EXPECT_TRUE(r.ok()) << r;
}

TYPED_TEST_P(StoreContractTest, NullsRoundTrip) {
  absl::Status s = this->store().Write([&](Transaction& tx) -> absl::Status {
    return tx.Exec("INSERT INTO items(name, n, d, b) VALUES(?, ?, ?, ?)",
                   {std::string("nulls"), std::monostate(), std::monostate(), std::monostate()});
  });
  ASSERT_TRUE(s.ok()) << s;
  Row row = this->ItemRow("nulls");
  ASSERT_EQ(row.size(), 4);
  EXPECT_TRUE(row.IsNull(1));
  EXPECT_TRUE(row.IsNull(2));
  EXPECT_TRUE(row.IsNull(3));
  absl::Status r = this->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        tx.Query("SELECT COUNT(*) FROM items WHERE CAST(? AS BIGINT) IS NULL AND n IS NULL",
                 {std::monostate()}));
    EXPECT_EQ(rows.at(0).GetInt(0), 1);
    ASSIGN_OR_RETURN(rows, tx.Query("SELECT COALESCE(n, ?) FROM items", {-5}));
    EXPECT_EQ(rows.at(0).GetInt(0), -5);
    return absl::OkStatus();
  });
  EXPECT_TRUE(r.ok()) << r;
}

TYPED_TEST_P(StoreContractTest, MigrationsApplyOnceAndANewerSchemaIsRefused) {
  using store_contract_internal::ItemsV1;
  using store_contract_internal::ItemsV2;
  using store_contract_internal::OtherV1;
  this->AddItem("kept");
  this->store_.reset();
  // Reopening with the same migrations applies nothing again (v1's INSERT
  // into counters would otherwise fail on its primary key).
  this->clock_.Advance(absl::Hours(1));
  absl::StatusOr<std::unique_ptr<Store>> again = this->env_.Open({ItemsV1()}, &this->clock_);
  ASSERT_TRUE(again.ok()) << again.status();
  again->reset();
  // A newer binary adds v2 and another component.
  this->clock_.Advance(absl::Hours(1));
  absl::StatusOr<std::unique_ptr<Store>> newer =
      this->env_.Open({ItemsV1(), OtherV1(), ItemsV2()}, &this->clock_);
  ASSERT_TRUE(newer.ok()) << newer.status();
  absl::Status r = (*newer)->Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     tx.Query("SELECT component, version, applied_at_us FROM schema_migrations "
                              "ORDER BY component, version"));
    EXPECT_EQ(rows.size(), 3u);
    if (rows.size() == 3) {
      EXPECT_EQ(rows[0].GetString(0), "contract");
      EXPECT_EQ(rows[0].GetInt(1), 1);
      EXPECT_EQ(rows[0].GetInt(2), 1767225600LL * 1000000);
      EXPECT_EQ(rows[1].GetInt(1), 2);
      EXPECT_EQ(rows[1].GetInt(2), (1767225600LL + 7200) * 1000000);
      EXPECT_EQ(rows[2].GetString(0), "other");
    }
    ASSIGN_OR_RETURN(rows, tx.Query("SELECT COUNT(*) FROM notes"));
    EXPECT_EQ(rows.at(0).GetInt(0), 0);
    ASSIGN_OR_RETURN(rows, tx.Query("SELECT COUNT(*) FROM items"));
    EXPECT_EQ(rows.at(0).GetInt(0), 1);
    return absl::OkStatus();
  });
  EXPECT_TRUE(r.ok()) << r;
  newer->reset();
  // The old binary refuses the newer schema.
  absl::StatusOr<std::unique_ptr<Store>> old = this->env_.Open({ItemsV1(), OtherV1()}, &this->clock_);
  EXPECT_EQ(old.status().code(), absl::StatusCode::kFailedPrecondition) << old.status();
  // So does one that does not know a component the database has (it counts
  // as version 0 there).
  absl::StatusOr<std::unique_ptr<Store>> other_only = this->env_.Open({OtherV1()}, &this->clock_);
  EXPECT_EQ(other_only.status().code(), absl::StatusCode::kFailedPrecondition);
  // A failing migration applies nothing.
  absl::StatusOr<std::unique_ptr<Store>> broken = this->env_.Open(
      {ItemsV1(), OtherV1(), ItemsV2(), {"contract", 3, "CREATE TABLE notes(k TEXT)", ""}},
      &this->clock_);
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInternal) << broken.status();
  absl::StatusOr<std::unique_ptr<Store>> reopened =
      this->env_.Open({ItemsV1(), OtherV1(), ItemsV2()}, &this->clock_);
  EXPECT_TRUE(reopened.ok()) << reopened.status();
}

REGISTER_TYPED_TEST_SUITE_P(StoreContractTest, WriteCommitsAndReadSeesIt,
                            ReturningGivesGeneratedIds,
                            FailingFunctionLeavesNothingAndReturnsItsError,
                            FailingFunctionDoesNotAffectConcurrentWrites,
                            UniqueViolationIsAlreadyExists, OnConflictDoNothingAndChangedRows,
                            ConcurrentIncrementsLoseNoUpdate,
                            QueryEachMayIssueFurtherQueriesAndStopEarly,
                            PassedDeadlineDoesNotRunTheFunction,
                            StoreCommandsAreRefusedInsideAFunction, BlobRoundTripKeepsEveryByte,
                            Int64ExtremesAndDoublesRoundTrip, NullsRoundTrip,
                            MigrationsApplyOnceAndANewerSchemaIsRefused);

}  // namespace pathway

#endif  // PATHWAY_COMMON_STORE_STORE_CONTRACT_H_
