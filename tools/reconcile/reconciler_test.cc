// The reconciler against four real in-process programme servers (real gRPC on
// loopback, real SQLite stores, Operations registered by GrpcServer) and a real
// redis-server: a flushed cache restored, stale / ahead / mismatched / orphaned
// entries, dry run, kill-and-resume through the checkpoint, a service down, stuck
// hand-offs, and the JSON report.
#include "tools/reconcile/reconciler.h"

#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cache/redis_status_cache.h"
#include "common/ids/case_id.h"
#include "common/outbox/outbox.h"
#include "common/program_status/program_status.h"
#include "common/server/testing_programme_server.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "tests/testing/redis_server.h"
#include "tools/reconcile/report.h"
#include "tools/reconcile/run_command.h"

namespace pathway {
namespace reconcile {
namespace {

constexpr char kKey[] = "reconciler-test-token-key-0123456789abcdefgh";
const absl::CivilDay kAsOf(2026, 4, 1);

struct Fleet {
  std::string service;
  Programme programme;
  int cases;
};
const Fleet kFleet[] = {{"community_detox", Programme::kCommunityDetox, 230},
                        {"compulsory_isolation", Programme::kCompulsoryIsolation, 170},
                        {"community_rehab", Programme::kCommunityRehab, 120},
                        {"placement", Programme::kPlacement, 80}};
constexpr int kTotalCases = 230 + 170 + 120 + 80;

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = test::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    RedisCacheOptions ro;
    ro.host = redis_->host();
    ro.port = redis_->port();
    ro.command_timeout = absl::Seconds(2);
    ro.pool_size = 16;
    redis_options_ = ro;
    cache_ = *RedisStatusCache::Create(ro);

    key_file_ = dir_.path() + "/token.key";
    {
      FILE* f = std::fopen(key_file_.c_str(), "w");
      std::fputs(kKey, f);
      std::fclose(f);
    }
    report_dir_ = dir_.path() + "/reports";
    ASSERT_EQ(::mkdir(report_dir_.c_str(), 0755), 0);

    const absl::Time seeded_at = absl::Now() - absl::Hours(1);
    for (const Fleet& f : kFleet) {
      TestProgrammeServer::Options o;
      o.service_name = f.service;
      o.data_dir = dir_.path();
      o.database = TestDatabaseUriOrDie(f.service);
      o.token_key = kKey;
      o.with_outbox = f.programme == Programme::kCompulsoryIsolation;
      auto server = TestProgrammeServer::Start(o);
      ASSERT_TRUE(server.ok()) << server.status();
      std::vector<ProgramStatusRecord> records;
      for (int i = 1; i <= f.cases; ++i) {
        ProgramStatusRecord r;
        r.division = i % 2 == 0 ? "520102" : "530102";
        // Some ids are shared between programmes (one person in several), some not.
        r.case_id = CaseId::Mint(r.division, 2026, i * (static_cast<int>(f.programme) + 1))
                        ->ToString();
        r.state = "ACTIVE";
        r.began = absl::CivilDay(2026, 3, 1);
        if (i % 3 == 0) {
          r.deadline_kind = "REPORT";
          r.deadline = absl::CivilDay(2026, 3, 16);  // overdue on 1 April
        } else if (i % 3 == 1) {
          r.deadline_kind = "TEST";
          r.deadline = kAsOf;  // due on the day itself: still on time
        }
        records.push_back(r);
      }
      ASSERT_TRUE((*server)->Seed(&records, seeded_at).ok());
      for (const ProgramStatusRecord& r : records) {
        expected_[{f.programme, r.case_id}] = r;
        if (r.deadline.has_value() && kAsOf > *r.deadline) ++overdue_[f.programme][r.division];
      }
      servers_.push_back(*std::move(server));
    }
  }

  ReconcileOptions Options() {
    ReconcileOptions o;
    o.services.clear();
    for (size_t i = 0; i < servers_.size(); ++i) {
      o.services.push_back({kFleet[i].service, kFleet[i].programme, servers_[i]->address()});
    }
    o.token_key_file = key_file_;
    o.report_dir = report_dir_;
    o.as_of = kAsOf;
    o.page_size = 50;
    o.write_concurrency = 4;
    o.call_timeout = absl::Seconds(5);
    o.page_timeout = absl::Seconds(10);
    return o;
  }

