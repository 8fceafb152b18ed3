// The worklist and the programme index (registry.proto GetWorklist,
// ReportProgramStatuses): one transaction per use case, free of gRPC types.
//
//   ASSIGN_OR_RETURN(v1::GetWorklistResponse page,
//                    ReadWorklist(tx, caller, request, legal_time::ToCivilDay(now)));
//
// Whose items (DESIGN.md §6, "who sees is not who acts"): the items of programmes the
// caller executes (CheckExecutesCase: a township caller the cases of its township
// or assigned to it, executed in its county; anyone else the programmes executed
// inside its jurisdiction), for the programmes its role works, sealed records left
// out. The query narrows in SQL; every row is checked again here with the same rule
// the programme services apply, so the SQL can only ever be too wide, never leak.
//
// Stateless functions; thread-safe as the transactions passed in are.
#ifndef PATHWAY_SERVICES_REGISTRY_WORKLIST_H_
#define PATHWAY_SERVICES_REGISTRY_WORKLIST_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/store/store.h"
#include "pathway/registry/v1/registry.pb.h"

namespace pathway {
namespace registry {

inline constexpr int kWorklistDefaultPageSize = 100;
inline constexpr int kWorklistMaxPageSize = 1000;
// Without due_to, the worklist reaches this many days past as_of.
inline constexpr int kWorklistDefaultHorizonDays = 30;
inline constexpr int kMaxReportEntries = 500;

// The programmes (common.v1.Program values; 0 = casework visits) whose items `role`
// works; empty for a role without a worklist.
std::vector<int64_t> WorklistProgramsOf(Role role);

// GetWorklist for `caller` on `today` (the default as_of).
absl::StatusOr<v1::GetWorklistResponse> ReadWorklist(ReadTransaction& tx, const Caller& caller,
                                                     const v1::GetWorklistRequest& request,
                                                     absl::CivilDay today);

// Checks a ReportProgramStatuses request and that `caller` owns its programme:
// INVALID_ARGUMENT or PERMISSION_DENIED before anything is written.
absl::Status CheckProgramStatusReport(const Caller& caller,
                                      const v1::ReportProgramStatusesRequest& request);

// Applies a checked request: each entry newer than what is held replaces the case's
// state and work items in that programme.
absl::StatusOr<v1::ReportProgramStatusesResponse> ApplyProgramStatusReport(
    Transaction& tx, const v1::ReportProgramStatusesRequest& request, absl::Time now);

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_WORKLIST_H_
