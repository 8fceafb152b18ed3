#include "common/cache/redis_status_cache.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/cache/status_cache_contract.h"
#include "common/clock/clock.h"
#include "common/status/status_macros.h"
#include "gtest/gtest.h"
#include "tests/testing/redis_server.h"

namespace pathway {
namespace {

using contract_internal::MakeStatus;
using test::BlackHoleListener;
using test::RedisServer;

// Generous bound for "returns quickly" against a down or hung Redis: the
// configured timeouts are 200 ms; this only catches hangs.
constexpr absl::Duration kReturnsWithin = absl::Seconds(5);
// Bound for recovery by itself after Redis is back (backoff is 500 ms).
constexpr absl::Duration kRecoversWithin = absl::Seconds(10);

// ---------------------------------------------------------------------------
// The contract suite against a real redis-server (a fresh one per test).

class RedisEnv {
 public:
  absl::Status SetUp() {
    ASSIGN_OR_RETURN(server_, RedisServer::Start());
    return absl::OkStatus();
  }
  std::unique_ptr<StatusCache> NewCache() {
    RedisCacheOptions options;
    options.port = server_->port();
    absl::StatusOr<std::unique_ptr<RedisStatusCache>> cache =
        RedisStatusCache::Create(options);
    if (!cache.ok()) return nullptr;
    return *std::move(cache);
  }

 private:
  std::unique_ptr<RedisServer> server_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Redis, StatusCacheContractTest,
                               ::testing::Types<RedisEnv>);

// ---------------------------------------------------------------------------
// Redis-only behaviour.

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

class RedisStatusCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  RedisCacheOptions Options() const {
    RedisCacheOptions options;
    options.port = server_->port();
    return options;
  }

  std::unique_ptr<RedisStatusCache> NewCache(const RedisCacheOptions& options,
                                             const Clock* clock = nullptr) {
    absl::StatusOr<std::unique_ptr<RedisStatusCache>> cache =
        RedisStatusCache::Create(options, clock);
    EXPECT_TRUE(cache.ok()) << cache.status();
    return cache.ok() ? *std::move(cache) : nullptr;
  }

