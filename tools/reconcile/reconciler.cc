#include "tools/reconcile/reconciler.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <deque>
#include <functional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/client/bearer_context.h"
#include "common/client/peer_error.h"
#include "common/codec/date_text.h"
#include "common/codec/programme.h"
#include "common/legal_time/legal_time.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"
#include "pathway/common/v1/operations.grpc.pb.h"
#include "tools/reconcile/case_key_set.h"
#include "tools/reconcile/drift.h"
#include "tools/reconcile/report.h"

namespace pathway {
namespace reconcile {
namespace {

using common::v1::OwnedProgramStatus;
using common::v1::ProgramStatusPage;

constexpr int kFormatVersion = 1;
constexpr int kMaxAnomalies = 100;
constexpr int kQueueDepth = 4;        // pages read ahead of the one being reconciled
constexpr int kScanCount = 5000;      // SCAN COUNT hint in the orphan pass
constexpr int kCacheRetries = 2;      // extra attempts of a failed cache read
constexpr absl::Duration kCacheRetryBackoff = absl::Milliseconds(200);

constexpr char kPending[] = "pending";
constexpr char kComplete[] = "complete";
constexpr char kFailed[] = "failed";
constexpr char kInterrupted[] = "interrupted";
constexpr char kSkipped[] = "skipped";

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

int ProgrammeIndex(Programme p) { return static_cast<int>(p); }

// Runs fn(i) for every i in [0, n) on up to `threads` threads (the caller's
// included) and returns when all are done.
void ParallelFor(int n, int threads, const std::function<void(int)>& fn) {
  if (n <= 0) return;
  const int t = std::min(n, threads);
  if (t <= 1) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (int k = 1; k < t; ++k) pool.emplace_back(worker);
  worker();
  for (std::thread& th : pool) th.join();
}

// Entries per batched cache write: enough chunks to keep `threads` connections busy,
// each at most one StatusCache batch and not so small that round trips dominate.
int WriteChunk(int n, int threads) {
  const int even = (n + threads - 1) / std::max(1, threads);
  return std::clamp(even, std::min(n, 100), StatusCache::kMaxWriteManyEntries);
}

std::string GrpcErrorText(const grpc::Status& s) {
  return absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())),
                      ": ", s.error_message());
}

// One ListProgramStatuses stream, read on a thread of its own into a small queue so
// the next pages arrive while the current one is compared with the cache. Next
// cancels the stream when nothing arrives for `stall_timeout`.
class PageStream {
 public:
  PageStream(common::v1::Operations::Stub* stub, const std::string& token,
             const std::string& after, int page_size, absl::Duration stream_timeout) {
    PrepareBearerContext(&ctx_, token, stream_timeout);
    request_.set_after_case_id(after);
    request_.set_page_size(page_size);
    thread_ = std::thread([this, stub] { Loop(stub); });
  }

  ~PageStream() {
    ctx_.TryCancel();
    {
      absl::MutexLock lock(&mu_);
      abandoned_ = true;
    }
    thread_.join();
  }

  // The next page; false at the end of the stream, on error or on a stall (then see
  // status()).
  bool Next(ProgramStatusPage* page, absl::Duration stall_timeout) {
    mu_.Lock();
    if (!mu_.AwaitWithTimeout(absl::Condition(this, &PageStream::Ready), stall_timeout)) {
      stalled_ = true;
      mu_.Unlock();
      ctx_.TryCancel();
      mu_.Lock();
      mu_.Await(absl::Condition(&done_));
    }
    bool got = false;
    if (!stalled_ && !queue_.empty()) {
      *page = std::move(queue_.front());
      queue_.pop_front();
      got = true;
    }
    mu_.Unlock();
    return got;
  }

  // The stream's final status, once Next returned false.
  grpc::Status status() {
    absl::MutexLock lock(&mu_);
    if (stalled_) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "stream stalled");
    }
    return final_;
  }

 private:
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue_.empty() || done_; }
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.size() < static_cast<size_t>(kQueueDepth) || abandoned_;
  }

  void Loop(common::v1::Operations::Stub* stub) {
    std::unique_ptr<grpc::ClientReader<ProgramStatusPage>> reader =
        stub->ListProgramStatuses(&ctx_, request_);
    ProgramStatusPage page;
    while (reader->Read(&page)) {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &PageStream::HasRoom));
      if (!abandoned_) queue_.push_back(std::move(page));
      page = ProgramStatusPage();
    }
    grpc::Status status = reader->Finish();
    absl::MutexLock lock(&mu_);
    final_ = status;
    done_ = true;
  }

  grpc::ClientContext ctx_;
  common::v1::ListProgramStatusesRequest request_;
  absl::Mutex mu_;
  std::deque<ProgramStatusPage> queue_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(mu_) = false;
  bool stalled_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// One cache write decided by the comparison.
