#include "common/auth/case_scope.h"

#include "absl/strings/str_cat.h"

namespace pathway {

bool MayReadSealed(Role role) {
  return role == Role::kPolice || role == Role::kAuditor || role == Role::kAdmin ||
         role == Role::kService;
}

bool CoversCase(const Caller& caller, const CaseScope& scope) {
  return caller.Covers(scope.household_division) || caller.Covers(scope.residence_division);
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

}  // namespace pathway
