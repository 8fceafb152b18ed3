// Community detox (社区戒毒) server: flags and environment to Options; nothing else.
#include <cstdio>

#include "common/log/log.h"
#include "common/server/server_flags.h"
#include "common/server/signals.h"
#include "services/community_detox/community_detox_server.h"

int main(int argc, char** argv) {
  pathway::BlockShutdownSignals();
  auto server_options = pathway::ServerOptionsFromFlagsAndEnv("community_detox", 50052, argc, argv);
  if (!server_options.ok()) {
    std::fprintf(stderr, "community_detox: %s\n", server_options.status().ToString().c_str());
    return 2;
  }
  pathway::log::SetMinLevel(server_options->log_level);
  pathway::detox::CommunityDetoxServer::Options options;
  options.server = *server_options;
  auto server = pathway::detox::CommunityDetoxServer::Start(options);
  if (!server.ok()) {
    pathway::log::Error("start_failed", {{"service", "community_detox"},
                                         {"error", server.status().ToString()}});
    return 1;
  }
  int sig = pathway::WaitForShutdownSignal();
  pathway::log::Info("signal", {{"service", "community_detox"}, {"signal", sig}});
  (*server)->Shutdown();
  return 0;
}