struct Repair {
  const std::string* case_id;
  DriftKind kind;
  ProgrammeStatus status;
};

enum class WriteResult { kDone, kSuperseded, kError };

void Increment(DriftCounts* d, DriftKind kind) {
  switch (kind) {
    case DriftKind::kMissing: d->set_missing(d->missing() + 1); break;
    case DriftKind::kStale: d->set_stale(d->stale() + 1); break;
    case DriftKind::kContentMismatch: d->set_content_mismatch(d->content_mismatch() + 1); break;
    case DriftKind::kCacheAhead: d->set_cache_ahead(d->cache_ahead() + 1); break;
    case DriftKind::kInSync: break;
  }
}

}  // namespace

std::vector<ServiceTarget> DefaultServiceTargets() {
  std::vector<ServiceTarget> targets;
  for (const auto& [programme, address] :
       {std::pair{Programme::kCommunityDetox, "127.0.0.1:50052"},
        std::pair{Programme::kCompulsoryIsolation, "127.0.0.1:50053"},
        std::pair{Programme::kCommunityRehab, "127.0.0.1:50054"},
        std::pair{Programme::kPlacement, "127.0.0.1:50055"}}) {
    targets.push_back({std::string(ProgrammeService(programme)), programme, address});
  }
  return targets;
}

absl::Status ReconcileOptions::Validate() const {
  if (services.empty()) return absl::InvalidArgumentError("services: at least one is required");
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_set<int> programmes;
  for (const ServiceTarget& t : services) {
    if (t.service.empty() || t.address.empty()) {
      return absl::InvalidArgumentError("services: each needs a name and an address");
    }
    if (!names.insert(t.service).second || !programmes.insert(ProgrammeIndex(t.programme)).second) {
      return absl::InvalidArgumentError("services: each service and programme at most once");
    }
  }
  if (token_key_file.empty()) return absl::InvalidArgumentError("token_key_file is required");
  if (page_size < 1 || page_size > 5000) {
    return absl::InvalidArgumentError("page_size must be 1 to 5000");
  }
  if (write_concurrency < 1 || write_concurrency > 64) {
    return absl::InvalidArgumentError("write_concurrency must be 1 to 64");
  }
  if (call_timeout <= absl::ZeroDuration() || stream_timeout <= absl::ZeroDuration() ||
      page_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeouts must be positive");
  }
  if (stream_retries < 0) return absl::InvalidArgumentError("stream_retries must be >= 0");
  if (stuck_after < absl::ZeroDuration() || orphan_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("stuck_after and orphan_grace must be >= 0");
  }
  if (max_pages < 0) return absl::InvalidArgumentError("max_pages must be >= 0");
  if (checkpoint_every_pages < 1) {
    return absl::InvalidArgumentError("checkpoint_every_pages must be >= 1");
  }
  return absl::OkStatus();
}

class Reconciler::Impl {
 public:
  Impl(const ReconcileOptions& options, StatusCache* cache, std::unique_ptr<TokenSigner> signer,
       ChannelSecurity security)
      : options_(options),
        cache_(cache),
        signer_(std::move(signer)),
        security_(std::move(security)),
        clock_(options.clock != nullptr ? options.clock : &real_clock_),
        progress_(options.progress, options.log_every_pages) {}

  absl::StatusOr<ReconcileResult> Run();

 private:
  absl::StatusOr<Report> LoadOrStart();
  std::string MintToken() const;
  void ReconcileService(const ServiceTarget& target, ServiceReport* rep);
  // Compares `statuses` (all of one page, to be fully processed) with the cache and
  // repairs. An error means the cache could not be read.
  absl::Status ProcessStatuses(const ServiceTarget& target,
                               const std::vector<const OwnedProgramStatus*>& statuses,
                               ServiceReport* rep);
  void FetchOutbox(const ServiceTarget& target, common::v1::Operations::Stub* stub,
                   ServiceReport* rep);
  void OrphanPass();
  absl::StatusOr<std::vector<CaseStatusEntries>> GetManyWithRetry(
      const std::vector<std::string>& ids);
  void SaveCheckpoint(bool force);
  void Finalize(ReconcileResult* result);

