#include "common/metrics/outbox_metrics.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "common/outbox/outbox.h"

namespace pathway {
namespace {

prometheus::MetricFamily Gauge(const char* name, const char* help, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric metric;
  metric.gauge.value = value;
  family.metric.push_back(metric);
  return family;
}

}  // namespace

std::vector<prometheus::MetricFamily> OutboxMetrics::Collect() const {
  {
    absl::MutexLock lock(&mu_);
    if (!has_outbox_.has_value()) {
      absl::StatusOr<bool> has = HasOutbox(*store_);
      if (!has.ok()) return {};
      has_outbox_ = *has;
    }
    if (!*has_outbox_) return {};
  }
  absl::StatusOr<OutboxSummary> summary = SummarizeOutbox(*store_);
  if (!summary.ok()) return {};
  const absl::Duration age =
      summary->pending > 0 && summary->oldest_pending != absl::InfiniteFuture()
          ? std::max(clock_->Now() - summary->oldest_pending, absl::ZeroDuration())
          : absl::ZeroDuration();
  std::vector<prometheus::MetricFamily> families;
  families.push_back(Gauge("pathway_outbox_pending_rows",
                           "Hand-offs in the outbox waiting to be delivered.",
                           static_cast<double>(summary->pending)));
  families.push_back(Gauge("pathway_outbox_parked_rows",
                           "Hand-offs refused for good by their receiver, awaiting replay.",
                           static_cast<double>(summary->parked)));
  families.push_back(Gauge("pathway_outbox_oldest_pending_age_seconds",
                           "Seconds the oldest pending hand-off has waited; 0 when none.",
                           absl::ToDoubleSeconds(age)));
  return families;
}

}  // namespace pathway
