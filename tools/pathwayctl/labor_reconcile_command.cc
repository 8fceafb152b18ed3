#include "tools/pathwayctl/labor_reconcile_command.h"

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
    "usage: pathwayctl labor-reconcile --addr HOST:PORT --as-of YYYY-MM-DD [--out F.csv]\n"
    "           [--page-size 500] [--token T] [--timeout 60s]\n"
    "\n"
    "Placements' retention checkpoints against the labor bureau's employment and\n"
    "unemployment registrations as of --as-of (ReconcileRetention; the rules are on\n"
    "DiscrepancyKind in pathway/placement/v1/placement.proto), as CSV (UTF-8, header row)\n"
    "to --out or standard output. Columns:\n"
    "  kind (RETAINED_BUT_UNEMPLOYED, RETAINED_WITHOUT_EMPLOYMENT_REGISTRATION,\n"
    "  LEFT_BUT_EMPLOYMENT_REGISTERED, EMPLOYED_ELSEWHERE, UNKNOWN_WITH_BUREAU_EVIDENCE),\n"
    "  case_id (empty for a labor bureau token), placement_id, division,\n"
    "  employer_credit_code, contract_start, months (0: the whole placement), due_on,\n"
    "  placement_says (STILL_EMPLOYED, LEFT, UNKNOWN, NOT_RECORDED), checked_on,\n"
    "  bureau_record_id, bureau_kind (EMPLOYMENT, UNEMPLOYMENT; empty: no registration),\n"
    "  bureau_employer_credit_code, bureau_division, bureau_registered_on, explanation\n"
    "  --token      caseworker, labor bureau, auditor, batch or admin token\n"
    "               (default: $PATHWAY_TOKEN)\n"
    "  --timeout    deadline of each page's call (default 60s)\n"
    "\n"
    "Exit 0 ok (discrepancies are the output, not a failure), 1 a call failed (no --out\n"
    "file is left behind), 2 usage error.\n";

}  // namespace

absl::string_view LaborReconcileUsage() { return kUsage; }

std::vector<std::string> DiscrepancyCsvHeader() {
  return {"kind",
          "case_id",
          "placement_id",
          "division",
          "employer_credit_code",
          "contract_start",
          "months",
          "due_on",
          "placement_says",
          "checked_on",
          "bureau_record_id",
          "bureau_kind",
          "bureau_employer_credit_code",
          "bureau_division",
          "bureau_registered_on",
          "explanation"};
}

std::vector<std::string> DiscrepancyCsvFields(const v1::RetentionDiscrepancy& d) {
  std::string says = EnumWord(v1::RetentionOutcome_Name(d.placement_says()), "RETENTION_OUTCOME_");
  if (says.empty() && d.months() != 0) says = "NOT_RECORDED";
  const v1::BureauRegistration& b = d.bureau_says();
  return {EnumWord(v1::DiscrepancyKind_Name(d.kind()), "DISCREPANCY_KIND_"),
          d.case_id(),
          absl::StrCat(d.placement_id()),
          d.division(),
          d.employer_credit_code(),
          FormatCsvDate(d.contract_start()),
          absl::StrCat(d.months()),
          FormatCsvDate(d.due_on()),
          says,
          FormatCsvDate(d.checked_on()),
          b.record_id(),
          EnumWord(v1::RegistrationKind_Name(b.kind()), "REGISTRATION_KIND_"),
          b.employer_credit_code(),
          b.division(),
          FormatCsvDate(b.registered_on()),
          d.explanation()};
}

int RunLaborReconcileCommand(absl::Span<const std::string> args, const Environment& env,
                             const Clock& clock, std::ostream& out, std::ostream& err) {
  ParsedFlags flags = ParseFlags(
      args, {"--addr", "--as-of", "--out", "--page-size", "--token", "--timeout"}, {});
  if (flags.help) {
    out << kUsage;
    return 0;
  }
  if (!flags.error.empty()) {
    err << "pathwayctl labor-reconcile: " << flags.error << "\n" << kUsage;
    return 2;
  }
  if (!flags.positional.empty() || flags.Get("--addr").empty()) {
    err << kUsage;
    return 2;
  }
  std::optional<common::v1::Date> as_of = ParseCsvDate(flags.Get("--as-of"));
  if (!as_of.has_value()) {
    err << "pathwayctl labor-reconcile: --as-of must be a date YYYY-MM-DD\n";
    return 2;
  }
  int page_size = 500;
  if (flags.values.count("--page-size") > 0 &&
      (!absl::SimpleAtoi(flags.Get("--page-size"), &page_size) || page_size < 1 ||
       page_size > 500)) {
    err << "pathwayctl labor-reconcile: --page-size must be 1..500\n";
    return 2;
  }
  absl::Duration timeout = absl::Seconds(60);
  if (flags.values.count("--timeout") > 0 &&
      (!absl::ParseDuration(flags.Get("--timeout"), &timeout) || timeout <= absl::ZeroDuration())) {
    err << "pathwayctl labor-reconcile: --timeout must be a duration like 60s\n";
    return 2;
  }
  OutputSink sink;
  std::string error;
  if (!sink.Open(flags.Get("--out"), &out, &error)) {
    err << "pathwayctl labor-reconcile: " << error << "\n";
    return 2;
  }
  std::shared_ptr<grpc::Channel> channel = OpenChannel(flags.Get("--addr"), env.tls, err);
  if (channel == nullptr) return 2;
  auto stub = v1::Placement::NewStub(channel);
  const std::string token = flags.Get("--token", env.token);
  Progress progress(err, env.stderr_is_terminal, clock, "discrepancies");
  WriteCsvRow(sink.stream(), DiscrepancyCsvHeader());
  v1::ReconcileRetentionRequest request;
  *request.mutable_as_of() = *as_of;
  request.mutable_page()->set_page_size(page_size);
  int64_t rows = 0, examined = 0, without_index = 0, backfilled = 0;
  while (true) {
    v1::ReconcileRetentionResponse response;
    std::unique_ptr<grpc::ClientContext> ctx = CallContext(token, timeout);
    grpc::Status status = stub->ReconcileRetention(ctx.get(), request, &response);
    if (!status.ok()) {
      progress.Finish();
      err << "pathwayctl labor-reconcile: " << StatusText(status) << "\n";
      return 1;
    }
    for (const v1::RetentionDiscrepancy& d : response.discrepancies()) {
      WriteCsvRow(sink.stream(), DiscrepancyCsvFields(d));
      ++rows;
    }
    examined += response.placements_examined();
    without_index += response.placements_without_index();
    backfilled += response.seekers_backfilled();
    progress.Update(rows);
    if (response.page().next_page_token().empty()) break;
    request.mutable_page()->set_page_token(response.page().next_page_token());
  }
  progress.Finish();
  if (!sink.Commit(&error)) {
    err << "pathwayctl labor-reconcile: " << error << "\n";
    return 1;
  }
  err << "pathwayctl labor-reconcile: " << rows << " discrepancies; " << examined
      << " placements examined, " << without_index
      << " without a labor exchange index (not matched)";
  if (backfilled > 0) err << "; " << backfilled << " seekers' index fetched from the registry";
  err << "\n";
  return 0;
}

}  // namespace pathwayctl
}  // namespace pathway