  ReconcileOptions options_;
  StatusCache* cache_;  // not owned
  std::unique_ptr<TokenSigner> signer_;
  const ChannelSecurity security_;
  RealClock real_clock_;
  const Clock* clock_;
  Progress progress_;

  // State of one Run.
  Report report_;
  absl::CivilDay as_of_;
  absl::Time run_started_;
  int64_t pages_this_run_ = 0;
  int64_t pages_since_checkpoint_ = 0;
  bool stop_ = false;  // max_pages reached
  std::array<CaseKeySet, 4> owned_;
  std::array<bool, 4> owned_complete_{};
  std::array<absl::Time, 4> stream_started_{};
  absl::Status checkpoint_error_;
};

std::string Reconciler::Impl::MintToken() const {
  Claims c;
  c.subject = "reconcile";
  c.role = Role::kBatch;
  c.jurisdiction = "*";
  c.issued_at = clock_->Now();
  c.expires_at = c.issued_at + absl::Hours(1);
  absl::StatusOr<std::string> token = signer_->Sign(c);
  // Fixed, valid claims: signing cannot fail.
  return token.ok() ? *token : std::string();
}

absl::StatusOr<Report> Reconciler::Impl::LoadOrStart() {
  if (!options_.checkpoint_path.empty()) {
    ASSIGN_OR_RETURN(std::optional<Report> previous,
                     ReadReportFile(options_.checkpoint_path));
    if (previous.has_value()) {
      Report r = *std::move(previous);
      if (r.format_version() != kFormatVersion) {
        return absl::FailedPreconditionError("checkpoint: unknown format version");
      }
      if (r.dry_run() != options_.dry_run) {
        return absl::InvalidArgumentError(absl::StrCat(
            "checkpoint: it belongs to a ", r.dry_run() ? "dry" : "real",
            " run; rerun the same way or delete ", options_.checkpoint_path));
      }
      if (options_.as_of.has_value() && DayText(*options_.as_of) != r.as_of()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "checkpoint: its run is as of ", r.as_of(), "; pass that --as_of or delete ",
            options_.checkpoint_path));
      }
      bool same_services = r.services_size() == static_cast<int>(options_.services.size());
      for (int i = 0; same_services && i < r.services_size(); ++i) {
        same_services = r.services(i).service() == options_.services[i].service;
      }
      if (!same_services) {
        return absl::InvalidArgumentError(absl::StrCat(
            "checkpoint: it lists other services; delete ", options_.checkpoint_path));
      }
      std::optional<absl::CivilDay> as_of = ParseDayText(r.as_of());
      if (!as_of.has_value()) return absl::FailedPreconditionError("checkpoint: bad as_of");
      as_of_ = *as_of;
      r.set_runs(r.runs() + 1);
      r.clear_extensions();
      log::Info("reconcile_resume", {{"checkpoint", options_.checkpoint_path},
                                     {"runs", r.runs()}});
      return r;
    }
  }
  Report r;
  r.set_format_version(kFormatVersion);
  as_of_ = options_.as_of.has_value() ? *options_.as_of : legal_time::ToCivilDay(clock_->Now());
  r.set_as_of(DayText(as_of_));
  r.set_dry_run(options_.dry_run);
  r.set_started_at(TimeText(run_started_));
  r.set_runs(1);
  for (const ServiceTarget& t : options_.services) {
    ServiceReport* s = r.add_services();
    s->set_service(t.service);
    s->set_programme(std::string(ProgrammeField(t.programme)));
    s->set_outcome(kPending);
  }
  r.mutable_orphans()->set_outcome(kPending);
  return r;
}

void Reconciler::Impl::SaveCheckpoint(bool force) {
  if (options_.checkpoint_path.empty()) return;
  if (!force && ++pages_since_checkpoint_ < options_.checkpoint_every_pages) return;
  pages_since_checkpoint_ = 0;
  absl::Status s = WriteReportFile(options_.checkpoint_path, report_);
  if (!s.ok() && checkpoint_error_.ok()) {
    checkpoint_error_ = s;
    log::Error("reconcile_checkpoint_failed", {{"error", s.ToString()}});
  }
}

