#include "common/cache/scoped_sigpipe_block.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "gtest/gtest.h"

namespace pathway {
namespace {

bool SigpipeBlocked() {
  sigset_t mask;
  sigemptyset(&mask);
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

bool SigpipePending() {
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

TEST(ScopedSigpipeBlockTest, RaisedSigpipeIsDiscardedAndMaskRestored) {
  ASSERT_FALSE(SigpipeBlocked());
  {
    ScopedSigpipeBlock no_sigpipe;
    EXPECT_TRUE(SigpipeBlocked());
    // Default action of SIGPIPE is to terminate: surviving this is the test.
    ASSERT_EQ(pthread_kill(pthread_self(), SIGPIPE), 0);
    EXPECT_TRUE(SigpipePending());
  }
  EXPECT_FALSE(SigpipePending());
  EXPECT_FALSE(SigpipeBlocked());
}

TEST(ScopedSigpipeBlockTest, WriteToClosedSocketGivesEpipeNotDeath) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  close(fds[1]);
  ScopedSigpipeBlock no_sigpipe;
  errno = 0;
  EXPECT_EQ(write(fds[0], "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  close(fds[0]);
}

TEST(ScopedSigpipeBlockTest, PreservesErrnoAndNests) {
  {
    ScopedSigpipeBlock outer;
    {
      ScopedSigpipeBlock inner;
      errno = ECONNRESET;
    }
    EXPECT_EQ(errno, ECONNRESET);
    EXPECT_TRUE(SigpipeBlocked());
  }
  EXPECT_FALSE(SigpipeBlocked());
}

}  // namespace
}  // namespace pathway
