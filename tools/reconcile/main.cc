// reconcile: the nightly batch job that repairs the Redis status cache from the
// programme services and reports drift, orphans, overdue deadlines and stuck
// hand-offs (tools/reconcile/reconciler.h). Flags and the environment only; a flag
// given on the command line wins over the environment.
//
//   reconcile --token_key_file=/etc/pathway/token.key --report_dir=/var/log/pathway
//             --checkpoint=/var/lib/pathway/reconcile.ckpt
//
// Exit codes: 0 done (drift repaired or not), 1 a service or the cache could not be
// reconciled, 2 usage error, 3 stopped early by --max_pages (rerun to resume).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/auth/secret_file.h"
#include "common/codec/date_text.h"
#include "common/log/log.h"
#include "common/tls/tls.h"
#include "tools/reconcile/reconciler.h"
#include "tools/reconcile/run_command.h"

// Empty string / -1 mean "not given": the environment or the default applies.
ABSL_FLAG(std::string, detox_addr, "", "Community detox [PATHWAY_DETOX_ADDR, 127.0.0.1:50052]");
ABSL_FLAG(std::string, isolation_addr, "",
          "Compulsory isolation [PATHWAY_ISOLATION_ADDR, 127.0.0.1:50053]");
ABSL_FLAG(std::string, rehab_addr, "",
          "Community rehabilitation [PATHWAY_REHAB_ADDR, 127.0.0.1:50054]");
ABSL_FLAG(std::string, placement_addr, "", "Placement [PATHWAY_PLACEMENT_ADDR, 127.0.0.1:50055]");
ABSL_FLAG(std::string, redis_host, "", "Redis host [PATHWAY_REDIS_HOST, default 127.0.0.1]");
ABSL_FLAG(int, redis_port, -1, "Redis port [PATHWAY_REDIS_PORT, default 6379]");
ABSL_FLAG(int, redis_timeout_ms, -1,
          "Redis connect and command timeout in ms [PATHWAY_REDIS_TIMEOUT_MS, default 2000]");
ABSL_FLAG(std::string, redis_password_file, "",
          "File holding the Redis password [PATHWAY_REDIS_PASSWORD_FILE]");
ABSL_FLAG(std::string, token_key_file, "",
          "Token signing key; a batch token is minted from it [PATHWAY_TOKEN_KEY_FILE, required]");
ABSL_FLAG(std::string, report_dir, "",
          "Directory for the JSON report [PATHWAY_RECONCILE_REPORT_DIR, default .]");
ABSL_FLAG(bool, dry_run, false, "Compute and report only; write nothing to Redis");
ABSL_FLAG(std::string, checkpoint, "",
          "Checkpoint file: a rerun with the same file resumes [PATHWAY_RECONCILE_CHECKPOINT]");
ABSL_FLAG(std::string, as_of, "", "Date deadlines are judged against, YYYY-MM-DD [today, CST]");
ABSL_FLAG(int, page_size, 5000, "Statuses per stream message (1 to 5000)");
ABSL_FLAG(int, write_concurrency, 8, "Concurrent Redis reads/writes (1 to 64)");
ABSL_FLAG(int, call_timeout_s, 10, "Deadline of each unary call, seconds");
ABSL_FLAG(int, page_timeout_s, 30, "Cancel a stream that delivers nothing for this long, seconds");
ABSL_FLAG(int, stream_timeout_s, 7200, "Deadline of each whole stream, seconds");
ABSL_FLAG(int, stuck_after_s, 3600, "A pending hand-off older than this is stuck, seconds");
ABSL_FLAG(int64_t, max_pages, 0, "Stop after this many pages, keeping the checkpoint (0: no limit)");
ABSL_FLAG(std::string, progress, "auto", "auto (a bar on a terminal, else log lines), bar, log, none");
ABSL_FLAG(int, log_every_pages, 100, "Without a terminal: a progress line every N pages");
ABSL_FLAG(std::string, log_level, "", "debug, info, warning or error [PATHWAY_LOG_LEVEL, info]");

