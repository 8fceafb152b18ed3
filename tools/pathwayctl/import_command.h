// `pathwayctl import`: streams a labor bureau CSV file of job postings or of employment
// and unemployment registrations through ImportPostings / ImportRegistrations (client
// streaming, --batch rows per message), reading the file one record at a time so a
// million rows take constant memory. Shows progress on a terminal; writes every
// refused row (file row, line, record id, field, reason), local and server-side, in
// row order to --errors, or a summary to stderr.
//
//   pathwayctl import postings --addr 127.0.0.1:50055 --file postings.csv
//       --errors postings-errors.csv
//   pathwayctl import registrations --addr ... --file regs.csv --validate-only
//
// Columns (header row required, any order, names case-insensitive; UTF-8) are those of
// PostingRow and RegistrationRow in pathway/placement/v1/placement.proto; see
// ImportUsage(). Exit: 0 every row accepted; 1 some rows refused (report written) or
// the call failed; 2 usage error (flags, unreadable file, bad header).
#ifndef PATHWAY_TOOLS_PATHWAYCTL_IMPORT_COMMAND_H_
#define PATHWAY_TOOLS_PATHWAYCTL_IMPORT_COMMAND_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/clock/clock.h"
#include "tools/pathwayctl/pathwayctl.h"

namespace pathway {
namespace pathwayctl {

// `clock`: not owned; used for the progress display only.
int RunImportCommand(absl::Span<const std::string> args, const Environment& env,
                     const Clock& clock, std::ostream& out, std::ostream& err);
absl::string_view ImportUsage();

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_IMPORT_COMMAND_H_
