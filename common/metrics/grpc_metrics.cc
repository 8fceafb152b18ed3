#include "common/metrics/grpc_metrics.h"

#include <google/protobuf/descriptor.h>

#include <utility>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status/grpc_status.h"

namespace pathway {
namespace {

// The standard health service is served by gRPC's own implementation, whose
// descriptors need not be linked into the binary.
constexpr absl::string_view kHealthService = "grpc.health.v1.Health";

// go-grpc-prometheus's default buckets (Prometheus's defaults), in seconds.
const prometheus::Histogram::BucketBoundaries& Buckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

class GrpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  GrpcMetricsInterceptor(grpc::experimental::ServerRpcInfo* info, GrpcServerMetrics* metrics)
      : metrics_(metrics),
        method_(MethodLabels(info->method() != nullptr ? info->method() : "")),
        type_(GrpcTypeLabel(info->type())),
        start_(absl::Now()) {
    metrics_->Started(method_, type_);
  }

  ~GrpcMetricsInterceptor() override {
    // A call that ends without sending a status was cancelled (by the client, its
    // deadline or the server's shutdown).
    if (!handled_) {
      metrics_->Handled(method_, type_, grpc::StatusCode::CANCELLED, absl::Now() - start_);
    }
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (!handled_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      handled_ = true;
      metrics_->Handled(method_, type_, methods->GetSendStatus().error_code(),
                        absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  GrpcServerMetrics* metrics_;
  GrpcMethodLabels method_;
  const char* type_;
  absl::Time start_;
  bool handled_ = false;
};

class GrpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GrpcMetricsInterceptorFactory(GrpcServerMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new GrpcMetricsInterceptor(info, metrics_);
  }

 private:
  GrpcServerMetrics* metrics_;
};

}  // namespace

GrpcMethodLabels MethodLabels(absl::string_view full_method) {
  GrpcMethodLabels unknown{"unknown", "unknown"};
  if (!absl::ConsumePrefix(&full_method, "/")) return unknown;
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(full_method, absl::MaxSplits('/', 1));
  const absl::string_view service = parts.first;
  const absl::string_view method = parts.second;
  if (service.empty() || method.empty()) return unknown;
  if (service == kHealthService) {
    if (method == "Check" || method == "Watch") {
      return {std::string(service), std::string(method)};
    }
    return unknown;
  }
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service));
  if (descriptor == nullptr || descriptor->FindMethodByName(std::string(method)) == nullptr) {
    return unknown;
  }
  return {std::string(service), std::string(method)};
}

const char* GrpcTypeLabel(grpc::experimental::ServerRpcInfo::Type type) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  switch (type) {
    case Type::UNARY: return "unary";
    case Type::CLIENT_STREAMING: return "client_stream";
    case Type::SERVER_STREAMING: return "server_stream";
    case Type::BIDI_STREAMING: return "bidi_stream";
  }
  return "unary";
}

GrpcServerMetrics::GrpcServerMetrics(prometheus::Registry& registry)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, regardless of success "
                         "or failure.")
                   .Register(registry)),
      handling_seconds_(prometheus::BuildHistogram()
                            .Name("grpc_server_handling_seconds")
                            .Help("Histogram of response latency (seconds) of gRPC that had "
                                  "been application-level handled by the server.")
                            .Register(registry)) {}

void GrpcServerMetrics::Started(const GrpcMethodLabels& method, absl::string_view type) {
  started_
      .Add({{"grpc_service", method.service},
            {"grpc_method", method.method},
            {"grpc_type", std::string(type)}})
      .Increment();
}

void GrpcServerMetrics::Handled(const GrpcMethodLabels& method, absl::string_view type,
                                grpc::StatusCode code, absl::Duration elapsed) {
  handled_
      .Add({{"grpc_service", method.service},
            {"grpc_method", method.method},
            {"grpc_type", std::string(type)},
            {"grpc_code", GrpcCodeName(code)}})
      .Increment();
  handling_seconds_
      .Add({{"grpc_service", method.service},
            {"grpc_method", method.method},
            {"grpc_type", std::string(type)}},
           Buckets())
      .Observe(absl::ToDoubleSeconds(elapsed));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcServerMetrics::NewInterceptorFactory() {
  return std::make_unique<GrpcMetricsInterceptorFactory>(this);
}

}  // namespace pathway
