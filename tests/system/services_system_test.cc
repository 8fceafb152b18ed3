// Starts the five real server binaries over TCP with a real redis-server and checks
// what every deployment relies on: health and reflection on every port, the auth
// guard in front of a real RPC, a degraded-but-serving state while Redis is down,
// recovery when it returns, and a clean exit on SIGTERM. Each binary keeps its record
// in its own database: a SQLite file, or PostgreSQL when the test run asks for it.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/codec/proto_date.h"
#include "common/cache/redis_status_cache.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/clock/clock.h"
#include "common/store/testing_store.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "pathway/detox/v1/detox.grpc.pb.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "tests/system/child_process.h"
#include "tests/testing/redis_server.h"

namespace pathway {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

struct ServiceSpec {
  std::string name;       // binary and data-file name
  std::string binary;     // path
  std::string grpc_name;  // fully qualified service name
};

std::vector<ServiceSpec> Specs() {
  return {
      {"registry", PATHWAY_REGISTRY_BIN, "pathway.registry.v1.Registry"},
      {"community_detox", PATHWAY_DETOX_BIN, "pathway.detox.v1.CommunityDetox"},
      {"compulsory_isolation", PATHWAY_ISOLATION_BIN, "pathway.isolation.v1.CompulsoryIsolation"},
      {"community_rehab", PATHWAY_REHAB_BIN, "pathway.rehab.v1.CommunityRehab"},
      {"placement", PATHWAY_PLACEMENT_BIN, "pathway.placement.v1.Placement"},
  };
}

constexpr char kKey[] = "system-test-key-0123456789abcdefghijklmnopqrstuvwxyz";

struct Running {
  ServiceSpec spec;
  std::unique_ptr<test::ChildProcess> process;
  std::shared_ptr<grpc::Channel> channel;
};

class ServicesSystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto redis = test::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = redis->release();

    char tmpl[] = "/tmp/pathway-system-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    std::string key_file = *dir_ + "/token.key";
    std::ofstream(key_file) << kKey << "\n";

    std::ofstream(*dir_ + "/pii.key") << "system-test-pii-key-0123456789abcdefghijklmn\n";

    // Fixed free ports, so each service can be told where the others listen.
    const std::vector<ServiceSpec> specs = Specs();
    std::vector<int> ports;
    for (size_t i = 0; i < specs.size(); ++i) {
      auto port = test::PickUnusedLoopbackPort();
      ASSERT_TRUE(port.ok()) << port.status();
      ports.push_back(*port);
    }
    auto addr = [&](int i) { return absl::StrCat("127.0.0.1:", ports[i]); };
    services_ = new std::vector<Running>();
    for (size_t i = 0; i < specs.size(); ++i) {
      const ServiceSpec& spec = specs[i];
      std::vector<std::string> argv = {
          spec.binary, absl::StrCat("--port=", ports[i]), "--data_dir=" + *dir_,
          "--database=" + TestDatabaseUriOrDie(spec.name),
          absl::StrCat("--redis_port=", redis_->port()), "--token_key_file=" + key_file, "--plaintext",
          "--drain_timeout_s=5", "--registry_addr=" + addr(0), "--detox_addr=" + addr(1),
          "--isolation_addr=" + addr(2), "--rehab_addr=" + addr(3),
          "--placement_addr=" + addr(4)};
      if (spec.name == "registry") argv.push_back("--pii_key_file=" + *dir_ + "/pii.key");
      auto p = test::ChildProcess::Start(argv);
      ASSERT_TRUE(p.ok()) << p.status();
      services_->push_back(Running{spec, *std::move(p), nullptr});
    }
    for (Running& r : *services_) {
      auto line = r.process->WaitForOutput("event=server_started", absl::Seconds(60));
      ASSERT_TRUE(line.has_value()) << r.spec.name << " did not start:\n" << r.process->Output();
      size_t at = line->find("address=");
      ASSERT_NE(at, std::string::npos) << *line;
      std::string address = line->substr(at + 8);
      address = address.substr(0, address.find(' '));
      r.channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    }
  }

  static void TearDownTestSuite() {
    // Graceful shutdown: SIGTERM, exit code 0, and the drain logged.
    for (Running& r : *services_) r.process->Signal(SIGTERM);
    for (Running& r : *services_) {
      int status = r.process->Wait(absl::Seconds(30));
      EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << r.spec.name << " status " << status << "\n" << r.process->Output();
      EXPECT_TRUE(absl::StrContains(r.process->Output(), "event=server_stopped")) << r.spec.name;
    }
    delete services_;
    delete redis_;
    std::string cmd = "rm -rf '" + *dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    delete dir_;
  }

  static std::string Token(Role role, const std::string& jurisdiction) {
    auto signer = TokenSigner::Create(kKey);
    EXPECT_TRUE(signer.ok());
    Claims c;
    c.subject = "system-test";
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.issued_at = absl::Now();
    c.expires_at = absl::Now() + absl::Hours(1);
    auto token = (*signer)->Sign(c);
    EXPECT_TRUE(token.ok());
    return *token;
  }

  static grpc::Status Check(const std::shared_ptr<grpc::Channel>& ch, const std::string& service,
                            HealthCheckResponse::ServingStatus* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::Status s = Health::NewStub(ch)->Check(&ctx, req, &resp);
    *out = resp.status();
    return s;
  }

  // Follows the health Watch stream until `service` reports `want`: event-driven,
  // bounded by a deadline.
  static bool WatchUntil(const std::shared_ptr<grpc::Channel>& ch, const std::string& service,
                         HealthCheckResponse::ServingStatus want) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    HealthCheckRequest req;
    req.set_service(service);
    auto reader = Health::NewStub(ch)->Watch(&ctx, req);
    HealthCheckResponse resp;
    while (reader->Read(&resp)) {
      if (resp.status() == want) {
        ctx.TryCancel();
        reader->Finish();
        return true;
      }
    }
    reader->Finish();
    return false;
  }

  static test::RedisServer* redis_;
  static std::string* dir_;
  static std::vector<Running>* services_;
};

