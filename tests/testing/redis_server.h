// Test fixtures for code that talks to Redis (STYLE.md rule 13: a real
// `redis-server` on loopback for cache tests).
//
// RedisServer runs a real redis-server as a child process on a free loopback
// port, with no persistence, in its own temporary directory. Besides start and
// stop it can simulate the failures a cache must survive: a Redis that went
// away and came back (Stop / Restart on the same port) and a Redis that
// accepts connections but never answers (Pause = SIGSTOP, Resume = SIGCONT).
//
// BlackHoleListener is a loopback TCP socket that listens but never reads or
// answers: connects succeed, every command hangs. It stands in for a hung
// Redis or a black-holing network path.
//
//   absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
//   ASSERT_TRUE(server.ok()) << server.status();
//   options.port = (*server)->port();
//   ...
//   ASSERT_TRUE((*server)->Pause().ok());  // accepts, never answers
//   ASSERT_TRUE((*server)->Resume().ok());
//
// Ownership: a RedisServer owns its child process and temporary directory; the
// destructor kills (SIGKILL) and reaps the process and removes the directory.
// The child also gets SIGKILL if the thread that started it exits
// (PR_SET_PDEATHSIG), so a crashed test leaves no stray servers behind; start
// servers from the test's main thread. A BlackHoleListener owns its socket and
// closes it on destruction.
//
// The namespace is pathway::test (not pathway::testing, which would shadow
// gtest's ::testing inside namespace pathway).
//
// Thread safety: neither class is thread-safe; drive them from one thread (the
// code under test may of course use the port from any thread). Neither changes
// the process's signal dispositions.
#ifndef PATHWAY_TESTS_TESTING_REDIS_SERVER_H_
#define PATHWAY_TESTS_TESTING_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pathway {
namespace test {

class RedisServer {
 public:
  struct Options {
    // The server binary (Debian's redis-server package).
    std::string binary = "/usr/bin/redis-server";
    // When non-empty the server requires AUTH with this password.
    std::string password;
    // How long to wait for the server to answer after each (re)start.
    absl::Duration start_timeout = absl::Seconds(10);
  };

  // Starts a server on a free loopback port and waits (polling, bounded by
  // start_timeout) until it answers as the process we spawned. Retries with
  // another port if the chosen one was taken in the meantime.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start();
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(
      const Options& options);

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer();

  // Always "127.0.0.1".
  const std::string& host() const { return host_; }
  // The port; unchanged by Stop and Restart.
  int port() const { return port_; }
  // The server's process id; 0 while stopped.
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ != 0; }
  bool paused() const { return paused_; }
  // The server's working directory (also holds redis.log).
  const std::string& dir() const { return dir_; }

  // SIGTERM and wait for exit (SIGKILL after a bound). Connections to the port
  // are refused afterwards. OK if already stopped.
  absl::Status Stop();
  // Stops the server if running, then starts a fresh process on the same
  // port (empty data set, no scripts cached) and waits until it answers.
  absl::Status Restart();
  // SIGSTOP: the kernel still completes connects, but nothing is answered.
  absl::Status Pause();
  // SIGCONT after Pause.
  absl::Status Resume();

 private:
  RedisServer(const Options& options, std::string dir, int port);

  // Spawns redis-server on port_ and waits until it answers. On failure the
  // child is reaped; *exited_early is true when it died before answering
  // (typically: port taken).
  absl::Status SpawnAndWait(bool* exited_early);
  std::string LogTail() const;

  const Options options_;
  const std::string host_ = "127.0.0.1";
  const std::string dir_;
  int port_;
  pid_t pid_ = 0;
  bool paused_ = false;
};

class BlackHoleListener {
 public:
  // Binds 127.0.0.1 on a free port and listens; never accepts.
  static absl::StatusOr<std::unique_ptr<BlackHoleListener>> Start();

  BlackHoleListener(const BlackHoleListener&) = delete;
  BlackHoleListener& operator=(const BlackHoleListener&) = delete;
  ~BlackHoleListener();

  const std::string& host() const { return host_; }
  int port() const { return port_; }

 private:
  BlackHoleListener(int fd, int port) : fd_(fd), port_(port) {}

  const std::string host_ = "127.0.0.1";
  const int fd_;
  const int port_;
};

// Picks a loopback TCP port that was free a moment ago, below the kernel's
// ephemeral range (so no outgoing connection takes it as its source port before
// a child process binds it), and never the same one twice in a process. Another
// test may still take it first: rare, not impossible. Exposed for tests that
// start binaries on known ports or need a port where nothing listens.
absl::StatusOr<int> PickUnusedLoopbackPort();

}  // namespace test
}  // namespace pathway

#endif  // PATHWAY_TESTS_TESTING_REDIS_SERVER_H_
