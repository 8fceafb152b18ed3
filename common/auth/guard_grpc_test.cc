// The guard against a real in-process gRPC server on 127.0.0.1:0: a callback
// generic service (no .proto needed) whose one handler authorises like every
// Pathway handler, called through a generic stub with and without a token.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "common/auth/guard.h"
#include "common/auth/testing_guarded_service.h"
#include "common/clock/clock.h"
#include "common/status/grpc_status.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 3, 1, 9, 0, 0), absl::UTCTimeZone());
const std::string kKey(40, 'S');
constexpr char kMethod[] = "/pathway.test.v1.Guarded/Get";

class GuardGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = TokenSigner::Create(kKey);
    ASSERT_TRUE(signer.ok());
    signer_ = *std::move(signer);
    auto verifier = TokenVerifier::Create(kKey, &clock_);
    ASSERT_TRUE(verifier.ok());
    verifier_ = *std::move(verifier);
    authorizer_ = std::make_unique<Authorizer>(verifier_.get());
    service_ = std::make_unique<test::GuardedService>(
        [this](const grpc::ServerContextBase& ctx) {
          return authorizer_->Authorize(ctx, {Role::kCaseworker, Role::kPolice});
        });

    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterCallbackGenericService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    channel_ =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  std::string Token(Role role) {
    Claims c;
    c.subject = absl::StrCat("dev-", RoleName(role));
    c.role = role;
    c.jurisdiction = "52";
    c.issued_at = kNow;
    c.expires_at = kNow + absl::Hours(1);
    if (role == Role::kEmployer) c.organization = "91520100MA6DKQ0X5L";
    absl::StatusOr<std::string> token = signer_->Sign(c);
    EXPECT_TRUE(token.ok());
    return token.ok() ? *token : "";
  }

  // Calls kMethod with the given authorization values (none, one or more).
  grpc::Status Call(const std::vector<std::string>& authorization,
                    std::string* response = nullptr) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    for (const std::string& value : authorization) ctx.AddMetadata("authorization", value);
    grpc::Slice slice(std::string("request"));
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer reply;
    grpc::Status result;
    absl::Notification done;
    stub.UnaryCall(&ctx, kMethod, grpc::StubOptions(), &request, &reply, [&](grpc::Status status) {
      result = std::move(status);
      done.Notify();
    });
    done.WaitForNotification();
    if (result.ok() && response != nullptr) {
      std::vector<grpc::Slice> slices;
      if (reply.Dump(&slices).ok()) {
        response->clear();
        for (const grpc::Slice& s : slices) {
          response->append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
      }
    }
    return result;
  }

  FakeClock clock_{kNow};
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<test::GuardedService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GuardGrpcTest, NoTokenIsUnauthenticated) {
  grpc::Status status = Call({});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "missing bearer token");
}

TEST_F(GuardGrpcTest, GarbageTokenIsUnauthenticated) {
  grpc::Status status = Call({"Bearer not.a.token"});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "invalid token");
}

TEST_F(GuardGrpcTest, ExpiredTokenIsUnauthenticated) {
  std::string token = Token(Role::kCaseworker);
  clock_.Advance(absl::Hours(3));
  grpc::Status status = Call({absl::StrCat("Bearer ", token)});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "token expired");
}

TEST_F(GuardGrpcTest, TwoAuthorizationHeadersAreUnauthenticated) {
  std::string token = Token(Role::kCaseworker);
  grpc::Status status = Call({absl::StrCat("Bearer ", token), absl::StrCat("Bearer ", token)});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GuardGrpcTest, WrongRoleIsPermissionDenied) {
  grpc::Status status = Call({absl::StrCat("Bearer ", Token(Role::kEmployer))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(), "role employer may not call this method");
}

TEST_F(GuardGrpcTest, AllowedRoleIsServed) {
  std::string response;
  grpc::Status status = Call({absl::StrCat("bearer ", Token(Role::kPolice))}, &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(response, "dev-police");
}

}  // namespace
}  // namespace pathway
