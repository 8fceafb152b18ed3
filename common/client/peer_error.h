// What a failed call to another service (a peer) means for the caller: did the peer
// answer at all, and may the same call succeed if made again?
//
//   grpc::Status s = stub->GetProgramStatus(&ctx, request, &reply);
//   if (PeerDidNotAnswer(s.error_code())) return absl::UnavailableError("...; retry later");
//   if (IsTransientPeerError(s.error_code()) && attempt < kMaxAttempts) ... try again ...
//
// gRPC and abseil status codes share their numbers, so each question takes either.
// Thread-safe: plain functions.
#ifndef PATHWAY_COMMON_CLIENT_PEER_ERROR_H_
#define PATHWAY_COMMON_CLIENT_PEER_ERROR_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace pathway {

// The call ended without an answer from the peer: UNAVAILABLE (not reached),
// DEADLINE_EXCEEDED or CANCELLED. What the peer would have said is unknown; the
// caller says "unavailable, retry" rather than pass the code on.
bool PeerDidNotAnswer(absl::StatusCode code);
bool PeerDidNotAnswer(grpc::StatusCode code);

// A later attempt of the same call may succeed: the peer did not answer
// (PeerDidNotAnswer), was overloaded (RESOURCE_EXHAUSTED), lost a race (ABORTED) or
// failed inside (INTERNAL). Anything else (INVALID_ARGUMENT, NOT_FOUND,
// FAILED_PRECONDITION, PERMISSION_DENIED, ...) is the peer's answer, and asking
// again would only repeat it.
bool IsTransientPeerError(absl::StatusCode code);
bool IsTransientPeerError(grpc::StatusCode code);

}  // namespace pathway

#endif  // PATHWAY_COMMON_CLIENT_PEER_ERROR_H_
