// What this binary was built from, generated at build time from the git checkout
// (build_info.cmake): the version is `git describe --tags --always --dirty`, the
// commit `git rev-parse HEAD`; "unknown" for a build outside a git checkout.
// Exposed as pathway_build_info{version,commit} (server_metrics.h).
#ifndef PATHWAY_COMMON_METRICS_BUILD_INFO_H_
#define PATHWAY_COMMON_METRICS_BUILD_INFO_H_

namespace pathway {

const char* BuildVersion();
const char* BuildCommit();

}  // namespace pathway

#endif  // PATHWAY_COMMON_METRICS_BUILD_INFO_H_
