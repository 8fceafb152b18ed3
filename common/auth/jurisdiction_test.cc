#include "common/auth/jurisdiction.h"

#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(ValidateJurisdictionTest, AcceptsProvinceCityCounty) {
  for (Role role : AllRoles()) {
    EXPECT_TRUE(ValidateJurisdiction("52", role).ok());
    EXPECT_TRUE(ValidateJurisdiction("5201", role).ok());
    EXPECT_TRUE(ValidateJurisdiction("520102", role).ok());
  }
}

TEST(ValidateJurisdictionTest, RejectsMalformed) {
  for (absl::string_view bad : {"", "5", "520", "52010", "5201021", "52010212", "5201020031", "5a", "52 1", "**",
                                "* ", "52*", "-52", "+520", "５２", "52\n"}) {
    absl::Status status = ValidateJurisdiction(bad, Role::kAdmin);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ValidateJurisdictionTest, TownshipScopeOnlyForCaseworkersAndPolice) {
  EXPECT_TRUE(ValidateJurisdiction("520102003", Role::kCaseworker).ok());
  EXPECT_TRUE(ValidateJurisdiction("520102003", Role::kPolice).ok());
  for (Role role : {Role::kFacilityStaff, Role::kLaborBureau, Role::kEmployer, Role::kAdmin,
                    Role::kAuditor, Role::kBatch, Role::kService}) {
    EXPECT_EQ(ValidateJurisdiction("520102003", role).code(), absl::StatusCode::kInvalidArgument)
        << RoleName(role);
  }
  EXPECT_EQ(ValidateJurisdiction("52010200a", Role::kCaseworker).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsTownshipJurisdiction("520102003"));
  EXPECT_FALSE(IsTownshipJurisdiction("520102"));
  EXPECT_TRUE(IsTownshipCode("520102003"));
  EXPECT_FALSE(IsTownshipCode("52010200"));
}

TEST(ValidateJurisdictionTest, NationalScopeOnlyForCentralRoles) {
  EXPECT_TRUE(ValidateJurisdiction("*", Role::kService).ok());
  EXPECT_TRUE(ValidateJurisdiction("*", Role::kBatch).ok());
  EXPECT_TRUE(ValidateJurisdiction("*", Role::kAdmin).ok());
  EXPECT_TRUE(ValidateJurisdiction("*", Role::kAuditor).ok());
  for (Role role : {Role::kCaseworker, Role::kPolice, Role::kFacilityStaff, Role::kLaborBureau,
                    Role::kEmployer}) {
    EXPECT_EQ(ValidateJurisdiction("*", role).code(), absl::StatusCode::kInvalidArgument)
        << RoleName(role);
    EXPECT_FALSE(RoleMayBeNational(role));
  }
}

struct CoversCase {
  const char* jurisdiction;
  const char* division_code;
  bool covered;
};

TEST(JurisdictionCoversTest, Table) {
  const CoversCase cases[] = {
      {"*", "520102", true},
      {"*", "110101", true},
      {"52", "520102", true},
      {"52", "522301", true},
      {"52", "530102", false},
      {"5201", "520102", true},
      {"5201", "520201", false},
      {"5201", "521001", false},
      {"520102", "520102", true},
      {"520102", "520103", false},
      // Townships: a county covers its townships; a township covers itself and no
      // county code, so county-level checks fail closed for township callers.
      {"520102", "520102003", true},
      {"5201", "520102003", true},
      {"*", "520102003", true},
      {"520102003", "520102003", true},
      {"520102003", "520102004", false},
      {"520102003", "520102", false},
      {"520103", "520102003", false},
      {"520102003", "5201020031", false},
      // Malformed division codes are covered by nothing, not even "*".
      {"*", "", false},
      {"*", "52010", false},
      {"*", "5201021", false},
      {"*", "52010a", false},
      {"52", "52", false},
      {"52", "5201", false},
      {"5201", "5201", false},
      {"52", "52010 ", false},
      {"52", "520102\n", false},
      // Malformed jurisdictions cover nothing.
      {"", "520102", false},
      {"5", "520102", false},
      {"520", "520102", false},
      {"52010", "520102", false},
      {"5201021", "5201021", false},
      {"**", "520102", false},
      {"5*", "520102", false},
      {"52x", "520102", false},
  };
  for (const CoversCase& c : cases) {
    EXPECT_EQ(JurisdictionCovers(c.jurisdiction, c.division_code), c.covered)
        << "jurisdiction=\"" << c.jurisdiction << "\" code=\"" << c.division_code << "\"";
  }
}

}  // namespace
}  // namespace pathway
