// Exactly once across crashes (DESIGN.md §5). The real registry, community
// detox, compulsory isolation and community rehabilitation binaries run as child
// processes on fixed loopback ports with real databases (SQLite files, or PostgreSQL
// when the test run asks for it) and a real redis-server.
// Synthetic persons are registered and ordered into community detox; isolation is
// decided for them (and two are released, one into community rehabilitation) while
// the sending and the receiving binaries are killed at the exact windows of a hand-off
// (the test-only PATHWAY_TEST_CRASH_AT points, common/outbox/handoff_runner.h) and by
// plain SIGKILL, then restarted on the same data and port. Every decision is retried by
// the client with its idempotency key until acknowledged. At the end every decision has
// closed its SD order exactly once (one termination, on the decision date), the SK order
// was opened exactly once, the registry counted every event once, and no outbox holds a
// pending or parked row. Every wait is a poll of an RPC (or the process) with a deadline.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/codec/proto_date.h"
#include "common/ids/resident_id.h"
#include "common/status/status_macros.h"
#include "common/store/testing_store.h"
#include "gtest/gtest.h"
#include "pathway/common/v1/operations.grpc.pb.h"
#include "pathway/detox/v1/detox.grpc.pb.h"
#include "pathway/isolation/v1/isolation.grpc.pb.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "pathway/rehab/v1/rehab.grpc.pb.h"
#include "tests/system/child_process.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/service_database.h"

namespace pathway {
namespace {

constexpr char kKey[] = "handoff-crash-test-key-0123456789abcdefghijklmn";
constexpr char kPiiKey[] = "handoff-crash-test-pii-0123456789abcdefghijklm";

absl::CivilDay Today() { return absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600)); }

// Polls `condition` until it holds or `timeout` passes: a health-style wait on an
// outcome, never a fixed sleep.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return condition();
}

// One server binary on a fixed port, restartable on the same data directory and
// database.
struct Server {
  std::string name;
  std::string binary;
  int port = 0;
  std::string database;  // its --database: "" for <data_dir>/<name>.db
  std::unique_ptr<test::ChildProcess> process;
};

// A person in the test and what was decided for them.
struct Person {
  std::string case_id;
  std::string sd_number;
  std::string qz_number;
  absl::CivilDay decided_on;
  std::string decide_key;
  bool released = false;
  bool sk_ordered = false;
};

class HandoffCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = test::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    char tmpl[] = "/tmp/pathway-handoff-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/token.key") << kKey << "\n";
    std::ofstream(dir_ + "/pii.key") << kPiiKey << "\n";
    servers_.resize(5);
    const char* names[] = {"registry", "community_detox", "compulsory_isolation",
                           "community_rehab", "placement"};
    const char* binaries[] = {PATHWAY_REGISTRY_BIN, PATHWAY_DETOX_BIN, PATHWAY_ISOLATION_BIN,
                              PATHWAY_REHAB_BIN, PATHWAY_PLACEMENT_BIN};
    for (int i = 0; i < 5; ++i) {
      servers_[i].name = names[i];
      servers_[i].binary = binaries[i];
      servers_[i].database = TestDatabaseUriOrDie(names[i]);
    }
    for (Server& s : servers_) {
      auto port = test::PickUnusedLoopbackPort();
      ASSERT_TRUE(port.ok()) << port.status();
      s.port = *port;
    }
    for (Server& s : servers_) ASSERT_NO_FATAL_FAILURE(StartServer(s));
    registry_ = registry::v1::Registry::NewStub(Channel(registry()));
    detox_ = detox::v1::CommunityDetox::NewStub(Channel(detox()));
    isolation_ = isolation::v1::CompulsoryIsolation::NewStub(Channel(isolation()));
    rehab_ = rehab::v1::CommunityRehab::NewStub(Channel(rehab()));
  }

  void TearDown() override {
    for (Server& s : servers_) {
      if (s.process == nullptr) continue;
      // What the last instance of each binary logged, to see where a failure began.
      if (HasFailure() || std::getenv("HANDOFF_TEST_LOGS") != nullptr) {
        std::fprintf(stderr, "---- %s ----\n%s", s.name.c_str(), s.process->Output().c_str());
      }
      s.process->Signal(SIGKILL);
    }
    servers_.clear();
    redis_.reset();
    std::string cmd = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }

  Server& registry() { return servers_[0]; }
  Server& detox() { return servers_[1]; }
  Server& isolation() { return servers_[2]; }
  Server& rehab() { return servers_[3]; }
  Server& placement() { return servers_[4]; }

  std::string Address(const Server& s) const { return absl::StrCat("127.0.0.1:", s.port); }

  std::shared_ptr<grpc::Channel> Channel(const Server& s) {
    return grpc::CreateChannel(Address(s), grpc::InsecureChannelCredentials());
  }

  // Starts `s` (again) on its port and data; `crash` sets the test-only crash point.
  void StartServer(Server& s, const std::string& crash = "") {
    std::vector<std::string> argv = {
        s.binary, absl::StrCat("--port=", s.port), "--data_dir=" + dir_,
        "--database=" + s.database,
        absl::StrCat("--redis_port=", redis_->port()), "--token_key_file=" + dir_ + "/token.key", "--plaintext",
        "--drain_timeout_s=2", "--registry_addr=" + Address(registry()),
        "--detox_addr=" + Address(detox()), "--isolation_addr=" + Address(isolation()),
        "--rehab_addr=" + Address(rehab()), "--placement_addr=" + Address(placement())};
    if (s.name == "registry") argv.push_back("--pii_key_file=" + dir_ + "/pii.key");
    std::vector<std::string> env;
    if (!crash.empty()) env.push_back("PATHWAY_TEST_CRASH_AT=" + crash);
    s.process.reset();  // reaps (and kills) an earlier instance
    auto p = test::ChildProcess::Start(argv, env);
    ASSERT_TRUE(p.ok()) << p.status();
    s.process = *std::move(p);
    ASSERT_TRUE(s.process->WaitForOutput("event=server_started", absl::Seconds(30)).has_value())
        << s.name << " did not start:\n"
        << s.process->Output();
  }

  // SIGKILL, at whatever point the process happens to be.
  void Kill(Server& s) {
    s.process->Signal(SIGKILL);
    int status = s.process->Wait(absl::Seconds(30));
    EXPECT_TRUE(status != -1 && WIFSIGNALED(status)) << s.name << " status " << status;
  }

  // The process reached its crash point and died as if killed.
  void ExpectCrashed(Server& s) {
    int status = s.process->Wait(absl::Seconds(30));
    ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 137)
        << s.name << " status " << status << "\n"
        << s.process->Output();
    EXPECT_TRUE(absl::StrContains(s.process->Output(), "event=test_crash")) << s.name;
  }

  std::unique_ptr<grpc::ClientContext> Ctx(Role role, const std::string& jurisdiction,
                                           const std::string& key = "") {
    Claims c;
    c.subject = "handoff-test";
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.issued_at = absl::Now() - absl::Minutes(1);
    c.expires_at = absl::Now() + absl::Hours(1);
    auto ctx = std::make_unique<grpc::ClientContext>();
    SetBearerToken(ctx.get(), *(*TokenSigner::Create(kKey))->Sign(c));
    if (!key.empty()) ctx->AddMetadata("idempotency-key", key);
    // A restarted server is waited for rather than failed fast.
    ctx->set_wait_for_ready(true);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    return ctx;
  }

  // A registered person with an open SD order received on `sd_received`.
  Person Enrol(int seq, absl::CivilDay sd_received) {
    Person p;
    registry::v1::RegisterPersonRequest r;
    r.set_resident_id_number(
        GenerateSyntheticResidentId("520102", absl::CivilDay(1990, 4, 12), seq));
    r.set_name("交接测试");
    r.set_household_division("520102");
    r.add_drug_types("methamphetamine");
    *r.mutable_found_on() = ToProtoDate(sd_received - 10);
    registry::v1::Case c;
    grpc::Status s = registry_->RegisterPerson(Ctx(Role::kPolice, "520102").get(), r, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    p.case_id = c.case_id();
    p.sd_number = absl::StrCat("HO-SD-", seq);
    p.qz_number = absl::StrCat("HO-QZ-", seq);
    p.decide_key = absl::StrCat("decide-", seq);
    detox::v1::OpenOrderRequest open;
    open.set_case_id(p.case_id);
    open.set_division("520102");
    open.set_place("520102001");
    open.set_decision_number(p.sd_number);
    *open.mutable_decision_date() = ToProtoDate(sd_received - 2);
    *open.mutable_received_on() = ToProtoDate(sd_received);
    detox::v1::Order order;
    s = detox_->OpenOrder(Ctx(Role::kPolice, "520102").get(), open, &order);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return p;
  }

  grpc::Status Decide(Person& p, absl::CivilDay decided_on) {
    p.decided_on = decided_on;
    isolation::v1::DecideRequest r;
    r.set_case_id(p.case_id);
    r.set_decision_number(p.qz_number);
    r.set_deciding_division("520102");
    *r.mutable_decided_on() = ToProtoDate(decided_on);
    *r.mutable_served_on() = ToProtoDate(decided_on);
    r.set_ground(isolation::v1::GROUND_SERIOUS_VIOLATION);
    isolation::v1::Decision d;
    return isolation_->Decide(Ctx(Role::kPolice, "520102", p.decide_key).get(), r, &d);
  }

  // The client's side of exactly once: the same request with the same key until the
  // service acknowledges it.
  void DecideUntilAcknowledged(Person& p, absl::CivilDay decided_on) {
    grpc::Status last;
    EXPECT_TRUE(WaitFor([&] {
      last = Decide(p, decided_on);
      return last.ok();
    })) << last.error_message();
  }

  void AdmitAndRelease(Person& p, bool sk_ordered) {
    isolation::v1::AdmitRequest admit;
    admit.set_case_id(p.case_id);
    admit.set_facility_id("gy-police-1");  // the binary's built-in development facility
    *admit.mutable_admitted_on() = ToProtoDate(p.decided_on);
    isolation::v1::Decision d;
    grpc::Status s = isolation_->Admit(
        Ctx(Role::kFacilityStaff, "520102", "admit-" + p.qz_number).get(), admit, &d);
    ASSERT_TRUE(s.ok()) << s.error_message();
    isolation::v1::ReleaseRequest release;
    release.set_case_id(p.case_id);
    *release.mutable_released_on() = ToProtoDate(Today());
    release.set_release_certificate_number("HO-REL-" + p.qz_number);
    release.mutable_community_rehab()->set_ordered(sk_ordered);
    if (sk_ordered) {
      release.mutable_community_rehab()->set_term_months(12);
      release.mutable_community_rehab()->set_decision_number("HO-SK-" + p.qz_number);
      release.mutable_community_rehab()->set_place("520102001");
    }
    s = isolation_->Release(Ctx(Role::kFacilityStaff, "520102", "release-" + p.qz_number).get(),
                            release, &d);
    ASSERT_TRUE(s.ok()) << s.error_message();
    p.released = true;
    p.sk_ordered = sk_ordered;
  }

  // Outbox counts of a running service, through pathway.common.v1.Operations.
  bool OutboxSummary(Server& s, common::v1::OutboxSummary* out) {
    auto stub = common::v1::Operations::NewStub(Channel(s));
    common::v1::GetOutboxSummaryRequest req;
    return stub->GetOutboxSummary(Ctx(Role::kAdmin, "*").get(), req, out).ok();
  }

  bool OutboxDrained(Server& s) {
    common::v1::OutboxSummary summary;
    return OutboxSummary(s, &summary) && summary.has_outbox() && summary.pending() == 0 &&
           summary.parked() == 0;
  }

  // A count over a stopped service's database: `sql` with one text parameter.
  int64_t Count(const std::string& service, const std::string& sql, const std::string& arg) {
    const Server* server = nullptr;
    for (const Server& s : servers_) {
      if (s.name == service) server = &s;
    }
    EXPECT_NE(server, nullptr) << service;
    if (server == nullptr) return -1;
    absl::StatusOr<test::ServiceDatabase> db =
        test::OpenServiceDatabase(server->database, dir_ + "/" + service + ".db");
    EXPECT_TRUE(db.ok()) << service << ": " << db.status();
    if (!db.ok()) return -1;
    int64_t n = -1;
    absl::Status s = db->store->Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(sql, {arg}));
      if (!rows.empty()) n = rows[0].GetInt(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << service << ": " << s;
    return n;
  }

  std::string dir_;
  std::unique_ptr<test::RedisServer> redis_;
  std::vector<Server> servers_;
  std::unique_ptr<registry::v1::Registry::Stub> registry_;
  std::unique_ptr<detox::v1::CommunityDetox::Stub> detox_;
  std::unique_ptr<isolation::v1::CompulsoryIsolation::Stub> isolation_;
  std::unique_ptr<rehab::v1::CommunityRehab::Stub> rehab_;
};

