#include "tests/testing/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/cache/scoped_sigpipe_block.h"

namespace pathway {
namespace test {
namespace {

constexpr int kMaxPortAttempts = 8;
constexpr absl::Duration kPollInterval = absl::Milliseconds(5);
constexpr absl::Duration kStopTimeout = absl::Seconds(10);

absl::Status ErrnoStatus(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

// Asks the server on `port` for its process id. Any failure (refused,
// timeout, protocol) yields 0: the caller keeps polling.
pid_t QueryServerPid(const std::string& host, int port,
                     const std::string& password) {
  ScopedSigpipeBlock no_sigpipe;
  ContextPtr c(redisConnectWithTimeout(
      host.c_str(), port, absl::ToTimeval(absl::Milliseconds(200))));
  if (c == nullptr || c->err != 0) return 0;
  if (redisSetTimeout(c.get(), absl::ToTimeval(absl::Milliseconds(500))) !=
      REDIS_OK) {
    return 0;
  }
  if (!password.empty()) {
    const char* argv[] = {"AUTH", password.c_str()};
    const size_t argvlen[] = {4, password.size()};
    ReplyPtr auth(
        static_cast<redisReply*>(redisCommandArgv(c.get(), 2, argv, argvlen)));
    if (auth == nullptr || auth->type == REDIS_REPLY_ERROR) return 0;
  }
  const char* argv[] = {"INFO", "server"};
  const size_t argvlen[] = {4, 6};
  ReplyPtr info(
      static_cast<redisReply*>(redisCommandArgv(c.get(), 2, argv, argvlen)));
  if (info == nullptr || info->type != REDIS_REPLY_STRING) return 0;
  for (absl::string_view line : absl::StrSplit(
           absl::string_view(info->str, info->len), absl::ByAnyChar("\r\n"))) {
    if (absl::ConsumePrefix(&line, "process_id:")) {
      int pid = 0;
      if (absl::SimpleAtoi(line, &pid)) return static_cast<pid_t>(pid);
    }
  }
  return 0;
}

// Waits for `pid` to exit, up to `timeout`. True if it was reaped.
bool WaitForExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r == -1 && errno != EINTR) return true;  // Not our child any more.
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kPollInterval);
  }
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
  }
}

}  // namespace

namespace {

// The first port the kernel hands out as an ephemeral (client) port.
int FirstEphemeralPort() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  if (!(in >> low) || low < 2048) low = 32768;
  return low;
}

// True if nothing listens on or holds 127.0.0.1:port now.
bool LoopbackPortFree(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return free;
}

}  // namespace

