#include "common/client/peer_error.h"

#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(PeerErrorTest, OnlyAnUnansweredCallIsNoAnswer) {
  for (grpc::StatusCode code : {grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::DEADLINE_EXCEEDED,
                                grpc::StatusCode::CANCELLED}) {
    EXPECT_TRUE(PeerDidNotAnswer(code)) << code;
    EXPECT_TRUE(PeerDidNotAnswer(static_cast<absl::StatusCode>(code))) << code;
  }
  for (grpc::StatusCode code :
       {grpc::StatusCode::OK, grpc::StatusCode::NOT_FOUND, grpc::StatusCode::INVALID_ARGUMENT,
        grpc::StatusCode::RESOURCE_EXHAUSTED, grpc::StatusCode::ABORTED,
        grpc::StatusCode::INTERNAL, grpc::StatusCode::UNKNOWN,
        grpc::StatusCode::UNAUTHENTICATED, grpc::StatusCode::PERMISSION_DENIED}) {
    EXPECT_FALSE(PeerDidNotAnswer(code)) << code;
    EXPECT_FALSE(PeerDidNotAnswer(static_cast<absl::StatusCode>(code))) << code;
  }
}

TEST(PeerErrorTest, TransientErrorsAreTheOnesARetryMayGetPast) {
  for (absl::StatusCode code :
       {absl::StatusCode::kUnavailable, absl::StatusCode::kDeadlineExceeded,
        absl::StatusCode::kCancelled, absl::StatusCode::kResourceExhausted,
        absl::StatusCode::kAborted, absl::StatusCode::kInternal}) {
    EXPECT_TRUE(IsTransientPeerError(code)) << code;
    EXPECT_TRUE(IsTransientPeerError(static_cast<grpc::StatusCode>(code))) << code;
  }
}

TEST(PeerErrorTest, ThePeersAnswerIsPermanent) {
  for (absl::StatusCode code :
       {absl::StatusCode::kOk, absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
        absl::StatusCode::kAlreadyExists, absl::StatusCode::kPermissionDenied,
        absl::StatusCode::kFailedPrecondition, absl::StatusCode::kOutOfRange,
        absl::StatusCode::kUnimplemented, absl::StatusCode::kDataLoss,
        absl::StatusCode::kUnauthenticated, absl::StatusCode::kUnknown}) {
    EXPECT_FALSE(IsTransientPeerError(code)) << code;
    EXPECT_FALSE(IsTransientPeerError(static_cast<grpc::StatusCode>(code))) << code;
  }
}

// absl::StatusCode is an int enum, so a code from a newer peer fits in it (grpc::StatusCode
// has no fixed type: 99 is not a value it can hold, and making one is undefined).
TEST(PeerErrorTest, AnUnknownCodeIsPermanent) {
  EXPECT_FALSE(IsTransientPeerError(static_cast<absl::StatusCode>(99)));
  EXPECT_FALSE(PeerDidNotAnswer(static_cast<absl::StatusCode>(99)));
}

}  // namespace
}  // namespace pathway
