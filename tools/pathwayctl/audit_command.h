// `pathwayctl audit`: an auditor's reading of the audit trail, and the offline
// check of a service's chain.
//
//   pathwayctl audit --case 520102-2026-0000042-2 [--from 2026-01-01] [--to 2026-07-01]
//   pathwayctl audit --user cw-0042 --from 2026-06-01T00:00:00+08:00
//   pathwayctl audit verify --db data/registry.db --key-file data/dev-audit.key
//       [--anchors data/registry.audit-anchor]
//
// Listing: asks every service (Environment::services, $PATHWAY_<X>_ADDR or the
// development ports; --<x>-addr overrides one) for its entries of the case or the
// user through Operations.ListAuditEntries, page by page, with an auditor's token,
// and prints them merged by time, one tab-separated line per entry: time (UTC, to
// the microsecond), service, seq, subject, role, action, case id, outcome,
// request id ("-" for an empty field). Every service gets the same x-request-id
// (--request-id, or a fresh one), so the listing's own audit entries can be found
// together. A service that does not answer, or refuses, is named on standard error
// with its code, and the exit code says so: 0 every service answered, 3 some did
// not (the others' entries are printed), 1 none did, 2 usage error.
//
// verify: checks a service's audit trail offline, from its database file and its
// anchor file, with the audit key (audit_log.h, audit_anchor.h). The database is
// opened read-only and never migrated, so a copy taken for an inspection can be
// checked as it is. --anchors defaults to the database path with ".db" replaced
// by ".audit-anchor". Prints "intact: N entries, keyed from seq K, M anchors
// checked, head seq S", or "BROKEN at seq N: <what>" naming the first changed,
// missing or extra entry. Exit 0 intact, 1 broken or unreadable, 2 usage error.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_AUDIT_COMMAND_H_
#define PATHWAY_TOOLS_PATHWAYCTL_AUDIT_COMMAND_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tools/pathwayctl/pathwayctl.h"

namespace pathway {
namespace pathwayctl {

int RunAuditCommand(absl::Span<const std::string> args, const Environment& env,
                    std::ostream& out, std::ostream& err);
absl::string_view AuditUsage();

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_AUDIT_COMMAND_H_
