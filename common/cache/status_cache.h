// StatusCache: the per-case programme status cache (DESIGN.md §4). After its
// transaction commits, each service writes its programme's status for the
// case; readers take every programme of a case in one round trip and fall back
// to the owning service over gRPC when an entry is missing or the cache is
// unreachable. The cache is never the record: any error from it means "ask the
// owning service", never "fail the request".
//
//   ProgrammeStatus status;
//   status.state = "ACTIVE";
//   status.version = record.version();        // grows with every change
//   status.began = absl::CivilDay(2026, 1, 10);
//   status.written_at = clock->Now();
//   absl::StatusOr<bool> written =
//       cache->Put(case_id, Programme::kCommunityRehab, status);
//   if (!written.ok()) log::Warning("status_cache_put_failed", {...});
//
//   absl::StatusOr<CaseStatusEntries> entries = cache->Get(case_id);
//   if (!entries.ok() || !entries->count(Programme::kCommunityRehab)) {
//     ... ask the rehab service, then Put what it says ...
//   }
//
// Writes carry a per-programme version that only grows; a write whose version
// is not newer than the cached one is ignored, so retried or out-of-order
// writes never roll the cache back. Nothing personal is ever cached: no name,
// id number, address or test result; only state codes, dates and versions.
//
// Implementations: RedisStatusCache (redis_status_cache.h) and
// InMemoryStatusCache (in_memory_status_cache.h, for tests and local runs).
// Implementations are thread-safe. Callers own the cache they create.
//
// This header also holds the value codec shared by implementations (and by
// tools that read Redis directly). The cached value of one programme is
//   "<version>|<state>|<began YYYYMMDD or empty>|<deadline kind>|
//    <deadline YYYYMMDD or empty>|<written_at, unix milliseconds>"
// e.g. "7|ACTIVE|20260110|REPORT|20260201|1768003200123", stored as field
// ProgrammeField(p) of the hash "<prefix><case_id>". written_at is kept to the
// millisecond (truncated toward the past).
#ifndef PATHWAY_COMMON_CACHE_STATUS_CACHE_H_
#define PATHWAY_COMMON_CACHE_STATUS_CACHE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/codec/programme.h"

namespace pathway {

// One programme's status for one case, as cached.
struct ProgrammeStatus {
  // Short state code from the owning service, e.g. "ACTIVE": 1 to 64 of
  // [A-Z0-9_]. Required.
  std::string state;
  // Per-programme version; only grows. Must be > 0.
  int64_t version = 0;
  // The date the current state began.
  std::optional<absl::CivilDay> began;
  // Kind of the next deadline, e.g. "REPORT": 0 to 64 of [A-Z0-9_]. Must be
  // empty when there is no next_deadline.
  std::string next_deadline_kind;
  std::optional<absl::CivilDay> next_deadline;
  // When the owning service wrote it (freshness shown to readers). Years 1 to
  // 9999; kept to the millisecond.
  absl::Time written_at;
};

bool operator==(const ProgrammeStatus& a, const ProgrammeStatus& b);
inline bool operator!=(const ProgrammeStatus& a, const ProgrammeStatus& b) {
  return !(a == b);
}

using CaseStatusEntries = std::map<Programme, ProgrammeStatus>;

class StatusCache {
 public:
  // Limits shared by all implementations.
  static constexpr int kMaxCaseIdLength = 128;
  static constexpr int kMaxCodeLength = 64;
  static constexpr int kMaxGetManyCases = 1000;
  static constexpr int kMaxScanCount = 10000;

  virtual ~StatusCache() = default;

  // Writes `status` unless the cache already holds a version >= status.version
  // for that case and programme (atomically). Returns true if written, false
  // if it was stale and ignored. A cached value whose version cannot be read
  // is overwritten.
  // INVALID_ARGUMENT for a bad case id or status; UNAVAILABLE when the cache
  // cannot be reached or does not answer in time.
  virtual absl::StatusOr<bool> Put(absl::string_view case_id,
                                   Programme programme,
                                   const ProgrammeStatus& status) = 0;

  // Every programme entry of one case in one round trip. Empty map when the
  // case is not cached. Corrupt entries are skipped (and logged).
  // INVALID_ARGUMENT for a bad case id; UNAVAILABLE as for Put.
  virtual absl::StatusOr<CaseStatusEntries> Get(absl::string_view case_id) = 0;

