#include "common/program_status/program_status_rpc.h"

#include <optional>
#include <string>

#include "common/ids/case_id.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

constexpr char kAction[] = "GetProgramStatus";

}  // namespace

absl::StatusOr<ProgramStatusRecord> ReadProgramStatusForCaller(ServiceRuntime& runtime,
                                                               const Caller& caller,
                                                               absl::string_view case_id) {
  ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(case_id));
  std::optional<ProgramStatusRecord> found;
  RETURN_IF_ERROR(runtime.store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(found, LoadProgramStatus(tx, id.ToString()));
    return absl::OkStatus();
  }));
  // Missing and out of jurisdiction answer alike, so ids cannot be probed (DESIGN.md §6).
  if (!found.has_value() || !caller.Covers(found->division)) return CaseNotFound();
  return *std::move(found);
}

grpc::ServerUnaryReactor* ServeGetProgramStatus(ServiceRuntime& runtime, Programme programme,
                                                grpc::CallbackServerContext* ctx,
                                                const common::v1::GetProgramStatusRequest* request,
                                                common::v1::ProgramStatus* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::StatusOr<Caller> caller = runtime.authorizer().Authorize(
      *ctx, {Role::kCaseworker, Role::kPolice, Role::kFacilityStaff, Role::kAuditor,
             Role::kBatch, Role::kService, Role::kAdmin});
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  absl::StatusOr<ProgramStatusRecord> record =
      ReadProgramStatusForCaller(runtime, *caller, request->case_id());
  std::string outcome = record.ok() ? "OK" : absl::StatusCodeToString(record.status().code());
  runtime.read_audit().Record(AuditEntry{runtime.clock().Now(), caller->subject(),
                                         std::string(RoleName(caller->role())), kAction,
                                         record.ok() ? record->case_id : std::string(),
                                         outcome});
  if (!record.ok()) {
    reactor->Finish(ToGrpcStatus(record.status()));
    return reactor;
  }
  ToProto(*record, programme, response);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace pathway
