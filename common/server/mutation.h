// The one write path of every mutating RPC: the change, its audit row and, when
// the client sent an `idempotency-key`, what a repeat needs all commit in one
// transaction (DESIGN.md §5, §6). A failed change is rolled back and audited with
// its outcome through the read-audit buffer; a repeat with the same key and request
// is answered without running the change again (common/idempotency).
//
// How a repeat is answered, by Mutation::reread:
//  - set (responses with personal data, e.g. the registry's Case): only the case id
//    is kept, and a repeat is answered by reading the case again for the caller now
//    asking, through the same authorisation, scope and masking as a fresh read. So
//    the store holds no personal data, a repeat shows no more than that caller may
//    see now (NOT_FOUND for a case it may not see), and the answer is the record as
//    it stands, not as it stood. (Encrypting the stored response was the other way;
//    it would still replay the first caller's view to a later one and would need a
//    key in every service.)
//  - unset (responses with no personal data): the first response is kept and
//    returned as it was. It was shaped by the first caller's authority, so the key is
//    bound to the caller's role, jurisdiction and organisation as well as to the
//    request: the same user under another authority gets ALREADY_EXISTS.
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
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/server/service_runtime.h"
#include "common/store/store.h"
#include "google/protobuf/message.h"

namespace pathway {

// A change without an idempotency key starts only if this much of its deadline is
// left, and is rolled back if less is left once it has run: the time its group
// commit (the rest of the group and the fsync) may still take. A change with a key
// may commit late: a retry is answered with its result.
inline constexpr absl::Duration kCommitAllowance = absl::Milliseconds(50);

// Audit outcome of a request answered from a stored idempotent result.
inline constexpr char kReplayedOutcome[] = "REPLAYED";

struct Mutation {
  const Caller* caller = nullptr;          // not owned
  std::string method;                      // full RPC name, e.g. "/pkg.Svc/Method"
  std::optional<std::string> idempotency_key;
  const google::protobuf::Message* request = nullptr;  // not owned
  // The client's deadline: a change still queued when it passes is not run.
  absl::Time deadline = absl::InfiniteFuture();
  // Answers a repeat from the case id that `fn` named, as a fresh read by the
  // caller would: fills `response`, or NOT_FOUND when the caller may not see the
  // case now. Unset: the first response is kept and replayed (see above).
  std::function<absl::Status(ReadTransaction&, absl::string_view case_id,
                             google::protobuf::Message* response)>
      reread = nullptr;
  // Runs before a kept response is replayed (reread unset): the caller's scope as it
  // stands now, e.g. that the case is still visible to it and not sealed since. An
  // error is the answer instead of the kept response (NOT_FOUND for a case the
  // caller may no longer see). Unset: the key's binding to the caller's authority
  // is the only check.
  std::function<absl::Status(ReadTransaction&)> replay_check = nullptr;
};

// Runs `fn` in a store write with the audit row (and idempotent result) beside it.
// Without an idempotency key the write commits before `mutation.deadline` or not at
// all (see kCommitAllowance).
// `fn` fills `response` and names the case for the audit row. On a repeat
// `response` is filled by `reread`, or parsed from the stored result. Returns fn's
// (or reread's) error, ALREADY_EXISTS for a key reused with another request (or,
// without reread, under another authority), DEADLINE_EXCEEDED if the deadline
// passed first, or the store's error. Keys live kIdempotencyKeyLifetime, a service
// caller's (hand-offs) kHandoffKeyLifetime.
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
