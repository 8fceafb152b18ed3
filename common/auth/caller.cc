#include "common/auth/caller.h"

#include "absl/strings/str_cat.h"
#include "common/auth/jurisdiction.h"

namespace pathway {

bool Caller::Covers(absl::string_view division_code) const {
  return JurisdictionCovers(claims.jurisdiction, division_code);
}

absl::Status CheckRole(const Caller& caller, std::initializer_list<Role> allowed) {
  for (Role role : allowed) {
    if (role == caller.role()) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("role ", RoleName(caller.role()), " may not call this method"));
}

absl::Status CaseNotFound(absl::string_view what) {
  return absl::NotFoundError(absl::StrCat(what, " not found"));
}

absl::Status CheckInJurisdiction(const Caller& caller, absl::string_view division_code,
                                 absl::string_view what) {
  if (caller.Covers(division_code)) return absl::OkStatus();
  return CaseNotFound(what);
}

}  // namespace pathway
