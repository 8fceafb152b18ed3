#include "tests/system/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace pathway {
namespace test {

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    std::vector<std::string> argv, std::vector<std::string> env) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. The test may block signals;
    // the server must start with a clean mask.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // A test that dies (an abort, a crash) takes its servers with it instead of
    // leaving them holding ports and databases.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(fds[1], STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
      ::dup2(devnull, STDOUT_FILENO);
    }
    for (std::string& e : env) ::putenv(e.data());
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::unique_ptr<ChildProcess> p(new ChildProcess());
  p->pid_ = pid;
  p->stderr_fd_ = fds[0];
  p->reader_ = std::thread([raw = p.get()] { raw->ReadLoop(); });
  return p;
}

void ChildProcess::ReadLoop() {
  char buf[4096];
  while (true) {
    ssize_t n = ::read(stderr_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    absl::MutexLock lock(&mu_);
    if (n <= 0) {
      closed_ = true;
      return;
    }
    output_.append(buf, static_cast<size_t>(n));
  }
}

std::string ChildProcess::Output() const {
  absl::MutexLock lock(&mu_);
  return output_;
}

std::optional<std::string> ChildProcess::WaitForOutput(absl::string_view needle,
                                                       absl::Duration timeout) {
  const std::string want(needle);
  absl::MutexLock lock(&mu_);
  auto found = [&]() -> bool { return closed_ || output_.find(want) != std::string::npos; };
  mu_.AwaitWithTimeout(absl::Condition(&found), timeout);
  size_t at = output_.find(want);
  if (at == std::string::npos) return std::nullopt;
  size_t begin = output_.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  size_t end = output_.find('\n', at);
  return output_.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

void ChildProcess::Signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

int ChildProcess::Wait(absl::Duration timeout) {
  if (reaped_) return 0;
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return status;
    }
    if (absl::Now() >= deadline) return -1;
    // Polling the child's exit with a short step under a hard deadline; there is no
    // portable way to wait on a pid with a timeout.
    absl::SleepFor(absl::Milliseconds(10));
  }
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

}  // namespace test
}  // namespace pathway
