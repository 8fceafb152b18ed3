// A programme's status for each case, as its owning service keeps it: the durable
// source of what the service publishes into the Redis status cache (DESIGN.md §4),
// what GetProgramStatus answers when the cache misses, and what the reconciler
// compares the cache with.
//
//   // inside the store transaction that changes the case:
//   ProgramStatusRecord r{.case_id = id, .division = "520102", .state = "ACTIVE", ...};
//   RETURN_IF_ERROR(SaveProgramStatus(tx, clock.Now(), &r));   // r.version = previous + 1
//   // after the commit:
//   PublishProgramStatus(cache, Programme::kCommunityDetox, r);
//
// Functions are stateless; thread safety is that of the store and cache passed in.
#ifndef PATHWAY_COMMON_PROGRAM_STATUS_PROGRAM_STATUS_H_
#define PATHWAY_COMMON_PROGRAM_STATUS_PROGRAM_STATUS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/cache/status_cache.h"
#include "common/codec/programme.h"
#include "common/store/store.h"
#include "pathway/common/v1/common.pb.h"

namespace pathway {

// One thing due in a programme (common.v1.WorkItem).
struct DueItemRecord {
  std::string kind;         // [A-Z0-9_]+
  std::string key;          // unique within the case's record, 1..128 characters
  absl::CivilDay due;       // the last day on time
  bool open = true;         // its window has opened
  bool deadline = true;     // false: an opportunity, never overdue
  std::string legal_basis;  // at most 200 characters

  bool operator==(const DueItemRecord& o) const {
    return kind == o.kind && key == o.key && due == o.due && open == o.open &&
           deadline == o.deadline && legal_basis == o.legal_basis;
  }
};
inline constexpr int kMaxDueItems = 64;

struct ProgramStatusRecord {
  std::string case_id;
  // County division code (6 digits) that executes the programme now: the
  // jurisdiction a caller must cover to see the record.
  std::string division;
  // Short state code of the owning service, [A-Z0-9_]+.
  std::string state;
  // Set by SaveProgramStatus: previous version + 1, starting at 1.
  int64_t version = 0;
  std::optional<absl::CivilDay> began;
  std::string deadline_kind;  // empty when nothing is due
  std::optional<absl::CivilDay> deadline;
  absl::Time updated_at;  // set by SaveProgramStatus
  // Everything due for the case in this programme, open or upcoming, as the owning
  // service evaluated it at the save (at most kMaxDueItems): what the registry's
  // worklist index holds for the case (registry GetWorklist). Not cached in Redis.
  std::vector<DueItemRecord> due_items;
};

// Whether two records say the same to a reader: state, division, began, deadline
// and due items (not the version or the time of the save). A refresh saves a
// record again only when this is false.
bool SameStatus(const ProgramStatusRecord& a, const ProgramStatusRecord& b);

// The program_status table, for the owning service's migrations.
std::vector<Migration> ProgramStatusMigrations();

// Inserts or replaces the case's status with version = stored version + 1 and
// updated_at = now, in the caller's transaction (so the status commits with the
// change it describes). INVALID_ARGUMENT for a malformed record.
absl::Status SaveProgramStatus(Transaction& tx, absl::Time now, ProgramStatusRecord* record);

// The stored status, or nullopt when the case has none in this programme.
absl::StatusOr<std::optional<ProgramStatusRecord>> LoadProgramStatus(ReadTransaction& tx,
                                                                     absl::string_view case_id);

// Where every saved status is owed, each remembering per row the version that last
// reached it: the Redis status cache (published_version) and the registry's
// worklist and programme-state index (indexed_version; registry
// ReportProgramStatuses). A StatusRepublisher per sink sends what is owed.
enum class StatusSink { kCache, kRegistryIndex };
absl::string_view StatusSinkName(StatusSink sink);

// Up to `limit` (>= 1) stored statuses whose version has not reached `sink`, in
// case id order after `after_case_id` (exclusive; empty = from the start).
absl::StatusOr<std::vector<ProgramStatusRecord>> LoadUnsentProgramStatuses(
    ReadTransaction& tx, StatusSink sink, absl::string_view after_case_id, int limit);

absl::StatusOr<std::vector<ProgramStatusRecord>> LoadProgramStatusPage(
    ReadTransaction& tx, absl::string_view after_case_id, absl::string_view division_prefix,
    int limit);
// How many statuses LoadProgramStatusPage would return without a limit.
absl::StatusOr<int64_t> CountProgramStatusesAfter(ReadTransaction& tx,
                                                 absl::string_view after_case_id,
                                                 absl::string_view division_prefix);

// Records that `version` of each case reached `sink`. A case whose version sent
// there is already >= version is left as it is, so a newer version saved meanwhile
// stays owed until it is sent too.
struct PublishedVersion {
  std::string case_id;
  int64_t version = 0;
};
absl::Status MarkProgramStatusesSent(Transaction& tx, StatusSink sink,
                                     const std::vector<PublishedVersion>& sent);

// The cached form of a record (DESIGN.md §4: nothing personal).
ProgrammeStatus ToCacheStatus(const ProgramStatusRecord& record);

// Writes the record into the status cache after its commit. Redis trouble is logged
// and swallowed: the cache is never the record. The saved row remembers which of
// its versions reached the cache (published_version, set by the owning service's
// StatusRepublisher, status_republisher.h), so a write that did not land is sent
// again once Redis answers; the nightly reconciler is only the last line.
void PublishProgramStatus(StatusCache& cache, Programme programme,
                          const ProgramStatusRecord& record);

void ToProto(const ProgramStatusRecord& record, Programme programme,
             common::v1::ProgramStatus* out);

// The due items as the wire carries them, and back (INVALID_ARGUMENT for an item
// SaveProgramStatus would refuse).
void ToProto(const DueItemRecord& item, common::v1::WorkItem* out);
absl::StatusOr<DueItemRecord> DueItemFromProto(const common::v1::WorkItem& item);
// Checks one item as SaveProgramStatus does.
absl::Status ValidateDueItem(const DueItemRecord& item);

}  // namespace pathway

#endif  // PATHWAY_COMMON_PROGRAM_STATUS_PROGRAM_STATUS_H_
