#include "tools/pathwayctl/audit_command.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <set>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/audit/audit_anchor.h"
#include "common/audit/audit_log.h"
#include "common/auth/token.h"
#include "common/trace/request_id.h"
#include "pathway/common/v1/operations.grpc.pb.h"
#include "tools/pathwayctl/command_common.h"

namespace pathway {
namespace pathwayctl {
namespace {

constexpr absl::string_view kUsage =
    "usage: pathwayctl audit (--case ID | --user SUBJECT) [--from T] [--to T]\n"
    "                        [--token T] [--timeout 10s] [--request-id ID]\n"
    "                        [--registry-addr A] [--detox-addr A] [--isolation-addr A]\n"
    "                        [--rehab-addr A] [--placement-addr A]\n"
    "       pathwayctl audit verify --db FILE --key-file FILE [--anchors FILE]\n"
    "\n"
    "Listing (Operations.ListAuditEntries, auditor tokens only): the audit entries of\n"
    "  one case, or made by one user, in every service, merged by time, one\n"
    "  tab-separated line each: time (UTC), service, seq, subject, role, action, case\n"
    "  id, outcome, request id. An auditor sees the cases of their jurisdiction;\n"
    "  entries without a case only with \"*\". The listing is itself audited.\n"
    "  --from, --to    RFC 3339 (2026-06-01T08:00:00+08:00) or a date (2026-06-01,\n"
    "                  midnight China Standard Time); from inclusive, to exclusive\n"
    "  --token         an auditor's token (default: $PATHWAY_TOKEN)\n"
    "  --<x>-addr      a service's address (default: $PATHWAY_<X>_ADDR, else the\n"
    "                  development ports 50051-50055)\n"
    "  --request-id    the x-request-id sent to every service (default: a new one)\n"
    "  Exit 0 every service answered, 3 some did not (named on standard error; the\n"
    "  others' entries are printed), 1 none did, 2 usage error.\n"
    "verify: checks a service's audit chain offline: every entry's keyed hash and\n"
    "  link, and every anchor in the anchor file (default: FILE with .db replaced by\n"
    "  .audit-anchor). Names the first changed, missing or extra entry.\n"
    "  Exit 0 intact, 1 broken or unreadable, 2 usage error.\n";

constexpr int kAuditPageSize = 1000;
constexpr int kMaxPagesPerService = 100000;

struct ServiceFlag {
  const char* flag;
  const char* service;
};
constexpr ServiceFlag kAddressFlags[] = {{"--registry-addr", "registry"},
                                         {"--detox-addr", "community_detox"},
                                         {"--isolation-addr", "compulsory_isolation"},
                                         {"--rehab-addr", "community_rehab"},
                                         {"--placement-addr", "placement"}};

// RFC 3339, or a date at midnight China Standard Time (UTC+8, no daylight saving).
bool ParseAuditTime(const std::string& text, google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    if (!absl::ParseTime("%Y-%m-%d", text, absl::FixedTimeZone(8 * 3600), &t, &error)) {
      return false;
    }
  }
  const int64_t us = absl::ToUnixMicros(t);
  out->set_seconds(us / 1000000 - (us % 1000000 < 0 ? 1 : 0));
  out->set_nanos(static_cast<int32_t>(((us % 1000000) + 1000000) % 1000000 * 1000));
  return true;
}

std::string FormatAt(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ",
                          absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
                          absl::UTCTimeZone());
}

std::string Field(const std::string& s) {
  if (s.empty()) return "-";
  std::string out = s;
  for (char& c : out) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

// Every page of one service's entries; the failure, if any, as text.
grpc::Status ListService(const ServiceAddress& service, const Environment& env,
                         const std::string& token, absl::Duration timeout,
                         const std::string& request_id,
                         common::v1::ListAuditEntriesRequest req,
                         std::vector<common::v1::AuditTrailEntry>* entries, std::ostream& err) {
  std::shared_ptr<grpc::Channel> channel = OpenChannel(service.address, env.tls, err);
  if (channel == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no channel (TLS files)");
  }
  auto stub = common::v1::Operations::NewStub(channel);
  req.set_page_size(kAuditPageSize);
  for (int page = 0; page < kMaxPagesPerService; ++page) {
    std::unique_ptr<grpc::ClientContext> ctx = CallContext(token, timeout);
    ctx->AddMetadata(kRequestIdHeader, request_id);
    common::v1::ListAuditEntriesResponse resp;
    grpc::Status s = stub->ListAuditEntries(ctx.get(), req, &resp);
    if (!s.ok()) return s;
    for (common::v1::AuditTrailEntry& e : *resp.mutable_entries()) {
      if (e.service().empty()) e.set_service(service.name);
      entries->push_back(std::move(e));
    }
    if (resp.next_page_token().empty()) return grpc::Status::OK;
    req.set_page_token(resp.next_page_token());
  }
  return grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "too many pages");
}

int List(absl::Span<const std::string> args, const Environment& env, std::ostream& out,
         std::ostream& err) {
  std::set<std::string> with_value = {"--case", "--user",    "--from",      "--to",
                                      "--token", "--timeout", "--request-id"};
  for (const ServiceFlag& f : kAddressFlags) with_value.insert(f.flag);
  ParsedFlags flags = ParseFlags(args, with_value, {});
  if (flags.help) {
    out << kUsage;
    return 0;
  }
  if (!flags.error.empty() || !flags.positional.empty()) {
    err << "pathwayctl audit: "
        << (flags.error.empty() ? "unexpected argument " + flags.positional[0] : flags.error)
        << "\n" << kUsage;
    return 2;
  }
  common::v1::ListAuditEntriesRequest req;
  req.set_case_id(flags.Get("--case"));
  req.set_subject(flags.Get("--user"));
  if (req.case_id().empty() == req.subject().empty()) {
    err << "pathwayctl audit: give exactly one of --case and --user\n" << kUsage;
    return 2;
  }
  if (flags.values.count("--from") > 0 && !ParseAuditTime(flags.Get("--from"), req.mutable_from())) {
    err << "pathwayctl audit: --from must be RFC 3339 or YYYY-MM-DD\n";
    return 2;
  }
  if (flags.values.count("--to") > 0 && !ParseAuditTime(flags.Get("--to"), req.mutable_to())) {
    err << "pathwayctl audit: --to must be RFC 3339 or YYYY-MM-DD\n";
    return 2;
  }
  absl::Duration timeout = absl::Seconds(10);
  if (flags.values.count("--timeout") > 0 &&
      (!absl::ParseDuration(flags.Get("--timeout"), &timeout) || timeout <= absl::ZeroDuration())) {
    err << "pathwayctl audit: --timeout must be a duration like 10s\n";
    return 2;
  }
  std::string request_id = flags.Get("--request-id");
  if (request_id.empty()) {
    request_id = NewRequestId();
  } else if (!IsWellFormedRequestId(request_id)) {
    err << "pathwayctl audit: --request-id must be at most 64 characters of [A-Za-z0-9._-]\n";
    return 2;
  }
  std::vector<ServiceAddress> services = env.services;
  for (const ServiceFlag& f : kAddressFlags) {
    if (flags.Get(f.flag).empty()) continue;
    for (ServiceAddress& s : services) {
      if (s.name == f.service) s.address = flags.Get(f.flag);
    }
  }
  const std::string token = flags.Get("--token", env.token);

  std::vector<common::v1::AuditTrailEntry> entries;
  int answered = 0;
  for (const ServiceAddress& service : services) {
    std::vector<common::v1::AuditTrailEntry> mine;
    grpc::Status s = ListService(service, env, token, timeout, request_id, req, &mine, err);
    if (!s.ok()) {
      // Not hidden: a service left out would make the trail look shorter than it is.
      err << "pathwayctl audit: " << service.name << " (" << service.address
          << ") did not answer: " << StatusText(s) << "\n";
      continue;
    }
    ++answered;
    std::move(mine.begin(), mine.end(), std::back_inserter(entries));
  }
  // By time, then service and seq: each service's own order is kept.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const common::v1::AuditTrailEntry& a, const common::v1::AuditTrailEntry& b) {
                     return std::make_tuple(a.at().seconds(), a.at().nanos(), a.service(),
                                            a.seq()) < std::make_tuple(b.at().seconds(),
                                                                       b.at().nanos(), b.service(),
                                                                       b.seq());
                   });
  for (const common::v1::AuditTrailEntry& e : entries) {
    out << absl::StrJoin({FormatAt(e.at()), Field(e.service()), absl::StrCat(e.seq()),
                          Field(e.subject()), Field(e.role()), Field(e.action()),
                          Field(e.case_id()), Field(e.outcome()), Field(e.request_id())},
                         "\t")
        << "\n";
  }
  const int total = static_cast<int>(services.size());
  err << "pathwayctl audit: " << answered << " of " << total << " services answered, "
      << entries.size() << " entries (request id " << request_id << ")\n";
  if (answered == total) return 0;
  return answered == 0 ? 1 : 3;
}

