// How one programme status from its owning service compares with the status cache,
// and what the reconciler may do about it (DESIGN.md §4: versioned writes only; the
// cache never rolls back).
//
//   ProgrammeStatus want = ToCacheStatus(owned.status());
//   switch (ClassifyDrift(want, cached_or_null)) {
//     case DriftKind::kMissing: case DriftKind::kStale:    cache.Put(...); break;
//     case DriftKind::kContentMismatch: cache.Remove(id, p, want.version); cache.Put(...);
//     case DriftKind::kCacheAhead: report, never touch;
//     case DriftKind::kInSync: nothing;
//   }
//
// Plain functions; thread-safe.
#ifndef PATHWAY_TOOLS_RECONCILE_DRIFT_H_
#define PATHWAY_TOOLS_RECONCILE_DRIFT_H_

#include "absl/strings/string_view.h"
#include "common/cache/status_cache.h"
#include "pathway/common/v1/common.pb.h"

namespace pathway {
namespace reconcile {

enum class DriftKind {
  kInSync,
  kMissing,          // no cached entry
  kStale,            // cached version lower than the service's
  kContentMismatch,  // same version, different content
  kCacheAhead,       // cached version higher than the service's: an anomaly
};

absl::string_view DriftKindName(DriftKind kind);

// The cache entry the owning service would publish for `status` (as
// PublishProgramStatus does): written_at is updated_at kept to the millisecond.
ProgrammeStatus ToCacheStatus(const common::v1::ProgramStatus& status);

// `cached` is null when the cache holds nothing for the case and programme.
DriftKind ClassifyDrift(const ProgrammeStatus& service, const ProgrammeStatus* cached);

}  // namespace reconcile
}  // namespace pathway

#endif  // PATHWAY_TOOLS_RECONCILE_DRIFT_H_
