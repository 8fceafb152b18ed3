#include "tools/pathwayctl/outbox_command.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "pathway/common/v1/operations.grpc.pb.h"
#include "tools/pathwayctl/command_common.h"

namespace pathway {
namespace pathwayctl {
namespace {

constexpr absl::string_view kUsage =
    "usage: pathwayctl outbox list   --addr HOST:PORT [--older-than 1h] [--max 100]\n"
    "                                [--token T] [--timeout 10s]\n"
    "       pathwayctl outbox replay --addr HOST:PORT (--ids ID,ID,... | --all)\n"
    "                                [--target SERVICE] [--idempotency-key K]\n"
    "                                [--token T] [--timeout 10s]\n"
    "\n"
    "A service's outbox of hand-offs to the other services (Operations.GetOutboxSummary,\n"
    "Operations.ReplayParkedHandoffs).\n"
    "  list     the counts, then one tab-separated line per stuck hand-off: id, state\n"
    "           (parked: refused for good; pending: older than --older-than), target,\n"
    "           method, idempotency key, attempts, created at, last error code, the\n"
    "           receiver's message. Never a payload.\n"
    "  replay   puts parked hand-offs (by id, or --all, optionally of one --target)\n"
    "           back into the outbox once their cause is fixed; the dispatcher delivers\n"
    "           them within its poll interval. Prints the ids replayed. Audited.\n"
    "  --token  list: batch, service, admin or auditor; replay: batch or admin token\n"
    "           (default: $PATHWAY_TOKEN)\n"
    "\n"
    "Exit 0 ok, 1 the call failed, 2 usage error.\n";

std::string Time(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

// Tabs and newlines in a message would break the line format.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

int List(const ParsedFlags& flags, const std::string& token, absl::Duration timeout,
         const Environment& env, std::ostream& out, std::ostream& err) {
  common::v1::GetOutboxSummaryRequest req;
  if (flags.values.count("--older-than") > 0) {
    absl::Duration d;
    if (!absl::ParseDuration(flags.Get("--older-than"), &d) || d <= absl::ZeroDuration()) {
      err << "pathwayctl outbox: --older-than must be a duration like 1h\n";
      return 2;
    }
    req.mutable_pending_older_than()->set_seconds(absl::ToInt64Seconds(d));
  }
  if (flags.values.count("--max") > 0) {
    int max = 0;
    if (!absl::SimpleAtoi(flags.Get("--max"), &max) || max < 1) {
      err << "pathwayctl outbox: --max must be a positive number\n";
      return 2;
    }
    req.set_max_stuck(max);
  }
  std::shared_ptr<grpc::Channel> channel = OpenChannel(flags.Get("--addr"), env.tls, err);
  if (channel == nullptr) return 2;
  auto stub = common::v1::Operations::NewStub(channel);
  common::v1::OutboxSummary summary;
  grpc::Status s = stub->GetOutboxSummary(CallContext(token, timeout).get(), req, &summary);
  if (!s.ok()) {
    err << "pathwayctl outbox: " << StatusText(s) << "\n";
    return 1;
  }
  if (!summary.has_outbox()) {
    out << summary.service() << ": no outbox\n";
    return 0;
  }
  out << summary.service() << ": pending " << summary.pending() << ", parked " << summary.parked()
      << ", delivered " << summary.delivered() << "\n";
  for (const common::v1::StuckHandoff& h : summary.stuck()) {
    out << absl::StrJoin({absl::StrCat(h.id()), h.state(), h.target(), h.method(),
                          h.idempotency_key(), absl::StrCat(h.attempts()), Time(h.created_at()),
                          h.last_error(), OneLine(h.last_error_message())},
                         "\t")
        << "\n";
  }
  if (summary.stuck_truncated()) out << "(more stuck hand-offs than listed; see --max)\n";
  return 0;
}

int Replay(const ParsedFlags& flags, const std::string& token, absl::Duration timeout,
           const Environment& env, std::ostream& out, std::ostream& err) {
  common::v1::ReplayParkedHandoffsRequest req;
  req.set_all(flags.Has("--all"));
  req.set_target(flags.Get("--target"));
  if (flags.values.count("--ids") > 0) {
    for (absl::string_view part : absl::StrSplit(flags.Get("--ids"), ',', absl::SkipEmpty())) {
      int64_t id = 0;
      if (!absl::SimpleAtoi(part, &id) || id < 0) {
        err << "pathwayctl outbox: --ids must be outbox row ids separated by commas\n";
        return 2;
      }
      req.add_ids(id);
    }
  }
  if (req.all() == (req.ids_size() > 0)) {
    err << "pathwayctl outbox: replay needs either --ids or --all\n" << kUsage;
    return 2;
  }
  std::shared_ptr<grpc::Channel> channel = OpenChannel(flags.Get("--addr"), env.tls, err);
  if (channel == nullptr) return 2;
  auto stub = common::v1::Operations::NewStub(channel);
  std::unique_ptr<grpc::ClientContext> ctx = CallContext(token, timeout);
  if (!flags.Get("--idempotency-key").empty()) {
    ctx->AddMetadata("idempotency-key", flags.Get("--idempotency-key"));
  }
  common::v1::ReplayParkedHandoffsResponse resp;
  grpc::Status s = stub->ReplayParkedHandoffs(ctx.get(), req, &resp);
  if (!s.ok()) {
    err << "pathwayctl outbox: " << StatusText(s) << "\n";
    return 1;
  }
  std::vector<std::string> ids;
  for (int64_t id : resp.replayed()) ids.push_back(absl::StrCat(id));
  out << resp.service() << ": replayed " << resp.replayed_size()
      << (ids.empty() ? "" : absl::StrCat(": ", absl::StrJoin(ids, ","))) << "\n";
  return 0;
}

}  // namespace

absl::string_view OutboxUsage() { return kUsage; }

int RunOutboxCommand(absl::Span<const std::string> args, const Environment& env, std::ostream& out,
                     std::ostream& err) {
  ParsedFlags flags = ParseFlags(args,
                                 {"--addr", "--older-than", "--max", "--ids", "--target",
                                  "--idempotency-key", "--token", "--timeout"},
                                 {"--all"});
  if (flags.help) {
    out << kUsage;
    return 0;
  }
  if (!flags.error.empty()) {
    err << "pathwayctl outbox: " << flags.error << "\n" << kUsage;
    return 2;
  }
  if (flags.positional.size() != 1 || flags.Get("--addr").empty()) {
    err << kUsage;
    return 2;
  }
  absl::Duration timeout = absl::Seconds(10);
  if (flags.values.count("--timeout") > 0 &&
      (!absl::ParseDuration(flags.Get("--timeout"), &timeout) || timeout <= absl::ZeroDuration())) {
    err << "pathwayctl outbox: --timeout must be a duration like 10s\n";
    return 2;
  }
  const std::string token = flags.Get("--token", env.token);
  const std::string& verb = flags.positional[0];
  if (verb == "list") return List(flags, token, timeout, env, out, err);
  if (verb == "replay") return Replay(flags, token, timeout, env, out, err);
  err << "pathwayctl outbox: unknown action \"" << verb << "\"\n" << kUsage;
  return 2;
}

}  // namespace pathwayctl
}  // namespace pathway
