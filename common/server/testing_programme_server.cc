#include "common/server/testing_programme_server.h"

#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/outbox/outbox.h"
#include "common/status/status_macros.h"

namespace pathway {

absl::StatusOr<std::unique_ptr<TestProgrammeServer>> TestProgrammeServer::Start(
    const Options& options) {
  ServerOptions so;
  so.service_name = options.service_name;
  so.port = options.port;
  so.data_dir = options.data_dir;
  so.database = options.database;
  so.token_key_file = absl::StrCat(options.data_dir, "/", options.service_name, ".key");
  so.tls.plaintext = true;  // a test server on loopback
  so.drain_timeout = absl::ZeroDuration();
  so.identity_provider = options.identity_provider;
  {
    std::ofstream key(so.token_key_file);
    key << options.token_key;
    if (!key) return absl::InternalError("cannot write the token key file");
  }
  std::vector<Migration> migrations = ProgramStatusMigrations();
  if (options.with_outbox) {
    for (Migration& m : OutboxMigrations()) migrations.push_back(std::move(m));
  }
  RuntimeOverrides overrides;
  overrides.clock = options.clock;
  overrides.cache = std::make_unique<InMemoryStatusCache>();
  std::unique_ptr<TestProgrammeServer> s(new TestProgrammeServer());
  ASSIGN_OR_RETURN(s->runtime_, ServiceRuntime::Open(so, migrations, std::move(overrides)));
  ASSIGN_OR_RETURN(s->server_, GrpcServer::Start(so, s->runtime_.get(), {}));
  return s;
}

TestProgrammeServer::~TestProgrammeServer() { Shutdown(); }

std::string TestProgrammeServer::address() const {
  return absl::StrCat("127.0.0.1:", server_->port());
}

absl::Status TestProgrammeServer::Seed(std::vector<ProgramStatusRecord>* records,
                                       absl::Time now) {
  return runtime_->store().Write([&](Transaction& tx) -> absl::Status {
    for (ProgramStatusRecord& r : *records) RETURN_IF_ERROR(SaveProgramStatus(tx, now, &r));
    return absl::OkStatus();
  });
}

void TestProgrammeServer::Shutdown() {
  if (server_ != nullptr) server_->Shutdown();
}

}  // namespace pathway
