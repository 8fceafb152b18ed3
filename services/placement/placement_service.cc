#include "services/placement/placement_service.h"

#include "common/program_status/program_status_rpc.h"

namespace pathway {
namespace placement {

grpc::ServerUnaryReactor* PlacementService::GetProgramStatus(
    grpc::CallbackServerContext* ctx, const common::v1::GetProgramStatusRequest* request,
    common::v1::ProgramStatus* response) {
  return ServeGetProgramStatus(*runtime_, Programme::kPlacement, ctx, request, response);
}

}  // namespace placement
}  // namespace pathway
