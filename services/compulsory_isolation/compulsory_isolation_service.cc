#include "services/compulsory_isolation/compulsory_isolation_service.h"

#include "common/program_status/program_status_rpc.h"

namespace pathway {
namespace isolation {

grpc::ServerUnaryReactor* CompulsoryIsolationService::GetProgramStatus(
    grpc::CallbackServerContext* ctx, const common::v1::GetProgramStatusRequest* request,
    common::v1::ProgramStatus* response) {
  return ServeGetProgramStatus(*runtime_, Programme::kCompulsoryIsolation, ctx, request, response);
}

}  // namespace isolation
}  // namespace pathway
