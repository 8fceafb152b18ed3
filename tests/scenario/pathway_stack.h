// The five services (registry, community detox, compulsory isolation, community
// rehabilitation, Sunshine placement) in one process over real gRPC, with a real redis-server, real
// databases (SQLite files, or PostgreSQL when the test run asks for it) and one fake clock, for
// tests that follow cases across them.
#ifndef PATHWAY_TESTS_SCENARIO_PATHWAY_STACK_H_
#define PATHWAY_TESTS_SCENARIO_PATHWAY_STACK_H_

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/clock/clock.h"
#include "common/ids/resident_id.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "pathway/common/v1/operations.grpc.pb.h"
#include "services/community_detox/community_detox_server.h"
#include "services/community_rehab/community_rehab_server.h"
#include "services/compulsory_isolation/compulsory_isolation_server.h"
#include "services/placement/placement_server.h"
#include "services/registry/registry_server.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/redis_server.h"

namespace pathway::test {

constexpr char kTokenKey[] = "scenario-test-token-key-0123456789abcdefgh";
constexpr char kPiiKey[] = "scenario-test-pii-key-0123456789abcdefghijk";


class PathwayStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = test::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    std::ofstream(dir_.path() + "/token.key") << kTokenKey;
    std::ofstream(dir_.path() + "/pii.key") << kPiiKey;
    for (int i = 0; i < 5; ++i) {
      auto port = test::PickUnusedLoopbackPort();
      ASSERT_TRUE(port.ok());
      ports_.push_back(*port);
    }

