#include "tools/pathwayctl/audit_command.h"

#include <vector>

#include "absl/strings/match.h"
#include "common/audit/audit_anchor.h"
#include "common/audit/audit_log.h"
#include "common/auth/token.h"
#include "tools/pathwayctl/command_common.h"

namespace pathway {
namespace pathwayctl {

absl::string_view AuditUsage() {
  return "usage: pathwayctl audit verify --db FILE --key-file FILE [--anchors FILE]\n"
         "  Verifies a service's audit chain offline: every entry's keyed hash and link,\n"
         "  and every anchor in the anchor file (default: FILE with .db replaced by\n"
         "  .audit-anchor). Names the first changed, missing or extra entry.\n"
         "  Exit 0 intact, 1 broken or unreadable, 2 usage error.\n";
}

int RunAuditCommand(absl::Span<const std::string> args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] != "verify") {
    err << AuditUsage();
    return 2;
  }
  ParsedFlags flags = ParseFlags(args.subspan(1), {"--db", "--key-file", "--anchors"}, {});
  if (flags.help) {
    out << AuditUsage();
    return 0;
  }
  const std::string db = flags.Get("--db");
  const std::string key_file = flags.Get("--key-file");
  if (!flags.error.empty() || db.empty() || key_file.empty()) {
    err << (flags.error.empty() ? "--db and --key-file are required" : flags.error) << "\n"
        << AuditUsage();
    return 2;
  }
  std::string anchors_path = flags.Get("--anchors");
  if (anchors_path.empty()) {
    anchors_path = absl::EndsWith(db, ".db") ? db.substr(0, db.size() - 3) : db;
    anchors_path += ".audit-anchor";
  }
  absl::StatusOr<std::string> key = LoadKeyFile(key_file);
  if (!key.ok()) {
    err << "pathwayctl audit: " << key.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::vector<AuditAnchor>> anchors = ReadAuditAnchors(anchors_path, *key);
  if (!anchors.ok()) {
    if (anchors.status().code() == absl::StatusCode::kNotFound) {
      out << "BROKEN: no anchor file " << anchors_path << "\n";
    } else {
      out << "BROKEN: " << anchors.status().message() << "\n";
    }
    return 1;
  }
  AuditVerifyReport report;
  absl::Status s = VerifyAuditDatabaseFile(db, *key, *anchors, &report);
  if (s.ok()) {
    out << "intact: " << report.rows_checked << " entries, keyed from seq "
        << report.keyed_from_seq << ", " << report.anchors_checked << " anchors checked, head seq "
        << report.head.seq << "\n";
    return 0;
  }
  if (s.code() == absl::StatusCode::kDataLoss) {
    out << "BROKEN at seq " << report.first_bad_seq << ": " << report.problem << " ("
        << report.rows_checked << " entries intact before it)\n";
  } else {
    err << "pathwayctl audit: " << s.message() << "\n";
  }
  return 1;
}

}  // namespace pathwayctl
}  // namespace pathway
