#include "services/placement/placement_server.h"

#include <utility>

#include "common/auth/token.h"
#include "common/program_status/program_status.h"
#include "common/status/status_macros.h"
#include "services/placement/labor_exchange_index.h"
#include "services/placement/placement_logic.h"
#include "services/placement/placement_tables.h"

namespace pathway {
namespace placement {

std::vector<Migration> PlacementMigrations() {
  std::vector<Migration> m = ProgramStatusMigrations();
  for (Migration& own : PlacementTableMigrations()) m.push_back(std::move(own));
  return m;
}

std::string DeriveIdHashKey(absl::string_view token_key) {
  return DeriveLaborExchangeKey(token_key);
}

absl::StatusOr<std::unique_ptr<PlacementServer>> PlacementServer::Start(
    const Options& options, RuntimeOverrides overrides) {
  std::unique_ptr<PlacementServer> s(new PlacementServer());
  ASSIGN_OR_RETURN(s->runtime_, ServiceRuntime::Open(options.server, PlacementMigrations(),
                                                     std::move(overrides)));
  ASSIGN_OR_RETURN(std::string token_key, LoadKeyFile(options.server.token_key_file));
  s->service_ = std::make_unique<PlacementService>(
      s->runtime_.get(),
      std::make_unique<PlacementLogic>(options.subsidy_tiers, DeriveIdHashKey(token_key)));
  ASSIGN_OR_RETURN(s->grpc_server_,
                   GrpcServer::Start(options.server, s->runtime_.get(),
                                     {{v1::Placement::service_full_name(), s->service_.get()}}));
  return s;
}

}  // namespace placement
}  // namespace pathway
