#include "services/placement/placement_server.h"

#include <utility>

#include "common/program_status/program_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace placement {

std::vector<Migration> PlacementMigrations() { return ProgramStatusMigrations(); }

absl::StatusOr<std::unique_ptr<PlacementServer>> PlacementServer::Start(
    const Options& options, RuntimeOverrides overrides) {
  std::unique_ptr<PlacementServer> s(new PlacementServer());
  ASSIGN_OR_RETURN(s->runtime_, ServiceRuntime::Open(options.server, PlacementMigrations(),
                                                     std::move(overrides)));
  s->service_ = std::make_unique<PlacementService>(s->runtime_.get());
  ASSIGN_OR_RETURN(s->grpc_server_,
                   GrpcServer::Start(options.server, s->runtime_.get(),
                                     {{v1::Placement::service_full_name(), s->service_.get()}}));
  return s;
}

}  // namespace placement
}  // namespace pathway
