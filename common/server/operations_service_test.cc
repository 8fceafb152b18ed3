// pathway.common.v1.Operations over real gRPC (in process, loopback TCP) with real
// stores (SQLite, or PostgreSQL with PATHWAY_TEST_DATABASE=postgres): status paging and resume, division filtering, roles, and the outbox
// summary with and without an outbox table.
#include "common/server/operations_service.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <cstdio>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/audit/audit_log.h"
#include "common/auth/jurisdiction.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/ids/case_id.h"
#include "common/outbox/outbox.h"
#include "common/server/backup.h"
#include "common/server/testing_programme_server.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

using common::v1::ListProgramStatusesRequest;
using common::v1::ProgramStatusPage;

constexpr char kKey[] = "operations-service-test-key-0123456789abcdef";

std::string CaseIdFor(const std::string& division, int seq) {
  return CaseId::Mint(division, 2026, seq)->ToString();
}

class OperationsServiceTest : public ::testing::Test {
 protected:
  std::unique_ptr<TestProgrammeServer> StartServer(const std::string& name, bool with_outbox,
                                                   const Clock* clock = nullptr) {
    TestProgrammeServer::Options o;
    o.clock = clock;
    o.service_name = name;
    o.data_dir = dir_.path();
    o.database = DatabaseOf(name);
    o.token_key = kKey;
    o.with_outbox = with_outbox;
    auto server = TestProgrammeServer::Start(o);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  // Seeds `n` statuses alternating between a Guiyang (520102) and a Kunming (530102)
  // county; returns the case ids in sorted order.
  std::vector<std::string> SeedStatuses(TestProgrammeServer* server, int n) {
    std::vector<ProgramStatusRecord> records;
    for (int i = 1; i <= n; ++i) {
      ProgramStatusRecord r;
      r.division = i % 2 == 0 ? "520102" : "530102";
      r.case_id = CaseIdFor(r.division, i);
      r.state = "ACTIVE";
      r.began = absl::CivilDay(2026, 3, 1);
      if (i % 3 == 0) {
        r.deadline_kind = "REPORT";
        r.deadline = absl::CivilDay(2026, 3, 16);
      }
      records.push_back(r);
    }
    EXPECT_TRUE(server->Seed(&records, absl::FromUnixSeconds(1773000000)).ok());
    std::vector<std::string> ids;
    for (const ProgramStatusRecord& r : records) ids.push_back(r.case_id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  std::string Token(Role role, const std::string& jurisdiction,
                    const std::string& subject = "ops-test") {
    Claims c;
    c.subject = subject;
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.issued_at = absl::Now();
    c.expires_at = absl::Now() + absl::Hours(1);
    return *(*TokenSigner::Create(kKey))->Sign(c);
  }

  std::unique_ptr<common::v1::Operations::Stub> Stub(const TestProgrammeServer& server) {
    return common::v1::Operations::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  }

  // Reads the whole stream; returns its final status.
  grpc::Status List(common::v1::Operations::Stub* stub, const std::string& token,
                    const ListProgramStatusesRequest& request,
                    std::vector<ProgramStatusPage>* pages) {
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, token, absl::Seconds(20));
    auto reader = stub->ListProgramStatuses(&ctx, request);
    ProgramStatusPage page;
    while (reader->Read(&page)) pages->push_back(page);
    return reader->Finish();
  }

  static std::vector<std::string> Ids(const std::vector<ProgramStatusPage>& pages) {
    std::vector<std::string> ids;
    for (const ProgramStatusPage& p : pages) {
      for (const auto& s : p.statuses()) ids.push_back(s.status().case_id());
    }
    return ids;
  }

  // Each service's database on the engine the run asks for, one per name.
  std::string DatabaseOf(const std::string& service) {
    auto it = databases_.find(service);
    if (it == databases_.end()) it = databases_.emplace(service, TestDatabaseUriOrDie(service)).first;
    return it->second;
  }

  ScopedTempDir dir_;
  std::map<std::string, std::string> databases_;
};

TEST_F(OperationsServiceTest, StreamsEveryStatusInCaseIdOrderInPages) {
  auto server = StartServer("community_detox", false);
  ASSERT_NE(server, nullptr);
  std::vector<std::string> ids = SeedStatuses(server.get(), 2500);
  auto stub = Stub(*server);

  std::vector<ProgramStatusPage> pages;
  ListProgramStatusesRequest req;
  grpc::Status s = List(stub.get(), Token(Role::kBatch, "*"), req, &pages);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0].statuses_size(), 1000);
  EXPECT_EQ(pages[1].statuses_size(), 1000);
  EXPECT_EQ(pages[2].statuses_size(), 500);
  EXPECT_EQ(pages[0].total_estimate(), 2500);
  EXPECT_EQ(pages[1].total_estimate(), 0);
  EXPECT_EQ(Ids(pages), ids);

