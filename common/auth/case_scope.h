// CaseScope: the one rule that decides who sees a case and who acts on it, in every
// service (DESIGN.md §6). The registry owns the facts (household and residence place,
// sealing); the programme services learn them with RegistryClient::GetCaseScope and
// apply the same two functions, so a case answers alike everywhere.
//
//   ASSIGN_OR_RETURN(CaseScope scope, runtime.registry().GetCaseScope(case_id));
//   RETURN_IF_ERROR(CheckCaseVisible(caller, scope, {order.division}));   // NOT_FOUND
//   RETURN_IF_ERROR(CheckExecutes(caller, order.division, "the township"));  // PERMISSION_DENIED
//
// Who sees: 双向管控, the household place leads and the residence place assists, and
// both see the case and its records; so does the body that executes a measure on it
// (the township of an order, the facility holding the person), which need not be
// either place. A sealed case (戒毒条例 Art 7: three years' abstinence) is visible only
// to roles with a statutory need. Anything else answers CaseNotFound(), exactly as a
// case that was never issued, so ids cannot be probed.
//
// Who acts: only the executing side records execution; a caller who sees the case but
// does not cover the executing division is refused with PERMISSION_DENIED.
//
// Townships: a case is assigned to a township (9-digit code) and optionally to one
// caseworker there. A township-level caller (jurisdiction.h) sees exactly the cases
// of its township and the cases assigned to it by name inside its county, and acts
// for them where its county executes; county and wider callers are unaffected.
//
// Plain functions over plain values; thread-safe.
#ifndef PATHWAY_COMMON_AUTH_CASE_SCOPE_H_
#define PATHWAY_COMMON_AUTH_CASE_SCOPE_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/auth/caller.h"
#include "common/auth/role.h"

namespace pathway {

// The registry's facts that decide visibility. Not personal data.
struct CaseScope {
  std::string case_id;
  std::string household_division;
  std::string residence_division;
  bool sealed = false;  // as of the registry's today
  // The township the case is assigned to (9 digits) and the caseworker's user id;
  // empty when not assigned.
  std::string township;
  std::string assigned_caseworker;
};

// Roles that keep a statutory need to read a sealed case (戒毒条例 Art 7): police
// (public security keeps the record), auditors and administrators; and services
// calling each other, which act only on another service's behalf.
bool MayReadSealed(Role role);

// True if the caller covers the household or the residence place (双向管控), or,
// for a township-level caller, the case is its township's or assigned to it.
bool CoversCase(const Caller& caller, const CaseScope& scope);

// True if `caller` is the caseworker the case is assigned to and holds a scope in
// the same county as the case's township: an assignment names a user id, and a
// token of another county with the same user id must not see the case through it.
bool IsAssignedCaseworker(const Caller& caller, const CaseScope& scope);

// OK if the caller sees the case: covers its household or residence place or one of
// `executing_divisions` (empty strings are ignored), and, when the case is sealed, holds
// a role with a statutory need. Otherwise CaseNotFound(), the answer for a case that
// does not exist.
absl::Status CheckCaseVisible(const Caller& caller, const CaseScope& scope,
                              std::initializer_list<absl::string_view> executing_divisions = {});

// OK if the caller covers `executing_division`; otherwise PERMISSION_DENIED naming
// `who` (a fixed phrase such as "the executing township", never request data). Call
// it only after CheckCaseVisible, so that it never tells an outsider the case exists.
absl::Status CheckExecutes(const Caller& caller, absl::string_view executing_division,
                           absl::string_view who);

// As CheckExecutes, and a township-level caller also acts where `executing_division`
// is its own county and the case is its township's or assigned to it (CoversCase).
// Plain CheckExecutes refuses every township caller, so call sites that know the
// scope use this one.
absl::Status CheckExecutesCase(const Caller& caller, const CaseScope& scope,
                               absl::string_view executing_division, absl::string_view who);

// The county a township-level caller's lists are drawn from before each case is
// checked: the caller with its township's county as jurisdiction; anyone else as
// they are. Only for drawing candidates that are then filtered case by case
// (CasesListedFor in common/registry_client): never answer from it directly.
Caller CountyView(const Caller& caller);

// The caller a programme's write runs as once CheckCaseVisible and CheckExecutesCase
// have passed for `scope`: a township-level caller whose case it is (CoversCase) acts
// with its county's scope for this one case, since the engines check "covers the
// executing county"; anyone else as they are. Never for another case or a list.
Caller ActingOnCase(const Caller& caller, const CaseScope& scope);

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_CASE_SCOPE_H_
