#include "common/server/mutation.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/audit/audit_log.h"
#include "common/auth/role.h"
#include "common/idempotency/idempotency.h"
#include "common/status/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace pathway {
namespace {

AuditEntry Entry(ServiceRuntime& rt, const Mutation& m, std::string case_id,
                 std::string outcome) {
  return AuditEntry{rt.clock().Now(),
                    m.caller->subject(),
                    std::string(RoleName(m.caller->role())),
                    m.method,
                    std::move(case_id),
                    std::move(outcome),
                    m.caller->request_id};
}

// The caller's authority, length-prefixed so that no two differ only in where one
// field ends.
std::string AuthorityOf(const Caller& caller) {
  std::string out;
  for (absl::string_view part :
       {RoleName(caller.role()), absl::string_view(caller.jurisdiction()),
        absl::string_view(caller.organization())}) {
    absl::StrAppend(&out, part.size(), ":", part, ";");
  }
  return out;
}

}  // namespace

std::string SerializeDeterministically(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeWithCachedSizes(&coded);
  }
  return out;
}

absl::Status RunMutation(
    ServiceRuntime& rt, const Mutation& m, google::protobuf::Message* response,
    const std::function<absl::Status(Transaction&, std::string* audit_case_id)>& fn) {
  if (m.caller == nullptr || m.request == nullptr || response == nullptr) {
    return absl::InternalError("mutation without caller, request or response");
  }
  const bool reread = static_cast<bool>(m.reread);
  std::string case_id;
  // Runs the change and its audit row; on success returns what a repeat needs.
  auto change = [&](Transaction& tx) -> absl::StatusOr<std::string> {
    case_id.clear();
    response->Clear();
    RETURN_IF_ERROR(fn(tx, &case_id));
    RETURN_IF_ERROR(AppendAudit(tx, Entry(rt, m, case_id, "OK")));
    return reread ? case_id : response->SerializeAsString();
  };

  absl::Status status;
  if (m.idempotency_key.has_value()) {
    m.request->ByteSizeLong();  // SerializeWithCachedSizes needs cached sizes
    std::string fingerprinted = SerializeDeterministically(*m.request);
    if (!reread) fingerprinted = absl::StrCat(AuthorityOf(*m.caller), fingerprinted);
    IdempotencyKey key{m.caller->subject(), *m.idempotency_key, m.method,
                       HashRequest(fingerprinted),
                       m.caller->role() == Role::kService ? kHandoffKeyLifetime
                                                          : kIdempotencyKeyLifetime};
    absl::StatusOr<IdempotentResult> result =
        RunIdempotent(rt.store(), rt.clock(), key, change, m.deadline);
    status = result.status();
    if (result.ok() && result->replayed) {
      response->Clear();
      if (!reread) {
        if (m.replay_check) {
          absl::Status allowed = rt.store().Read(m.replay_check);
          if (!allowed.ok()) {
            rt.read_audit().Record(
                Entry(rt, m, "", std::string(absl::StatusCodeToString(allowed.code()))));
            return allowed;
          }
        }
        if (!response->ParseFromString(result->stored)) {
          return absl::InternalError("stored idempotent result is unreadable");
        }
        rt.read_audit().Record(Entry(rt, m, "", kReplayedOutcome));
        return absl::OkStatus();
      }
      // A read like any other: audited with the case only if the caller may see it.
      absl::Status read = rt.store().Read([&](ReadTransaction& tx) -> absl::Status {
        return m.reread(tx, result->stored, response);
      });
      if (!read.ok()) response->Clear();
      rt.read_audit().Record(
          Entry(rt, m, read.ok() ? result->stored : std::string(),
                read.ok() ? std::string(kReplayedOutcome)
                          : std::string(absl::StatusCodeToString(read.code()))));
      return read;
    }
  } else {
    // Without a key the caller cannot learn the outcome once it has given up, and a
    // retry would apply the change twice; so the change must commit before the
    // deadline or not at all. It starts only with kCommitAllowance left and is
    // rolled back if, once done, less than that is left (the store refuses to start
    // it after the deadline it is given). With a key, a late commit is harmless:
    // the caller's retry is answered with it.
    const absl::Time latest_start = m.deadline == absl::InfiniteFuture()
                                        ? m.deadline
                                        : m.deadline - kCommitAllowance;
    status = rt.store().Write(
        [&](Transaction& tx) -> absl::Status {
          RETURN_IF_ERROR(change(tx).status());
          if (absl::Now() >= latest_start) {  // deadlines are wall-clock time
            return absl::DeadlineExceededError("the deadline passed before the commit");
          }
          return absl::OkStatus();
        },
        latest_start);
  }
  if (!status.ok()) {
    // The transaction rolled back with its audit row; the attempt is still audited.
    rt.read_audit().Record(
        Entry(rt, m, case_id, std::string(absl::StatusCodeToString(status.code()))));
  }
  return status;
}

absl::StatusOr<std::optional<std::string>> IdempotencyKeyFrom(const grpc::ServerContextBase& ctx) {
  auto range = ctx.client_metadata().equal_range(kIdempotencyKeyMetadata);
  if (range.first == range.second) return std::optional<std::string>();
  if (std::next(range.first) != range.second) {
    return absl::InvalidArgumentError("idempotency-key given more than once");
  }
  std::string key(range.first->second.data(), range.first->second.size());
  RETURN_IF_ERROR(ValidateIdempotencyKey(key));
  return std::optional<std::string>(std::move(key));
}

absl::Time DeadlineOf(const grpc::ServerContextBase& ctx) {
  // gRPC reports "no deadline" as a far-future time point; treat anything beyond a
  // year as none rather than risk overflow in the conversion.
  auto deadline = ctx.deadline();
  if (deadline > std::chrono::system_clock::now() + std::chrono::hours(24 * 366)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

}  // namespace pathway
