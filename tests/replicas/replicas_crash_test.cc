// Two replicas of every service on one PostgreSQL database per service behave as one
// (DESIGN.md §7). The real five server binaries run twice each, as child processes on
// their own loopback ports and data directories, sharing the databases, a real
// redis-server and the keys. Clients drive concurrent writes to the SAME cases through
// both replicas: drug tests on community detox orders, isolation decisions whose
// close-SD hand-offs cross services, and registrations that mint case ids. Mid-way one
// replica each of the registry, community detox and compulsory isolation is killed
// with SIGKILL and later restarted; every client retries with its idempotency key,
// on whichever replica answers, until acknowledged. Afterwards:
//   - every acknowledged write is there exactly once (no lost update between the
//     replicas, no idempotency key claimed twice, no retry applied twice);
//   - every hand-off was applied once and every outbox drained;
//   - every service's audit chain verifies with the key, as one chain;
//   - no case id was minted twice.
// SQLite is one file owned by one process, so the test runs on PostgreSQL only
// (PATHWAY_TEST_DATABASE=postgres, as tests/run.sh's second pass sets it).
// Every wait polls an outcome with a deadline; none sleeps and hopes.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <errno.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/audit/audit_log.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/client/peer_error.h"
#include "common/codec/proto_date.h"
#include "common/ids/resident_id.h"
#include "common/status/status_macros.h"
#include "common/store/testing_store.h"
#include "gtest/gtest.h"
#include "pathway/common/v1/operations.grpc.pb.h"
#include "pathway/detox/v1/detox.grpc.pb.h"
#include "pathway/isolation/v1/isolation.grpc.pb.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "tests/system/child_process.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/service_database.h"

namespace pathway {
namespace {

constexpr char kKey[] = "replicas-test-token-key-0123456789abcdefghijklmn";
constexpr char kPiiKey[] = "replicas-test-pii-key-0123456789abcdefghijklmnop";
constexpr char kAuditKey[] = "replicas-test-audit-key-0123456789abcdefghijklm";
constexpr int kReplicas = 2;

// Work driven while replicas die: drug tests on kTestedCases cases from kTestWriters
// threads (two threads per case, so the replicas race on the same orders), decisions
// on kDecidedCases other cases, and kNewRegistrations registrations.
constexpr int kTestedCases = 3;
constexpr int kTestWriters = 4;
constexpr int kTestsPerWriter = 12;
constexpr int kDecidedCases = 4;
constexpr int kNewRegistrations = 10;
constexpr int kTotalWrites = kTestWriters * kTestsPerWriter + kDecidedCases + kNewRegistrations;

absl::CivilDay Today() { return absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600)); }

common::v1::Date ToDate(absl::CivilDay d) { return ToProtoDate(d); }

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(60)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return condition();
}

// What a client may retry with the same idempotency key: the replica it asked died,
// was not up yet, ran out of time, or was busy.
bool Retryable(grpc::StatusCode code) { return IsTransientPeerError(code); }

// One replica of one service binary.
struct Replica {
  int port = 0;
  std::string data_dir;
  std::unique_ptr<test::ChildProcess> process;
};

struct Service {
  std::string name;
  std::string binary;
  std::string database;  // shared by its replicas
  Replica replicas[kReplicas];
};

class ReplicasCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (TestDatabaseEngine() != "postgres") {
      GTEST_SKIP() << "replicas share a PostgreSQL database; run with "
                      "PATHWAY_TEST_DATABASE=postgres";
    }
    auto redis = test::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    char tmpl[] = "/tmp/pathway-replicas-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/token.key") << kKey << "\n";
    std::ofstream(dir_ + "/pii.key") << kPiiKey << "\n";
    std::ofstream(dir_ + "/audit.key") << kAuditKey << "\n";
    const char* names[] = {"registry", "community_detox", "compulsory_isolation",
                           "community_rehab", "placement"};
    const char* binaries[] = {PATHWAY_REGISTRY_BIN, PATHWAY_DETOX_BIN, PATHWAY_ISOLATION_BIN,
                              PATHWAY_REHAB_BIN, PATHWAY_PLACEMENT_BIN};
    services_.resize(5);
    for (int i = 0; i < 5; ++i) {
      Service& s = services_[i];
      s.name = names[i];
      s.binary = binaries[i];
      s.database = TestDatabaseUriOrDie(names[i]);
      for (int r = 0; r < kReplicas; ++r) {
        auto port = test::PickUnusedLoopbackPort();
        ASSERT_TRUE(port.ok()) << port.status();
        s.replicas[r].port = *port;
        // A replica's own files (its audit anchor) stay its own.
        s.replicas[r].data_dir = absl::StrCat(dir_, "/replica", r + 1);
        ASSERT_EQ(::mkdir(s.replicas[r].data_dir.c_str(), 0700) == 0 || errno == EEXIST, true);
      }
    }
    // The first replica of each service alone creates the schema, then the rest join.
    for (Service& s : services_) ASSERT_NO_FATAL_FAILURE(Start(s, 0));
    for (Service& s : services_) ASSERT_NO_FATAL_FAILURE(Start(s, 1));
  }

  void TearDown() override {
    for (Service& s : services_) {
      for (int r = 0; r < kReplicas; ++r) {
        Replica& replica = s.replicas[r];
        if (replica.process == nullptr) continue;
        if (HasFailure() || std::getenv("REPLICAS_TEST_LOGS") != nullptr) {
          std::fprintf(stderr, "---- %s replica %d ----\n%s", s.name.c_str(), r + 1,
                       replica.process->Output().c_str());
        }
        replica.process->Signal(SIGKILL);
      }
    }
    services_.clear();
    redis_.reset();
    if (!dir_.empty()) {
      std::string cmd = "rm -rf '" + dir_ + "'";
      EXPECT_EQ(std::system(cmd.c_str()), 0);
    }
  }

  Service& registry() { return services_[0]; }
  Service& detox() { return services_[1]; }
  Service& isolation() { return services_[2]; }

  static std::string Address(const Replica& r) { return absl::StrCat("127.0.0.1:", r.port); }

  // A service's peer address: both replicas, balanced round robin by the caller.
  static std::string PeerAddress(const Service& s) {
    return absl::StrCat("ipv4:", Address(s.replicas[0]), ",", Address(s.replicas[1]));
  }

  void Start(Service& s, int r) {
    Replica& replica = s.replicas[r];
    std::vector<std::string> argv = {
        s.binary, absl::StrCat("--port=", replica.port), "--data_dir=" + replica.data_dir,
        "--database=" + s.database, absl::StrCat("--redis_port=", redis_->port()),
        "--token_key_file=" + dir_ + "/token.key", "--plaintext", "--audit_key_file=" + dir_ + "/audit.key",
        "--drain_timeout_s=2", "--registry_addr=" + PeerAddress(registry()),
        "--detox_addr=" + PeerAddress(services_[1]),
        "--isolation_addr=" + PeerAddress(services_[2]),
        "--rehab_addr=" + PeerAddress(services_[3]),
        "--placement_addr=" + PeerAddress(services_[4])};
    if (s.name == "registry") argv.push_back("--pii_key_file=" + dir_ + "/pii.key");
    replica.process.reset();  // reaps (and kills) an earlier instance
    auto p = test::ChildProcess::Start(argv);
    ASSERT_TRUE(p.ok()) << p.status();
    replica.process = *std::move(p);
    ASSERT_TRUE(replica.process->WaitForOutput("event=server_started", absl::Seconds(60)))
        << s.name << " replica " << r + 1 << " did not start:\n"
        << replica.process->Output();
  }

  void Kill(Service& s, int r) {
    Replica& replica = s.replicas[r];
    replica.process->Signal(SIGKILL);
    const int status = replica.process->Wait(absl::Seconds(30));
    EXPECT_TRUE(status != -1 && WIFSIGNALED(status)) << s.name << " status " << status;
  }

  std::shared_ptr<grpc::Channel> Channel(const Service& s, int r) {
    return grpc::CreateChannel(Address(s.replicas[r]), grpc::InsecureChannelCredentials());
  }

  std::unique_ptr<grpc::ClientContext> Ctx(Role role, const std::string& key = "") {
    Claims c;
    c.subject = "replicas-test";
    c.role = role;
    c.jurisdiction = role == Role::kAdmin ? "*" : "520102";
    c.issued_at = absl::Now() - absl::Minutes(1);
    c.expires_at = absl::Now() + absl::Hours(1);
    auto ctx = std::make_unique<grpc::ClientContext>();
    PrepareBearerContext(ctx.get(), *(*TokenSigner::Create(kKey))->Sign(c), absl::Seconds(10));
    if (!key.empty()) ctx->AddMetadata("idempotency-key", key);
    return ctx;
  }

  // Sends `call(replica)` until acknowledged, turning to the other replica after each
  // retryable failure; `first` picks where to begin. The last status: OK once
  // acknowledged, the first error that is not retryable, or the last retryable one
  // if the deadline passed.
  grpc::Status UntilAcknowledged(int first, const std::function<grpc::Status(int)>& call) {
    const absl::Time deadline = absl::Now() + absl::Seconds(90);
    grpc::Status last;
    for (int attempt = 0; absl::Now() < deadline; ++attempt) {
      if (attempt > 0) ++retries_;
      last = call((first + attempt) % kReplicas);
      if (last.ok() || !Retryable(last.error_code())) return last;
      // A replica refused or died: the other one is tried at once; both failing in
      // turn means one is restarting and the other busy, so pause briefly.
      if (attempt % kReplicas == kReplicas - 1) absl::SleepFor(absl::Milliseconds(50));
    }
    return last;
  }

  // A registered person with an open SD order, set up before the replicas race;
  // `reported` records the person's report on the day after receipt.
  std::string Enrol(int seq, absl::CivilDay sd_received, bool reported) {
    auto reg = registry::v1::Registry::NewStub(Channel(registry(), seq % kReplicas));
    registry::v1::RegisterPersonRequest r;
    r.set_resident_id_number(
        GenerateSyntheticResidentId("520102", absl::CivilDay(1991, 6, 3), seq));
    r.set_name("副本测试");
    r.set_household_division("520102");
    r.add_drug_types("methamphetamine");
    *r.mutable_found_on() = ToDate(sd_received - 10);
    registry::v1::Case c;
    grpc::Status s = reg->RegisterPerson(Ctx(Role::kPolice).get(), r, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    auto sd = detox::v1::CommunityDetox::NewStub(Channel(detox(), (seq + 1) % kReplicas));
    detox::v1::OpenOrderRequest open;
    open.set_case_id(c.case_id());
    open.set_division("520102");
    open.set_place("520102001");
    open.set_decision_number(absl::StrCat("RP-SD-", seq));
    *open.mutable_decision_date() = ToDate(sd_received - 2);
    *open.mutable_received_on() = ToDate(sd_received);
    detox::v1::Order order;
    s = sd->OpenOrder(Ctx(Role::kPolice).get(), open, &order);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (reported) {
      detox::v1::RecordReportRequest report;
      report.set_case_id(c.case_id());
      *report.mutable_reported_on() = ToDate(sd_received + 1);
      s = sd->RecordReport(Ctx(Role::kCaseworker).get(), report, &order);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return c.case_id();
  }

  bool OutboxDrained(Service& s) {
    for (int r = 0; r < kReplicas; ++r) {
      auto stub = common::v1::Operations::NewStub(Channel(s, r));
      common::v1::GetOutboxSummaryRequest req;
      common::v1::OutboxSummary summary;
      if (!stub->GetOutboxSummary(Ctx(Role::kAdmin).get(), req, &summary).ok()) return false;
      if (!summary.has_outbox() || summary.pending() != 0 || summary.parked() != 0) return false;
    }
    return true;
  }

  // A count over a service's database, read from outside the service.
  int64_t Count(Service& s, const std::string& sql, std::vector<Value> args) {
    absl::StatusOr<test::ServiceDatabase> db = test::OpenServiceDatabase(s.database, "");
    EXPECT_TRUE(db.ok()) << s.name << ": " << db.status();
    if (!db.ok()) return -1;
    int64_t n = -1;
    absl::Status status = db->store->Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(sql, args));
      if (!rows.empty()) n = rows[0].GetInt(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << s.name << ": " << status;
    return n;
  }

  std::string dir_;
  std::unique_ptr<test::RedisServer> redis_;
  std::vector<Service> services_;
  std::atomic<int> retries_{0};  // attempts after a first one failed
};

TEST_F(ReplicasCrashTest, KillingAReplicaMidWayLosesAndDuplicatesNothing) {
  const absl::CivilDay today = Today();
  std::vector<std::string> tested_cases;
  std::vector<std::string> decided_cases;
  for (int i = 0; i < kTestedCases; ++i) tested_cases.push_back(Enrol(301 + i, today - 5, true));
  for (int i = 0; i < kDecidedCases; ++i) decided_cases.push_back(Enrol(401 + i, today - 28, false));
  ASSERT_FALSE(HasFailure());

  std::atomic<int> acknowledged{0};
  std::atomic<int> given_up{0};
  absl::Mutex mu;
  std::vector<std::string> failures;  // guarded by mu
  std::vector<std::string> minted;    // guarded by mu: case ids acknowledged to clients
  std::map<std::string, int> tests_per_case;  // guarded by mu
  auto fail = [&](const std::string& what, const grpc::Status& s) {
    ++given_up;
    absl::MutexLock lock(&mu);
    failures.push_back(absl::StrCat(what, ": ", s.error_code(), " ", s.error_message()));
  };
  // Mid-way points are counted in writes answered either way, so a client that
  // gives up fails the test below instead of stalling it here.
  auto answered = [&] { return acknowledged.load() + given_up.load(); };

  std::vector<std::thread> clients;
  // Joins the clients however this test leaves (an ASSERT returns early).
  struct Joiner {
    std::vector<std::thread>& threads;
    ~Joiner() {
      for (std::thread& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{clients};
  // Drug tests: writers 2k and 2k+1 both write to the same cases, starting on
  // different replicas, so the two replicas change the same order at once.
  for (int w = 0; w < kTestWriters; ++w) {
    clients.emplace_back([&, w] {
      std::unique_ptr<detox::v1::CommunityDetox::Stub> stubs[kReplicas];
      for (int r = 0; r < kReplicas; ++r) {
        stubs[r] = detox::v1::CommunityDetox::NewStub(Channel(detox(), r));
      }
      for (int n = 0; n < kTestsPerWriter; ++n) {
        const std::string& case_id = tested_cases[(w / 2 + n) % kTestedCases];
        const std::string key = absl::StrCat("test-", w, "-", n);
        detox::v1::RecordTestRequest req;
        req.set_case_id(case_id);
        *req.mutable_tested_on() = ToDate(today);
        req.set_specimen(detox::v1::SPECIMEN_URINE);
        req.set_result(detox::v1::TEST_RESULT_NEGATIVE);
        grpc::Status s = UntilAcknowledged(w + n, [&](int r) {
          detox::v1::Order order;
          return stubs[r]->RecordTest(Ctx(Role::kCaseworker, key).get(), req, &order);
        });
        if (!s.ok()) {
          fail(key, s);
          continue;
        }
        ++acknowledged;
        absl::MutexLock lock(&mu);
        ++tests_per_case[case_id];
      }
    });
  }
  // Decisions: each closes its SD order through a hand-off from isolation to detox.
  clients.emplace_back([&] {
    std::unique_ptr<isolation::v1::CompulsoryIsolation::Stub> stubs[kReplicas];
    for (int r = 0; r < kReplicas; ++r) {
      stubs[r] = isolation::v1::CompulsoryIsolation::NewStub(Channel(isolation(), r));
    }
    for (int i = 0; i < kDecidedCases; ++i) {
      isolation::v1::DecideRequest req;
      req.set_case_id(decided_cases[i]);
      req.set_decision_number(absl::StrCat("RP-QZ-", i));
      req.set_deciding_division("520102");
      *req.mutable_decided_on() = ToDate(today - 1);
      *req.mutable_served_on() = ToDate(today - 1);
      req.set_ground(isolation::v1::GROUND_SERIOUS_VIOLATION);
      const std::string key = absl::StrCat("decide-", i);
      grpc::Status s = UntilAcknowledged(i, [&](int r) {
        isolation::v1::Decision d;
        return stubs[r]->Decide(Ctx(Role::kPolice, key).get(), req, &d);
      });
      if (!s.ok()) {
        fail(key, s);
        continue;
      }
      ++acknowledged;
    }
  });
  // Registrations: both replicas mint case ids from one durable sequence.
  clients.emplace_back([&] {
    std::unique_ptr<registry::v1::Registry::Stub> stubs[kReplicas];
    for (int r = 0; r < kReplicas; ++r) {
      stubs[r] = registry::v1::Registry::NewStub(Channel(registry(), r));
    }
    for (int i = 0; i < kNewRegistrations; ++i) {
      registry::v1::RegisterPersonRequest req;
      req.set_resident_id_number(
          GenerateSyntheticResidentId("520102", absl::CivilDay(1993, 2, 17), 501 + i));
      req.set_name("副本登记");
      req.set_household_division("520102");
      req.add_drug_types("heroin");
      *req.mutable_found_on() = ToDate(today - 3);
      const std::string key = absl::StrCat("register-", i);
      registry::v1::Case c;
      grpc::Status s = UntilAcknowledged(i, [&](int r) {
        return stubs[r]->RegisterPerson(Ctx(Role::kPolice, key).get(), req, &c);
      });
      if (!s.ok()) {
        fail(key, s);
        continue;
      }
      ++acknowledged;
      absl::MutexLock lock(&mu);
      minted.push_back(c.case_id());
    }
  });

  // Mid-way, one replica of each writing service dies wherever it happens to be;
  // later it comes back on the same database.
  ASSERT_TRUE(WaitFor([&] { return answered() >= kTotalWrites / 4; }));
  ASSERT_LT(answered(), kTotalWrites) << "the clients finished before any replica died";
  Kill(detox(), 0);
  Kill(isolation(), 1);
  Kill(registry(), 0);
  ASSERT_TRUE(WaitFor([&] { return answered() >= kTotalWrites * 3 / 5; }));
  ASSERT_NO_FATAL_FAILURE(Start(detox(), 0));
  ASSERT_NO_FATAL_FAILURE(Start(isolation(), 1));
  ASSERT_NO_FATAL_FAILURE(Start(registry(), 0));
  for (std::thread& t : clients) t.join();
  clients.clear();
  {
    absl::MutexLock lock(&mu);
    for (const std::string& f : failures) ADD_FAILURE() << "never acknowledged: " << f;
  }
  ASSERT_EQ(acknowledged.load(), kTotalWrites);
  // Calls begun on a dead replica were retried on the live one.
  EXPECT_GT(retries_.load(), 0);

  // Every hand-off arrives: both replicas' view of each outbox is empty.
  for (Service* s : {&isolation(), &detox()}) {
    EXPECT_TRUE(WaitFor([&] { return OutboxDrained(*s); })) << s->name;
  }

  // Each acknowledged drug test is stored once: none lost to the other replica's
  // concurrent change of the same order, none applied twice by a retry.
  for (const auto& [case_id, n] : tests_per_case) {
    SCOPED_TRACE(case_id);
    EXPECT_EQ(Count(detox(),
                    "SELECT COUNT(*) FROM sv_tests t JOIN sv_orders o ON o.order_id = t.order_id"
                    " WHERE o.case_id = ?",
                    {case_id}),
              n);
  }
  // Each decision made once and handed over once: its SD order closed by exactly
  // one applied CloseForIsolation.
  for (const std::string& case_id : decided_cases) {
    SCOPED_TRACE(case_id);
    EXPECT_EQ(Count(isolation(), "SELECT COUNT(*) FROM qz_decisions WHERE case_id = ?", {case_id}),
              1);
    EXPECT_EQ(Count(detox(),
                    "SELECT COUNT(*) FROM audit_log WHERE case_id = ? AND outcome = 'OK' AND"
                    " action = '/pathway.detox.v1.CommunityDetox/CloseForIsolation'",
                    {case_id}),
              1);
    EXPECT_EQ(Count(detox(),
                    "SELECT COUNT(*) FROM sv_orders WHERE case_id = ? AND closed_on IS NOT NULL",
                    {case_id}),
              1);
  }
  // No case id twice: every acknowledged registration has its own id, and the
  // registry holds exactly the persons registered.
  const std::set<std::string> distinct(minted.begin(), minted.end());
  EXPECT_EQ(distinct.size(), minted.size());
  EXPECT_EQ(Count(registry(), "SELECT COUNT(*) FROM cases", {}),
            kTestedCases + kDecidedCases + kNewRegistrations);
  EXPECT_EQ(Count(registry(), "SELECT COUNT(DISTINCT case_id) FROM cases", {}),
            kTestedCases + kDecidedCases + kNewRegistrations);

  // Every service's audit trail is one unbroken keyed chain.
  for (Service& s : services_) {
    SCOPED_TRACE(s.name);
    absl::StatusOr<test::ServiceDatabase> db = test::OpenServiceDatabase(s.database, "");
    ASSERT_TRUE(db.ok()) << db.status();
    AuditVerifyReport report;
    absl::Status verified = VerifyAuditChain(*db->store, kAuditKey, {}, &report);
    EXPECT_TRUE(verified.ok()) << verified;
    EXPECT_GT(report.rows_checked, 0);
    EXPECT_EQ(report.keyed_from_seq, 1);
  }
}

}  // namespace
}  // namespace pathway
