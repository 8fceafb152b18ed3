// The gRPC server every Pathway binary runs: the service's own handlers plus the
// standard health service (per-service status), reflection, keepalive, message-size
// limits, an access-log line per RPC, and a monitor that shows Redis reachability in
// health as "pathway.status_cache" while the service itself stays SERVING. Every
// server also answers pathway.common.v1.Operations (operations_service.h: the
// programme statuses it owns and its outbox, for the reconciler), registered here so
// no service has to remember it.
//
//   ASSIGN_OR_RETURN(auto server, GrpcServer::Start(options, runtime.get(),
//                                                   {{Registry::service_full_name(), &impl}}));
//   WaitForShutdownSignal();
//   server->Shutdown();  // NOT_SERVING, then drain for options.drain_timeout
//
// Every call has a request id, the client's "x-request-id" when well formed or a
// fresh one, returned in the answer's initial metadata and kept in the call's audit
// entries (common/trace/request_id_interceptor.h).
// Every answer waits for the read audits recorded before it (audit_interceptor.h);
// the audit chain is verified at start and on a schedule, its head anchored on
// a schedule and at shutdown, and "pathway.audit" in health says whether it verified.
// With options.metrics_port set, Prometheus metrics of the calls, the process and the
// build, and of the outbox when the service has one, are served on that port
// (common/metrics/server_metrics.h, outbox_metrics.h).
//
// Thread-safe. The runtime and the services are not owned and must outlive the server.
#ifndef PATHWAY_COMMON_SERVER_GRPC_SERVER_H_
#define PATHWAY_COMMON_SERVER_GRPC_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/outbox_metrics.h"
#include "common/metrics/server_metrics.h"
#include "common/server/operations_service.h"
#include "common/server/server_options.h"
#include "common/server/service_runtime.h"

namespace pathway {

// Health-service name that reports whether the status cache (Redis) is reachable.
inline constexpr char kStatusCacheHealthName[] = "pathway.status_cache";
// Health-service name that reports whether the audit chain verified: NOT_SERVING
// until the first verification after start has passed, and from any failed one
// until one passes again. The service itself keeps serving (README, "Security").
inline constexpr char kAuditHealthName[] = "pathway.audit";

struct RegisteredService {
  std::string name;          // fully qualified, e.g. "pathway.registry.v1.Registry"
  grpc::Service* service;    // not owned
};

class GrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const ServerOptions& options, ServiceRuntime* runtime,
      std::vector<RegisteredService> services);

  ~GrpcServer();

  // The port actually bound (differs from options.port when that was 0).
  int port() const { return port_; }

  // Marks everything NOT_SERVING, stops taking new RPCs, gives in-flight RPCs
  // options.drain_timeout to finish, cancels the rest, flushes the read audit.
  // Idempotent.
  void Shutdown();

 private:
  GrpcServer() = default;
  void MonitorCache();
  // Verifies the audit chain at once and every options.audit_verify_interval, and
  // anchors its head every options.audit_anchor_interval.
  void MonitorAudit();

  ServerOptions options_;
  ServiceRuntime* runtime_ = nullptr;
  std::unique_ptr<OperationsService> operations_;  // registered on every server
  std::vector<std::string> health_names_;
  // Declared before server_, so it outlives the server whose calls it counts; null
  // without options.metrics_port.
  std::unique_ptr<ServerMetrics> metrics_;
  // The outbox's gauges, exposed by metrics_ (which holds them weakly).
  std::shared_ptr<OutboxMetrics> outbox_metrics_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::thread monitor_;
  std::thread audit_monitor_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_GRPC_SERVER_H_
