#include "tools/pathwayctl/pathwayctl.h"

#include <iostream>

#include "absl/strings/string_view.h"
#include "tools/pathwayctl/backup_command.h"
#include "tools/pathwayctl/call_command.h"
#include "tools/pathwayctl/export_command.h"
#include "tools/pathwayctl/health_command.h"
#include "tools/pathwayctl/import_command.h"
#include "tools/pathwayctl/labor_reconcile_command.h"
#include "tools/pathwayctl/audit_command.h"
#include "tools/pathwayctl/outbox_command.h"
#include "tools/pathwayctl/token_command.h"

namespace pathway {
namespace pathwayctl {
namespace {

constexpr absl::string_view kUsage =
    "usage: pathwayctl COMMAND [FLAGS]\n"
    "\n"
    "commands:\n"
    "  token   mint a signed bearer token\n"
    "  health  ask a server whether it is serving (optionally wait until it is)\n"
    "  call    call any RPC with JSON in and JSON out\n"
    "  methods list the RPCs 'call' knows\n"
    "  import  stream a CSV file of postings or registrations to the placement service\n"
    "  export  export placement outcomes as CSV\n"
    "  labor-reconcile  retention checkpoints against the labor bureau's registrations\n"
    "  outbox  list a service's stuck hand-offs, or replay parked ones\n"
    "  audit   an auditor's listing of a case's or a user's audit entries in every\n"
    "          service; or verify a service's audit chain from its files\n"
    "  backup  back up every service's embedded database into a new directory\n"
    "  restore-check  check a backup directory against its manifests\n"
    "  help    show this text, or 'help COMMAND' for a command's flags\n";

}  // namespace

std::vector<ServiceAddress> DefaultServiceAddresses() {
  return {{"registry", "127.0.0.1:50051"},
          {"community_detox", "127.0.0.1:50052"},
          {"compulsory_isolation", "127.0.0.1:50053"},
          {"community_rehab", "127.0.0.1:50054"},
          {"placement", "127.0.0.1:50055"}};
}

std::string ServiceAddressEnv(const std::string& service_name) {
  if (service_name == "registry") return "PATHWAY_REGISTRY_ADDR";
  if (service_name == "community_detox") return "PATHWAY_DETOX_ADDR";
  if (service_name == "compulsory_isolation") return "PATHWAY_ISOLATION_ADDR";
  if (service_name == "community_rehab") return "PATHWAY_REHAB_ADDR";
  if (service_name == "placement") return "PATHWAY_PLACEMENT_ADDR";
  return "";
}

int Run(absl::Span<const std::string> args, const Environment& env, const Clock& clock,
        std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kUsage;
    return 2;
  }
  const std::string& command = args[0];
  absl::Span<const std::string> rest = args.subspan(1);
  if (command == "token") {
    return RunTokenCommand(rest, env.token_key_file, clock, out, err);
  }
  if (command == "health") return RunHealthCommand(rest, env.tls, out, err);
  if (command == "call") return RunCallCommand(rest, env.token, env.tls, std::cin, out, err);
  if (command == "methods") return RunMethodsCommand(out);
  if (command == "import") return RunImportCommand(rest, env, clock, out, err);
  if (command == "export") return RunExportCommand(rest, env, clock, out, err);
  if (command == "labor-reconcile") return RunLaborReconcileCommand(rest, env, clock, out, err);
  if (command == "outbox") return RunOutboxCommand(rest, env, out, err);
  if (command == "audit") return RunAuditCommand(rest, env, out, err);
  if (command == "backup") return RunBackupCommand(rest, env, clock, out, err);
  if (command == "restore-check") return RunRestoreCheckCommand(rest, env, out, err);
  if (command == "help" || command == "--help" || command == "-h") {
    if (!rest.empty() && rest[0] == "token") {
      out << TokenUsage();
    } else if (!rest.empty() && rest[0] == "health") {
      out << HealthUsage();
    } else if (!rest.empty() && rest[0] == "call") {
      out << CallUsage();
    } else if (!rest.empty() && rest[0] == "import") {
      out << ImportUsage();
    } else if (!rest.empty() && rest[0] == "export") {
      out << ExportUsage();
    } else if (!rest.empty() && rest[0] == "labor-reconcile") {
      out << LaborReconcileUsage();
    } else if (!rest.empty() && rest[0] == "outbox") {
      out << OutboxUsage();
    } else if (!rest.empty() && rest[0] == "audit") {
      out << AuditUsage();
    } else if (!rest.empty() && rest[0] == "backup") {
      out << BackupUsage();
    } else if (!rest.empty() && rest[0] == "restore-check") {
      out << RestoreCheckUsage();
    } else {
      out << kUsage;
    }
    return 0;
  }
  err << "pathwayctl: unknown command \"" << command << "\"\n" << kUsage;
  return 2;
}

}  // namespace pathwayctl
}  // namespace pathway
