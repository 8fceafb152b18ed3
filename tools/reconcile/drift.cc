#include "tools/reconcile/drift.h"

#include <cstdint>

#include "common/codec/proto_date.h"

namespace pathway {
namespace reconcile {
namespace {

std::optional<absl::CivilDay> Day(const common::v1::Date& d) {
  if (!IsDateSet(d)) return std::nullopt;
  return DayOf(d);
}

}  // namespace

absl::string_view DriftKindName(DriftKind kind) {
  switch (kind) {
    case DriftKind::kInSync: return "in_sync";
    case DriftKind::kMissing: return "missing";
    case DriftKind::kStale: return "stale";
    case DriftKind::kContentMismatch: return "content_mismatch";
    case DriftKind::kCacheAhead: return "cache_ahead";
  }
  return "unknown";
}

ProgrammeStatus ToCacheStatus(const common::v1::ProgramStatus& status) {
  ProgrammeStatus s;
  s.state = status.state();
  s.version = status.version();
  if (status.has_began()) s.began = Day(status.began());
  if (status.has_next_deadline()) {
    s.next_deadline_kind = status.next_deadline().kind();
    s.next_deadline = Day(status.next_deadline().due());
  }
  // The cache keeps written_at to the millisecond, truncated toward the past.
  int64_t ms = status.updated_at().seconds() * 1000 + status.updated_at().nanos() / 1000000;
  s.written_at = absl::FromUnixMillis(ms);
  return s;
}

DriftKind ClassifyDrift(const ProgrammeStatus& service, const ProgrammeStatus* cached) {
  if (cached == nullptr) return DriftKind::kMissing;
  if (cached->version < service.version) return DriftKind::kStale;
  if (cached->version > service.version) return DriftKind::kCacheAhead;
  return *cached == service ? DriftKind::kInSync : DriftKind::kContentMismatch;
}

}  // namespace reconcile
}  // namespace pathway
