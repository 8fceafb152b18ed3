#include "common/idempotency/idempotency.h"

#include <atomic>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/clock/clock.h"
#include "common/status/status_macros.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
constexpr char kMethod[] = "/pathway.sk.v1.Sk/Admit";

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Migration> migrations = IdempotencyMigrations();
    migrations.push_back({"test", 1, "CREATE TABLE effects(id INTEGER PRIMARY KEY, note TEXT)",
                          "CREATE TABLE effects(id BIGINT GENERATED ALWAYS AS IDENTITY"
                          " PRIMARY KEY, note TEXT)"});
    auto store = OpenTestStore(std::move(migrations));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::make_unique<CountingStore>(*std::move(store));
  }

  static IdempotencyKey Key(const std::string& key, const std::string& request = "req-1",
                            const std::string& subject = "u1", const std::string& method = kMethod) {
    return IdempotencyKey{subject, key, method, HashRequest(request)};
  }

  // A mutating fn: inserts an effect row and answers with its id.
  absl::StatusOr<IdempotentResult> Run(const IdempotencyKey& k) {
    return RunIdempotent(*store_, clock_, k, [this](Transaction& tx) -> absl::StatusOr<std::string> {
      ++calls_;
      ASSIGN_OR_RETURN(std::vector<Row> inserted,
                       tx.Query("INSERT INTO effects(note) VALUES('admitted') RETURNING id"));
      return absl::StrCat("response-", inserted[0].GetInt(0));
    });
  }

  // The id of the one effect row.
  int64_t EffectId() {
    int64_t id = -1;
    EXPECT_TRUE(store_
                    ->Read([&](ReadTransaction& tx) -> absl::Status {
                      ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT id FROM effects"));
                      if (rows.size() == 1) id = rows[0].GetInt(0);
                      return absl::OkStatus();
                    })
                    .ok());
    return id;
  }

  int64_t Count(const std::string& table) {
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

  FakeClock clock_{kT0};
  std::unique_ptr<CountingStore> store_;
  std::atomic<int> calls_{0};
};