  // A raw command on a fresh hiredis connection, bypassing the cache.
  ReplyPtr Raw(const std::vector<std::string>& args) {
    ContextPtr c(redisConnectWithTimeout("127.0.0.1", server_->port(),
                                         absl::ToTimeval(absl::Seconds(2))));
    if (c == nullptr || c->err != 0) return nullptr;
    redisSetTimeout(c.get(), absl::ToTimeval(absl::Seconds(2)));
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    return ReplyPtr(static_cast<redisReply*>(redisCommandArgv(
        c.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
  }

  // Polls Ping (no fixed sleep) until it succeeds or `within` passes.
  static bool PingsWithin(StatusCache& cache, absl::Duration within) {
    const absl::Time deadline = absl::Now() + within;
    while (absl::Now() < deadline) {
      if (cache.Ping().ok()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisStatusCacheTest, StoresDocumentedKeyAndValue) {
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  ASSERT_TRUE(*cache->Put("C-1", Programme::kCommunityRehab, MakeStatus(7)));
  ReplyPtr r = Raw({"HGET", "pathway:case:C-1", "rehab"});
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->type, REDIS_REPLY_STRING);
  EXPECT_EQ(std::string(r->str, r->len),
            "7|ACTIVE|20260110|REPORT|20260201|1768003200130");
}

TEST_F(RedisStatusCacheTest, TtlIsSetOnEveryAcceptedWrite) {
  RedisCacheOptions options = Options();
  options.entry_ttl = absl::Hours(1);
  std::unique_ptr<RedisStatusCache> cache = NewCache(options);
  ASSERT_TRUE(*cache->Put("c1", Programme::kPlacement, MakeStatus(1)));
  ReplyPtr ttl = Raw({"PTTL", "pathway:case:c1"});
  ASSERT_NE(ttl, nullptr);
  ASSERT_EQ(ttl->type, REDIS_REPLY_INTEGER);
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 3600 * 1000);

  // A write to another programme refreshes the whole hash's expiry.
  ASSERT_NE(Raw({"PEXPIRE", "pathway:case:c1", "5000"}), nullptr);
  ASSERT_TRUE(*cache->Put("c1", Programme::kCommunityDetox, MakeStatus(1)));
  ttl = Raw({"PTTL", "pathway:case:c1"});
  EXPECT_GT(ttl->integer, 5000);
}

TEST_F(RedisStatusCacheTest, ZeroTtlMeansNoExpiry) {
  RedisCacheOptions options = Options();
  options.entry_ttl = absl::ZeroDuration();
  std::unique_ptr<RedisStatusCache> cache = NewCache(options);
  ASSERT_TRUE(*cache->Put("c1", Programme::kPlacement, MakeStatus(1)));
  ReplyPtr ttl = Raw({"PTTL", "pathway:case:c1"});
  ASSERT_NE(ttl, nullptr);
  EXPECT_EQ(ttl->integer, -1);
}

TEST_F(RedisStatusCacheTest, CreateValidatesOptionsButNeverConnects) {
  RedisCacheOptions options = Options();
  ASSERT_TRUE(server_->Stop().ok());
  absl::StatusOr<std::unique_ptr<RedisStatusCache>> cache =
      RedisStatusCache::Create(options);
  ASSERT_TRUE(cache.ok()) << cache.status();  // Redis is down: still fine.
  EXPECT_TRUE((*cache)->Healthy());
  EXPECT_EQ((*cache)->GetStats().connect_attempts, 0);

  auto invalid = [](RedisCacheOptions o) {
    return RedisStatusCache::Create(o).status().code() ==
           absl::StatusCode::kInvalidArgument;
  };
  RedisCacheOptions o = options;
  o.host = "";
  EXPECT_TRUE(invalid(o));
  o = options;
  o.port = 0;
  EXPECT_TRUE(invalid(o));
  o = options;
  o.port = 70000;
  EXPECT_TRUE(invalid(o));
  o = options;
  o.pool_size = 0;
  EXPECT_TRUE(invalid(o));
  o = options;
  o.connect_timeout = absl::ZeroDuration();
  EXPECT_TRUE(invalid(o));
  o = options;
  o.command_timeout = absl::InfiniteDuration();
  EXPECT_TRUE(invalid(o));
  o = options;
  o.reconnect_backoff = -absl::Seconds(1);
  EXPECT_TRUE(invalid(o));
  o = options;
  o.entry_ttl = absl::Microseconds(10);
  EXPECT_TRUE(invalid(o));
  o = options;
  o.key_prefix = "";
  EXPECT_TRUE(invalid(o));
  o = options;
  o.key_prefix = "has space:";
  EXPECT_TRUE(invalid(o));
}

TEST_F(RedisStatusCacheTest, StoppedRedisFailsFastThenRecoversByItself) {
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  ASSERT_TRUE(*cache->Put("c1", Programme::kPlacement, MakeStatus(1)));
  EXPECT_TRUE(cache->Healthy());

  ASSERT_TRUE(server_->Stop().ok());
  absl::Time start = absl::Now();
  absl::StatusOr<bool> put =
      cache->Put("c1", Programme::kPlacement, MakeStatus(2));
  EXPECT_EQ(put.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(put.status().message(), "status cache unavailable");
  EXPECT_FALSE(cache->Healthy());
  EXPECT_EQ(cache->Get("c1").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(cache->GetMany({"c1", "c2"}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(cache->Remove("c1", Programme::kPlacement, 5).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(cache->Scan("0", 10).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(cache->Ping().ok());
  EXPECT_LT(absl::Now() - start, kReturnsWithin);
  EXPECT_FALSE(cache->Healthy());
  EXPECT_GT(cache->GetStats().fast_failures, 0);

  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE(PingsWithin(*cache, kRecoversWithin));
  EXPECT_TRUE(cache->Healthy());
  absl::StatusOr<bool> again =
      cache->Put("c1", Programme::kPlacement, MakeStatus(3));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(*again);  // A fresh server: no data, no scripts cached.
  EXPECT_EQ(cache->Get("c1")->at(Programme::kPlacement).version, 3);
}

TEST_F(RedisStatusCacheTest, LargeGetManyToStoppedRedisFailsCleanly) {
  // The largest pipelined request, on a pooled connection to a server that
  // has died. (SIGPIPE handling itself: scoped_sigpipe_block_test.)
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  ASSERT_TRUE(cache->Ping().ok());  // Leaves an idle pooled connection.
  std::vector<std::string> ids;
  for (int i = 0; i < StatusCache::kMaxGetManyCases; ++i) {
    ids.push_back(absl::StrCat(
        std::string(StatusCache::kMaxCaseIdLength - 8, 'x'), "-", i));
  }
  ASSERT_TRUE(server_->Stop().ok());
  EXPECT_EQ(cache->GetMany(ids).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(cache->Healthy());
}

TEST_F(RedisStatusCacheTest, RestartBetweenCallsIsInvisible) {
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  ASSERT_TRUE(*cache->Put("c1", Programme::kPlacement, MakeStatus(1)));
  // The pooled connection now points at a dead process; the cache notices
  // the server closed it and retries once on a fresh connection.
  ASSERT_TRUE(server_->Restart().ok());
  absl::StatusOr<bool> put =
      cache->Put("c1", Programme::kPlacement, MakeStatus(2));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_TRUE(*put);
  EXPECT_TRUE(cache->Healthy());
}

TEST_F(RedisStatusCacheTest, PausedRedisCallsReturnWithinTimeout) {
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  ASSERT_TRUE(*cache->Put("c1", Programme::kPlacement, MakeStatus(1)));

  ASSERT_TRUE(server_->Pause().ok());
  absl::Time start = absl::Now();
  absl::StatusOr<bool> put =
      cache->Put("c1", Programme::kPlacement, MakeStatus(2));
  EXPECT_FALSE(put.ok());
  EXPECT_LT(absl::Now() - start, kReturnsWithin);
  EXPECT_FALSE(cache->Healthy());

  start = absl::Now();
  EXPECT_FALSE(cache->Get("c1").ok());
  EXPECT_FALSE(cache->GetMany({"c1"}).ok());
  EXPECT_FALSE(cache->Ping().ok());
  EXPECT_LT(absl::Now() - start, kReturnsWithin);

  ASSERT_TRUE(server_->Resume().ok());
  EXPECT_TRUE(PingsWithin(*cache, kRecoversWithin));
  EXPECT_TRUE(cache->Healthy());
  absl::StatusOr<CaseStatusEntries> got = cache->Get("c1");
  ASSERT_TRUE(got.ok()) << got.status();
  // The paused Put may or may not have been applied once Redis resumed
  // (Redis processes a command it had already received); either is fine.
  EXPECT_GE(got->at(Programme::kPlacement).version, 1);
}

TEST_F(RedisStatusCacheTest, PausedRedisWithManyCallersStaysBounded) {
  RedisCacheOptions options = Options();
  options.pool_size = 2;
  std::unique_ptr<RedisStatusCache> cache = NewCache(options);
  ASSERT_TRUE(cache->Ping().ok());
  ASSERT_TRUE(server_->Pause().ok());
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  std::vector<int> ok_count(6, 0);
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&cache, &ok_count, t] {
      for (int i = 0; i < 5; ++i) {
        if (cache->Get(absl::StrCat("c", t)).ok()) ++ok_count[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LT(absl::Now() - start, kReturnsWithin);
  for (int n : ok_count) EXPECT_EQ(n, 0);
  ASSERT_TRUE(server_->Resume().ok());
}

TEST_F(RedisStatusCacheTest, BlackHoleCallsReturnWithinTimeout) {
  absl::StatusOr<std::unique_ptr<BlackHoleListener>> hole =
      BlackHoleListener::Start();
  ASSERT_TRUE(hole.ok()) << hole.status();
  RedisCacheOptions options;
  options.port = (*hole)->port();
  std::unique_ptr<RedisStatusCache> cache = NewCache(options);

  const absl::Time start = absl::Now();
  absl::StatusOr<bool> put =
      cache->Put("c1", Programme::kPlacement, MakeStatus(1));
  EXPECT_EQ(put.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(cache->Healthy());
  EXPECT_FALSE(cache->Get("c1").ok());
  EXPECT_FALSE(cache->Ping().ok());
  EXPECT_LT(absl::Now() - start, kReturnsWithin);
  EXPECT_FALSE(cache->Healthy());
  EXPECT_EQ(cache->GetStats().connect_failures, 0);  // Connects succeed.
  EXPECT_GE(cache->GetStats().command_failures, 1);
}

TEST_F(RedisStatusCacheTest, ReconnectBackoffLimitsConnectAttempts) {
  absl::StatusOr<int> port = test::PickUnusedLoopbackPort();
  ASSERT_TRUE(port.ok());
  FakeClock clock(absl::FromUnixSeconds(1768003200));
  RedisCacheOptions options;
  options.port = *port;  // Nothing listens.
  options.reconnect_backoff = absl::Seconds(1);
  std::unique_ptr<RedisStatusCache> cache = NewCache(options, &clock);

  EXPECT_FALSE(cache->Ping().ok());
  EXPECT_EQ(cache->GetStats().connect_attempts, 1);
  EXPECT_FALSE(cache->Healthy());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(cache->Get("c1").status().code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(cache->GetStats().connect_attempts, 1);  // Failed fast.
  EXPECT_EQ(cache->GetStats().fast_failures, 10);

  clock.Advance(absl::Milliseconds(999));
  EXPECT_FALSE(cache->Ping().ok());
  EXPECT_EQ(cache->GetStats().connect_attempts, 1);
  clock.Advance(absl::Milliseconds(1));
  EXPECT_FALSE(cache->Ping().ok());
  EXPECT_EQ(cache->GetStats().connect_attempts, 2);
  EXPECT_EQ(cache->GetStats().connect_failures, 2);
}

TEST_F(RedisStatusCacheTest, CorruptValuesAreSkippedNotFatal) {
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  ASSERT_TRUE(*cache->Put("c1", Programme::kCommunityRehab, MakeStatus(4)));
  const std::string key = "pathway:case:c1";
  ASSERT_NE(Raw({"HSET", key, "detox", "garbage"}), nullptr);
  ASSERT_NE(Raw({"HSET", key, "isolation", "3|ACTIVE|20261345|||0"}), nullptr);
  ASSERT_NE(Raw({"HSET", key, "placement", std::string("\0\xff|", 3)}),
            nullptr);
  ASSERT_NE(Raw({"HSET", key, "not-a-programme", "1|ACTIVE||||0"}), nullptr);

  absl::StatusOr<CaseStatusEntries> got = cache->Get("c1");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->at(Programme::kCommunityRehab), MakeStatus(4));
  absl::StatusOr<std::vector<CaseStatusEntries>> many =
      cache->GetMany({"c1", "c2"});
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_EQ((*many)[0].size(), 1u);
  EXPECT_TRUE(cache->Healthy());

  // A value whose version cannot be read is overwritten by the next write,
  // and removed by any Remove.
  EXPECT_TRUE(*cache->Put("c1", Programme::kCommunityDetox, MakeStatus(1)));
  EXPECT_EQ(cache->Get("c1")->at(Programme::kCommunityDetox), MakeStatus(1));
  EXPECT_TRUE(*cache->Remove("c1", Programme::kPlacement, 0));
}

TEST_F(RedisStatusCacheTest, KeyOfWrongTypeReadsAsNotCached) {
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  ASSERT_NE(Raw({"SET", "pathway:case:c1", "a string"}), nullptr);
  ASSERT_TRUE(*cache->Put("c2", Programme::kPlacement, MakeStatus(1)));
  absl::StatusOr<CaseStatusEntries> got = cache->Get("c1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->empty());
  absl::StatusOr<std::vector<CaseStatusEntries>> many =
      cache->GetMany({"c1", "c2"});
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_TRUE((*many)[0].empty());
  EXPECT_EQ((*many)[1].size(), 1u);
  // A write cannot land there: reported as unavailable, caller carries on.
  EXPECT_EQ(
      cache->Put("c1", Programme::kPlacement, MakeStatus(1)).status().code(),
      absl::StatusCode::kUnavailable);
}

TEST_F(RedisStatusCacheTest, FallsBackToEvalWhenScriptCacheIsFlushed) {
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  ASSERT_TRUE(*cache->Put("c1", Programme::kPlacement, MakeStatus(1)));
  ASSERT_NE(Raw({"SCRIPT", "FLUSH"}), nullptr);
  EXPECT_TRUE(*cache->Put("c1", Programme::kPlacement, MakeStatus(2)));
  ASSERT_NE(Raw({"SCRIPT", "FLUSH"}), nullptr);
  EXPECT_TRUE(*cache->Remove("c1", Programme::kPlacement, 2));
}

TEST_F(RedisStatusCacheTest, BatchedWritesFallBackToEvalWhenScriptCacheIsFlushed) {
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  ASSERT_TRUE(*cache->Put("c1", Programme::kPlacement, MakeStatus(1)));
  ASSERT_NE(Raw({"SCRIPT", "FLUSH"}), nullptr);
  absl::StatusOr<std::vector<bool>> written =
      cache->PutMany({{"c1", Programme::kPlacement, MakeStatus(2)},
                      {"c2", Programme::kPlacement, MakeStatus(1)},
                      {"c1", Programme::kPlacement, MakeStatus(1)}});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, (std::vector<bool>{true, true, false}));
  ASSERT_NE(Raw({"SCRIPT", "FLUSH"}), nullptr);
  absl::StatusOr<std::vector<bool>> removed =
      cache->RemoveMany({{"c1", Programme::kPlacement, 2},
                         {"c2", Programme::kPlacement, 0}});
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, (std::vector<bool>{true, false}));
  EXPECT_TRUE(cache->Get("c1")->empty());
}

TEST_F(RedisStatusCacheTest, PutManySetsTheTtlAndTheDocumentedValue) {
  RedisCacheOptions options = Options();
  options.entry_ttl = absl::Hours(1);
  std::unique_ptr<RedisStatusCache> cache = NewCache(options);
  ASSERT_TRUE(cache->PutMany({{"C-1", Programme::kCommunityRehab, MakeStatus(7)}})
                  .ok());
  ReplyPtr r = Raw({"HGET", "pathway:case:C-1", "rehab"});
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->type, REDIS_REPLY_STRING);
  EXPECT_EQ(std::string(r->str, r->len),
            "7|ACTIVE|20260110|REPORT|20260201|1768003200130");
  ReplyPtr ttl = Raw({"PTTL", "pathway:case:C-1"});
  ASSERT_NE(ttl, nullptr);
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 3600 * 1000);
}

TEST_F(RedisStatusCacheTest, BatchedWritesToStoppedRedisFailCleanly) {
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  ASSERT_TRUE(cache->Ping().ok());
  ASSERT_TRUE(server_->Stop().ok());
  std::vector<StatusCache::PutEntry> batch;
  for (int i = 0; i < StatusCache::kMaxWriteManyEntries; ++i) {
    batch.push_back({absl::StrCat("c", i), Programme::kPlacement, MakeStatus(1)});
  }
  const absl::Time start = absl::Now();
  EXPECT_EQ(cache->PutMany(batch).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(cache->RemoveMany({{"c1", Programme::kPlacement, 1}}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, kReturnsWithin);
  EXPECT_FALSE(cache->Healthy());
}

TEST_F(RedisStatusCacheTest, ScanUsesOnlyItsOwnPrefix) {
  RedisCacheOptions options = Options();
  options.key_prefix = "t[1]*:";  // Glob characters must match literally.
  std::unique_ptr<RedisStatusCache> cache = NewCache(options);
  ASSERT_TRUE(*cache->Put("mine", Programme::kPlacement, MakeStatus(1)));
  ASSERT_NE(Raw({"HSET", "t1x:other", "placement", "1|A||||0"}), nullptr);
  ASSERT_NE(Raw({"HSET", "pathway:case:other", "placement", "1|A||||0"}),
            nullptr);
  ASSERT_NE(Raw({"HSET", "t[1]*:not:a:case", "placement", "1|A||||0"}),
            nullptr);

  std::set<std::string> seen;
  std::string cursor = "0";
  do {
    absl::StatusOr<StatusCache::ScanPage> page = cache->Scan(cursor, 100);
    ASSERT_TRUE(page.ok()) << page.status();
    seen.insert(page->case_ids.begin(), page->case_ids.end());
    cursor = page->next_cursor;
  } while (cursor != "0");
  EXPECT_EQ(seen, std::set<std::string>{"mine"});
  ReplyPtr r = Raw({"EXISTS", "t[1]*:mine"});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->integer, 1);
}

TEST_F(RedisStatusCacheTest, PasswordIsSentWithAuth) {
  RedisServer::Options server_options;
  server_options.password = "s3cret";
  absl::StatusOr<std::unique_ptr<RedisServer>> secured =
      RedisServer::Start(server_options);
  ASSERT_TRUE(secured.ok()) << secured.status();

  RedisCacheOptions options;
  options.port = (*secured)->port();
  options.password = "s3cret";
  std::unique_ptr<RedisStatusCache> cache = NewCache(options);
  EXPECT_TRUE(*cache->Put("c1", Programme::kPlacement, MakeStatus(1)));

  options.password = "wrong";
  std::unique_ptr<RedisStatusCache> denied = NewCache(options);
  EXPECT_EQ(denied->Ping().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(denied->Healthy());

  options.password = "";
  std::unique_ptr<RedisStatusCache> no_auth = NewCache(options);
  EXPECT_EQ(no_auth->Get("c1").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(no_auth->Healthy());
}

TEST_F(RedisStatusCacheTest, GetManyIsOnePipelinedRoundTrip) {
  std::unique_ptr<RedisStatusCache> cache = NewCache(Options());
  std::vector<std::string> ids;
  for (int i = 0; i < StatusCache::kMaxGetManyCases; ++i) {
    ids.push_back(absl::StrCat("case-", i));
    if (i % 10 == 0) {
      ASSERT_TRUE(
          *cache->Put(ids.back(), Programme::kPlacement, MakeStatus(i + 1)));
    }
  }
  const RedisStatusCache::Stats before = cache->GetStats();
  absl::StatusOr<std::vector<CaseStatusEntries>> got = cache->GetMany(ids);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i % 10 == 0) {
      ASSERT_EQ((*got)[i].size(), 1u) << i;
      EXPECT_EQ((*got)[i].at(Programme::kPlacement).version,
                static_cast<int64_t>(i) + 1);
    } else {
      EXPECT_TRUE((*got)[i].empty()) << i;
    }
  }
  // One pooled connection served it all.
  EXPECT_EQ(cache->GetStats().connect_attempts, before.connect_attempts);
}

}  // namespace
}  // namespace pathway
