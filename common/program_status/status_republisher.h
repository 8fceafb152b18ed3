// StatusRepublisher: sends every programme status whose saved version has not
// reached a sink (program_status.h StatusSink: the Redis status cache, DESIGN.md
// §4, or the registry's worklist index), until it lands.
//
// PublishProgramStatus writes after the commit and drops the write when Redis does
// not answer. The row itself remembers what reached the cache: published_version
// (program_status.h) is set only after a write was accepted or refused as stale by
// the cache, so any row with version > published_version is owed to it, across
// restarts too. A republisher thread in each programme service scans those rows
// (a partial index holds only them) and writes them in batches of PutMany, on a
// short interval and at once when Wake() is called (the runtime calls it when Redis
// answers again). Cache writes are versioned, so sending a version that already
// landed, or one older than the cached, changes nothing.
//
//   StatusRepublisher::Options o;                 // every second, 1,000 a batch
//   auto republisher = std::make_unique<StatusRepublisher>(
//       &store, &cache, Programme::kCommunityDetox, o);
//   republisher->Start();
//   ...
//   republisher->Wake();                           // Redis is back
//
// RepublishPending is the pass itself, callable without the thread (tests, tools).
//
// The registry's index is fed the same way, with a sender that calls the registry
// (registry_client.h ReportProgramStatuses):
//
//   auto indexer = std::make_unique<StatusRepublisher>(
//       &store, StatusSink::kRegistryIndex, send_to_registry, o);
//
// Ownership: the store and the cache are not owned and must outlive the
// republisher; the destructor stops and joins its thread. Thread-safe.
#ifndef PATHWAY_COMMON_PROGRAM_STATUS_STATUS_REPUBLISHER_H_
#define PATHWAY_COMMON_PROGRAM_STATUS_STATUS_REPUBLISHER_H_

#include <cstdint>
#include <functional>
#include <vector>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/cache/status_cache.h"
#include "common/program_status/program_status.h"
#include "common/store/store.h"

namespace pathway {

// Sends one batch of records to a sink and appends to `landed` the versions the
// sink now holds (accepted, or already held at that version or newer). An error
// ends the pass; what was appended before it is still marked.
using StatusBatchSender = std::function<absl::Status(
    const std::vector<ProgramStatusRecord>& batch, std::vector<PublishedVersion>* landed)>;

// One pass over the statuses owed to `sink`, in batches of `batch_size` (>= 1):
// each batch is sent and what landed is marked. Returns how many were marked, or the
// first error of the sender or the store.
absl::StatusOr<int64_t> SendPendingStatuses(Store& store, StatusSink sink, int batch_size,
                                            const StatusBatchSender& send);

// One pass: every status with version > published_version is written to the cache
// in batches of `batch_size` (1 to StatusCache::kMaxWriteManyEntries), and the
// versions that landed are marked published. Returns how many were marked.
// UNAVAILABLE when the cache stopped answering (what was marked before stays
// marked; the rest is left for the next pass), or the store's error. A row the
// cache refuses as malformed is marked too (and logged): it can never land, and it
// must not hold up the rows after it.
absl::StatusOr<int64_t> RepublishPending(Store& store, StatusCache& cache, Programme programme,
                                         int batch_size = StatusCache::kMaxWriteManyEntries);

class StatusRepublisher {
 public:
  struct Options {
    // A pass runs this often (> 0), and at once on Wake(). The interval bounds how
    // long a missed write waits when no health probe notices Redis coming back.
    absl::Duration interval = absl::Seconds(1);
    int batch_size = StatusCache::kMaxWriteManyEntries;
  };
  // Counters since construction.
  struct Stats {
    int64_t passes = 0;
    int64_t failed_passes = 0;
    int64_t marked = 0;  // statuses marked published
  };

  // Feeds the status cache (sink kCache).
  StatusRepublisher(Store* store, StatusCache* cache, Programme programme, Options options);
  // Feeds any sink through `send` (which must stay usable while this lives).
  StatusRepublisher(Store* store, StatusSink sink, StatusBatchSender send, Options options);
  StatusRepublisher(const StatusRepublisher&) = delete;
  StatusRepublisher& operator=(const StatusRepublisher&) = delete;
  // Stops the thread (a pass under way finishes first).
  ~StatusRepublisher();

  // Starts the thread; its first pass runs at once. Call once.
  void Start();
  // Runs a pass now (or right after the one under way).
  void Wake();
  Stats stats() const;

 private:
  void Loop();

  Store* const store_;
  const StatusSink sink_;
  const StatusBatchSender send_;
  const Options options_;

  mutable absl::Mutex mu_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_PROGRAM_STATUS_STATUS_REPUBLISHER_H_
