// The labor bureau reconciliation rules (DiscrepancyKind in placement.proto): one
// placement's retention record against the labor bureau's employment and unemployment
// registrations of the same person (matched by the labor exchange index), as they
// stood on `as_of`. Plain functions over values: no storage, no gRPC, no clock.
//
//   std::vector<v1::RetentionDiscrepancy> rows =
//       ReconcilePlacement(placement, registrations, as_of);
//
// The rows carry the case id; the service clears it (treatment_detail) for labor bureau
// tokens. Stateless; thread-safe.
#ifndef PATHWAY_SERVICES_PLACEMENT_LABOR_RECONCILE_H_
#define PATHWAY_SERVICES_PLACEMENT_LABOR_RECONCILE_H_

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "pathway/placement/v1/placement.pb.h"

namespace pathway {
namespace placement {

// Days an employer's registration may take to reach the bureau (local practice [INF],
// not law): an employment registered up to this long before the contract start counts
// for it, and a bureau record of a change is looked for up to this long after the
// checkpoint.
inline constexpr int kRegistrationGraceDays = 30;

// A registration as the reconciliation needs it.
struct BureauRecord {
  std::string record_id;
  v1::RegistrationKind kind = v1::REGISTRATION_KIND_UNSPECIFIED;
  std::string employer;  // credit code; may be empty for unemployment
  std::string division;
  absl::CivilDay registered_on;
};

// The discrepancies of one placement (with its checkpoints), ordered by checkpoint
// months, placement-level rows (months 0) last, then by kind and registration.
// `registrations`: the person's registrations in any order; those dated after `as_of`
// are ignored, and so are the placement's records dated after it (checkpoints checked
// later count as unrecorded, an end later as not yet ended). A placement whose contract
// starts after `as_of` has none.
std::vector<v1::RetentionDiscrepancy> ReconcilePlacement(
    const v1::PlacementRecord& placement, const std::vector<BureauRecord>& registrations,
    absl::CivilDay as_of);

}  // namespace placement
}  // namespace pathway

#endif  // PATHWAY_SERVICES_PLACEMENT_LABOR_RECONCILE_H_