// A port the caller binds later (a child process), so it is picked below the
// kernel's ephemeral range: a port from that range could be taken in between as
// the source port of any outgoing connection (another test's gRPC client, say).
// Random, so concurrent test binaries rarely try the same one; never the same
// twice in one process.
absl::StatusOr<int> PickUnusedLoopbackPort() {
  static absl::Mutex mu(absl::kConstInit);
  static std::set<int>* given = new std::set<int>();
  const int low = 10000;
  const int high = FirstEphemeralPort() - 1;
  if (high <= low) return absl::InternalError("no port range below the ephemeral ports");
  static std::mt19937 rng(static_cast<uint32_t>(getpid()) ^
                          static_cast<uint32_t>(absl::ToUnixNanos(absl::Now())));
  absl::MutexLock lock(&mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = std::uniform_int_distribution<int>(low, high)(rng);
    if (given->count(port) > 0 || !LoopbackPortFree(port)) continue;
    given->insert(port);
    return port;
  }
  return absl::UnavailableError("no free loopback port below the ephemeral range");
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start() {
  return Start(Options());
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(
    const Options& options) {
  if (access(options.binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("redis-server not executable: ", options.binary));
  }
  const char* tmp = getenv("TMPDIR");
  std::string templ = absl::StrCat(
      (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp", "/pathway-redis-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) return ErrnoStatus("mkdtemp");

  // The server owns the directory from here on (its destructor removes it).
  std::unique_ptr<RedisServer> server(new RedisServer(options, templ, 0));
  absl::Status last;
  for (int attempt = 0; attempt < kMaxPortAttempts; ++attempt) {
    absl::StatusOr<int> port = PickUnusedLoopbackPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    bool exited_early = false;
    last = server->SpawnAndWait(&exited_early);
    if (last.ok()) return server;
    if (!exited_early) break;  // Hung rather than port taken: do not retry.
  }
  return last;
}

RedisServer::RedisServer(const Options& options, std::string dir, int port)
    : options_(options), dir_(std::move(dir)), port_(port) {}

RedisServer::~RedisServer() {
  if (pid_ != 0) KillAndReap(pid_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string RedisServer::LogTail() const {
  std::ifstream in(dir_ + "/redis.log");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  constexpr size_t kTail = 600;
  if (text.size() > kTail) text = text.substr(text.size() - kTail);
  return text;
}

absl::Status RedisServer::SpawnAndWait(bool* exited_early) {
  *exited_early = false;
  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are allowed.
  std::vector<std::string> args = {options_.binary,
                                   "--port",
                                   absl::StrCat(port_),
                                   "--bind",
                                   host_,
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--dir",
                                   dir_,
                                   "--loglevel",
                                   "warning"};
  if (!options_.password.empty()) {
    args.push_back("--requirepass");
    args.push_back(options_.password);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_path = dir_ + "/redis.log";
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    const int log_fd =
        open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log_fd >= 0) {
      dup2(log_fd, STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
    }
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    // Do not let the server inherit the test's sockets (they would stay open
    // after the test closes them).
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
      for (int fd = 3; fd < 4096; ++fd) close(fd);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;
  paused_ = false;

  const absl::Time deadline = absl::Now() + options_.start_timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = 0;
      *exited_early = true;
      return absl::UnavailableError(
          absl::StrCat("redis-server exited before answering on port ", port_,
                       "; log tail: ", LogTail()));
    }
    if (QueryServerPid(host_, port_, options_.password) == pid_) {
      return absl::OkStatus();
    }
    if (absl::Now() >= deadline) {
      KillAndReap(pid_);
      pid_ = 0;
      return absl::DeadlineExceededError(
          absl::StrCat("redis-server did not answer on port ", port_,
                       " within ", absl::FormatDuration(options_.start_timeout),
                       "; log tail: ", LogTail()));
    }
    absl::SleepFor(kPollInterval);
  }
}

absl::Status RedisServer::Stop() {
  if (pid_ == 0) return absl::OkStatus();
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);  // A paused server must run to handle SIGTERM.
  if (!WaitForExit(pid_, kStopTimeout)) KillAndReap(pid_);
  pid_ = 0;
  paused_ = false;
  return absl::OkStatus();
}

absl::Status RedisServer::Restart() {
  absl::Status stopped = Stop();
  if (!stopped.ok()) return stopped;
  bool exited_early = false;
  return SpawnAndWait(&exited_early);
}

absl::Status RedisServer::Pause() {
  if (pid_ == 0) return absl::FailedPreconditionError("server not running");
  if (paused_) return absl::OkStatus();
  if (kill(pid_, SIGSTOP) != 0) return ErrnoStatus("kill(SIGSTOP)");
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid_, &status, WUNTRACED);
    if (r == -1 && errno == EINTR) continue;
    if (r == pid_ && WIFSTOPPED(status)) break;
    return absl::InternalError("redis-server did not stop");
  }
  paused_ = true;
  return absl::OkStatus();
}

absl::Status RedisServer::Resume() {
  if (pid_ == 0) return absl::FailedPreconditionError("server not running");
  if (!paused_) return absl::OkStatus();
  if (kill(pid_, SIGCONT) != 0) return ErrnoStatus("kill(SIGCONT)");
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid_, &status, WCONTINUED);
    if (r == -1 && errno == EINTR) continue;
    if (r == pid_ && WIFCONTINUED(status)) break;
    return absl::InternalError("redis-server did not continue");
  }
  paused_ = false;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BlackHoleListener>> BlackHoleListener::Start() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus("socket");
  sockaddr_in addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 128) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    absl::Status s = ErrnoStatus("black hole listener");
    close(fd);
    return s;
  }
  return std::unique_ptr<BlackHoleListener>(
      new BlackHoleListener(fd, static_cast<int>(ntohs(addr.sin_port))));
}

BlackHoleListener::~BlackHoleListener() { close(fd_); }

}  // namespace test
}  // namespace pathway
