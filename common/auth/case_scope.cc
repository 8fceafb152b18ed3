#include "common/auth/case_scope.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/jurisdiction.h"

namespace pathway {

bool MayReadSealed(Role role) {
  return role == Role::kPolice || role == Role::kAuditor || role == Role::kAdmin ||
         role == Role::kService;
}

namespace {

// The county of a township-level caller ("520102" of "520102003"); empty otherwise.
absl::string_view TownshipCallersCounty(const Caller& caller) {
  if (!IsTownshipJurisdiction(caller.jurisdiction())) return {};
  return absl::string_view(caller.jurisdiction()).substr(0, 6);
}

}  // namespace

bool IsAssignedCaseworker(const Caller& caller, const CaseScope& scope) {
  if (scope.assigned_caseworker.empty() || scope.assigned_caseworker != caller.subject()) {
    return false;
  }
  if (caller.role() != Role::kCaseworker || !IsTownshipCode(scope.township)) return false;
  // The caller's scope must lie in the township's county: its county or the township
  // itself (a county caseworker covers it anyway), or another township of the county.
  absl::string_view county = absl::string_view(scope.township).substr(0, 6);
  if (caller.Covers(county)) return true;
  return TownshipCallersCounty(caller) == county;
}

bool CoversCase(const Caller& caller, const CaseScope& scope) {
  if (caller.Covers(scope.household_division) || caller.Covers(scope.residence_division)) {
    return true;
  }
  if (!scope.township.empty() && IsTownshipJurisdiction(caller.jurisdiction()) &&
      caller.Covers(scope.township)) {
    return true;
  }
  return IsAssignedCaseworker(caller, scope);
}

absl::Status CheckCaseVisible(const Caller& caller, const CaseScope& scope,
                              std::initializer_list<absl::string_view> executing_divisions) {
  bool sees = CoversCase(caller, scope);
  for (absl::string_view d : executing_divisions) {
    if (sees) break;
    sees = !d.empty() && caller.Covers(d);
  }
  if (!sees) return CaseNotFound();
  if (scope.sealed && !MayReadSealed(caller.role())) return CaseNotFound();
  return absl::OkStatus();
}

absl::Status CheckExecutes(const Caller& caller, absl::string_view executing_division,
                           absl::string_view who) {
  if (caller.Covers(executing_division)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("only ", who, " records this (DESIGN.md §6: who sees is not who acts)"));
}

Caller CountyView(const Caller& caller) {
  absl::string_view county = TownshipCallersCounty(caller);
  if (county.empty()) return caller;
  Caller view = caller;
  view.claims.jurisdiction = std::string(county);
  return view;
}

Caller ActingOnCase(const Caller& caller, const CaseScope& scope) {
  if (!IsTownshipJurisdiction(caller.jurisdiction()) || !CoversCase(caller, scope)) {
    return caller;
  }
  return CountyView(caller);
}

absl::Status CheckExecutesCase(const Caller& caller, const CaseScope& scope,
                               absl::string_view executing_division, absl::string_view who) {
  if (caller.Covers(executing_division)) return absl::OkStatus();
  absl::string_view county = TownshipCallersCounty(caller);
  if (!county.empty() && county == executing_division && CoversCase(caller, scope)) {
    return absl::OkStatus();
  }
  return CheckExecutes(caller, executing_division, who);
}

}  // namespace pathway
