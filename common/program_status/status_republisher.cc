#include "common/program_status/status_republisher.h"

#include <string>
#include <utility>
#include <vector>

#include "common/log/log.h"
#include "common/program_status/program_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

// Writes one batch; fills `landed` with what the cache accepted or already had.
absl::Status PublishBatch(StatusCache& cache, Programme programme,
                          const std::vector<ProgramStatusRecord>& rows,
                          std::vector<PublishedVersion>* landed) {
  std::vector<StatusCache::PutEntry> entries;
  entries.reserve(rows.size());
  for (const ProgramStatusRecord& r : rows) {
    entries.push_back({r.case_id, programme, ToCacheStatus(r)});
  }
  absl::StatusOr<std::vector<bool>> put = cache.PutMany(entries);
  if (put.ok()) {
    // false means the cache already held this version or a newer one: landed too.
    for (const ProgramStatusRecord& r : rows) landed->push_back({r.case_id, r.version});
    return absl::OkStatus();
  }
  if (put.status().code() != absl::StatusCode::kInvalidArgument) return put.status();
  // Some row can never be cached: send the rest one by one, so it holds up nothing.
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StatusOr<bool> one = cache.Put(entries[i].case_id, programme, entries[i].status);
    if (!one.ok() && one.status().code() != absl::StatusCode::kInvalidArgument) {
      return one.status();
    }
    if (!one.ok()) {
      log::Error("status_republish_refused", {{"program", ProgrammeField(programme)},
                                              {"error", one.status().ToString()}});
    }
    landed->push_back({rows[i].case_id, rows[i].version});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> SendPendingStatuses(Store& store, StatusSink sink, int batch_size,
                                            const StatusBatchSender& send) {
  if (batch_size < 1) return absl::InvalidArgumentError("republish batch size out of range");
  int64_t marked = 0;
  std::string after;  // a cursor, so every row is visited once a pass
  for (;;) {
    std::vector<ProgramStatusRecord> rows;
    absl::Status read = store.Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(rows, LoadUnsentProgramStatuses(tx, sink, after, batch_size));
      return absl::OkStatus();
    });
    RETURN_IF_ERROR(read);
    if (rows.empty()) return marked;
    std::vector<PublishedVersion> landed;
    absl::Status sent = send(rows, &landed);
    if (!landed.empty()) {
      RETURN_IF_ERROR(store.Write([&](Transaction& tx) -> absl::Status {
        return MarkProgramStatusesSent(tx, sink, landed);
      }));
      marked += static_cast<int64_t>(landed.size());
    }
    RETURN_IF_ERROR(sent);
    if (static_cast<int>(rows.size()) < batch_size) return marked;
    after = rows.back().case_id;
  }
}

absl::StatusOr<int64_t> RepublishPending(Store& store, StatusCache& cache, Programme programme,
                                         int batch_size) {
  if (batch_size < 1 || batch_size > StatusCache::kMaxWriteManyEntries) {
    return absl::InvalidArgumentError("republish batch size out of range");
  }
  return SendPendingStatuses(store, StatusSink::kCache, batch_size,
                             [&](const std::vector<ProgramStatusRecord>& rows,
                                 std::vector<PublishedVersion>* landed) {
                               return PublishBatch(cache, programme, rows, landed);
                             });
}

StatusRepublisher::StatusRepublisher(Store* store, StatusCache* cache, Programme programme,
                                     Options options)
    : StatusRepublisher(store, StatusSink::kCache,
                        [cache, programme](const std::vector<ProgramStatusRecord>& rows,
                                           std::vector<PublishedVersion>* landed) {
                          return PublishBatch(*cache, programme, rows, landed);
                        },
                        options) {}

StatusRepublisher::StatusRepublisher(Store* store, StatusSink sink, StatusBatchSender send,
                                     Options options)
    : store_(store), sink_(sink), send_(std::move(send)), options_(options) {}

StatusRepublisher::~StatusRepublisher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void StatusRepublisher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void StatusRepublisher::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

StatusRepublisher::Stats StatusRepublisher::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void StatusRepublisher::Loop() {
  bool failing = false;
  for (;;) {
    absl::StatusOr<int64_t> marked =
        SendPendingStatuses(*store_, sink_, options_.batch_size, send_);
    const std::string sink(StatusSinkName(sink_));
    if (marked.ok() && failing) {
      log::Info("status_republished", {{"sink", sink}, {"entries", *marked}});
    } else if (marked.ok() && *marked > 0) {
      log::Debug("status_republished", {{"sink", sink}, {"entries", *marked}});
    } else if (!marked.ok() && !failing) {
      log::Warning("status_republish_failed",
                   {{"sink", sink}, {"error", marked.status().ToString()}});
    }
    failing = !marked.ok();

    absl::MutexLock lock(&mu_);
    ++stats_.passes;
    if (marked.ok()) {
      stats_.marked += *marked;
    } else {
      ++stats_.failed_passes;
    }
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return woken_ || stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&ready), options_.interval);
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace pathway