absl::StatusOr<std::vector<CaseStatusEntries>> Reconciler::Impl::GetManyWithRetry(
    const std::vector<std::string>& ids) {
  absl::StatusOr<std::vector<CaseStatusEntries>> got;
  for (int attempt = 0; attempt <= kCacheRetries; ++attempt) {
    if (attempt > 0) absl::SleepFor(kCacheRetryBackoff * attempt);
    got = cache_->GetMany(ids);
    if (got.ok() || !absl::IsUnavailable(got.status())) return got;
  }
  return got;
}

absl::Status Reconciler::Impl::ProcessStatuses(
    const ServiceTarget& target, const std::vector<const OwnedProgramStatus*>& statuses,
    ServiceReport* rep) {
  // Read the cache in pipelined batches, several at once.
  const int batch = StatusCache::kMaxGetManyCases;
  const int n = static_cast<int>(statuses.size());
  const int batches = (n + batch - 1) / batch;
  std::vector<absl::StatusOr<std::vector<CaseStatusEntries>>> cached(batches);
  ParallelFor(batches, options_.write_concurrency, [&](int b) {
    std::vector<std::string> ids;
    for (int i = b * batch; i < std::min(n, (b + 1) * batch); ++i) {
      ids.push_back(statuses[i]->status().case_id());
    }
    cached[b] = GetManyWithRetry(ids);
  });
  for (const auto& c : cached) RETURN_IF_ERROR(c.status());

  std::vector<Repair> repairs;
  auto& overdue = *rep->mutable_overdue_by_division();
  for (int i = 0; i < n; ++i) {
    const OwnedProgramStatus& owned = *statuses[i];
    const common::v1::ProgramStatus& st = owned.status();
    ProgrammeStatus want = ToCacheStatus(st);
    const CaseStatusEntries& entries = (*cached[i / batch])[i % batch];
    auto it = entries.find(target.programme);
    const ProgrammeStatus* have = it == entries.end() ? nullptr : &it->second;
    DriftKind kind = ClassifyDrift(want, have);

    // 民法典 Art 201 as legal_time encodes it: the deadline's day is still on time;
    // from the next day the status is overdue.
    if (want.next_deadline.has_value() && legal_time::IsOverdue(*want.next_deadline, as_of_)) {
      ++overdue[owned.division()];
      rep->set_overdue(rep->overdue() + 1);
    }
    rep->set_cases(rep->cases() + 1);
    if (kind == DriftKind::kInSync) {
      rep->set_in_sync(rep->in_sync() + 1);
      continue;
    }
    Increment(rep->mutable_found(), kind);
    if (kind == DriftKind::kCacheAhead) {
      // Never rolled back: a version the service does not have means something wrote
      // the cache that should not have, or the service lost data. Operators decide.
      if (rep->anomalies_size() < kMaxAnomalies) {
        Anomaly* a = rep->add_anomalies();
        a->set_case_id(st.case_id());
        a->set_service_version(want.version);
        a->set_cache_version(have->version);
      }
      continue;
    }
    repairs.push_back(Repair{&st.case_id(), kind, std::move(want)});
  }
  if (options_.dry_run || repairs.empty()) return absl::OkStatus();

  // Batched, version-checked writes: one pipelined round trip per chunk, several
  // chunks at once.
  std::vector<WriteResult> results(repairs.size(), WriteResult::kError);
  const int chunk = WriteChunk(static_cast<int>(repairs.size()), options_.write_concurrency);
  const int chunks = (static_cast<int>(repairs.size()) + chunk - 1) / chunk;
  ParallelFor(chunks, options_.write_concurrency, [&](int c) {
    const int begin = c * chunk;
    const int end = std::min(static_cast<int>(repairs.size()), begin + chunk);
    // Same version, other content: the versioned Put would refuse it, so remove the
    // entry at exactly that version first (a newer concurrent write survives).
    std::vector<StatusCache::RemoveEntry> removals;
    for (int i = begin; i < end; ++i) {
      if (repairs[i].kind == DriftKind::kContentMismatch) {
        removals.push_back({*repairs[i].case_id, target.programme, repairs[i].status.version});
      }
    }
    const bool removed = removals.empty() || cache_->RemoveMany(removals).ok();
    std::vector<StatusCache::PutEntry> puts;
    std::vector<int> put_index;
    for (int i = begin; i < end; ++i) {
      if (!removed && repairs[i].kind == DriftKind::kContentMismatch) continue;
      puts.push_back({*repairs[i].case_id, target.programme, repairs[i].status});
      put_index.push_back(i);
    }
    absl::StatusOr<std::vector<bool>> written = cache_->PutMany(puts);
    if (!written.ok()) return;
    for (size_t k = 0; k < put_index.size(); ++k) {
      results[put_index[k]] = (*written)[k] ? WriteResult::kDone : WriteResult::kSuperseded;
    }
  });
  for (size_t i = 0; i < repairs.size(); ++i) {
    switch (results[i]) {
      case WriteResult::kDone: Increment(rep->mutable_repaired(), repairs[i].kind); break;
      case WriteResult::kSuperseded: rep->set_repair_superseded(rep->repair_superseded() + 1); break;
      case WriteResult::kError: rep->set_repair_failures(rep->repair_failures() + 1); break;
    }
  }
  return absl::OkStatus();
}

