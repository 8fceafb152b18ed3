#include "tools/bench/closed_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <memory>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace pathway {
namespace bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Depth of IssueFn calls on this thread: a call that completes inline (before
// IssueFn returns) must not issue the next one recursively.
thread_local int issue_depth = 0;

struct Slot {
  uint64_t seq = 0;
  SteadyClock::time_point started;
  std::vector<int64_t> micros;
  std::map<std::string, int64_t> errors;
  int64_t calls = 0;
};

class Loop {
 public:
  Loop(const ClosedLoop::Options& options, const ClosedLoop::IssueFn& issue)
      : options_(options), issue_(issue), slots_(options.concurrency) {
    const SteadyClock::time_point now = SteadyClock::now();
    measure_start_ = now + absl::ToChronoNanoseconds(options.warmup);
    measure_end_ = measure_start_ + absl::ToChronoNanoseconds(options.duration);
    active_ = options.concurrency;
  }

  LoadResult Run(std::vector<int64_t>* micros_out) {
    for (int i = 0; i < options_.concurrency; ++i) Issue(i);
    // Drive slots whose call completed inline, until every slot has stopped.
    while (true) {
      int slot = -1;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &Loop::HasWork));
        if (deferred_.empty()) break;  // all stopped
        slot = deferred_.front();
        deferred_.pop_front();
      }
      Issue(slot);
    }
    LoadResult r;
    r.concurrency = options_.concurrency;
    std::vector<int64_t> all;
    for (Slot& s : slots_) {
      all.insert(all.end(), s.micros.begin(), s.micros.end());
      for (const auto& [code, n] : s.errors) r.errors_by_code[code] += n;
    }
    if (micros_out != nullptr) micros_out->insert(micros_out->end(), all.begin(), all.end());
    Summarize(&all, absl::ToDoubleSeconds(options_.duration), &r);
    r.errors = 0;
    for (const auto& [code, n] : r.errors_by_code) r.errors += n;
    return r;
  }

 private:
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !deferred_.empty() || active_ == 0;
  }

  void Issue(int slot) {
    Slot& s = slots_[slot];
    const uint64_t seq = s.seq++;
    s.started = SteadyClock::now();
    ++issue_depth;
    issue_(slot, seq, [this, slot](const grpc::Status& status) { Done(slot, status); });
    --issue_depth;
  }

  void Done(int slot, const grpc::Status& status) {
    Slot& s = slots_[slot];
    const SteadyClock::time_point now = SteadyClock::now();
    if (now >= measure_start_ && now <= measure_end_) {
      s.micros.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(now - s.started).count());
      if (!status.ok()) ++s.errors[CodeName(status.error_code())];
    }
    if (now >= measure_end_) {
      absl::MutexLock lock(&mu_);
      --active_;
      return;
    }
    if (issue_depth > 0) {
      absl::MutexLock lock(&mu_);
      deferred_.push_back(slot);
      return;
    }
    Issue(slot);
  }

  const ClosedLoop::Options options_;
  const ClosedLoop::IssueFn& issue_;
  std::vector<Slot> slots_;  // slot i touched only by its own (sequential) calls
  SteadyClock::time_point measure_start_;
  SteadyClock::time_point measure_end_;
  absl::Mutex mu_;
  std::deque<int> deferred_ ABSL_GUARDED_BY(mu_);
  int active_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

double PercentileMs(const std::vector<int64_t>& sorted_micros, double p) {
  if (sorted_micros.empty()) return 0;
  const double n = static_cast<double>(sorted_micros.size());
  // The epsilon keeps 99.9% of 1000 at rank 999 despite binary fractions.
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * n - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted_micros.size());
  return static_cast<double>(sorted_micros[rank - 1]) / 1000.0;
}

void Summarize(std::vector<int64_t>* micros, double seconds, LoadResult* result) {
  std::sort(micros->begin(), micros->end());
  result->seconds = seconds;
  result->calls = static_cast<int64_t>(micros->size());
  result->throughput = seconds > 0 ? static_cast<double>(result->calls) / seconds : 0;
  double sum = 0;
  for (int64_t m : *micros) sum += static_cast<double>(m);
  result->mean_ms = micros->empty() ? 0 : sum / static_cast<double>(micros->size()) / 1000.0;
  result->p50_ms = PercentileMs(*micros, 50);
  result->p99_ms = PercentileMs(*micros, 99);
  result->p999_ms = PercentileMs(*micros, 99.9);
  result->max_ms = micros->empty() ? 0 : static_cast<double>(micros->back()) / 1000.0;
}

LoadResult ClosedLoop::Run(const Options& options, const IssueFn& issue,
                           std::vector<int64_t>* micros_out) {
  Options o = options;
  o.concurrency = std::max(1, o.concurrency);
  Loop loop(o, issue);
  return loop.Run(micros_out);
}

std::string CodeName(grpc::StatusCode code) {
  // gRPC and absl share the numbering of canonical codes.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace bench
}  // namespace pathway
