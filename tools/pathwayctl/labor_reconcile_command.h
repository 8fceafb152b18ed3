// `pathwayctl labor-reconcile`: the labor bureau reconciliation (ReconcileRetention,
// paged) as CSV: every discrepancy between placements' retention checkpoints and the
// bureau's employment and unemployment registrations as of a day. Each page is one call
// with its own deadline; a progress line on a terminal.
//
//   pathwayctl labor-reconcile --addr 127.0.0.1:50055 --as-of 2026-12-31 --out diff.csv
//
// Columns: see LaborReconcileUsage(); case_id stays empty for a labor bureau token (the
// server never sends it). Exit 0 ok (discrepancies are data, not failure), 1 a call
// failed, 2 usage error.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_LABOR_RECONCILE_COMMAND_H_
#define PATHWAY_TOOLS_PATHWAYCTL_LABOR_RECONCILE_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/clock/clock.h"
#include "pathway/placement/v1/placement.pb.h"
#include "tools/pathwayctl/pathwayctl.h"

namespace pathway {
namespace pathwayctl {

int RunLaborReconcileCommand(absl::Span<const std::string> args, const Environment& env,
                             const Clock& clock, std::ostream& out, std::ostream& err);
absl::string_view LaborReconcileUsage();

std::vector<std::string> DiscrepancyCsvHeader();
std::vector<std::string> DiscrepancyCsvFields(const placement::v1::RetentionDiscrepancy& d);

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_LABOR_RECONCILE_COMMAND_H_