test::RedisServer* ServicesSystemTest::redis_ = nullptr;
std::string* ServicesSystemTest::dir_ = nullptr;
std::vector<Running>* ServicesSystemTest::services_ = nullptr;

// A regional policy file is checked at start: a bad line stops the binary with the
// line named, before it serves anything; the shipped file starts it.
TEST(PolicyFileAtStart, BadPolicyStopsTheServerAndNamesTheLine) {
  char tmpl[] = "/tmp/pathway-policy-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/token.key") << kKey << "\n";
  std::ofstream(dir + "/bad.policy") << "# regional\nsuspension_pauses_clock = sometimes\n";
  for (const char* binary : {PATHWAY_DETOX_BIN, PATHWAY_REHAB_BIN}) {
    auto p = test::ChildProcess::Start({binary, "--port=0", "--data_dir=" + dir,
                                        "--database=" + TestDatabaseUriOrDie("policy"),
                                        "--token_key_file=" + dir + "/token.key", "--plaintext",
                                        "--policy_file=" + dir + "/bad.policy"});
    ASSERT_TRUE(p.ok()) << p.status();
    // The message arrives through the pipe, which may be read after the exit is seen.
    EXPECT_TRUE((*p)->WaitForOutput("policy line 2", absl::Seconds(30)).has_value())
        << (*p)->Output();
    int status = (*p)->Wait(absl::Seconds(30));
    ASSERT_TRUE(status != -1 && WIFEXITED(status)) << (*p)->Output();
    EXPECT_EQ(WEXITSTATUS(status), 2);
    EXPECT_FALSE(absl::StrContains((*p)->Output(), "event=server_started"));
  }
  auto ok = test::ChildProcess::Start({PATHWAY_DETOX_BIN, "--port=0", "--data_dir=" + dir,
                                       "--database=" + TestDatabaseUriOrDie("policy"),
                                       "--token_key_file=" + dir + "/token.key", "--plaintext",
                                       "--policy_file=" PATHWAY_SHIPPED_POLICY});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE((*ok)->WaitForOutput("event=server_started", absl::Seconds(30)).has_value())
      << (*ok)->Output();
  (*ok)->Signal(SIGTERM);
  EXPECT_NE((*ok)->Wait(absl::Seconds(30)), -1);
}

