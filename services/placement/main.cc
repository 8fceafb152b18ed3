// Sunshine placement (阳光工程) server: flags and environment to Options; nothing else.
//
// Beside the shared server flags (common/server/server_flags.h):
//   --subsidy_tiers_file  PATHWAY_PLACEMENT_SUBSIDY_TIERS_FILE  (none: no tiers, no claims)
// one tier per line, "code|description|min_contract_months|retained_months|amount_fen".
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "common/log/log.h"
#include "common/server/server_flags.h"
#include "common/server/signals.h"
#include "services/placement/placement_rules.h"
#include "services/placement/placement_server.h"

ABSL_FLAG(std::string, subsidy_tiers_file, "",
          "Subsidy tier configuration [PATHWAY_PLACEMENT_SUBSIDY_TIERS_FILE]");

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
  std::string tiers_file = absl::GetFlag(FLAGS_subsidy_tiers_file);
  if (tiers_file.empty()) {
    const char* env = std::getenv("PATHWAY_PLACEMENT_SUBSIDY_TIERS_FILE");
    if (env != nullptr) tiers_file = env;
  }
  if (!tiers_file.empty()) {
    std::ifstream in(tiers_file);
    if (!in) {
      std::fprintf(stderr, "placement: cannot read --subsidy_tiers_file %s\n", tiers_file.c_str());
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto tiers = pathway::placement::ParseSubsidyTiers(text.str());
    if (!tiers.ok()) {
      std::fprintf(stderr, "placement: %s\n", tiers.status().ToString().c_str());
      return 2;
    }
    options.subsidy_tiers = *tiers;
  }
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
