#include "common/client/peer_channel.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// A health service that counts the calls it answered.
class CountingHealth final : public Health::CallbackService {
 public:
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx, const HealthCheckRequest*,
                                  HealthCheckResponse* resp) override {
    calls.fetch_add(1);
    resp->set_status(HealthCheckResponse::SERVING);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  std::atomic<int> calls{0};
};

// A server answering only that health service, on a free port.
struct Replica {
  CountingHealth health;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

std::unique_ptr<Replica> StartReplica() {
  auto r = std::make_unique<Replica>();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &r->port);
  builder.RegisterService(&r->health);
  r->server = builder.BuildAndStart();
  return r;
}

grpc::Status Check(Health::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ctx.set_wait_for_ready(true);
  HealthCheckRequest req;
  HealthCheckResponse resp;
  return stub.Check(&ctx, req, &resp);
}

TEST(PeerChannelTest, SpreadsOverEveryReplicaAndSurvivesOneGoing) {
  std::unique_ptr<Replica> a = StartReplica();
  std::unique_ptr<Replica> b = StartReplica();
  ASSERT_NE(a->port, 0);
  ASSERT_NE(b->port, 0);
  auto channel =
      PeerChannel(absl::StrCat("ipv4:127.0.0.1:", a->port, ",127.0.0.1:", b->port), PlaintextChannelSecurity());
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(5)));
  auto stub = Health::NewStub(channel);
  EXPECT_EQ(channel->GetLoadBalancingPolicyName(), "round_robin");
  // Round robin: both replicas answer a share (a pick-first channel sends every
  // call to one). Calls go only to replicas already connected, so the first few
  // may all reach whichever connected first; a thousand calls are far more than
  // the second needs to connect on loopback.
  for (int i = 0; i < 1000 && (a->health.calls.load() == 0 || b->health.calls.load() == 0);
       ++i) {
    ASSERT_TRUE(Check(*stub).ok()) << i;
  }
  EXPECT_GT(a->health.calls.load(), 0);
  EXPECT_GT(b->health.calls.load(), 0);

  a->server->Shutdown(std::chrono::system_clock::now());
  const int b_before = b->health.calls.load();
  for (int i = 0; i < 20; ++i) {
    grpc::Status s = Check(*stub);
    ASSERT_TRUE(s.ok()) << i << ": " << s.error_message();
  }
  EXPECT_EQ(b->health.calls.load(), b_before + 20);
  b->server->Shutdown(std::chrono::system_clock::now());
}

TEST(PeerChannelTest, APlainAddressIsOneReplica) {
  std::unique_ptr<Replica> a = StartReplica();
  auto stub = Health::NewStub(PeerChannel(absl::StrCat("127.0.0.1:", a->port), PlaintextChannelSecurity()));
  EXPECT_TRUE(Check(*stub).ok());
  EXPECT_EQ(a->health.calls.load(), 1);
  a->server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace pathway
