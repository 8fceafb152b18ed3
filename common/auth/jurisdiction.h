// Jurisdictions: the part of the country a caller may see (DESIGN.md §6).
//
// A jurisdiction is a prefix of the 6-digit administrative division code:
// 2 digits for a province ("52"), 4 for a city ("5201") or 6 for a county
// ("520102"); or "*" for national scope, which only the service, batch, admin
// and auditor roles may hold.
//
//   RETURN_IF_ERROR(ValidateJurisdiction("5201", Role::kCaseworker));
//   JurisdictionCovers("5201", "520102");  // true
//   JurisdictionCovers("5201", "520201");  // false
//
// Plain functions; thread-safe.
#ifndef PATHWAY_COMMON_AUTH_JURISDICTION_H_
#define PATHWAY_COMMON_AUTH_JURISDICTION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/auth/role.h"

namespace pathway {

// The national scope.
inline constexpr absl::string_view kNationalJurisdiction = "*";

// True if `role` may hold the national scope "*".
bool RoleMayBeNational(Role role);

// OK if `jurisdiction` is well formed (2, 4 or 6 ASCII digits, or "*") and
// `role` may hold it; INVALID_ARGUMENT otherwise.
absl::Status ValidateJurisdiction(absl::string_view jurisdiction, Role role);

// True if `division_code` (exactly 6 ASCII digits) lies inside `jurisdiction`:
// "*" covers every code, otherwise a prefix match. Fails closed: a malformed
// division code is covered by nothing, and a malformed jurisdiction covers
// nothing.
bool JurisdictionCovers(absl::string_view jurisdiction, absl::string_view division_code);

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_JURISDICTION_H_