TEST_F(ServicesSystemTest, HealthAndReflectionAnswerOnEveryPort) {
  for (Running& r : *services_) {
    SCOPED_TRACE(r.spec.name);
    HealthCheckResponse::ServingStatus st;
    ASSERT_TRUE(Check(r.channel, "", &st).ok());
    EXPECT_EQ(st, HealthCheckResponse::SERVING);
    ASSERT_TRUE(Check(r.channel, r.spec.grpc_name, &st).ok());
    EXPECT_EQ(st, HealthCheckResponse::SERVING);
    EXPECT_TRUE(WatchUntil(r.channel, "pathway.status_cache", HealthCheckResponse::SERVING));
    EXPECT_EQ(Check(r.channel, "no.such.Service", &st).error_code(), grpc::StatusCode::NOT_FOUND);

    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    auto stream =
        grpc::reflection::v1alpha::ServerReflection::NewStub(r.channel)->ServerReflectionInfo(&ctx);
    grpc::reflection::v1alpha::ServerReflectionRequest req;
    req.set_list_services("*");
    ASSERT_TRUE(stream->Write(req));
    grpc::reflection::v1alpha::ServerReflectionResponse resp;
    ASSERT_TRUE(stream->Read(&resp));
    std::set<std::string> names;
    for (const auto& s : resp.list_services_response().service()) names.insert(s.name());
    EXPECT_TRUE(names.count(r.spec.grpc_name)) << r.spec.grpc_name;
    EXPECT_TRUE(names.count("grpc.health.v1.Health"));
    // The service's descriptors resolve by symbol, so grpcurl can build requests.
    req.set_file_containing_symbol(r.spec.grpc_name);
    ASSERT_TRUE(stream->Write(req));
    ASSERT_TRUE(stream->Read(&resp));
    EXPECT_GT(resp.file_descriptor_response().file_descriptor_proto_size(), 0)
        << resp.DebugString();
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
}

TEST_F(ServicesSystemTest, EveryRpcNeedsAValidTokenAndAnAllowedRole) {
  auto stub = detox::v1::CommunityDetox::NewStub((*services_)[1].channel);
  auto call = [&](const std::string& token, const std::string& case_id) {
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, token, absl::Seconds(5));
    common::v1::GetProgramStatusRequest req;
    req.set_case_id(case_id);
    common::v1::ProgramStatus resp;
    return stub->GetProgramStatus(&ctx, req, &resp).error_code();
  };
  const std::string valid_id = "520102-2026-0000042-2";
  EXPECT_EQ(call("", valid_id), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call("not.a.token", valid_id), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call(Token(Role::kLaborBureau, "52"), valid_id), grpc::StatusCode::PERMISSION_DENIED);
  std::string caseworker = Token(Role::kCaseworker, "520102");
  EXPECT_EQ(call(caseworker, "520102-2026-0000042-3"), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(call(caseworker, valid_id), grpc::StatusCode::NOT_FOUND);

}

// Across the real binaries: a caseworker registers a synthetic person in the
// registry and reads the status view, which the registry assembles from Redis or,
// on a miss, from the four programme services over TCP.
TEST_F(ServicesSystemTest, RegistryRegistersAndAssemblesTheStatusView) {
  auto registry = registry::v1::Registry::NewStub((*services_)[0].channel);
  std::string token = Token(Role::kCaseworker, "520102");
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, token, absl::Seconds(10));
  registry::v1::RegisterPersonRequest req;
  req.set_resident_id_number(
      GenerateSyntheticResidentId("520102", absl::CivilDay(1993, 11, 2), 77));
  req.set_name("系统测试");
  req.set_household_division("520102");
  req.add_drug_types("methamphetamine");
  absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));
  ToProtoDate(today, req.mutable_found_on());
  registry::v1::Case c;
  grpc::Status s = registry->RegisterPerson(&ctx, req, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(CaseId::Parse(c.case_id()).ok());

  grpc::ClientContext sctx;
  PrepareBearerContext(&sctx, token, absl::Seconds(10));
  registry::v1::GetCaseStatusRequest sreq;
  sreq.set_case_id(c.case_id());
  registry::v1::CaseStatus st;
  s = registry->GetCaseStatus(&sctx, sreq, &st);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(st.found());
  EXPECT_EQ(st.programs_size(), 0) << "every programme service answered: no record yet";
}

TEST_F(ServicesSystemTest, RedisDownLeavesServicesServingAndTheyRecover) {
  for (Running& r : *services_) {
    ASSERT_TRUE(WatchUntil(r.channel, "pathway.status_cache", HealthCheckResponse::SERVING));
  }
  ASSERT_TRUE(redis_->Stop().ok());
  for (Running& r : *services_) {
    SCOPED_TRACE(r.spec.name);
    EXPECT_TRUE(WatchUntil(r.channel, "pathway.status_cache", HealthCheckResponse::NOT_SERVING));
    HealthCheckResponse::ServingStatus st;
    ASSERT_TRUE(Check(r.channel, "", &st).ok());
    EXPECT_EQ(st, HealthCheckResponse::SERVING) << "the service itself stays up";
    ASSERT_TRUE(Check(r.channel, r.spec.grpc_name, &st).ok());
    EXPECT_EQ(st, HealthCheckResponse::SERVING);
  }
  ASSERT_TRUE(redis_->Restart().ok());
  for (Running& r : *services_) {
    SCOPED_TRACE(r.spec.name);
    EXPECT_TRUE(WatchUntil(r.channel, "pathway.status_cache", HealthCheckResponse::SERVING));
  }
}

