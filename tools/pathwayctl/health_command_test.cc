#include "tools/pathwayctl/health_command.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pathway {
namespace pathwayctl {
namespace {

class HealthCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder b;
    // A server needs at least one service of its own to start; this one answers
    // nothing (every call gets UNIMPLEMENTED).
    b.RegisterCallbackGenericService(&generic_);
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    addr_ = absl::StrCat("127.0.0.1:", port_);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return RunHealthCommand(args, PlaintextTls(), out_, err_);
  }

  grpc::CallbackGenericService generic_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::string addr_;
  std::ostringstream out_, err_;
};

TEST_F(HealthCommandTest, ServingExitsZero) {
  EXPECT_EQ(Run({"--addr", addr_}), 0);
  EXPECT_EQ(out_.str(), "SERVING\n");
}

TEST_F(HealthCommandTest, NotServingExitsOne) {
  server_->GetHealthCheckService()->SetServingStatus("svc", false);
  EXPECT_EQ(Run({"--addr", addr_, "--service", "svc"}), 1);
  EXPECT_EQ(out_.str(), "NOT_SERVING\n");
}

TEST_F(HealthCommandTest, WaitReturnsOnceServing) {
  server_->GetHealthCheckService()->SetServingStatus("svc", false);
  int code = -1;
  std::thread waiter([&] { code = Run({"--addr", addr_, "--service", "svc", "--wait", "60s"}); });
  // Whether this lands before or after the watch starts, the watch sees SERVING.
  server_->GetHealthCheckService()->SetServingStatus("svc", true);
  waiter.join();
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out_.str(), "SERVING\n");
}

TEST_F(HealthCommandTest, UnreachableServerFailsWithinTimeout) {
  server_->Shutdown();
  EXPECT_EQ(Run({"--addr", addr_, "--timeout", "1s"}), 1);
  EXPECT_FALSE(err_.str().empty());
}

TEST_F(HealthCommandTest, UsageErrors) {
  EXPECT_EQ(Run({}), 2);
  EXPECT_EQ(Run({"--addr"}), 2);
  EXPECT_EQ(Run({"--addr", addr_, "--wait", "soon"}), 2);
  EXPECT_EQ(Run({"--bogus", "x"}), 2);
}

}  // namespace
}  // namespace pathwayctl
}  // namespace pathway