  // Content: programme, division, version, dates and the deadline come through.
  const auto& first = pages[0].statuses(0);
  EXPECT_EQ(first.status().program(), common::v1::PROGRAM_COMMUNITY_DETOX);
  EXPECT_EQ(first.status().state(), "ACTIVE");
  EXPECT_EQ(first.status().version(), 1);
  EXPECT_EQ(first.status().began().month(), 3);
  EXPECT_EQ(first.status().updated_at().seconds(), 1773000000);
  EXPECT_EQ(first.division(), first.status().case_id().substr(0, 6));
  int with_deadline = 0;
  for (const auto& p : pages) {
    for (const auto& st : p.statuses()) {
      if (st.status().has_next_deadline()) {
        ++with_deadline;
        EXPECT_EQ(st.status().next_deadline().kind(), "REPORT");
        EXPECT_EQ(st.status().next_deadline().due().day(), 16);
      }
    }
  }
  EXPECT_EQ(with_deadline, 2500 / 3);
}

TEST_F(OperationsServiceTest, ResumesAfterTheGivenCaseIdWithTheRequestedPageSize) {
  auto server = StartServer("community_rehab", false);
  ASSERT_NE(server, nullptr);
  std::vector<std::string> ids = SeedStatuses(server.get(), 1300);
  auto stub = Stub(*server);

  ListProgramStatusesRequest req;
  req.set_after_case_id(ids[1199]);
  req.set_page_size(40);
  std::vector<ProgramStatusPage> pages;
  ASSERT_TRUE(List(stub.get(), Token(Role::kService, "*"), req, &pages).ok());
  EXPECT_EQ(pages.size(), 3u);  // 40 + 40 + 20
  EXPECT_EQ(pages[0].total_estimate(), 100);
  EXPECT_EQ(Ids(pages), std::vector<std::string>(ids.begin() + 1200, ids.end()));
  EXPECT_EQ(pages[0].statuses(0).status().program(), common::v1::PROGRAM_COMMUNITY_REHAB);

  // A resume point past the end streams nothing; an exact page boundary ends cleanly.
  pages.clear();
  req.set_after_case_id(ids.back());
  ASSERT_TRUE(List(stub.get(), Token(Role::kService, "*"), req, &pages).ok());
  EXPECT_TRUE(pages.empty());
  pages.clear();
  req.set_after_case_id(ids[1219]);
  ASSERT_TRUE(List(stub.get(), Token(Role::kService, "*"), req, &pages).ok());
  EXPECT_EQ(Ids(pages).size(), 80u);
}

