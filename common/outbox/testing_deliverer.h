// A Deliverer for in-process service tests: registry events (ReportEvent hand-offs)
// go to a RegistryClient such as FakeRegistryClient, so a test still inspects
// registry->events(); every other hand-off is recorded, decoded by the test.
//
//   TestingDeliverer deliverer(fake_registry);
//   options.handoffs.deliverer = &deliverer;
//   options.handoffs.background = false;
//   ... an RPC ...
//   ASSERT_TRUE(server->handoffs().dispatcher().RunOnce().ok());
//   EXPECT_EQ(deliverer.handoffs()[0].idempotency_key, "qz:1:close-sd");
//
// Thread-safe. The registry client is not owned and must outlive the deliverer.
#ifndef PATHWAY_COMMON_OUTBOX_TESTING_DELIVERER_H_
#define PATHWAY_COMMON_OUTBOX_TESTING_DELIVERER_H_

#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/outbox/handoff_runner.h"
#include "common/outbox/outbox.h"
#include "common/registry_client/registry_client.h"

namespace pathway {

class TestingDeliverer final : public Deliverer {
 public:
  // `registry` may be null: registry events are then recorded like the rest.
  explicit TestingDeliverer(RegistryClient* registry) : registry_(registry) {}

  absl::Status Deliver(const OutboxMessage& m, absl::Time) override {
    absl::MutexLock lock(&mu_);
    if (!script_.empty()) {
      absl::Status s = script_.front();
      script_.pop_front();
      if (!s.ok()) return s;
    }
    if (registry_ != nullptr && m.method == kRegistryReportEventMethod) {
      registry::v1::ReportEventRequest event;
      if (!event.ParseFromString(m.payload)) return absl::InvalidArgumentError("bad payload");
      return registry_->ReportEvent(event).status();
    }
    handoffs_.push_back(m);
    return absl::OkStatus();
  }

  // Statuses the next deliveries answer (OK: delivered as usual).
  void Script(std::deque<absl::Status> statuses) {
    absl::MutexLock lock(&mu_);
    script_ = std::move(statuses);
  }

  // Every delivered hand-off that was not a registry event, in order.
  std::vector<OutboxMessage> handoffs() const {
    absl::MutexLock lock(&mu_);
    return handoffs_;
  }

 private:
  RegistryClient* registry_;
  mutable absl::Mutex mu_;
  std::deque<absl::Status> script_ ABSL_GUARDED_BY(mu_);
  std::vector<OutboxMessage> handoffs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_OUTBOX_TESTING_DELIVERER_H_
