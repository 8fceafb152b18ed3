#include "common/cache/in_memory_status_cache.h"

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

// Cursors are "0" or "c:<last case id returned>"; the map is ordered, so the
// next page starts after that id whatever was added or removed meanwhile.
constexpr absl::string_view kCursorPrefix = "c:";

}  // namespace

absl::Status InMemoryStatusCache::CheckAvailable() const {
  if (unavailable_.load()) {
    return absl::UnavailableError("status cache unavailable");
  }
  return absl::OkStatus();
}

void InMemoryStatusCache::SetUnavailable(bool unavailable) {
  unavailable_.store(unavailable);
}

bool InMemoryStatusCache::Healthy() const { return !unavailable_.load(); }

size_t InMemoryStatusCache::size() const {
  absl::MutexLock lock(&mu_);
  return cases_.size();
}

namespace {

// Round-trips through the codec so what is read back matches Redis exactly
// (written_at to the millisecond).
absl::StatusOr<ProgrammeStatus> Normalise(const ProgrammeStatus& status) {
  std::optional<ProgrammeStatus> normalised =
      DecodeProgrammeStatus(EncodeProgrammeStatus(status));
  if (!normalised.has_value()) {
    return absl::InternalError("status cache codec round trip failed");
  }
  return *std::move(normalised);
}

}  // namespace

bool InMemoryStatusCache::PutLocked(absl::string_view case_id,
                                    Programme programme,
                                    ProgrammeStatus normalised) {
  auto it = cases_.find(case_id);
  if (it == cases_.end()) {
    it = cases_.emplace(std::string(case_id), CaseStatusEntries()).first;
  }
  auto entry = it->second.find(programme);
  if (entry != it->second.end() && entry->second.version >= normalised.version) {
    return false;
  }
  it->second[programme] = std::move(normalised);
  return true;
}

bool InMemoryStatusCache::RemoveLocked(absl::string_view case_id,
                                       Programme programme,
                                       int64_t max_version) {
  auto it = cases_.find(case_id);
  if (it == cases_.end()) return false;
  auto entry = it->second.find(programme);
  if (entry == it->second.end() || entry->second.version > max_version) {
    return false;
  }
  it->second.erase(entry);
  if (it->second.empty()) cases_.erase(it);
  return true;
}

absl::StatusOr<bool> InMemoryStatusCache::Put(absl::string_view case_id,
                                              Programme programme,
                                              const ProgrammeStatus& status) {
  RETURN_IF_ERROR(ValidateCaseId(case_id));
  RETURN_IF_ERROR(ValidateProgrammeStatus(status));
  RETURN_IF_ERROR(CheckAvailable());
  ASSIGN_OR_RETURN(ProgrammeStatus normalised, Normalise(status));
  absl::MutexLock lock(&mu_);
  return PutLocked(case_id, programme, std::move(normalised));
}

absl::StatusOr<std::vector<bool>> InMemoryStatusCache::PutMany(
    const std::vector<PutEntry>& entries) {
  RETURN_IF_ERROR(ValidatePutMany(entries));
  RETURN_IF_ERROR(CheckAvailable());
  std::vector<ProgrammeStatus> normalised;
  normalised.reserve(entries.size());
  for (const PutEntry& e : entries) {
    ASSIGN_OR_RETURN(ProgrammeStatus n, Normalise(e.status));
    normalised.push_back(std::move(n));
  }
  std::vector<bool> written;
  written.reserve(entries.size());
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < entries.size(); ++i) {
    written.push_back(PutLocked(entries[i].case_id, entries[i].programme,
                                std::move(normalised[i])));
  }
  return written;
}

absl::StatusOr<CaseStatusEntries> InMemoryStatusCache::Get(
    absl::string_view case_id) {
  RETURN_IF_ERROR(ValidateCaseId(case_id));
  RETURN_IF_ERROR(CheckAvailable());
  absl::MutexLock lock(&mu_);
  auto it = cases_.find(case_id);
  if (it == cases_.end()) return CaseStatusEntries();
  return it->second;
}

absl::StatusOr<std::vector<CaseStatusEntries>> InMemoryStatusCache::GetMany(
    const std::vector<std::string>& case_ids) {
  if (case_ids.size() > static_cast<size_t>(kMaxGetManyCases)) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxGetManyCases, " case ids per call"));
  }
  for (const std::string& id : case_ids) RETURN_IF_ERROR(ValidateCaseId(id));
  RETURN_IF_ERROR(CheckAvailable());
  std::vector<CaseStatusEntries> result;
  result.reserve(case_ids.size());
  absl::MutexLock lock(&mu_);
  for (const std::string& id : case_ids) {
    auto it = cases_.find(id);
    result.push_back(it == cases_.end() ? CaseStatusEntries() : it->second);
  }
  return result;
}

absl::StatusOr<bool> InMemoryStatusCache::Remove(absl::string_view case_id,
                                                 Programme programme,
                                                 int64_t max_version) {
  RETURN_IF_ERROR(ValidateCaseId(case_id));
  if (max_version < 0) {
    return absl::InvalidArgumentError("max_version must not be negative");
  }
  RETURN_IF_ERROR(CheckAvailable());
  absl::MutexLock lock(&mu_);
  return RemoveLocked(case_id, programme, max_version);
}

absl::StatusOr<std::vector<bool>> InMemoryStatusCache::RemoveMany(
    const std::vector<RemoveEntry>& entries) {
  RETURN_IF_ERROR(ValidateRemoveMany(entries));
  RETURN_IF_ERROR(CheckAvailable());
  std::vector<bool> removed;
  removed.reserve(entries.size());
  absl::MutexLock lock(&mu_);
  for (const RemoveEntry& e : entries) {
    removed.push_back(RemoveLocked(e.case_id, e.programme, e.max_version));
  }
  return removed;
}

absl::StatusOr<StatusCache::ScanPage> InMemoryStatusCache::Scan(
    absl::string_view cursor, int count) {
  if (count < 1 || count > kMaxScanCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("count must be 1 to ", kMaxScanCount));
  }
  absl::string_view after = cursor;
  const bool start = cursor == "0";
  if (!start && (!absl::ConsumePrefix(&after, kCursorPrefix) ||
                 !ValidateCaseId(after).ok())) {
    return absl::InvalidArgumentError("bad scan cursor");
  }
  RETURN_IF_ERROR(CheckAvailable());
  ScanPage page;
  absl::MutexLock lock(&mu_);
  auto it = start ? cases_.begin() : cases_.upper_bound(after);
  for (;
       it != cases_.end() && page.case_ids.size() < static_cast<size_t>(count);
       ++it) {
    page.case_ids.push_back(it->first);
  }
  page.next_cursor = it == cases_.end()
                         ? "0"
                         : absl::StrCat(kCursorPrefix, page.case_ids.back());
  return page;
}

absl::Status InMemoryStatusCache::Ping() { return CheckAvailable(); }

}  // namespace pathway
