// Threads for the part of a handler that waits: a group commit, a peer service.
//
// gRPC runs every callback handler on a handful of threads (two on a two-core
// machine: clamp(cores / 2, 2, 16) in gRPC 1.51). A handler that blocks on
// Store::Write holds one of them until the commit, so no more writes than that
// could ever share a commit and the fsync, not the machine, set the pace.
// Handlers that write hand their work to this pool and return at once:
//
//   return FinishOnPool(ctx, runtime_->handlers(), [this, req, resp]() -> absl::Status {
//     ... RunMutation(...) ...
//   });
//
// The work must capture by value (the handler's frame is gone when it runs);
// `ctx`, the request and the response stay valid until the reactor finishes.
//
// Admission control. Under more load than the service can finish in time, an
// unbounded queue only makes every call late: callers give up, the work is done
// for nobody, and memory grows with the backlog. So:
//  - at most `max_queued` tasks wait; one more is refused at once (Run answers
//    RESOURCE_EXHAUSTED, FinishOnPool finishes the call with it), so a caller
//    learns in microseconds that it should back off or try another replica;
//  - a task whose caller has gone (cancelled, or its deadline passed) by the
//    time a thread picks it up is not run: FinishOnPool answers CANCELLED or
//    DEADLINE_EXCEEDED without touching the store.
// Memory held by waiting work is thus bounded by max_queued, whatever the load.
//
// Thread-safe.
#ifndef PATHWAY_COMMON_SERVER_HANDLER_POOL_H_
#define PATHWAY_COMMON_SERVER_HANDLER_POOL_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace pathway {

// When a queued task is still worth starting: checked by the thread that picks it up.
struct Admission {
  // The caller's deadline; a task picked up at or after it is not run.
  absl::Time deadline = absl::InfiniteFuture();
  // True once the caller has gone (e.g. the RPC was cancelled); optional.
  std::function<bool()> cancelled;
};

class HandlerPool {
 public:
  // Counters since construction.
  struct Stats {
    int64_t run = 0;       // tasks started
    int64_t refused = 0;   // Run answered RESOURCE_EXHAUSTED
    int64_t expired = 0;   // picked up after their deadline: not run
    int64_t cancelled = 0; // picked up after their caller cancelled: not run
    int queued = 0;        // waiting now
    int max_queued_seen = 0;
  };

  // `threads` >= 1: how many handlers may wait at once. `max_queued` >= 1: how
  // many more may wait for a thread before Run refuses.
  HandlerPool(int threads, int max_queued);
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;
  // Runs everything already queued (subject to its admission), then joins the threads.
  ~HandlerPool();

  // Queues `work` for a thread, or RESOURCE_EXHAUSTED (and `work` is dropped
  // unrun) when max_queued tasks already wait. When a thread picks it up, `work`
  // is called with OK if it may start, or with DEADLINE_EXCEEDED / CANCELLED if
  // its admission says the caller has gone: then it must only answer.
  absl::Status Run(std::function<void(absl::Status admitted)> work, Admission admission = {});

  int threads() const { return static_cast<int>(threads_.size()); }
  int max_queued() const { return max_queued_; }
  Stats stats() const;

 private:
  struct Task {
    std::function<void(absl::Status)> work;
    Admission admission;
  };
  void Loop();

  const int max_queued_;
  mutable absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// Runs `work` on `pool` and finishes the call's default reactor with its status.
// The call is finished without running `work` with RESOURCE_EXHAUSTED when the
// pool's queue is full, and with DEADLINE_EXCEEDED or CANCELLED when the caller
// has gone by the time a thread is free.
grpc::ServerUnaryReactor* FinishOnPool(grpc::CallbackServerContext* ctx, HandlerPool& pool,
                                       std::function<absl::Status()> work);

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_HANDLER_POOL_H_
