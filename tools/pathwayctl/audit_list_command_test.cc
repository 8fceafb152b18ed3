// pathwayctl audit --case / --user against real servers (in process, each with
// its own store and the Operations service): entries of several services merged
// by time, each naming its service, one request id sent to all, and a service
// that does not answer named with its code and in the exit code.
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/audit/audit_log.h"
#include "common/auth/token.h"
#include "common/ids/case_id.h"
#include "common/server/testing_programme_server.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "tools/pathwayctl/audit_command.h"
#include "gtest/gtest.h"

namespace pathway {
namespace pathwayctl {
namespace {

constexpr char kKey[] = "pathwayctl-audit-list-test-key-0123456789abcdef";
const absl::Time kT0 =
    absl::FromUnixSeconds(1'800'000'000); // 2027-01-15T08:00:00Z

class AuditListCommandTest : public ::testing::Test {
protected:
  void SetUp() override {
    case_id_ = CaseId::Mint("520102", 2026, 5)->ToString();
    for (const char *name : {"registry", "community_detox"}) {
      TestProgrammeServer::Options o;
      o.service_name = name;
      o.data_dir = dir_.path();
      o.database = TestDatabaseUriOrDie(name);
      o.token_key = kKey;
      auto server = TestProgrammeServer::Start(o);
      ASSERT_TRUE(server.ok()) << server.status();
      servers_.push_back(*std::move(server));
    }
    // Interleaved in time: registry at 0, 2, 4 s; community_detox at 1, 3 s.
    for (int i = 0; i < 5; ++i) {
      Store &store = servers_[i % 2]->runtime().store();
      ASSERT_TRUE(store
                      .Write([&](Transaction &tx) {
                        return AppendAudit(
                            tx, AuditEntry{kT0 + absl::Seconds(i), "cw-1",
                                           "caseworker",
                                           absl::StrCat("/act/", i), case_id_,
                                           "OK", absl::StrCat("req-", i)});
                      })
                      .ok());
    }
    env_.services = {{"registry", servers_[0]->address()},
                     {"community_detox", servers_[1]->address()}};
  }

  std::string Token(Role role, const std::string &jurisdiction) {
    Claims c;
    c.subject = "auditor-1";
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.issued_at = absl::Now();
    c.expires_at = absl::Now() + absl::Hours(1);
    return *(*TokenSigner::Create(kKey))->Sign(c);
  }

  int Run(std::vector<std::string> args, std::string *out, std::string *err) {
    std::ostringstream o, e;
    int rc = RunAuditCommand(args, env_, o, e);
    *out = o.str();
    *err = e.str();
    return rc;
  }

  ScopedTempDir dir_;
  std::vector<std::unique_ptr<TestProgrammeServer>> servers_;
  Environment env_;
  std::string case_id_;
};

TEST_F(AuditListCommandTest, MergesEveryServicesEntriesByTime) {
  env_.token = Token(Role::kAuditor, "52");
  std::string out, err;
  ASSERT_EQ(Run({"--case", case_id_, "--request-id", "pctl-1"}, &out, &err), 0)
      << err;
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << out;
  EXPECT_EQ(lines[0],
            absl::StrCat(
                "2027-01-15T08:00:00.000000Z\tregistry\t1\tcw-1\tcaseworker\t"
                "/act/0\t",
                case_id_, "\tOK\treq-0"));
  for (int i = 0; i < 5; ++i) {
    std::vector<std::string> f = absl::StrSplit(lines[i], '\t');
    ASSERT_EQ(f.size(), 9u);
    EXPECT_EQ(f[1], i % 2 == 0 ? "registry" : "community_detox");
    EXPECT_EQ(f[5], absl::StrCat("/act/", i));
    EXPECT_EQ(f[8], absl::StrCat("req-", i));
  }
  EXPECT_TRUE(absl::StrContains(
      err, "2 of 2 services answered, 5 entries (request id pctl-1)"))
      << err;

  // The listing is in each service's trail under the one request id.
  env_.token = Token(Role::kAuditor, "*");
  ASSERT_EQ(Run({"--user", "auditor-1"}, &out, &err), 0) << err;
  lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << out;
  for (const std::string &line : lines) {
    EXPECT_TRUE(
        absl::EndsWith(line, absl::StrCat("\t/pathway.common.v1.Operations/"
                                          "ListAuditEntries\t",
                                          case_id_, "\tOK\tpctl-1")))
        << line;
  }
}

TEST_F(AuditListCommandTest, TimeRange) {
  env_.token = Token(Role::kAuditor, "*");
  std::string out, err;
  ASSERT_EQ(Run({"--case", case_id_, "--from", "2027-01-15T16:00:01+08:00",
                 "--to", "2027-01-15T08:00:03Z"},
                &out, &err),
            0)
      << err;
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << out;
  EXPECT_TRUE(absl::StrContains(lines[0], "/act/1"));
  EXPECT_TRUE(absl::StrContains(lines[1], "/act/2"));
  // A date is midnight China Standard Time: the whole of 15 January there.
  ASSERT_EQ(Run({"--case", case_id_, "--from", "2027-01-16"}, &out, &err), 0)
      << err;
  EXPECT_EQ(out, "");
  ASSERT_EQ(
      Run({"--case", case_id_, "--from", "2027-01-15", "--to", "2027-01-16"},
          &out, &err),
      0);
  EXPECT_EQ(
      std::vector<std::string>(absl::StrSplit(out, '\n', absl::SkipEmpty()))
          .size(),
      5u);
}

TEST_F(AuditListCommandTest, AServiceThatDoesNotAnswerIsNamedAndInTheExitCode) {
  env_.token = Token(Role::kAuditor, "*");
  // Nothing listens on port 1 of loopback: the connection is refused.
  env_.services.push_back({"compulsory_isolation", "127.0.0.1:1"});
  std::string out, err;
  EXPECT_EQ(Run({"--case", case_id_, "--timeout", "3s"}, &out, &err), 3);
  EXPECT_EQ(
      std::vector<std::string>(absl::StrSplit(out, '\n', absl::SkipEmpty()))
          .size(),
      5u);
  EXPECT_TRUE(absl::StrContains(err, "compulsory_isolation (127.0.0.1:1)"));
  EXPECT_TRUE(absl::StrContains(err, "did not answer: UNAVAILABLE")) << err;
  EXPECT_TRUE(absl::StrContains(err, "2 of 3 services answered")) << err;

  // Refused everywhere (not an auditor): nothing listed, exit 1.
  env_.token = Token(Role::kAdmin, "*");
  EXPECT_EQ(Run({"--case", case_id_}, &out, &err), 1);
  EXPECT_EQ(out, "");
  EXPECT_TRUE(absl::StrContains(err, "registry (")) << err;
  EXPECT_TRUE(absl::StrContains(err, "PERMISSION_DENIED")) << err;
}

TEST_F(AuditListCommandTest, UsageErrors) {
  std::string out, err;
  EXPECT_EQ(Run({"--case", case_id_, "--user", "u"}, &out, &err), 2);
  EXPECT_EQ(Run({"--from", "2027-01-01"}, &out, &err), 2);
  EXPECT_EQ(Run({"--case", case_id_, "--from", "yesterday"}, &out, &err), 2);
  EXPECT_EQ(Run({"--case", case_id_, "--request-id", "has space"}, &out, &err),
            2);
  EXPECT_EQ(Run({"--case", case_id_, "--bogus", "1"}, &out, &err), 2);
  EXPECT_EQ(Run({"--help"}, &out, &err), 0);
  EXPECT_TRUE(
      absl::StrContains(out, "pathwayctl audit (--case ID | --user SUBJECT)"));
}

} // namespace
} // namespace pathwayctl
} // namespace pathway
