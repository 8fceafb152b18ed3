// The nightly reconciler (DESIGN.md §4): Redis is a cache, never the record,
// so every night each programme service's statuses are streamed
// (pathway.common.v1.Operations/ListProgramStatuses) and compared with the cache in
// pipelined batches; what differs is repaired with versioned writes that never roll
// the cache back; cache entries that no service owns are removed; overdue deadlines
// are counted per county; hand-offs stuck in each service's outbox are listed. The
// result is a Report (reconcile_report.proto) written as JSON.
//
//   ReconcileOptions options;                 // defaults: the four dev services
//   options.token_key_file = "/etc/pathway/token.key";
//   options.report_dir = "/var/log/pathway";
//   options.checkpoint_path = "/var/lib/pathway/reconcile.ckpt";
//   ASSIGN_OR_RETURN(auto cache, RedisStatusCache::Create(redis_options));
//   ASSIGN_OR_RETURN(auto reconciler, Reconciler::Create(options, cache.get()));
//   ASSIGN_OR_RETURN(ReconcileResult result, reconciler->Run());
//   return result.exit_code;                 // 0 done, 1 a service failed, 3 stopped early
//
// Repairs, per (case, programme):
//   not cached, or cached with a lower version   -> Put (versioned)
//   same version, different content             -> Remove(max_version = v), then Put
//   cached with a HIGHER version                -> untouched; reported as an anomaly
//   cached, but no service owns it              -> Remove(max_version = cached version)
// A concurrent write by a service always wins: every write is version-checked in Redis.
//
// Resuming: with a checkpoint path, the report-so-far is written there (atomically)
// after every page. A rerun with the same path continues each service after its last
// fully processed case (earlier cases are streamed again only to rebuild the set of
// owned cases, without being compared or counted again), so every case is processed
// exactly once across runs. A finished run (exit 0) deletes the checkpoint.
//
// Ownership: the cache and the extensions are not owned and must outlive the
// reconciler. A Reconciler runs once at a time; not thread-safe.
#ifndef PATHWAY_TOOLS_RECONCILE_RECONCILER_H_
#define PATHWAY_TOOLS_RECONCILE_RECONCILER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/token.h"
#include "common/cache/status_cache.h"
#include "common/clock/clock.h"
#include "common/tls/tls.h"
#include "tools/reconcile/progress.h"
#include "tools/reconcile/reconcile_report.pb.h"

namespace pathway {
namespace reconcile {

// Exit codes of the reconcile binary.
inline constexpr int kExitDone = 0;
inline constexpr int kExitServiceFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitStoppedEarly = 3;

struct ServiceTarget {
  std::string service;  // "community_detox", ...
  Programme programme;
  std::string address;  // host:port
};

// The four programme services at their development addresses (README.md).
std::vector<ServiceTarget> DefaultServiceTargets();

// An additional comparison run after the services and the orphan pass, reported
// under its name. This is where the labor bureau reconciliation (placements'
// retention checkpoints against the bureau's employment registrations) plugs in.
class ReconcileExtension {
 public:
  virtual ~ReconcileExtension() = default;
  virtual std::string name() const = 0;
  // Fills `report` (outcome, counters); a non-OK status marks the run failed.
  virtual absl::Status Run(absl::CivilDay as_of, bool dry_run, ExtensionReport* report) = 0;
};

struct ReconcileOptions {
  std::vector<ServiceTarget> services = DefaultServiceTargets();
  // The deployment's token signing key; the reconciler mints its own batch token
  // (role batch, national jurisdiction).
  std::string token_key_file;
  // How the services are reached (common/tls/tls.h); main reads PATHWAY_TLS_*.
  TlsOptions tls = PlaintextTls();
  // Where the JSON report is written (reconcile-<start time>.json); empty: none.
  std::string report_dir;
  // Compute and report only: nothing is written to Redis.
  bool dry_run = false;
  // Checkpoint file; empty: not resumable.
  std::string checkpoint_path;
  // The date deadlines are judged against; nullopt: today in China Standard Time.
  std::optional<absl::CivilDay> as_of;

  // Statuses per stream message (1 to 5000).
  int page_size = 5000;
  // Concurrent cache writes while repairing (1 to 64); the Redis pool should hold
  // at least this many connections.
  int write_concurrency = 8;
  // Deadline of each unary call (GetOutboxSummary) and of each whole stream; a
  // stream that delivers nothing for page_timeout is cancelled as stalled.
  absl::Duration call_timeout = absl::Seconds(10);
  absl::Duration stream_timeout = absl::Hours(2);
  absl::Duration page_timeout = absl::Seconds(30);
  // A broken stream is reopened where it stopped this many times in a row.
  int stream_retries = 2;
  // A pending hand-off older than this is stuck.
  absl::Duration stuck_after = absl::Hours(1);
  // Cache entries written less than this before their service's stream began are
  // never treated as orphans (clock skew between hosts).
  absl::Duration orphan_grace = absl::Minutes(5);
  // Stop (as if killed, leaving the checkpoint) after this many pages fully
  // processed in this run; 0: no limit.
  int64_t max_pages = 0;
  // Checkpoint after every this many pages (1: every page).
  int checkpoint_every_pages = 1;
  Progress::Mode progress = Progress::Mode::kNone;
  int log_every_pages = 100;
  // Not owned; nullptr = the real clock.
  const Clock* clock = nullptr;
  // Not owned; run in order after the orphan pass.
  std::vector<ReconcileExtension*> extensions;

  // INVALID_ARGUMENT naming the first bad field.
  absl::Status Validate() const;
};

struct ReconcileResult {
  Report report;
  int exit_code = kExitDone;
  std::string report_path;  // empty when no report_dir
};

class Reconciler {
 public:
  // Validates the options and loads the token key (INVALID_ARGUMENT /
  // NOT_FOUND / FAILED_PRECONDITION: usage errors). `cache`: not owned.
  static absl::StatusOr<std::unique_ptr<Reconciler>> Create(const ReconcileOptions& options,
                                                            StatusCache* cache);
  ~Reconciler();

  // Reconciles every service, then the orphans, then the extensions. Trouble with
  // a service or the cache is reported in the result (exit code 1), never returned
  // as an error; errors are usage problems (a checkpoint of another run or an
  // unreadable one: exit code 2) or an unwritable report/checkpoint.
  absl::StatusOr<ReconcileResult> Run();

 private:
  class Impl;
  explicit Reconciler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace reconcile
}  // namespace pathway

#endif  // PATHWAY_TOOLS_RECONCILE_RECONCILER_H_
