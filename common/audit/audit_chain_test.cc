// The keyed audit chain, its anchors and its verification, over a real database
// (the SQLite file, or PostgreSQL with PATHWAY_TEST_DATABASE=postgres), changed
// afterwards as someone with the database but without the key would.
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/audit/audit_anchor.h"
#include "common/audit/audit_log.h"
#include "common/status/status_macros.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
const std::string kKey = "audit-chain-test-key-0123456789abcdefghijklmnop";

AuditEntry Entry(int i) {
  return AuditEntry{kT0 + absl::Seconds(i), absl::StrCat("u", i % 3), "police",
                    "/pathway.registry.v1.Registry/GetCase", absl::StrCat("case-", i), "OK"};
}

// The published unkeyed algorithm (chain 1), as an attacker would recompute it.
std::string UnkeyedHash(const std::string& prev, int64_t seq, int64_t at_us,
                        const std::vector<std::string>& fields) {
  std::string data = prev + "pathway.audit.v1";
  for (uint64_t v : {static_cast<uint64_t>(seq), static_cast<uint64_t>(at_us)}) {
    for (int s = 56; s >= 0; s -= 8) data.push_back(static_cast<char>((v >> s) & 0xff));
  }
  for (const std::string& f : fields) {
    const uint32_t n = static_cast<uint32_t>(f.size());
    for (int s = 24; s >= 0; s -= 8) data.push_back(static_cast<char>((n >> s) & 0xff));
    data += f;
  }
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), 32);
}

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = TestDatabaseUriOrDie("audit_chain");
    Open();
  }

  // Opens the test's database (again): the SQLite file, or the PostgreSQL database.
  void Open() {
    OpenStoreOptions where;
    where.default_sqlite_path = db();
    auto store = OpenStore(database_, AuditMigrations(), nullptr, where);
    ASSERT_TRUE(store.ok()) << store.status();
    base_ = *std::move(store);
    auto keyed = KeyedAuditStore::Create(base_.get(), kKey);
    ASSERT_TRUE(keyed.ok());
    keyed_ = *std::move(keyed);
  }

  void Close() {
    keyed_.reset();
    base_.reset();
  }

  std::string db() const { return dir_.File("svc.db"); }
  std::string anchor_path() const { return dir_.File("svc.audit-anchor"); }

  void Append(Store& store, int from, int to) {
    ASSERT_TRUE(store
                    .Write([&](Transaction& tx) -> absl::Status {
                      for (int i = from; i < to; ++i) RETURN_IF_ERROR(AppendAudit(tx, Entry(i)));
                      return absl::OkStatus();
                    })
                    .ok());
  }

  void Anchor() {
    auto head = ReadAuditHead(*keyed_);
    ASSERT_TRUE(head.ok());
    auto file = AuditAnchorFile::Open(anchor_path(), kKey);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append({head->seq, head->hash, kT0}).ok());
  }

  absl::Status Verify(AuditVerifyReport* report, const std::string& key = kKey) {
    std::vector<AuditAnchor> anchors;
    if (access(anchor_path().c_str(), F_OK) == 0) {
      auto read = ReadAuditAnchors(anchor_path(), key);
      if (!read.ok()) return read.status();
      anchors = *read;
    }
    return VerifyAuditChain(*keyed_, key, anchors, report);
  }

  // SQL run behind the store's back, as someone with the database but without the
  // key would: `sqlite_sql` on the closed SQLite file, or `postgres_sql` through
  // libpq on the PostgreSQL database.
  void RawSql(const std::string& sqlite_sql, const std::string& postgres_sql) {
    Close();
    if (TestDatabaseEngine() == "postgres") {
      PGconn* conn = PQconnectdb(database_.c_str());
      ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
      PGresult* r = PQexec(conn, postgres_sql.c_str());
      EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn);
      PQclear(r);
      PQfinish(conn);
    } else {
      sqlite3* h = nullptr;
      ASSERT_EQ(sqlite3_open(db().c_str(), &h), SQLITE_OK);
      char* err = nullptr;
      EXPECT_EQ(sqlite3_exec(h, sqlite_sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
          << (err ? err : "");
      sqlite3_free(err);
      sqlite3_close(h);
    }
    Open();
  }

  // Recomputes every hash from `from_seq` on with the unkeyed algorithm, setting
  // each row's chain to `chain`.
  void ReHashUnkeyed(int64_t from_seq, int chain) {
    ASSERT_NO_FATAL_FAILURE(RawSql("DROP TRIGGER IF EXISTS audit_log_no_update",
                                   "DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log"));
    // Without the key: the plain store, as anyone with the database has it.
    absl::Status s = base_->Write([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<Row> rows,
                       tx.Query("SELECT seq, at_us, subject, role, action, case_id, outcome, hash"
                                " FROM audit_log ORDER BY seq"));
      std::string prev(32, '\0');
      for (const Row& row : rows) {
        const int64_t seq = row.GetInt(0);
        if (seq < from_seq) {
          prev = row.GetString(7);
          continue;
        }
        std::vector<std::string> fields;
        for (int i = 2; i < 7; ++i) fields.push_back(row.GetString(i));
        std::string hash = UnkeyedHash(prev, seq, row.GetInt(1), fields);
        RETURN_IF_ERROR(
            tx.Exec("UPDATE audit_log SET prev_hash = ?, hash = ?, chain = ? WHERE seq = ?",
                    {Blob{prev}, Blob{hash}, int64_t{chain}, seq}));
        prev = std::move(hash);
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }

  ScopedTempDir dir_;
  std::string database_;  // "" (SQLite in dir_) or a PostgreSQL URI
  std::unique_ptr<Store> base_;
  std::unique_ptr<KeyedAuditStore> keyed_;
};

TEST_F(AuditChainTest, KeyedRowsVerifyOnlyWithTheirKey) {
  Append(*keyed_, 0, 30);
  AuditVerifyReport report;
  ASSERT_TRUE(Verify(&report).ok());
  EXPECT_EQ(report.rows_checked, 30);
  EXPECT_EQ(report.keyed_from_seq, 1);
  EXPECT_EQ(report.head.seq, 30);
  absl::Status other = VerifyAuditChain(*keyed_, std::string(40, 'k'), {}, &report);
  EXPECT_EQ(other.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.first_bad_seq, 1);
  // Without the key: linkage only (the legacy check).
  int64_t checked = 0;
  EXPECT_TRUE(VerifyAuditChain(*keyed_, &checked).ok());
  EXPECT_EQ(checked, 30);
}

TEST_F(AuditChainTest, ShortKeyIsRefused) {
  EXPECT_EQ(KeyedAuditStore::Create(base_.get(), "short").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AuditAnchorFile::Open(anchor_path(), "short").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditChainTest, DeletedRowsReHashedWithoutTheKeyAreFoundWhereTheyWere) {
  Append(*keyed_, 0, 40);
  // Remove seq 11..15, close the gap, recompute the rest with the unkeyed algorithm:
  // an unkeyed chain over the result would verify.
  RawSql("DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_no_update;"
         "DELETE FROM audit_log WHERE seq BETWEEN 11 AND 15;"
         "UPDATE audit_log SET seq = seq - 5 WHERE seq > 15;",
         "DROP TRIGGER audit_log_no_delete ON audit_log;"
         " DROP TRIGGER audit_log_no_update ON audit_log;"
         " DELETE FROM audit_log WHERE seq BETWEEN 11 AND 15;"
         " UPDATE audit_log SET seq = seq - 5 WHERE seq > 15;");
  ASSERT_NO_FATAL_FAILURE(ReHashUnkeyed(11, kAuditChainKeyed));
  AuditVerifyReport report;
  absl::Status s = Verify(&report);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.first_bad_seq, 11);
  EXPECT_EQ(report.rows_checked, 10);
  EXPECT_EQ(s.message(), "audit chain broken at seq 11: keyed hash does not match the entry");

  // The same rows marked as unkeyed (a downgrade) are caught at the same place.
  ASSERT_NO_FATAL_FAILURE(ReHashUnkeyed(11, kAuditChainUnkeyed));
  s = Verify(&report);
  EXPECT_EQ(report.first_bad_seq, 11);
  EXPECT_EQ(s.message(), "audit chain broken at seq 11: unkeyed entry after the keyed chain started");
}

TEST_F(AuditChainTest, WholeChainRewrittenUnkeyedIsCaughtByTheAnchor) {
  Append(*keyed_, 0, 20);
  ASSERT_NO_FATAL_FAILURE(Anchor());
  ASSERT_NO_FATAL_FAILURE(ReHashUnkeyed(1, kAuditChainUnkeyed));
  AuditVerifyReport report;
  absl::Status s = Verify(&report);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.first_bad_seq, 20);
  EXPECT_EQ(s.message(), "audit chain broken at seq 20: differs from its anchor");
}

TEST_F(AuditChainTest, ChangedOutcomeIsCaught) {
  Append(*keyed_, 0, 10);
  RawSql("DROP TRIGGER audit_log_no_update;"
         "UPDATE audit_log SET outcome = 'PERMISSION_DENIED' WHERE seq = 6;",
         "DROP TRIGGER audit_log_no_update ON audit_log;"
         " UPDATE audit_log SET outcome = 'PERMISSION_DENIED' WHERE seq = 6;");
  AuditVerifyReport report;
  absl::Status s = Verify(&report);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.first_bad_seq, 6);
  EXPECT_EQ(report.rows_checked, 5);
}

