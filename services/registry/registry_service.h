// The case registry gRPC service: a thin callback adapter (STYLE.md): authorise, call
// the logic, finish. GetCaseStatus and BatchGetCaseStatus arrive with the registry's
// own issue; until then the generated base answers UNIMPLEMENTED.
//
// Thread-safe. `runtime` is not owned and must outlive the service.
#ifndef PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
#define PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVICE_H_

#include "common/server/service_runtime.h"
#include "pathway/registry/v1/registry.grpc.pb.h"

namespace pathway {
namespace registry {

class RegistryService final : public v1::Registry::CallbackService {
 public:
  explicit RegistryService(ServiceRuntime* runtime) : runtime_(runtime) {}

 private:
  [[maybe_unused]] ServiceRuntime* runtime_;
};

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
