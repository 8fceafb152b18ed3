// A test base for the SD and SK services over real gRPC (loopback TCP, a real store:
// SQLite, or PostgreSQL when the test run asks for it): a fake clock, a fake registry
// that knows the cases the test names, an in-memory status cache, and an outbox the
// test dispatches by hand.
//
//   class DetoxScenarioTest
//       : public test::SupervisionServerTest<CommunityDetoxServer, v1::CommunityDetox> {
//     void SetUp() override {
//       ASSERT_NO_FATAL_FAILURE(StartServer("community_detox", kKey, {Facts(case_id_)}));
//     }
//   };
#ifndef PATHWAY_TESTS_TESTING_SUPERVISION_SERVER_TEST_H_
#define PATHWAY_TESTS_TESTING_SUPERVISION_SERVER_TEST_H_

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/client/bearer_context.h"
#include "common/clock/clock.h"
#include "common/outbox/testing_deliverer.h"
#include "common/registry_client/registry_client.h"
#include "common/server/service_runtime.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"

namespace pathway {
namespace test {

template <typename Server, typename Service>
class SupervisionServerTest : public ::testing::Test {
 protected:
  using Stub = typename Service::Stub;

  // What the fake registry answers for `case_id`.
  static registry::v1::CaseFacts Facts(const std::string& case_id,
                                       const std::string& household = "520102",
                                       const std::string& residence = "520102") {
    registry::v1::CaseFacts facts;
    facts.set_case_id(case_id);
    facts.set_household_division(household);
    facts.set_residence_division(residence);
    return facts;
  }

  // Starts the server on a free loopback port; call with ASSERT_NO_FATAL_FAILURE.
  void StartServer(const std::string& service_name, const std::string& key,
                   const std::vector<registry::v1::CaseFacts>& cases) {
    key_ = key;
    typename Server::Options o;
    o.server.service_name = service_name;
    o.server.port = 0;
    o.server.data_dir = dir_.path();
    o.server.database = TestDatabaseUriOrDie(service_name);
    o.server.token_key_file = dir_.path() + "/key";
    o.server.tls.plaintext = true;  // a test server on loopback
    std::ofstream(o.server.token_key_file) << key;
    RuntimeOverrides overrides;
    overrides.clock = &clock_;
    overrides.cache = std::make_unique<InMemoryStatusCache>();
    auto registry = std::make_unique<FakeRegistryClient>();
    registry_ = registry.get();
    overrides.registry = std::move(registry);
    for (const registry::v1::CaseFacts& facts : cases) registry_->AddCase(facts);
    // Registry events and hand-offs leave through the outbox when the test runs
    // the dispatcher.
    deliverer_ = std::make_unique<TestingDeliverer>(registry_);
    o.handoffs.deliverer = deliverer_.get();
    o.handoffs.background = false;
    auto server = Server::Start(o, std::move(overrides));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = Service::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                 grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // Runs the outbox dispatcher once; returns how many hand-offs were acknowledged.
  int Dispatch() {
    absl::StatusOr<int> n = server_->handoffs().dispatcher().RunOnce();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  std::string Token(Role role, const std::string& jurisdiction, const std::string& subject) {
    return SignedToken(key_, role, jurisdiction, subject);
  }

  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                    const std::string& token, const Req& req, Resp* resp,
                    const std::string& idempotency_key = "") {
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, token, absl::Seconds(10));
    if (!idempotency_key.empty()) ctx.AddMetadata("idempotency-key", idempotency_key);
    return (stub_.get()->*method)(&ctx, req, resp);
  }

  ScopedTempDir dir_;
  FakeClock clock_{ChinaNoon(2026, 1, 10)};
  FakeRegistryClient* registry_ = nullptr;       // owned by the server's runtime
  std::unique_ptr<TestingDeliverer> deliverer_;  // outlives the server
  std::unique_ptr<Server> server_;
  std::unique_ptr<Stub> stub_;
  std::string key_;
};

}  // namespace test
}  // namespace pathway

#endif  // PATHWAY_TESTS_TESTING_SUPERVISION_SERVER_TEST_H_
