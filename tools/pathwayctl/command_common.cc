#include "tools/pathwayctl/command_common.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/client/bearer_context.h"
#include "common/codec/date_text.h"
#include "common/codec/proto_date.h"

namespace pathway {
namespace pathwayctl {

ParsedFlags ParseFlags(absl::Span<const std::string> args,
                       const std::set<std::string>& with_value,
                       const std::set<std::string>& switches) {
  ParsedFlags out;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
      continue;
    }
    if (a.rfind("--", 0) != 0 || a == "--") {
      out.positional.push_back(a);
      continue;
    }
    std::string value;
    bool inline_value = false;
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      inline_value = true;
    }
    if (switches.count(a) > 0 && !inline_value) {
      out.switches.insert(a);
      continue;
    }
    if (with_value.count(a) == 0) {
      out.error = absl::StrCat("unknown flag ", a);
      return out;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) {
        out.error = absl::StrCat(a, " needs a value");
        return out;
      }
      value = args[++i];
    }
    out.values[a] = value;
  }
  return out;
}

std::optional<common::v1::Date> ParseCsvDate(absl::string_view text) {
  std::optional<absl::CivilDay> day = ParseDayText(text);
  if (!day.has_value() || day->year() < kMinProtoDateYear) return std::nullopt;
  return ToProtoDate(*day);
}

std::string FormatCsvDate(const common::v1::Date& date) {
  return IsDateSet(date) ? DayText(DayOf(date)) : "";
}

std::string StatusText(const grpc::Status& status) {
  static const char* kCodes[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                 "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                 "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  int code = static_cast<int>(status.error_code());
  return absl::StrCat(code >= 0 && code <= 16 ? kCodes[code] : "UNKNOWN", ": ",
                      status.error_message());
}

std::unique_ptr<grpc::ClientContext> CallContext(const std::string& token,
                                                 absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  PrepareBearerContext(ctx.get(), token, timeout);
  return ctx;
}

std::shared_ptr<grpc::Channel> OpenChannel(const std::string& addr, const TlsOptions& tls,
                                           std::ostream& err) {
  absl::StatusOr<ChannelSecurity> security = MakeChannelSecurity(tls);
  if (!security.ok()) {
    err << "pathwayctl: " << security.status().message() << "\n";
    return nullptr;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  security->Apply(&args);
  return grpc::CreateCustomChannel(addr, security->credentials, args);
}

std::string EnumWord(const std::string& full_name, absl::string_view prefix) {
  std::string word = full_name;
  if (word.rfind(std::string(prefix), 0) == 0) word = word.substr(prefix.size());
  return word == "UNSPECIFIED" ? "" : word;
}

OutputSink::~OutputSink() {
  if (!path_.empty() && !committed_) {
    file_.close();
    std::remove((path_ + ".partial").c_str());
  }
}

bool OutputSink::Open(const std::string& path, std::ostream* fallback, std::string* error) {
  path_ = path;
  fallback_ = fallback;
  if (path_.empty()) return true;
  file_.open(path_ + ".partial", std::ios::binary | std::ios::trunc);
  if (!file_) {
    *error = absl::StrCat("cannot write ", path_, ".partial");
    return false;
  }
  return true;
}

bool OutputSink::Commit(std::string* error) {
  if (path_.empty()) {
    fallback_->flush();
    return true;
  }
  file_.close();
  if (!file_ || std::rename((path_ + ".partial").c_str(), path_.c_str()) != 0) {
    *error = absl::StrCat("cannot write ", path_);
    return false;
  }
  committed_ = true;
  return true;
}

Progress::Progress(std::ostream& err, bool enabled, const Clock& clock, std::string unit)
    : err_(err), enabled_(enabled), clock_(clock), unit_(std::move(unit)), start_(clock.Now()) {}

void Progress::Update(int64_t done, int64_t total) {
  done_ = done;
  total_ = total;
  if (!enabled_) return;
  absl::Time now = clock_.Now();
  if (now - last_draw_ < absl::Milliseconds(100)) return;
  last_draw_ = now;
  Draw();
}

void Progress::Draw() {
  double seconds = absl::ToDoubleSeconds(clock_.Now() - start_);
  int64_t rate = seconds > 0 ? static_cast<int64_t>(static_cast<double>(done_) / seconds) : 0;
  std::string line;
  if (total_ > 0) {
    constexpr int kWidth = 30;
    int filled = static_cast<int>(std::min<int64_t>(kWidth, done_ * kWidth / total_));
    line = absl::StrCat("\r[", std::string(filled, '#'), std::string(kWidth - filled, ' '), "] ",
                        done_, "/", total_, " ", unit_, "  ", rate, " ", unit_, "/s   ");
  } else {
    line = absl::StrCat("\r", done_, " ", unit_, "  ", rate, " ", unit_, "/s   ");
  }
  err_ << line << std::flush;
  shown_ = true;
}

void Progress::Finish() {
  if (!enabled_) return;
  Draw();
  if (shown_) err_ << "\n";
}

}  // namespace pathwayctl
}  // namespace pathway
