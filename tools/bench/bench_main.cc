// pathway_bench: the closed-loop load generator (docs/benchmarks.md). Every run measures the
// standard health check (grpc.health.v1.Health/Check) of the same server in the same
// run, alternating with the scenario round by round at the same concurrency, so each
// figure is also a ratio to that floor.
//
//   pathway_bench --scenario=status --addr=127.0.0.1:50051
//       --token_key_file=data/dev-token.key --cases_file=cases.tsv
//       --concurrency=1,8,32,64 --duration_s=5 --rounds=2     (one command line)
//
// Scenarios:
//   health        the floor alone
//   status        registry GetCaseStatus of cases with a programme (cache hits)
//   batch_status  registry BatchGetCaseStatus of --batch ids
//   worklist      registry GetWorklist of a township (or county) caseworker
//   record_test   community_detox RecordTest (a negative urine test) on open SD
//                 orders; a fresh idempotency-key per call (a retry would replay)
//   wait          exit 0 once the server answers SERVING (--deadline_ms bounds it)
//   import        placement ImportPostings of --rows generated rows in --chunk_rows
//                 chunks over one stream (rows per second; not a closed loop)
// Output: one table row per concurrency (throughput, p50/p99/p99.9 latency in ms,
// errors, the floor's throughput and p99, and the ratios), plus "#" lines with
// details. Exit code 0 unless the run could not start (benchmarks never fail CI).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <unistd.h>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/client/bearer_context.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "pathway/detox/v1/detox.grpc.pb.h"
#include "pathway/placement/v1/placement.grpc.pb.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "tools/bench/bench_support.h"
#include "tools/bench/closed_loop.h"

ABSL_FLAG(std::string, scenario, "health",
          "health | status | batch_status | record_test | worklist | import | wait");
ABSL_FLAG(std::string, addr, "127.0.0.1:50051", "the server under test");
ABSL_FLAG(std::string, concurrency, "1,8,32,64", "comma-separated slot counts");
ABSL_FLAG(double, duration_s, 5, "measured seconds per phase");
ABSL_FLAG(double, warmup_s, 1, "unmeasured seconds before each phase");
ABSL_FLAG(int, rounds, 2, "floor/scenario alternations per concurrency (samples merged)");
ABSL_FLAG(int, channels, 4, "client channels (TCP connections), shared by floor and scenario");
ABSL_FLAG(bool, floor, true, "also measure the health-check floor");
ABSL_FLAG(std::string, token_key_file, "", "the deployment's token signing key");
ABSL_FLAG(std::string, jurisdiction, "52", "the caseworker token's jurisdiction");
ABSL_FLAG(std::string, cases_file, "", "case list written by pathway_seed");
ABSL_FLAG(int, batch, 100, "ids per BatchGetCaseStatus");
ABSL_FLAG(std::string, worklist_level, "township",
          "worklist: whose list, a township caseworker's or a county caseworker's");
ABSL_FLAG(int64_t, rows, 1000000, "import: rows to send");
ABSL_FLAG(int, chunk_rows, 1000, "import: rows per stream message");
ABSL_FLAG(std::string, label, "", "free text printed with each row (e.g. the data size)");
ABSL_FLAG(bool, header, true, "print the table header");
ABSL_FLAG(int, deadline_ms, 10000, "deadline of each call");
ABSL_FLAG(bool, idempotency_key, true,
          "record_test: send a fresh idempotency-key with each call (false: none, so a "
          "write must never commit after its caller gave up; compare the OK answers "
          "printed at the end with the rows committed)");
ABSL_FLAG(int, backoff_ms, 0,
          "record_test: after RESOURCE_EXHAUSTED a slot waits a jittered, doubling "
          "backoff starting here (at most 1 s; reset by an OK) before its next call, as "
          "common.proto asks of clients; 0 calls again at once");

