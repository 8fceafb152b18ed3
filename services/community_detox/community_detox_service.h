// The community detox (社区戒毒) gRPC service: a thin callback adapter (STYLE.md): authorise, call the
// logic, finish. Domain RPCs arrive with their own issue; today it serves the
// programme status the registry and the reconciler read.
//
// Thread-safe. `runtime` is not owned and must outlive the service.
#ifndef PATHWAY_SERVICES_COMMUNITY_DETOX_COMMUNITY_DETOX_SERVICE_H_
#define PATHWAY_SERVICES_COMMUNITY_DETOX_COMMUNITY_DETOX_SERVICE_H_

#include "common/server/service_runtime.h"
#include "pathway/detox/v1/detox.grpc.pb.h"

namespace pathway {
namespace detox {

class CommunityDetoxService final : public v1::CommunityDetox::CallbackService {
 public:
  explicit CommunityDetoxService(ServiceRuntime* runtime) : runtime_(runtime) {}

  grpc::ServerUnaryReactor* GetProgramStatus(grpc::CallbackServerContext* ctx,
                                             const common::v1::GetProgramStatusRequest* request,
                                             common::v1::ProgramStatus* response) override;

 private:
  ServiceRuntime* runtime_;
};

}  // namespace detox
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMMUNITY_DETOX_COMMUNITY_DETOX_SERVICE_H_
