// Structured logging: one line per event, key=value (STYLE.md rule 11).
//
//   log::Info("rpc", {{"method", method}, {"code", "OK"}, {"ms", 1.5}});
//   -> ts=2026-11-22T15:00:00.123Z level=info event=rpc method=/a.B/C code=OK ms=1.5
//
// Never pass a name, ID number or address: the log is read by operators who have
// no business seeing them. Values containing spaces, quotes or '=' are quoted.
// Thread-safe.
//
// Lines go to stderr. Debug and info lines are gathered and written by a
// background thread at most kFlushInterval later (one write(2) per line cost a
// busy server more than its own work); a warning or an error is written at once,
// after every line before it. Writes never split a line and never exceed
// PIPE_BUF, so lines stay whole when several processes share one pipe. At exit
// (and on Flush) whatever is pending is written; a SIGKILL loses at most the
// last kFlushInterval of debug and info lines.
#ifndef PATHWAY_COMMON_LOG_LOG_H_
#define PATHWAY_COMMON_LOG_LOG_H_

#include <functional>
#include <initializer_list>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pathway {
namespace log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

struct Field {
  Field(absl::string_view k, const absl::AlphaNum& v) : key(k), value(v.Piece()) {}
  absl::string_view key;
  std::string value;
};

// Events below `level` are dropped. Default kInfo.
void SetMinLevel(Level level);
// Parses "debug", "info", "warning" or "error"; false if unknown.
bool ParseLevel(absl::string_view text, Level* level);

// Replaces where lines go (default: stderr). Each call receives one complete
// line including the trailing newline. For tests; not for concurrent swapping.
void SetSinkForTesting(std::function<void(absl::string_view)> sink);

// How long a debug or info line may wait before it is written.
inline constexpr absl::Duration kFlushInterval = absl::Milliseconds(100);

void Write(Level level, absl::string_view event, std::initializer_list<Field> fields);

// Writes every pending line now. Call before a deliberate exit that skips
// atexit handlers (e.g. _exit); ordinary exit flushes by itself.
void Flush();

inline void Debug(absl::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kDebug, event, fields);
}
inline void Info(absl::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warning(absl::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarning, event, fields);
}
inline void Error(absl::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, event, fields);
}

// Formats one line without writing it (exposed for tests).
std::string FormatLine(absl::Time ts, Level level, absl::string_view event,
                       std::initializer_list<Field> fields);

}  // namespace log
}  // namespace pathway

#endif  // PATHWAY_COMMON_LOG_LOG_H_
