#include "common/server/mutation.h"

#include <chrono>
#include <utility>

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
                    std::move(outcome)};
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
  std::string case_id;
  // Runs the change and its audit row; on success returns the serialized response.
  auto change = [&](Transaction& tx) -> absl::StatusOr<std::string> {
    case_id.clear();
    response->Clear();
    RETURN_IF_ERROR(fn(tx, &case_id));
    RETURN_IF_ERROR(AppendAudit(tx, Entry(rt, m, case_id, "OK")));
    return response->SerializeAsString();
  };

  absl::Status status;
  if (m.idempotency_key.has_value()) {
    m.request->ByteSizeLong();  // SerializeWithCachedSizes needs cached sizes
    IdempotencyKey key{m.caller->subject(), *m.idempotency_key, m.method,
                       HashRequest(SerializeDeterministically(*m.request))};
    absl::StatusOr<IdempotentResult> result =
        RunIdempotent(rt.store(), rt.clock(), key, change, m.deadline);
    status = result.status();
    if (result.ok() && result->replayed) {
      if (!response->ParseFromString(result->response)) {
        return absl::InternalError("stored idempotent result is unreadable");
      }
      rt.read_audit().Record(Entry(rt, m, "", kReplayedOutcome));
      return absl::OkStatus();
    }
  } else {
    status = rt.store().Write(
        [&](Transaction& tx) -> absl::Status { return change(tx).status(); }, m.deadline);
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
