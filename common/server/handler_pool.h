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
// Thread-safe.
#ifndef PATHWAY_COMMON_SERVER_HANDLER_POOL_H_
#define PATHWAY_COMMON_SERVER_HANDLER_POOL_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace pathway {

class HandlerPool {
 public:
  // `threads` >= 1: how many handlers may wait at once; more queue in order.
  explicit HandlerPool(int threads);
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;
  // Runs everything already queued, then joins the threads.
  ~HandlerPool();

  void Run(std::function<void()> work);

  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Loop();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// Runs `work` on `pool` and finishes the call's default reactor with its status.
grpc::ServerUnaryReactor* FinishOnPool(grpc::CallbackServerContext* ctx, HandlerPool& pool,
                                       std::function<absl::Status()> work);

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_HANDLER_POOL_H_
