// The compulsory isolation (强制隔离戒毒) gRPC service: a thin callback adapter
// (STYLE.md): authorise the role, run the rule in IsolationLogic (writes through
// RunMutation: change, audit row, idempotent result and the change's outbox rows in
// one transaction), then, after the commit, publish the programme status into the
// cache, wake the outbox dispatcher, and finish. What a change causes elsewhere (the
// registry's measure started / ended; closing an open SD or SK order on a decision;
// opening SK on release) is never sent directly: it is an outbox row delivered exactly
// once by the HandoffRunner (DESIGN.md §5). Reads are audited through the runtime's
// read-audit buffer, one entry per case returned.
//
// Decide also asks the community rehabilitation service (RehabStatusClient) whether the
// person's SK order was running, for the early-release bar of 戒毒条例 Art 38(2).
//
//   IsolationLogic logic(options.isolation);
//   CompulsoryIsolationService service(runtime.get(), &logic, rehab.get(), handoffs.get());
//   GrpcServer::Start(..., {{v1::CompulsoryIsolation::service_full_name(), &service}});
//
// Thread-safe. `runtime`, `logic`, `rehab` and `handoffs` are not owned and must
// outlive the service.
#ifndef PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVICE_H_
#define PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVICE_H_

#include <functional>
#include <optional>
#include <initializer_list>

#include "absl/strings/string_view.h"
#include "common/outbox/handoff_runner.h"
#include "common/server/service_runtime.h"
#include "pathway/isolation/v1/isolation.grpc.pb.h"
#include "services/compulsory_isolation/compulsory_isolation_logic.h"
#include "services/compulsory_isolation/rehab_status_client.h"

namespace pathway {
namespace isolation {

class CompulsoryIsolationService final : public v1::CompulsoryIsolation::CallbackService {
 public:
  // `handoffs` may be null: rows then wait for a runner over the same store.
  CompulsoryIsolationService(ServiceRuntime* runtime, const IsolationLogic* logic,
                             RehabStatusClient* rehab, HandoffRunner* handoffs = nullptr)
      : runtime_(runtime), logic_(logic), rehab_(rehab), handoffs_(handoffs) {}

  grpc::ServerUnaryReactor* GetProgramStatus(grpc::CallbackServerContext* ctx,
                                             const common::v1::GetProgramStatusRequest* request,
                                             common::v1::ProgramStatus* response) override;
  grpc::ServerUnaryReactor* Decide(grpc::CallbackServerContext* ctx,
                                   const v1::DecideRequest* request,
                                   v1::Decision* response) override;
  grpc::ServerUnaryReactor* RecordNotice(grpc::CallbackServerContext* ctx,
                                         const v1::RecordNoticeRequest* request,
                                         v1::Decision* response) override;
  grpc::ServerUnaryReactor* Admit(grpc::CallbackServerContext* ctx,
                                  const v1::AdmitRequest* request,
                                  v1::Decision* response) override;
  grpc::ServerUnaryReactor* Transfer(grpc::CallbackServerContext* ctx,
                                     const v1::TransferRequest* request,
                                     v1::Decision* response) override;
  grpc::ServerUnaryReactor* BeginAbsence(grpc::CallbackServerContext* ctx,
                                         const v1::BeginAbsenceRequest* request,
                                         v1::Decision* response) override;
  grpc::ServerUnaryReactor* EndAbsence(grpc::CallbackServerContext* ctx,
                                       const v1::EndAbsenceRequest* request,
                                       v1::Decision* response) override;
  grpc::ServerUnaryReactor* RecordAssessment(grpc::CallbackServerContext* ctx,
                                             const v1::RecordAssessmentRequest* request,
                                             v1::Decision* response) override;
  grpc::ServerUnaryReactor* ProposeEarlyRelease(grpc::CallbackServerContext* ctx,
                                                const v1::ProposeEarlyReleaseRequest* request,
                                                v1::Decision* response) override;
  grpc::ServerUnaryReactor* ProposeExtension(grpc::CallbackServerContext* ctx,
                                             const v1::ProposeExtensionRequest* request,
                                             v1::Decision* response) override;
  grpc::ServerUnaryReactor* ProposeConversionToCommunityDetox(
      grpc::CallbackServerContext* ctx, const v1::ProposeConversionRequest* request,
      v1::Decision* response) override;
  grpc::ServerUnaryReactor* DecideProposal(grpc::CallbackServerContext* ctx,
                                           const v1::DecideProposalRequest* request,
                                           v1::Decision* response) override;
  grpc::ServerUnaryReactor* RecordReleaseNotice(grpc::CallbackServerContext* ctx,
                                                const v1::RecordReleaseNoticeRequest* request,
                                                v1::Decision* response) override;
  grpc::ServerUnaryReactor* Release(grpc::CallbackServerContext* ctx,
                                    const v1::ReleaseRequest* request,
                                    v1::Decision* response) override;
  grpc::ServerUnaryReactor* GetDecision(grpc::CallbackServerContext* ctx,
                                        const v1::GetDecisionRequest* request,
                                        v1::Decision* response) override;
  grpc::ServerUnaryReactor* ListDecisions(grpc::CallbackServerContext* ctx,
                                          const v1::ListDecisionsRequest* request,
                                          v1::ListDecisionsResponse* response) override;
  grpc::ServerUnaryReactor* ListDue(grpc::CallbackServerContext* ctx,
                                    const v1::ListDueRequest* request,
                                    v1::ListDueResponse* response) override;
  // The service's own daily refresh (ServiceRuntime::StartStatusRefresh): what
  // RefreshStatuses does as of today, as the scheduler, audited in the same
  // transaction; the changed statuses are published at once.
  absl::StatusOr<int64_t> RefreshStatusesAt(absl::Time now);

  grpc::ServerUnaryReactor* RefreshStatuses(
      grpc::CallbackServerContext* ctx, const v1::RefreshStatusesRequest* request,
      v1::RefreshStatusesResponse* response) override;

 private:
  using WriteFn =
      std::function<absl::Status(Transaction&, const Caller&, absl::Time now, Effects*)>;

  // The shared write path: authorise, then on the handler pool RunMutation(fn),
  // publish and report.
  grpc::ServerUnaryReactor* Mutate(grpc::CallbackServerContext* ctx, absl::string_view method,
                                   std::initializer_list<Role> roles,
                                   const google::protobuf::Message* request,
                                   v1::Decision* response, const WriteFn& fn);
  // Mutate's part after authorisation, run on the handler pool.
  absl::Status MutateNow(grpc::CallbackServerContext* ctx, absl::string_view method,
                         const Caller& caller, const std::optional<std::string>& key,
                         const google::protobuf::Message* request, v1::Decision* response,
                         const WriteFn& fn, absl::string_view out_of_area_basis = "");
  // In the change's transaction: registry events and hand-offs as outbox rows.
  static absl::Status EnqueueEffects(Transaction& tx, const Effects& effects, absl::Time now);
  // After a commit: status into the cache, then wake the dispatcher.
  void AfterCommit(const Effects& effects);

  ServiceRuntime* runtime_;       // not owned
  const IsolationLogic* logic_;   // not owned
  RehabStatusClient* rehab_;      // not owned
  HandoffRunner* handoffs_;       // not owned; may be null
};

}  // namespace isolation
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVICE_H_