TEST(HashRequestTest, IsSha256) {
  EXPECT_EQ(absl::BytesToHexString(HashRequest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashRequest("x").size(), 32u);
  EXPECT_NE(HashRequest("x"), HashRequest("y"));
}

TEST(ValidateIdempotencyKeyTest, AcceptsOnlyTheAllowedAlphabetAndLength) {
  EXPECT_TRUE(ValidateIdempotencyKey("a").ok());
  EXPECT_TRUE(ValidateIdempotencyKey("Retry-2026.06.26_x:01").ok());
  EXPECT_TRUE(ValidateIdempotencyKey("3f2b1c9e-8d7a-4b6c-9e5f-1a2b3c4d5e6f").ok());
  EXPECT_TRUE(ValidateIdempotencyKey(std::string(128, 'k')).ok());
  for (const std::string& bad :
       {std::string(), std::string(129, 'k'), std::string("has space"), std::string("slash/no"),
        std::string("nul\0x", 5), std::string("\xE9\x94\xAE"), std::string("semi;colon")}) {
    EXPECT_EQ(ValidateIdempotencyKey(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(IdempotencyTest, FirstRunStoresAndRepeatReplaysWithoutRunningFn) {
  auto first = Run(Key("k1"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->replayed);
  EXPECT_EQ(first->stored, "response-1");
  EXPECT_EQ(Count("idempotency_keys"), 1);

  auto again = Run(Key("k1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->stored, "response-1");
  EXPECT_EQ(calls_.load(), 1);
  EXPECT_EQ(Count("effects"), 1);
}

TEST_F(IdempotencyTest, ResponsesMayHoldAnyBytes) {
  const std::string binary("\0\x01\xff response", 12);
  auto run = [&] {
    return RunIdempotent(*store_, clock_, Key("bin"),
                         [&](Transaction&) -> absl::StatusOr<std::string> { return binary; });
  };
  ASSERT_TRUE(run().ok());
  auto again = run();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->stored, binary);
}

TEST_F(IdempotencyTest, DifferentRequestOrMethodWithSameKeyIsRefused) {
  ASSERT_TRUE(Run(Key("k1", "req-1")).ok());
  auto other_request = Run(Key("k1", "req-2"));
  EXPECT_EQ(other_request.status(), absl::AlreadyExistsError(kIdempotencyKeyReusedMessage));
  auto other_method = Run(Key("k1", "req-1", "u1", "/pathway.sk.v1.Sk/Release"));
  EXPECT_EQ(other_method.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(calls_.load(), 1);
  EXPECT_EQ(Count("effects"), 1);
  // The first request still replays.
  auto again = Run(Key("k1", "req-1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed);
}

TEST_F(IdempotencyTest, KeysAreScopedPerSubject) {
  auto mine = Run(Key("shared-key", "req-1", "u1"));
  auto theirs = Run(Key("shared-key", "req-1", "u2"));
  ASSERT_TRUE(mine.ok());
  ASSERT_TRUE(theirs.ok());
  EXPECT_FALSE(theirs->replayed);
  EXPECT_NE(mine->stored, theirs->stored);
  EXPECT_EQ(calls_.load(), 2);
  // Even a different request is fine under another subject.
  EXPECT_TRUE(Run(Key("shared-key", "req-9", "u3")).ok());
}

TEST_F(IdempotencyTest, FnErrorStoresNothingAndRetryRunsAgain) {
  auto failing = RunIdempotent(*store_, clock_, Key("k1"),
                               [this](Transaction& tx) -> absl::StatusOr<std::string> {
                                 ++calls_;
                                 RETURN_IF_ERROR(tx.Exec("INSERT INTO effects(note) VALUES('half')"));
                                 return absl::FailedPreconditionError("not allowed now");
                               });
  EXPECT_EQ(failing.status(), absl::FailedPreconditionError("not allowed now"));
  EXPECT_EQ(Count("idempotency_keys"), 0);
  EXPECT_EQ(Count("effects"), 0);

  auto retry = Run(Key("k1"));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->replayed);
  EXPECT_EQ(calls_.load(), 2);
  EXPECT_EQ(Count("effects"), 1);
}

TEST_F(IdempotencyTest, ConcurrentRepeatsRunFnExactlyOnce) {
  constexpr int kThreads = 16;
  std::vector<absl::StatusOr<IdempotentResult>> results(kThreads, absl::UnknownError("unset"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([this, i, &results] { results[i] = Run(Key("same")); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Count("effects"), 1) << "one run committed";
  // One writer (SQLite) runs fn once; PostgreSQL may start it again in a
  // transaction that lost the race and is rolled back (store.h).
  if (TestDatabaseEngine() == "sqlite") {
    EXPECT_EQ(calls_.load(), 1);
  }
  const std::string committed = absl::StrCat("response-", EffectId());
  int first_runs = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->stored, committed);
    if (!r->replayed) ++first_runs;
  }
  EXPECT_EQ(first_runs, 1);
}

// Replicas share one PostgreSQL database: a key claimed through one store is
// claimed for the other too, and concurrent repeats through both commit one run.
TEST(IdempotencyReplicasTest, OneClaimWinsAcrossTwoStoresOnOneDatabase) {
  if (TestDatabaseEngine() != "postgres") {
    GTEST_SKIP() << "one SQLite file has one writer process";
  }
  const std::string uri = TestDatabaseUriOrDie("idem_replicas");
  FakeClock clock{kT0};
  std::vector<Migration> migrations = IdempotencyMigrations();
  migrations.push_back({"test", 1, "CREATE TABLE effects(id INTEGER PRIMARY KEY, note TEXT)",
                        "CREATE TABLE effects(id BIGINT GENERATED ALWAYS AS"
                                       " IDENTITY PRIMARY KEY, note TEXT)"});
  auto a = OpenStore(uri, migrations, &clock);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = OpenStore(uri, migrations, &clock);
  ASSERT_TRUE(b.ok()) << b.status();
  constexpr int kRounds = 20;
  constexpr int kThreadsPerStore = 4;
  for (int round = 0; round < kRounds; ++round) {
    const IdempotencyKey key{"u1", absl::StrCat("key-", round), kMethod, HashRequest("req")};
    std::vector<absl::StatusOr<IdempotentResult>> results(2 * kThreadsPerStore,
                                                          absl::UnknownError("unset"));
    std::vector<std::thread> threads;
    for (int i = 0; i < 2 * kThreadsPerStore; ++i) {
      Store* store = (i % 2 == 0 ? *a : *b).get();
      threads.emplace_back([&, store, i] {
        results[i] = RunIdempotent(*store, clock, key, [](Transaction& tx)
                                                           -> absl::StatusOr<std::string> {
          ASSIGN_OR_RETURN(std::vector<Row> rows,
                           tx.Query("INSERT INTO effects(note) VALUES('admitted') RETURNING id"));
          return absl::StrCat("response-", rows[0].GetInt(0));
        });
      });
    }
    for (auto& t : threads) t.join();
    int first_runs = 0;
    std::string stored;
    for (const auto& r : results) {
      ASSERT_TRUE(r.ok()) << r.status();
      if (stored.empty()) stored = r->stored;
      EXPECT_EQ(r->stored, stored) << "every repeat answers with the one committed run";
      if (!r->replayed) ++first_runs;
    }
    EXPECT_EQ(first_runs, 1) << "round " << round;
  }
  int64_t effects = -1;
  ASSERT_TRUE((*a)->Read([&](ReadTransaction& tx) -> absl::Status {
                   ASSIGN_OR_RETURN(std::vector<Row> rows,
                                    tx.Query("SELECT COUNT(*) FROM effects"));
                   effects = rows[0].GetInt(0);
                   return absl::OkStatus();
                 }).ok());
  EXPECT_EQ(effects, kRounds) << "one effect per key, whichever replica ran it";
}

TEST_F(IdempotencyTest, InvalidKeyIsRejectedWithoutRunningFn) {
  EXPECT_EQ(Run(Key("bad key")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Run(Key("ok", "req", "")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(IdempotencyTest, PassedDeadlineIsNotRun) {
  auto r = RunIdempotent(
      *store_, clock_, Key("k1"),
      [this](Transaction&) -> absl::StatusOr<std::string> {
        ++calls_;
        return std::string("x");
      },
      absl::Now() - absl::Seconds(1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(IdempotencyTest, KeysExpireAfterTheirLifetimeAndAreNewAgain) {
  ASSERT_TRUE(Run(Key("k1", "req-1")).ok());
  IdempotencyKey longer = Key("k2", "req-1");
  longer.lifetime = kHandoffKeyLifetime;
  ASSERT_TRUE(Run(longer).ok());

  clock_.Advance(kIdempotencyKeyLifetime - absl::Seconds(1));
  auto within = Run(Key("k1", "req-1"));
  ASSERT_TRUE(within.ok()) << within.status();
  EXPECT_TRUE(within->replayed);

  clock_.Advance(absl::Seconds(1));
  // Expired: even another request is a new request under the old key.
  auto after = Run(Key("k1", "req-2"));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_FALSE(after->replayed);
  EXPECT_EQ(after->stored, "response-3");
  auto kept = Run(longer);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_TRUE(kept->replayed) << "a hand-off key lives longer";
  EXPECT_EQ(calls_.load(), 3);
}

TEST_F(IdempotencyTest, WritesRemoveExpiredKeysOnTheWay) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Run(Key(absl::StrCat("old-", i))).ok());
  clock_.Advance(kIdempotencyKeyLifetime);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Run(Key(absl::StrCat("new-", i))).ok());
  // Each write removed up to 8 expired rows: 20 - 3 * 8 < 0, so none are left.
  EXPECT_EQ(Count("idempotency_keys"), 3);
}

TEST_F(IdempotencyTest, PurgeRemovesOnlyExpiredKeysThroughManyBatches) {
  constexpr int64_t kKeys = 2500;
  const int64_t expired_us = absl::ToUnixMicros(kT0);
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> absl::Status {
                    for (int64_t i = 0; i < kKeys; ++i) {
                      RETURN_IF_ERROR(tx.Exec(
                          "INSERT INTO idempotency_keys(subject, key, method, request_hash, stored,"
                          " created_us, expires_us) VALUES(?, ?, ?, ?, ?, ?, ?)",
                          {std::string("u1"), absl::StrCat("k", i), std::string(kMethod),
                           Blob{HashRequest("r")}, Blob{"ref"}, expired_us - 1, expired_us}));
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(Run(Key("live")).ok());  // removes a few on the way
  const int64_t before = store_->commits();
  auto removed = PurgeExpiredIdempotencyKeys(*store_, kT0);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_GT(*removed, kKeys - 10);
  EXPECT_EQ(Count("idempotency_keys"), 1) << "the live key stays";
  EXPECT_GE(store_->commits() - before, 3);  // several short writes, not one long one
  auto live = Run(Key("live"));
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE(live->replayed);
}

// Version 1 kept whole responses in plaintext. Upgrading an existing file keeps the
// keys (a repeat is still not applied twice) and leaves none of the old bytes in it.
TEST(IdempotencyMigrationTest, UpgradeDropsStoredResponsesFromTheFileAndKeepsTheKeys) {
  ScopedTempDir dir;
  FakeClock clock{kT0};
  const std::string kSecret = "PLAINTEXT-RESPONSE-MARKER-5f1c";
  // The same database twice: the SQLite file in `dir`, or one PostgreSQL database.
  const std::string database = TestDatabaseUriOrDie("idem_upgrade");
  OpenStoreOptions where;
  where.default_sqlite_path = dir.File("svc.db");
  {
    auto v1 = OpenStore(database, {IdempotencyMigrations()[0]}, &clock, where);
    ASSERT_TRUE(v1.ok()) << v1.status();
    ASSERT_TRUE((*v1)
                    ->Write([&](Transaction& tx) -> absl::Status {
                      for (int i = 0; i < 50; ++i) {
                        RETURN_IF_ERROR(tx.Exec(
                            "INSERT INTO idempotency_keys(subject, key, method, request_hash,"
                            " response, created_us) VALUES(?, ?, ?, ?, ?, ?)",
                            {std::string("u1"), absl::StrCat("k", i), std::string(kMethod),
                             Blob{HashRequest("req-1")}, Blob{absl::StrCat(kSecret, i)},
                             absl::ToUnixMicros(kT0)}));
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }
  {
    auto v2 = OpenStore(database, IdempotencyMigrations(), &clock, where);
    ASSERT_TRUE(v2.ok()) << v2.status();
    int calls = 0;
    auto run = [&](const std::string& request) {
      return RunIdempotent(**v2, clock, IdempotencyKey{"u1", "k7", kMethod, HashRequest(request)},
                           [&](Transaction&) -> absl::StatusOr<std::string> {
                             ++calls;
                             return std::string("ref");
                           });
    };
    EXPECT_EQ(run("req-1").status().code(), absl::StatusCode::kAlreadyExists)
        << "applied once already; not applied again";
    EXPECT_EQ(run("req-2").status(), absl::AlreadyExistsError(kIdempotencyKeyReusedMessage));
    EXPECT_EQ(calls, 0);
    clock.Advance(kHandoffKeyLifetime - absl::Seconds(1));
    EXPECT_EQ(run("req-1").status().code(), absl::StatusCode::kAlreadyExists);
    clock.Advance(absl::Seconds(1));
    auto expired = run("req-1");
    ASSERT_TRUE(expired.ok()) << expired.status();
    EXPECT_FALSE(expired->replayed);
    if (TestDatabaseEngine() == "postgres") {
      // No column of any kept row holds an old response (the server's files are
      // its own business: PostgreSQL reuses the space of removed rows).
      absl::Status s = (*v2)->Read([&](ReadTransaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT * FROM idempotency_keys"));
        EXPECT_FALSE(rows.empty()) << "the keys are kept";
        for (const Row& row : rows) {
          for (int col = 0; col < row.size(); ++col) {
            EXPECT_EQ(row.GetString(col).find(kSecret), std::string::npos);
          }
        }
        return absl::OkStatus();
      });
      ASSERT_TRUE(s.ok()) << s;
    }
  }
  if (TestDatabaseEngine() == "postgres") return;
  for (const std::string& name : {std::string("svc.db"), std::string("svc.db-wal")}) {
    std::ifstream in(dir.File(name), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(kSecret), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace pathway
