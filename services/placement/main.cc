// Sunshine placement (阳光工程) server: flags and environment to Options; nothing else.
#include <cstdio>

#include "common/log/log.h"
#include "common/server/server_flags.h"
#include "common/server/signals.h"
#include "services/placement/placement_server.h"

int main(int argc, char** argv) {
  pathway::BlockShutdownSignals();
  auto server_options = pathway::ServerOptionsFromFlagsAndEnv("placement", 50055, argc, argv);
  if (!server_options.ok()) {
    std::fprintf(stderr, "placement: %s\n", server_options.status().ToString().c_str());
    return 2;
  }
  pathway::log::SetMinLevel(server_options->log_level);
  pathway::placement::PlacementServer::Options options;
  options.server = *server_options;
  auto server = pathway::placement::PlacementServer::Start(options);
  if (!server.ok()) {
    pathway::log::Error("start_failed", {{"service", "placement"},
                                         {"error", server.status().ToString()}});
    return 1;
  }
  int sig = pathway::WaitForShutdownSignal();
  pathway::log::Info("signal", {{"service", "placement"}, {"signal", sig}});
  (*server)->Shutdown();
  return 0;
}