  ReconcileResult Run(const ReconcileOptions& o) {
    auto reconciler = Reconciler::Create(o, cache_.get());
    EXPECT_TRUE(reconciler.ok()) << reconciler.status();
    auto result = (*reconciler)->Run();
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : ReconcileResult{};
  }

  static ProgrammeStatus CacheForm(const ProgramStatusRecord& r) {
    ProgrammeStatus s;
    s.state = r.state;
    s.version = r.version;
    s.began = r.began;
    s.next_deadline_kind = r.deadline_kind;
    s.next_deadline = r.deadline;
    s.written_at = absl::FromUnixMillis(absl::ToUnixMillis(r.updated_at));
    return s;
  }

  // Every expected entry is cached exactly as its service holds it.
  void ExpectCacheMatchesServices() {
    int checked = 0;
    for (const auto& [key, record] : expected_) {
      auto entries = cache_->Get(key.second);
      ASSERT_TRUE(entries.ok());
      auto it = entries->find(key.first);
      ASSERT_NE(it, entries->end()) << key.second << " " << ProgrammeField(key.first);
      EXPECT_EQ(it->second, CacheForm(record)) << key.second;
      ++checked;
    }
    EXPECT_EQ(checked, kTotalCases);
  }

  int CachedKeys() {
    int n = 0;
    std::string cursor = "0";
    do {
      auto page = cache_->Scan(cursor, 1000);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      n += static_cast<int>(page->case_ids.size());
      cursor = page->next_cursor;
    } while (cursor != "0");
    return n;
  }

  const ServiceReport& ServiceOf(const Report& r, const std::string& name) {
    for (const ServiceReport& s : r.services()) {
      if (s.service() == name) return s;
    }
    ADD_FAILURE() << "no report for " << name;
    return ServiceReport::default_instance();
  }

  void PutRaw(const std::string& case_id, Programme p, ProgrammeStatus s) {
    ASSERT_TRUE(cache_->Remove(case_id, p, INT64_MAX).ok());
    auto put = cache_->Put(case_id, p, s);
    ASSERT_TRUE(put.ok() && *put);
  }

  ScopedTempDir dir_;
  std::unique_ptr<test::RedisServer> redis_;
  RedisCacheOptions redis_options_;
  std::unique_ptr<RedisStatusCache> cache_;
  std::string key_file_;
  std::string report_dir_;
  std::vector<std::unique_ptr<TestProgrammeServer>> servers_;
  std::map<std::pair<Programme, std::string>, ProgramStatusRecord> expected_;
  std::map<Programme, std::map<std::string, int64_t>> overdue_;
};

TEST_F(ReconcilerTest, AfterFlushallEveryEntryIsRestoredAndReported) {
  ASSERT_EQ(CachedKeys(), 0);  // a fresh redis-server: as after FLUSHALL
  ReconcileResult result = Run(Options());
  EXPECT_EQ(result.exit_code, kExitDone);
  ExpectCacheMatchesServices();

  const Report& r = result.report;
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.as_of(), "2026-04-01");
  EXPECT_EQ(r.cases(), kTotalCases);
  for (const Fleet& f : kFleet) {
    const ServiceReport& s = ServiceOf(r, f.service);
    EXPECT_EQ(s.outcome(), "complete");
    EXPECT_EQ(s.cases(), f.cases);
    EXPECT_EQ(s.found().missing(), f.cases);
    EXPECT_EQ(s.repaired().missing(), f.cases);
    EXPECT_EQ(s.in_sync(), 0);
    EXPECT_EQ(s.repair_failures(), 0);
    EXPECT_EQ(s.pages(), (f.cases + 49) / 50);
    std::map<std::string, int64_t> overdue(s.overdue_by_division().begin(),
                                           s.overdue_by_division().end());
    EXPECT_EQ(overdue, overdue_[f.programme]) << f.service;
    EXPECT_TRUE(s.outbox().reachable());
  }
  EXPECT_EQ(r.orphans().outcome(), "complete");
  EXPECT_EQ(r.orphans().found(), 0);
  EXPECT_EQ(r.orphans().programmes_checked_size(), 4);

