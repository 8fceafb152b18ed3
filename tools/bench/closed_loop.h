// ClosedLoop: the engine of the load generator (tools/bench). `concurrency` slots
// each keep exactly one call in flight: when a call finishes, its slot issues the
// next at once (a closed loop, so the offered load adapts to the server and
// latency is never hidden by a queue in the client). Calls are issued through the
// gRPC asynchronous callback API by the caller-supplied IssueFn; the engine only
// times them and counts outcomes.
//
//   ClosedLoop::Options o;
//   o.concurrency = 32;
//   o.duration = absl::Seconds(10);
//   o.warmup = absl::Seconds(1);
//   LoadResult r = ClosedLoop::Run(o, [&](int slot, uint64_t seq, ClosedLoop::DoneFn done) {
//     auto call = std::make_shared<HealthCall>();
//     stub->async()->Check(&call->ctx, &call->req, &call->resp,
//                          [call, done](grpc::Status s) { done(s); });
//   });
//   std::printf("%.0f calls/s, p99 %.2f ms\n", r.throughput, r.p99_ms);
//
// Calls finishing during the warmup are run but not counted; calls still in
// flight at the end of the duration are awaited and not counted either, so the
// throughput is completed calls in the measured window divided by its length.
//
// Thread safety: Run blocks its caller until every slot has stopped; `issue` and
// the DoneFn it is given are called from gRPC's callback threads (and once per
// slot from the caller's thread to start), concurrently for different slots.
#ifndef PATHWAY_TOOLS_BENCH_CLOSED_LOOP_H_
#define PATHWAY_TOOLS_BENCH_CLOSED_LOOP_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace pathway {
namespace bench {

// Outcome of one measured phase.
struct LoadResult {
  int concurrency = 0;
  double seconds = 0;        // length of the measured window
  int64_t calls = 0;         // completed in the window (ok or not)
  int64_t errors = 0;        // of which not OK
  std::map<std::string, int64_t> errors_by_code;  // e.g. "UNAVAILABLE" -> 3
  double throughput = 0;     // calls / seconds (errors included)
  double mean_ms = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
};

// The p-th percentile (0 < p <= 100) of `sorted_micros` (ascending), by the
// nearest-rank method, in milliseconds; 0 for an empty input.
double PercentileMs(const std::vector<int64_t>& sorted_micros, double p);

// Fills calls, errors, seconds-derived figures and percentiles from raw samples.
// `micros` is sorted in place.
void Summarize(std::vector<int64_t>* micros, double seconds, LoadResult* result);

class ClosedLoop {
 public:
  struct Options {
    int concurrency = 1;                         // slots, >= 1
    absl::Duration duration = absl::Seconds(10); // measured window
    absl::Duration warmup = absl::Seconds(1);    // run, not counted
  };
  // Reports the end of one call. Must be called exactly once per issued call.
  using DoneFn = std::function<void(const grpc::Status&)>;
  // Starts one call for `slot`; `seq` counts the slot's calls from 0.
  using IssueFn = std::function<void(int slot, uint64_t seq, DoneFn done)>;

  // Runs the loop and returns the measured phase. `micros_out`, when not null,
  // receives the latency of every counted call (microseconds, unsorted) so
  // callers can merge several phases.
  static LoadResult Run(const Options& options, const IssueFn& issue,
                        std::vector<int64_t>* micros_out = nullptr);
};

// The canonical name of a gRPC status code, e.g. "DEADLINE_EXCEEDED".
std::string CodeName(grpc::StatusCode code);

}  // namespace bench
}  // namespace pathway

#endif  // PATHWAY_TOOLS_BENCH_CLOSED_LOOP_H_
