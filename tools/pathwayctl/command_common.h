// What pathwayctl's bulk commands (import, export, labor-reconcile) share: flag parsing,
// dates as the CSV files write them, gRPC status text, the call context (token and
// deadline), and a progress line for terminals.
//
//   ParsedFlags flags = ParseFlags(args, {"--addr", "--file"}, {"--validate-only"});
//   if (!flags.error.empty()) ...              // usage error
//   Progress progress(err, env.stderr_is_terminal, clock, "rows");
//   progress.Update(sent, total);
//
// Plain functions and a single-threaded Progress; not thread-safe.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_COMMAND_COMMON_H_
#define PATHWAY_TOOLS_PATHWAYCTL_COMMAND_COMMON_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/clock/clock.h"
#include "common/tls/tls.h"
#include "pathway/common/v1/common.pb.h"

namespace pathway {
namespace pathwayctl {

struct ParsedFlags {
  std::map<std::string, std::string> values;  // "--name" -> value
  std::set<std::string> switches;             // boolean flags present
  std::vector<std::string> positional;
  std::string error;                          // non-empty: a usage error
  bool help = false;                          // --help or -h

  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  bool Has(const std::string& name) const { return switches.count(name) > 0; }
};

// Parses "--name value" (or "--name=value") for `with_value`, bare `switches`, and
// positional arguments; anything else starting with "--" is an error.
ParsedFlags ParseFlags(absl::Span<const std::string> args,
                       const std::set<std::string>& with_value,
                       const std::set<std::string>& switches);

// "YYYY-MM-DD" <-> Date. Parsing fails (nullopt) for anything else or an impossible day.
std::optional<common::v1::Date> ParseCsvDate(absl::string_view text);
std::string FormatCsvDate(const common::v1::Date& date);  // "" when unset

// "INVALID_ARGUMENT: message".
std::string StatusText(const grpc::Status& status);

// A client context with the bearer token (if any) and a deadline `timeout` from now.
std::unique_ptr<grpc::ClientContext> CallContext(const std::string& token,
                                                 absl::Duration timeout);

// A channel to `addr` with `tls` (Environment::tls) that accepts messages up to
// 64 MiB; nullptr, with the reason on
// `err`, if a TLS file cannot be read.
std::shared_ptr<grpc::Channel> OpenChannel(const std::string& addr, const TlsOptions& tls,
                                           std::ostream& err);

// An enum value's name without its prefix ("PLACEMENT_MODE_CONCENTRATED" with prefix
// "PLACEMENT_MODE_" -> "CONCENTRATED"); "" for the *_UNSPECIFIED value.
std::string EnumWord(const std::string& full_name, absl::string_view prefix);

// Where a command writes its CSV: a file named by the user, written as
// "<path>.partial" and renamed into place by Commit (so a failed run leaves no
// half-written file), or `fallback` (stdout) when the path is empty.
class OutputSink {
 public:
  OutputSink() = default;
  ~OutputSink();
  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;

  bool Open(const std::string& path, std::ostream* fallback, std::string* error);
  std::ostream& stream() { return path_.empty() ? *fallback_ : file_; }
  bool Commit(std::string* error);

 private:
  std::string path_;
  std::ostream* fallback_ = nullptr;  // not owned
  std::ofstream file_;
  bool committed_ = false;
};

// A one-line progress display on a terminal ("\r" updates, at most 10 a second):
// count / total (when known) and the rate. Does nothing when disabled.
class Progress {
 public:
  Progress(std::ostream& err, bool enabled, const Clock& clock, std::string unit);
  void Update(int64_t done, int64_t total = -1);
  // The last state, then a newline (only if anything was shown).
  void Finish();

 private:
  void Draw();

  std::ostream& err_;
  bool enabled_;
  const Clock& clock_;  // not owned
  std::string unit_;
  absl::Time start_;
  absl::Time last_draw_ = absl::InfinitePast();
  int64_t done_ = 0;
  int64_t total_ = -1;
  bool shown_ = false;
};

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_COMMAND_COMMON_H_
