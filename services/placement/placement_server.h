// Starts and stops the Sunshine placement (阳光工程) server: its runtime (store, cache, auth), the
// service and the gRPC server with health and reflection.
//
//   PlacementServer::Options options;
//   options.server = ...;  // from main
//   ASSIGN_OR_RETURN(auto server, PlacementServer::Start(options));
//   ...
//   server->Shutdown();
#ifndef PATHWAY_SERVICES_PLACEMENT_PLACEMENT_SERVER_H_
#define PATHWAY_SERVICES_PLACEMENT_PLACEMENT_SERVER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/server/grpc_server.h"
#include "common/server/server_options.h"
#include "common/server/service_runtime.h"
#include "services/placement/placement_service.h"

namespace pathway {
namespace placement {

// The service's migrations: the programme status table and the service's own tables.
std::vector<Migration> PlacementMigrations();

// The HMAC key for resident ID numbers in labor bureau registrations: the labor exchange
// key (services/placement/labor_exchange_index.h), which the registry derives the same
// way for CaseFacts.labor_exchange_index.
std::string DeriveIdHashKey(absl::string_view token_key);

class PlacementServer {
 public:
  struct Options {
    ServerOptions server;
    // Subsidy tiers (configuration; no amounts are compiled in). main reads them from
    // the file named by --subsidy_tiers_file / PATHWAY_PLACEMENT_SUBSIDY_TIERS_FILE
    // (format: ParseSubsidyTiers in placement_rules.h); none configured means no claims.
    std::vector<v1::SubsidyTier> subsidy_tiers;
  };

  static absl::StatusOr<std::unique_ptr<PlacementServer>> Start(
      const Options& options, RuntimeOverrides overrides = {});

  int port() const { return grpc_server_->port(); }
  ServiceRuntime& runtime() { return *runtime_; }
  // Drains in-flight RPCs (options.server.drain_timeout), then stops. Idempotent.
  void Shutdown() { grpc_server_->Shutdown(); }

 private:
  PlacementServer() = default;

  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<PlacementService> service_;
  std::unique_ptr<GrpcServer> grpc_server_;  // last: stopped before the rest goes
};

}  // namespace placement
}  // namespace pathway

#endif  // PATHWAY_SERVICES_PLACEMENT_PLACEMENT_SERVER_H_
