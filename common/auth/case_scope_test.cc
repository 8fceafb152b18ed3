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

}  // namespace
}  // namespace pathway
