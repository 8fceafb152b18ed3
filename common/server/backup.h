// Backups of a service's embedded (SQLite) database: the Operations Backup RPC
// takes one (operations_service.h), `pathwayctl restore-check` checks one.
//
//   ASSIGN_OR_RETURN(common::v1::BackupResponse taken,
//                    TakeSqliteBackup(sqlite_store, "registry", "/srv/backup/20261207", now));
//   ...
//   RETURN_IF_ERROR(CheckBackup("/srv/backup/20261207", "registry", known_versions));
//
// A backup of service S in directory D is two files, both mode 0600:
//   D/S.db             a consistent copy of the database (SqliteStore::BackupTo)
//   D/S.manifest.json  a common.v1.BackupManifest in protobuf's JSON form, read
//                      from the copy itself: schema versions, audit head, outbox
//                      and idempotency high-water marks, size, SHA-256, time.
// Keys (token, audit, PII) are files of their own and never in a backup.
//
// Stateless; thread-safe.
#ifndef PATHWAY_COMMON_SERVER_BACKUP_H_
#define PATHWAY_COMMON_SERVER_BACKUP_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/store/sqlite_store.h"
#include "pathway/common/v1/operations.pb.h"

namespace pathway {

// "<service>.db" and "<service>.manifest.json".
std::string BackupFileName(absl::string_view service);
std::string BackupManifestFileName(absl::string_view service);

// INVALID_ARGUMENT unless `dir` is an absolute path naming an existing directory.
absl::Status ValidateBackupDir(const std::string& dir);

// Describes the backup file at `path` (opened read-only, never changed): what
// its manifest records. NOT_FOUND if it cannot be opened; UNAVAILABLE if it
// cannot be read.
absl::StatusOr<common::v1::BackupManifest> DescribeBackupFile(const std::string& path,
                                                              absl::string_view service,
                                                              absl::Time taken_at);

// Copies `store` into `dir` and writes the manifest beside the copy. Errors as
// the Backup RPC's (operations.proto): INVALID_ARGUMENT for a bad dir,
// ALREADY_EXISTS if dir holds this service's backup or manifest, UNAVAILABLE if
// writing failed (nothing is left behind then).
absl::StatusOr<common::v1::BackupResponse> TakeSqliteBackup(SqliteStore& store,
                                                            absl::string_view service,
                                                            const std::string& dir,
                                                            absl::Time now);

// Reads and parses a manifest file. NOT_FOUND if missing, DATA_LOSS if not a
// manifest.
absl::StatusOr<common::v1::BackupManifest> ReadBackupManifest(const std::string& path);

// Checks the backup of `service` in `dir` against its manifest: the file's size
// and SHA-256; then, opening it read-only, that its schema versions are the
// manifest's and none is newer than `known_versions` (what this binary knows:
// a newer schema is refused), and that its audit head (seq and hash) is the
// manifest's. NOT_FOUND for a missing file or manifest, DATA_LOSS for a
// mismatch, FAILED_PRECONDITION for a newer schema. The message names the
// first problem found.
absl::Status CheckBackup(const std::string& dir, absl::string_view service,
                         const std::map<std::string, int64_t>& known_versions);

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_BACKUP_H_
