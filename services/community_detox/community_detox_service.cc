#include "services/community_detox/community_detox_service.h"

#include "common/program_status/program_status_rpc.h"

namespace pathway {
namespace detox {

grpc::ServerUnaryReactor* CommunityDetoxService::GetProgramStatus(
    grpc::CallbackServerContext* ctx, const common::v1::GetProgramStatusRequest* request,
    common::v1::ProgramStatus* response) {
  return ServeGetProgramStatus(*runtime_, Programme::kCommunityDetox, ctx, request, response);
}

}  // namespace detox
}  // namespace pathway
