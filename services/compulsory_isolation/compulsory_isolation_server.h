// Starts and stops the compulsory isolation (强制隔离戒毒) server: its runtime (store, cache, auth), the
// service and the gRPC server with health and reflection.
//
//   CompulsoryIsolationServer::Options options;
//   options.server = ...;  // from main
//   ASSIGN_OR_RETURN(auto server, CompulsoryIsolationServer::Start(options));
//   ...
//   server->Shutdown();
#ifndef PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVER_H_
#define PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/server/grpc_server.h"
#include "common/server/server_options.h"
#include "common/server/service_runtime.h"
#include "services/compulsory_isolation/compulsory_isolation_service.h"

namespace pathway {
namespace isolation {

// The service's own tables.
std::vector<Migration> CompulsoryIsolationMigrations();

class CompulsoryIsolationServer {
 public:
  struct Options {
    ServerOptions server;
  };

  static absl::StatusOr<std::unique_ptr<CompulsoryIsolationServer>> Start(
      const Options& options, RuntimeOverrides overrides = {});

  int port() const { return grpc_server_->port(); }
  ServiceRuntime& runtime() { return *runtime_; }
  // Drains in-flight RPCs (options.server.drain_timeout), then stops. Idempotent.
  void Shutdown() { grpc_server_->Shutdown(); }

 private:
  CompulsoryIsolationServer() = default;

  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<CompulsoryIsolationService> service_;
  std::unique_ptr<GrpcServer> grpc_server_;  // last: stopped before the rest goes
};

}  // namespace isolation
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVER_H_
