#include "common/auth/role.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(RoleTest, EveryRoleRoundTripsThroughItsWireName) {
  std::set<std::string> names;
  for (Role role : AllRoles()) {
    absl::string_view name = RoleName(role);
    names.insert(std::string(name));
    absl::StatusOr<Role> parsed = ParseRole(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(*parsed, role);
  }
  EXPECT_EQ(names.size(), 9u);
}

TEST(RoleTest, WireNamesAreStable) {
  EXPECT_EQ(RoleName(Role::kCaseworker), "caseworker");
  EXPECT_EQ(RoleName(Role::kPolice), "police");
  EXPECT_EQ(RoleName(Role::kFacilityStaff), "facility_staff");
  EXPECT_EQ(RoleName(Role::kLaborBureau), "labor_bureau");
  EXPECT_EQ(RoleName(Role::kEmployer), "employer");
  EXPECT_EQ(RoleName(Role::kAuditor), "auditor");
  EXPECT_EQ(RoleName(Role::kBatch), "batch");
  EXPECT_EQ(RoleName(Role::kService), "service");
  EXPECT_EQ(RoleName(Role::kAdmin), "admin");
}

TEST(RoleTest, ParseRejectsUnknownAndCaseVariants) {
  for (absl::string_view bad :
       {"", "Admin", "ADMIN", "admin ", " admin", "root", "facility-staff", "facilitystaff"}) {
    absl::StatusOr<Role> parsed = ParseRole(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  absl::StatusOr<Role> nul = ParseRole(absl::string_view("admin\0", 6));
  EXPECT_FALSE(nul.ok());
}

TEST(RoleTest, UnknownRoleMessageIsBoundedAndEscaped) {
  std::string long_name(1000, 'x');
  absl::StatusOr<Role> parsed = ParseRole(long_name);
  ASSERT_FALSE(parsed.ok());
  EXPECT_LT(parsed.status().message().size(), 200u);
  absl::StatusOr<Role> control = ParseRole("a\nb");
  ASSERT_FALSE(control.ok());
  EXPECT_EQ(control.status().message().find('\n'), absl::string_view::npos);
}

}  // namespace
}  // namespace pathway