  // The JSON report on disk parses back into the same report.
  ASSERT_FALSE(result.report_path.empty());
  auto on_disk = ReadReportFile(result.report_path);
  ASSERT_TRUE(on_disk.ok() && on_disk->has_value()) << on_disk.status();
  EXPECT_EQ((*on_disk)->cases(), kTotalCases);
  EXPECT_EQ((*on_disk)->services(0).repaired().missing(), kFleet[0].cases);

  // A second run finds everything in sync and writes nothing.
  ReconcileResult again = Run(Options());
  EXPECT_EQ(again.exit_code, kExitDone);
  for (const Fleet& f : kFleet) {
    const ServiceReport& s = ServiceOf(again.report, f.service);
    EXPECT_EQ(s.in_sync(), f.cases);
    EXPECT_EQ(s.found().missing() + s.found().stale() + s.found().content_mismatch() +
                  s.found().cache_ahead(),
              0);
  }
}

TEST_F(ReconcilerTest, RepairsStaleAndMismatchedNeverTouchesAheadAndRemovesOrphans) {
  ASSERT_EQ(Run(Options()).exit_code, kExitDone);  // everything cached

  const ProgramStatusRecord& stale = expected_.begin()->second;  // detox, some case
  const Programme stale_p = expected_.begin()->first.first;
  auto it = std::next(expected_.begin(), 5);
  const ProgramStatusRecord& ahead = it->second;
  const Programme ahead_p = it->first.first;
  it = std::next(expected_.begin(), 9);
  const ProgramStatusRecord& mismatch = it->second;
  const Programme mismatch_p = it->first.first;

  // Stale: the cache holds an older version (version 1 -> write version 2 into the
  // service is not possible here, so lower the cache instead by rewriting an entry
  // for a case whose service version we raise).
  std::vector<ProgramStatusRecord> bump = {stale};
  TestProgrammeServer* stale_server = servers_[static_cast<int>(stale_p)].get();
  ASSERT_TRUE(stale_server->Seed(&bump, absl::Now() - absl::Minutes(30)).ok());
  expected_[{stale_p, stale.case_id}] = bump[0];
  ASSERT_EQ(bump[0].version, 2);

  ProgrammeStatus ahead_status = CacheForm(ahead);
  ahead_status.version = 9;
  ahead_status.state = "FROM_THE_FUTURE";
  PutRaw(ahead.case_id, ahead_p, ahead_status);

  ProgrammeStatus mismatch_status = CacheForm(mismatch);
  mismatch_status.state = "WRONG";
  PutRaw(mismatch.case_id, mismatch_p, mismatch_status);

  // Orphans: a case nobody owns, and a programme entry on a case only detox owns.
  ProgrammeStatus orphan;
  orphan.state = "ACTIVE";
  orphan.version = 3;
  orphan.written_at = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now() - absl::Hours(24)));
  const std::string nobody = CaseId::Mint("520102", 2025, 9999)->ToString();
  PutRaw(nobody, Programme::kCommunityRehab, orphan);
  const std::string detox_case = expected_.begin()->first.second;
  PutRaw(detox_case, Programme::kPlacement, orphan);
  // An entry written just now is probably a case created after the stream passed it.
  ProgrammeStatus fresh = orphan;
  fresh.written_at = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now() + absl::Minutes(1)));
  const std::string newcomer = CaseId::Mint("530102", 2026, 8888)->ToString();
  PutRaw(newcomer, Programme::kCommunityDetox, fresh);

  ReconcileResult result = Run(Options());
  EXPECT_EQ(result.exit_code, kExitDone);
  const Report& r = result.report;
  int64_t stale_found = 0, mismatch_found = 0, ahead_found = 0;
  for (const ServiceReport& s : r.services()) {
    stale_found += s.found().stale();
    mismatch_found += s.found().content_mismatch();
    ahead_found += s.found().cache_ahead();
    EXPECT_EQ(s.found().missing(), 0);
    EXPECT_EQ(s.repaired().cache_ahead(), 0);
  }
  EXPECT_EQ(stale_found, 1);
  EXPECT_EQ(mismatch_found, 1);
  EXPECT_EQ(ahead_found, 1);
  const ServiceReport& ahead_report = r.services(static_cast<int>(ahead_p));
  ASSERT_EQ(ahead_report.anomalies_size(), 1);
  EXPECT_EQ(ahead_report.anomalies(0).case_id(), ahead.case_id);
  EXPECT_EQ(ahead_report.anomalies(0).cache_version(), 9);
  EXPECT_EQ(ahead_report.anomalies(0).service_version(), 1);
  EXPECT_EQ(r.services(static_cast<int>(stale_p)).repaired().stale(), 1);
  EXPECT_EQ(r.services(static_cast<int>(mismatch_p)).repaired().content_mismatch(), 1);

  // The cache ahead is untouched; the rest equals the services.
  auto ahead_cached = cache_->Get(ahead.case_id);
  ASSERT_TRUE(ahead_cached.ok());
  EXPECT_EQ(ahead_cached->at(ahead_p), ahead_status);
  expected_.erase({ahead_p, ahead.case_id});
  for (const auto& [key, record] : expected_) {
    auto entries = cache_->Get(key.second);
    ASSERT_TRUE(entries.ok());
    ASSERT_TRUE(entries->count(key.first));
    EXPECT_EQ(entries->at(key.first), CacheForm(record));
  }

  EXPECT_EQ(r.orphans().found(), 2);
  EXPECT_EQ(r.orphans().removed(), 2);
  EXPECT_EQ(r.orphans().skipped_recent(), 1);
  EXPECT_EQ(r.orphans().found_by_programme().at("rehab"), 1);
  EXPECT_EQ(r.orphans().found_by_programme().at("placement"), 1);
  EXPECT_TRUE(cache_->Get(nobody)->empty());
  EXPECT_FALSE(cache_->Get(detox_case)->count(Programme::kPlacement));
  EXPECT_TRUE(cache_->Get(detox_case)->count(Programme::kCommunityDetox));
  EXPECT_TRUE(cache_->Get(newcomer)->count(Programme::kCommunityDetox));
}

