// The one place that maps absl::Status to grpc::Status and back (STYLE.md rule 5).
// The two code enums share numbers; messages are passed through unchanged, so a
// caller of ToGrpcStatus must already have made the message client-safe.
#ifndef PATHWAY_COMMON_STATUS_GRPC_STATUS_H_
#define PATHWAY_COMMON_STATUS_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace pathway {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);
// The code's name as gRPC spells it ("OK", "NOT_FOUND", ...); "UNKNOWN" for a value
// gRPC does not define. For log fields and metric labels.
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace pathway

#endif  // PATHWAY_COMMON_STATUS_GRPC_STATUS_H_
