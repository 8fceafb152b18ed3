#include "common/auth/jurisdiction.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pathway {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// 2, 4 or 6 digits.
bool IsDivisionPrefix(absl::string_view s) {
  return (s.size() == 2 || s.size() == 4 || s.size() == 6) && AllDigits(s);
}

bool IsNineDigits(absl::string_view s) { return s.size() == 9 && AllDigits(s); }

}  // namespace

bool RoleMayBeNational(Role role) {
  switch (role) {
    case Role::kService:
    case Role::kBatch:
    case Role::kAdmin:
    case Role::kAuditor: return true;
    case Role::kCaseworker:
    case Role::kPolice:
    case Role::kFacilityStaff:
    case Role::kLaborBureau:
    case Role::kEmployer: return false;
  }
  return false;
}

bool RoleMayBeTownship(Role role) { return role == Role::kCaseworker || role == Role::kPolice; }

absl::Status ValidateJurisdiction(absl::string_view jurisdiction, Role role) {
  if (jurisdiction == kNationalJurisdiction) {
    if (RoleMayBeNational(role)) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("role ", RoleName(role), " may not hold national scope"));
  }
  if (IsNineDigits(jurisdiction)) {
    if (RoleMayBeTownship(role)) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("role ", RoleName(role), " may not hold a township's scope"));
  }
  if (!IsDivisionPrefix(jurisdiction)) {
    return absl::InvalidArgumentError(
        "jurisdiction must be 2, 4, 6 or 9 digits of a division code, or \"*\"");
  }
  return absl::OkStatus();
}

bool IsTownshipCode(absl::string_view code) { return IsNineDigits(code); }

bool IsTownshipJurisdiction(absl::string_view jurisdiction) { return IsNineDigits(jurisdiction); }

bool JurisdictionCovers(absl::string_view jurisdiction, absl::string_view division_code) {
  if ((division_code.size() != 6 && division_code.size() != 9) || !AllDigits(division_code)) {
    return false;
  }
  if (jurisdiction == kNationalJurisdiction) return true;
  if (!IsDivisionPrefix(jurisdiction) && !IsNineDigits(jurisdiction)) return false;
  return absl::StartsWith(division_code, jurisdiction);
}

}  // namespace pathway
