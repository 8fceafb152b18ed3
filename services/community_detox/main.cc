// Community detox (社区戒毒) server: flags and environment to Options; nothing else.
// Besides the shared server flags (common/server/server_flags.h), the test-only
// environment variable PATHWAY_TEST_CRASH_AT (common/outbox/handoff_runner.h) makes the
// process crash at a point of a hand-off; never set it in a deployment.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "common/log/log.h"
#include "common/server/server_flags.h"
#include "common/server/signals.h"
#include "services/supervision/policy_file.h"
#include "services/community_detox/community_detox_server.h"

ABSL_FLAG(std::string, policy_file, "",
          "regional policy of the programme (deploy/config/supervision.policy); "
          "env PATHWAY_POLICY_FILE");

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
  auto policy = pathway::supervision::PolicyFromSetting(absl::GetFlag(FLAGS_policy_file),
                                                        pathway::supervision::CommunityDetoxPolicy());
  if (!policy.ok()) {
    std::fprintf(stderr, "community_detox: %s\n", policy.status().ToString().c_str());
    return 2;
  }
  options.policy = *std::move(policy);
  // TEST-ONLY: tests/handoff crashes the binary at exact points of a hand-off.
  const char* crash = std::getenv("PATHWAY_TEST_CRASH_AT");
  auto crash_at = pathway::ParseCrashAt(crash == nullptr ? "" : crash);
  if (!crash_at.ok()) {
    std::fprintf(stderr, "community_detox: PATHWAY_TEST_CRASH_AT: %s\n",
                 crash_at.status().ToString().c_str());
    return 2;
  }
  options.handoffs.crash = *crash_at;
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
