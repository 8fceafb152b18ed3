// ScopedSigpipeBlock: while in scope, SIGPIPE is blocked for the calling
// thread; on leaving, a SIGPIPE raised meanwhile (a write() to a peer that has
// reset the connection) is discarded and the thread's signal mask restored.
// hiredis 0.14 writes with write(), not send(MSG_NOSIGNAL), and a library must
// not change the process's signal dispositions, so every hiredis call that may
// write is wrapped in one of these.
//
//   {
//     ScopedSigpipeBlock no_sigpipe;
//     reply = redisCommand(context, "PING");  // EPIPE instead of death
//   }
//
// Ownership: none. Thread safety: affects only the calling thread; construct
// and destroy it on the same thread. Nesting is fine. errno is preserved by
// the destructor. A SIGPIPE already pending on entry is left pending.
#ifndef PATHWAY_COMMON_CACHE_SCOPED_SIGPIPE_BLOCK_H_
#define PATHWAY_COMMON_CACHE_SCOPED_SIGPIPE_BLOCK_H_

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <cerrno>

namespace pathway {

class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }

  ~ScopedSigpipeBlock() {
    const int saved_errno = errno;
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    errno = saved_errno;
  }

  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_CACHE_SCOPED_SIGPIPE_BLOCK_H_