namespace pathway {
namespace bench {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr double kStatusTargetThroughput = 0.8;  // targets, reported only
constexpr double kStatusTargetP99 = 2.0;
constexpr double kWriteTargetThroughput = 0.4;
constexpr double kImportTargetRows = 50000;

template <typename Req, typename Resp>
struct Call {
  grpc::ClientContext ctx;
  Req req;
  Resp resp;
};

void SetDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(absl::GetFlag(FLAGS_deadline_ms)));
}

// The scenario under test: issues one call for a slot.
class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual void Issue(int slot, uint64_t seq, ClosedLoop::DoneFn done) = 0;
};

class HealthScenario final : public Scenario {
 public:
  explicit HealthScenario(const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
    for (const auto& ch : channels) stubs_.push_back(Health::NewStub(ch));
  }
  void Issue(int slot, uint64_t, ClosedLoop::DoneFn done) override {
    auto call = std::make_shared<Call<HealthCheckRequest, HealthCheckResponse>>();
    SetDeadline(&call->ctx);
    stubs_[slot % stubs_.size()]->async()->Check(
        &call->ctx, &call->req, &call->resp, [call, done](grpc::Status s) {
          if (s.ok() && call->resp.status() != HealthCheckResponse::SERVING) {
            s = grpc::Status(grpc::StatusCode::UNAVAILABLE, "not serving");
          }
          done(s);
        });
  }

 private:
  std::vector<std::unique_ptr<Health::Stub>> stubs_;
};

class StatusScenario final : public Scenario {
 public:
  StatusScenario(const std::vector<std::shared_ptr<grpc::Channel>>& channels, std::string token,
                 std::vector<std::string> ids, int batch)
      : token_(std::move(token)), ids_(std::move(ids)), batch_(batch) {
    for (const auto& ch : channels) stubs_.push_back(registry::v1::Registry::NewStub(ch));
  }
  void Issue(int slot, uint64_t seq, ClosedLoop::DoneFn done) override {
    // A different case each call, spread over the whole list.
    const size_t start = Pick(slot, seq);
    auto* stub = stubs_[slot % stubs_.size()].get();
    if (batch_ <= 1) {
      auto call = std::make_shared<Call<registry::v1::GetCaseStatusRequest,
                                        registry::v1::CaseStatus>>();
      Prepare(&call->ctx);
      call->req.set_case_id(ids_[start]);
      stub->async()->GetCaseStatus(&call->ctx, &call->req, &call->resp,
                                   [this, call, done](grpc::Status s) {
                                     if (s.ok() && call->resp.programs_size() == 0) {
                                       s = grpc::Status(grpc::StatusCode::DATA_LOSS,
                                                        "no programme in the status");
                                     }
                                     Count(call->resp);
                                     done(s);
                                   });
      return;
    }
    auto call = std::make_shared<Call<registry::v1::BatchGetCaseStatusRequest,
                                      registry::v1::BatchGetCaseStatusResponse>>();
    Prepare(&call->ctx);
    for (int i = 0; i < batch_; ++i) call->req.add_case_ids(ids_[(start + i) % ids_.size()]);
    const int want = batch_;
    stub->async()->BatchGetCaseStatus(&call->ctx, &call->req, &call->resp,
                                      [this, call, done, want](grpc::Status s) {
                                        if (s.ok() && call->resp.statuses_size() != want) {
                                          s = grpc::Status(grpc::StatusCode::DATA_LOSS,
                                                           "short batch");
                                        }
                                        for (const auto& cs : call->resp.statuses()) Count(cs);
                                        done(s);
                                      });
  }

  // Programme entries served from the cache and from the owning services.
  int64_t cache_hits() const { return cache_hits_.load(); }
  int64_t cache_misses() const { return cache_misses_.load(); }