TEST_F(AuditChainTest, TruncatedTailIsCaughtByTheAnchor) {
  Append(*keyed_, 0, 25);
  ASSERT_NO_FATAL_FAILURE(Anchor());
  ASSERT_TRUE(Verify(nullptr).ok());
  RawSql("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq > 21;",
         "DROP TRIGGER audit_log_no_delete ON audit_log; DELETE FROM audit_log WHERE seq > 21;");
  AuditVerifyReport report;
  absl::Status s = Verify(&report);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.first_bad_seq, 22);
  EXPECT_EQ(report.rows_checked, 21);
  EXPECT_EQ(s.message(),
            "audit chain broken at seq 22: entry missing: the chain ends at seq 21 but was "
            "anchored at seq 25");
  // The same, offline from the file (SQLite's alone).
  if (TestDatabaseEngine() != "sqlite") return;
  auto anchors = ReadAuditAnchors(anchor_path(), kKey);
  ASSERT_TRUE(anchors.ok());
  Close();
  AuditVerifyReport offline;
  EXPECT_EQ(VerifyAuditDatabaseFile(db(), kKey, *anchors, &offline).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(offline.first_bad_seq, 22);
  Open();
}

TEST_F(AuditChainTest, OlderRowsKeepTheirHashAndAMarkerStartsTheKeyedChain) {
  Append(*base_, 0, 5);  // written before the keyed chain: chain 1
  ASSERT_TRUE(StartKeyedAuditChain(*keyed_, kT0).ok());
  ASSERT_TRUE(StartKeyedAuditChain(*keyed_, kT0).ok());  // once only
  Append(*keyed_, 5, 9);
  auto rows = ListAudit(*keyed_, {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 10u);
  EXPECT_EQ((*rows)[4].chain, kAuditChainUnkeyed);
  EXPECT_EQ((*rows)[5].entry.action, kAuditKeyedChainStart);
  EXPECT_EQ((*rows)[5].chain, kAuditChainKeyed);
  EXPECT_EQ((*rows)[9].chain, kAuditChainKeyed);
  AuditVerifyReport report;
  ASSERT_TRUE(Verify(&report).ok()) << report.problem;
  EXPECT_EQ(report.keyed_from_seq, 6);
  EXPECT_EQ(report.rows_checked, 10);
  // Starting the keyed chain needs the key.
  EXPECT_EQ(StartKeyedAuditChain(*base_, kT0).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(AuditChainTest, RequestIdsAreChainedWithoutChangingOlderRowsHashes) {
  // Rows without a request id hash exactly as the published algorithm always did.
  Append(*base_, 0, 3);
  AuditEntry with_id = Entry(3);
  with_id.request_id = "req-3";
  ASSERT_TRUE(base_->Write([&](Transaction& tx) { return AppendAudit(tx, with_id); }).ok());
  auto rows = ListAudit(*base_, {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 4u);
  std::string prev(32, '\0');
  for (const AuditRow& r : *rows) {
    std::vector<std::string> fields = {r.entry.subject, r.entry.role, r.entry.action,
                                       r.entry.case_id, r.entry.outcome};
    if (r.seq == 4) {
      EXPECT_EQ(r.entry.request_id, "req-3");
      // The request id is one more length-prefixed field after the outcome.
      fields.push_back("req-3");
    } else {
      EXPECT_EQ(r.entry.request_id, "");
    }
    EXPECT_EQ(r.hash, UnkeyedHash(prev, r.seq, absl::ToUnixMicros(r.entry.at), fields))
        << "seq " << r.seq;
    prev = r.hash;
  }
  // Keyed rows with and without request ids after them: one verifier for all.
  ASSERT_TRUE(StartKeyedAuditChain(*keyed_, kT0).ok());
  Append(*keyed_, 5, 7);
  with_id = Entry(7);
  with_id.request_id = "0123456789abcdef0123456789abcdef";
  ASSERT_TRUE(keyed_->Write([&](Transaction& tx) { return AppendAudit(tx, with_id); }).ok());
  AuditVerifyReport report;
  ASSERT_TRUE(Verify(&report).ok()) << report.problem;
  EXPECT_EQ(report.rows_checked, 8);

  // Changing, adding or removing a request id breaks the chain at that row.
  RawSql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET request_id = 'forged' WHERE seq = 8;",
         "DROP TRIGGER audit_log_no_update ON audit_log;"
         " UPDATE audit_log SET request_id = 'forged' WHERE seq = 8;");
  EXPECT_EQ(Verify(&report).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.first_bad_seq, 8);
  RawSql("UPDATE audit_log SET request_id = '' WHERE seq = 8;"
         "UPDATE audit_log SET request_id = 'added' WHERE seq = 6;",
         "UPDATE audit_log SET request_id = '' WHERE seq = 8;"
         " UPDATE audit_log SET request_id = 'added' WHERE seq = 6;");
  EXPECT_EQ(Verify(&report).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.first_bad_seq, 6);
  // Unkeyed rows too: the attacker's recomputation without the id does not match.
  RawSql("UPDATE audit_log SET request_id = '' WHERE seq = 6; UPDATE audit_log SET request_id = "
         "'' WHERE seq = 4;",
         "UPDATE audit_log SET request_id = '' WHERE seq = 6; UPDATE audit_log SET request_id = "
         "'' WHERE seq = 4;");
  EXPECT_EQ(Verify(&report).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.first_bad_seq, 4);
}

TEST_F(AuditChainTest, OfflineVerifierReadsRequestIdsAndFilesFromBeforeThem) {
  if (TestDatabaseEngine() != "sqlite") GTEST_SKIP() << "the offline verifier reads SQLite files";
  Append(*keyed_, 0, 3);
  AuditEntry with_id = Entry(3);
  with_id.request_id = "req-offline";
  ASSERT_TRUE(keyed_->Write([&](Transaction& tx) { return AppendAudit(tx, with_id); }).ok());
  Close();
  AuditVerifyReport report;
  EXPECT_TRUE(VerifyAuditDatabaseFile(db(), kKey, {}, &report).ok()) << report.problem;
  EXPECT_EQ(report.rows_checked, 4);
  Open();
  // A database from before the request_id column: its rows verify as they are.
  const std::string old_db = dir_.File("old.db");
  {
    OpenStoreOptions where;
    where.default_sqlite_path = old_db;
    auto store = OpenStore("", AuditMigrations(), nullptr, where);
    ASSERT_TRUE(store.ok()) << store.status();
    auto keyed = KeyedAuditStore::Create(store->get(), kKey);
    ASSERT_TRUE(keyed.ok());
    Append(**keyed, 0, 3);
  }
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(old_db.c_str(), &h), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(h, "ALTER TABLE audit_log DROP COLUMN request_id", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(h);
  EXPECT_TRUE(VerifyAuditDatabaseFile(old_db, kKey, {}, &report).ok()) << report.problem;
  EXPECT_EQ(report.rows_checked, 3);
}

TEST_F(AuditChainTest, AnchorFileRefusesForgedLinesAndIgnoresATornLastLine) {
  Append(*keyed_, 0, 3);
  ASSERT_NO_FATAL_FAILURE(Anchor());
  Append(*keyed_, 3, 6);
  ASSERT_NO_FATAL_FAILURE(Anchor());
  auto anchors = ReadAuditAnchors(anchor_path(), kKey);
  ASSERT_TRUE(anchors.ok());
  ASSERT_EQ(anchors->size(), 2u);
  EXPECT_EQ((*anchors)[1].seq, 6);
  // A crash in the middle of a line.
  std::ofstream(anchor_path(), std::ios::app) << "a1 7 00";
  anchors = ReadAuditAnchors(anchor_path(), kKey);
  ASSERT_TRUE(anchors.ok());
  EXPECT_EQ(anchors->size(), 2u);
  // A line made without the key.
  const std::string forged = dir_.File("forged.audit-anchor");
  std::ofstream(forged) << FormatAuditAnchor((*anchors)[0], kKey)
                        << FormatAuditAnchor({3, std::string(32, 'x'), kT0}, std::string(40, 'z'));
  EXPECT_EQ(ReadAuditAnchors(forged, kKey).status(),
            absl::DataLossError("anchor file line 2 does not verify with the audit key"));
}

TEST_F(AuditChainTest, BufferTicketsReportOnceTheirGroupIsDurable) {
  AuditBufferOptions options;
  options.flush_interval = absl::Hours(1);  // only a waiter makes it write
  AuditBuffer buffer(keyed_.get(), options);
  int64_t t1 = buffer.Record(Entry(1));
  int64_t t2 = buffer.Record(Entry(2));
  EXPECT_EQ(t2, t1 + 1);
  EXPECT_EQ(buffer.last_ticket(), t2);
  ASSERT_TRUE(buffer.WaitDurable(t2).ok());
  auto rows = ListAudit(*keyed_, {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);
  bool called = false;
  buffer.WhenDurable(t1, [&called](absl::Status s) { called = s.ok(); });
  EXPECT_TRUE(called);  // already durable: reported on this thread
  ASSERT_TRUE(Verify(nullptr).ok());
}

TEST_F(AuditChainTest, BufferWaitersShareCommits) {
  AuditBuffer buffer(keyed_.get());
  constexpr int kThreads = 16;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&buffer, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_TRUE(buffer.WaitDurable(buffer.Record(Entry(t * kEach + i))).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  AuditBuffer::Stats stats = buffer.stats();
  EXPECT_EQ(stats.written, kThreads * kEach);
  EXPECT_LT(stats.store_writes, kThreads * kEach);  // entries shared commits
  ASSERT_TRUE(Verify(nullptr).ok());
}

}  // namespace
}  // namespace pathway
