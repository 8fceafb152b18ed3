// The audit trail over the real registry binary (DESIGN.md §6: every read is
// audited; the trail shows tampering). The binary runs as a child process on a
// loopback port with a real database (a SQLite file, or PostgreSQL when the test run
// asks for it; no Redis: the registry serves without it).
//
// - Reads: 100 GetCase calls from 8 threads, every one answered; SIGKILL at once;
//   the database then holds an audit row for each of the 100.
// - After the kill the binary restarts on the same data, verifies the chain and
//   reports "pathway.audit" SERVING.
// - Rows deleted and the rest re-hashed with the unkeyed algorithm while the
//   service is down: it still starts, and reports "pathway.audit" NOT_SERVING with
//   the first broken seq in its log.
// Every wait is a poll of an RPC, the log or the process with a deadline.
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <signal.h>
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
#include "common/client/bearer_context.h"
#include "common/codec/proto_date.h"
#include "common/ids/resident_id.h"
#include "common/status/status_macros.h"
#include "common/store/testing_store.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "tests/system/child_process.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/service_database.h"

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
    database_ = TestDatabaseUriOrDie("registry");
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

  // The registry's database, opened from outside the binary.
  test::ServiceDatabase OpenDatabase() {
    absl::StatusOr<test::ServiceDatabase> db =
        test::OpenServiceDatabase(database_, dir_ + "/registry.db");
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : test::ServiceDatabase{};
  }

  // Runs a query on the database directly; returns the first column of the first row.
  int64_t Sql(const std::string& sql, const std::vector<Value>& params = {}) {
    test::ServiceDatabase db = OpenDatabase();
    if (db.store == nullptr) return -1;
    int64_t out = -1;
    absl::Status s = db.store->Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(sql, params));
      if (!rows.empty()) out = rows[0].GetInt(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  void Start() {
    std::vector<std::string> argv = {
        PATHWAY_REGISTRY_BIN, absl::StrCat("--port=", port_), "--data_dir=" + dir_,
        "--database=" + database_,
        absl::StrCat("--redis_port=", redis_port_), "--redis_timeout_ms=50",
        "--token_key_file=" + dir_ + "/token.key", "--plaintext", "--pii_key_file=" + dir_ + "/pii.key",
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
    SetBearerToken(ctx.get(), *(*TokenSigner::Create(kKey))->Sign(c));
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
    ToProtoDate(found, r.mutable_found_on());
    registry::v1::Case c;
    grpc::Status s = registry_->RegisterPerson(Ctx().get(), r, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c.case_id();
  }

  std::string dir_;
  std::string database_;  // the registry's --database, the same for every start
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

  EXPECT_EQ(Sql("SELECT COUNT(*) FROM audit_log WHERE action = "
                "'/pathway.registry.v1.Registry/GetCase' AND outcome = 'OK' AND case_id = ?",
                {case_id}),
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
  const int64_t rows = Sql("SELECT COUNT(*) FROM audit_log");
  ASSERT_GE(rows, 21);
  // As someone with the database but not the key: remove rows 5 to 9, renumber the
  // rest and recompute every hash from there with the published unkeyed algorithm.
  {
    test::ServiceDatabase db = OpenDatabase();
    ASSERT_NE(db.store, nullptr);
    // Dropping a trigger is the one statement the engines spell differently.
    const std::string on_table =
        db.location.engine == DatabaseLocation::Engine::kPostgres ? " ON audit_log" : "";
    absl::Status s = db.store->Write([&](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.Exec("DROP TRIGGER audit_log_no_update" + on_table));
      RETURN_IF_ERROR(tx.Exec("DROP TRIGGER audit_log_no_delete" + on_table));
      RETURN_IF_ERROR(tx.Exec("DELETE FROM audit_log WHERE seq BETWEEN 5 AND 9"));
      RETURN_IF_ERROR(tx.Exec("UPDATE audit_log SET seq = seq - 5 WHERE seq > 9"));
      ASSIGN_OR_RETURN(std::vector<Row> all,
                       tx.Query("SELECT seq, at_us, subject, role, action, case_id, outcome, hash "
                                "FROM audit_log ORDER BY seq"));
      if (all.size() < 5) return absl::InternalError("too few audit rows");
      std::string prev = all[3].GetString(7);  // seq 4, untouched
      for (size_t i = 4; i < all.size(); ++i) {
        std::string data = prev + "pathway.audit.v1";
        for (uint64_t v : {static_cast<uint64_t>(all[i].GetInt(0)),
                           static_cast<uint64_t>(all[i].GetInt(1))}) {
          for (int b = 56; b >= 0; b -= 8) data.push_back(static_cast<char>((v >> b) & 0xff));
        }
        for (int col = 2; col <= 6; ++col) {
          const std::string& f = all[i].GetString(col);
          const uint32_t n = static_cast<uint32_t>(f.size());
          for (int b = 24; b >= 0; b -= 8) data.push_back(static_cast<char>((n >> b) & 0xff));
          data += f;
        }
        unsigned char md[32];
        unsigned int len = 0;
        if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) {
          return absl::InternalError("EVP_Digest");
        }
        std::string hash(reinterpret_cast<const char*>(md), 32);
        RETURN_IF_ERROR(tx.Exec("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
                                {Blob{prev}, Blob{hash}, all[i].GetInt(0)}));
        prev = hash;
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }

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
