#include "common/cache/status_cache.h"

#include <optional>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

ProgrammeStatus Full() {
  ProgrammeStatus s;
  s.state = "ACTIVE";
  s.version = 7;
  s.began = absl::CivilDay(2026, 1, 10);
  s.next_deadline_kind = "REPORT";
  s.next_deadline = absl::CivilDay(2026, 2, 1);
  s.written_at = absl::FromUnixMillis(1768003200123);
  return s;
}

TEST(ProgrammeFieldTest, NamesRoundTrip) {
  EXPECT_EQ(ProgrammeField(Programme::kCommunityDetox), "detox");
  EXPECT_EQ(ProgrammeField(Programme::kCompulsoryIsolation), "isolation");
  EXPECT_EQ(ProgrammeField(Programme::kCommunityRehab), "rehab");
  EXPECT_EQ(ProgrammeField(Programme::kPlacement), "placement");
  for (Programme p : kAllProgrammes) {
    Programme parsed = Programme::kPlacement;
    ASSERT_TRUE(ParseProgrammeField(ProgrammeField(p), &parsed));
    EXPECT_EQ(parsed, p);
  }
  Programme untouched = Programme::kCommunityRehab;
  EXPECT_FALSE(ParseProgrammeField("Detox", &untouched));
  EXPECT_FALSE(ParseProgrammeField("", &untouched));
  EXPECT_EQ(untouched, Programme::kCommunityRehab);
}

TEST(CodecTest, EncodesTheDocumentedFormat) {
  EXPECT_EQ(EncodeProgrammeStatus(Full()),
            "7|ACTIVE|20260110|REPORT|20260201|1768003200123");
  ProgrammeStatus minimal;
  minimal.state = "CLOSED";
  minimal.version = 1;
  minimal.written_at = absl::UnixEpoch();
  EXPECT_EQ(EncodeProgrammeStatus(minimal), "1|CLOSED||||0");
}

TEST(CodecTest, RoundTrips) {
  for (ProgrammeStatus s : {Full()}) {
    std::optional<ProgrammeStatus> back =
        DecodeProgrammeStatus(EncodeProgrammeStatus(s));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s);
  }
  ProgrammeStatus early = Full();
  early.began = absl::CivilDay(1, 1, 1);
  early.written_at = absl::FromUnixMillis(-1234);  // Before 1970.
  early.version = INT64_MAX;
  std::optional<ProgrammeStatus> back =
      DecodeProgrammeStatus(EncodeProgrammeStatus(early));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, early);
}

TEST(CodecTest, RejectsCorruptValues) {
  for (const char* bad : {
           "",
           "garbage",
           "7|ACTIVE|20260110|REPORT|20260201",          // Too few fields.
           "7|ACTIVE|20260110|REPORT|20260201|1|extra",  // Too many.
           "0|ACTIVE||||0",                              // Version 0.
           "07|ACTIVE||||0",                             // Not canonical.
           "-7|ACTIVE||||0",
           "+7|ACTIVE||||0",
           "x|ACTIVE||||0",
           "99999999999999999999|ACTIVE||||0",  // Overflow.
           "7|||||0",                           // No state.
           "7|active||||0",
           "7|ACTIVE|2026011|||0",   // Short date.
           "7|ACTIVE|20260230|||0",  // Feb 30.
           "7|ACTIVE|2026-1-1|||0",
           "7|ACTIVE||REPORT||0",    // Kind, no deadline.
           "7|ACTIVE|||20261301|0",  // Month 13.
           "7|ACTIVE||||",           // No written_at.
           "7|ACTIVE||||12x",
           "7|ACTIVE||||--1",
           "7|ACTIVE||||99999999999999999999",
       }) {
    EXPECT_FALSE(DecodeProgrammeStatus(bad).has_value()) << bad;
  }
  // Arbitrary bytes never crash.
  std::string noise;
  for (int i = 0; i < 256; ++i) noise.push_back(static_cast<char>(i));
  EXPECT_FALSE(DecodeProgrammeStatus(noise).has_value());
}

TEST(ValidateTest, CaseIds) {
  EXPECT_TRUE(ValidateCaseId("C-2026-0001").ok());
  EXPECT_TRUE(ValidateCaseId("0").ok());
  EXPECT_EQ(ValidateCaseId("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateCaseId("a_b").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateCaseId("a:b").code(), absl::StatusCode::kInvalidArgument);
  const absl::Status s = ValidateCaseId("Jane Citizen");
  EXPECT_EQ(s.message().find("Jane"), absl::string_view::npos)
      << "the message must not repeat the input";
}

TEST(ValidateTest, Statuses) {
  EXPECT_TRUE(ValidateProgrammeStatus(Full()).ok());
  ProgrammeStatus s = Full();
  s.next_deadline_kind.clear();  // A deadline without a kind is fine.
  EXPECT_TRUE(ValidateProgrammeStatus(s).ok());
  s = Full();
  s.written_at = absl::InfinitePast();
  EXPECT_EQ(ValidateProgrammeStatus(s).code(),
            absl::StatusCode::kInvalidArgument);
  s = Full();
  s.next_deadline = absl::CivilDay(0, 12, 31);
  EXPECT_EQ(ValidateProgrammeStatus(s).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pathway