 private:
  void Count(const registry::v1::CaseStatus& cs) {
    for (const auto& p : cs.programs()) {
      if (p.freshness() == common::v1::FRESHNESS_CACHE) {
        cache_hits_.fetch_add(1, std::memory_order_relaxed);
      } else {
        cache_misses_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  size_t Pick(int slot, uint64_t seq) const {
    // A multiplicative walk: consecutive calls hit unrelated cases.
    const uint64_t x = (seq * 1000003ULL + static_cast<uint64_t>(slot) * 7919ULL) * 2654435761ULL;
    return static_cast<size_t>(x % ids_.size());
  }
  void Prepare(grpc::ClientContext* ctx) const {
    SetDeadline(ctx);
    SetBearerToken(ctx, token_);
  }

  std::string token_;
  std::vector<std::string> ids_;
  int batch_;
  std::vector<std::unique_ptr<registry::v1::Registry::Stub>> stubs_;
  std::atomic<int64_t> cache_hits_{0};
  std::atomic<int64_t> cache_misses_{0};
};

// Registry GetWorklist of a township caseworker (or a county caseworker with
// --worklist_level=county): each call a different township of the seeded counties,
// the default query (open items due within 30 days, overdue ones always), a page of 50.
class WorklistScenario final : public Scenario {
 public:
  WorklistScenario(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                   std::vector<std::string> tokens)
      : tokens_(std::move(tokens)) {
    for (const auto& ch : channels) stubs_.push_back(registry::v1::Registry::NewStub(ch));
  }
  void Issue(int slot, uint64_t seq, ClosedLoop::DoneFn done) override {
    auto call = std::make_shared<Call<registry::v1::GetWorklistRequest,
                                      registry::v1::GetWorklistResponse>>();
    SetDeadline(&call->ctx);
    const uint64_t pick = (seq * 1000003ULL + static_cast<uint64_t>(slot) * 7919ULL) % tokens_.size();
    SetBearerToken(&call->ctx, tokens_[pick]);
    call->req.mutable_page()->set_page_size(50);
    stubs_[slot % stubs_.size()]->async()->GetWorklist(
        &call->ctx, &call->req, &call->resp, [this, call, done](grpc::Status s) {
          if (s.ok()) {
            items_.fetch_add(call->resp.items_size(), std::memory_order_relaxed);
            totals_.fetch_add(call->resp.page().total_size(), std::memory_order_relaxed);
            calls_.fetch_add(1, std::memory_order_relaxed);
          }
          done(s);
        });
  }
  // Mean items on the page and mean total per OK call.
  double mean_items() const { return calls_ ? static_cast<double>(items_) / calls_ : 0; }
  double mean_total() const { return calls_ ? static_cast<double>(totals_) / calls_ : 0; }

 private:
  std::vector<std::string> tokens_;
  std::vector<std::unique_ptr<registry::v1::Registry::Stub>> stubs_;
  std::atomic<int64_t> items_{0};
  std::atomic<int64_t> totals_{0};
  std::atomic<int64_t> calls_{0};
};

// Runs callbacks after a delay on one thread of its own: a slot that was refused
// waits out its backoff here instead of holding a gRPC callback thread.
class DelayQueue {
 public:
  DelayQueue() : thread_([this] { Loop(); }) {}
  ~DelayQueue() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      cv_.Signal();
    }
    thread_.join();
  }
  void After(absl::Duration delay, std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    due_.emplace(absl::Now() + delay, std::move(fn));
    cv_.Signal();
  }

 private:
  // Runs each callback once its time has come (all at once when stopping).
  void Loop() {
    absl::MutexLock lock(&mu_);
    for (;;) {
      if (due_.empty()) {
        if (stopping_) return;
        cv_.Wait(&mu_);
        continue;
      }
      auto first = due_.begin();
      if (!stopping_ && first->first > absl::Now()) {
        cv_.WaitWithDeadline(&mu_, first->first);
        continue;
      }
      std::function<void()> fn = std::move(first->second);
      due_.erase(first);
      mu_.Unlock();
      fn();
      mu_.Lock();
    }
  }
  absl::CondVar cv_;
  absl::Mutex mu_;
  std::multimap<absl::Time, std::function<void()>> due_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class RecordTestScenario final : public Scenario {
 public:
  RecordTestScenario(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                     std::string token, std::vector<std::string> ids)
      : token_(std::move(token)),
        ids_(std::move(ids)),
        run_(absl::StrCat(getpid(), "-", absl::ToUnixMillis(absl::Now()))),
        today_(Today()) {
    for (const auto& ch : channels) stubs_.push_back(detox::v1::CommunityDetox::NewStub(ch));
  }
  void Issue(int slot, uint64_t, ClosedLoop::DoneFn done) override {
    auto call = std::make_shared<Call<detox::v1::RecordTestRequest, detox::v1::Order>>();
    SetDeadline(&call->ctx);
    SetBearerToken(&call->ctx, token_);
    // A fresh key per call (a counter over the whole process: slots and their
    // sequence numbers restart in every phase): each call is a new durable
    // write; a client retry with the same key would replay the first answer.
    const uint64_t n = next_.fetch_add(1);
    if (absl::GetFlag(FLAGS_idempotency_key)) {
      call->ctx.AddMetadata("idempotency-key", absl::StrCat("bench-", run_, "-", n));
    }
    call->req.set_case_id(ids_[(n * 7919ULL) % ids_.size()]);
    // Within the last 4 weeks: after every seeded report date, never in the future.
    ToProtoDate(today_ - static_cast<int>(n % 28), call->req.mutable_tested_on());
    call->req.set_specimen(detox::v1::SPECIMEN_URINE);
    call->req.set_result(detox::v1::TEST_RESULT_NEGATIVE);
    const absl::Time start = absl::Now();
    stubs_[slot % stubs_.size()]->async()->RecordTest(
        &call->ctx, &call->req, &call->resp, [this, call, done, start, slot](grpc::Status s) {
          const int64_t us = absl::ToInt64Microseconds(absl::Now() - start);
          if (s.ok()) {
            ok_.fetch_add(1);
            BackoffAttempts(slot) = 0;
            absl::MutexLock lock(&mu_);
            if (ok_micros_.size() < 10000000) ok_micros_.push_back(us);
          } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
            {
              absl::MutexLock lock(&mu_);
              if (refusal_micros_.size() < 1000000) refusal_micros_.push_back(us);
            }
            const absl::Duration wait = NextBackoff(slot);
            if (wait > absl::ZeroDuration()) {
              delays_.After(wait, [done, s] { done(s); });
              return;
            }
          }
          done(s);
        });
  }
  // Latencies of OK answers since the last call.
  std::vector<int64_t> TakeOkMicros() {
    absl::MutexLock lock(&mu_);
    return std::exchange(ok_micros_, {});
  }
  // Every OK answer since the start, warmup and every phase included.
  int64_t ok_answers() const { return ok_.load(); }
  // Latencies of RESOURCE_EXHAUSTED answers since the last call.
  std::vector<int64_t> TakeRefusalMicros() {
    absl::MutexLock lock(&mu_);
    return std::exchange(refusal_micros_, {});
  }

 private:
  std::string token_;
  std::vector<std::string> ids_;
  std::string run_;
  absl::CivilDay today_;
  std::atomic<uint64_t> next_{0};
  std::vector<std::unique_ptr<detox::v1::CommunityDetox::Stub>> stubs_;
  std::atomic<int64_t> ok_{0};
  // Full jitter over a doubling ceiling (AWS's "exponential backoff and jitter").
  absl::Duration NextBackoff(int slot) {
    const int base = absl::GetFlag(FLAGS_backoff_ms);
    if (base <= 0) return absl::ZeroDuration();
    int& attempts = BackoffAttempts(slot);
    const int64_t ceiling = std::min<int64_t>(1000, int64_t{base} << std::min(attempts, 10));
    ++attempts;
    thread_local std::mt19937_64 rng(std::random_device{}());
    return absl::Milliseconds(std::uniform_int_distribution<int64_t>(ceiling / 2, ceiling)(rng));
  }
  // One counter per slot; a slot's calls never overlap, so no lock is needed.
  int& BackoffAttempts(int slot) { return attempts_[static_cast<size_t>(slot) % attempts_.size()]; }

  std::vector<int> attempts_ = std::vector<int>(65536, 0);
  DelayQueue delays_;
  absl::Mutex mu_;
  std::vector<int64_t> refusal_micros_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> ok_micros_ ABSL_GUARDED_BY(mu_);
};

std::string Ms(double ms) { return absl::StrFormat("%.2f", ms); }

void PrintHeader() {
  std::printf("%-12s %-10s %5s %9s %7s %9s %8s %8s %9s | %9s %8s | %7s %7s\n", "scenario",
              "label", "conc", "calls", "errors", "calls/s", "p50_ms", "p99_ms", "p99.9_ms",
              "floor/s", "floor99", "x_rps", "x_p99");
}

void PrintRow(const std::string& scenario, const LoadResult& r, const LoadResult* floor) {
  std::printf("%-12s %-10s %5d %9lld %7lld %9.0f %8s %8s %9s | %9s %8s | %7s %7s\n",
              scenario.c_str(), absl::GetFlag(FLAGS_label).c_str(), r.concurrency,
              static_cast<long long>(r.calls), static_cast<long long>(r.errors), r.throughput,
              Ms(r.p50_ms).c_str(), Ms(r.p99_ms).c_str(), Ms(r.p999_ms).c_str(),
              floor ? absl::StrFormat("%.0f", floor->throughput).c_str() : "-",
              floor ? Ms(floor->p99_ms).c_str() : "-",
              floor && floor->throughput > 0
                  ? absl::StrFormat("%.2f", r.throughput / floor->throughput).c_str()
                  : "-",
              floor && floor->p99_ms > 0 ? absl::StrFormat("%.2f", r.p99_ms / floor->p99_ms).c_str()
                                         : "-");
  for (const auto& [code, n] : r.errors_by_code) {
    std::printf("#   %s conc %d: %lld x %s\n", scenario.c_str(), r.concurrency,
                static_cast<long long>(n), code.c_str());
  }
  if (r.errors > 0 && r.calls > 0) {
    std::printf("#   %s conc %d: goodput %.0f OK/s (%.1f%% of calls OK)\n", scenario.c_str(),
                r.concurrency, r.throughput * static_cast<double>(r.calls - r.errors) /
                                   static_cast<double>(r.calls),
                100.0 * static_cast<double>(r.calls - r.errors) / static_cast<double>(r.calls));
  }
  std::fflush(stdout);
}

// Runs `rounds` alternations of floor and scenario at one concurrency and merges
// the samples of each.
void Measure(const std::string& name, Scenario* scenario, Scenario* floor, int concurrency) {
  ClosedLoop::Options o;
  o.concurrency = concurrency;
  o.duration = absl::Seconds(absl::GetFlag(FLAGS_duration_s));
  o.warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup_s));
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  std::vector<int64_t> floor_micros, micros;
  LoadResult floor_total, total;
  for (int r = 0; r < rounds; ++r) {
    if (floor != nullptr) {
      LoadResult f = ClosedLoop::Run(
          o, [&](int slot, uint64_t seq, ClosedLoop::DoneFn done) { floor->Issue(slot, seq, done); },
          &floor_micros);
      for (const auto& [code, n] : f.errors_by_code) floor_total.errors_by_code[code] += n;
    }
    if (scenario != nullptr) {
      LoadResult s = ClosedLoop::Run(
          o, [&](int slot, uint64_t seq, ClosedLoop::DoneFn done) {
            scenario->Issue(slot, seq, done);
          },
          &micros);
      for (const auto& [code, n] : s.errors_by_code) total.errors_by_code[code] += n;
    }
  }
  const double seconds = absl::ToDoubleSeconds(o.duration) * rounds;
  floor_total.concurrency = total.concurrency = concurrency;
  Summarize(&floor_micros, seconds, &floor_total);
  Summarize(&micros, seconds, &total);
  for (const auto& [code, n] : floor_total.errors_by_code) floor_total.errors += n;
  for (const auto& [code, n] : total.errors_by_code) total.errors += n;
  if (scenario == nullptr) {
    PrintRow("health", floor_total, nullptr);
  } else {
    PrintRow(name, total, floor != nullptr ? &floor_total : nullptr);
  }
}

