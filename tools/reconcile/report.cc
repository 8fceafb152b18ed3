#include "tools/reconcile/report.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace pathway {
namespace reconcile {
namespace {

int64_t DriftTotal(const DriftCounts& d) {
  return d.missing() + d.stale() + d.content_mismatch() + d.cache_ahead();
}

std::string DriftText(const DriftCounts& d) {
  return absl::StrFormat("missing %d, stale %d, mismatch %d, cache ahead %d", d.missing(),
                         d.stale(), d.content_mismatch(), d.cache_ahead());
}

}  // namespace

std::string ReportToJson(const Report& report) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing a message of a compiled-in type cannot fail.
  (void)google::protobuf::util::MessageToJsonString(report, &json, options);
  return json;
}

absl::StatusOr<Report> ReportFromJson(absl::string_view json) {
  Report report;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer reconciler's checkpoint
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &report, options).ok()) {
    return absl::InvalidArgumentError("not a reconciler report or checkpoint");
  }
  return report;
}

absl::Status WriteReportFile(const std::string& path, const Report& report) {
  const std::string json = ReportToJson(report);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < json.size()) {
    ssize_t n = ::write(fd, json.data() + done, json.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  // A killed process loses nothing written (the page cache survives it); fdatasync
  // would also survive a power cut but costs milliseconds per checkpoint.
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot replace ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Report>> ReadReportFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0) return std::optional<Report>();
    return absl::InternalError(absl::StrCat("cannot read ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<Report> report = ReportFromJson(buffer.str());
  if (!report.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", report.status().message()));
  }
  return std::optional<Report>(*std::move(report));
}

std::string ReportFileName(absl::Time t) {
  return absl::StrCat("reconcile-", absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone()),
                      ".json");
}

std::string FormatSummary(const Report& r) {
  std::string out = absl::StrFormat(
      "reconcile as of %s%s: %s, %d cases in %.1f s (%.0f cases/s)%s\n", r.as_of(),
      r.dry_run() ? " (dry run: nothing written)" : "",
      r.complete() ? "complete" : (r.exit_code() == 3 ? "stopped early" : "INCOMPLETE"),
      r.cases(), r.seconds(), r.cases_per_second(),
      r.runs() > 1 ? absl::StrCat(" over ", r.runs(), " runs") : "");
  for (const ServiceReport& s : r.services()) {
    absl::StrAppendFormat(&out, "  %-21s %-11s %9d cases  drift %d (%s)  %s %d  overdue %d\n",
                          s.service(), s.outcome(), s.cases(), DriftTotal(s.found()),
                          DriftText(s.found()), r.dry_run() ? "would repair" : "repaired",
                          r.dry_run() ? DriftTotal(s.found()) - s.found().cache_ahead()
                                      : DriftTotal(s.repaired()),
                          s.overdue());
    if (!s.error().empty()) absl::StrAppend(&out, "      error: ", s.error(), "\n");
    if (s.repair_failures() > 0) {
      absl::StrAppend(&out, "      repair failures: ", s.repair_failures(), "\n");
    }
    const auto& ob = s.outbox();
    if (!ob.reachable()) {
      absl::StrAppend(&out, "      outbox: not reachable\n");
    } else if (ob.summary().has_outbox() &&
               (ob.summary().stuck_size() > 0 || ob.summary().parked() > 0)) {
      absl::StrAppendFormat(&out, "      outbox: %d pending, %d parked, %d stuck hand-offs\n",
                            ob.summary().pending(), ob.summary().parked(),
                            ob.summary().stuck_size());
    }
  }
  const OrphanReport& o = r.orphans();
  absl::StrAppendFormat(&out, "  orphans: %s, %d found, %d %s, %d recent left alone (%d keys)\n",
                        o.outcome(), o.found(), r.dry_run() ? o.found() : o.removed(),
                        r.dry_run() ? "would be removed" : "removed", o.skipped_recent(),
                        o.keys_scanned());
  if (o.programmes_not_checked_size() > 0) {
    absl::StrAppend(&out, "      not checked: ", absl::StrJoin(o.programmes_not_checked(), ", "),
                    "\n");
  }
  for (const ExtensionReport& e : r.extensions()) {
    absl::StrAppend(&out, "  ", e.name(), ": ", e.outcome(),
                    e.error().empty() ? "" : absl::StrCat(" (", e.error(), ")"), "\n");
  }
  return out;
}

}  // namespace reconcile
}  // namespace pathway
