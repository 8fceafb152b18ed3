// InMemoryStatusCache: a StatusCache held in process memory, with the same
// semantics as RedisStatusCache (validation, version rule, written_at kept to
// the millisecond), for unit tests of services and for local runs without
// Redis. Entries never expire (no TTL).
//
// For callers' tests it can pretend the cache is down:
//
//   InMemoryStatusCache cache;
//   RehabLogic logic(&cache, ...);          // not owned by the logic
//   cache.SetUnavailable(true);             // every call: UNAVAILABLE
//   EXPECT_TRUE(logic.Record(...).ok());    // the service must not care
//   EXPECT_FALSE(cache.Healthy());
//
// Ownership: owns its entries. Thread safety: thread-safe; every method may be
// called concurrently.
#ifndef PATHWAY_COMMON_CACHE_IN_MEMORY_STATUS_CACHE_H_
#define PATHWAY_COMMON_CACHE_IN_MEMORY_STATUS_CACHE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/cache/status_cache.h"

namespace pathway {

class InMemoryStatusCache final : public StatusCache {
 public:
  InMemoryStatusCache() = default;
  InMemoryStatusCache(const InMemoryStatusCache&) = delete;
  InMemoryStatusCache& operator=(const InMemoryStatusCache&) = delete;
  ~InMemoryStatusCache() override = default;

  absl::StatusOr<bool> Put(absl::string_view case_id, Programme programme,
                           const ProgrammeStatus& status) override;
  absl::StatusOr<CaseStatusEntries> Get(absl::string_view case_id) override;
  absl::StatusOr<std::vector<CaseStatusEntries>> GetMany(
      const std::vector<std::string>& case_ids) override;
  absl::StatusOr<bool> Remove(absl::string_view case_id, Programme programme,
                              int64_t max_version) override;
  absl::StatusOr<ScanPage> Scan(absl::string_view cursor, int count) override;
  // Each batch is applied under one lock (so it is even atomic here).
  absl::StatusOr<std::vector<bool>> PutMany(
      const std::vector<PutEntry>& entries) override;
  absl::StatusOr<std::vector<bool>> RemoveMany(
      const std::vector<RemoveEntry>& entries) override;
  absl::Status Ping() override;
  bool Healthy() const override;

  // Fault injection: while true, every call with valid arguments returns
  // UNAVAILABLE and Healthy() is false (arguments are still validated first,
  // as RedisStatusCache does). Entries are kept and reappear afterwards.
  void SetUnavailable(bool unavailable);

  // Number of cases cached.
  size_t size() const;

 private:
  absl::Status CheckAvailable() const;
  // The version rule of Put / Remove on validated input, `mu_` held.
  bool PutLocked(absl::string_view case_id, Programme programme,
                 ProgrammeStatus normalised) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool RemoveLocked(absl::string_view case_id, Programme programme,
                    int64_t max_version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::atomic<bool> unavailable_{false};
  mutable absl::Mutex mu_;
  std::map<std::string, CaseStatusEntries, std::less<>> cases_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_CACHE_IN_MEMORY_STATUS_CACHE_H_
