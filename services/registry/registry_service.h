// The case registry gRPC service: a thin callback adapter (STYLE.md): authorise,
// call the logic (writes through RunMutation: idempotent, audited in the same
// transaction), audit reads, finish. Roles per RPC are documented in
// protos/pathway/registry/v1/registry.proto.
//
// Thread-safe. Nothing passed in is owned; all must outlive the service.
#ifndef PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
#define PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "common/auth/caller.h"
#include "common/server/service_runtime.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "services/registry/case_sync.h"
#include "services/registry/registry_logic.h"
#include "services/registry/status_view.h"
#include "services/registry/visits.h"

namespace pathway {
namespace registry {

class RegistryService final : public v1::Registry::CallbackService {
 public:
  RegistryService(ServiceRuntime* runtime, const RegistryLogic* logic, StatusView* view,
                  const VisitLogic* visits, const CaseSync* sync)
      : runtime_(runtime), logic_(logic), view_(view), visits_(visits), sync_(sync) {}

  grpc::ServerUnaryReactor* RegisterPerson(grpc::CallbackServerContext* ctx,
                                           const v1::RegisterPersonRequest* request,
                                           v1::Case* response) override;
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* ctx,
                                    const v1::GetCaseRequest* request,
                                    v1::Case* response) override;
  grpc::ServerUnaryReactor* FindCaseByIdNumber(grpc::CallbackServerContext* ctx,
                                               const v1::FindCaseByIdNumberRequest* request,
                                               v1::Case* response) override;
  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* ctx,
                                      const v1::ListCasesRequest* request,
                                      v1::ListCasesResponse* response) override;
  grpc::ServerUnaryReactor* GetWorklist(grpc::CallbackServerContext* ctx,
                                        const v1::GetWorklistRequest* request,
                                        v1::GetWorklistResponse* response) override;
  grpc::ServerUnaryReactor* ReportProgramStatuses(
      grpc::CallbackServerContext* ctx, const v1::ReportProgramStatusesRequest* request,
      v1::ReportProgramStatusesResponse* response) override;
  grpc::ServerUnaryReactor* SetRiskGrade(grpc::CallbackServerContext* ctx,
                                         const v1::SetRiskGradeRequest* request,
                                         v1::Case* response) override;
  grpc::ServerUnaryReactor* ListRiskGradeHistory(
      grpc::CallbackServerContext* ctx, const v1::ListRiskGradeHistoryRequest* request,
      v1::ListRiskGradeHistoryResponse* response) override;
  grpc::ServerUnaryReactor* AssignCase(grpc::CallbackServerContext* ctx,
                                       const v1::AssignCaseRequest* request,
                                       v1::Case* response) override;
  grpc::ServerUnaryReactor* ListCaseAssignments(
      grpc::CallbackServerContext* ctx, const v1::ListCaseAssignmentsRequest* request,
      v1::ListCaseAssignmentsResponse* response) override;
  grpc::ServerUnaryReactor* ChangeJurisdiction(grpc::CallbackServerContext* ctx,
                                               const v1::ChangeJurisdictionRequest* request,
                                               v1::Case* response) override;
  grpc::ServerUnaryReactor* SetStatus(grpc::CallbackServerContext* ctx,
                                      const v1::SetStatusRequest* request,
                                      v1::Case* response) override;
  grpc::ServerUnaryReactor* ReportEvent(grpc::CallbackServerContext* ctx,
                                        const v1::ReportEventRequest* request,
                                        v1::ReportEventResponse* response) override;
  grpc::ServerUnaryReactor* GetCaseScopes(grpc::CallbackServerContext* ctx,
                                          const v1::GetCaseScopesRequest* request,
                                          v1::GetCaseScopesResponse* response) override;
  grpc::ServerUnaryReactor* GetCaseFacts(grpc::CallbackServerContext* ctx,
                                         const v1::GetCaseFactsRequest* request,
                                         v1::CaseFacts* response) override;
  grpc::ServerUnaryReactor* GetCaseStatus(grpc::CallbackServerContext* ctx,
                                          const v1::GetCaseStatusRequest* request,
                                          v1::CaseStatus* response) override;
  grpc::ServerUnaryReactor* BatchGetCaseStatus(grpc::CallbackServerContext* ctx,
                                               const v1::BatchGetCaseStatusRequest* request,
                                               v1::BatchGetCaseStatusResponse* response) override;
  grpc::ServerUnaryReactor* RecordVisit(grpc::CallbackServerContext* ctx,
                                        const v1::RecordVisitRequest* request,
                                        v1::Visit* response) override;
  grpc::ServerUnaryReactor* ListVisits(grpc::CallbackServerContext* ctx,
                                       const v1::ListVisitsRequest* request,
                                       v1::ListVisitsResponse* response) override;
  grpc::ServerUnaryReactor* SearchPersons(grpc::CallbackServerContext* ctx,
                                          const v1::SearchPersonsRequest* request,
                                          v1::SearchPersonsResponse* response) override;
  grpc::ServerUnaryReactor* SyncCases(grpc::CallbackServerContext* ctx,
                                      const v1::SyncCasesRequest* request,
                                      v1::SyncCasesResponse* response) override;

 private:
  absl::CivilDay Today() const;
  // Runs a handler's waiting part (a write) on the runtime's handler pool.
  grpc::ServerUnaryReactor* OnPool(grpc::CallbackServerContext* ctx,
                                   std::function<absl::Status()> work);
  // A write through the one mutation path; `fn` returns the changed case. A repeat
  // under the same idempotency-key reads the case again and answers as the caller may
  // see it now: `replay_scope` decides (CaseNotFound() to hide it); unset, the scope
  // and sealing of a fresh read (RegistryLogic::CheckVisible).
  absl::Status Mutate(grpc::CallbackServerContext* ctx, const Caller& caller,
                      absl::string_view method, const google::protobuf::Message& request,
                      v1::Case* response,
                      const std::function<absl::StatusOr<CaseRecord>(Transaction&)>& fn,
                      const std::function<absl::Status(const CaseRecord&)>& replay_scope = {});
  // Reads one visible case and audits the read.
  absl::StatusOr<CaseRecord> ReadCase(const Caller& caller, absl::string_view action,
                                      absl::string_view case_id);
  void AuditRead(const Caller& caller, absl::string_view action, absl::string_view case_id,
                 const absl::Status& outcome);

  ServiceRuntime* runtime_;
  const RegistryLogic* logic_;
  StatusView* view_;
  const VisitLogic* visits_;
  const CaseSync* sync_;
};

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
