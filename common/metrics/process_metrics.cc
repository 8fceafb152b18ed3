#include "common/metrics/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace pathway {
namespace {

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The system's boot time, seconds since the epoch (the "btime" line of /proc/stat).
std::optional<double> BootTimeSeconds() {
  std::optional<std::string> stat = ReadFile("/proc/stat");
  if (!stat.has_value()) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      double boot;
      if (absl::SimpleAtod(line, &boot)) return boot;
    }
  }
  return std::nullopt;
}

void AddGauge(std::vector<prometheus::MetricFamily>* families, const char* name,
              const char* help, std::optional<double> value) {
  if (!value.has_value()) return;
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric metric;
  metric.gauge.value = *value;
  family.metric.push_back(metric);
  families->push_back(std::move(family));
}

}  // namespace

std::optional<double> ProcessMetrics::StartTimeSeconds() {
  // Field 22 of /proc/self/stat, starttime, in clock ticks after boot. Fields are
  // counted after the command name, which is in parentheses and may hold spaces.
  std::optional<std::string> stat = ReadFile("/proc/self/stat");
  if (!stat.has_value()) return std::nullopt;
  const size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(paren + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state), so starttime (field 22) is fields[19].
  double ticks;
  if (fields.size() < 20 || !absl::SimpleAtod(fields[19], &ticks)) return std::nullopt;
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  std::optional<double> boot = BootTimeSeconds();
  if (ticks_per_second <= 0 || !boot.has_value()) return std::nullopt;
  return *boot + ticks / static_cast<double>(ticks_per_second);
}

std::optional<double> ProcessMetrics::ResidentMemoryBytes() {
  // /proc/self/statm: size resident shared ..., in pages.
  std::optional<std::string> statm = ReadFile("/proc/self/statm");
  if (!statm.has_value()) return std::nullopt;
  std::vector<absl::string_view> fields = absl::StrSplit(*statm, ' ', absl::SkipEmpty());
  double pages;
  if (fields.size() < 2 || !absl::SimpleAtod(fields[1], &pages)) return std::nullopt;
  const long page_size = sysconf(_SC_PAGESIZE);
  if (page_size <= 0) return std::nullopt;
  return pages * static_cast<double>(page_size);
}

std::optional<double> ProcessMetrics::OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  double count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the descriptor reading the directory
}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  AddGauge(&families, "process_start_time_seconds",
           "Start time of the process since unix epoch in seconds.", StartTimeSeconds());
  AddGauge(&families, "process_resident_memory_bytes", "Resident memory size in bytes.",
           ResidentMemoryBytes());
  AddGauge(&families, "process_open_fds", "Number of open file descriptors.", OpenFds());
  return families;
}

}  // namespace pathway
