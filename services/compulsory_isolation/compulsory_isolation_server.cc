#include "services/compulsory_isolation/compulsory_isolation_server.h"

#include <utility>

#include <grpcpp/grpcpp.h>

#include "common/client/peer_channel.h"
#include "common/program_status/program_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace isolation {

std::vector<Migration> CompulsoryIsolationMigrations() {
  std::vector<Migration> all = ProgramStatusMigrations();
  for (Migration& m : IsolationLogic::Migrations()) all.push_back(std::move(m));
  for (Migration& m : OutboxMigrations()) all.push_back(std::move(m));
  return all;
}

absl::StatusOr<std::unique_ptr<CompulsoryIsolationServer>> CompulsoryIsolationServer::Start(
    const Options& options, RuntimeOverrides overrides, std::unique_ptr<RehabStatusClient> rehab) {
  RETURN_IF_ERROR(options.isolation.Validate());
  std::unique_ptr<CompulsoryIsolationServer> s(new CompulsoryIsolationServer());
  ASSIGN_OR_RETURN(s->runtime_, ServiceRuntime::Open(options.server, CompulsoryIsolationMigrations(),
                                                     std::move(overrides)));
  s->logic_ = std::make_unique<IsolationLogic>(options.isolation);
  if (rehab != nullptr) {
    s->rehab_ = std::move(rehab);
  } else {
    // The channel connects lazily: a rehabilitation service that is down costs
    // nothing until a decision asks it.
    s->rehab_ = std::make_unique<GrpcRehabStatusClient>(
        rehab::v1::CommunityRehab::NewStub(PeerChannel(options.server.rehab_address,
                                                                 s->runtime_->peer_security())),
        &s->runtime_->service_tokens(), options.server.peer_timeout);
  }
  s->handoffs_ = HandoffRunner::Create(s->runtime_.get(), options.handoffs);
  s->service_ = std::make_unique<CompulsoryIsolationService>(
      s->runtime_.get(), s->logic_.get(), s->rehab_.get(), s->handoffs_.get());
  ASSIGN_OR_RETURN(s->grpc_server_,
                   GrpcServer::Start(options.server, s->runtime_.get(),
                                     {{v1::CompulsoryIsolation::service_full_name(), s->service_.get()}}));
  s->handoffs_->Start();  // rows left pending by an earlier run go out now
  ASSIGN_OR_RETURN(s->status_refresh_,
                   s->runtime_->StartStatusRefresh([service = s->service_.get()](absl::Time now) {
                     return service->RefreshStatusesAt(now);
                   }));
  return s;
}

}  // namespace isolation
}  // namespace pathway
