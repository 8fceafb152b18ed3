#include "services/registry/registry_server.h"

#include <utility>

#include "common/status/status_macros.h"

namespace pathway {
namespace registry {

// Persons, cases and grading arrive with the registry's issue.
std::vector<Migration> RegistryMigrations() { return {}; }

absl::StatusOr<std::unique_ptr<RegistryServer>> RegistryServer::Start(
    const Options& options, RuntimeOverrides overrides) {
  std::unique_ptr<RegistryServer> s(new RegistryServer());
  ASSIGN_OR_RETURN(s->runtime_, ServiceRuntime::Open(options.server, RegistryMigrations(),
                                                     std::move(overrides)));
  s->service_ = std::make_unique<RegistryService>(s->runtime_.get());
  ASSIGN_OR_RETURN(s->grpc_server_,
                   GrpcServer::Start(options.server, s->runtime_.get(),
                                     {{v1::Registry::service_full_name(), s->service_.get()}}));
  return s;
}

}  // namespace registry
}  // namespace pathway
