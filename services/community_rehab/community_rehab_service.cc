#include "services/community_rehab/community_rehab_service.h"

#include "common/program_status/program_status_rpc.h"

namespace pathway {
namespace rehab {

grpc::ServerUnaryReactor* CommunityRehabService::GetProgramStatus(
    grpc::CallbackServerContext* ctx, const common::v1::GetProgramStatusRequest* request,
    common::v1::ProgramStatus* response) {
  return ServeGetProgramStatus(*runtime_, Programme::kCommunityRehab, ctx, request, response);
}

}  // namespace rehab
}  // namespace pathway
