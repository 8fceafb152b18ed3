// The audit trail over the real registry binary (DESIGN.md §6: every read is
// audited; the trail shows tampering). The binary runs as a child process on a
// loopback port with real SQLite files (no Redis: the registry serves without it).
//
// - Reads: 100 GetCase calls from 8 threads, every one answered; SIGKILL at once;
//   the database file then holds an audit row for each of the 100.
// - After the kill the binary restarts on the same data, verifies the chain and
//   reports "pathway.audit" SERVING.
// - Rows deleted and the rest re-hashed with the unkeyed algorithm while the
//   service is down: it still starts, and reports "pathway.audit" NOT_SERVING with
//   the first broken seq in its log.
// Every wait is a poll of an RPC, the log or the process with a deadline.
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/token.h"
#include "common/ids/resident_id.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "tests/system/child_process.h"
#include "tests/testing/redis_server.h"

namespace pathway {
namespace {

constexpr char kKey[] = "audit-crash-test-token-key-0123456789abcdefghij";
constexpr char kPiiKey[] = "audit-crash-test-pii-key-0123456789abcdefghijkl";
constexpr char kAuditKey[] = "audit-crash-test-audit-key-0123456789abcdefghi";
constexpr int kReads = 100;

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return condition();
}

// Runs SQL on the database file directly; returns the first column of the first row.
int64_t Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  int64_t out = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    if (sqlite3_step(stmt) == SQLITE_ROW) out = sqlite3_column_int64(stmt, 0);
  } else {
    ADD_FAILURE() << sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

void Exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

class AuditCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pathway-audit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/token.key") << kKey << "\n";
    std::ofstream(dir_ + "/pii.key") << kPiiKey << "\n";
    std::ofstream(dir_ + "/audit.key") << kAuditKey << "\n";
    auto port = test::PickUnusedLoopbackPort();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    auto no_redis = test::PickUnusedLoopbackPort();
    ASSERT_TRUE(no_redis.ok());
    redis_port_ = *no_redis;
    ASSERT_NO_FATAL_FAILURE(Start());
  }

  void TearDown() override {
    if (process_ != nullptr) {
      if (HasFailure()) std::fprintf(stderr, "---- registry ----\n%s", process_->Output().c_str());
      process_->Signal(SIGKILL);
      process_.reset();
    }
    std::string cmd = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }

  std::string db() const { return dir_ + "/registry.db"; }

  void Start() {
    std::vector<std::string> argv = {
        PATHWAY_REGISTRY_BIN, absl::StrCat("--port=", port_), "--data_dir=" + dir_,
        absl::StrCat("--redis_port=", redis_port_), "--redis_timeout_ms=50",
        "--token_key_file=" + dir_ + "/token.key", "--pii_key_file=" + dir_ + "/pii.key",
        "--drain_timeout_s=1"};
    process_.reset();
    auto p = test::ChildProcess::Start(argv, {"PATHWAY_AUDIT_KEY_FILE=" + dir_ + "/audit.key"});
    ASSERT_TRUE(p.ok()) << p.status();
    process_ = *std::move(p);
    ASSERT_TRUE(process_->WaitForOutput("event=server_started", absl::Seconds(30)).has_value())
        << process_->Output();
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_),
                                   grpc::InsecureChannelCredentials());
    registry_ = registry::v1::Registry::NewStub(channel_);
  }

  void Kill() {
    process_->Signal(SIGKILL);
    const int status = process_->Wait(absl::Seconds(30));
    ASSERT_TRUE(status != -1 && WIFSIGNALED(status)) << status;
  }

  std::unique_ptr<grpc::ClientContext> Ctx() {
    Claims c;
    c.subject = "audit-test";
    c.role = Role::kPolice;
    c.jurisdiction = "520102";
    c.issued_at = absl::Now() - absl::Minutes(1);
    c.expires_at = absl::Now() + absl::Hours(1);
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + *(*TokenSigner::Create(kKey))->Sign(c));
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  grpc::health::v1::HealthCheckResponse::ServingStatus AuditHealth() {
    auto health = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service("pathway.audit");
    grpc::health::v1::HealthCheckResponse resp;
    if (!health->Check(&ctx, req, &resp).ok()) return grpc::health::v1::HealthCheckResponse::UNKNOWN;
    return resp.status();
  }

  std::string Register() {
    registry::v1::RegisterPersonRequest r;
    r.set_resident_id_number(GenerateSyntheticResidentId("520102", absl::CivilDay(1991, 3, 9), 7));
    r.set_name("审计测试");
    r.set_household_division("520102");
    r.add_drug_types("methamphetamine");
    const absl::CivilDay found = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 30;
    r.mutable_found_on()->set_year(static_cast<int32_t>(found.year()));
    r.mutable_found_on()->set_month(found.month());
    r.mutable_found_on()->set_day(found.day());
    registry::v1::Case c;
    grpc::Status s = registry_->RegisterPerson(Ctx().get(), r, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c.case_id();
  }

  std::string dir_;
  int port_ = 0;
  int redis_port_ = 0;
  std::unique_ptr<test::ChildProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<registry::v1::Registry::Stub> registry_;
};

