// A child process for system tests: started with fork/exec, its stderr captured by a
// reader thread so a test can wait for a log line (event-driven, with a deadline)
// instead of sleeping and hoping.
//
//   ASSIGN_OR_RETURN(auto p, ChildProcess::Start({"/path/server", "--port", "0"}));
//   ASSERT_TRUE(p->WaitForOutput("event=server_started", absl::Seconds(30)));
//   p->Signal(SIGTERM);
//   int status = p->Wait();
//
// Thread-safe. The destructor kills (SIGKILL) and reaps a child still running.
#ifndef PATHWAY_TESTS_SYSTEM_CHILD_PROCESS_H_
#define PATHWAY_TESTS_SYSTEM_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace pathway {
namespace test {

class ChildProcess {
 public:
  // argv[0] is the executable path. `env` entries ("K=V") are added to the
  // inherited environment.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(
      std::vector<std::string> argv, std::vector<std::string> env = {});
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Everything the child wrote to stderr so far.
  std::string Output() const;
  // The first line containing `needle`, once it appears; nullopt on timeout or if
  // the child closed stderr (exited) first.
  std::optional<std::string> WaitForOutput(absl::string_view needle, absl::Duration timeout);
  void Signal(int sig);
  // Waits for exit; returns the raw wait status (WIFEXITED etc.), or -1 on timeout.
  int Wait(absl::Duration timeout = absl::Seconds(60));

 private:
  ChildProcess() = default;
  void ReadLoop();

  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  bool reaped_ = false;
  std::thread reader_;
  mutable absl::Mutex mu_;
  std::string output_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace test
}  // namespace pathway

#endif  // PATHWAY_TESTS_SYSTEM_CHILD_PROCESS_H_
