// The compulsory isolation (强制隔离戒毒) gRPC service: a thin callback adapter (STYLE.md): authorise, call the
// logic, finish. Domain RPCs arrive with their own issue; today it serves the
// programme status the registry and the reconciler read.
//
// Thread-safe. `runtime` is not owned and must outlive the service.
#ifndef PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVICE_H_
#define PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVICE_H_

#include "common/server/service_runtime.h"
#include "pathway/isolation/v1/isolation.grpc.pb.h"

namespace pathway {
namespace isolation {

class CompulsoryIsolationService final : public v1::CompulsoryIsolation::CallbackService {
 public:
  explicit CompulsoryIsolationService(ServiceRuntime* runtime) : runtime_(runtime) {}

  grpc::ServerUnaryReactor* GetProgramStatus(grpc::CallbackServerContext* ctx,
                                             const common::v1::GetProgramStatusRequest* request,
                                             common::v1::ProgramStatus* response) override;

 private:
  ServiceRuntime* runtime_;
};

}  // namespace isolation
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVICE_H_
