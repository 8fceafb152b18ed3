// What the reconcile binary does once main has turned flags and the environment into
// options: connect the Redis status cache, run the Reconciler, print the summary on
// stdout (and where the report went), and return the process exit code
// (reconciler.h: 0 done, 1 a service or the cache could not be reconciled, 2 usage,
// 3 stopped early by max_pages).
//
//   return reconcile::RunCommand(options, redis_options, stdout);
//
// `out` is not owned. Not thread-safe (one run per process).
#ifndef PATHWAY_TOOLS_RECONCILE_RUN_COMMAND_H_
#define PATHWAY_TOOLS_RECONCILE_RUN_COMMAND_H_

#include <cstdio>

#include "common/cache/redis_status_cache.h"
#include "tools/reconcile/reconciler.h"

namespace pathway {
namespace reconcile {

int RunCommand(const ReconcileOptions& options, RedisCacheOptions redis, std::FILE* out);

}  // namespace reconcile
}  // namespace pathway

#endif  // PATHWAY_TOOLS_RECONCILE_RUN_COMMAND_H_
