#include "common/server/handler_pool.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/status/grpc_status.h"

namespace pathway {

HandlerPool::HandlerPool(int threads, int max_queued) : max_queued_(std::max(max_queued, 1)) {
  if (threads < 1) threads = 1;
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

HandlerPool::~HandlerPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

absl::Status HandlerPool::Run(std::function<void(absl::Status)> work, Admission admission) {
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(queue_.size()) >= max_queued_) {
    ++stats_.refused;
    return absl::ResourceExhaustedError("the service is busy; retry with backoff");
  }
  queue_.push_back(Task{std::move(work), std::move(admission)});
  stats_.queued = static_cast<int>(queue_.size());
  stats_.max_queued_seen = std::max(stats_.max_queued_seen, stats_.queued);
  return absl::OkStatus();
}

HandlerPool::Stats HandlerPool::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void HandlerPool::Loop() {
  for (;;) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
      stats_.queued = static_cast<int>(queue_.size());
    }
    absl::Status admitted;
    if (task.admission.cancelled && task.admission.cancelled()) {
      admitted = absl::CancelledError("the call was cancelled before it started");
    } else if (absl::Now() >= task.admission.deadline) {
      admitted = absl::DeadlineExceededError("the deadline passed before the call started");
    }
    {
      absl::MutexLock lock(&mu_);
      if (admitted.ok()) {
        ++stats_.run;
      } else if (admitted.code() == absl::StatusCode::kCancelled) {
        ++stats_.cancelled;
      } else {
        ++stats_.expired;
      }
    }
    task.work(std::move(admitted));
  }
}

grpc::ServerUnaryReactor* FinishOnPool(grpc::CallbackServerContext* ctx, HandlerPool& pool,
                                       std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  Admission admission;
  // gRPC reports "no deadline" as a far-future time point.
  auto deadline = ctx->deadline();
  if (deadline < std::chrono::system_clock::now() + std::chrono::hours(24 * 366)) {
    admission.deadline = absl::FromChrono(deadline);
  }
  admission.cancelled = [ctx] { return ctx->IsCancelled(); };
  absl::Status queued = pool.Run(
      [reactor, work = std::move(work)](absl::Status admitted) {
        reactor->Finish(ToGrpcStatus(admitted.ok() ? work() : admitted));
      },
      std::move(admission));
  if (!queued.ok()) reactor->Finish(ToGrpcStatus(queued));
  return reactor;
}

}  // namespace pathway
