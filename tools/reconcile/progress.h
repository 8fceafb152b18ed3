// Progress of a reconciliation for the operator: a bar redrawn in place on a
// terminal, or one log line every N pages when stderr is a file or a pipe (a
// nightly job's log must not fill with carriage returns).
//
//   Progress progress(isatty(2) ? Progress::Mode::kBar : Progress::Mode::kLog, 100);
//   progress.Begin("community_detox", total_estimate);
//   progress.Update(cases_done, pages_done);   // cheap; redraws at most 10 times a second
//   progress.End();
//
// Not thread-safe; drive it from the thread that reconciles.
#ifndef PATHWAY_TOOLS_RECONCILE_PROGRESS_H_
#define PATHWAY_TOOLS_RECONCILE_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pathway {
namespace reconcile {

class Progress {
 public:
  enum class Mode { kNone, kBar, kLog };

  // `out` (the bar's stream; default stderr) is not owned.
  Progress(Mode mode, int log_every_pages, std::FILE* out = stderr);

  void Begin(absl::string_view service, int64_t total_estimate);
  // The expected number of cases, once known (the stream's first page says).
  void SetTotal(int64_t total_estimate) { total_ = total_estimate; }
  void Update(int64_t cases, int64_t pages);
  void End();

  // The bar line for the given state (exposed for tests).
  static std::string BarLine(absl::string_view service, int64_t cases, int64_t total,
                             double cases_per_second);

 private:
  Mode mode_;
  int log_every_pages_;
  std::FILE* out_;
  std::string service_;
  int64_t total_ = 0;
  int64_t cases_ = 0;
  int64_t last_logged_page_ = 0;
  absl::Time started_;
  absl::Time last_draw_ = absl::InfinitePast();
};

}  // namespace reconcile
}  // namespace pathway

#endif  // PATHWAY_TOOLS_RECONCILE_PROGRESS_H_
