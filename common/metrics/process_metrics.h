// The process's own metrics, read from /proc/self each time they are scraped:
//
//   process_start_time_seconds     when the process started, seconds since the epoch
//   process_resident_memory_bytes  resident set size
//   process_open_fds               open file descriptors
//
// A metric whose /proc file cannot be read is left out of that scrape rather than
// reported as 0.
//
// Thread-safe (Collect reads only /proc).
#ifndef PATHWAY_COMMON_METRICS_PROCESS_METRICS_H_
#define PATHWAY_COMMON_METRICS_PROCESS_METRICS_H_

#include <optional>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace pathway {

class ProcessMetrics final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;

  // The values Collect reports, for tests and logs.
  static std::optional<double> StartTimeSeconds();
  static std::optional<double> ResidentMemoryBytes();
  static std::optional<double> OpenFds();
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_METRICS_PROCESS_METRICS_H_