TEST_F(ReconcilerTest, DryRunComputesEverythingAndWritesNothing) {
  ProgrammeStatus orphan;
  orphan.state = "ACTIVE";
  orphan.version = 1;
  orphan.written_at = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now() - absl::Hours(24)));
  const std::string nobody = CaseId::Mint("520102", 2025, 4242)->ToString();
  PutRaw(nobody, Programme::kCommunityRehab, orphan);

  ReconcileOptions o = Options();
  o.dry_run = true;
  ReconcileResult result = Run(o);
  EXPECT_EQ(result.exit_code, kExitDone);
  EXPECT_TRUE(result.report.dry_run());
  for (const Fleet& f : kFleet) {
    const ServiceReport& s = ServiceOf(result.report, f.service);
    EXPECT_EQ(s.found().missing(), f.cases);
    EXPECT_EQ(s.repaired().missing(), 0);
  }
  EXPECT_EQ(result.report.orphans().found(), 1);
  EXPECT_EQ(result.report.orphans().removed(), 0);
  EXPECT_EQ(CachedKeys(), 1);  // only the orphan, still there
  EXPECT_EQ(cache_->Get(nobody)->at(Programme::kCommunityRehab), orphan);
}

TEST_F(ReconcilerTest, AKilledRunResumesFromTheCheckpointAndProcessesEachCaseOnce) {
  ReconcileOptions o = Options();
  o.checkpoint_path = dir_.path() + "/reconcile.ckpt";
  o.max_pages = 3;  // stops inside the first service (230 cases = 5 pages)
  ReconcileResult first = Run(o);
  EXPECT_EQ(first.exit_code, kExitStoppedEarly);
  EXPECT_FALSE(first.report.complete());
  EXPECT_EQ(first.report.services(0).outcome(), "interrupted");
  EXPECT_EQ(first.report.services(0).cases(), 150);
  EXPECT_EQ(first.report.services(1).outcome(), "pending");
  ASSERT_EQ(::access(o.checkpoint_path.c_str(), F_OK), 0);

  o.max_pages = 4;  // finishes detox (2 pages), stops inside isolation
  ReconcileResult second = Run(o);
  EXPECT_EQ(second.exit_code, kExitStoppedEarly);
  EXPECT_EQ(second.report.services(0).outcome(), "complete");
  EXPECT_EQ(second.report.services(0).cases(), 230);
  EXPECT_EQ(second.report.services(1).cases(), 100);

  // A checkpoint of a real run refuses a dry rerun (it would mix the two).
  ReconcileOptions dry = o;
  dry.dry_run = true;
  auto refused = (*Reconciler::Create(dry, cache_.get()))->Run();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);

  o.max_pages = 0;
  ReconcileResult last = Run(o);
  EXPECT_EQ(last.exit_code, kExitDone);
  EXPECT_TRUE(last.report.complete());
  EXPECT_EQ(last.report.runs(), 3);
  // Every case was compared and repaired exactly once across the three runs: had one
  // been processed twice, it would show up as in sync (or the counts would exceed).
  for (const Fleet& f : kFleet) {
    const ServiceReport& s = ServiceOf(last.report, f.service);
    EXPECT_EQ(s.cases(), f.cases) << f.service;
    EXPECT_EQ(s.found().missing(), f.cases) << f.service;
    EXPECT_EQ(s.repaired().missing(), f.cases) << f.service;
    EXPECT_EQ(s.in_sync(), 0) << f.service;
    int64_t overdue = 0;
    for (const auto& [division, n] : overdue_[f.programme]) overdue += n;
    EXPECT_EQ(s.overdue(), overdue) << f.service;
  }
  EXPECT_EQ(last.report.cases(), kTotalCases);
  ExpectCacheMatchesServices();
  // The orphan pass ran with the complete set of owners rebuilt by re-streaming.
  EXPECT_EQ(last.report.orphans().outcome(), "complete");
  EXPECT_EQ(last.report.orphans().found(), 0);
  EXPECT_NE(::access(o.checkpoint_path.c_str(), F_OK), 0);  // done: removed
}

