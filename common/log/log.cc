#include "common/log/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <thread>
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

// Lines not yet written to stderr, oldest first; null until the flusher starts.
// Heap-allocated and never freed, so that a line logged during static destruction
// still finds it.
std::string* g_pending ABSL_GUARDED_BY(g_sink_mu) = nullptr;
// Held while writing to stderr, and taken before g_sink_mu: whoever takes the
// pending lines writes them before anyone takes later ones, so order is kept
// while loggers only wait for the swap, never for the disk or the pipe.
absl::Mutex g_write_mu(absl::kConstInit);
// Pending bytes beyond which the logging thread flushes itself: a stalled
// stderr slows the server down rather than growing its memory.
constexpr size_t kMaxPendingBytes = 1 << 20;
// Linux's PIPE_BUF: a write(2) of at most this many bytes to a pipe is atomic.
constexpr size_t kAtomicWriteBytes = 4096;

void WriteAll(absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(STDERR_FILENO, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: drop rather than spin
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Writes `lines` in chunks of whole lines, each at most kAtomicWriteBytes (a
// longer single line goes alone).
void WriteLines(absl::string_view lines) {
  while (!lines.empty()) {
    size_t end = lines.size();
    if (end > kAtomicWriteBytes) {
      size_t cut = lines.rfind('\n', kAtomicWriteBytes - 1);
      end = cut == absl::string_view::npos ? lines.find('\n') : cut;
      end = end == absl::string_view::npos ? lines.size() : end + 1;
    }
    WriteAll(lines.substr(0, end));
    lines.remove_prefix(end);
  }
}

void FlushPending() ABSL_LOCKS_EXCLUDED(g_sink_mu, g_write_mu) {
  absl::MutexLock write_lock(&g_write_mu);
  std::string lines;
  {
    absl::MutexLock lock(&g_sink_mu);
    if (g_pending == nullptr || g_pending->empty()) return;
    lines.swap(*g_pending);
    g_pending->reserve(lines.capacity());
  }
  WriteLines(lines);
}

void StartFlusherLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_sink_mu) {
  g_pending = new std::string();
  std::atexit(FlushPending);
  // Detached: it holds nothing that exit needs, and exit flushes what it leaves.
  std::thread([] {
    for (;;) {
      absl::SleepFor(kFlushInterval);
      FlushPending();
    }
  }).detach();
}

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
  absl::ReleasableMutexLock lock(&g_sink_mu);
  if (g_sink != nullptr) {
    (*g_sink)(line);
    return;
  }
  if (g_pending == nullptr) StartFlusherLocked();
  g_pending->append(line);
  if (level < Level::kWarning && g_pending->size() < kMaxPendingBytes) return;
  lock.Release();
  FlushPending();
}

void Flush() { FlushPending(); }

}  // namespace log
}  // namespace pathway
