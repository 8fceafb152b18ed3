// Case registry (登记) server: flags and environment to Options; nothing else.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/log/log.h"
#include "common/server/server_flags.h"
#include "common/server/signals.h"
#include "services/registry/registry_server.h"

ABSL_FLAG(std::string, pii_key_file, "",
          "File holding the personal-data master key [PATHWAY_PII_KEY_FILE, required]");
ABSL_FLAG(std::string, risk_grades, "",
          "Comma-separated risk grade codes, most severe first "
          "[PATHWAY_RISK_GRADES, default high,medium,low]");
ABSL_FLAG(std::string, default_risk_grade, "",
          "Grade given at registration [PATHWAY_DEFAULT_RISK_GRADE, default medium]");

ABSL_FLAG(std::string, sync_retention_days, "",
          "Days a SyncCases cursor stays resumable; the change log is pruned past it "
          "[PATHWAY_SYNC_RETENTION_DAYS, default 30]");

namespace {

std::string Setting(const std::string& flag, const char* env) {
  if (!flag.empty()) return flag;
  const char* v = std::getenv(env);
  return v != nullptr ? v : "";
}

}  // namespace

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
  options.pii_key_file = Setting(absl::GetFlag(FLAGS_pii_key_file), "PATHWAY_PII_KEY_FILE");
  std::string grades = Setting(absl::GetFlag(FLAGS_risk_grades), "PATHWAY_RISK_GRADES");
  if (!grades.empty()) {
    options.config.risk_grades = absl::StrSplit(grades, ',', absl::SkipEmpty());
  }
  std::string default_grade =
      Setting(absl::GetFlag(FLAGS_default_risk_grade), "PATHWAY_DEFAULT_RISK_GRADE");
  if (!default_grade.empty()) options.config.default_risk_grade = default_grade;
  std::string retention =
      Setting(absl::GetFlag(FLAGS_sync_retention_days), "PATHWAY_SYNC_RETENTION_DAYS");
  if (!retention.empty()) {
    int days = 0;
    if (!absl::SimpleAtoi(retention, &days) || days < 1) {
      std::fprintf(stderr, "registry: sync_retention_days must be a whole number >= 1\n");
      return 2;
    }
    options.sync_retention = absl::Hours(24) * days;
  }
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
