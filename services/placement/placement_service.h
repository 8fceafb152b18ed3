// The Sunshine placement (阳光工程) gRPC service: a thin callback adapter (STYLE.md): authorise, call the
// logic, finish. Domain RPCs arrive with their own issue; today it serves the
// programme status the registry and the reconciler read.
//
// Thread-safe. `runtime` is not owned and must outlive the service.
#ifndef PATHWAY_SERVICES_PLACEMENT_PLACEMENT_SERVICE_H_
#define PATHWAY_SERVICES_PLACEMENT_PLACEMENT_SERVICE_H_

#include "common/server/service_runtime.h"
#include "pathway/placement/v1/placement.grpc.pb.h"

namespace pathway {
namespace placement {

class PlacementService final : public v1::Placement::CallbackService {
 public:
  explicit PlacementService(ServiceRuntime* runtime) : runtime_(runtime) {}

  grpc::ServerUnaryReactor* GetProgramStatus(grpc::CallbackServerContext* ctx,
                                             const common::v1::GetProgramStatusRequest* request,
                                             common::v1::ProgramStatus* response) override;

 private:
  ServiceRuntime* runtime_;
};

}  // namespace placement
}  // namespace pathway

#endif  // PATHWAY_SERVICES_PLACEMENT_PLACEMENT_SERVICE_H_
