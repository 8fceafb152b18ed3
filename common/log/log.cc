#include "common/log/log.h"

#include <unistd.h>

#include <atomic>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace pathway {
namespace log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

absl::Mutex g_sink_mu(absl::kConstInit);
std::function<void(absl::string_view)>* g_sink ABSL_GUARDED_BY(g_sink_mu) = nullptr;

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

bool NeedsQuotes(absl::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

void AppendValue(std::string* out, absl::string_view v) {
  if (!NeedsQuotes(v)) {
    out->append(v.data(), v.size());
    return;
  }
  out->push_back('"');
  for (char c : v) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out->append("?");
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

void SetMinLevel(Level level) { g_min_level.store(static_cast<int>(level)); }

bool ParseLevel(absl::string_view text, Level* level) {
  std::string t = absl::AsciiStrToLower(text);
  if (t == "debug") *level = Level::kDebug;
  else if (t == "info") *level = Level::kInfo;
  else if (t == "warning" || t == "warn") *level = Level::kWarning;
  else if (t == "error") *level = Level::kError;
  else return false;
  return true;
}

void SetSinkForTesting(std::function<void(absl::string_view)> sink) {
  absl::MutexLock lock(&g_sink_mu);
  delete g_sink;
  g_sink = sink ? new std::function<void(absl::string_view)>(std::move(sink)) : nullptr;
}

std::string FormatLine(absl::Time ts, Level level, absl::string_view event,
                       std::initializer_list<Field> fields) {
  std::string line = absl::StrCat(
      "ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", ts, absl::UTCTimeZone()),
      " level=", LevelName(level), " event=");
  AppendValue(&line, event);
  for (const Field& f : fields) {
    line.push_back(' ');
    line.append(f.key.data(), f.key.size());
    line.push_back('=');
    AppendValue(&line, f.value);
  }
  line.push_back('\n');
  return line;
}

void Write(Level level, absl::string_view event, std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  std::string line = FormatLine(absl::Now(), level, event, fields);
  absl::MutexLock lock(&g_sink_mu);
  if (g_sink != nullptr) {
    (*g_sink)(line);
    return;
  }
  // One write(2) per line keeps lines whole when several processes share stderr.
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace log
}  // namespace pathway
