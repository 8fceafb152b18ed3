#include "common/client/peer_error.h"

namespace pathway {

// The two enums share their numbers (each overload below relies on it).
static_assert(static_cast<int>(grpc::StatusCode::UNAVAILABLE) ==
              static_cast<int>(absl::StatusCode::kUnavailable));
static_assert(static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED) ==
              static_cast<int>(absl::StatusCode::kDeadlineExceeded));
static_assert(static_cast<int>(grpc::StatusCode::CANCELLED) ==
              static_cast<int>(absl::StatusCode::kCancelled));
static_assert(static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED) ==
              static_cast<int>(absl::StatusCode::kResourceExhausted));
static_assert(static_cast<int>(grpc::StatusCode::ABORTED) ==
              static_cast<int>(absl::StatusCode::kAborted));
static_assert(static_cast<int>(grpc::StatusCode::INTERNAL) ==
              static_cast<int>(absl::StatusCode::kInternal));

bool PeerDidNotAnswer(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

bool PeerDidNotAnswer(grpc::StatusCode code) {
  return PeerDidNotAnswer(static_cast<absl::StatusCode>(code));
}

bool IsTransientPeerError(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
      return true;
    default:
      return PeerDidNotAnswer(code);
  }
}

bool IsTransientPeerError(grpc::StatusCode code) {
  return IsTransientPeerError(static_cast<absl::StatusCode>(code));
}

}  // namespace pathway
