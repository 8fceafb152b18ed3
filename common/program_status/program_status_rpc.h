// GetProgramStatus, served the same way by every programme service: authorise,
// validate the case id, read the stored status, hide cases outside the caller's
// jurisdiction exactly as missing ones, audit the read.
//
//   grpc::ServerUnaryReactor* CommunityDetoxService::GetProgramStatus(
//       grpc::CallbackServerContext* ctx, const GetProgramStatusRequest* req,
//       ProgramStatus* resp) {
//     return ServeGetProgramStatus(*runtime_, Programme::kCommunityDetox, ctx, req, resp);
//   }
#ifndef PATHWAY_COMMON_PROGRAM_STATUS_PROGRAM_STATUS_RPC_H_
#define PATHWAY_COMMON_PROGRAM_STATUS_PROGRAM_STATUS_RPC_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "common/auth/guard.h"
#include "common/program_status/program_status.h"
#include "common/server/service_runtime.h"
#include "pathway/common/v1/common.pb.h"

namespace pathway {

// The logic behind the RPC, free of gRPC types: INVALID_ARGUMENT for a malformed
// case id, NOT_FOUND (one message) for a missing or out-of-jurisdiction case.
absl::StatusOr<ProgramStatusRecord> ReadProgramStatusForCaller(ServiceRuntime& runtime,
                                                               const Caller& caller,
                                                               absl::string_view case_id);

grpc::ServerUnaryReactor* ServeGetProgramStatus(ServiceRuntime& runtime, Programme programme,
                                                grpc::CallbackServerContext* ctx,
                                                const common::v1::GetProgramStatusRequest* request,
                                                common::v1::ProgramStatus* response);

}  // namespace pathway

#endif  // PATHWAY_COMMON_PROGRAM_STATUS_PROGRAM_STATUS_RPC_H_
