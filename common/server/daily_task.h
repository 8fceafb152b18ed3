// DailyTask: runs one piece of work at start-up and then once a day, at a set hour of
// China Standard Time, on its own thread. For changes that come from time passing
// alone (a term that ends, a window that closes): nothing writes, so nothing else
// would notice them (DESIGN.md §4, §8).
//
//   DailyTask::Options o;
//   o.name = "status_refresh";
//   o.hour = 1;  // 01:00 CST
//   auto task = DailyTask::Start(&clock, o, [&](absl::Time now) -> absl::StatusOr<int64_t> {
//     return RefreshStatuses(now);  // how many records changed, for the log
//   });
//
// The clock decides when a day has come, so a test's fake clock moves the schedule:
// the thread looks at the clock every `check_interval` (real time) and runs the work
// when the China Standard Time day of Now() is later than the day of the last run and
// the hour has come. A run that fails is logged and tried again at the next check. The
// destructor stops and joins the thread (a run under way finishes first).
//
// Thread-safe. The clock and whatever `work` uses must outlive the task.
#ifndef PATHWAY_COMMON_SERVER_DAILY_TASK_H_
#define PATHWAY_COMMON_SERVER_DAILY_TASK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"

namespace pathway {

class DailyTask {
 public:
  struct Options {
    std::string name;  // for log lines
    int hour = 1;      // 0..23, China Standard Time
    absl::Duration check_interval = absl::Seconds(30);
  };
  // The work: given the clock's Now(), the number of records it changed.
  using Work = std::function<absl::StatusOr<int64_t>(absl::Time now)>;

  // INVALID_ARGUMENT for an hour outside 0..23 or a non-positive interval. The first
  // run starts at once on the task's thread.
  static absl::StatusOr<std::unique_ptr<DailyTask>> Start(const Clock* clock, Options options,
                                                          Work work);
  ~DailyTask();

  // Completed runs (successful or not) since start; for tests and the log.
  int64_t runs() const;
  // The CST day of the last successful run, if any.
  std::optional<absl::CivilDay> last_day() const;
  // Waits until a run for `day` (or later) has succeeded; false after `timeout`.
  bool AwaitRunFor(absl::CivilDay day, absl::Duration timeout) const;

  // True if a run is due at `now` after a last successful run on `last` (none: due).
  static bool Due(std::optional<absl::CivilDay> last, absl::Time now, int hour);

 private:
  DailyTask(const Clock* clock, Options options, Work work);
  void Loop();

  const Clock* clock_;
  const Options options_;
  const Work work_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int64_t runs_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::CivilDay> last_day_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_DAILY_TASK_H_
