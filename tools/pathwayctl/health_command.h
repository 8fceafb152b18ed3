// `pathwayctl health`: asks a server's standard health service whether it is serving,
// optionally waiting until it is (used by deploy/local/up.sh, handy at 3 a.m.).
//
//   pathwayctl health --addr 127.0.0.1:50051
//   pathwayctl health --addr 127.0.0.1:50051 --service pathway.status_cache
//   pathwayctl health --addr 127.0.0.1:50051 --wait 30s
//
// Prints the status (SERVING, NOT_SERVING, ...) and exits 0 only for SERVING;
// 1 when not serving or unreachable; 2 for a usage error.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_HEALTH_COMMAND_H_
#define PATHWAY_TOOLS_PATHWAYCTL_HEALTH_COMMAND_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/tls/tls.h"

namespace pathway {
namespace pathwayctl {

// `tls`: how to reach the server (Environment::tls).
int RunHealthCommand(absl::Span<const std::string> args, const TlsOptions& tls, std::ostream& out,
                     std::ostream& err);
absl::string_view HealthUsage();

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_HEALTH_COMMAND_H_