    registry::RegistryServer::Options r;
    r.server = Base("registry", 0);
    r.pii_key_file = dir_.path() + "/pii.key";
    auto registry = registry::RegistryServer::Start(r, Overrides());
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);

    detox::CommunityDetoxServer::Options d;
    d.server = Base("community_detox", 1);
    auto detox = detox::CommunityDetoxServer::Start(d, Overrides());
    ASSERT_TRUE(detox.ok()) << detox.status();
    detox_ = *std::move(detox);

    isolation::CompulsoryIsolationServer::Options q;
    q.server = Base("compulsory_isolation", 2);
    q.isolation.facilities = {
        {"gy-police", isolation::v1::FACILITY_KIND_POLICE, "520102", "test police facility"},
        {"gz-judicial", isolation::v1::FACILITY_KIND_JUDICIAL, "520113", "test judicial facility"}};
    auto qz = isolation::CompulsoryIsolationServer::Start(q, Overrides());
    ASSERT_TRUE(qz.ok()) << qz.status();
    isolation_ = *std::move(qz);

    rehab::CommunityRehabServer::Options k;
    k.server = Base("community_rehab", 3);
    auto sk = rehab::CommunityRehabServer::Start(k, Overrides());
    ASSERT_TRUE(sk.ok()) << sk.status();
    rehab_ = *std::move(sk);

    placement::PlacementServer::Options pl;
    pl.server = Base("placement", 4);
    auto placement = placement::PlacementServer::Start(pl, Overrides());
    ASSERT_TRUE(placement.ok()) << placement.status();
    placement_ = *std::move(placement);

    registry_stub_ = registry::v1::Registry::NewStub(Channel(0));
    detox_stub_ = detox::v1::CommunityDetox::NewStub(Channel(1));
    isolation_stub_ = isolation::v1::CompulsoryIsolation::NewStub(Channel(2));
    rehab_stub_ = rehab::v1::CommunityRehab::NewStub(Channel(3));
  }

  void TearDown() override {
    if (placement_) placement_->Shutdown();
    if (rehab_) rehab_->Shutdown();
    if (isolation_) isolation_->Shutdown();
    if (detox_) detox_->Shutdown();
    if (registry_) registry_->Shutdown();
  }

  ServerOptions Base(const std::string& name, int index) {
    ServerOptions o;
    o.service_name = name;
    o.port = ports_[index];
    o.data_dir = dir_.path();
    o.database = TestDatabaseUriOrDie(name);
    o.token_key_file = dir_.path() + "/token.key";
    o.tls.plaintext = true;  // a test server on loopback
    o.redis.port = redis_->port();
    o.drain_timeout = absl::Seconds(1);
    o.status_refresh_check_interval = status_refresh_check_;
    o.registry_address = absl::StrCat("127.0.0.1:", ports_[0]);
    o.detox_address = absl::StrCat("127.0.0.1:", ports_[1]);
    o.isolation_address = absl::StrCat("127.0.0.1:", ports_[2]);
    o.rehab_address = absl::StrCat("127.0.0.1:", ports_[3]);
    o.placement_address = absl::StrCat("127.0.0.1:", ports_[4]);
    return o;
  }

  RuntimeOverrides Overrides() {
    RuntimeOverrides o;
    o.clock = &clock_;  // the real cache and the real registry client
    return o;
  }

  std::shared_ptr<grpc::Channel> Channel(int index) {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", ports_[index]),
                               grpc::InsecureChannelCredentials());
  }

  // Tokens are checked against the fake clock, so they are minted on it.
  std::string Token(Role role, const std::string& jurisdiction, const std::string& subject) {
    Claims c;
    c.subject = subject;
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()));
    c.expires_at = c.issued_at + absl::Hours(1);
    return *(*TokenSigner::Create(kTokenKey))->Sign(c);
  }

  std::unique_ptr<grpc::ClientContext> Ctx(Role role, const std::string& jurisdiction = "520102") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    PrepareBearerContext(ctx.get(),
                         Token(role, jurisdiction, absl::StrCat("user-", RoleName(role))),
                         absl::Seconds(20));
    return ctx;
  }

  // Moves the shared fake clock, once every hand-off already sent has landed: a
  // hand-off in flight across the jump would carry a service token minted before
  // it, refused as expired after it, and its retry would wait on a clock that no
  // longer moves.
  void Today(int y, int m, int d) {
    EXPECT_TRUE(Eventually([&] { return NothingPending(); }))
        << "a hand-off did not land before the clock moved";
    clock_.Set(ChinaNoon(y, m, d));
  }

  // True when no service holds a pending hand-off in its outbox.
  bool NothingPending() {
    for (int i = 0; i < 5; ++i) {
      auto ops = common::v1::Operations::NewStub(Channel(i));
      common::v1::GetOutboxSummaryRequest req;
      common::v1::OutboxSummary summary;
      grpc::Status s = ops->GetOutboxSummary(Ctx(Role::kAdmin, "*").get(), req, &summary);
      if (!s.ok() || summary.pending() > 0) return false;
    }
    return true;
  }

  // Hand-offs travel through an outbox and arrive a moment after the call that
  // caused them: wait for their effect, polling with a deadline.
  static bool Eventually(const std::function<bool()>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!done()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  }

  // The registry's status view of one programme: state, or "" when absent.
  std::string ViewState(common::v1::Program program, common::v1::Freshness* freshness = nullptr) {
    registry::v1::GetCaseStatusRequest req;
    req.set_case_id(case_id_);
    registry::v1::CaseStatus st;
    grpc::Status s = registry_stub_->GetCaseStatus(Ctx(Role::kCaseworker).get(), req, &st);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const auto& v : st.programs()) {
      if (v.status().program() == program) {
        if (freshness != nullptr) *freshness = v.freshness();
        return v.status().state();
      }
    }
    return "";
  }

  registry::v1::Case GetCase() {
    registry::v1::GetCaseRequest req;
    req.set_case_id(case_id_);
    registry::v1::Case c;
    EXPECT_TRUE(registry_stub_->GetCase(Ctx(Role::kPolice).get(), req, &c).ok());
    return c;
  }

  void RegisterPerson(registry::v1::Person::Sex sex = registry::v1::Person::SEX_MALE) {
    registry::v1::RegisterPersonRequest r;
    int seq = sex == registry::v1::Person::SEX_MALE ? 101 : 102;
    r.set_resident_id_number(
        GenerateSyntheticResidentId("520102", absl::CivilDay(1990, 4, 12), seq));
    r.set_name("场景测试");
    r.set_household_division("520102");
    r.add_drug_types("methamphetamine");
    *r.mutable_found_on() = D(2026, 1, 5);
    registry::v1::Case c;
    grpc::Status s = registry_stub_->RegisterPerson(Ctx(Role::kPolice).get(), r, &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
    case_id_ = c.case_id();
  }

  detox::v1::Order DetoxTest(int y, int m, int d, detox::v1::TestResult result) {
    Today(y, m, d);
    detox::v1::RecordTestRequest req;
    req.set_case_id(case_id_);
    *req.mutable_tested_on() = D(y, m, d);
    req.set_specimen(detox::v1::SPECIMEN_URINE);
    req.set_result(result);
    detox::v1::Order order;
    grpc::Status s = detox_stub_->RecordTest(Ctx(Role::kCaseworker).get(), req, &order);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return order;
  }

  ScopedTempDir dir_;
  FakeClock clock_{ChinaNoon(2026, 1, 6)};
  // How often the services look at the clock for their daily status refresh; a test
  // of that refresh sets it short before SetUp.
  absl::Duration status_refresh_check_ = absl::Seconds(30);
  std::unique_ptr<test::RedisServer> redis_;
  std::vector<int> ports_;
  std::unique_ptr<registry::RegistryServer> registry_;
  std::unique_ptr<detox::CommunityDetoxServer> detox_;
  std::unique_ptr<isolation::CompulsoryIsolationServer> isolation_;
  std::unique_ptr<rehab::CommunityRehabServer> rehab_;
  std::unique_ptr<placement::PlacementServer> placement_;
  std::unique_ptr<registry::v1::Registry::Stub> registry_stub_;
  std::unique_ptr<detox::v1::CommunityDetox::Stub> detox_stub_;
  std::unique_ptr<isolation::v1::CompulsoryIsolation::Stub> isolation_stub_;
  std::unique_ptr<rehab::v1::CommunityRehab::Stub> rehab_stub_;
  std::string case_id_;
};

}  // namespace pathway::test

#endif  // PATHWAY_TESTS_SCENARIO_PATHWAY_STACK_H_
