// Throughput of the reconciler on one machine: four in-process programme servers
// (real gRPC on loopback, real SQLite) holding `--cases` statuses between them and a
// real redis-server. Three runs: after FLUSHALL (every entry missing: all writes),
// in sync (reads only), and a dry run. Prints cases per second for each.
//
//   build-rc/tools/reconcile/reconcile_benchmark --cases=100000
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/cache/redis_status_cache.h"
#include "common/codec/programme.h"
#include "common/ids/case_id.h"
#include "common/log/log.h"
#include "common/server/testing_programme_server.h"
#include "common/store/testing_temp_dir.h"
#include "tests/testing/redis_server.h"
#include "tools/reconcile/reconciler.h"

ABSL_FLAG(int, cases, 100000, "Statuses in total, spread over the four services");
ABSL_FLAG(int, page_size, 5000, "Statuses per stream message");
ABSL_FLAG(int, write_concurrency, 8, "Concurrent Redis calls");

namespace pathway {
namespace reconcile {
namespace {

constexpr char kKey[] = "reconcile-benchmark-token-key-0123456789abc";

int Main() {
  log::SetMinLevel(log::Level::kWarning);
  ScopedTempDir dir;
  auto redis = test::RedisServer::Start();
  if (!redis.ok()) {
    std::fprintf(stderr, "redis: %s\n", redis.status().ToString().c_str());
    return 1;
  }
  RedisCacheOptions ro;
  ro.host = (*redis)->host();
  ro.port = (*redis)->port();
  ro.command_timeout = absl::Seconds(5);
  ro.pool_size = absl::GetFlag(FLAGS_write_concurrency) + 2;
  auto cache = *RedisStatusCache::Create(ro);
  const std::string key_file = dir.path() + "/token.key";
  {
    FILE* f = std::fopen(key_file.c_str(), "w");
    std::fputs(kKey, f);
    std::fclose(f);
  }

  const int total = absl::GetFlag(FLAGS_cases);
  ReconcileOptions o;
  o.services.clear();
  std::vector<std::unique_ptr<TestProgrammeServer>> servers;
  const absl::Time seeded_at = absl::Now() - absl::Hours(1);
  absl::Time t0 = absl::Now();
  for (int s = 0; s < 4; ++s) {
    const Programme programme = kAllProgrammes[s];
    TestProgrammeServer::Options so;
    so.service_name = std::string(ProgrammeService(programme));
    so.data_dir = dir.path();
    so.token_key = kKey;
    auto server = TestProgrammeServer::Start(so);
    if (!server.ok()) {
      std::fprintf(stderr, "server: %s\n", server.status().ToString().c_str());
      return 1;
    }
    std::vector<ProgramStatusRecord> records;
    for (int i = s; i < total; i += 4) {
      ProgramStatusRecord r;
      r.division = i % 3 == 0 ? "520102" : (i % 3 == 1 ? "530102" : "110105");
      r.case_id = CaseId::Mint(r.division, 2026, i + 1)->ToString();
      r.state = "ACTIVE";
      r.began = absl::CivilDay(2026, 3, 1);
      if (i % 2 == 0) {
        r.deadline_kind = "REPORT";
        r.deadline = absl::CivilDay(2026, 3, 16);
      }
      records.push_back(r);
    }
    if (absl::Status seeded = (*server)->Seed(&records, seeded_at); !seeded.ok()) {
      std::fprintf(stderr, "seed: %s\n", seeded.ToString().c_str());
      return 1;
    }
    o.services.push_back({so.service_name, programme, (*server)->address()});
    servers.push_back(*std::move(server));
  }
  std::printf("seeded %d statuses in %.1f s\n", total, absl::ToDoubleSeconds(absl::Now() - t0));
  o.token_key_file = key_file;
  o.as_of = absl::CivilDay(2026, 4, 1);
  o.page_size = absl::GetFlag(FLAGS_page_size);
  o.write_concurrency = absl::GetFlag(FLAGS_write_concurrency);

  auto run = [&](const char* label, bool dry_run) {
    o.dry_run = dry_run;
    auto reconciler = *Reconciler::Create(o, cache.get());
    absl::Time start = absl::Now();
    auto result = reconciler->Run();
    double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (!result.ok()) {
      std::printf("%s: %s\n", label, result.status().ToString().c_str());
      return;
    }
    int64_t repaired = 0;
    for (const auto& s : result->report.services()) repaired += s.repaired().missing();
    std::printf(
        "%-22s exit %d  %lld cases  %.2f s wall (incl. orphan scan %.2f s)  "
        "%.0f cases/s wall, %.0f cases/s in the service phase  repaired %lld\n",
        label, result->exit_code, static_cast<long long>(result->report.cases()), seconds,
        result->report.orphans().seconds(), result->report.cases() / seconds,
        result->report.cases_per_second(), static_cast<long long>(repaired));
  };
  run("after FLUSHALL", false);
  run("in sync", false);
  run("dry run (in sync)", true);
  return 0;
}

}  // namespace
}  // namespace reconcile
}  // namespace pathway

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return pathway::reconcile::Main();
}
