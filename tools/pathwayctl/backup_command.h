// `pathwayctl backup` and `pathwayctl restore-check`: backups of the five services'
// embedded (SQLite) databases (Operations.Backup; common/server/backup.h).
//
//   pathwayctl backup --dir /srv/pathway-backup
//   pathwayctl restore-check --dir /srv/pathway-backup/20261207T220000Z
//
// `backup` creates DIR/<UTC timestamp>/ (mode 0700) and asks every service to copy
// its database there: one line per service, "<service>\tok\t<file>\t<bytes>
// bytes\taudit seq <n>" or "<service>\tfailed\t<CODE: message>". DIR is on the
// services' host (the embedded deployment runs them on one host). `restore-check`
// checks each service's backup file in a directory against its manifest: size and
// SHA-256, schema versions not newer than this binary knows, and the audit head.
// It opens the files read-only and restores nothing. Exit 0 when every service
// succeeded, 1 when any failed, 2 usage error.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_BACKUP_COMMAND_H_
#define PATHWAY_TOOLS_PATHWAYCTL_BACKUP_COMMAND_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/clock/clock.h"
#include "tools/pathwayctl/pathwayctl.h"

namespace pathway {
namespace pathwayctl {

int RunBackupCommand(absl::Span<const std::string> args, const Environment& env,
                     const Clock& clock, std::ostream& out, std::ostream& err);
int RunRestoreCheckCommand(absl::Span<const std::string> args, const Environment& env,
                           std::ostream& out, std::ostream& err);
absl::string_view BackupUsage();
absl::string_view RestoreCheckUsage();

// The newest schema version of each component this binary's `service` runs with
// (its migrations, the audit's and the idempotency keys'); empty for an unknown
// service.
std::map<std::string, int64_t> KnownSchemaVersions(const std::string& service);

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_BACKUP_COMMAND_H_
