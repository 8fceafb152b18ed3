// The Prometheus metrics of one Pathway server: one registry holding the gRPC server
// metrics (grpc_metrics.h) and pathway_build_info{version,commit} = 1
// (build_info.h), the process metrics (process_metrics.h), and the endpoint that
// serves them all as plain HTTP on GET /metrics (prometheus-cpp's pull Exposer).
//
//   ASSIGN_OR_RETURN(auto metrics, ServerMetrics::Start("127.0.0.1", 9464));
//   creators.push_back(metrics->grpc().NewInterceptorFactory());
//
// The endpoint carries no authentication and no personal data: labels hold only
// method, code and build names. Bind it where only the monitoring network reaches.
//
// Thread-safe. Destroying it stops the endpoint; it must outlive every server that
// uses its interceptors.
#ifndef PATHWAY_COMMON_METRICS_SERVER_METRICS_H_
#define PATHWAY_COMMON_METRICS_SERVER_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/metrics/grpc_metrics.h"
#include "common/metrics/process_metrics.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace pathway {

class ServerMetrics {
 public:
  // Serves /metrics on host:port (port 1..65535). UNAVAILABLE if it cannot listen
  // there.
  static absl::StatusOr<std::unique_ptr<ServerMetrics>> Start(absl::string_view host, int port);

  ~ServerMetrics();

  GrpcServerMetrics& grpc() { return *grpc_; }
  // For metrics of the server's own: register families here, or further
  // collectables with AddCollectable.
  prometheus::Registry& registry() { return *registry_; }
  // Exposes `collectable` too, for as long as it lives (it is held weakly).
  void AddCollectable(const std::weak_ptr<prometheus::Collectable>& collectable);
  // The port /metrics is served on.
  int port() const { return port_; }

 private:
  ServerMetrics() = default;

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ProcessMetrics> process_;
  std::unique_ptr<GrpcServerMetrics> grpc_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_METRICS_SERVER_METRICS_H_
