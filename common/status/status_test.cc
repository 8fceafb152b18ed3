#include <string>

#include "absl/status/statusor.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError("odd");
  return n / 2;
}

absl::StatusOr<int> Quarter(int n) {
  ASSIGN_OR_RETURN(int half, Half(n));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int n) {
  RETURN_IF_ERROR(Half(n).status());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesValueAndError) {
  EXPECT_EQ(*Quarter(8), 2);
  absl::StatusOr<int> odd = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(odd.status().message(), "odd");
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtFirstError) {
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(5).code(), absl::StatusCode::kInvalidArgument);
}

absl::Status Nested(int n) {
  // A RETURN_IF_ERROR inside a lambda inside another must compile under -Wshadow.
  auto inner = [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckEven(n));
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(inner());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, NestsInsideLambdas) {
  EXPECT_TRUE(Nested(2).ok());
  EXPECT_EQ(Nested(3).code(), absl::StatusCode::kInvalidArgument);
}

TEST(GrpcStatusTest, EveryCodeRoundTrips) {
  for (int code = 0; code <= 16; ++code) {
    absl::Status s(static_cast<absl::StatusCode>(code),
                   code == 0 ? "" : "message " + std::to_string(code));
    grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), code);
    absl::Status back = FromGrpcStatus(g);
    EXPECT_EQ(back, s) << code;
  }
}

TEST(GrpcStatusTest, KeepsMessage) {
  grpc::Status g = ToGrpcStatus(absl::NotFoundError("case not found"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(g.error_message(), "case not found");
}

}  // namespace
}  // namespace pathway