int RunImport(const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  absl::StatusOr<std::string> token =
      MintToken(absl::GetFlag(FLAGS_token_key_file), Role::kLaborBureau,
                absl::GetFlag(FLAGS_jurisdiction), "bench-labor-bureau");
  if (!token.ok()) {
    std::fprintf(stderr, "token: %s\n", token.status().ToString().c_str());
    return 2;
  }
  auto stub = placement::v1::Placement::NewStub(channels[0]);
  const int64_t rows = absl::GetFlag(FLAGS_rows);
  const int chunk_rows = std::clamp(absl::GetFlag(FLAGS_chunk_rows), 1, 1000);
  const std::string run = absl::StrCat(getpid(), "-", absl::ToUnixMillis(absl::Now()));
  const absl::CivilDay today = Today();
  const std::vector<std::string>& divisions = SyntheticDivisions();
  static const char* const kTitles[] = {"焊工", "厨师", "保洁员", "仓库管理员", "快递员",
                                        "服装缝纫工", "建筑工人", "茶园采摘工"};
  static const char* const kSkills[] = {"welding", "cooking", "cleaning", "logistics",
                                        "delivery", "sewing", "construction", "tea"};
  grpc::ClientContext ctx;
  SetBearerToken(&ctx, *token);
  placement::v1::ImportResult result;
  const absl::Time start = absl::Now();
  std::unique_ptr<grpc::ClientWriter<placement::v1::ImportPostingsChunk>> writer =
      stub->ImportPostings(&ctx, &result);
  int64_t sent = 0;
  bool broken = false;
  placement::v1::ImportPostingsChunk chunk;
  while (sent < rows && !broken) {
    chunk.Clear();
    // Generated on the fly: memory stays flat whatever --rows is.
    for (int i = 0; i < chunk_rows && sent < rows; ++i, ++sent) {
      placement::v1::PostingRow* r = chunk.add_rows();
      const int k = static_cast<int>(sent % 8);
      r->set_record_id(absl::StrCat("LB-", run, "-", sent));
      r->set_employer_name(absl::StrCat("阳光企业", sent % 997));
      r->set_title(kTitles[k]);
      r->set_division(divisions[sent % divisions.size()]);
      r->set_wage_min(2500 + static_cast<int32_t>(sent % 20) * 100);
      r->set_wage_max(r->wage_min() + 1500);
      r->add_skills(kSkills[k]);
      r->add_skills(kSkills[(k + 3) % 8]);
      r->set_openings(1 + static_cast<int32_t>(sent % 30));
      ToProtoDate(today - static_cast<int>(sent % 30), r->mutable_valid_from());
      ToProtoDate(today + 90, r->mutable_valid_until());
    }
    if (!writer->Write(chunk)) broken = true;
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double rate = seconds > 0 ? static_cast<double>(sent) / seconds : 0;
  std::printf("%-12s %-10s %10s %10s %10s %10s %8s %10s %8s\n", "scenario", "label", "rows",
              "imported", "updated", "rejected", "seconds", "rows/s", "target");
  std::printf("%-12s %-10s %10lld %10lld %10lld %10lld %8.1f %10.0f %8s\n", "import",
              absl::GetFlag(FLAGS_label).c_str(), static_cast<long long>(sent),
              static_cast<long long>(result.rows_imported()),
              static_cast<long long>(result.rows_updated()),
              static_cast<long long>(result.rows_rejected()), seconds, rate,
              rate >= kImportTargetRows ? "met" : "missed");
  if (!s.ok()) {
    std::printf("#   import stream ended with %s: %s\n", CodeName(s.error_code()).c_str(),
                s.error_message().c_str());
  }
  for (const auto& e : result.errors()) {
    std::printf("#   row %lld rejected: %s %s\n", static_cast<long long>(e.row()),
                e.field().c_str(), e.reason().c_str());
    break;  // the first one is enough to see what is wrong
  }
  std::fflush(stdout);
  return 0;
}

// Polls the health check until the server is SERVING (the scripts' readiness
// probe); 0 when it is, 1 after --deadline_ms.
int WaitServing() {
  auto stub = Health::NewStub(grpc::CreateChannel(absl::GetFlag(FLAGS_addr),
                                                  grpc::InsecureChannelCredentials()));
  const absl::Time deadline = absl::Now() + absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms));
  while (absl::Now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    HealthCheckRequest req;
    HealthCheckResponse resp;
    if (stub->Check(&ctx, req, &resp).ok() && resp.status() == HealthCheckResponse::SERVING) {
      return 0;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return 1;
}

int Main() {
  const std::string name = absl::GetFlag(FLAGS_scenario);
  if (name == "wait") return WaitServing();
  std::vector<std::shared_ptr<grpc::Channel>> channels =
      MakeChannels(absl::GetFlag(FLAGS_addr), absl::GetFlag(FLAGS_channels));
  if (!WaitConnected(channels, 30)) {
    std::fprintf(stderr, "cannot connect to %s\n", absl::GetFlag(FLAGS_addr).c_str());
    return 2;
  }
  if (name == "import") return RunImport(channels);

  std::vector<int> levels;
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_concurrency), ',')) {
    int c = 0;
    if (!absl::SimpleAtoi(part, &c) || c < 1 || c > 4096) {
      std::fprintf(stderr, "--concurrency: bad value\n");
      return 2;
    }
    levels.push_back(c);
  }
  HealthScenario health(channels);
  std::unique_ptr<Scenario> scenario;
  if (name != "health") {
    absl::StatusOr<std::vector<CaseLine>> cases = ReadCaseFile(absl::GetFlag(FLAGS_cases_file));
    if (!cases.ok()) {
      std::fprintf(stderr, "%s\n", cases.status().ToString().c_str());
      return 2;
    }
    absl::StatusOr<std::string> token = MintToken(absl::GetFlag(FLAGS_token_key_file),
                                                  Role::kCaseworker,
                                                  absl::GetFlag(FLAGS_jurisdiction));
    if (!token.ok()) {
      std::fprintf(stderr, "token: %s\n", token.status().ToString().c_str());
      return 2;
    }
    std::vector<std::string> ids;
    for (const CaseLine& c : *cases) {
      const bool wanted = name == "record_test" ? InDetox(c.kind) : c.kind != CaseKind::kRegistered;
      if (wanted) ids.push_back(c.case_id);
    }
    if (ids.empty()) {
      std::fprintf(stderr, "no suitable case in %s\n", absl::GetFlag(FLAGS_cases_file).c_str());
      return 2;
    }
    if (name == "worklist") {
      // One caseworker per township (or county) of the seeded cases.
      std::set<std::string> scopes;
      for (const CaseLine& c : *cases) {
        if (absl::GetFlag(FLAGS_worklist_level) == "county") {
          scopes.insert(c.division);
          continue;
        }
        for (int t = 1; t <= kTownshipsPerCounty; ++t) {
          scopes.insert(absl::StrCat(c.division, absl::StrCat(1000 + t).substr(1)));
        }
      }
      std::vector<std::string> tokens;
      for (const std::string& scope : scopes) {
        absl::StatusOr<std::string> t = MintToken(absl::GetFlag(FLAGS_token_key_file),
                                                  Role::kCaseworker, scope,
                                                  absl::StrCat("bench-cw-", scope));
        if (!t.ok()) {
          std::fprintf(stderr, "token: %s\n", t.status().ToString().c_str());
          return 2;
        }
        tokens.push_back(*t);
      }
      scenario = std::make_unique<WorklistScenario>(channels, std::move(tokens));
    } else if (name == "status") {
      scenario = std::make_unique<StatusScenario>(channels, *token, std::move(ids), 1);
    } else if (name == "batch_status") {
      scenario = std::make_unique<StatusScenario>(channels, *token, std::move(ids),
                                                  std::clamp(absl::GetFlag(FLAGS_batch), 2, 1000));
    } else if (name == "record_test") {
      scenario = std::make_unique<RecordTestScenario>(channels, *token, std::move(ids));
    } else {
      std::fprintf(stderr, "--scenario: unknown %s\n", name.c_str());
      return 2;
    }
  }
  if (absl::GetFlag(FLAGS_header)) PrintHeader();
  auto* record = dynamic_cast<RecordTestScenario*>(scenario.get());
  for (int c : levels) {
    Measure(name, scenario.get(), absl::GetFlag(FLAGS_floor) || !scenario ? &health : nullptr, c);
    if (record != nullptr) {
      std::vector<int64_t> refusals = record->TakeRefusalMicros();
      if (!refusals.empty()) {
        std::sort(refusals.begin(), refusals.end());
        auto at = [&](double q) {
          return static_cast<double>(refusals[std::min(
                     refusals.size() - 1, static_cast<size_t>(q * refusals.size()))]) /
                 1000.0;
        };
        std::printf("#   %s conc %d: RESOURCE_EXHAUSTED answered in p50 %.2f ms, p99 %.2f ms,"
                    " max %.2f ms (%zu refusals, warmup included)\n",
                    name.c_str(), c, at(0.5), at(0.99), at(1.0), refusals.size());
      }
      std::vector<int64_t> oks = record->TakeOkMicros();
      if (!oks.empty()) {
        std::sort(oks.begin(), oks.end());
        std::printf("#   %s conc %d: OK answered in p50 %.2f ms, p99 %.2f ms (%zu, warmup "
                    "included)\n",
                    name.c_str(), c, PercentileMs(oks, 50), PercentileMs(oks, 99), oks.size());
      }
    }
  }
  if (record != nullptr) {
    std::printf("# record_test OK answers, warmup included: %lld (idempotency keys: %s)\n",
                static_cast<long long>(record->ok_answers()),
                absl::GetFlag(FLAGS_idempotency_key) ? "yes" : "no");
  }
  if (auto* wl = dynamic_cast<WorklistScenario*>(scenario.get()); wl != nullptr) {
    std::printf("# worklist (%s level): %.1f items a page, %.1f items in the whole list, on"
                " average\n",
                absl::GetFlag(FLAGS_worklist_level).c_str(), wl->mean_items(), wl->mean_total());
  }
  if (auto* st = dynamic_cast<StatusScenario*>(scenario.get()); st != nullptr) {
    const int64_t all = st->cache_hits() + st->cache_misses();
    std::printf("# programme entries from the cache: %lld of %lld (%.2f%%)\n",
                static_cast<long long>(st->cache_hits()), static_cast<long long>(all),
                all > 0 ? 100.0 * static_cast<double>(st->cache_hits()) / all : 0.0);
  }
  std::printf("# targets: status >= %.1fx floor calls/s and p99 <= %.1fx floor p99; "
              "durable write >= %.1fx floor calls/s at concurrency 64\n",
              kStatusTargetThroughput, kStatusTargetP99, kWriteTargetThroughput);
  return 0;
}

}  // namespace
}  // namespace bench
}  // namespace pathway

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return pathway::bench::Main();
}