int Verify(absl::Span<const std::string> args, std::ostream& out, std::ostream& err) {
  ParsedFlags flags = ParseFlags(args, {"--db", "--key-file", "--anchors"}, {});
  if (flags.help) {
    out << kUsage;
    return 0;
  }
  const std::string db = flags.Get("--db");
  const std::string key_file = flags.Get("--key-file");
  if (!flags.error.empty() || db.empty() || key_file.empty()) {
    err << (flags.error.empty() ? "--db and --key-file are required" : flags.error) << "\n"
        << kUsage;
    return 2;
  }
  std::string anchors_path = flags.Get("--anchors");
  if (anchors_path.empty()) {
    anchors_path = absl::EndsWith(db, ".db") ? db.substr(0, db.size() - 3) : db;
    anchors_path += ".audit-anchor";
  }
  absl::StatusOr<std::string> key = LoadKeyFile(key_file);
  if (!key.ok()) {
    err << "pathwayctl audit: " << key.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::vector<AuditAnchor>> anchors = ReadAuditAnchors(anchors_path, *key);
  if (!anchors.ok()) {
    if (anchors.status().code() == absl::StatusCode::kNotFound) {
      out << "BROKEN: no anchor file " << anchors_path << "\n";
    } else {
      out << "BROKEN: " << anchors.status().message() << "\n";
    }
    return 1;
  }
  AuditVerifyReport report;
  absl::Status s = VerifyAuditDatabaseFile(db, *key, *anchors, &report);
  if (s.ok()) {
    out << "intact: " << report.rows_checked << " entries, keyed from seq "
        << report.keyed_from_seq << ", " << report.anchors_checked << " anchors checked, head seq "
        << report.head.seq << "\n";
    return 0;
  }
  if (s.code() == absl::StatusCode::kDataLoss) {
    out << "BROKEN at seq " << report.first_bad_seq << ": " << report.problem << " ("
        << report.rows_checked << " entries intact before it)\n";
  } else {
    err << "pathwayctl audit: " << s.message() << "\n";
  }
  return 1;
}

}  // namespace

absl::string_view AuditUsage() { return kUsage; }

int RunAuditCommand(absl::Span<const std::string> args, const Environment& env,
                    std::ostream& out, std::ostream& err) {
  if (!args.empty() && args[0] == "verify") return Verify(args.subspan(1), out, err);
  if (args.empty()) {
    err << kUsage;
    return 2;
  }
  return List(args, env, out, err);
}

}  // namespace pathwayctl
}  // namespace pathway
