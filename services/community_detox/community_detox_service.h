// The community detox (社区戒毒, SD) gRPC service: the shared supervision adapter
// (services/supervision/supervision_service.h) instantiated over pathway.detox.v1, with
// the SD policy (fixed 3-year term, police open the order, a no-show is deemed refusal;
// 戒毒条例 Art 14).
//
//   CommunityDetoxService service(runtime, supervision::CommunityDetoxPolicy());
//   builder.RegisterService(&service);
//
// OpenFromConversion is the receiving end of the isolation service's hand-off when
// medical parole is converted to community detox (戒毒条例 Art 31); CloseForIsolation
// comes with the shared adapter.
//
// Thread-safe. `runtime` (and `handoffs`) are not owned and must outlive the service.
#ifndef PATHWAY_SERVICES_COMMUNITY_DETOX_COMMUNITY_DETOX_SERVICE_H_
#define PATHWAY_SERVICES_COMMUNITY_DETOX_COMMUNITY_DETOX_SERVICE_H_

#include "services/supervision/supervision_service.h"
#include "pathway/detox/v1/detox.grpc.pb.h"

namespace pathway {
namespace detox {

// The pathway.detox.v1 types the shared adapter is written over.
struct DetoxApi {
  using Service = v1::CommunityDetox;
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

// The shared adapter plus the receiving end of the conversion hand-off.
class CommunityDetoxService final : public supervision::SupervisionService<DetoxApi> {
 public:
  using SupervisionService::SupervisionService;

  // 戒毒条例 Art 31: the SD order of an approved conversion, sent by the isolation
  // service's outbox.
  grpc::ServerUnaryReactor* OpenFromConversion(grpc::CallbackServerContext* ctx,
                                               const v1::OpenFromConversionRequest* req,
                                               v1::Order* resp) override;
};

}  // namespace detox
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMMUNITY_DETOX_COMMUNITY_DETOX_SERVICE_H_