  // Many cases in one round trip, results in input order (an empty map for a
  // case not cached; duplicates allowed). At most kMaxGetManyCases ids.
  // INVALID_ARGUMENT if any id is bad or there are too many; UNAVAILABLE as
  // for Put.
  virtual absl::StatusOr<std::vector<CaseStatusEntries>> GetMany(
      const std::vector<std::string>& case_ids) = 0;

  // Removes the entry only if its cached version is <= max_version, so a
  // newer concurrent write survives. An entry whose version cannot be read is
  // always removed.
  // Returns true if an entry was removed. INVALID_ARGUMENT for a bad case id
  // or a negative max_version; UNAVAILABLE as for Put.
  virtual absl::StatusOr<bool> Remove(absl::string_view case_id,
                                      Programme programme,
                                      int64_t max_version) = 0;

  // Iterates cached case ids. Pass cursor "0" to start and each returned
  // next_cursor after that (cursors are otherwise opaque and specific to the
  // implementation); a returned "0" ends the iteration. `count` (1 to
  // kMaxScanCount) is a hint for the page size. Every case cached for the
  // whole iteration is returned at least once; one may be returned twice.
  // INVALID_ARGUMENT for a bad cursor or count; UNAVAILABLE as for Put.
  struct ScanPage {
    std::string next_cursor;
    std::vector<std::string> case_ids;
  };
  virtual absl::StatusOr<ScanPage> Scan(absl::string_view cursor,
                                        int count) = 0;

  // Batched writes, for callers that write many entries at once (the nightly
  // reconciler). Each entry is applied exactly as Put / Remove would apply it
  // (the same version rule, the same script in Redis), in one round trip;
  // results are in input order (true: written / removed). Entries are
  // independent: the batch is not atomic, and after an UNAVAILABLE some
  // entries may have been applied (every entry is idempotent, so the whole
  // batch may be retried). At most kMaxWriteManyEntries entries; an empty
  // batch is OK and returns nothing.
  // INVALID_ARGUMENT if there are too many entries or any entry is bad
  // (checked before anything is written; the message gives its position);
  // UNAVAILABLE as for Put.
  //
  // The defaults call Put / Remove once per entry; implementations override
  // them with one round trip.
  static constexpr int kMaxWriteManyEntries = 1000;
  struct PutEntry {
    std::string case_id;
    Programme programme = Programme::kCommunityDetox;
    ProgrammeStatus status;
  };
  virtual absl::StatusOr<std::vector<bool>> PutMany(
      const std::vector<PutEntry>& entries);
  struct RemoveEntry {
    std::string case_id;
    Programme programme = Programme::kCommunityDetox;
    int64_t max_version = 0;
  };
  virtual absl::StatusOr<std::vector<bool>> RemoveMany(
      const std::vector<RemoveEntry>& entries);

  // A cheap reachability probe. Updates Healthy(). UNAVAILABLE on failure.
  virtual absl::Status Ping() = 0;

  // Last known reachability: false after a connect or command failure, true
  // again after a success. True before the first call.
  virtual bool Healthy() const = 0;
};

// OK if every entry of a PutMany / RemoveMany batch is valid and there are at
// most kMaxWriteManyEntries; INVALID_ARGUMENT naming the first bad position.
absl::Status ValidatePutMany(const std::vector<StatusCache::PutEntry>& entries);
absl::Status ValidateRemoveMany(
    const std::vector<StatusCache::RemoveEntry>& entries);

// OK if `case_id` is 1 to kMaxCaseIdLength characters of [0-9A-Za-z-], else
// INVALID_ARGUMENT (the message never repeats the id).
absl::Status ValidateCaseId(absl::string_view case_id);

// OK if `status` can be cached as documented on ProgrammeStatus, else
// INVALID_ARGUMENT naming the bad field (never its value).
absl::Status ValidateProgrammeStatus(const ProgrammeStatus& status);

// The cached value of a status that passed ValidateProgrammeStatus.
std::string EncodeProgrammeStatus(const ProgrammeStatus& status);

// Decodes a cached value; nullopt if it is malformed in any way (including
// a status that would fail validation). Never crashes on any input.
std::optional<ProgrammeStatus> DecodeProgrammeStatus(absl::string_view value);

}  // namespace pathway

#endif  // PATHWAY_COMMON_CACHE_STATUS_CACHE_H_