void Reconciler::Impl::FetchOutbox(const ServiceTarget& target,
                                   common::v1::Operations::Stub* stub, ServiceReport* rep) {
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, MintToken(), options_.call_timeout);
  common::v1::GetOutboxSummaryRequest req;
  req.mutable_pending_older_than()->set_seconds(absl::ToInt64Seconds(options_.stuck_after));
  OutboxReport* out = rep->mutable_outbox();
  out->Clear();
  grpc::Status s = stub->GetOutboxSummary(&ctx, req, out->mutable_summary());
  out->set_reachable(s.ok());
  if (!s.ok()) {
    out->clear_summary();
    out->set_error(GrpcErrorText(s));
    log::Warning("reconcile_outbox_unreachable",
                 {{"service", target.service}, {"error", out->error()}});
  }
}

void Reconciler::Impl::ReconcileService(const ServiceTarget& target, ServiceReport* rep) {
  const absl::Time started = absl::Now();
  const int p = ProgrammeIndex(target.programme);
  rep->set_address(target.address);
  rep->clear_error();
  // A service finished by an earlier run is streamed again only to learn which cases
  // it owns (for the orphan pass); cases up to last_case_id likewise.
  const bool ownership_only = rep->outcome() == kComplete;
  const std::string resume_after = rep->last_case_id();
  auto stub = common::v1::Operations::NewStub(
      SecureChannel(target.address, security_));
  stream_started_[p] = clock_->Now();

  std::string position;  // last case id received
  int64_t streamed = 0;
  int failures_in_row = 0;
  progress_.Begin(target.service, 0);
  grpc::Status final_status;
  while (true) {
    PageStream stream(stub.get(), MintToken(), position, options_.page_size,
                      options_.stream_timeout);
    rep->set_streams(rep->streams() + 1);
    bool first = true;
    bool progressed = false;
    ProgramStatusPage page;
    absl::Status cache_error;
    while (stream.Next(&page, options_.page_timeout)) {
      if (first && page.total_estimate() > 0) {
        progress_.SetTotal(streamed + page.total_estimate());
      }
      first = false;
      progressed = true;
      std::vector<const OwnedProgramStatus*> full;
      full.reserve(page.statuses_size());
      for (const OwnedProgramStatus& s : page.statuses()) {
        owned_[p].Insert(s.status().case_id());
        if (!ownership_only && s.status().case_id() > resume_after) full.push_back(&s);
      }
      streamed += page.statuses_size();
      if (page.statuses_size() > 0) {
        position = page.statuses(page.statuses_size() - 1).status().case_id();
      }
      if (!full.empty()) {
        cache_error = ProcessStatuses(target, full, rep);
        if (!cache_error.ok()) break;
        rep->set_last_case_id(full.back()->status().case_id());
        rep->set_pages(rep->pages() + 1);
        ++pages_this_run_;
        rep->set_outcome(kPending);
        if (options_.max_pages > 0 && pages_this_run_ >= options_.max_pages) {
          stop_ = true;
          break;
        }
        SaveCheckpoint(/*force=*/false);
      }
      progress_.Update(streamed, rep->pages());
    }
    if (stop_ || !cache_error.ok()) {
      if (stop_) {
        rep->set_outcome(kInterrupted);
      } else {
        rep->set_outcome(kFailed);
        rep->set_error(absl::StrCat("status cache: ", cache_error.message()));
      }
      break;  // the stream is cancelled by its destructor
    }
    final_status = stream.status();
    if (final_status.ok()) {
      rep->set_outcome(kComplete);
      owned_complete_[p] = true;
      break;
    }
    if (progressed) failures_in_row = 0;
    if (++failures_in_row > options_.stream_retries ||
        !IsTransientPeerError(final_status.error_code())) {
      // Counters and last_case_id stay as they are: a rerun continues from there.
      if (!ownership_only) rep->set_outcome(kFailed);
      rep->set_error(GrpcErrorText(final_status));
      owned_complete_[p] = false;
      break;
    }
    log::Warning("reconcile_stream_retry", {{"service", target.service},
                                            {"error", GrpcErrorText(final_status)},
                                            {"attempt", failures_in_row}});
    absl::SleepFor(absl::Milliseconds(200) * failures_in_row);
  }
  progress_.End();
  if (!stop_) FetchOutbox(target, stub.get(), rep);
  rep->set_seconds(rep->seconds() + absl::ToDoubleSeconds(absl::Now() - started));
  rep->set_cases_per_second(rep->seconds() > 0 ? rep->cases() / rep->seconds() : 0);
  log::Info("reconcile_service_done",
            {{"service", target.service}, {"outcome", rep->outcome()},
             {"cases", rep->cases()}, {"seconds", rep->seconds()}});
  SaveCheckpoint(/*force=*/true);
}

