// The one write path of every mutating RPC: the change, its audit row and, when
// the client sent an `idempotency-key`, the stored result all commit in one
// transaction (DESIGN.md §5, §6). A failed change is rolled back and audited with
// its outcome through the read-audit buffer; a repeat with the same key replays
// the first result without running the change again.
//
//   ASSIGN_OR_RETURN(auto key, IdempotencyKeyFrom(*ctx));
//   absl::Status s = RunMutation(
//       *runtime_, {&caller, "/pathway.detox.v1.CommunityDetox/RecordTest", key, request,
//                   DeadlineOf(*ctx)},
//       response, [&](Transaction& tx, std::string* audit_case_id) {
//         *audit_case_id = case_id;
//         return logic_.RecordTest(tx, *request, response);
//       });
//   if (s.ok()) PublishProgramStatus(...);   // after the commit
//
// Thread-safe as the runtime's store is.
#ifndef PATHWAY_COMMON_SERVER_MUTATION_H_
#define PATHWAY_COMMON_SERVER_MUTATION_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/server/service_runtime.h"
#include "common/store/store.h"
#include "google/protobuf/message.h"

namespace pathway {

// Audit outcome of a request answered from a stored idempotent result.
inline constexpr char kReplayedOutcome[] = "REPLAYED";

struct Mutation {
  const Caller* caller = nullptr;          // not owned
  std::string method;                      // full RPC name, e.g. "/pkg.Svc/Method"
  std::optional<std::string> idempotency_key;
  const google::protobuf::Message* request = nullptr;  // not owned
  // The client's deadline: a change still queued when it passes is not run.
  absl::Time deadline = absl::InfiniteFuture();
};

// Runs `fn` in a store write with the audit row (and idempotent result) beside it.
// `fn` fills `response` and names the case for the audit row. On a replay
// `response` is parsed from the stored result. Returns fn's error, ALREADY_EXISTS
// for a key reused with a different request, DEADLINE_EXCEEDED if the deadline
// passed first, or the store's error.
absl::Status RunMutation(
    ServiceRuntime& runtime, const Mutation& mutation, google::protobuf::Message* response,
    const std::function<absl::Status(Transaction&, std::string* audit_case_id)>& fn);

// The call's idempotency-key: nullopt when absent; INVALID_ARGUMENT when malformed
// or given more than once.
absl::StatusOr<std::optional<std::string>> IdempotencyKeyFrom(const grpc::ServerContextBase& ctx);

// The call's deadline as absl::Time (InfiniteFuture when the client set none).
absl::Time DeadlineOf(const grpc::ServerContextBase& ctx);

// The request's bytes with deterministic field order, so a retry hashes the same.
std::string SerializeDeterministically(const google::protobuf::Message& message);

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_MUTATION_H_
