// Starts and stops the case registry server: its runtime (store, cache, auth), the
// service and the gRPC server with health and reflection.
//
//   RegistryServer::Options options;
//   options.server = ...;  // from main
//   ASSIGN_OR_RETURN(auto server, RegistryServer::Start(options));
//   ...
//   server->Shutdown();
#ifndef PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVER_H_
#define PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/server/grpc_server.h"
#include "common/server/server_options.h"
#include "common/server/service_runtime.h"
#include "services/registry/registry_service.h"

namespace pathway {
namespace registry {

// The registry's own tables.
std::vector<Migration> RegistryMigrations();

class RegistryServer {
 public:
  struct Options {
    ServerOptions server;
  };

  static absl::StatusOr<std::unique_ptr<RegistryServer>> Start(
      const Options& options, RuntimeOverrides overrides = {});

  int port() const { return grpc_server_->port(); }
  ServiceRuntime& runtime() { return *runtime_; }
  // Drains in-flight RPCs (options.server.drain_timeout), then stops. Idempotent.
  void Shutdown() { grpc_server_->Shutdown(); }

 private:
  RegistryServer() = default;

  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<RegistryService> service_;
  std::unique_ptr<GrpcServer> grpc_server_;  // last: stopped before the rest goes
};

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVER_H_
