// Reading the audit trail across the five real binaries (child processes, real
// databases, plaintext on loopback): a caseworker works on one case in the
// registry and in community detox, one call with its own x-request-id; then an
// auditor lists the case's entries from every service, through
// Operations.ListAuditEntries and through `pathwayctl audit`, and finds each
// call with its request id. Other roles are refused, and an auditor of another
// province sees nothing of the case.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/ids/resident_id.h"
#include "common/store/testing_store.h"
#include "pathway/common/v1/operations.grpc.pb.h"
#include "pathway/detox/v1/detox.grpc.pb.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "tests/system/child_process.h"
#include "tests/testing/redis_server.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

constexpr char kKey[] = "audit-e2e-token-key-0123456789abcdefghijklmno";
const char *const kNames[] = {"registry", "community_detox",
                              "compulsory_isolation", "community_rehab",
                              "placement"};
const char *const kAddrEnv[] = {"PATHWAY_REGISTRY_ADDR", "PATHWAY_DETOX_ADDR",
                                "PATHWAY_ISOLATION_ADDR", "PATHWAY_REHAB_ADDR",
                                "PATHWAY_PLACEMENT_ADDR"};

std::string Token(Role role, const std::string &jurisdiction) {
  Claims c;
  c.subject = absl::StrCat("e2e-", RoleName(role), "-",
                           jurisdiction == "*" ? "national" : jurisdiction);
  c.role = role;
  c.jurisdiction = jurisdiction;
  c.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  c.expires_at = c.issued_at + absl::Hours(1);
  return *(*TokenSigner::Create(kKey))->Sign(c);
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string &token,
                                         const std::string &request_id = "") {
  auto ctx = std::make_unique<grpc::ClientContext>();
  PrepareBearerContext(ctx.get(), token, absl::Seconds(20));
  if (!request_id.empty())
    ctx->AddMetadata("x-request-id", request_id);
  return ctx;
}

std::string RequestIdOf(const grpc::ClientContext &ctx) {
  auto it = ctx.GetServerInitialMetadata().find("x-request-id");
  if (it == ctx.GetServerInitialMetadata().end())
    return "";
  return std::string(it->second.data(), it->second.size());
}

// A date `days_ago` days before today in China.
common::v1::Date DaysAgo(int days_ago) {
  absl::CivilDay d =
      absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600)) - days_ago;
  common::v1::Date out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

class AuditTrailE2eTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto redis = test::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    char tmpl[] = "/tmp/pathway-audit-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/token.key") << kKey;
    std::ofstream(dir_ + "/pii.key")
        << "audit-e2e-pii-key-0123456789abcdefghijklmnop";
    const char *binaries[] = {PATHWAY_REGISTRY_BIN, PATHWAY_DETOX_BIN,
                              PATHWAY_ISOLATION_BIN, PATHWAY_REHAB_BIN,
                              PATHWAY_PLACEMENT_BIN};
    for (int i = 0; i < 5; ++i)
      ports_.push_back(*test::PickUnusedLoopbackPort());
    for (int i = 0; i < 5; ++i) {
      std::vector<std::string> argv = {
          binaries[i],
          absl::StrCat("--port=", ports_[i]),
          "--data_dir=" + dir_,
          "--database=" + TestDatabaseUriOrDie(kNames[i]),
          "--plaintext",
          absl::StrCat("--redis_port=", redis_->port()),
          "--token_key_file=" + dir_ + "/token.key",
          "--drain_timeout_s=2",
          "--registry_addr=" + Addr(0),
          "--detox_addr=" + Addr(1),
          "--isolation_addr=" + Addr(2),
          "--rehab_addr=" + Addr(3),
          "--placement_addr=" + Addr(4)};
      if (i == 0)
        argv.push_back("--pii_key_file=" + dir_ + "/pii.key");
      auto p = test::ChildProcess::Start(argv);
      ASSERT_TRUE(p.ok()) << p.status();
      processes_.push_back(*std::move(p));
    }
    for (auto &p : processes_) {
      ASSERT_TRUE(p->WaitForOutput("event=server_started", absl::Seconds(30))
                      .has_value())
          << p->Output();
    }
    for (int i = 0; i < 5; ++i) {
      operations_.push_back(common::v1::Operations::NewStub(
          grpc::CreateChannel(Addr(i), grpc::InsecureChannelCredentials())));
    }
  }

  void TearDown() override {
    for (auto &p : processes_)
      p->Signal(SIGTERM);
    for (auto &p : processes_) {
      int status = p->Wait(absl::Seconds(30));
      EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << p->Output();
    }
    processes_.clear();
    std::string cmd = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }

  std::string Addr(int i) const {
    return absl::StrCat("127.0.0.1:", ports_[i]);
  }

  // Every entry of `case_id` in service `i` as `token` sees it (all pages); the
  // call's status in `status`.
  std::vector<common::v1::AuditTrailEntry> List(int i, const std::string &token,
                                                const std::string &case_id,
                                                grpc::Status *status) {
    std::vector<common::v1::AuditTrailEntry> out;
    common::v1::ListAuditEntriesRequest req;
    req.set_case_id(case_id);
    req.set_page_size(2); // several pages even for a short trail
    for (int page = 0; page < 100; ++page) {
      common::v1::ListAuditEntriesResponse resp;
      auto ctx = Ctx(token);
      *status = operations_[i]->ListAuditEntries(ctx.get(), req, &resp);
      EXPECT_EQ(RequestIdOf(*ctx).size(), 32u);
      if (!status->ok())
        break;
      EXPECT_EQ(resp.service(), kNames[i]);
      out.insert(out.end(), resp.entries().begin(), resp.entries().end());
      if (resp.next_page_token().empty())
        break;
      req.set_page_token(resp.next_page_token());
    }
    return out;
  }

  std::unique_ptr<test::RedisServer> redis_;
  std::string dir_;
  std::vector<int> ports_;
  std::vector<std::unique_ptr<test::ChildProcess>> processes_;
  std::vector<std::unique_ptr<common::v1::Operations::Stub>> operations_;
};

