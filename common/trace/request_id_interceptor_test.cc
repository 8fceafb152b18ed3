#include "common/trace/request_id_interceptor.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/trace/request_id.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// Answers OK, or NOT_FOUND for service "missing", and remembers the request id
// the handler saw.
class RecordingHealth final : public grpc::health::v1::Health::CallbackService {
public:
  grpc::ServerUnaryReactor *Check(grpc::CallbackServerContext *ctx,
                                  const HealthCheckRequest *req,
                                  HealthCheckResponse *resp) override {
    {
      absl::MutexLock lock(&mu_);
      seen_ = RequestIdOf(*ctx);
    }
    grpc::ServerUnaryReactor *reactor = ctx->DefaultReactor();
    if (req->service() == "missing") {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"));
    } else {
      resp->set_status(HealthCheckResponse::SERVING);
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }
  std::string seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

private:
  absl::Mutex mu_;
  std::string seen_ ABSL_GUARDED_BY(mu_);
};

class RequestIdInterceptorTest : public ::testing::Test {
protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        creators;
    creators.push_back(NewRequestIdInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(creators));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                            grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  // Calls Check with the given x-request-id headers; returns the answer's one
  // x-request-id ("" and a test failure when it has none or several).
  std::string Call(const std::vector<std::string> &sent,
                   const std::string &service = "",
                   grpc::StatusCode expected = grpc::StatusCode::OK) {
    grpc::ClientContext ctx;
    for (const std::string &id : sent)
      ctx.AddMetadata(kRequestIdHeader, id);
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::Status s = stub_->Check(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), expected) << s.error_message();
    auto range = ctx.GetServerInitialMetadata().equal_range(kRequestIdHeader);
    if (range.first == range.second || std::next(range.first) != range.second) {
      ADD_FAILURE()
          << "expected exactly one x-request-id in the initial metadata";
      return "";
    }
    return std::string(range.first->second.data(), range.first->second.size());
  }

  RecordingHealth service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
};

TEST_F(RequestIdInterceptorTest,
       AWellFormedClientIdComesBackAndReachesTheHandler) {
  EXPECT_EQ(Call({"client-req.42_a"}), "client-req.42_a");
  EXPECT_EQ(service_.seen(), "client-req.42_a");
}

TEST_F(RequestIdInterceptorTest, WithoutAnIdTheServerMakesOne) {
  const std::string a = Call({});
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(IsWellFormedRequestId(a));
  EXPECT_EQ(service_.seen(), a);
  const std::string b = Call({});
  EXPECT_NE(a, b);
}

TEST_F(RequestIdInterceptorTest, MalformedOrRepeatedIdsAreReplacedNotEchoed) {
  for (const std::vector<std::string> &sent :
       std::vector<std::vector<std::string>>{{std::string(65, 'a')},
                                             {"has space"},
                                             {"semi;colon"},
                                             {""},
                                             {"one", "two"}}) {
    const std::string answered = Call(sent);
    EXPECT_EQ(answered.size(), 32u) << sent[0];
    for (const std::string &s : sent)
      EXPECT_NE(answered, s);
    EXPECT_EQ(service_.seen(), answered);
  }
}

TEST_F(RequestIdInterceptorTest, AnErrorAnswerCarriesTheIdToo) {
  EXPECT_EQ(Call({"err-1"}, "missing", grpc::StatusCode::NOT_FOUND), "err-1");
  const std::string made = Call({}, "missing", grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(made.size(), 32u);
}

} // namespace
} // namespace pathway