TEST_F(HandoffCrashTest, KillingEitherSideLosesAndDuplicatesNothing) {
  const absl::CivilDay today = Today();
  std::vector<Person> people;
  for (int i = 0; i < 5; ++i) people.push_back(Enrol(101 + i, today - 28));
  // Two who were isolated long ago and are released today (one into SK).
  people.push_back(Enrol(201, today - 815));
  people.push_back(Enrol(202, today - 815));
  ASSERT_FALSE(HasFailure());

  // 1. The sender dies right after the decision and its outbox rows commit, before
  //    the client hears back or anything is dispatched.
  isolation().process->Signal(SIGTERM);
  ASSERT_NE(isolation().process->Wait(absl::Seconds(30)), -1);
  ASSERT_NO_FATAL_FAILURE(StartServer(isolation(), "after_commit:1"));
  grpc::Status first = Decide(people[0], today - 1);
  EXPECT_FALSE(first.ok()) << "the answer was lost with the process";
  ASSERT_NO_FATAL_FAILURE(ExpectCrashed(isolation()));

  // 2. Restarted, it delivers the committed rows; it dies again after the second
  //    acknowledgement (the close-SD hand-off), before marking it delivered.
  ASSERT_NO_FATAL_FAILURE(StartServer(isolation(), "after_ack:2"));
  ASSERT_NO_FATAL_FAILURE(ExpectCrashed(isolation()));

  // 3. Restarted cleanly: the acknowledged hand-off is sent again (the receiver
  //    replays it), and the client's retry of the decision is answered from the
  //    stored result.
  ASSERT_NO_FATAL_FAILURE(StartServer(isolation()));
  DecideUntilAcknowledged(people[0], today - 1);
  ASSERT_TRUE(WaitFor([&] { return OutboxDrained(isolation()); }));

  // 4. The receiver dies right after applying the close-SD hand-off, before it
  //    answers; the sender retries with backoff until the restarted receiver replays.
  Kill(detox());
  ASSERT_NO_FATAL_FAILURE(StartServer(detox(), "after_apply:1"));
  DecideUntilAcknowledged(people[1], today - 1);
  ASSERT_NO_FATAL_FAILURE(ExpectCrashed(detox()));
  ASSERT_NO_FATAL_FAILURE(StartServer(detox()));
  ASSERT_TRUE(WaitFor([&] { return OutboxDrained(isolation()); }));

  // 5. Plain SIGKILL of both sides right after three acknowledged decisions, wherever
  //    their hand-offs happen to be.
  for (int i = 2; i < 5; ++i) DecideUntilAcknowledged(people[i], today - 1);
  Kill(isolation());
  Kill(detox());
  ASSERT_NO_FATAL_FAILURE(StartServer(detox()));
  ASSERT_NO_FATAL_FAILURE(StartServer(isolation()));
  ASSERT_TRUE(WaitFor([&] { return OutboxDrained(isolation()); }));

  // 6. Release: the community rehabilitation service dies right after opening the SK
  //    order (its third applied hand-off: close-SK for each of the two decisions, then
  //    open-SK), before it answers.
  Kill(rehab());
  ASSERT_NO_FATAL_FAILURE(StartServer(rehab(), "after_apply:3"));
  DecideUntilAcknowledged(people[5], today - 800);
  DecideUntilAcknowledged(people[6], today - 800);
  ASSERT_TRUE(WaitFor([&] { return OutboxDrained(isolation()); }));
  ASSERT_NO_FATAL_FAILURE(AdmitAndRelease(people[5], /*sk_ordered=*/true));
  ASSERT_NO_FATAL_FAILURE(AdmitAndRelease(people[6], /*sk_ordered=*/false));
  ASSERT_NO_FATAL_FAILURE(ExpectCrashed(rehab()));
  ASSERT_NO_FATAL_FAILURE(StartServer(rehab()));

  // Everything acknowledged arrives: every outbox drains, nothing parked.
  for (Server* s : {&isolation(), &detox(), &rehab()}) {
    EXPECT_TRUE(WaitFor([&] { return OutboxDrained(*s); })) << s->name;
  }

  for (const Person& p : people) {
    SCOPED_TRACE(p.qz_number);
    // The SD order was closed as handed over, on the decision date.
    detox::v1::GetOrderRequest get;
    get.set_case_id(p.case_id);
    detox::v1::Order sd;
    ASSERT_TRUE(detox_->GetOrder(Ctx(Role::kPolice, "520102").get(), get, &sd).ok());
    EXPECT_EQ(sd.state(), "TERMINATED");
    EXPECT_EQ(sd.close_reason(), "ISOLATION");
    EXPECT_EQ(DayOf(sd.closed_on()), p.decided_on);
    EXPECT_EQ(sd.closing_document(), p.qz_number);
    // The registry's abstinence clock: open while a measure is (QZ, or SK after
    // release); from the last end once all ended.
    registry::v1::GetCaseRequest gc;
    gc.set_case_id(p.case_id);
    registry::v1::Case c;
    ASSERT_TRUE(registry_->GetCase(Ctx(Role::kPolice, "520102").get(), gc, &c).ok());
    if (p.released && !p.sk_ordered) {
      ASSERT_TRUE(c.has_abstinence_milestone());
      EXPECT_EQ(c.abstinence_milestone().year(), today.year() + 3);
    } else {
      EXPECT_FALSE(c.has_abstinence_milestone());
    }
    // SK exists only where it was ordered, opened from the release date.
    rehab::v1::GetOrderRequest sk_get;
    sk_get.set_case_id(p.case_id);
    rehab::v1::Order sk;
    grpc::Status sk_status = rehab_->GetOrder(Ctx(Role::kPolice, "520102").get(), sk_get, &sk);
    if (p.sk_ordered) {
      ASSERT_TRUE(sk_status.ok()) << sk_status.error_message();
      EXPECT_EQ(sk.state(), "AWAITING_REPORT");
      EXPECT_EQ(DayOf(sk.received_on()), today);
      EXPECT_EQ(sk.term_months(), 12);
    } else {
      EXPECT_EQ(sk_status.error_code(), grpc::StatusCode::NOT_FOUND);
    }
  }
  // One decision per person: the client's retries never decided twice.
  isolation::v1::ListDecisionsRequest list;
  list.mutable_page()->set_page_size(100);
  isolation::v1::ListDecisionsResponse decisions;
  ASSERT_TRUE(isolation_->ListDecisions(Ctx(Role::kPolice, "520102").get(), list, &decisions).ok());
  EXPECT_EQ(decisions.decisions_size(), static_cast<int>(people.size()));

  // Stop everything and read the databases: each hand-off applied once, each event
  // counted once.
  for (Server& s : servers_) s.process->Signal(SIGTERM);
  for (Server& s : servers_) {
    int status = s.process->Wait(absl::Seconds(30));
    EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << s.name;
  }
  const std::string applied =
      "SELECT COUNT(*) FROM audit_log WHERE case_id = ? AND outcome = 'OK' AND action = ";
  for (const Person& p : people) {
    SCOPED_TRACE(p.qz_number);
    EXPECT_EQ(Count("community_detox",
                    applied + "'/pathway.detox.v1.CommunityDetox/CloseForIsolation'", p.case_id),
              1);
    EXPECT_EQ(
        Count("community_detox", "SELECT COUNT(*) FROM sv_orders WHERE case_id = ?", p.case_id),
        1);
    EXPECT_EQ(Count("community_rehab",
                    applied + "'/pathway.rehab.v1.CommunityRehab/CloseForIsolation'", p.case_id),
              1);
    EXPECT_EQ(Count("community_rehab",
                    applied + "'/pathway.rehab.v1.CommunityRehab/OpenFromRelease'", p.case_id),
              p.sk_ordered ? 1 : 0);
    EXPECT_EQ(Count("compulsory_isolation", "SELECT COUNT(*) FROM qz_decisions WHERE case_id = ?",
                    p.case_id),
              1);
    // SD started and ended, QZ started; QZ ended on release; SK started when ordered,
    // reported twice (by isolation at release, by rehab on opening) and opened once.
    const int64_t events = 3 + (p.released ? 1 : 0) + (p.sk_ordered ? 2 : 0);
    EXPECT_EQ(Count("registry", "SELECT COUNT(*) FROM case_events WHERE case_id = ?", p.case_id),
              events);
    EXPECT_EQ(Count("registry",
                    "SELECT COUNT(*) FROM measures WHERE case_id = ? AND program = 3", p.case_id),
              p.sk_ordered ? 1 : 0);
  }
  for (const char* service : {"compulsory_isolation", "community_detox", "community_rehab"}) {
    EXPECT_EQ(Count(service, "SELECT COUNT(*) FROM outbox WHERE state <> ?", "delivered"), 0)
        << service;
  }
}

}  // namespace
}  // namespace pathway
