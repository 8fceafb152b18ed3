// Compulsory isolation (强制隔离戒毒) server: flags and environment to Options; nothing else.
#include <cstdio>

#include "common/log/log.h"
#include "common/server/server_flags.h"
#include "common/server/signals.h"
#include "services/compulsory_isolation/compulsory_isolation_server.h"

int main(int argc, char** argv) {
  pathway::BlockShutdownSignals();
  auto server_options = pathway::ServerOptionsFromFlagsAndEnv("compulsory_isolation", 50053, argc, argv);
  if (!server_options.ok()) {
    std::fprintf(stderr, "compulsory_isolation: %s\n", server_options.status().ToString().c_str());
    return 2;
  }
  pathway::log::SetMinLevel(server_options->log_level);
  pathway::isolation::CompulsoryIsolationServer::Options options;
  options.server = *server_options;
  auto server = pathway::isolation::CompulsoryIsolationServer::Start(options);
  if (!server.ok()) {
    pathway::log::Error("start_failed", {{"service", "compulsory_isolation"},
                                         {"error", server.status().ToString()}});
    return 1;
  }
  int sig = pathway::WaitForShutdownSignal();
  pathway::log::Info("signal", {{"service", "compulsory_isolation"}, {"signal", sig}});
  (*server)->Shutdown();
  return 0;
}
