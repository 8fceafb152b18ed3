// `pathwayctl backup` and `pathwayctl restore-check` against five real servers (in
// process, loopback, port 0), one per service name, each on its own store: every
// service backs up into one timestamped directory while a writer keeps writing, the
// backup checks out, and a damaged file, a missing service or a refused role fail
// the run. On PostgreSQL every service refuses the backup.
#include "tools/pathwayctl/backup_command.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/token.h"
#include "common/clock/clock.h"
#include "common/server/testing_programme_server.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "tools/pathwayctl/pathwayctl.h"

namespace pathway {
namespace pathwayctl {
namespace {

constexpr char kKey[] = "pathwayctl-backup-test-key-0123456789abcdef";

class BackupCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.services.clear();
    for (const ServiceAddress& s : DefaultServiceAddresses()) {
      TestProgrammeServer::Options o;
      o.service_name = s.name;
      o.data_dir = dir_.path();
      o.database = TestDatabaseUriOrDie(s.name);
      o.token_key = kKey;
      // The services that keep an outbox.
      o.with_outbox = s.name != "registry" && s.name != "placement";
      auto server = TestProgrammeServer::Start(o);
      ASSERT_TRUE(server.ok()) << server.status();
      env_.services.push_back({s.name, (*server)->address()});
      servers_.push_back(*std::move(server));
    }
  }

  std::string Token(Role role) {
    Claims c;
    c.subject = "operator-1";
    c.role = role;
    c.jurisdiction = role == Role::kCaseworker ? "520102" : "*";
    c.issued_at = absl::Now() - absl::Minutes(1);
    c.expires_at = absl::Now() + absl::Hours(1);
    return *(*TokenSigner::Create(kKey))->Sign(c);
  }

  int Ctl(const std::vector<std::string>& args, Role role, std::string* out) {
    Environment env = env_;
    env.token = Token(role);
    std::ostringstream o, e;
    const int code = pathwayctl::Run(args, env, clock_, o, e);
    *out = o.str() + e.str();
    return code;
  }

  ScopedTempDir dir_;
  ScopedTempDir backups_;
  FakeClock clock_{absl::FromUnixSeconds(1796000000)};  // 2026-11-30T00:53:20Z
  Environment env_;  // services: the five servers, set up in SetUp
  std::vector<std::unique_ptr<TestProgrammeServer>> servers_;
};

TEST_F(BackupCommandTest, BacksUpEveryServiceAndTheBackupChecksOut) {
  std::string out;
  const std::string taken = backups_.File("20261130T005320Z");
  if (TestDatabaseEngine() == "postgres") {
    EXPECT_EQ(Ctl({"backup", "--dir", backups_.path()}, Role::kAdmin, &out), 1) << out;
    for (const ServiceAddress& s : env_.services) {
      EXPECT_TRUE(absl::StrContains(out, absl::StrCat(s.name, "\tfailed\tFAILED_PRECONDITION")))
          << out;
    }
    return;
  }
  // One service goes on committing writes while every service is backed up.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    Store& store = servers_[0]->runtime().store();
    for (int i = 0; !stop.load(); ++i) {
      absl::Status s = store.Write([](Transaction&) { return absl::OkStatus(); });
      if (!s.ok()) return;
    }
  });
  const int code = Ctl({"backup", "--dir", backups_.path()}, Role::kAdmin, &out);
  stop.store(true);
  writer.join();
  ASSERT_EQ(code, 0) << out;
  for (const ServiceAddress& s : env_.services) {
    EXPECT_TRUE(absl::StrContains(
        out, absl::StrCat(s.name, "\tok\t", taken, "/", s.name, ".db\t")))
        << out;
  }
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("backup: ", taken, "\n"))) << out;
  struct stat st;
  ASSERT_EQ(::stat(taken.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  EXPECT_EQ(Ctl({"restore-check", "--dir", taken}, Role::kAdmin, &out), 0) << out;
  for (const ServiceAddress& s : env_.services) {
    EXPECT_TRUE(absl::StrContains(out, absl::StrCat(s.name, "\tok\taudit seq "))) << out;
  }

  // The same second again: the directory exists, nothing is overwritten.
  EXPECT_EQ(Ctl({"backup", "--dir", backups_.path()}, Role::kAdmin, &out), 1) << out;

  // A damaged file fails the check of its service only.
  {
    FILE* f = std::fopen((taken + "/placement.db").c_str(), "ab");
    ASSERT_NE(f, nullptr);
    std::fputc(0, f);
    std::fclose(f);
  }
  EXPECT_EQ(Ctl({"restore-check", "--dir", taken}, Role::kAdmin, &out), 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "placement\tfailed\tDATA_LOSS")) << out;
  EXPECT_TRUE(absl::StrContains(out, "registry\tok")) << out;
  // A directory without backups fails for every service.
  EXPECT_EQ(Ctl({"restore-check", "--dir", dir_.path()}, Role::kAdmin, &out), 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "registry\tfailed\tNOT_FOUND")) << out;
}

TEST_F(BackupCommandTest, ARefusedRoleOrAnUnreachableServiceFailsTheRun) {
  std::string out;
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Ctl({"backup", "--dir", backups_.path()}, Role::kCaseworker, &out), 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "registry\tfailed\tPERMISSION_DENIED")) << out;

  clock_.Advance(absl::Seconds(1));
  env_.services[4].address = "127.0.0.1:1";  // nothing listens there
  const int code = Ctl({"backup", "--dir", backups_.path(), "--timeout", "3s"}, Role::kBatch,
                       &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "placement\tfailed\t")) << out;

  EXPECT_EQ(Ctl({"backup", "--dir", "relative"}, Role::kAdmin, &out), 2) << out;
  EXPECT_EQ(Ctl({"backup"}, Role::kAdmin, &out), 2) << out;
  EXPECT_EQ(Ctl({"restore-check"}, Role::kAdmin, &out), 2) << out;
}

TEST(KnownSchemaVersionsTest, CoversEveryServiceAndTheSharedComponents) {
  for (const ServiceAddress& s : DefaultServiceAddresses()) {
    std::map<std::string, int64_t> v = KnownSchemaVersions(s.name);
    EXPECT_GE(v["audit"], 1) << s.name;
    EXPECT_GE(v["idempotency"], 2) << s.name;
    EXPECT_GE(v["program_status"], 1) << s.name;
  }
  EXPECT_TRUE(KnownSchemaVersions("unknown").empty());
}

}  // namespace
}  // namespace pathwayctl
}  // namespace pathway