TEST_F(AuditTrailE2eTest, AnAuditorReadsOneCasesTrailAcrossTheFiveServices) {
  const std::string police = Token(Role::kPolice, "520102");
  const std::string cw = Token(Role::kCaseworker, "520102");
  auto registry = registry::v1::Registry::NewStub(
      grpc::CreateChannel(Addr(0), grpc::InsecureChannelCredentials()));
  auto detox = detox::v1::CommunityDetox::NewStub(
      grpc::CreateChannel(Addr(1), grpc::InsecureChannelCredentials()));

  // Police register the person and order community detox.
  registry::v1::RegisterPersonRequest reg;
  reg.set_resident_id_number(
      GenerateSyntheticResidentId("520102", absl::CivilDay(1991, 4, 4), 23));
  reg.set_name("审计测试");
  reg.set_household_division("520102");
  reg.add_drug_types("methamphetamine");
  *reg.mutable_found_on() = DaysAgo(20);
  registry::v1::Case c;
  grpc::Status s = registry->RegisterPerson(Ctx(police).get(), reg, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string case_id = c.case_id();
  detox::v1::OpenOrderRequest sd;
  sd.set_case_id(case_id);
  sd.set_division("520102");
  sd.set_place("520102001");
  sd.set_decision_number("AUDIT-E2E-SD-1");
  *sd.mutable_decision_date() = DaysAgo(15);
  *sd.mutable_received_on() = DaysAgo(14);
  detox::v1::Order order;
  s = detox->OpenOrder(Ctx(police).get(), sd, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // The caseworker's calls: one with the app's own request id, which comes
  // back.
  auto get_case = Ctx(cw, "cw-app.get-case_1");
  registry::v1::GetCaseRequest get;
  get.set_case_id(case_id);
  s = registry->GetCase(get_case.get(), get, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(RequestIdOf(*get_case), "cw-app.get-case_1");
  auto report_ctx = Ctx(cw, "not a valid id!");
  detox::v1::RecordReportRequest report;
  report.set_case_id(case_id);
  *report.mutable_reported_on() = DaysAgo(10);
  s = detox->RecordReport(report_ctx.get(), report, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string report_id = RequestIdOf(*report_ctx);
  EXPECT_EQ(report_id.size(), 32u); // replaced, not echoed
  auto get_order = Ctx(cw);
  detox::v1::GetOrderRequest go;
  go.set_case_id(case_id);
  s = detox->GetOrder(get_order.get(), go, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string get_order_id = RequestIdOf(*get_order);

  // Every service answers the auditor; the caseworker's calls are there with
  // their ids.
  const std::string auditor = Token(Role::kAuditor, "52");
  std::set<std::string> services_with_entries;
  std::vector<common::v1::AuditTrailEntry> all;
  for (int i = 0; i < 5; ++i) {
    std::vector<common::v1::AuditTrailEntry> got =
        List(i, auditor, case_id, &s);
    ASSERT_TRUE(s.ok()) << kNames[i] << ": " << s.error_message();
    for (const auto &e : got) {
      EXPECT_EQ(e.service(), kNames[i]);
      EXPECT_EQ(e.case_id(), case_id);
      EXPECT_FALSE(e.request_id().empty()) << e.action();
      services_with_entries.insert(e.service());
      all.push_back(e);
    }
  }
  EXPECT_EQ(services_with_entries,
            (std::set<std::string>{"registry", "community_detox"}));
  auto find = [&](const std::string &action, const std::string &subject) {
    for (const auto &e : all) {
      if (absl::EndsWith(e.action(), action) && e.subject() == subject)
        return e;
    }
    ADD_FAILURE() << "no entry " << action << " by " << subject;
    return common::v1::AuditTrailEntry();
  };
  const std::string cw_subject = "e2e-caseworker-520102";
  common::v1::AuditTrailEntry e = find("GetCase", cw_subject);
  EXPECT_EQ(e.request_id(), "cw-app.get-case_1");
  EXPECT_EQ(e.role(), "caseworker");
  EXPECT_EQ(e.outcome(), "OK");
  EXPECT_EQ(find("RecordReport", cw_subject).request_id(), report_id);
  EXPECT_EQ(find("GetOrder", cw_subject).request_id(), get_order_id);
  EXPECT_EQ(find("RegisterPerson", "e2e-police-520102").service(), "registry");
  EXPECT_EQ(find("OpenOrder", "e2e-police-520102").service(),
            "community_detox");

  // Caseworker, police and admin tokens are refused everywhere.
  for (const std::string &token : {cw, police, Token(Role::kAdmin, "*")}) {
    for (int i = 0; i < 5; ++i) {
      List(i, token, case_id, &s);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << kNames[i];
    }
  }
  // Another province's auditor sees nothing of the case.
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(List(i, Token(Role::kAuditor, "53"), case_id, &s).empty())
        << kNames[i];
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  // The same through pathwayctl, which finds the services where they say they
  // are.
  std::vector<std::string> env = {"PATHWAY_TOKEN=" + auditor};
  for (int i = 0; i < 5; ++i)
    env.push_back(absl::StrCat(kAddrEnv[i], "=", Addr(i)));
  // (ChildProcess keeps standard error only: the shell sends the listing there
  // too.)
  auto ctl = test::ChildProcess::Start(
      {"/bin/sh", "-c", "exec \"$@\" 1>&2", "sh", PATHWAY_PATHWAYCTL_BIN,
       "audit", "--case", case_id, "--request-id", "e2e-ctl-1"},
      env);
  ASSERT_TRUE(ctl.ok()) << ctl.status();
  int status = (*ctl)->Wait(absl::Seconds(20));
  const std::string output = (*ctl)->Output();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_TRUE(absl::StrContains(output, "5 of 5 services answered")) << output;
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (!absl::StrContains(line, case_id))
      continue;
    ++lines;
    if (absl::StrContains(line, "/GetCase\t")) {
      EXPECT_TRUE(absl::StrContains(line, "\tregistry\t")) << line;
      EXPECT_TRUE(absl::EndsWith(line, "\tOK\tcw-app.get-case_1")) << line;
    }
  }
  // Every entry the RPC listed, plus the auditor's own earlier listings.
  EXPECT_GE(lines, static_cast<int>(all.size())) << output;
  EXPECT_TRUE(absl::StrContains(output, "\tcommunity_detox\t")) << output;

  // pathwayctl's listing is in the trail of all five under its one request id.
  for (int i = 0; i < 5; ++i) {
    common::v1::ListAuditEntriesRequest req;
    req.set_subject("e2e-auditor-52");
    common::v1::ListAuditEntriesResponse resp;
    s = operations_[i]->ListAuditEntries(Ctx(Token(Role::kAuditor, "*")).get(),
                                         req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_GT(resp.entries_size(), 0) << kNames[i];
    EXPECT_EQ(resp.entries(resp.entries_size() - 1).request_id(), "e2e-ctl-1")
        << kNames[i];
    EXPECT_EQ(resp.entries(resp.entries_size() - 1).case_id(), case_id);
  }
}

} // namespace
} // namespace pathway
