// Case registry (登记) server: flags and environment to Options; nothing else.
#include <cstdio>

#include "common/log/log.h"
#include "common/server/server_flags.h"
#include "common/server/signals.h"
#include "services/registry/registry_server.h"

int main(int argc, char** argv) {
  pathway::BlockShutdownSignals();
  auto server_options = pathway::ServerOptionsFromFlagsAndEnv("registry", 50051, argc, argv);
  if (!server_options.ok()) {
    std::fprintf(stderr, "registry: %s\n", server_options.status().ToString().c_str());
    return 2;
  }
  pathway::log::SetMinLevel(server_options->log_level);
  pathway::registry::RegistryServer::Options options;
  options.server = *server_options;
  auto server = pathway::registry::RegistryServer::Start(options);
  if (!server.ok()) {
    pathway::log::Error("start_failed", {{"service", "registry"},
                                         {"error", server.status().ToString()}});
    return 1;
  }
  int sig = pathway::WaitForShutdownSignal();
  pathway::log::Info("signal", {{"service", "registry"}, {"signal", sig}});
  (*server)->Shutdown();
  return 0;
}
