#include "tools/reconcile/progress.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/log/log.h"

namespace pathway {
namespace reconcile {

Progress::Progress(Mode mode, int log_every_pages, std::FILE* out)
    : mode_(mode), log_every_pages_(std::max(1, log_every_pages)), out_(out) {}

std::string Progress::BarLine(absl::string_view service, int64_t cases, int64_t total,
                              double cases_per_second) {
  constexpr int kWidth = 30;
  double fraction = total > 0 ? std::min(1.0, static_cast<double>(cases) / total) : 0.0;
  int filled = static_cast<int>(fraction * kWidth);
  return absl::StrFormat("%-21s [%s%s] %3d%% %d/%d cases %.0f/s", service,
                         std::string(filled, '#'), std::string(kWidth - filled, '.'),
                         static_cast<int>(fraction * 100), cases, total, cases_per_second);
}

void Progress::Begin(absl::string_view service, int64_t total_estimate) {
  service_ = std::string(service);
  total_ = total_estimate;
  cases_ = 0;
  last_logged_page_ = 0;
  started_ = absl::Now();
  last_draw_ = absl::InfinitePast();
  if (mode_ == Mode::kLog) {
    log::Info("reconcile_service_begin", {{"service", service_}, {"estimate", total_}});
  }
}

void Progress::Update(int64_t cases, int64_t pages) {
  cases_ = cases;
  if (mode_ == Mode::kNone) return;
  const absl::Time now = absl::Now();
  const double seconds = absl::ToDoubleSeconds(now - started_);
  const double rate = seconds > 0 ? cases / seconds : 0.0;
  if (mode_ == Mode::kBar) {
    if (now - last_draw_ < absl::Milliseconds(100)) return;
    last_draw_ = now;
    std::fprintf(out_, "\r%s", BarLine(service_, cases, std::max(total_, cases), rate).c_str());
    std::fflush(out_);
  } else if (pages - last_logged_page_ >= log_every_pages_) {
    last_logged_page_ = pages;
    log::Info("reconcile_progress", {{"service", service_},
                                     {"pages", pages},
                                     {"cases", cases},
                                     {"estimate", total_},
                                     {"cases_per_s", static_cast<int64_t>(rate)}});
  }
}

void Progress::End() {
  if (mode_ == Mode::kBar) {
    const double seconds = absl::ToDoubleSeconds(absl::Now() - started_);
    std::fprintf(out_, "\r%s\n",
                 BarLine(service_, cases_, std::max(total_, cases_),
                         seconds > 0 ? cases_ / seconds : 0.0)
                     .c_str());
    std::fflush(out_);
  }
}

}  // namespace reconcile
}  // namespace pathway
