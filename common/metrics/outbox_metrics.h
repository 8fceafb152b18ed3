// Gauges of a sending service's outbox (common/outbox/outbox.h), read from its
// database each time they are scraped, so they are never stale:
//
//   pathway_outbox_pending_rows                 hand-offs waiting to be delivered
//   pathway_outbox_parked_rows                  hand-offs refused for good, awaiting
//                                               an operator (never dropped)
//   pathway_outbox_oldest_pending_age_seconds   how long the oldest pending one has
//                                               waited; 0 when none is pending
//
// A service without an outbox table exposes none of them; neither does a scrape
// whose database read fails (the service's health and logs say why).
//
//   auto outbox = std::make_shared<OutboxMetrics>(&runtime->store(), &runtime->clock());
//   metrics->AddCollectable(outbox);
//
// Thread-safe. The store and the clock are not owned and must outlive this object.
#ifndef PATHWAY_COMMON_METRICS_OUTBOX_METRICS_H_
#define PATHWAY_COMMON_METRICS_OUTBOX_METRICS_H_

#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock/clock.h"
#include "common/store/store.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace pathway {

class OutboxMetrics final : public prometheus::Collectable {
 public:
  OutboxMetrics(Store* store, const Clock* clock) : store_(store), clock_(clock) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Store* store_;
  const Clock* clock_;
  mutable absl::Mutex mu_;
  // Whether the store has the outbox table, once a read has told; it cannot change
  // while the service runs (migrations run before it serves).
  mutable std::optional<bool> has_outbox_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_METRICS_OUTBOX_METRICS_H_