void Reconciler::Impl::OrphanPass() {
  OrphanReport* o = report_.mutable_orphans();
  const absl::Time started = absl::Now();
  o->clear_error();
  o->clear_programmes_not_checked();
  // Which programmes this pass may judge: those whose owners were fully streamed.
  std::array<bool, 4> judge{};
  std::vector<std::string> pass;
  const bool resuming = !o->cursor().empty() && o->cursor() != "0" &&
                        o->programmes_in_pass_size() > 0;
  absl::flat_hash_set<std::string> checked(o->programmes_checked().begin(),
                                           o->programmes_checked().end());
  for (const ServiceTarget& t : options_.services) {
    const std::string field(ProgrammeField(t.programme));
    bool wanted = resuming ? std::find(o->programmes_in_pass().begin(),
                                       o->programmes_in_pass().end(),
                                       field) != o->programmes_in_pass().end()
                           : !checked.contains(field);
    if (wanted && owned_complete_[ProgrammeIndex(t.programme)]) {
      judge[ProgrammeIndex(t.programme)] = true;
      pass.push_back(field);
    }
  }
  auto not_checked = [&] {
    o->clear_programmes_not_checked();
    for (const ServiceTarget& t : options_.services) {
      const std::string field(ProgrammeField(t.programme));
      if (std::find(o->programmes_checked().begin(), o->programmes_checked().end(), field) ==
          o->programmes_checked().end()) {
        o->add_programmes_not_checked(field);
      }
    }
  };
  if (pass.empty()) {
    o->set_outcome(o->programmes_checked_size() > 0 ? kComplete : kSkipped);
    not_checked();
    return;
  }
  o->clear_programmes_in_pass();
  for (const std::string& f : pass) o->add_programmes_in_pass(f);
  std::string cursor = resuming ? o->cursor() : "0";
  o->set_outcome(kPending);

  struct Removal {
    std::string case_id;
    Programme programme;
    int64_t version;
  };
  auto scan = [this](const std::string& from) {
    absl::StatusOr<StatusCache::ScanPage> page;
    for (int attempt = 0; attempt <= kCacheRetries; ++attempt) {
      if (attempt > 0) absl::SleepFor(kCacheRetryBackoff * attempt);
      page = cache_->Scan(from, kScanCount);
      if (page.ok() || !absl::IsUnavailable(page.status())) break;
    }
    return page;
  };
  // The next page is SCANned while the current one is read and judged (SCAN is the
  // slowest command of the pass); the checkpoint still records only cursors whose
  // page was fully processed.
  absl::StatusOr<StatusCache::ScanPage> upcoming = scan(cursor);
  do {
    absl::StatusOr<StatusCache::ScanPage> scanned = std::move(upcoming);
    std::thread ahead;
    if (scanned.ok() && scanned->next_cursor != "0") {
      ahead = std::thread([&scan, &upcoming, next = scanned->next_cursor] {
        upcoming = scan(next);
      });
    }
    struct Joiner {
      std::thread* t;
      ~Joiner() {
        if (t->joinable()) t->join();
      }
    } joiner{&ahead};
    if (!scanned.ok()) {
      o->set_outcome(kFailed);
      o->set_error(absl::StrCat("status cache: ", scanned.status().message()));
      break;
    }
    const std::vector<std::string>& ids = scanned->case_ids;
    o->set_keys_scanned(o->keys_scanned() + static_cast<int64_t>(ids.size()));
    const int batch = StatusCache::kMaxGetManyCases;
    const int n = static_cast<int>(ids.size());
    const int batches = (n + batch - 1) / batch;
    std::vector<absl::StatusOr<std::vector<CaseStatusEntries>>> cached(batches);
    ParallelFor(batches, options_.write_concurrency, [&](int b) {
      cached[b] = GetManyWithRetry(std::vector<std::string>(
          ids.begin() + b * batch, ids.begin() + std::min(n, (b + 1) * batch)));
    });
    absl::Status read_error;
    for (const auto& c : cached) {
      if (!c.ok()) read_error = c.status();
    }
    if (!read_error.ok()) {
      o->set_outcome(kFailed);
      o->set_error(absl::StrCat("status cache: ", read_error.message()));
      break;
    }
    std::vector<Removal> removals;
    for (int i = 0; i < n; ++i) {
      for (const auto& [programme, status] : (*cached[i / batch])[i % batch]) {
        const int p = ProgrammeIndex(programme);
        if (!judge[p] || owned_[p].Contains(ids[i])) continue;
        if (status.written_at >= stream_started_[p] - options_.orphan_grace) {
          o->set_skipped_recent(o->skipped_recent() + 1);
          continue;
        }
        o->set_found(o->found() + 1);
        ++(*o->mutable_found_by_programme())[std::string(ProgrammeField(programme))];
        removals.push_back(Removal{ids[i], programme, status.version});
      }
    }
    if (!options_.dry_run && !removals.empty()) {
      std::vector<int> result(removals.size(), -1);  // 1 removed, 0 already gone, -1 error
      const int chunk = WriteChunk(static_cast<int>(removals.size()), options_.write_concurrency);
      const int chunks = (static_cast<int>(removals.size()) + chunk - 1) / chunk;
      ParallelFor(chunks, options_.write_concurrency, [&](int c) {
        const int begin = c * chunk;
        const int end = std::min(static_cast<int>(removals.size()), begin + chunk);
        // At the cached version only: a service writing the case meanwhile wins.
        std::vector<StatusCache::RemoveEntry> entries;
        for (int i = begin; i < end; ++i) {
          entries.push_back({removals[i].case_id, removals[i].programme, removals[i].version});
        }
        absl::StatusOr<std::vector<bool>> removed = cache_->RemoveMany(entries);
        if (!removed.ok()) return;
        for (int i = begin; i < end; ++i) result[i] = (*removed)[i - begin] ? 1 : 0;
      });
      for (int r : result) {
        if (r == 1) o->set_removed(o->removed() + 1);
        if (r == -1) o->set_failures(o->failures() + 1);
      }
    }
    cursor = scanned->next_cursor;
    o->set_cursor(cursor);
    SaveCheckpoint(/*force=*/true);
  } while (cursor != "0");

  if (o->outcome() != kFailed) {
    for (const std::string& f : pass) o->add_programmes_checked(f);
    o->clear_programmes_in_pass();
    o->set_cursor("");
    o->set_outcome(kComplete);
  }
  not_checked();
  o->set_seconds(o->seconds() + absl::ToDoubleSeconds(absl::Now() - started));
  SaveCheckpoint(/*force=*/true);
}

