// Starts and stops the community rehabilitation (社区康复) server: its runtime (store, cache, auth), the
// service and the gRPC server with health and reflection.
//
//   CommunityRehabServer::Options options;
//   options.server = ...;  // from main
//   ASSIGN_OR_RETURN(auto server, CommunityRehabServer::Start(options));
//   ...
//   server->Shutdown();
#ifndef PATHWAY_SERVICES_COMMUNITY_REHAB_COMMUNITY_REHAB_SERVER_H_
#define PATHWAY_SERVICES_COMMUNITY_REHAB_COMMUNITY_REHAB_SERVER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/outbox/handoff_runner.h"
#include "common/server/daily_task.h"
#include "common/server/grpc_server.h"
#include "common/server/server_options.h"
#include "common/server/service_runtime.h"
#include "services/community_rehab/community_rehab_service.h"

namespace pathway {
namespace rehab {

// The service's own tables: programme status, the supervision engine's and the outbox.
std::vector<Migration> CommunityRehabMigrations();

class CommunityRehabServer {
 public:
  struct Options {
    ServerOptions server;
    // SK rules and regional configuration (test schedule, suspension pausing the
    // clock, holiday calendar).
    supervision::ProgramPolicy policy = supervision::CommunityRehabPolicy();
    // The outbox dispatcher (registry events; hand-offs it receives are applied by
    // the service). crash is for tests/handoff only.
    HandoffRunner::Options handoffs;
  };

  static absl::StatusOr<std::unique_ptr<CommunityRehabServer>> Start(
      const Options& options, RuntimeOverrides overrides = {});

  int port() const { return grpc_server_->port(); }
  ServiceRuntime& runtime() { return *runtime_; }
  HandoffRunner& handoffs() { return *handoffs_; }
  // Drains in-flight RPCs (options.server.drain_timeout), then stops the outbox
  // dispatcher. Idempotent.
  void Shutdown() {
    status_refresh_.reset();
    grpc_server_->Shutdown();
    handoffs_->Stop();
  }

 private:
  CommunityRehabServer() = default;

  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<HandoffRunner> handoffs_;
  std::unique_ptr<CommunityRehabService> service_;
  std::unique_ptr<GrpcServer> grpc_server_;  // stopped before the rest goes
  // The daily refresh of time-driven statuses; uses the service: stopped first.
  std::unique_ptr<DailyTask> status_refresh_;
};

}  // namespace rehab
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMMUNITY_REHAB_COMMUNITY_REHAB_SERVER_H_