namespace {

using pathway::reconcile::kExitUsage;

std::string Setting(const std::string& flag, const char* env, const std::string& dflt) {
  if (!flag.empty()) return flag;
  const char* v = std::getenv(env);
  if (v != nullptr && *v != '\0') return v;
  return dflt;
}

bool IntSetting(int flag, const char* env, int dflt, int* out) {
  if (flag >= 0) {
    *out = flag;
    return true;
  }
  const char* v = std::getenv(env);
  if (v == nullptr || *v == '\0') {
    *out = dflt;
    return true;
  }
  return absl::SimpleAtoi(v, out) && *out >= 0;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "reconcile: %s (see --help)\n", message.c_str());
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Pathway nightly reconciler: repairs the Redis status cache from the programme "
      "services and reports drift. Flags override PATHWAY_* variables.");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) return Usage(absl::StrCat("unexpected argument ", rest[1]));

  namespace rc = pathway::reconcile;
  pathway::log::Level level = pathway::log::Level::kInfo;
  if (!pathway::log::ParseLevel(Setting(absl::GetFlag(FLAGS_log_level), "PATHWAY_LOG_LEVEL",
                                        "info"),
                                &level)) {
    return Usage("bad --log_level");
  }
  pathway::log::SetMinLevel(level);

  rc::ReconcileOptions o;
  o.services = rc::DefaultServiceTargets();
  o.services[0].address =
      Setting(absl::GetFlag(FLAGS_detox_addr), "PATHWAY_DETOX_ADDR", o.services[0].address);
  o.services[1].address = Setting(absl::GetFlag(FLAGS_isolation_addr), "PATHWAY_ISOLATION_ADDR",
                                  o.services[1].address);
  o.services[2].address =
      Setting(absl::GetFlag(FLAGS_rehab_addr), "PATHWAY_REHAB_ADDR", o.services[2].address);
  o.services[3].address = Setting(absl::GetFlag(FLAGS_placement_addr), "PATHWAY_PLACEMENT_ADDR",
                                  o.services[3].address);
  o.token_key_file = Setting(absl::GetFlag(FLAGS_token_key_file), "PATHWAY_TOKEN_KEY_FILE", "");
  if (o.token_key_file.empty()) return Usage("--token_key_file is required");
  o.tls = pathway::ClientTlsFromEnvironment();
  o.report_dir = Setting(absl::GetFlag(FLAGS_report_dir), "PATHWAY_RECONCILE_REPORT_DIR", ".");
  o.checkpoint_path =
      Setting(absl::GetFlag(FLAGS_checkpoint), "PATHWAY_RECONCILE_CHECKPOINT", "");
  o.dry_run = absl::GetFlag(FLAGS_dry_run);
  if (const std::string as_of = absl::GetFlag(FLAGS_as_of); !as_of.empty()) {
    o.as_of = pathway::ParseDayText(as_of);
    if (!o.as_of.has_value()) return Usage("--as_of must be YYYY-MM-DD");
  }
  o.page_size = absl::GetFlag(FLAGS_page_size);
  o.write_concurrency = absl::GetFlag(FLAGS_write_concurrency);
  o.call_timeout = absl::Seconds(absl::GetFlag(FLAGS_call_timeout_s));
  o.page_timeout = absl::Seconds(absl::GetFlag(FLAGS_page_timeout_s));
  o.stream_timeout = absl::Seconds(absl::GetFlag(FLAGS_stream_timeout_s));
  o.stuck_after = absl::Seconds(absl::GetFlag(FLAGS_stuck_after_s));
  o.max_pages = absl::GetFlag(FLAGS_max_pages);
  o.log_every_pages = absl::GetFlag(FLAGS_log_every_pages);
  const std::string progress = absl::GetFlag(FLAGS_progress);
  if (progress == "auto") {
    o.progress = isatty(STDERR_FILENO) ? rc::Progress::Mode::kBar : rc::Progress::Mode::kLog;
  } else if (progress == "bar") {
    o.progress = rc::Progress::Mode::kBar;
  } else if (progress == "log") {
    o.progress = rc::Progress::Mode::kLog;
  } else if (progress == "none") {
    o.progress = rc::Progress::Mode::kNone;
  } else {
    return Usage("--progress must be auto, bar, log or none");
  }
  if (absl::Status valid = o.Validate(); !valid.ok()) {
    return Usage(std::string(valid.message()));
  }

  pathway::RedisCacheOptions redis;
  redis.host = Setting(absl::GetFlag(FLAGS_redis_host), "PATHWAY_REDIS_HOST", "127.0.0.1");
  int port = 0;
  int timeout_ms = 0;
  if (!IntSetting(absl::GetFlag(FLAGS_redis_port), "PATHWAY_REDIS_PORT", 6379, &port)) {
    return Usage("bad PATHWAY_REDIS_PORT");
  }
  if (!IntSetting(absl::GetFlag(FLAGS_redis_timeout_ms), "PATHWAY_REDIS_TIMEOUT_MS", 2000,
                  &timeout_ms) ||
      timeout_ms == 0) {
    return Usage("bad redis timeout");
  }
  redis.port = port;
  // A batch job waits longer than a request path would.
  redis.connect_timeout = absl::Milliseconds(timeout_ms);
  redis.command_timeout = absl::Milliseconds(timeout_ms);
  const std::string password_file =
      Setting(absl::GetFlag(FLAGS_redis_password_file), "PATHWAY_REDIS_PASSWORD_FILE", "");
  if (!password_file.empty()) {
    absl::StatusOr<std::string> password =
        pathway::ReadPasswordFile(password_file, "Redis password file");
    if (!password.ok()) return Usage(std::string(password.status().message()));
    redis.password = *std::move(password);
  }
  return rc::RunCommand(o, redis, stdout);
}
