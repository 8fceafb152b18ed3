// The community rehabilitation (社区康复) gRPC service: a thin callback adapter (STYLE.md): authorise, call the
// logic, finish. Domain RPCs arrive with their own issue; today it serves the
// programme status the registry and the reconciler read.
//
// Thread-safe. `runtime` is not owned and must outlive the service.
#ifndef PATHWAY_SERVICES_COMMUNITY_REHAB_COMMUNITY_REHAB_SERVICE_H_
#define PATHWAY_SERVICES_COMMUNITY_REHAB_COMMUNITY_REHAB_SERVICE_H_

#include "common/server/service_runtime.h"
#include "pathway/rehab/v1/rehab.grpc.pb.h"

namespace pathway {
namespace rehab {

class CommunityRehabService final : public v1::CommunityRehab::CallbackService {
 public:
  explicit CommunityRehabService(ServiceRuntime* runtime) : runtime_(runtime) {}

  grpc::ServerUnaryReactor* GetProgramStatus(grpc::CallbackServerContext* ctx,
                                             const common::v1::GetProgramStatusRequest* request,
                                             common::v1::ProgramStatus* response) override;

 private:
  ServiceRuntime* runtime_;
};

}  // namespace rehab
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMMUNITY_REHAB_COMMUNITY_REHAB_SERVICE_H_
