// Compulsory isolation (强制隔离戒毒) server: flags and environment to Options; nothing else.
//
//   flag                       environment                          default
//   --facilities_file          PATHWAY_QZ_FACILITIES_FILE           built-in dev facilities
//   --police_stage_max_months  PATHWAY_QZ_POLICE_STAGE_MAX_MONTHS   6 (up to 12, 戒毒条例 Art 27)
// plus the shared server flags (common/server/server_flags.h). The test-only
// environment variable PATHWAY_TEST_CRASH_AT (common/outbox/handoff_runner.h) makes the
// process crash at a point of a hand-off; never set it in a deployment.
//
// The facilities file has one facility a line, "id,kind,division,name" with kind police
// or judicial; blank lines and lines starting with '#' are skipped.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "common/log/log.h"
#include "common/server/server_flags.h"
#include "common/server/signals.h"
#include "services/compulsory_isolation/compulsory_isolation_server.h"

ABSL_FLAG(std::string, facilities_file, "",
          "facility configuration, lines \"id,kind,division,name\" (env PATHWAY_QZ_FACILITIES_FILE)");
ABSL_FLAG(int, police_stage_max_months, 0,
          "longest police-facility stage in months, 6..12 (env PATHWAY_QZ_POLICE_STAGE_MAX_MONTHS)");

namespace {

// Local development: one police and one judicial facility in Guiyang.
constexpr char kDevFacilities[] =
    "gy-police-1,police,520102,Guiyang public security isolation facility\n"
    "gz-judicial-1,judicial,520113,Guizhou judicial isolation facility\n";

std::string FromFlagOrEnv(const std::string& flag, const char* env) {
  if (!flag.empty()) return flag;
  const char* v = std::getenv(env);
  return v == nullptr ? "" : v;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "compulsory_isolation: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  pathway::BlockShutdownSignals();
  auto server_options =
      pathway::ServerOptionsFromFlagsAndEnv("compulsory_isolation", 50053, argc, argv);
  if (!server_options.ok()) return Fail(server_options.status().ToString());
  pathway::log::SetMinLevel(server_options->log_level);
  pathway::isolation::CompulsoryIsolationServer::Options options;
  options.server = *server_options;

  std::string text = kDevFacilities;
  std::string path =
      FromFlagOrEnv(absl::GetFlag(FLAGS_facilities_file), "PATHWAY_QZ_FACILITIES_FILE");
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) return Fail("cannot read the facilities file");
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  auto facilities = pathway::isolation::ParseFacilities(text);
  if (!facilities.ok()) return Fail(facilities.status().ToString());
  options.isolation.facilities = *facilities;
  int months = absl::GetFlag(FLAGS_police_stage_max_months);
  if (months == 0) {
    std::string env = FromFlagOrEnv("", "PATHWAY_QZ_POLICE_STAGE_MAX_MONTHS");
    if (!env.empty() && !absl::SimpleAtoi(env, &months)) {
      return Fail("PATHWAY_QZ_POLICE_STAGE_MAX_MONTHS is not a number");
    }
  }
  if (months != 0) options.isolation.police_stage_max_months = months;
  if (absl::Status s = options.isolation.Validate(); !s.ok()) return Fail(s.ToString());
  // TEST-ONLY: tests/handoff crashes the binary at exact points of a hand-off.
  auto crash_at = pathway::ParseCrashAt(FromFlagOrEnv("", "PATHWAY_TEST_CRASH_AT"));
  if (!crash_at.ok()) return Fail(crash_at.status().ToString());
  options.handoffs.crash = *crash_at;

  auto server = pathway::isolation::CompulsoryIsolationServer::Start(options);
  if (!server.ok()) {
    pathway::log::Error("start_failed", {{"service", "compulsory_isolation"},
                                         {"error", server.status().ToString()}});
    return 1;
  }
  pathway::log::Info("facilities", {{"service", "compulsory_isolation"},
                                    {"count", options.isolation.facilities.size()},
                                    {"police_stage_max_months",
                                     options.isolation.police_stage_max_months}});
  int sig = pathway::WaitForShutdownSignal();
  pathway::log::Info("signal", {{"service", "compulsory_isolation"}, {"signal", sig}});
  (*server)->Shutdown();
  return 0;
}
