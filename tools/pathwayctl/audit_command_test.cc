// pathwayctl audit verify over real files: an intact trail, a changed entry, and
// rows removed from the end (caught by the anchor file).
#include <sqlite3.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/audit/audit_anchor.h"
#include "common/audit/audit_log.h"
#include "common/status/status_macros.h"
#include "common/store/sqlite_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "tools/pathwayctl/audit_command.h"

namespace pathway {
namespace pathwayctl {
namespace {

const std::string kKey = "pathwayctl-audit-test-key-0123456789abcdefghijk";

class AuditCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("audit.key")) << kKey << "\n";
    SqliteStoreOptions options;
    options.path = db();
    options.migrations = AuditMigrations();
    auto store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok());
    auto keyed = KeyedAuditStore::Create(store->get(), kKey);
    ASSERT_TRUE(keyed.ok());
    ASSERT_TRUE((*keyed)
                    ->Write([](Transaction& tx) -> absl::Status {
                      for (int i = 0; i < 12; ++i) {
                        RETURN_IF_ERROR(AppendAudit(
                            tx, AuditEntry{absl::FromUnixSeconds(1'800'000'000 + i), "u1",
                                           "police", "/pathway.registry.v1.Registry/GetCase",
                                           absl::StrCat("case-", i), "OK"}));
                      }
                      return absl::OkStatus();
                    })
                    .ok());
    auto head = ReadAuditHead(**keyed);
    ASSERT_TRUE(head.ok());
    auto anchors = AuditAnchorFile::Open(dir_.File("registry.audit-anchor"), kKey);
    ASSERT_TRUE(anchors.ok());
    ASSERT_TRUE((*anchors)->Append({head->seq, head->hash, absl::Now()}).ok());
  }

  std::string db() const { return dir_.File("registry.db"); }

  int Verify(std::string* out) {
    std::ostringstream o, e;
    std::vector<std::string> args = {"verify", "--db", db(), "--key-file", dir_.File("audit.key")};
    int rc = RunAuditCommand(args, Environment(), o, e);
    *out = o.str() + e.str();
    return rc;
  }

  void RawSql(const std::string& sql) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &h), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(h);
  }

  ScopedTempDir dir_;
};

TEST_F(AuditCommandTest, IntactTrail) {
  std::string out;
  EXPECT_EQ(Verify(&out), 0) << out;
  EXPECT_EQ(out, "intact: 12 entries, keyed from seq 1, 1 anchors checked, head seq 12\n");
}

TEST_F(AuditCommandTest, ChangedEntryIsNamed) {
  RawSql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET case_id = 'case-99' WHERE seq = 4;");
  std::string out;
  EXPECT_EQ(Verify(&out), 1);
  EXPECT_TRUE(absl::StartsWith(out, "BROKEN at seq 4: keyed hash does not match the entry")) << out;
}

TEST_F(AuditCommandTest, RemovedNewestEntriesAreNamedFromTheAnchor) {
  RawSql("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq > 9;");
  std::string out;
  EXPECT_EQ(Verify(&out), 1);
  EXPECT_TRUE(absl::StartsWith(out, "BROKEN at seq 10: entry missing")) << out;
}

TEST_F(AuditCommandTest, UsageErrors) {
  std::ostringstream o, e;
  EXPECT_EQ(RunAuditCommand({}, Environment(), o, e), 2);
  std::vector<std::string> no_key = {"verify", "--db", db()};
  EXPECT_EQ(RunAuditCommand(no_key, Environment(), o, e), 2);
}

}  // namespace
}  // namespace pathwayctl
}  // namespace pathway