// Redis frozen (SIGSTOP) while cases change: every status write after those commits
// fails. Once Redis is resumed, every changed case must be right in the cache within
// 5 seconds, read from Redis itself, with no reconciler running.
TEST_F(ServicesSystemTest, StatusesChangedWhileRedisWasFrozenReachItSoonAfter) {
  for (Running& r : *services_) {
    ASSERT_TRUE(WatchUntil(r.channel, "pathway.status_cache", HealthCheckResponse::SERVING));
  }
  auto registry = registry::v1::Registry::NewStub((*services_)[0].channel);
  auto detox = detox::v1::CommunityDetox::NewStub((*services_)[1].channel);
  const std::string police = Token(Role::kPolice, "520102");
  const std::string caseworker = Token(Role::kCaseworker, "520102");
  auto context = [](grpc::ClientContext* ctx, const std::string& token) {
    PrepareBearerContext(ctx, token, absl::Seconds(10));
  };
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));

  constexpr int kCases = 20;
  std::vector<std::string> ids;
  for (int i = 0; i < kCases; ++i) {
    registry::v1::RegisterPersonRequest reg;
    reg.set_resident_id_number(
        GenerateSyntheticResidentId("520102", absl::CivilDay(1980, 1, 1) + i, 300 + i));
    reg.set_name("测试人员");
    reg.set_household_division("520102");
    reg.set_registering_division("520102");
    reg.add_drug_types("methamphetamine");
    ToProtoDate(today - 40, reg.mutable_found_on());
    grpc::ClientContext ctx;
    context(&ctx, police);
    registry::v1::Case c;
    grpc::Status s = registry->RegisterPerson(&ctx, reg, &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ids.push_back(c.case_id());

    detox::v1::OpenOrderRequest open;
    open.set_case_id(c.case_id());
    open.set_division("520102");
    open.set_place("520102-街道1");
    open.set_decision_number(absl::StrCat("SD-SYS-", i));
    ToProtoDate(today - 38, open.mutable_decision_date());
    ToProtoDate(today - 37, open.mutable_received_on());
    open.set_term_months(36);
    grpc::ClientContext octx;
    context(&octx, police);
    detox::v1::Order order;
    s = detox->OpenOrder(&octx, open, &order);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  RedisCacheOptions ro;
  ro.port = redis_->port();
  auto cache = RedisStatusCache::Create(ro);
  ASSERT_TRUE(cache.ok()) << cache.status();
  // The version each case has in the cache, 0 when missing or unreadable.
  auto cached_version = [&](const std::string& id) -> int64_t {
    auto entries = (*cache)->Get(id);
    if (!entries.ok() || entries->count(Programme::kCommunityDetox) == 0) return 0;
    return entries->at(Programme::kCommunityDetox).version;
  };

  ASSERT_TRUE(redis_->Pause().ok());
  for (const std::string& id : ids) {
    detox::v1::RecordReportRequest report;
    report.set_case_id(id);
    ToProtoDate(today - 36, report.mutable_reported_on());
    grpc::ClientContext ctx;
    context(&ctx, caseworker);
    detox::v1::Order order;
    grpc::Status s = detox->RecordReport(&ctx, report, &order);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // What the service itself now holds: the version the cache must reach.
  std::map<std::string, int64_t> want;
  for (const std::string& id : ids) {
    common::v1::GetProgramStatusRequest req;
    req.set_case_id(id);
    grpc::ClientContext ctx;
    context(&ctx, caseworker);
    common::v1::ProgramStatus st;
    grpc::Status s = detox->GetProgramStatus(&ctx, req, &st);
    ASSERT_TRUE(s.ok()) << s.error_message();
    want[id] = st.version();
  }

  // The writes after those commits did miss the cache (warnings are logged at once).
  EXPECT_TRUE(absl::StrContains((*services_)[1].process->Output(),
                                "event=status_publish_failed program=detox"));

  ASSERT_TRUE(redis_->Resume().ok());
  const absl::Time resumed = absl::Now();
  std::set<std::string> stale(ids.begin(), ids.end());
  while (!stale.empty() && absl::Now() < resumed + absl::Seconds(5)) {
    for (auto it = stale.begin(); it != stale.end();) {
      it = cached_version(*it) == want[*it] ? stale.erase(it) : std::next(it);
    }
    if (!stale.empty()) absl::SleepFor(absl::Milliseconds(50));  // poll, bounded above
  }
  EXPECT_TRUE(stale.empty()) << stale.size() << " of " << kCases
                             << " changed cases still stale 5 s after Redis resumed";
  std::printf("# all %d changed cases right in the cache %.0f ms after Redis resumed\n",
              kCases, absl::ToDoubleMilliseconds(absl::Now() - resumed));
}

}  // namespace
}  // namespace pathway
