// Jurisdictions: the part of the country a caller may see (DESIGN.md §6).
//
// A jurisdiction is a prefix of a division code: 2 digits for a province ("52"),
// 4 for a city ("5201"), 6 for a county ("520102"), or 9 for a township or street
// office ("520102003": the county's code plus the 3-digit 乡镇/街道 code of GB/T
// 10114), which only caseworkers and police (a 派出所) may hold; or "*" for national
// scope, which only the service, batch, admin and auditor roles may hold.
//
// What a jurisdiction covers is a prefix match on a 6-digit county code or a 9-digit
// township code. A township jurisdiction therefore covers its own township code and
// NO county code: which of a county's cases are a township's is a fact of the case
// (its assigned township, common/auth/case_scope.h), never of the county code, so
// every check written for counties fails closed for a township caller.
//
//   RETURN_IF_ERROR(ValidateJurisdiction("5201", Role::kCaseworker));
//   JurisdictionCovers("5201", "520102");          // true
//   JurisdictionCovers("5201", "520201");          // false
//   JurisdictionCovers("520102", "520102003");     // true: the county covers its townships
//   JurisdictionCovers("520102003", "520102");     // false
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
// True if `role` may hold a township's 9-digit scope.
bool RoleMayBeTownship(Role role);

// True if `code` is a well-formed township code (9 ASCII digits). Whether the
// township exists is the deployment's business, not checked here.
bool IsTownshipCode(absl::string_view code);
// True if `jurisdiction` is a township's (9 digits).
bool IsTownshipJurisdiction(absl::string_view jurisdiction);

// OK if `jurisdiction` is well formed (2, 4, 6 or 9 ASCII digits, or "*") and
// `role` may hold it; INVALID_ARGUMENT otherwise.
absl::Status ValidateJurisdiction(absl::string_view jurisdiction, Role role);

// True if `division_code` (exactly 6 or 9 ASCII digits) lies inside `jurisdiction`:
// "*" covers every code, otherwise a prefix match. Fails closed: a malformed
// division code is covered by nothing, and a malformed jurisdiction covers
// nothing.
bool JurisdictionCovers(absl::string_view jurisdiction, absl::string_view division_code);

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_JURISDICTION_H_