TEST_F(OperationsServiceTest, DivisionPrefixIsNarrowedToTheCallersJurisdiction) {
  auto server = StartServer("compulsory_isolation", false);
  ASSERT_NE(server, nullptr);
  SeedStatuses(server.get(), 200);
  auto stub = Stub(*server);
  auto count = [&](Role role, const std::string& jur, const std::string& prefix) {
    ListProgramStatusesRequest req;
    req.set_division_prefix(prefix);
    std::vector<ProgramStatusPage> pages;
    grpc::Status s = List(stub.get(), Token(role, jur), req, &pages);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids = Ids(pages);
    for (const ProgramStatusPage& p : pages) {
      for (const auto& st : p.statuses()) {
        EXPECT_EQ(st.division().substr(0, prefix.size()), prefix.empty() ? "" : prefix);
      }
    }
    return ids.size();
  };
  EXPECT_EQ(count(Role::kBatch, "*", ""), 200u);
  EXPECT_EQ(count(Role::kBatch, "*", "53"), 100u);
  EXPECT_EQ(count(Role::kAdmin, "*", "520102"), 100u);
  EXPECT_EQ(count(Role::kBatch, "*", "11"), 0u);
  // A provincial auditor sees only its province, whatever it asks for.
  EXPECT_EQ(count(Role::kAuditor, "52", ""), 100u);
  EXPECT_EQ(count(Role::kAuditor, "52", "5201"), 100u);
  EXPECT_EQ(count(Role::kAuditor, "52", "53"), 0u);
  EXPECT_EQ(count(Role::kAuditor, "5301", "5"), 100u);
}

