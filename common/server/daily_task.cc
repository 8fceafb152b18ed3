#include "common/server/daily_task.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/legal_time/legal_time.h"
#include "common/log/log.h"

namespace pathway {
namespace {

// The hour of `t` in China Standard Time (UTC+8, no DST).
int ChinaHour(absl::Time t) {
  static const absl::TimeZone kChinaStandardTime = absl::FixedTimeZone(8 * 60 * 60);
  return absl::ToCivilHour(t, kChinaStandardTime).hour();
}

}  // namespace

bool DailyTask::Due(std::optional<absl::CivilDay> last, absl::Time now, int hour) {
  if (!last.has_value()) return true;  // at start-up
  const absl::CivilDay today = legal_time::ToCivilDay(now);
  if (today <= *last) return false;
  // A day or more was missed (the service was down at the hour): run at once.
  if (today - *last > 1) return true;
  return ChinaHour(now) >= hour;
}

absl::StatusOr<std::unique_ptr<DailyTask>> DailyTask::Start(const Clock* clock, Options options,
                                                            Work work) {
  if (options.hour < 0 || options.hour > 23) {
    return absl::InvalidArgumentError("the hour of a daily task must be 0 to 23");
  }
  if (options.check_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the check interval of a daily task must be positive");
  }
  std::unique_ptr<DailyTask> task(new DailyTask(clock, std::move(options), std::move(work)));
  task->thread_ = std::thread([t = task.get()] { t->Loop(); });
  return task;
}

DailyTask::DailyTask(const Clock* clock, Options options, Work work)
    : clock_(clock), options_(std::move(options)), work_(std::move(work)) {}

DailyTask::~DailyTask() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int64_t DailyTask::runs() const {
  absl::MutexLock lock(&mu_);
  return runs_;
}

std::optional<absl::CivilDay> DailyTask::last_day() const {
  absl::MutexLock lock(&mu_);
  return last_day_;
}

bool DailyTask::AwaitRunFor(absl::CivilDay day, absl::Duration timeout) const {
  struct RanFor {
    const std::optional<absl::CivilDay>* last;
    absl::CivilDay day;
    bool operator()() const { return last->has_value() && **last >= day; }
  } ran{&last_day_, day};
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&ran), timeout);
}

void DailyTask::Loop() {
  while (true) {
    std::optional<absl::CivilDay> last;
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      last = last_day_;
    }
    const absl::Time now = clock_->Now();
    if (Due(last, now, options_.hour)) {
      absl::StatusOr<int64_t> changed = work_(now);
      absl::MutexLock lock(&mu_);
      ++runs_;
      if (changed.ok()) {
        last_day_ = legal_time::ToCivilDay(now);
        log::Info("daily_task_done", {{"task", options_.name}, {"changed", *changed}});
      } else {
        log::Warning("daily_task_failed",
                     {{"task", options_.name}, {"error", changed.status().ToString()}});
      }
    }
    absl::MutexLock lock(&mu_);
    // Wakes at once on stop; otherwise looks at the clock again after the interval.
    mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.check_interval);
    if (stop_) return;
  }
}

}  // namespace pathway
