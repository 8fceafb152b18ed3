// `pathwayctl export outcomes`: the labor bureau's placement outcomes (ExportOutcomes,
// server streaming) as CSV, one row per placement, with a generous overall deadline and
// a progress line on a terminal. No case id and no treatment history: the server sends
// none.
//
//   pathwayctl export outcomes --addr 127.0.0.1:50055 --from 2026-01-01
//       --to 2026-12-31 --out outcomes-2026.csv
//
// Columns: see ExportUsage(). With --out the file appears only when the export completed
// (written beside it, then renamed). Exit 0 ok, 1 the call failed, 2 usage error.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_EXPORT_COMMAND_H_
#define PATHWAY_TOOLS_PATHWAYCTL_EXPORT_COMMAND_H_

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

int RunExportCommand(absl::Span<const std::string> args, const Environment& env,
                     const Clock& clock, std::ostream& out, std::ostream& err);
absl::string_view ExportUsage();

// The CSV header and one outcome as CSV fields (exposed for tests).
std::vector<std::string> OutcomeCsvHeader();
std::vector<std::string> OutcomeCsvFields(const placement::v1::PlacementOutcome& outcome);

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_EXPORT_COMMAND_H_
