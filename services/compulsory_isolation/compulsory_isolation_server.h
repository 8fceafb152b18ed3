// Starts and stops the compulsory isolation (强制隔离戒毒) server: its runtime (store,
// cache, auth, registry client), the community rehabilitation status client, the rules (IsolationLogic with the configured
// facilities) and the gRPC server with health and reflection.
//
//   CompulsoryIsolationServer::Options options;
//   options.server = ...;                                  // from main
//   options.isolation.facilities = {{"gy-police", v1::FACILITY_KIND_POLICE, "520102", "..."}};
//   ASSIGN_OR_RETURN(auto server, CompulsoryIsolationServer::Start(options));
//   ...
//   server->Shutdown();
//
// Thread-safe; the server owns everything it starts.
#ifndef PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVER_H_
#define PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/outbox/handoff_runner.h"
#include "common/server/daily_task.h"
#include "common/server/grpc_server.h"
#include "common/server/server_options.h"
#include "common/server/service_runtime.h"
#include "services/compulsory_isolation/compulsory_isolation_logic.h"
#include "services/compulsory_isolation/compulsory_isolation_service.h"
#include "services/compulsory_isolation/rehab_status_client.h"

namespace pathway {
namespace isolation {

// Every table of the service: the programme status, the isolation records and the
// outbox of hand-offs.
std::vector<Migration> CompulsoryIsolationMigrations();

class CompulsoryIsolationServer {
 public:
  struct Options {
    ServerOptions server;
    // Facilities (configuration, not data), police stage length, assessment practice.
    IsolationOptions isolation;
    // The outbox dispatcher delivering hand-offs (community detox, community
    // rehabilitation, registry). crash is for tests/handoff only.
    HandoffRunner::Options handoffs;
  };

  // INVALID_ARGUMENT for bad isolation options; otherwise as ServiceRuntime::Open and
  // GrpcServer::Start. `rehab` replaces the gRPC client of the community
  // rehabilitation service at options.server.rehab_address (e.g. a
  // FakeRehabStatusClient).
  static absl::StatusOr<std::unique_ptr<CompulsoryIsolationServer>> Start(
      const Options& options, RuntimeOverrides overrides = {},
      std::unique_ptr<RehabStatusClient> rehab = nullptr);

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
  CompulsoryIsolationServer() = default;

  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<HandoffRunner> handoffs_;
  std::unique_ptr<IsolationLogic> logic_;
  std::unique_ptr<RehabStatusClient> rehab_;
  std::unique_ptr<CompulsoryIsolationService> service_;
  std::unique_ptr<GrpcServer> grpc_server_;  // stopped before the rest goes
  // The daily refresh of time-driven statuses; uses the service: stopped first.
  std::unique_ptr<DailyTask> status_refresh_;
};

}  // namespace isolation
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_SERVER_H_
