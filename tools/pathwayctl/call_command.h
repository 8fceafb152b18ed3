// `pathwayctl call`: calls any Pathway RPC with JSON in and JSON out. The message
// descriptors are compiled in, so it needs no server reflection; unary and
// server-streaming RPCs are supported (a stream prints one JSON object per line).
//
//   pathwayctl call --addr 127.0.0.1:50051 pathway.registry.v1.Registry/GetCase
//       '{"case_id": "520102-2026-0000001-X"}'
//   echo '{...}' | pathwayctl call --addr ... Service/Method -
//   pathwayctl methods            # what can be called
//
// The token comes from --token or PATHWAY_TOKEN; --idempotency-key sets the header
// so a retried write is applied once.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_CALL_COMMAND_H_
#define PATHWAY_TOOLS_PATHWAYCTL_CALL_COMMAND_H_

#include <istream>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/tls/tls.h"

namespace pathway {
namespace pathwayctl {

int RunCallCommand(absl::Span<const std::string> args, absl::string_view token_from_env,
                   const TlsOptions& tls, std::istream& in, std::ostream& out, std::ostream& err);
int RunMethodsCommand(std::ostream& out);
absl::string_view CallUsage();

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_CALL_COMMAND_H_
