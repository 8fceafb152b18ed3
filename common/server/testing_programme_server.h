// Test fixture: a minimal Pathway server over real gRPC (loopback, port 0) with a
// real store holding the program_status table (and, optionally, the outbox),
// an in-memory status cache and no service of its own: GrpcServer still registers
// pathway.common.v1.Operations, which is what reconciler and operations tests call.
//
//   TestProgrammeServer::Options o;
//   o.service_name = "community_detox";   // decides the Programme (operations_service.h)
//   o.data_dir = dir.path();
//   o.database = TestDatabaseUriOrDie("detox");  // keep it to restart on the same data
//   o.token_key = kKey;
//   ASSIGN_OR_RETURN(auto server, TestProgrammeServer::Start(o));
//   RETURN_IF_ERROR(server->Seed(records, absl::Now()));   // one transaction
//   ... call server->address() ...
//
// Owns its runtime and server; Shutdown (or the destructor) stops them. Not
// thread-safe to drive; the server itself serves any thread.
#ifndef PATHWAY_COMMON_SERVER_TESTING_PROGRAMME_SERVER_H_
#define PATHWAY_COMMON_SERVER_TESTING_PROGRAMME_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/program_status/program_status.h"
#include "common/server/grpc_server.h"
#include "common/server/service_runtime.h"

namespace pathway {

class TestProgrammeServer {
 public:
  struct Options {
    std::string service_name;  // e.g. "community_detox", or "registry" (no programme)
    std::string data_dir;      // must exist; holds the key files (and <service_name>.db)
    // ServerOptions::database: "" for SQLite in data_dir, or a postgresql:// URI
    // (common/store/testing_store.h: TestDatabaseUriOrDie).
    std::string database;
    std::string token_key;     // at least 32 bytes
    bool with_outbox = false;  // also migrate the outbox table
    int port = 0;              // 0 = any free port
    const Clock* clock = nullptr;  // not owned; nullptr = the real clock
    // ServerOptions::identity_provider: empty jwks_file for shared-key tokens only.
    JwksVerifierOptions identity_provider;
  };

  static absl::StatusOr<std::unique_ptr<TestProgrammeServer>> Start(const Options& options);
  ~TestProgrammeServer();

  int port() const { return server_->port(); }
  std::string address() const;
  ServiceRuntime& runtime() { return *runtime_; }

  // Saves every record (SaveProgramStatus: versions grow per case) in one
  // transaction at `now`; the records get their versions and updated_at.
  absl::Status Seed(std::vector<ProgramStatusRecord>* records, absl::Time now);

  // Stops the server (no drain); idempotent.
  void Shutdown();

 private:
  TestProgrammeServer() = default;

  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<GrpcServer> server_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_TESTING_PROGRAMME_SERVER_H_
