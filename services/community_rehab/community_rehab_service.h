// The community rehabilitation (社区康复, SK) gRPC service: the shared supervision
// adapter (services/supervision/supervision_service.h) instantiated over
// pathway.rehab.v1, with the SK policy: police order it on release from isolation for a
// term set per case of at most 3 years (禁毒法 Art 48); the community detox rules apply
// (戒毒条例 Art 37-40); a missed report window is overdue, not deemed refusal.
//
//   CommunityRehabService service(runtime, supervision::CommunityRehabPolicy(), handoffs);
//   builder.RegisterService(&service);
//
// OpenFromRelease is the receiving end of the isolation service's hand-off at release
// (services/compulsory_isolation); CloseForIsolation comes with the shared adapter.
//
// Thread-safe. `runtime` (and `handoffs`) are not owned and must outlive the service.
#ifndef PATHWAY_SERVICES_COMMUNITY_REHAB_COMMUNITY_REHAB_SERVICE_H_
#define PATHWAY_SERVICES_COMMUNITY_REHAB_COMMUNITY_REHAB_SERVICE_H_

#include "services/supervision/supervision_service.h"
#include "pathway/rehab/v1/rehab.grpc.pb.h"

namespace pathway {
namespace rehab {

// The pathway.rehab.v1 types the shared adapter is written over.
struct RehabApi {
  using Service = v1::CommunityRehab;
  using Order = v1::Order;
  using OpenOrderRequest = v1::OpenOrderRequest;
  using RecordReportRequest = v1::RecordReportRequest;
  using SignAgreementRequest = v1::SignAgreementRequest;
  using ChangeExecutionPlaceRequest = v1::ChangeExecutionPlaceRequest;
  using RecordTestRequest = v1::RecordTestRequest;
  using ConfirmMissedTestRequest = v1::ConfirmMissedTestRequest;
  using RecordLeaveRequest = v1::RecordLeaveRequest;
  using RecordAbsenceRequest = v1::RecordAbsenceRequest;
  using RecordReturnRequest = v1::RecordReturnRequest;
  using RecordPoliceReportRequest = v1::RecordPoliceReportRequest;
  using RecordSuspensionRequest = v1::RecordSuspensionRequest;
  using ResumeOrderRequest = v1::ResumeOrderRequest;
  using TerminateOrderRequest = v1::TerminateOrderRequest;
  using RecordDischargeRequest = v1::RecordDischargeRequest;
  using CloseForIsolationRequest = v1::CloseForIsolationRequest;
  using CloseForIsolationResponse = v1::CloseForIsolationResponse;
  using GetOrderRequest = v1::GetOrderRequest;
  using ListOrdersRequest = v1::ListOrdersRequest;
  using ListOrdersResponse = v1::ListOrdersResponse;
  using ListDueRequest = v1::ListDueRequest;
  using ListDueResponse = v1::ListDueResponse;
  using RefreshStatusesRequest = v1::RefreshStatusesRequest;
  using RefreshStatusesResponse = v1::RefreshStatusesResponse;
};

// The shared adapter plus the receiving end of the release hand-off.
class CommunityRehabService final : public supervision::SupervisionService<RehabApi> {
 public:
  using SupervisionService::SupervisionService;

  // 禁毒法 Art 48: the SK order decided at release from isolation, sent by the
  // isolation service's outbox.
  grpc::ServerUnaryReactor* OpenFromRelease(grpc::CallbackServerContext* ctx,
                                            const v1::OpenFromReleaseRequest* req,
                                            v1::Order* resp) override;
};

}  // namespace rehab
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMMUNITY_REHAB_COMMUNITY_REHAB_SERVICE_H_
