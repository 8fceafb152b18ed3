#include "tools/pathwayctl/call_command.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/auth/token.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/ids/resident_id.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/registry/registry_server.h"

namespace pathway {
namespace pathwayctl {
namespace {

constexpr char kKey[] = "pathwayctl-call-test-key-0123456789abcdefgh";

// Answers every programme as "no record": the registry's status view needs a source.
class NoRecords final : public registry::ProgramStatusSource {
 public:
  void Fetch(Programme, const std::string&, Done done) override {
    done(absl::NotFoundError("no record"));
  }
};

class CallCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() + "/token.key") << kKey;
    std::ofstream(dir_.path() + "/pii.key") << kKey << "-pii";
    registry::RegistryServer::Options o;
    o.server.service_name = "registry";
    o.server.data_dir = dir_.path();
    o.server.database = TestDatabaseUriOrDie("registry");
    o.server.token_key_file = dir_.path() + "/token.key";
    o.server.tls.plaintext = true;  // a test server on loopback
    o.pii_key_file = dir_.path() + "/pii.key";
    RuntimeOverrides overrides;
    overrides.cache = std::make_unique<InMemoryStatusCache>();
    auto server = registry::RegistryServer::Start(o, std::move(overrides),
                                                  std::make_unique<NoRecords>());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    addr_ = absl::StrCat("127.0.0.1:", server_->port());
    Claims c;
    c.subject = "ops-1";
    c.role = Role::kPolice;
    c.jurisdiction = "520102";
    c.issued_at = absl::Now();
    c.expires_at = absl::Now() + absl::Hours(1);
    token_ = *(*TokenSigner::Create(kKey))->Sign(c);
  }
  void TearDown() override { server_->Shutdown(); }

  int Call(std::vector<std::string> args, const std::string& stdin_text = "") {
    out_.str("");
    err_.str("");
    std::istringstream in(stdin_text);
    return RunCallCommand(args, token_, PlaintextTls(), in, out_, err_);
  }

  ScopedTempDir dir_;
  std::unique_ptr<registry::RegistryServer> server_;
  std::string addr_, token_;
  std::ostringstream out_, err_;
};

TEST_F(CallCommandTest, CallsAnRpcWithJsonInAndOut) {
  absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));
  std::string request = absl::StrFormat(
      R"({"resident_id_number": "%s", "name": "测试", "household_division": "520102",
          "drug_types": ["heroin"], "found_on": {"year": %d, "month": %d, "day": %d}})",
      GenerateSyntheticResidentId("520102", absl::CivilDay(1990, 1, 2), 31),
      static_cast<int>(today.year()), today.month(), today.day());
  ASSERT_EQ(Call({"--addr", addr_, "--idempotency-key", "ops-import-1",
                  "pathway.registry.v1.Registry/RegisterPerson", "-"},
                 request),
            0)
      << err_.str();
  std::string first = out_.str();
  EXPECT_NE(first.find("\"case_id\":\"520102-"), std::string::npos) << first;
  // The same key replays the same answer.
  ASSERT_EQ(Call({"--addr", addr_, "--idempotency-key", "ops-import-1",
                  "pathway.registry.v1.Registry/RegisterPerson", request}),
            0);
  size_t at = first.find("\"case_id\":\"");
  std::string case_id = first.substr(at + 11, 21);
  EXPECT_NE(out_.str().find(case_id), std::string::npos);

  ASSERT_EQ(Call({"--addr", addr_, "pathway.registry.v1.Registry/GetCase",
                  absl::StrCat(R"({"case_id": ")", case_id, R"("})")}),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("\"risk_grade\":\"medium\""), std::string::npos) << out_.str();
}

TEST_F(CallCommandTest, ReportsErrorsWithTheirCode) {
  EXPECT_EQ(Call({"--addr", addr_, "pathway.registry.v1.Registry/GetCase",
                  R"({"case_id": "520102-2026-0000042-2"})"}),
            1);
  EXPECT_EQ(err_.str().rfind("NOT_FOUND: ", 0), 0u) << err_.str();
  EXPECT_EQ(Call({"--addr", addr_, "pathway.registry.v1.Registry/GetCase", "{not json"}), 2);
  EXPECT_EQ(Call({"--addr", addr_, "pathway.registry.v1.Registry/NoSuchMethod"}), 2);
  EXPECT_EQ(Call({"pathway.registry.v1.Registry/GetCase"}), 2) << "no --addr";
}

TEST(MethodsCommandTest, ListsEveryService) {
  std::ostringstream out;
  EXPECT_EQ(RunMethodsCommand(out), 0);
  for (const char* m : {"pathway.registry.v1.Registry/RegisterPerson",
                        "pathway.detox.v1.CommunityDetox/GetProgramStatus",
                        "pathway.placement.v1.Placement/GetProgramStatus"}) {
    EXPECT_NE(out.str().find(m), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace pathwayctl
}  // namespace pathway
