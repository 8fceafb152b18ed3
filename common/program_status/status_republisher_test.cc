#include "common/program_status/status_republisher.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/cache/redis_status_cache.h"
#include "common/program_status/program_status.h"
#include "common/store/testing_store.h"
#include "gtest/gtest.h"
#include "tests/testing/redis_server.h"

namespace pathway {
namespace {

constexpr Programme kDetox = Programme::kCommunityDetox;

std::string CaseIdOf(int n) { return absl::StrFormat("520102-2026-%07d-2", n); }

class StatusRepublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenTestStore(ProgramStatusMigrations());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Saves a new version of case n (state S<k>) and returns the record.
  ProgramStatusRecord Change(int n, int k) {
    ProgramStatusRecord r;
    r.case_id = CaseIdOf(n);
    r.division = "520102";
    r.state = absl::StrFormat("S%d", k);
    r.began = absl::CivilDay(2026, 1, 10);
    absl::Status s = store_->Write(
        [&](Transaction& tx) { return SaveProgramStatus(tx, absl::Now(), &r); });
    EXPECT_TRUE(s.ok()) << s;
    return r;
  }

  int64_t Unpublished() {
    int64_t n = 0;
    absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
      auto rows = LoadUnsentProgramStatuses(tx, StatusSink::kCache, "", 100000);
      if (!rows.ok()) return rows.status();
      n = static_cast<int64_t>(rows->size());
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return n;
  }

  static int64_t CachedVersion(StatusCache& cache, const std::string& case_id) {
    auto entries = cache.Get(case_id);
    if (!entries.ok() || entries->count(kDetox) == 0) return 0;
    return entries->at(kDetox).version;
  }

  std::unique_ptr<Store> store_;
};

TEST_F(StatusRepublisherTest, SavedStatusesArePendingUntilAPassLandsThem) {
  InMemoryStatusCache cache;
  for (int n = 1; n <= 25; ++n) Change(n, 1);
  EXPECT_EQ(Unpublished(), 25);

  cache.SetUnavailable(true);
  auto failed = RepublishPending(*store_, cache, kDetox, /*batch_size=*/10);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Unpublished(), 25) << "nothing is marked while the cache is down";

  cache.SetUnavailable(false);
  auto marked = RepublishPending(*store_, cache, kDetox, /*batch_size=*/10);
  ASSERT_TRUE(marked.ok()) << marked.status();
  EXPECT_EQ(*marked, 25);
  EXPECT_EQ(Unpublished(), 0);
  for (int n = 1; n <= 25; ++n) EXPECT_EQ(CachedVersion(cache, CaseIdOf(n)), 1);

  auto again = RepublishPending(*store_, cache, kDetox);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0) << "a published row is not sent again";
}

TEST_F(StatusRepublisherTest, AVersionSavedAfterTheOneSentStaysPending) {
  InMemoryStatusCache cache;
  ProgramStatusRecord first = Change(1, 1);
  Change(1, 2);  // saved while version 1 was on its way
  absl::Status s = store_->Write([&](Transaction& tx) {
    return MarkProgramStatusesSent(tx, StatusSink::kCache, {{first.case_id, first.version}});
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Unpublished(), 1);
  auto marked = RepublishPending(*store_, cache, kDetox);
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(*marked, 1);
  EXPECT_EQ(CachedVersion(cache, first.case_id), 2);
  // Marking an older version later never moves published_version back.
  s = store_->Write([&](Transaction& tx) {
    return MarkProgramStatusesSent(tx, StatusSink::kCache, {{first.case_id, 1}});
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Unpublished(), 0);
}

TEST_F(StatusRepublisherTest, AStaleRepublishLandsAsPublishedAndNeverRollsBack) {
  InMemoryStatusCache cache;
  ProgramStatusRecord v1 = Change(1, 1);
  ProgramStatusRecord v2 = Change(1, 2);
  PublishProgramStatus(cache, kDetox, v2);
  // The cache is ahead of nothing: v2 is both saved and cached; the pass only marks.
  auto marked = RepublishPending(*store_, cache, kDetox);
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(*marked, 1);
  EXPECT_EQ(CachedVersion(cache, v1.case_id), 2);
}

// The whole repair over a real redis-server: frozen (SIGSTOP) while cases change,
// so every publish fails; after SIGCONT one Wake() brings every case up to date.
TEST_F(StatusRepublisherTest, FrozenRedisIsRepairedByTheThreadOnceItAnswers) {
  auto redis = test::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  RedisCacheOptions ro;
  ro.port = (*redis)->port();
  ro.command_timeout = absl::Milliseconds(100);
  ro.connect_timeout = absl::Milliseconds(100);
  ro.reconnect_backoff = absl::Milliseconds(50);
  auto cache = RedisStatusCache::Create(ro);
  ASSERT_TRUE(cache.ok()) << cache.status();

  constexpr int kCases = 40;
  for (int n = 1; n <= kCases; ++n) PublishProgramStatus(**cache, kDetox, Change(n, 1));

  StatusRepublisher::Options o;
  o.interval = absl::Hours(1);  // only Wake() (and the first pass) runs it here
  o.batch_size = 16;
  StatusRepublisher republisher(store_.get(), cache->get(), kDetox, o);
  republisher.Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (Unpublished() > 0 && absl::Now() < deadline) {
    republisher.Wake();
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(Unpublished(), 0);

  ASSERT_TRUE((*redis)->Pause().ok());
  std::vector<ProgramStatusRecord> latest;
  for (int n = 1; n <= kCases; ++n) {
    latest.push_back(Change(n, 2));
    PublishProgramStatus(**cache, kDetox, latest.back());  // fails: Redis is frozen
  }
  EXPECT_EQ(Unpublished(), kCases);
  ASSERT_TRUE((*redis)->Resume().ok());

  bool all = false;
  while (!all && absl::Now() < deadline) {
    republisher.Wake();
    all = true;
    for (const ProgramStatusRecord& r : latest) {
      if (CachedVersion(**cache, r.case_id) != r.version) {
        all = false;
        break;
      }
    }
    if (!all) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(all) << "every changed case is in the cache at its saved version";
  while (Unpublished() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(Unpublished(), 0);
  EXPECT_GT(republisher.stats().marked, 0);
}

}  // namespace
}  // namespace pathway
