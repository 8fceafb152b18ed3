// `pathwayctl audit verify`: checks a service's audit trail offline, from its
// database file and its anchor file, with the audit key (audit_log.h,
// audit_anchor.h). The database is opened read-only and never migrated, so a copy
// taken for an inspection can be checked as it is.
//
//   pathwayctl audit verify --db data/registry.db --key-file data/dev-audit.key
//       [--anchors data/registry.audit-anchor]
//
// --anchors defaults to the database path with ".db" replaced by ".audit-anchor".
// Prints "intact: N entries, keyed from seq K, M anchors checked, head seq S", or
// "BROKEN at seq N: <what>" naming the first changed, missing or extra entry.
// Exit 0 intact, 1 broken or unreadable, 2 usage error.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_AUDIT_COMMAND_H_
#define PATHWAY_TOOLS_PATHWAYCTL_AUDIT_COMMAND_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace pathway {
namespace pathwayctl {

int RunAuditCommand(absl::Span<const std::string> args, std::ostream& out, std::ostream& err);
absl::string_view AuditUsage();

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_AUDIT_COMMAND_H_