TEST_F(OperationsServiceTest, RolesAndBadInputGetTheRightCodes) {
  auto server = StartServer("community_detox", false);
  ASSERT_NE(server, nullptr);
  SeedStatuses(server.get(), 10);
  auto stub = Stub(*server);
  std::vector<ProgramStatusPage> pages;
  ListProgramStatusesRequest req;
  EXPECT_EQ(List(stub.get(), "", req, &pages).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  for (Role role : {Role::kCaseworker, Role::kPolice, Role::kFacilityStaff, Role::kLaborBureau}) {
    EXPECT_EQ(List(stub.get(), Token(role, "52"), req, &pages).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_TRUE(pages.empty());

  ListProgramStatusesRequest bad;
  bad.set_division_prefix("52a");
  EXPECT_EQ(List(stub.get(), Token(Role::kBatch, "*"), bad, &pages).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  bad.set_division_prefix("5201021");
  EXPECT_EQ(List(stub.get(), Token(Role::kBatch, "*"), bad, &pages).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  bad.Clear();
  bad.set_after_case_id("x y");
  EXPECT_EQ(List(stub.get(), Token(Role::kBatch, "*"), bad, &pages).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  bad.Clear();
  bad.set_page_size(-1);
  EXPECT_EQ(List(stub.get(), Token(Role::kBatch, "*"), bad, &pages).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(pages.empty());

  grpc::ClientContext ctx;
  SetBearerToken(&ctx, Token(Role::kCaseworker, "52"));
  common::v1::OutboxSummary summary;
  EXPECT_EQ(stub->GetOutboxSummary(&ctx, {}, &summary).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(OperationsServiceTest, OnlyAuditorsListTheAuditTrailAndEveryCallHasARequestId) {
  auto server = StartServer("community_rehab", false);
  ASSERT_NE(server, nullptr);
  const std::string guiyang = CaseIdFor("520102", 7);
  ASSERT_TRUE(server->runtime()
                  .store()
                  .Write([&](Transaction& tx) {
                    return AppendAudit(tx, AuditEntry{absl::FromUnixSeconds(1'800'000'000), "cw",
                                                      "caseworker", "/x/GetOrder", guiyang, "OK",
                                                      "seeded-1"});
                  })
                  .ok());
  auto stub = Stub(*server);
  // Calls ListAuditEntries; `sent` becomes the x-request-id when not empty; the
  // answer's x-request-id goes to `answered`.
  auto call = [&](const std::string& token, const common::v1::ListAuditEntriesRequest& req,
                  const std::string& sent, std::string* answered,
                  common::v1::ListAuditEntriesResponse* resp) {
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, token, absl::Seconds(20));
    if (!sent.empty()) ctx.AddMetadata("x-request-id", sent);
    grpc::Status s = stub->ListAuditEntries(&ctx, req, resp);
    auto it = ctx.GetServerInitialMetadata().find("x-request-id");
    *answered = it == ctx.GetServerInitialMetadata().end()
                    ? ""
                    : std::string(it->second.data(), it->second.size());
    return s.error_code();
  };
  common::v1::ListAuditEntriesRequest by_case;
  by_case.set_case_id(guiyang);
  common::v1::ListAuditEntriesResponse resp;
  std::string answered;
  for (Role role : {Role::kCaseworker, Role::kPolice, Role::kFacilityStaff, Role::kAdmin,
                    Role::kBatch, Role::kService}) {
    const std::string j = RoleMayBeNational(role) ? "*" : "520102";
    EXPECT_EQ(call(Token(role, j, "denied-user"), by_case, "", &answered, &resp),
              grpc::StatusCode::PERMISSION_DENIED)
        << RoleName(role);
    EXPECT_EQ(answered.size(), 32u);  // made by the server
    EXPECT_EQ(resp.entries_size(), 0);
  }
  EXPECT_EQ(call("", by_case, "", &answered, &resp), grpc::StatusCode::UNAUTHENTICATED);

  // An auditor of the province, with their own request id.
  ASSERT_EQ(call(Token(Role::kAuditor, "52", "auditor-52"), by_case, "audit-call-1", &answered,
                 &resp),
            grpc::StatusCode::OK);
  EXPECT_EQ(answered, "audit-call-1");
  EXPECT_EQ(resp.service(), "community_rehab");
  ASSERT_EQ(resp.entries_size(), 1);
  EXPECT_EQ(resp.entries(0).request_id(), "seeded-1");
  EXPECT_EQ(resp.entries(0).service(), "community_rehab");
  // A malformed request id is replaced, not echoed.
  ASSERT_EQ(call(Token(Role::kAuditor, "52", "auditor-52"), by_case, "bad id;x", &answered, &resp),
            grpc::StatusCode::OK);
  EXPECT_EQ(answered.size(), 32u);
  const std::string made = answered;
  // Another province's auditor sees nothing of the case.
  ASSERT_EQ(call(Token(Role::kAuditor, "53"), by_case, "", &answered, &resp),
            grpc::StatusCode::OK);
  EXPECT_EQ(resp.entries_size(), 0);
  EXPECT_TRUE(resp.next_page_token().empty());
  by_case.set_page_token("not-a-token");
  EXPECT_EQ(call(Token(Role::kAuditor, "52"), by_case, "", &answered, &resp),
            grpc::StatusCode::INVALID_ARGUMENT);

  // The listings, and the refused attempts, are in the trail with their request ids.
  common::v1::ListAuditEntriesRequest by_user;
  by_user.set_subject("auditor-52");
  ASSERT_EQ(call(Token(Role::kAuditor, "*"), by_user, "", &answered, &resp),
            grpc::StatusCode::OK);
  ASSERT_EQ(resp.entries_size(), 2);
  EXPECT_EQ(resp.entries(0).action(), "/pathway.common.v1.Operations/ListAuditEntries");
  EXPECT_EQ(resp.entries(0).case_id(), guiyang);
  EXPECT_EQ(resp.entries(0).role(), "auditor");
  EXPECT_EQ(resp.entries(0).outcome(), "OK");
  EXPECT_EQ(resp.entries(0).request_id(), "audit-call-1");
  EXPECT_EQ(resp.entries(1).request_id(), made);
  by_user.set_subject("denied-user");
  ASSERT_EQ(call(Token(Role::kAuditor, "*"), by_user, "", &answered, &resp),
            grpc::StatusCode::OK);
  ASSERT_EQ(resp.entries_size(), 6);
  EXPECT_EQ(resp.entries(3).role(), "admin");
  EXPECT_EQ(resp.entries(3).outcome(), "PERMISSION_DENIED");
  EXPECT_EQ(resp.entries(3).case_id(), "");  // not recorded as seen
  EXPECT_EQ(resp.entries(3).request_id().size(), 32u);
  EXPECT_TRUE(VerifyAuditChain(server->runtime().store(), nullptr).ok());
}

TEST_F(OperationsServiceTest, BackupIsForAdminsAndBatchAndWritesACheckableCopy) {
  auto server = StartServer("compulsory_isolation", true);
  ASSERT_NE(server, nullptr);
  SeedStatuses(server.get(), 6);
  auto stub = Stub(*server);
  ScopedTempDir backups;
  auto call = [&](Role role, const std::string& dir, common::v1::BackupResponse* out) {
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, Token(role, role == Role::kCaseworker ? "52" : "*"),
                         absl::Seconds(20));
    common::v1::BackupRequest req;
    req.set_dir(dir);
    return stub->Backup(&ctx, req, out).error_code();
  };
  common::v1::BackupResponse resp;
  EXPECT_EQ(call(Role::kCaseworker, backups.path(), &resp), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(call(Role::kAuditor, backups.path(), &resp), grpc::StatusCode::PERMISSION_DENIED);
  if (TestDatabaseEngine() == "postgres") {
    EXPECT_EQ(call(Role::kAdmin, backups.path(), &resp), grpc::StatusCode::FAILED_PRECONDITION);
    return;
  }
  EXPECT_EQ(call(Role::kAdmin, "relative/dir", &resp), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(call(Role::kAdmin, backups.File("missing"), &resp),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(call(Role::kAdmin, backups.path(), &resp), grpc::StatusCode::OK);
  EXPECT_EQ(resp.path(), backups.File("compulsory_isolation.db"));
  EXPECT_EQ(resp.manifest_path(), backups.File("compulsory_isolation.manifest.json"));
  const common::v1::BackupManifest& m = resp.manifest();
  EXPECT_EQ(m.service(), "compulsory_isolation");
  EXPECT_GE(m.schema_versions().at("audit"), 1);
  EXPECT_GE(m.schema_versions().at("idempotency"), 2);
  EXPECT_GE(m.schema_versions().at("outbox"), 1);
  EXPECT_GT(m.audit_seq(), 0);
  EXPECT_EQ(m.audit_hash().size(), 64u);
  EXPECT_EQ(m.sha256().size(), 64u);
  for (const std::string& path : {resp.path(), resp.manifest_path()}) {
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
    if (path == resp.path()) {
      EXPECT_EQ(st.st_size, m.bytes());
    }
  }
  absl::StatusOr<common::v1::BackupManifest> on_disk = ReadBackupManifest(resp.manifest_path());
  ASSERT_TRUE(on_disk.ok()) << on_disk.status();
  EXPECT_EQ(on_disk->sha256(), m.sha256());
  EXPECT_EQ(on_disk->audit_seq(), m.audit_seq());

  // A second backup into the same directory never overwrites the first.
  common::v1::BackupResponse refused;
  EXPECT_EQ(call(Role::kAdmin, backups.path(), &refused), grpc::StatusCode::ALREADY_EXISTS);
  ScopedTempDir other;
  common::v1::BackupResponse by_batch;
  EXPECT_EQ(call(Role::kBatch, other.path(), &by_batch), grpc::StatusCode::OK);
  EXPECT_EQ(by_batch.path(), other.File("compulsory_isolation.db"));

  // The copy checks out; a binary that knows an older schema refuses it.
  std::map<std::string, int64_t> known(on_disk->schema_versions().begin(),
                                       on_disk->schema_versions().end());
  absl::Status check = CheckBackup(backups.path(), "compulsory_isolation", known);
  EXPECT_TRUE(check.ok()) << check;
  std::map<std::string, int64_t> older = known;
  older["outbox"] -= 1;
  EXPECT_EQ(CheckBackup(backups.path(), "compulsory_isolation", older).code(),
            absl::StatusCode::kFailedPrecondition);

  // A manifest whose audit head differs from the file's is refused.
  common::v1::BackupManifest forged = *on_disk;
  forged.set_audit_seq(forged.audit_seq() + 1);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(forged, &json).ok());
  {
    FILE* f = std::fopen(resp.manifest_path().c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(json.data(), 1, json.size(), f);
    std::fclose(f);
  }
  EXPECT_EQ(CheckBackup(backups.path(), "compulsory_isolation", known).code(),
            absl::StatusCode::kDataLoss);
  // So is a file that changed after the manifest was written.
  {
    FILE* f = std::fopen(resp.path().c_str(), "ab");
    ASSERT_NE(f, nullptr);
    std::fputc(0, f);
    std::fclose(f);
  }
  EXPECT_EQ(CheckBackup(backups.path(), "compulsory_isolation", known).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(OperationsServiceTest, AServiceWithoutAProgrammeStreamsNothing) {
  auto server = StartServer("registry", false);
  ASSERT_NE(server, nullptr);
  SeedStatuses(server.get(), 10);  // the table exists, but the registry owns no programme
  auto stub = Stub(*server);
  std::vector<ProgramStatusPage> pages;
  ASSERT_TRUE(List(stub.get(), Token(Role::kBatch, "*"), {}, &pages).ok());
  EXPECT_TRUE(pages.empty());
}

TEST_F(OperationsServiceTest, ACancelledStreamEndsTheReactorCleanly) {
  auto server = StartServer("community_detox", false);
  ASSERT_NE(server, nullptr);
  SeedStatuses(server.get(), 3000);
  auto stub = Stub(*server);
  {
    grpc::ClientContext ctx;
    SetBearerToken(&ctx, Token(Role::kBatch, "*"));
    ListProgramStatusesRequest req;
    req.set_page_size(10);
    auto reader = stub->ListProgramStatuses(&ctx, req);
    ProgramStatusPage page;
    ASSERT_TRUE(reader->Read(&page));
    EXPECT_EQ(page.statuses_size(), 10);
    ctx.TryCancel();
    while (reader->Read(&page)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // The server still answers afterwards.
  std::vector<ProgramStatusPage> pages;
  ASSERT_TRUE(List(stub.get(), Token(Role::kBatch, "*"), {}, &pages).ok());
  EXPECT_EQ(Ids(pages).size(), 3000u);
}

TEST_F(OperationsServiceTest, OutboxSummaryCountsAndListsStuckHandoffsWithoutPayloads) {
  auto server = StartServer("compulsory_isolation", true);
  ASSERT_NE(server, nullptr);
  Store& store = server->runtime().store();
  const absl::Time now = absl::Now();
  ASSERT_TRUE(store
                  .Write([&](Transaction& tx) -> absl::Status {
                    for (int i = 0; i < 4; ++i) {
                      OutboxMessage m{"community_detox",
                                      "/pathway.detox.v1.CommunityDetox/CloseForIsolation",
                                      "payload-bytes", absl::StrCat("qz-test-", i)};
                      // Two old hand-offs, two fresh ones.
                      absl::Status s = EnqueueHandoff(tx, m, now - absl::Hours(i < 2 ? 3 : 0));
                      if (!s.ok()) return s;
                    }
                    // Test-only bookkeeping: one refused for good, one acknowledged.
                    absl::Status s = tx.Exec(
                        "UPDATE outbox SET state = 'parked', last_error = 'FAILED_PRECONDITION'"
                        " WHERE idempotency_key = 'qz-test-0'");
                    if (!s.ok()) return s;
                    return tx.Exec(
                        "UPDATE outbox SET state = 'delivered' WHERE idempotency_key = 'qz-test-3'");
                  })
                  .ok());
  auto stub = Stub(*server);
  grpc::ClientContext ctx;
  SetBearerToken(&ctx, Token(Role::kBatch, "*"));
  common::v1::GetOutboxSummaryRequest req;
  req.mutable_pending_older_than()->set_seconds(3600);
  common::v1::OutboxSummary summary;
  grpc::Status s = stub->GetOutboxSummary(&ctx, req, &summary);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(summary.service(), "compulsory_isolation");
  EXPECT_TRUE(summary.has_outbox());
  EXPECT_EQ(summary.pending(), 2);
  EXPECT_EQ(summary.parked(), 1);
  EXPECT_EQ(summary.delivered(), 1);
  EXPECT_NEAR(summary.oldest_pending().seconds(), absl::ToUnixSeconds(now - absl::Hours(3)), 1);
  ASSERT_EQ(summary.stuck_size(), 2);  // the parked one and the old pending one
  EXPECT_EQ(summary.stuck(0).idempotency_key(), "qz-test-0");
  EXPECT_EQ(summary.stuck(0).state(), "parked");
  EXPECT_EQ(summary.stuck(0).last_error(), "FAILED_PRECONDITION");
  EXPECT_EQ(summary.stuck(1).idempotency_key(), "qz-test-1");
  EXPECT_EQ(summary.stuck(1).state(), "pending");
  EXPECT_EQ(summary.stuck(1).target(), "community_detox");
  EXPECT_FALSE(summary.stuck_truncated());
  EXPECT_EQ(summary.SerializeAsString().find("payload-bytes"), std::string::npos);

  // max_stuck truncates the list, never the counts.
  grpc::ClientContext ctx2;
  SetBearerToken(&ctx2, Token(Role::kAuditor, "*"));
  req.set_max_stuck(1);
  ASSERT_TRUE(stub->GetOutboxSummary(&ctx2, req, &summary).ok());
  EXPECT_EQ(summary.stuck_size(), 1);
  EXPECT_TRUE(summary.stuck_truncated());
  EXPECT_EQ(summary.pending(), 2);
}

// Refuses every hand-off with a fixed status until told to accept.
class ScriptedDeliverer final : public Deliverer {
 public:
  absl::Status Deliver(const OutboxMessage&, absl::Time) override { return answer; }
  absl::Status answer = absl::OkStatus();
};

TEST_F(OperationsServiceTest, AParkedHandoffShowsItsMessageAndIsReplayedThenDelivered) {
  FakeClock clock(absl::Now());  // the server's and the dispatcher's
  auto server = StartServer("compulsory_isolation", true, &clock);
  ASSERT_NE(server, nullptr);
  Store& store = server->runtime().store();
  ASSERT_TRUE(store.Write([&](Transaction& tx) {
    return EnqueueHandoff(tx, {"placement", "/pathway.placement.v1.Placement/SuspendSeeker",
                               "payload-bytes", "qz-decision-7-suspend-placement"},
                          clock.Now());
  }).ok());
  ScriptedDeliverer deliverer;
  deliverer.answer = absl::InvalidArgumentError("effective_on: in the future");
  OutboxDispatcher dispatcher(&store, &deliverer, &clock, {});
  ASSERT_EQ(*dispatcher.RunOnce(), 0);

  // The operator sees why it was refused (the message, never the payload).
  auto stub = Stub(*server);
  common::v1::OutboxSummary summary;
  {
    grpc::ClientContext ctx;
    SetBearerToken(&ctx, Token(Role::kAdmin, "*"));
    ASSERT_TRUE(stub->GetOutboxSummary(&ctx, {}, &summary).ok());
  }
  ASSERT_EQ(summary.parked(), 1);
  ASSERT_EQ(summary.stuck_size(), 1);
  EXPECT_EQ(summary.stuck(0).last_error(), "INVALID_ARGUMENT");
  EXPECT_EQ(summary.stuck(0).last_error_message(), "effective_on: in the future");
  EXPECT_EQ(summary.SerializeAsString().find("payload-bytes"), std::string::npos);
  const int64_t id = summary.stuck(0).id();

  // Only batch and admin replay; the request must name something.
  auto replay = [&](Role role, const common::v1::ReplayParkedHandoffsRequest& req,
                    common::v1::ReplayParkedHandoffsResponse* out) {
    grpc::ClientContext ctx;
    SetBearerToken(&ctx, Token(role, "*"));
    return stub->ReplayParkedHandoffs(&ctx, req, out);
  };
  common::v1::ReplayParkedHandoffsRequest req;
  common::v1::ReplayParkedHandoffsResponse out;
  EXPECT_EQ(replay(Role::kAdmin, req, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  req.add_ids(id);
  EXPECT_EQ(replay(Role::kAuditor, req, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(replay(Role::kService, req, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // The receiver is fixed; the operator replays; the dispatcher delivers it.
  deliverer.answer = absl::OkStatus();
  grpc::Status s = replay(Role::kAdmin, req, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.service(), "compulsory_isolation");
  ASSERT_EQ(out.replayed_size(), 1);
  EXPECT_EQ(out.replayed(0), id);
  EXPECT_EQ(*dispatcher.RunOnce(), 1);
  {
    grpc::ClientContext ctx;
    SetBearerToken(&ctx, Token(Role::kBatch, "*"));
    ASSERT_TRUE(stub->GetOutboxSummary(&ctx, {}, &summary).ok());
  }
  EXPECT_EQ(summary.parked(), 0);
  EXPECT_EQ(summary.delivered(), 1);
  EXPECT_EQ(summary.stuck_size(), 0);
  // A second replay finds nothing parked.
  ASSERT_TRUE(replay(Role::kBatch, req, &out).ok());
  EXPECT_EQ(out.replayed_size(), 0);

  // Each replay is audited as a write.
  ASSERT_TRUE(server->runtime().read_audit().Flush().ok());
  int64_t audited = 0;
  ASSERT_TRUE(store.Read([&](ReadTransaction& tx) -> absl::Status {
    auto rows = tx.Query("SELECT COUNT(*) FROM audit_log WHERE action = ? AND outcome = 'OK'",
                         {std::string("/pathway.common.v1.Operations/ReplayParkedHandoffs")});
    if (!rows.ok()) return rows.status();
    audited = (*rows)[0].GetInt(0);
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(audited, 2);

  // A service without an outbox says so.
  server->Shutdown();
  auto registry = StartServer("registry", false);
  ASSERT_NE(registry, nullptr);
  auto registry_stub = Stub(*registry);
  grpc::ClientContext ctx;
  SetBearerToken(&ctx, Token(Role::kAdmin, "*"));
  req.set_all(true);
  EXPECT_EQ(registry_stub->ReplayParkedHandoffs(&ctx, req, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(OperationsServiceTest, OutboxSummaryOfAServiceWithoutAnOutboxIsZero) {
  auto server = StartServer("community_rehab", false);
  ASSERT_NE(server, nullptr);
  auto stub = Stub(*server);
  grpc::ClientContext ctx;
  SetBearerToken(&ctx, Token(Role::kAdmin, "*"));
  common::v1::OutboxSummary summary;
  grpc::Status s = stub->GetOutboxSummary(&ctx, {}, &summary);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(summary.has_outbox());
  EXPECT_EQ(summary.pending() + summary.parked() + summary.delivered(), 0);
  EXPECT_EQ(summary.stuck_size(), 0);
  EXPECT_FALSE(summary.has_oldest_pending());
}

TEST_F(OperationsServiceTest, APortAlreadyTakenIsAnErrorNotACrash) {
  auto first = StartServer("community_detox", false);
  ASSERT_NE(first, nullptr);
  TestProgrammeServer::Options o;
  o.service_name = "community_rehab";
  o.data_dir = dir_.path();
  o.database = DatabaseOf("community_rehab");
  o.token_key = kKey;
  o.port = std::stoi(first->address().substr(first->address().rfind(':') + 1));
  auto second = TestProgrammeServer::Start(o);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), "cannot listen on"));
}

TEST(EffectiveDivisionPrefixTest, NarrowsOrRefuses) {
  EXPECT_EQ(EffectiveDivisionPrefix("*", ""), "");
  EXPECT_EQ(EffectiveDivisionPrefix("*", "52"), "52");
  EXPECT_EQ(EffectiveDivisionPrefix("52", ""), "52");
  EXPECT_EQ(EffectiveDivisionPrefix("52", "520102"), "520102");
  EXPECT_EQ(EffectiveDivisionPrefix("520102", "52"), "520102");
  EXPECT_EQ(EffectiveDivisionPrefix("52", "53"), std::nullopt);
}

}  // namespace
}  // namespace pathway
