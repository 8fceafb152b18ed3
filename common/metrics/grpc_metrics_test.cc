#include "common/metrics/grpc_metrics.h"
#include "common/status/grpc_status.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace pathway {
namespace {

using ::grpc::experimental::ServerRpcInfo;

TEST(MethodLabelsTest, SplitsAMethodOfALinkedService) {
  GrpcMethodLabels l = MethodLabels("/grpc.health.v1.Health/Check");
  EXPECT_EQ(l.service, "grpc.health.v1.Health");
  EXPECT_EQ(l.method, "Check");
  l = MethodLabels("/grpc.health.v1.Health/Watch");
  EXPECT_EQ(l.method, "Watch");
}

TEST(MethodLabelsTest, AnythingElseIsUnknown) {
  // Paths a caller may send: a case id or a person's name in place of a method
  // never becomes a label.
  for (const char* path :
       {"", "/", "grpc.health.v1.Health/Check", "/grpc.health.v1.Health/",
        "/grpc.health.v1.Health/Check/extra", "/grpc.health.v1.Health/CASE-320102-2024-000001",
        "/pathway.registry.v1.Registry320102199001011234/GetCase", "/no.such.Service/Get"}) {
    GrpcMethodLabels l = MethodLabels(path);
    EXPECT_EQ(l.service, "unknown") << path;
    EXPECT_EQ(l.method, "unknown") << path;
  }
}

TEST(GrpcLabelsTest, TypesAndCodes) {
  EXPECT_STREQ(GrpcTypeLabel(ServerRpcInfo::Type::UNARY), "unary");
  EXPECT_STREQ(GrpcTypeLabel(ServerRpcInfo::Type::CLIENT_STREAMING), "client_stream");
  EXPECT_STREQ(GrpcTypeLabel(ServerRpcInfo::Type::SERVER_STREAMING), "server_stream");
  EXPECT_STREQ(GrpcTypeLabel(ServerRpcInfo::Type::BIDI_STREAMING), "bidi_stream");
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::NOT_FOUND), "NOT_FOUND");
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::PERMISSION_DENIED), "PERMISSION_DENIED");
  EXPECT_STREQ(GrpcCodeName(static_cast<grpc::StatusCode>(17)), "UNKNOWN");
}

using Labels = std::map<std::string, std::string>;

Labels LabelsOf(const prometheus::ClientMetric& m) {
  Labels labels;
  for (const auto& l : m.label) labels[l.name] = l.value;
  return labels;
}

// The metric of `family` with exactly `labels`, or null.
const prometheus::ClientMetric* Find(const std::vector<prometheus::MetricFamily>& families,
                                     const std::string& family, const Labels& labels) {
  for (const auto& f : families) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      if (LabelsOf(m) == labels) return &m;
    }
  }
  return nullptr;
}

// The standard health service's Check: "" is served, any other name unknown.
class Health final : public grpc::health::v1::Health::Service {
  grpc::Status Check(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override {
    if (!request->service().empty()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown");
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }
};

// A real in-process server with a health service and only the metrics interceptor.
class GrpcMetricsInterceptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&health_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(metrics_.NewInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(creators));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  grpc::StatusCode Check(const std::string& service) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    return grpc::health::v1::Health::NewStub(channel_)->Check(&ctx, req, &resp).error_code();
  }

  Health health_;
  prometheus::Registry registry_;
  GrpcServerMetrics metrics_{registry_};
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GrpcMetricsInterceptorTest, CountsStartedAndHandledCallsByMethodAndCode) {
  ASSERT_EQ(Check(""), grpc::StatusCode::OK);
  ASSERT_EQ(Check(""), grpc::StatusCode::OK);
  ASSERT_EQ(Check("pathway.no_such_service"), grpc::StatusCode::NOT_FOUND);

  const auto families = registry_.Collect();
  const Labels method{{"grpc_service", "grpc.health.v1.Health"},
                      {"grpc_method", "Check"},
                      {"grpc_type", "unary"}};
  const prometheus::ClientMetric* started = Find(families, "grpc_server_started_total", method);
  ASSERT_NE(started, nullptr);
  EXPECT_EQ(started->counter.value, 3);
  Labels ok = method;
  ok["grpc_code"] = "OK";
  const prometheus::ClientMetric* handled_ok = Find(families, "grpc_server_handled_total", ok);
  ASSERT_NE(handled_ok, nullptr);
  EXPECT_EQ(handled_ok->counter.value, 2);
  Labels not_found = method;
  not_found["grpc_code"] = "NOT_FOUND";
  const prometheus::ClientMetric* handled_nf =
      Find(families, "grpc_server_handled_total", not_found);
  ASSERT_NE(handled_nf, nullptr);
  EXPECT_EQ(handled_nf->counter.value, 1);
  const prometheus::ClientMetric* seconds =
      Find(families, "grpc_server_handling_seconds", method);
  ASSERT_NE(seconds, nullptr);
  EXPECT_EQ(seconds->histogram.sample_count, 3u);
  EXPECT_EQ(seconds->histogram.bucket.size(), 12u);  // 11 bounds and +Inf
}

TEST_F(GrpcMetricsInterceptorTest, AMethodPathNamingNoMethodLeavesNoTrace) {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/pathway.case.v1.Case/CASE-320102-2024-000001", grpc::StubOptions(),
                 &request, &response, [&done](grpc::Status s) { done.set_value(s); });
  EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::UNIMPLEMENTED);

  // gRPC may answer an unknown method before any interceptor runs; if it does run
  // one, the call is counted under "unknown".
  ASSERT_EQ(Check(""), grpc::StatusCode::OK);
  for (const auto& f : registry_.Collect()) {
    for (const auto& m : f.metric) {
      const Labels labels = LabelsOf(m);
      EXPECT_TRUE(labels.at("grpc_service") == "grpc.health.v1.Health" ||
                  labels.at("grpc_service") == "unknown")
          << labels.at("grpc_service");
      for (const auto& l : m.label) {
        EXPECT_EQ(l.value.find("CASE-"), std::string::npos) << f.name << " " << l.name;
        EXPECT_EQ(l.value.find("pathway.case"), std::string::npos) << f.name << " " << l.name;
      }
    }
  }
}

}  // namespace
}  // namespace pathway
