#include "tools/pathwayctl/export_command.h"

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "pathway/placement/v1/placement.grpc.pb.h"
#include "tools/pathwayctl/command_common.h"
#include "tools/pathwayctl/csv.h"

namespace pathway {
namespace pathwayctl {
namespace {

namespace v1 = placement::v1;

constexpr absl::string_view kUsage =
    "usage: pathwayctl export outcomes --addr HOST:PORT --from YYYY-MM-DD --to YYYY-MM-DD\n"
    "           [--out F.csv] [--rows-per-message 500] [--token T] [--timeout 1h]\n"
    "\n"
    "Placements whose contract started from --from to --to (inclusive), in the caller's\n"
    "jurisdiction, as CSV (UTF-8, header row) to --out or standard output. Columns:\n"
    "  placement_id, division, employer_credit_code, mode (CONCENTRATED, DISPERSED,\n"
    "  SELF_EMPLOYMENT), contract_start, contract_end, contract_one_year_or_more\n"
    "  (true/false), state (ACTIVE, SUSPENDED, ENDED), ended_on, and for each retention\n"
    "  checkpoint N of 1, 3, 6, 12 months: retention_Nm_due_on, retention_Nm_outcome\n"
    "  (STILL_EMPLOYED, LEFT, UNKNOWN, LAPSED; empty: not recorded), retention_Nm_checked_on\n"
    "  --token     labor bureau, auditor or admin token (default: $PATHWAY_TOKEN)\n"
    "  --timeout   deadline of the whole export (default 1h)\n"
    "\n"
    "Exit 0 ok, 1 the call failed (no --out file is left behind), 2 usage error.\n";

constexpr int kCheckpointMonths[] = {1, 3, 6, 12};

}  // namespace

absl::string_view ExportUsage() { return kUsage; }

std::vector<std::string> OutcomeCsvHeader() {
  std::vector<std::string> h = {"placement_id", "division",   "employer_credit_code",
                                "mode",         "contract_start", "contract_end",
                                "contract_one_year_or_more", "state", "ended_on"};
  for (int m : kCheckpointMonths) {
    h.push_back(absl::StrCat("retention_", m, "m_due_on"));
    h.push_back(absl::StrCat("retention_", m, "m_outcome"));
    h.push_back(absl::StrCat("retention_", m, "m_checked_on"));
  }
  return h;
}

std::vector<std::string> OutcomeCsvFields(const v1::PlacementOutcome& o) {
  std::vector<std::string> f = {
      absl::StrCat(o.placement_id()),
      o.division(),
      o.employer_credit_code(),
      EnumWord(v1::PlacementMode_Name(o.mode()), "PLACEMENT_MODE_"),
      FormatCsvDate(o.contract_start()),
      FormatCsvDate(o.contract_end()),
      o.contract_one_year_or_more() ? "true" : "false",
      EnumWord(v1::PlacementState_Name(o.state()), "PLACEMENT_STATE_"),
      FormatCsvDate(o.ended_on())};
  for (int m : kCheckpointMonths) {
    const v1::RetentionCheckpoint* cp = nullptr;
    for (const v1::RetentionCheckpoint& c : o.checkpoints()) {
      if (c.months() == m) cp = &c;
    }
    if (cp == nullptr) {
      f.insert(f.end(), {"", "", ""});
      continue;
    }
    f.push_back(FormatCsvDate(cp->due_on()));
    f.push_back(EnumWord(v1::RetentionOutcome_Name(cp->outcome()), "RETENTION_OUTCOME_"));
    f.push_back(FormatCsvDate(cp->checked_on()));
  }
  return f;
}

int RunExportCommand(absl::Span<const std::string> args, const Environment& env,
                     const Clock& clock, std::ostream& out, std::ostream& err) {
  ParsedFlags flags = ParseFlags(
      args, {"--addr", "--from", "--to", "--out", "--rows-per-message", "--token", "--timeout"},
      {});
  if (flags.help) {
    out << kUsage;
    return 0;
  }
  if (!flags.error.empty()) {
    err << "pathwayctl export: " << flags.error << "\n" << kUsage;
    return 2;
  }
  if (flags.positional.size() != 1 || flags.positional[0] != "outcomes" ||
      flags.Get("--addr").empty()) {
    err << kUsage;
    return 2;
  }
  std::optional<common::v1::Date> from = ParseCsvDate(flags.Get("--from"));
  std::optional<common::v1::Date> to = ParseCsvDate(flags.Get("--to"));
  if (!from.has_value() || !to.has_value()) {
    err << "pathwayctl export: --from and --to must be dates YYYY-MM-DD\n";
    return 2;
  }
  int rows_per_message = 500;
  if (flags.values.count("--rows-per-message") > 0 &&
      (!absl::SimpleAtoi(flags.Get("--rows-per-message"), &rows_per_message) ||
       rows_per_message < 1 || rows_per_message > 1000)) {
    err << "pathwayctl export: --rows-per-message must be 1..1000\n";
    return 2;
  }
  absl::Duration timeout = absl::Hours(1);
  if (flags.values.count("--timeout") > 0 &&
      (!absl::ParseDuration(flags.Get("--timeout"), &timeout) || timeout <= absl::ZeroDuration())) {
    err << "pathwayctl export: --timeout must be a duration like 1h\n";
    return 2;
  }
  OutputSink sink;
  std::string error;
  if (!sink.Open(flags.Get("--out"), &out, &error)) {
    err << "pathwayctl export: " << error << "\n";
    return 2;
  }
  v1::ExportOutcomesRequest request;
  *request.mutable_period_start() = *from;
  *request.mutable_period_end() = *to;
  request.set_rows_per_message(rows_per_message);
  std::shared_ptr<grpc::Channel> channel = OpenChannel(flags.Get("--addr"), env.tls, err);
  if (channel == nullptr) return 2;
  auto stub = v1::Placement::NewStub(channel);
  std::unique_ptr<grpc::ClientContext> ctx =
      CallContext(flags.Get("--token", env.token), timeout);
  std::unique_ptr<grpc::ClientReader<v1::ExportOutcomesChunk>> reader =
      stub->ExportOutcomes(ctx.get(), request);
  Progress progress(err, env.stderr_is_terminal, clock, "placements");
  WriteCsvRow(sink.stream(), OutcomeCsvHeader());
  v1::ExportOutcomesChunk chunk;
  int64_t rows = 0;
  while (reader->Read(&chunk)) {
    for (const v1::PlacementOutcome& o : chunk.outcomes()) {
      WriteCsvRow(sink.stream(), OutcomeCsvFields(o));
      ++rows;
    }
    progress.Update(rows);
  }
  grpc::Status status = reader->Finish();
  progress.Finish();
  if (!status.ok()) {
    err << "pathwayctl export: " << StatusText(status) << "\n";
    return 1;
  }
  if (!sink.Commit(&error)) {
    err << "pathwayctl export: " << error << "\n";
    return 1;
  }
  err << "pathwayctl export outcomes: " << rows << " placements\n";
  return 0;
}

}  // namespace pathwayctl
}  // namespace pathway