void Reconciler::Impl::Finalize(ReconcileResult* result) {
  Report& r = report_;
  int64_t cases = 0;
  double seconds = 0;
  bool services_ok = true;
  for (const ServiceReport& s : r.services()) {
    cases += s.cases();
    seconds += s.seconds();
    if (s.outcome() != kComplete || !s.error().empty()) services_ok = false;
  }
  r.set_cases(cases);
  r.set_seconds(seconds + r.orphans().seconds());
  r.set_cases_per_second(seconds > 0 ? cases / seconds : 0);
  bool extensions_ok = true;
  for (const ExtensionReport& e : r.extensions()) {
    if (e.outcome() != kComplete) extensions_ok = false;
  }
  const bool orphans_ok = r.orphans().outcome() == kComplete &&
                          r.orphans().programmes_not_checked_size() == 0;
  if (stop_) {
    result->exit_code = kExitStoppedEarly;
  } else if (!services_ok || !orphans_ok || !extensions_ok) {
    result->exit_code = kExitServiceFailed;
  } else {
    result->exit_code = kExitDone;
  }
  r.set_complete(result->exit_code == kExitDone);
  r.set_exit_code(result->exit_code);
  r.set_finished_at(TimeText(clock_->Now()));
}

absl::StatusOr<ReconcileResult> Reconciler::Impl::Run() {
  run_started_ = clock_->Now();
  pages_this_run_ = 0;
  pages_since_checkpoint_ = 0;
  stop_ = false;
  checkpoint_error_ = absl::OkStatus();
  for (CaseKeySet& s : owned_) s.Clear();
  owned_complete_.fill(false);
  ASSIGN_OR_RETURN(report_, LoadOrStart());
  log::Info("reconcile_start", {{"as_of", report_.as_of()},
                                {"dry_run", options_.dry_run ? "true" : "false"},
                                {"services", options_.services.size()}});

  for (size_t i = 0; i < options_.services.size() && !stop_; ++i) {
    ReconcileService(options_.services[i], report_.mutable_services(static_cast<int>(i)));
  }
  if (!stop_) OrphanPass();
  if (!stop_) {
    for (ReconcileExtension* e : options_.extensions) {
      ExtensionReport* er = report_.add_extensions();
      er->set_name(e->name());
      absl::Status s = e->Run(as_of_, options_.dry_run, er);
      if (!s.ok()) {
        er->set_outcome(kFailed);
        er->set_error(s.ToString());
      } else if (er->outcome().empty()) {
        er->set_outcome(kComplete);
      }
    }
  }

  ReconcileResult result;
  Finalize(&result);
  RETURN_IF_ERROR(checkpoint_error_);
  if (!options_.checkpoint_path.empty()) {
    if (result.exit_code == kExitDone) {
      std::remove(options_.checkpoint_path.c_str());  // the next run starts afresh
    } else {
      RETURN_IF_ERROR(WriteReportFile(options_.checkpoint_path, report_));
    }
  }
  if (!options_.report_dir.empty()) {
    result.report_path = absl::StrCat(options_.report_dir, "/", ReportFileName(run_started_));
    RETURN_IF_ERROR(WriteReportFile(result.report_path, report_));
  }
  log::Info("reconcile_done", {{"exit_code", result.exit_code},
                               {"cases", report_.cases()},
                               {"cases_per_s", static_cast<int64_t>(report_.cases_per_second())}});
  result.report = report_;
  return result;
}

absl::StatusOr<std::unique_ptr<Reconciler>> Reconciler::Create(const ReconcileOptions& options,
                                                               StatusCache* cache) {
  RETURN_IF_ERROR(options.Validate());
  if (cache == nullptr) return absl::InvalidArgumentError("a status cache is required");
  ASSIGN_OR_RETURN(std::string key, LoadKeyFile(options.token_key_file));
  ASSIGN_OR_RETURN(std::unique_ptr<TokenSigner> signer, TokenSigner::Create(std::move(key)));
  ASSIGN_OR_RETURN(ChannelSecurity security, MakeChannelSecurity(options.tls));
  return std::unique_ptr<Reconciler>(new Reconciler(
      std::make_unique<Impl>(options, cache, std::move(signer), std::move(security))));
}

Reconciler::Reconciler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reconciler::~Reconciler() = default;

absl::StatusOr<ReconcileResult> Reconciler::Run() { return impl_->Run(); }

}  // namespace reconcile
}  // namespace pathway