TEST_F(ReconcilerTest, AServiceDownIsReportedAndTheOthersAreReconciled) {
  ReconcileOptions o = Options();
  auto unused = test::PickUnusedLoopbackPort();
  ASSERT_TRUE(unused.ok());
  o.services[2].address = absl::StrCat("127.0.0.1:", *unused);  // rehab is down
  // An orphan-looking rehab entry must survive: nobody can tell what rehab owns.
  ProgrammeStatus entry;
  entry.state = "ACTIVE";
  entry.version = 1;
  entry.written_at = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now() - absl::Hours(24)));
  const std::string unknown = CaseId::Mint("520102", 2025, 777)->ToString();
  PutRaw(unknown, Programme::kCommunityRehab, entry);

  ReconcileResult result = Run(o);
  EXPECT_EQ(result.exit_code, kExitServiceFailed);
  EXPECT_FALSE(result.report.complete());
  const ServiceReport& rehab = ServiceOf(result.report, "community_rehab");
  EXPECT_EQ(rehab.outcome(), "failed");
  EXPECT_NE(rehab.error().find("UNAVAILABLE"), std::string::npos) << rehab.error();
  EXPECT_FALSE(rehab.outbox().reachable());
  for (const char* name : {"community_detox", "compulsory_isolation", "placement"}) {
    const ServiceReport& s = ServiceOf(result.report, name);
    EXPECT_EQ(s.outcome(), "complete") << name;
    EXPECT_EQ(s.repaired().missing(), s.cases()) << name;
  }
  ASSERT_EQ(result.report.orphans().programmes_not_checked_size(), 1);
  EXPECT_EQ(result.report.orphans().programmes_not_checked(0), "rehab");
  EXPECT_TRUE(cache_->Get(unknown)->count(Programme::kCommunityRehab));
}

