// The roles a caller can hold (DESIGN.md §6) and their stable wire names, as
// carried in a token's "role" claim and shown in logs and error messages.
//
//   absl::StatusOr<Role> role = ParseRole("facility_staff");
//   if (role.ok()) log::Info("x", {{"role", RoleName(*role)}});
//
// The wire names never change: tokens and audit records outlive releases.
// Plain functions over constant tables; thread-safe.
#ifndef PATHWAY_COMMON_AUTH_ROLE_H_
#define PATHWAY_COMMON_AUTH_ROLE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace pathway {

enum class Role {
  kCaseworker,     // "caseworker": township caseworker
  kPolice,         // "police"
  kFacilityStaff,  // "facility_staff": staff of a rehabilitation facility
  kLaborBureau,    // "labor_bureau"
  kEmployer,       // "employer": a Sunshine base; its own placements only
  kAuditor,        // "auditor"
  kBatch,          // "batch": scheduled jobs
  kService,        // "service": service-to-service calls
  kAdmin,          // "admin"
};

// The wire name of `role`, e.g. "facility_staff". Never empty.
absl::string_view RoleName(Role role);

// The role whose wire name is exactly `name` (case-sensitive).
// INVALID_ARGUMENT for anything else.
absl::StatusOr<Role> ParseRole(absl::string_view name);

// Every role, in declaration order.
absl::Span<const Role> AllRoles();

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_ROLE_H_
