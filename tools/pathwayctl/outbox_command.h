// `pathwayctl outbox`: an operator's view of a service's outbox of hand-offs
// (DESIGN.md §5) through pathway.common.v1.Operations, and the replay of parked ones.
//
//   pathwayctl outbox list   --addr 127.0.0.1:50053
//   pathwayctl outbox replay --addr 127.0.0.1:50053 --ids 12,15
//   pathwayctl outbox replay --addr 127.0.0.1:50053 --all --target placement
//
// `list` prints the counts, then one tab-separated line per stuck hand-off (parked,
// or pending longer than --older-than): id, state, target, method, idempotency key,
// attempts, created at, last error code and the receiver's message. Never a payload.
// `replay` prints the ids put back into the outbox. Exit 0 ok, 1 the call failed,
// 2 usage error.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_OUTBOX_COMMAND_H_
#define PATHWAY_TOOLS_PATHWAYCTL_OUTBOX_COMMAND_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tools/pathwayctl/pathwayctl.h"

namespace pathway {
namespace pathwayctl {

int RunOutboxCommand(absl::Span<const std::string> args, const Environment& env, std::ostream& out,
                     std::ostream& err);
absl::string_view OutboxUsage();

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_OUTBOX_COMMAND_H_
