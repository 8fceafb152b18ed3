// Reading and writing the reconciler's Report (reconcile_report.proto): the JSON
// report file, the checkpoint (the same message while a run is in progress, written
// atomically: temporary file, then rename) and the short human-readable summary.
//
//   RETURN_IF_ERROR(WriteReportFile("/var/lib/pathway/reconcile.ckpt", report));
//   ASSIGN_OR_RETURN(std::optional<Report> previous, ReadReportFile(path));
//   std::cout << FormatSummary(report);
//
// JSON comes from protobuf's JSON printer, never by hand. Plain functions;
// thread-safe for distinct paths.
#ifndef PATHWAY_TOOLS_RECONCILE_REPORT_H_
#define PATHWAY_TOOLS_RECONCILE_REPORT_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/reconcile/reconcile_report.pb.h"

namespace pathway {
namespace reconcile {

// The report as JSON (pretty-printed, fields with default values included).
std::string ReportToJson(const Report& report);

// Parses ReportToJson's output. INVALID_ARGUMENT if it is not a Report.
absl::StatusOr<Report> ReportFromJson(absl::string_view json);

// Writes the JSON to `path` atomically: `path`.tmp is written, flushed and renamed
// over `path`, so a reader (or a resumed run) sees the old file or the new one,
// never a torn one. INTERNAL (naming the path) on I/O errors.
absl::Status WriteReportFile(const std::string& path, const Report& report);

// The report at `path`; nullopt if there is no such file. INVALID_ARGUMENT if it
// does not parse, INTERNAL if it cannot be read.
absl::StatusOr<std::optional<Report>> ReadReportFile(const std::string& path);

// "reconcile-20260320T020000Z.json": the report file name for a run started at `t`.
std::string ReportFileName(absl::Time t);

// A few lines for operators: totals, one line per service, orphans, stuck hand-offs.
std::string FormatSummary(const Report& report);

}  // namespace reconcile
}  // namespace pathway

#endif  // PATHWAY_TOOLS_RECONCILE_REPORT_H_
