// gRPC server metrics under the names Prometheus dashboards for gRPC expect (those of
// go-grpc-prometheus), recorded by a server interceptor:
//
//   grpc_server_started_total{grpc_service,grpc_method,grpc_type}
//   grpc_server_handled_total{grpc_service,grpc_method,grpc_type,grpc_code}
//   grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type}  (histogram)
//
// Labels are only ever names from the fixed service definitions (the method as
// declared in a .proto linked into the binary) and status code names, never a request
// field or anything a caller chose: a method path that names no known method is
// counted as grpc_service="unknown", grpc_method="unknown", so neither a case id nor
// other text sent as a path can reach the exposition or grow its series.
//
//   GrpcServerMetrics metrics(registry);
//   creators.push_back(metrics.NewInterceptorFactory());
//
// Thread-safe. The registry must outlive this object, and this object every server
// built with one of its interceptor factories.
#ifndef PATHWAY_COMMON_METRICS_GRPC_METRICS_H_
#define PATHWAY_COMMON_METRICS_GRPC_METRICS_H_

#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace pathway {

struct GrpcMethodLabels {
  std::string service;  // "pathway.registry.v1.Registry"
  std::string method;   // "GetCase"
};

// Splits "/package.Service/Method" into its labels when that method is declared in a
// service linked into this binary (or is the standard health service's); otherwise
// {"unknown", "unknown"}.
GrpcMethodLabels MethodLabels(absl::string_view full_method);

// "unary", "client_stream", "server_stream" or "bidi_stream".
const char* GrpcTypeLabel(grpc::experimental::ServerRpcInfo::Type type);


class GrpcServerMetrics {
 public:
  // Registers the three families in `registry` (not owned; must outlive this).
  explicit GrpcServerMetrics(prometheus::Registry& registry);

  void Started(const GrpcMethodLabels& method, absl::string_view type);
  void Handled(const GrpcMethodLabels& method, absl::string_view type, grpc::StatusCode code,
               absl::Duration elapsed);

  // Interceptors that call Started when a call arrives and Handled when its status
  // is sent (or CANCELLED when the call ends without one).
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  NewInterceptorFactory();

 private:
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_seconds_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_METRICS_GRPC_METRICS_H_
