// The case registry's law as plain functions over typed values (DESIGN.md §2, §3
// "Registry status and grading"): the case record, the risk grading scheme, and the
// abstinence clock of 戒毒条例 Art 7 (three years without a detected relapse end
// dynamic control; the record is then sealed), with the scope it gives a case. No
// storage, no gRPC, no clock: every function takes its date.
//
//   if (Sealed(c, today) && !MayReadSealed(caller.role())) ...   // hidden
//   ToProtoDate(*AbstinenceMilestone(c), out);
//
// Stateless; thread-safe.
#ifndef PATHWAY_SERVICES_REGISTRY_REGISTRY_RULES_H_
#define PATHWAY_SERVICES_REGISTRY_REGISTRY_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/case_scope.h"
#include "common/ids/resident_id.h"
#include "pathway/registry/v1/registry.pb.h"

namespace pathway {
namespace registry {

// 戒毒条例 Art 7: three years without relapse.
inline constexpr int kAbstinenceMonths = 36;

// Risk grading scheme (分级分类): national high / medium / low by default; a
// province configures its own codes.
struct RegistryConfig {
  std::vector<std::string> risk_grades = {"high", "medium", "low"};
  std::string default_risk_grade = "medium";
  absl::Status Validate() const;
};

// One case as the registry holds it, personal fields decrypted.
struct CaseRecord {
  std::string case_id;
  std::string resident_id;  // normalised 18 characters
  std::string name;
  std::string phone;
  std::string residence_address;
  absl::CivilDay birth_date;
  ResidentId::Sex sex = ResidentId::Sex::kMale;
  std::string household_division;
  std::string residence_division;
  std::string registering_division;
  std::vector<std::string> drug_types;
  v1::RouteOfUse route_of_use = v1::ROUTE_OF_USE_UNSPECIFIED;
  absl::CivilDay registered_on;  // the finding that led to registration
  std::string risk_grade;
  v1::ControlStatus control_status = v1::CONTROL_STATUS_IN_CONTROL;
  v1::LifeStatus life_status = v1::LIFE_STATUS_NORMAL;
  // Latest of: drug-use findings, positive tests, ends of measures (Art 7).
  absl::CivilDay abstinence_anchor;
  int open_measures = 0;
  int64_t version = 0;
  absl::Time updated_at;
  int64_t created_us = 0;  // registration time; orders ListCases
  // Township (9 digits) and caseworker (user id) the case is assigned to; empty if none.
  std::string township;
  std::string assigned_caseworker;
};

// 戒毒条例 Art 7: three years without a detected relapse, counted from the anchor,
// end dynamic control. Empty while a measure is open. The milestone is the last
// day of the three years (the anchor day itself not counted); the case is sealed
// from the day after.
std::optional<absl::CivilDay> AbstinenceMilestone(const CaseRecord& c);
bool Sealed(const CaseRecord& c, absl::CivilDay today);

// A record whose only finding (`found_on`) is three years old or more is sealed the
// moment it is registered.
// The latest abstinence anchor for which a record without an open measure is sealed
// on `today`: Sealed(c, today) == (c.open_measures == 0 && c.abstinence_anchor <=
// SealedAnchorLimit(today)), so a query can leave sealed records out by comparing
// one column.
absl::CivilDay SealedAnchorLimit(absl::CivilDay today);

bool SealedAtRegistration(absl::CivilDay found_on, absl::CivilDay today);

// The case's scope for the visibility rule of every service (common/auth/case_scope.h):
// both places of 双向管控, and whether it is sealed on `today`.
CaseScope ScopeOf(const CaseRecord& c, absl::CivilDay today);

// An offline write names the version it was based on (`expected_version`, 0 for
// none): OK if unset or equal to the case's version; ABORTED, saying the case changed
// and giving both versions, if not; INVALID_ARGUMENT if negative. Call it after the
// visibility check, so a case out of scope stays NOT_FOUND.
absl::Status CheckExpectedVersion(const CaseRecord& c, int64_t expected_version);

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_REGISTRY_RULES_H_
