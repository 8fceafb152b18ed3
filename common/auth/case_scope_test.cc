#include "common/auth/case_scope.h"

#include <gtest/gtest.h>

namespace pathway {
namespace {

Caller Make(Role role, const std::string& jurisdiction) {
  Caller c;
  c.claims.subject = "u1";
  c.claims.role = role;
  c.claims.jurisdiction = jurisdiction;
  return c;
}

CaseScope Scope(bool sealed = false) {
  // Household in Guiyang (520102), living in Hangzhou (330106).
  CaseScope s;
  s.case_id = "520102-2026-0000042-2";
  s.household_division = "520102";
  s.residence_division = "330106";
  s.sealed = sealed;
  return s;
}

TEST(CaseScopeTest, BothPlacesOfDualControlSeeTheCase) {
  EXPECT_TRUE(CheckCaseVisible(Make(Role::kCaseworker, "520102"), Scope()).ok());
  EXPECT_TRUE(CheckCaseVisible(Make(Role::kCaseworker, "3301"), Scope()).ok());
  EXPECT_TRUE(CheckCaseVisible(Make(Role::kPolice, "52"), Scope()).ok());
}

TEST(CaseScopeTest, OutsideLooksExactlyLikeMissing) {
  absl::Status sibling = CheckCaseVisible(Make(Role::kPolice, "520103"), Scope());
  absl::Status province = CheckCaseVisible(Make(Role::kPolice, "44"), Scope());
  EXPECT_EQ(sibling, CaseNotFound());
  EXPECT_EQ(province, CaseNotFound());
}

TEST(CaseScopeTest, TheExecutingSideSeesTheCase) {
  // A facility in Zunyi holds the person.
  EXPECT_TRUE(CheckCaseVisible(Make(Role::kFacilityStaff, "5203"), Scope(), {"520302"}).ok());
  EXPECT_EQ(CheckCaseVisible(Make(Role::kFacilityStaff, "5203"), Scope(), {"", "520402"}),
            CaseNotFound());
}

TEST(CaseScopeTest, SealedOnlyForStatutoryNeed) {
  EXPECT_EQ(CheckCaseVisible(Make(Role::kCaseworker, "520102"), Scope(true)), CaseNotFound());
  EXPECT_EQ(CheckCaseVisible(Make(Role::kFacilityStaff, "52"), Scope(true), {"520302"}),
            CaseNotFound());
  EXPECT_TRUE(CheckCaseVisible(Make(Role::kPolice, "520102"), Scope(true)).ok());
  EXPECT_TRUE(CheckCaseVisible(Make(Role::kAuditor, "52"), Scope(true)).ok());
  EXPECT_TRUE(CheckCaseVisible(Make(Role::kService, "*"), Scope(true)).ok());
  // A statutory need does not widen the jurisdiction.
  EXPECT_EQ(CheckCaseVisible(Make(Role::kPolice, "44"), Scope(true)), CaseNotFound());
}

TEST(CaseScopeTest, WhoSeesIsNotWhoActs) {
  Caller residence_side = Make(Role::kCaseworker, "330106");
  ASSERT_TRUE(CheckCaseVisible(residence_side, Scope()).ok());
  absl::Status s = CheckExecutes(residence_side, "520102", "the executing township");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckExecutes(Make(Role::kCaseworker, "520102"), "520102", "x").ok());
}


CaseScope TownshipScope(const std::string& township, const std::string& caseworker = "") {
  CaseScope s = Scope();
  s.township = township;
  s.assigned_caseworker = caseworker;
  return s;
}

Caller MakeUser(Role role, const std::string& jurisdiction, const std::string& subject) {
  Caller c = Make(role, jurisdiction);
  c.claims.subject = subject;
  return c;
}

TEST(CaseScopeTest, ATownshipSeesOnlyItsOwnTownshipsCases) {
  Caller township = Make(Role::kCaseworker, "520102003");
  EXPECT_TRUE(CheckCaseVisible(township, TownshipScope("520102003")).ok());
  // Another township of the same county, an unassigned case, and the executing
  // county named as a county code: none is this township's.
  EXPECT_EQ(CheckCaseVisible(township, TownshipScope("520102004")), CaseNotFound());
  EXPECT_EQ(CheckCaseVisible(township, Scope()), CaseNotFound());
  EXPECT_EQ(CheckCaseVisible(township, Scope(), {"520102"}), CaseNotFound());
  // The county sees every township's cases.
  EXPECT_TRUE(CheckCaseVisible(Make(Role::kCaseworker, "520102"), TownshipScope("520102004")).ok());
  // Sealing still applies.
  CaseScope sealed = TownshipScope("520102003");
  sealed.sealed = true;
  EXPECT_EQ(CheckCaseVisible(township, sealed), CaseNotFound());
}

TEST(CaseScopeTest, TheAssignedCaseworkerSeesTheCaseInsideTheCountyOnly) {
  CaseScope assigned = TownshipScope("520102004", "cw-17");
  // Assigned by name while working from a neighbouring township of the county.
  EXPECT_TRUE(CheckCaseVisible(MakeUser(Role::kCaseworker, "520102003", "cw-17"), assigned).ok());
  EXPECT_TRUE(IsAssignedCaseworker(MakeUser(Role::kCaseworker, "520102003", "cw-17"), assigned));
  // Same user id elsewhere, another user in the township's neighbour, another role.
  EXPECT_EQ(CheckCaseVisible(MakeUser(Role::kCaseworker, "520103001", "cw-17"), assigned),
            CaseNotFound());
  EXPECT_EQ(CheckCaseVisible(MakeUser(Role::kCaseworker, "520102003", "cw-18"), assigned),
            CaseNotFound());
  EXPECT_EQ(CheckCaseVisible(MakeUser(Role::kPolice, "520102003", "cw-17"), assigned),
            CaseNotFound());
}

TEST(CaseScopeTest, ATownshipActsOnlyForItsCasesInItsCounty) {
  Caller township = Make(Role::kCaseworker, "520102003");
  EXPECT_TRUE(CheckExecutesCase(township, TownshipScope("520102003"), "520102", "the county").ok());
  EXPECT_EQ(CheckExecutesCase(township, TownshipScope("520102004"), "520102", "the county").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckExecutesCase(township, TownshipScope("520102003"), "330106", "the county").code(),
            absl::StatusCode::kPermissionDenied);
  // Without the scope a township caller never acts.
  EXPECT_EQ(CheckExecutes(township, "520102", "the county").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      CheckExecutesCase(Make(Role::kCaseworker, "520102"), Scope(), "520102", "the county").ok());
}

TEST(CaseScopeTest, ATownshipCallerActsWithItsCountyOnlyForItsOwnCase) {
  Caller township = Make(Role::kCaseworker, "520102003");
  EXPECT_EQ(ActingOnCase(township, TownshipScope("520102003")).jurisdiction(), "520102");
  EXPECT_EQ(ActingOnCase(township, TownshipScope("520102004")).jurisdiction(), "520102003");
  EXPECT_EQ(ActingOnCase(Make(Role::kCaseworker, "5201"), Scope()).jurisdiction(), "5201");
  EXPECT_EQ(CountyView(township).jurisdiction(), "520102");
  EXPECT_EQ(CountyView(township).subject(), township.subject());
  EXPECT_EQ(CountyView(Make(Role::kPolice, "52")).jurisdiction(), "52");
}

}  // namespace
}  // namespace pathway
