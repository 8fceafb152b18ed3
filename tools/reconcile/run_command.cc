#include "tools/reconcile/run_command.h"

#include <algorithm>
#include <utility>

#include "common/log/log.h"
#include "tools/reconcile/report.h"

namespace pathway {
namespace reconcile {

int RunCommand(const ReconcileOptions& options, RedisCacheOptions redis, std::FILE* out) {
  // One pooled connection per concurrent writer, and a little headroom.
  redis.pool_size = std::max(redis.pool_size, options.write_concurrency + 2);
  absl::StatusOr<std::unique_ptr<RedisStatusCache>> cache = RedisStatusCache::Create(redis);
  if (!cache.ok()) {
    std::fprintf(stderr, "reconcile: %s\n", std::string(cache.status().message()).c_str());
    return kExitUsage;
  }
  if (absl::Status ping = (*cache)->Ping(); !ping.ok()) {
    // Without the cache there is nothing to reconcile against; every service fails.
    std::fprintf(stderr, "reconcile: status cache unreachable at %s:%d\n", redis.host.c_str(),
                 redis.port);
    return kExitServiceFailed;
  }
  absl::StatusOr<std::unique_ptr<Reconciler>> reconciler =
      Reconciler::Create(options, cache->get());
  if (!reconciler.ok()) {
    std::fprintf(stderr, "reconcile: %s\n", std::string(reconciler.status().message()).c_str());
    return kExitUsage;
  }
  absl::StatusOr<ReconcileResult> result = (*reconciler)->Run();
  if (!result.ok()) {
    std::fprintf(stderr, "reconcile: %s\n", std::string(result.status().message()).c_str());
    const absl::StatusCode code = result.status().code();
    return code == absl::StatusCode::kInvalidArgument ||
                   code == absl::StatusCode::kFailedPrecondition
               ? kExitUsage
               : kExitServiceFailed;
  }
  std::fputs(FormatSummary(result->report).c_str(), out);
  if (!result->report_path.empty()) std::fprintf(out, "report: %s\n", result->report_path.c_str());
  std::fflush(out);
  return result->exit_code;
}

}  // namespace reconcile
}  // namespace pathway
