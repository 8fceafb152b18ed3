#include "tools/pathwayctl/backup_command.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/audit/audit_log.h"
#include "common/idempotency/idempotency.h"
#include "common/server/backup.h"
#include "common/store/schema_migrations.h"
#include "pathway/common/v1/operations.grpc.pb.h"
#include "services/community_detox/community_detox_server.h"
#include "services/community_rehab/community_rehab_server.h"
#include "services/compulsory_isolation/compulsory_isolation_server.h"
#include "services/placement/placement_server.h"
#include "services/registry/registry_logic.h"
#include "tools/pathwayctl/command_common.h"

namespace pathway {
namespace pathwayctl {
namespace {

constexpr absl::string_view kBackupUsage =
    "usage: pathwayctl backup --dir DIR [--token T] [--timeout 10m]\n"
    "\n"
    "Backs up every service's embedded (SQLite) database while it keeps serving\n"
    "(Operations.Backup): creates DIR/<UTC timestamp>/ (mode 0700) and has each service\n"
    "write <service>.db and <service>.manifest.json there (mode 0600). DIR is an\n"
    "absolute path on the services' host. Prints one line per service:\n"
    "  <service> TAB ok TAB <file> TAB <bytes> bytes TAB audit seq <n>\n"
    "  <service> TAB failed TAB <CODE: message>\n"
    "then the backup directory. Keys (token, audit, PII key files) are never in a\n"
    "backup: keep them apart. A service on PostgreSQL answers FAILED_PRECONDITION:\n"
    "back PostgreSQL up with its own tools.\n"
    "  --token  a batch or admin token (default: $PATHWAY_TOKEN)\n"
    "Services are reached at $PATHWAY_REGISTRY_ADDR ... $PATHWAY_PLACEMENT_ADDR (or the\n"
    "development ports).\n"
    "\n"
    "Exit 0 when every service was backed up, 1 when any failed, 2 usage error.\n";

constexpr absl::string_view kRestoreCheckUsage =
    "usage: pathwayctl restore-check --dir DIR/<timestamp>\n"
    "\n"
    "Checks each service's backup in the directory against its manifest, reading the\n"
    "files only: the file's size and SHA-256; its schema versions, which must match the\n"
    "manifest and be no newer than this pathwayctl knows (a newer schema is refused);\n"
    "and its audit chain head (seq and hash). Prints one line per service:\n"
    "  <service> TAB ok TAB audit seq <n>\n"
    "  <service> TAB failed TAB <CODE: message>\n"
    "Restores nothing.\n"
    "\n"
    "Exit 0 when every backup checks out, 1 when any does not, 2 usage error.\n";

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return absl::StrCat(dir, "/", name);
}

std::string CodeText(const absl::Status& s) {
  return absl::StrCat(absl::StatusCodeToString(s.code()), ": ", s.message());
}

}  // namespace

absl::string_view BackupUsage() { return kBackupUsage; }
absl::string_view RestoreCheckUsage() { return kRestoreCheckUsage; }

std::map<std::string, int64_t> KnownSchemaVersions(const std::string& service) {
  std::vector<Migration> own;
  if (service == "registry") {
    own = registry::RegistryLogic::Migrations();
  } else if (service == "community_detox") {
    own = detox::CommunityDetoxMigrations();
  } else if (service == "compulsory_isolation") {
    own = isolation::CompulsoryIsolationMigrations();
  } else if (service == "community_rehab") {
    own = rehab::CommunityRehabMigrations();
  } else if (service == "placement") {
    own = placement::PlacementMigrations();
  } else {
    return {};
  }
  // What ServiceRuntime::Open adds to every service's own migrations.
  std::vector<Migration> all = AuditMigrations();
  for (Migration& m : IdempotencyMigrations()) all.push_back(std::move(m));
  for (Migration& m : own) all.push_back(std::move(m));
  return NewestSchemaVersions(all);
}

int RunBackupCommand(absl::Span<const std::string> args, const Environment& env,
                     const Clock& clock, std::ostream& out, std::ostream& err) {
  ParsedFlags flags = ParseFlags(args, {"--dir", "--token", "--timeout"}, {});
  if (flags.help) {
    out << kBackupUsage;
    return 0;
  }
  if (!flags.error.empty()) {
    err << "pathwayctl backup: " << flags.error << "\n" << kBackupUsage;
    return 2;
  }
  const std::string dir = flags.Get("--dir");
  if (!flags.positional.empty() || dir.empty()) {
    err << kBackupUsage;
    return 2;
  }
  if (dir.front() != '/') {
    err << "pathwayctl backup: --dir must be an absolute path\n";
    return 2;
  }
  absl::Duration timeout = absl::Minutes(10);
  if (flags.values.count("--timeout") > 0 &&
      (!absl::ParseDuration(flags.Get("--timeout"), &timeout) || timeout <= absl::ZeroDuration())) {
    err << "pathwayctl backup: --timeout must be a duration like 10m\n";
    return 2;
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    err << "pathwayctl backup: --dir must be an existing directory\n";
    return 2;
  }
  const std::string target =
      JoinPath(dir, absl::FormatTime("%Y%m%dT%H%M%SZ", clock.Now(), absl::UTCTimeZone()));
  if (::mkdir(target.c_str(), 0700) != 0) {
    err << "pathwayctl backup: cannot create " << target
        << (errno == EEXIST ? " (it exists already)" : "") << "\n";
    return 1;
  }
  const std::string token = flags.Get("--token", env.token);
  int failed = 0;
  for (const ServiceAddress& service : env.services) {
    std::shared_ptr<grpc::Channel> channel = OpenChannel(service.address, env.tls, err);
    if (channel == nullptr) return 2;
    auto stub = common::v1::Operations::NewStub(channel);
    common::v1::BackupRequest req;
    req.set_dir(target);
    common::v1::BackupResponse resp;
    grpc::Status s = stub->Backup(CallContext(token, timeout).get(), req, &resp);
    if (!s.ok()) {
      ++failed;
      out << service.name << "\tfailed\t" << StatusText(s) << "\n";
      continue;
    }
    out << service.name << "\tok\t" << resp.path() << "\t" << resp.manifest().bytes()
        << " bytes\taudit seq " << resp.manifest().audit_seq() << "\n";
  }
  out << "backup: " << target << (failed > 0 ? absl::StrCat(" (", failed, " failed)") : "")
      << "\n";
  return failed > 0 ? 1 : 0;
}

int RunRestoreCheckCommand(absl::Span<const std::string> args, const Environment& env,
                           std::ostream& out, std::ostream& err) {
  ParsedFlags flags = ParseFlags(args, {"--dir"}, {});
  if (flags.help) {
    out << kRestoreCheckUsage;
    return 0;
  }
  if (!flags.error.empty()) {
    err << "pathwayctl restore-check: " << flags.error << "\n" << kRestoreCheckUsage;
    return 2;
  }
  const std::string dir = flags.Get("--dir");
  if (!flags.positional.empty() || dir.empty()) {
    err << kRestoreCheckUsage;
    return 2;
  }
  int failed = 0;
  for (const ServiceAddress& service : env.services) {
    absl::Status s = CheckBackup(dir, service.name, KnownSchemaVersions(service.name));
    if (!s.ok()) {
      ++failed;
      out << service.name << "\tfailed\t" << CodeText(s) << "\n";
      continue;
    }
    absl::StatusOr<common::v1::BackupManifest> m =
        ReadBackupManifest(JoinPath(dir, BackupManifestFileName(service.name)));
    out << service.name << "\tok\taudit seq " << (m.ok() ? m->audit_seq() : 0) << "\n";
  }
  return failed > 0 ? 1 : 0;
}

}  // namespace pathwayctl
}  // namespace pathway
