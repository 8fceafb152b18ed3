// What a sending service runs beside its gRPC server for its hand-offs (DESIGN.md §5):
// the GrpcDeliverer wired to the peers' addresses from ServerOptions, the
// OutboxDispatcher over the service's store, and the thread that drives it. Handlers
// call Committed() after a commit that enqueued hand-offs (it wakes the dispatcher),
// and receivers of hand-offs call Applied() after applying one.
//
//   ASSIGN_OR_RETURN(auto handoffs, HandoffRunner::Create(runtime.get(), options.handoffs));
//   handoffs->Start();
//   ...  // in a handler, after RunMutation committed rows from EnqueueHandoff:
//   handoffs->Committed();
//   ...
//   handoffs->Stop();   // after the gRPC server drained
//
// Targets: "registry", "community_detox", "compulsory_isolation", "community_rehab",
// "placement", at ServerOptions' registry_address, detox_address, isolation_address,
// rehab_address and placement_address.
//
// TEST-ONLY crash points: tests/handoff kills the binaries at exact windows of a
// hand-off. A binary's main reads PATHWAY_TEST_CRASH_AT (e.g. "after_ack:2") into
// Options::crash; the process then _exit(137)s, like a SIGKILL, the n-th time it
// reaches that point. Never set in a deployment.
//
// Thread-safe. The runtime is not owned and must outlive the runner.
#ifndef PATHWAY_COMMON_OUTBOX_HANDOFF_RUNNER_H_
#define PATHWAY_COMMON_OUTBOX_HANDOFF_RUNNER_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/outbox/outbox.h"
#include "common/server/server_options.h"
#include "common/server/service_runtime.h"
#include "common/store/store.h"
#include "pathway/registry/v1/registry.pb.h"

namespace pathway {

// Where the process crashes on purpose (tests only).
enum class CrashPoint {
  kNone,
  // Sender: the decision and its outbox rows committed, before the client is
  // answered and before anything is dispatched.
  kAfterCommit,
  // Sender: a receiver acknowledged a hand-off, before the row is marked delivered.
  kAfterAck,
  // Receiver: a hand-off was applied and committed, before the sender is answered.
  kAfterApply,
};

struct CrashAt {
  CrashPoint point = CrashPoint::kNone;
  int nth = 1;  // crash the n-th time the point is reached (1 = the first)
};

// "" -> none; "after_commit", "after_ack", "after_apply", optionally ":<n>" with n >= 1.
// INVALID_ARGUMENT otherwise.
absl::StatusOr<CrashAt> ParseCrashAt(absl::string_view text);

// The registry's abstinence clock as a hand-off target (ReportEvent is idempotent by
// case and source_event_id).
inline constexpr char kRegistryTarget[] = "registry";
inline constexpr char kRegistryReportEventMethod[] = "/pathway.registry.v1.Registry/ReportEvent";

// Enqueues `event` for the registry in the caller's transaction, with its
// source_event_id (deterministic, chosen by the sender) as the idempotency key. An
// event already enqueued is left as it is (OK).
absl::Status EnqueueRegistryEvent(Transaction& tx, const registry::v1::ReportEventRequest& event,
                                  absl::Time now);

// The hand-off targets a service reaches, by name, from its options.
std::map<std::string, std::string> HandoffTargets(const ServerOptions& options);

class HandoffRunner {
 public:
  struct Options {
    OutboxDispatcher::Options dispatcher;
    CrashAt crash;  // tests only
    // In-process tests: replaces the GrpcDeliverer (not owned; must outlive the
    // runner), e.g. TestingDeliverer (testing_deliverer.h).
    Deliverer* deliverer = nullptr;
    // False: no thread; the test drives dispatcher().RunOnce() itself.
    bool background = true;
  };

  // Uses the runtime's store, clock, service tokens and peer addresses.
  static std::unique_ptr<HandoffRunner> Create(ServiceRuntime* runtime, Options options);
  ~HandoffRunner();

  // Starts (Stop: stops and joins) the dispatcher thread, unless options.background
  // is false. Stop is idempotent.
  void Start();
  void Stop();

  // After a commit that enqueued hand-offs: wakes the dispatcher.
  void Committed();
  // After a received hand-off was applied and committed, before the reply.
  void Applied();

  OutboxDispatcher& dispatcher() { return *dispatcher_; }

 private:
  HandoffRunner() = default;
  // _exit(137) if `point` is the configured crash point, reached for the n-th time.
  void MaybeCrash(CrashPoint point);

  CrashAt crash_;
  bool background_ = true;
  std::atomic<int> reached_{0};
  std::unique_ptr<GrpcDeliverer> deliverer_;
  std::unique_ptr<OutboxDispatcher> dispatcher_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_OUTBOX_HANDOFF_RUNNER_H_
