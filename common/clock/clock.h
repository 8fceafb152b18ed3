// The clock every deadline computation and timestamp goes through, so tests can
// walk a multi-year pathway without waiting (DESIGN.md §3).
//
//   FakeClock clock(absl::FromCivil(absl::CivilDay(2026, 1, 10), absl::UTCTimeZone()));
//   clock.Advance(absl::Hours(24 * 15));
//
// Implementations are thread-safe.
#ifndef PATHWAY_COMMON_CLOCK_CLOCK_H_
#define PATHWAY_COMMON_CLOCK_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace pathway {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system's wall clock.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_CLOCK_CLOCK_H_
