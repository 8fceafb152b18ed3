#include "common/auth/role.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace pathway {
namespace {

constexpr Role kRoles[] = {
    Role::kCaseworker, Role::kPolice, Role::kFacilityStaff, Role::kLaborBureau, Role::kEmployer,
    Role::kAuditor,    Role::kBatch,  Role::kService,       Role::kAdmin,
};

// Longest part of an unrecognised name echoed back in an error.
constexpr size_t kMaxEchoedName = 32;

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kCaseworker: return "caseworker";
    case Role::kPolice: return "police";
    case Role::kFacilityStaff: return "facility_staff";
    case Role::kLaborBureau: return "labor_bureau";
    case Role::kEmployer: return "employer";
    case Role::kAuditor: return "auditor";
    case Role::kBatch: return "batch";
    case Role::kService: return "service";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (Role role : kRoles) {
    if (RoleName(role) == name) return role;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role \"", absl::CHexEscape(name.substr(0, kMaxEchoedName)),
                   "\"; expected one of caseworker, police, facility_staff, labor_bureau, "
                   "employer, auditor, batch, service, admin"));
}

absl::Span<const Role> AllRoles() { return kRoles; }

}  // namespace pathway
