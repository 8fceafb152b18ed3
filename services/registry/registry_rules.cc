#include "services/registry/registry_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/legal_time/legal_time.h"

namespace pathway {
namespace registry {

absl::Status RegistryConfig::Validate() const {
  if (risk_grades.empty()) return absl::InvalidArgumentError("no risk grades configured");
  for (const std::string& g : risk_grades) {
    if (g.empty() || g.size() > 32) return absl::InvalidArgumentError("bad risk grade code");
  }
  if (std::find(risk_grades.begin(), risk_grades.end(), default_risk_grade) == risk_grades.end()) {
    return absl::InvalidArgumentError("default risk grade is not one of the configured grades");
  }
  return absl::OkStatus();
}

std::optional<absl::CivilDay> AbstinenceMilestone(const CaseRecord& c) {
  if (c.open_measures > 0) return std::nullopt;
  // Counted like a period from an event (the anchor day itself is not counted).
  return legal_time::DeadlineAfterMonths(c.abstinence_anchor, kAbstinenceMonths);
}

bool Sealed(const CaseRecord& c, absl::CivilDay today) {
  std::optional<absl::CivilDay> m = AbstinenceMilestone(c);
  return m.has_value() && today > *m;
}

absl::CivilDay SealedAnchorLimit(absl::CivilDay today) {
  // The milestone grows with the anchor (never falls), so the sealed anchors are all
  // days up to one limit. Months vary in length: start a little above the limit and
  // step down to it (a handful of steps).
  absl::CivilDay anchor = absl::CivilDay(today.year() - kAbstinenceMonths / 12, today.month(),
                                         today.day()) + 4;
  while (!(today > legal_time::DeadlineAfterMonths(anchor, kAbstinenceMonths))) --anchor;
  return anchor;
}

bool SealedAtRegistration(absl::CivilDay found_on, absl::CivilDay today) {
  return today > legal_time::DeadlineAfterMonths(found_on, kAbstinenceMonths);
}

CaseScope ScopeOf(const CaseRecord& c, absl::CivilDay today) {
  CaseScope scope;
  scope.case_id = c.case_id;
  scope.household_division = c.household_division;
  scope.residence_division = c.residence_division;
  scope.sealed = Sealed(c, today);
  scope.township = c.township;
  scope.assigned_caseworker = c.assigned_caseworker;
  return scope;
}

absl::Status CheckExpectedVersion(const CaseRecord& c, int64_t expected_version) {
  if (expected_version < 0) return absl::InvalidArgumentError("expected_version is negative");
  if (expected_version == 0 || expected_version == c.version) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat("the case changed since version ", expected_version,
                                         ": it is now at version ", c.version,
                                         "; read it again and reapply the change"));
}

}  // namespace registry
}  // namespace pathway
