#include "common/program_status/program_status_rpc.h"

#include <optional>
#include <string>

#include "common/auth/case_scope.h"
#include "common/ids/case_id.h"
#include "common/server/handler_pool.h"
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
  // Missing and out of scope answer alike, so ids cannot be probed (DESIGN.md §6).
  if (!found.has_value()) return CaseNotFound();
  if (caller.role() != Role::kService) {
    // Who sees the case is the registry's scope (双向管控) or the executing county,
    // and a sealed case only roles with a statutory need (common/auth/case_scope.h).
    ASSIGN_OR_RETURN(CaseScope scope, runtime.registry().GetCaseScope(id.ToString()));
    RETURN_IF_ERROR(CheckCaseVisible(caller, scope, {found->division}));
  }
  return *std::move(found);
}

grpc::ServerUnaryReactor* ServeGetProgramStatus(ServiceRuntime& runtime, Programme programme,
                                                grpc::CallbackServerContext* ctx,
                                                const common::v1::GetProgramStatusRequest* request,
                                                common::v1::ProgramStatus* response) {
  absl::StatusOr<Caller> caller = runtime.authorizer().Authorize(
      *ctx, {Role::kCaseworker, Role::kPolice, Role::kFacilityStaff, Role::kAuditor,
             Role::kBatch, Role::kService, Role::kAdmin});
  if (!caller.ok()) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  // On the handler pool: the scope comes from the registry, a call that may wait.
  return FinishOnPool(
      ctx, runtime.handlers(),
      [&runtime, programme, request, response, caller = *caller]() -> absl::Status {
        absl::StatusOr<ProgramStatusRecord> record =
            ReadProgramStatusForCaller(runtime, caller, request->case_id());
        runtime.read_audit().Record(AuditEntry{runtime.clock().Now(), caller.subject(),
                                               std::string(RoleName(caller.role())), kAction,
                                               record.ok() ? record->case_id : std::string(),
                                               AuditOutcome(record.status()),
                                               caller.request_id});
        if (!record.ok()) return record.status();
        ToProto(*record, programme, response);
        return absl::OkStatus();
      });
}

}  // namespace pathway
