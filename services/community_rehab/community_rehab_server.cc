#include "services/community_rehab/community_rehab_server.h"

#include <utility>

#include "common/program_status/program_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace rehab {

std::vector<Migration> CommunityRehabMigrations() {
  std::vector<Migration> m = ProgramStatusMigrations();
  for (Migration& s : supervision::SupervisionMigrations()) m.push_back(std::move(s));
  for (Migration& s : OutboxMigrations()) m.push_back(std::move(s));
  return m;
}

absl::StatusOr<std::unique_ptr<CommunityRehabServer>> CommunityRehabServer::Start(
    const Options& options, RuntimeOverrides overrides) {
  RETURN_IF_ERROR(supervision::ValidatePolicy(options.policy));
  std::unique_ptr<CommunityRehabServer> s(new CommunityRehabServer());
  ASSIGN_OR_RETURN(s->runtime_, ServiceRuntime::Open(options.server, CommunityRehabMigrations(),
                                                     std::move(overrides)));
  s->handoffs_ = HandoffRunner::Create(s->runtime_.get(), options.handoffs);
  s->service_ = std::make_unique<CommunityRehabService>(s->runtime_.get(), options.policy,
                                                    s->handoffs_.get());
  ASSIGN_OR_RETURN(s->grpc_server_,
                   GrpcServer::Start(options.server, s->runtime_.get(),
                                     {{v1::CommunityRehab::service_full_name(), s->service_.get()}}));
  s->handoffs_->Start();  // rows left pending by an earlier run go out now
  ASSIGN_OR_RETURN(s->status_refresh_,
                   s->runtime_->StartStatusRefresh([service = s->service_.get()](absl::Time now) {
                     return service->RefreshStatusesAt(now);
                   }));
  return s;
}

}  // namespace rehab
}  // namespace pathway