TEST_F(ReconcilerTest, AHungServiceIsCutOffByTheDeadlines) {
  // Accepts connections, never answers: without deadlines the run would hang.
  auto hole = test::BlackHoleListener::Start();
  ASSERT_TRUE(hole.ok());
  ReconcileOptions o = Options();
  o.services[0].address = absl::StrCat("127.0.0.1:", (*hole)->port());
  o.page_timeout = absl::Milliseconds(300);
  o.call_timeout = absl::Milliseconds(300);
  o.stream_retries = 0;
  const absl::Time start = absl::Now();
  ReconcileResult result = Run(o);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(result.exit_code, kExitServiceFailed);
  const ServiceReport& detox = ServiceOf(result.report, "community_detox");
  EXPECT_EQ(detox.outcome(), "failed");
  EXPECT_NE(detox.error().find("DEADLINE_EXCEEDED"), std::string::npos) << detox.error();
  EXPECT_FALSE(detox.outbox().reachable());
  EXPECT_EQ(ServiceOf(result.report, "placement").outcome(), "complete");
}

TEST_F(ReconcilerTest, ReportsHandoffsStuckInAnOutbox) {
  Store& store = servers_[1]->runtime().store();  // compulsory_isolation has an outbox
  ASSERT_TRUE(store
                  .Write([&](Transaction& tx) -> absl::Status {
                    OutboxMessage m{"community_detox",
                                    "/pathway.detox.v1.CommunityDetox/CloseForIsolation",
                                    "secret-payload", "qz-decision-1-close-sd"};
                    return EnqueueHandoff(tx, m, absl::Now() - absl::Hours(5));
                  })
                  .ok());
  ReconcileResult result = Run(Options());
  EXPECT_EQ(result.exit_code, kExitDone);
  const OutboxReport& ob = ServiceOf(result.report, "compulsory_isolation").outbox();
  ASSERT_TRUE(ob.reachable());
  EXPECT_TRUE(ob.summary().has_outbox());
  EXPECT_EQ(ob.summary().pending(), 1);
  ASSERT_EQ(ob.summary().stuck_size(), 1);
  EXPECT_EQ(ob.summary().stuck(0).idempotency_key(), "qz-decision-1-close-sd");
  EXPECT_FALSE(ServiceOf(result.report, "community_detox").outbox().summary().has_outbox());
  EXPECT_EQ(ReportToJson(result.report).find("secret-payload"), std::string::npos);
  EXPECT_NE(FormatSummary(result.report).find("1 stuck hand-offs"), std::string::npos)
      << FormatSummary(result.report);
}

TEST_F(ReconcilerTest, TheCommandPrintsASummaryAndReturnsTheExitCode) {
  const std::string out_path = dir_.path() + "/stdout.txt";
  FILE* out = std::fopen(out_path.c_str(), "w");
  ASSERT_NE(out, nullptr);
  ReconcileOptions o = Options();
  EXPECT_EQ(RunCommand(o, redis_options_, out), kExitDone);
  o.services[3].address = "127.0.0.1:1";  // placement down
  o.stream_retries = 0;
  EXPECT_EQ(RunCommand(o, redis_options_, out), kExitServiceFailed);
  o = Options();
  o.token_key_file = dir_.path() + "/no-such.key";
  EXPECT_EQ(RunCommand(o, redis_options_, out), kExitUsage);
  RedisCacheOptions no_redis = redis_options_;
  no_redis.port = *test::PickUnusedLoopbackPort();
  EXPECT_EQ(RunCommand(Options(), no_redis, out), kExitServiceFailed);
  std::fclose(out);
  FILE* in = std::fopen(out_path.c_str(), "r");
  std::string text(1 << 16, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), in));
  std::fclose(in);
  EXPECT_NE(text.find("reconcile as of 2026-04-01: complete, 600 cases"), std::string::npos)
      << text;
  EXPECT_NE(text.find("placement             failed"), std::string::npos) << text;
  EXPECT_NE(text.find("report: " + report_dir_), std::string::npos) << text;
}

TEST_F(ReconcilerTest, UsageErrorsAreRefusedBeforeAnythingRuns) {
  ReconcileOptions o = Options();
  o.page_size = 0;
  EXPECT_EQ(Reconciler::Create(o, cache_.get()).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Options();
  o.token_key_file = dir_.path() + "/no-such.key";
  EXPECT_FALSE(Reconciler::Create(o, cache_.get()).ok());
  o = Options();
  o.services.push_back(o.services[0]);
  EXPECT_EQ(Reconciler::Create(o, cache_.get()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reconcile
}  // namespace pathway