TEST_F(AuditCrashTest, EveryAcknowledgedReadIsAuditedBeforeAKill) {
  const std::string case_id = Register();
  ASSERT_FALSE(case_id.empty());
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kReads; i += 8) {
        registry::v1::GetCaseRequest req;
        req.set_case_id(case_id);
        registry::v1::Case c;
        grpc::Status s = registry_->GetCase(Ctx().get(), req, &c);
        EXPECT_TRUE(s.ok()) << s.error_message();
        if (s.ok()) answered.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(answered.load(), kReads);
  ASSERT_NO_FATAL_FAILURE(Kill());

  EXPECT_EQ(Sql(db(), "SELECT COUNT(*) FROM audit_log WHERE action = "
                      "'/pathway.registry.v1.Registry/GetCase' AND outcome = 'OK' AND case_id = '" +
                          case_id + "'"),
            kReads);

  // The chain written across the kill verifies on the next start.
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_TRUE(WaitFor([&] { return AuditHealth() == grpc::health::v1::HealthCheckResponse::SERVING; }))
      << process_->Output();
}

TEST_F(AuditCrashTest, RowsDeletedAndReHashedWithoutTheKeyAreReportedAtStart) {
  const std::string case_id = Register();
  for (int i = 0; i < 20; ++i) {
    registry::v1::GetCaseRequest req;
    req.set_case_id(case_id);
    registry::v1::Case c;
    ASSERT_TRUE(registry_->GetCase(Ctx().get(), req, &c).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return AuditHealth() == grpc::health::v1::HealthCheckResponse::SERVING; }));
  ASSERT_NO_FATAL_FAILURE(Kill());
  const int64_t rows = Sql(db(), "SELECT COUNT(*) FROM audit_log");
  ASSERT_GE(rows, 21);
  // As someone with the database but not the key: remove rows 5 to 9, renumber the
  // rest and recompute every hash from there with the published unkeyed algorithm.
  Exec(db(), "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
             "DELETE FROM audit_log WHERE seq BETWEEN 5 AND 9;"
             "UPDATE audit_log SET seq = seq - 5 WHERE seq > 9;");
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &h), SQLITE_OK);
  sqlite3_stmt* read = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(h, "SELECT seq, at_us, subject, role, action, case_id, outcome, hash "
                                  "FROM audit_log ORDER BY seq", -1, &read, nullptr), SQLITE_OK);
  struct R { int64_t seq, at; std::string f[5]; std::string hash; };
  std::vector<R> all;
  while (sqlite3_step(read) == SQLITE_ROW) {
    R r;
    r.seq = sqlite3_column_int64(read, 0);
    r.at = sqlite3_column_int64(read, 1);
    for (int i = 0; i < 5; ++i) r.f[i] = reinterpret_cast<const char*>(sqlite3_column_text(read, 2 + i));
    r.hash.assign(static_cast<const char*>(sqlite3_column_blob(read, 7)), 32);
    all.push_back(std::move(r));
  }
  sqlite3_finalize(read);
  std::string prev = all[3].hash;  // seq 4, untouched
  for (size_t i = 4; i < all.size(); ++i) {
    std::string data = prev + "pathway.audit.v1";
    for (uint64_t v : {static_cast<uint64_t>(all[i].seq), static_cast<uint64_t>(all[i].at)}) {
      for (int s = 56; s >= 0; s -= 8) data.push_back(static_cast<char>((v >> s) & 0xff));
    }
    for (const std::string& f : all[i].f) {
      const uint32_t n = static_cast<uint32_t>(f.size());
      for (int s = 24; s >= 0; s -= 8) data.push_back(static_cast<char>((n >> s) & 0xff));
      data += f;
    }
    unsigned char md[32];
    unsigned int len = 0;
    ASSERT_EQ(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr), 1);
    std::string hash(reinterpret_cast<const char*>(md), 32);
    sqlite3_stmt* w = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(h, "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", -1,
                                 &w, nullptr), SQLITE_OK);
    sqlite3_bind_blob(w, 1, prev.data(), 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(w, 2, hash.data(), 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(w, 3, all[i].seq);
    ASSERT_EQ(sqlite3_step(w), SQLITE_DONE);
    sqlite3_finalize(w);
    prev = hash;
  }
  sqlite3_close(h);

  ASSERT_NO_FATAL_FAILURE(Start());
  // It serves (reads are still audited, into the same chain) but says the trail is broken.
  EXPECT_TRUE(process_->WaitForOutput("event=audit_chain_broken seq=5 ", absl::Seconds(30))
                  .has_value())
      << process_->Output();
  EXPECT_EQ(AuditHealth(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  registry::v1::GetCaseRequest req;
  req.set_case_id(case_id);
  registry::v1::Case c;
  EXPECT_TRUE(registry_->GetCase(Ctx().get(), req, &c).ok());
}

}  // namespace
}  // namespace pathway
