// `pathwayctl outbox` against a real server (in process, loopback, port 0) whose SQLite
// store holds an outbox: a hand-off refused for good is listed with the receiver's
// message, replayed by the command, and then delivered by the dispatcher.
#include "tools/pathwayctl/outbox_command.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "common/clock/clock.h"
#include "common/outbox/outbox.h"
#include "common/server/testing_programme_server.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "tools/pathwayctl/pathwayctl.h"

namespace pathway {
namespace pathwayctl {
namespace {

constexpr char kKey[] = "pathwayctl-outbox-test-key-0123456789abcdef";

class RefusingDeliverer final : public Deliverer {
 public:
  absl::Status Deliver(const OutboxMessage&, absl::Time) override { return answer; }
  absl::Status answer = absl::OkStatus();
};

class OutboxCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestProgrammeServer::Options o;
    o.service_name = "compulsory_isolation";
    o.data_dir = dir_.path();
    o.database = TestDatabaseUriOrDie("compulsory_isolation");
    o.token_key = kKey;
    o.with_outbox = true;
    o.clock = &clock_;
    auto server = TestProgrammeServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::string Token(Role role) {
    Claims c;
    c.subject = "operator-1";
    c.role = role;
    c.jurisdiction = "*";
    c.issued_at = clock_.Now() - absl::Minutes(1);
    c.expires_at = clock_.Now() + absl::Hours(1);
    return *(*TokenSigner::Create(kKey))->Sign(c);
  }

  int Ctl(std::vector<std::string> args, Role role, std::string* out, std::string* err) {
    Environment env;
    env.token = Token(role);
    args.insert(args.begin(), "outbox");
    args.push_back("--addr");
    args.push_back(server_->address());
    std::ostringstream o, e;
    int code = pathwayctl::Run(args, env, clock_, o, e);
    *out = o.str();
    *err = e.str();
    return code;
  }

  ScopedTempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1795000000)};
  std::unique_ptr<TestProgrammeServer> server_;
};

TEST_F(OutboxCommandTest, ListsAParkedHandoffWithItsMessageAndReplaysIt) {
  Store& store = server_->runtime().store();
  ASSERT_TRUE(store
                  .Write([&](Transaction& tx) {
                    return EnqueueHandoff(
                        tx,
                        {"placement", "/pathway.placement.v1.Placement/ResumeSeeker",
                         "payload-bytes", "qz-release-9-resume-placement"},
                        clock_.Now());
                  })
                  .ok());
  RefusingDeliverer deliverer;
  deliverer.answer = absl::FailedPreconditionError("the seeker is closed");
  OutboxDispatcher dispatcher(&store, &deliverer, &clock_, {});
  ASSERT_EQ(*dispatcher.RunOnce(), 0);

  std::string out, err;
  ASSERT_EQ(Ctl({"list"}, Role::kBatch, &out, &err), 0) << err;
  EXPECT_TRUE(absl::StrContains(out, "compulsory_isolation: pending 0, parked 1, delivered 0"))
      << out;
  EXPECT_TRUE(absl::StrContains(out,
                                "parked\tplacement\t/pathway.placement.v1.Placement/ResumeSeeker\t"
                                "qz-release-9-resume-placement\t1\t"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "FAILED_PRECONDITION\tthe seeker is closed\n")) << out;
  EXPECT_FALSE(absl::StrContains(out, "payload-bytes"));
  const std::string id = out.substr(out.find('\n') + 1, out.find('\t') - out.find('\n') - 1);

  // Usage errors and a role that may only look.
  EXPECT_EQ(Ctl({"replay"}, Role::kAdmin, &out, &err), 2);
  EXPECT_EQ(Ctl({"replay", "--ids", "x"}, Role::kAdmin, &out, &err), 2);
  EXPECT_EQ(Ctl({"replay", "--ids", id}, Role::kAuditor, &out, &err), 1);
  EXPECT_TRUE(absl::StrContains(err, "PERMISSION_DENIED")) << err;

  deliverer.answer = absl::OkStatus();
  ASSERT_EQ(Ctl({"replay", "--ids", id}, Role::kAdmin, &out, &err), 0) << err;
  EXPECT_EQ(out, absl::StrCat("compulsory_isolation: replayed 1: ", id, "\n"));
  EXPECT_EQ(*dispatcher.RunOnce(), 1);
  ASSERT_EQ(Ctl({"list"}, Role::kAdmin, &out, &err), 0) << err;
  EXPECT_EQ(out, "compulsory_isolation: pending 0, parked 0, delivered 1\n");
  ASSERT_EQ(Ctl({"replay", "--all"}, Role::kBatch, &out, &err), 0) << err;
  EXPECT_EQ(out, "compulsory_isolation: replayed 0\n");
}

}  // namespace
}  // namespace pathwayctl
}  // namespace pathway
