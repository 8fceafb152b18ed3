// pathwayctl, the operators' client: subcommand dispatch.
//
//   pathwayctl help [COMMAND]
//   pathwayctl token --role caseworker --jurisdiction 520102
//   pathwayctl import postings --addr HOST:PORT --file postings.csv --errors errors.csv
//   pathwayctl export outcomes --addr HOST:PORT --from 2026-01-01 --to 2026-12-31
//   pathwayctl labor-reconcile --addr HOST:PORT --as-of 2026-12-31 --out diff.csv
//   pathwayctl outbox list|replay --addr HOST:PORT ...
//   pathwayctl audit verify --db FILE --key-file FILE [--anchors FILE]
//   pathwayctl audit --case ID | --user SUBJECT [--from T] [--to T]
//   pathwayctl backup --dir DIR
//   pathwayctl restore-check --dir DIR/<timestamp>
//
// main() reads the environment into an Environment and calls Run; each
// subcommand lives in its own <name>_command.{h,cc} and takes what it needs
// from Environment. Exit codes: 0 ok, 1 failure, 2 usage error (including an
// unknown or missing subcommand).
//
// Plain functions; thread-safe as long as the streams are not shared.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_PATHWAYCTL_H_
#define PATHWAY_TOOLS_PATHWAYCTL_PATHWAYCTL_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "common/clock/clock.h"
#include "common/tls/tls.h"

namespace pathway {
namespace pathwayctl {

inline constexpr char kTokenKeyFileEnv[] = "PATHWAY_TOKEN_KEY_FILE";

// A Pathway service and where pathwayctl reaches it.
struct ServiceAddress {
  std::string name;     // "registry", "community_detox", ...
  std::string address;  // host:port
};

// The five services at their development ports (deploy/local/up.sh), in pathway
// order; main() replaces each address with $PATHWAY_<X>_ADDR when set, the
// variables the services themselves read.
std::vector<ServiceAddress> DefaultServiceAddresses();
// The environment variable of each service's address, e.g. "PATHWAY_DETOX_ADDR".
std::string ServiceAddressEnv(const std::string& service_name);

// What pathwayctl takes from the process environment (empty when unset).
struct Environment {
  std::string token_key_file;  // $PATHWAY_TOKEN_KEY_FILE
  // How commands reach a server: ClientTlsFromEnvironment() (PATHWAY_TLS_*).
  TlsOptions tls = PlaintextTls();
  std::string token;           // $PATHWAY_TOKEN
  // Every service, for commands that ask them all (audit, backup).
  std::vector<ServiceAddress> services = DefaultServiceAddresses();
  // Standard error is a terminal: bulk commands show a progress line there.
  bool stderr_is_terminal = false;
};

// Runs pathwayctl with `args` (argv without the program name). `clock`: not
// owned; used only during the call.
int Run(absl::Span<const std::string> args, const Environment& env, const Clock& clock,
        std::ostream& out, std::ostream& err);

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_PATHWAYCTL_H_
