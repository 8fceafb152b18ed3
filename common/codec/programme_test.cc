#include "common/codec/programme.h"

#include <set>
#include <string>

#include "common/codec/proto_programme.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(ProgrammeTest, CacheFieldNamesAreFixed) {
  EXPECT_EQ(ProgrammeField(Programme::kCommunityDetox), "detox");
  EXPECT_EQ(ProgrammeField(Programme::kCompulsoryIsolation), "isolation");
  EXPECT_EQ(ProgrammeField(Programme::kCommunityRehab), "rehab");
  EXPECT_EQ(ProgrammeField(Programme::kPlacement), "placement");
}

TEST(ProgrammeTest, ParseProgrammeFieldIsTheInverse) {
  for (Programme p : kAllProgrammes) {
    Programme parsed = p == Programme::kPlacement ? Programme::kCommunityDetox
                                                  : Programme::kPlacement;
    ASSERT_TRUE(ParseProgrammeField(ProgrammeField(p), &parsed));
    EXPECT_EQ(parsed, p);
  }
  Programme untouched = Programme::kCommunityRehab;
  for (const char* bad : {"", "Detox", "detox ", "community_detox", "unknown", "registry"}) {
    EXPECT_FALSE(ParseProgrammeField(bad, &untouched)) << bad;
    EXPECT_EQ(untouched, Programme::kCommunityRehab);
  }
}

TEST(ProgrammeTest, ServiceNamesAreFixed) {
  EXPECT_EQ(ProgrammeService(Programme::kCommunityDetox), "community_detox");
  EXPECT_EQ(ProgrammeService(Programme::kCompulsoryIsolation), "compulsory_isolation");
  EXPECT_EQ(ProgrammeService(Programme::kCommunityRehab), "community_rehab");
  EXPECT_EQ(ProgrammeService(Programme::kPlacement), "placement");
}

TEST(ProgrammeTest, ProgrammeOfServiceIsTheInverse) {
  for (Programme p : kAllProgrammes) EXPECT_EQ(ProgrammeOfService(ProgrammeService(p)), p);
  for (const char* other : {"registry", "", "detox", "Placement", "placement "}) {
    EXPECT_EQ(ProgrammeOfService(other), std::nullopt) << other;
  }
}

TEST(ProgrammeTest, NamesAreDistinct) {
  std::set<std::string> names;
  for (Programme p : kAllProgrammes) {
    names.insert(std::string(ProgrammeField(p)));
    names.insert(std::string(ProgrammeService(p)));
  }
  // "placement" is both the field and the service name of the placement programme.
  EXPECT_EQ(names.size(), 2 * std::size(kAllProgrammes) - 1);
}

TEST(ProtoProgrammeTest, WireValuesAreFixed) {
  EXPECT_EQ(ToProtoProgram(Programme::kCommunityDetox), common::v1::PROGRAM_COMMUNITY_DETOX);
  EXPECT_EQ(ToProtoProgram(Programme::kCompulsoryIsolation),
            common::v1::PROGRAM_COMPULSORY_ISOLATION);
  EXPECT_EQ(ToProtoProgram(Programme::kCommunityRehab), common::v1::PROGRAM_COMMUNITY_REHAB);
  EXPECT_EQ(ToProtoProgram(Programme::kPlacement), common::v1::PROGRAM_PLACEMENT);
}

TEST(ProtoProgrammeTest, FromProtoProgramIsTheInverse) {
  for (Programme p : kAllProgrammes) EXPECT_EQ(FromProtoProgram(ToProtoProgram(p)), p);
  EXPECT_EQ(FromProtoProgram(common::v1::PROGRAM_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(FromProtoProgram(static_cast<common::v1::Program>(99)), std::nullopt);
}

}  // namespace
}  // namespace pathway
