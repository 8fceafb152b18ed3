// Starts and stops the case registry server: its runtime (store, cache, auth), the
// personal-data cipher, the status view over the four programme services, the
// service and the gRPC server with health and reflection.
//
//   RegistryServer::Options options;
//   options.server = ...;            // from main
//   options.pii_key_file = "...";    // the personal-data master key
//   ASSIGN_OR_RETURN(auto server, RegistryServer::Start(options));
//   ...
//   server->Shutdown();
#ifndef PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVER_H_
#define PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/crypto/pii_cipher.h"
#include "common/server/grpc_server.h"
#include "common/server/server_options.h"
#include "common/server/service_runtime.h"
#include "services/registry/case_sync.h"
#include "services/registry/registry_logic.h"
#include "services/registry/registry_service.h"
#include "services/registry/status_view.h"
#include "services/registry/visits.h"

namespace pathway {
namespace registry {

class RegistryServer {
 public:
  struct Options {
    ServerOptions server;
    // File holding the master key (>= 32 bytes) from which the ID-number encryption
    // and blind-index keys are derived. Never compiled in; losing it loses the data.
    std::string pii_key_file;
    RegistryConfig config;
    // How long a SyncCases cursor can be resumed; the change log keeps what that needs
    // and is pruned past it at start-up and daily (case_sync.h).
    absl::Duration sync_retention = kDefaultSyncRetention;
  };

  // `source` replaces the gRPC clients of the programme services (tests).
  static absl::StatusOr<std::unique_ptr<RegistryServer>> Start(
      const Options& options, RuntimeOverrides overrides = {},
      std::unique_ptr<ProgramStatusSource> source = nullptr);

  int port() const { return grpc_server_->port(); }
  ServiceRuntime& runtime() { return *runtime_; }
  const RegistryLogic& logic() const { return *logic_; }
  // Drains in-flight RPCs (options.server.drain_timeout), then stops. Idempotent.
  void Shutdown() { grpc_server_->Shutdown(); }

 private:
  RegistryServer() = default;

  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<PiiCipher> cipher_;
  std::unique_ptr<RegistryLogic> logic_;
  std::unique_ptr<VisitLogic> visits_;
  std::unique_ptr<CaseSync> sync_;
  std::unique_ptr<DailyTask> prune_task_;  // uses sync_ and the runtime's store
  std::unique_ptr<ProgramStatusSource> source_;
  std::unique_ptr<StatusView> view_;
  std::unique_ptr<RegistryService> service_;
  std::unique_ptr<GrpcServer> grpc_server_;  // last: stopped before the rest goes
};

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_REGISTRY_SERVER_H_
