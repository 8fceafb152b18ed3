// Table tests for the placement rules: the GB 32100 credit-code check character,
// eligibility per programme state (the status view), retention checkpoint dates
// (民法典 Art 202 month ends, leap years), contracts of a year or more, matching scores
// with their reasons, the subsidy tier configuration and what qualifies for a tier, and
// the dating and programme status of seeker changes.
#include "services/placement/placement_rules.h"

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "services/placement/credit_code.h"

namespace pathway {
namespace placement {
namespace {

using absl::CivilDay;

// ---------------------------------------------------------------- credit code

TEST(CreditCodeTest, CheckCharacterMatchesTheStandardsAlgorithm) {
  // Check characters computed independently (weights 1,3,9,27,... mod 31), including
  // published codes and the 31 -> 0 and letter cases.
  struct Case {
    const char* code;
  } cases[] = {
      {"91110000802100433B"}, {"91330100799655058B"}, {"125201004292001312"},
      {"91520102MA0000042W"}, {"52520102MA0000001N"}, {"91520102MA6DQ00003"},
  };
  for (const Case& c : cases) {
    std::string code = c.code;
    EXPECT_TRUE(ValidateCreditCode(code).ok()) << code;
    auto check = CreditCodeCheckChar(code.substr(0, 17));
    ASSERT_TRUE(check.ok());
    EXPECT_EQ(*check, code[17]) << code;
  }
}

TEST(CreditCodeTest, GeneratedCodesValidateAndEveryWrongCheckFails) {
  for (int64_t seq : {0, 1, 42, 999, 1234567, 9999999}) {
    std::string code = GenerateSyntheticCreditCode("520102", seq);
    ASSERT_EQ(code.size(), 18u);
    EXPECT_TRUE(ValidateCreditCode(code).ok()) << code;
    int valid = 0;
    for (char c : std::string("0123456789ABCDEFGHJKLMNPQRTUWXY")) {
      std::string other = code.substr(0, 17) + c;
      if (ValidateCreditCode(other).ok()) ++valid;
    }
    EXPECT_EQ(valid, 1) << "exactly one check character fits " << code;
  }
}

TEST(CreditCodeTest, RejectsShapeAndCharacterSetWithoutEchoingTheCode) {
  const std::string good = GenerateSyntheticCreditCode("520102", 7);
  struct Case {
    std::string code;
    const char* message_part;
  } cases[] = {
      {"", "18 characters"},
      {good.substr(0, 17), "18 characters"},
      {good + "0", "18 characters"},
      {"91520102MA000000I" + std::string(1, good[17]), "other than I, O, Z, S, V"},
      {"91520102MA000000O0", "other than I, O, Z, S, V"},
      {"91520102MA000000Z0", "other than I, O, Z, S, V"},
      {"91520102MA000000S0", "other than I, O, Z, S, V"},
      {"91520102MA000000V0", "other than I, O, Z, S, V"},
      {"91520102ma00000070", "other than I, O, Z, S, V"},
      {"9152A102MA00000070", "division code"},
  };
  for (const Case& c : cases) {
    absl::Status s = ValidateCreditCode(c.code);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.code;
    EXPECT_TRUE(absl::StrContains(s.message(), c.message_part)) << c.code << ": " << s.message();
    if (!c.code.empty()) {
      EXPECT_FALSE(absl::StrContains(s.message(), c.code));
    }
  }
  // A transposition of two body characters is caught by the weighted sum.
  std::string swapped = good;
  std::swap(swapped[10], swapped[16]);
  if (swapped != good) {
    EXPECT_EQ(ValidateCreditCode(swapped).code(), absl::StatusCode::kInvalidArgument);
  }
}

// ---------------------------------------------------------------- eligibility

ProgrammeStatus St(const std::string& state, std::string deadline_kind = "",
                   std::optional<CivilDay> deadline = std::nullopt) {
  ProgrammeStatus s;
  s.state = state;
  s.version = 1;
  s.next_deadline_kind = std::move(deadline_kind);
  s.next_deadline = deadline;
  return s;
}

TEST(EligibilityTest, PerProgrammeState) {
  const CivilDay today(2027, 3, 16);
  struct Case {
    const char* name;
    CaseStatusEntries entries;
    absl::StatusCode code;
    v1::Eligibility eligibility;
    const char* basis;
  } cases[] = {
      {"community detox active", {{Programme::kCommunityDetox, St("ACTIVE")}},
       absl::StatusCode::kOk, v1::ELIGIBILITY_PLACEMENT, "detox:ACTIVE"},
      {"community detox awaiting report", {{Programme::kCommunityDetox, St("AWAITING_REPORT")}},
       absl::StatusCode::kOk, v1::ELIGIBILITY_PLACEMENT, "detox:AWAITING_REPORT"},
      {"community rehab", {{Programme::kCommunityRehab, St("ACTIVE")}}, absl::StatusCode::kOk,
       v1::ELIGIBILITY_PLACEMENT, "rehab:ACTIVE"},
      {"released from isolation", {{Programme::kCompulsoryIsolation, St("RELEASED")}},
       absl::StatusCode::kOk, v1::ELIGIBILITY_PLACEMENT, "isolation:RELEASED"},
      {"isolation converted to SD (Art 31)",
       {{Programme::kCompulsoryIsolation, St("CONVERTED_TO_SD")}}, absl::StatusCode::kOk,
       v1::ELIGIBILITY_PLACEMENT, "isolation:CONVERTED_TO_SD"},
      {"released, now in rehab",
       {{Programme::kCompulsoryIsolation, St("RELEASED")},
        {Programme::kCommunityRehab, St("ACTIVE")}},
       absl::StatusCode::kOk, v1::ELIGIBILITY_PLACEMENT, "rehab:ACTIVE"},
      // Isolation wins over an SD record the decision ended.
      {"isolated, in the last year of the term",
       {{Programme::kCommunityDetox, St("TERMINATED")},
        {Programme::kCompulsoryIsolation, St("IN_JUDICIAL_FACILITY_TRAINING_ELIGIBLE")}},
       absl::StatusCode::kOk, v1::ELIGIBILITY_TRAINING_ONLY,
       "isolation:IN_JUDICIAL_FACILITY_TRAINING_ELIGIBLE"},
      {"isolated, a year or more left",
       {{Programme::kCompulsoryIsolation, St("IN_JUDICIAL_FACILITY")}},
       absl::StatusCode::kFailedPrecondition, v1::ELIGIBILITY_UNSPECIFIED, ""},
      {"isolated in the police stage",
       {{Programme::kCompulsoryIsolation, St("IN_POLICE_FACILITY", "ASSESSMENT", CivilDay(2027, 4, 1))}},
       absl::StatusCode::kFailedPrecondition, v1::ELIGIBILITY_UNSPECIFIED, ""},
      {"escaped counts as isolated",
       {{Programme::kCompulsoryIsolation, St("ESCAPED")}}, absl::StatusCode::kFailedPrecondition,
       v1::ELIGIBILITY_UNSPECIFIED, ""},
      {"only a placement entry: unknown", {{Programme::kPlacement, St("SEEKING")}},
       absl::StatusCode::kUnavailable, v1::ELIGIBILITY_UNSPECIFIED, ""},
      {"nothing cached: unknown, never a guess", {}, absl::StatusCode::kUnavailable,
       v1::ELIGIBILITY_UNSPECIFIED, ""},
  };
  for (const Case& c : cases) {
    auto d = DecideEligibility(c.entries, today);
    EXPECT_EQ(d.status().code(), c.code) << c.name << ": " << d.status();
    if (d.ok()) {
      EXPECT_EQ(d->eligibility, c.eligibility) << c.name;
      EXPECT_EQ(d->basis, c.basis) << c.name;
    }
  }
}

// The last-year boundary itself is the isolation service's (its tests cover the exact
// day, leap days and escape time); placement follows the flag it publishes.
TEST(EligibilityTest, FollowsTheIsolationServicesLastYearFlag) {
  CaseStatusEntries before = {{Programme::kCompulsoryIsolation, St("IN_JUDICIAL_FACILITY")}};
  CaseStatusEntries after = {
      {Programme::kCompulsoryIsolation, St("IN_JUDICIAL_FACILITY_TRAINING_ELIGIBLE")}};
  EXPECT_EQ(DecideEligibility(before, CivilDay(2027, 3, 16)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto d = DecideEligibility(after, CivilDay(2027, 3, 16));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->eligibility, v1::ELIGIBILITY_TRAINING_ONLY);
}

// ---------------------------------------------------------------- retention

TEST(RetentionTest, CheckpointDatesUseMonthEnds) {
  struct Case {
    CivilDay start;
    CivilDay m1, m3, m6, m12;
  } cases[] = {
      {CivilDay(2026, 1, 31), CivilDay(2026, 2, 28), CivilDay(2026, 4, 30), CivilDay(2026, 7, 31),
       CivilDay(2027, 1, 31)},
      {CivilDay(2028, 1, 31), CivilDay(2028, 2, 29), CivilDay(2028, 4, 30), CivilDay(2028, 7, 31),
       CivilDay(2029, 1, 31)},
      {CivilDay(2026, 3, 15), CivilDay(2026, 4, 15), CivilDay(2026, 6, 15), CivilDay(2026, 9, 15),
       CivilDay(2027, 3, 15)},
      {CivilDay(2024, 2, 29), CivilDay(2024, 3, 29), CivilDay(2024, 5, 29), CivilDay(2024, 8, 29),
       CivilDay(2025, 2, 28)},
      {CivilDay(2026, 8, 31), CivilDay(2026, 9, 30), CivilDay(2026, 11, 30), CivilDay(2027, 2, 28),
       CivilDay(2027, 8, 31)},
  };
  for (const Case& c : cases) {
    auto cps = RetentionCheckpoints(c.start);
    ASSERT_EQ(cps.size(), 4u);
    EXPECT_EQ(cps[0].months, 1);
    EXPECT_EQ(cps[0].due_on, c.m1) << c.start;
    EXPECT_EQ(cps[1].due_on, c.m3) << c.start;
    EXPECT_EQ(cps[2].due_on, c.m6) << c.start;
    EXPECT_EQ(cps[3].months, 12);
    EXPECT_EQ(cps[3].due_on, c.m12) << c.start;
    // Recorded by the end of the 15th day after the checkpoint (Art 201 counting).
    EXPECT_EQ(cps[0].record_by, c.m1 + kRetentionRecordWindowDays) << c.start;
  }
  EXPECT_TRUE(IsRetentionMonths(6));
  EXPECT_FALSE(IsRetentionMonths(2));
}

TEST(RetentionTest, ContractOfAYearOrMore) {
  struct Case {
    CivilDay start;
    std::optional<CivilDay> end;
    bool one_year;
  } cases[] = {
      {CivilDay(2026, 3, 1), CivilDay(2027, 2, 28), true},   // first day counts
      {CivilDay(2026, 3, 1), CivilDay(2027, 2, 27), false},
      {CivilDay(2026, 3, 1), std::nullopt, true},             // open-ended
      {CivilDay(2024, 2, 29), CivilDay(2025, 2, 28), true},
      {CivilDay(2024, 2, 29), CivilDay(2025, 2, 27), false},
      {CivilDay(2026, 1, 10), CivilDay(2026, 7, 9), false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ContractOneYearOrMore(c.start, c.end), c.one_year) << c.start;
  }
}

// ---------------------------------------------------------------- matching

TEST(MatchTest, ScoresAndExplains) {
  MatchProfile seeker{"520102", {"welding", "cooking"}, {"5201"}, 3000};
  v1::Posting p;
  p.set_division("520103");
  p.add_skills("welding");
  p.add_skills("driving");
  p.set_wage_min(2500);
  p.set_wage_max(3500);
  MatchScore m = ScoreMatch(seeker, p, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  EXPECT_EQ(m.score, 25 + 30 + 20 + 10);
  EXPECT_EQ(absl::StrJoin(m.reasons, "; "),
            "skills 1/2: welding; in preferred area 5201; wage up to 3500 meets expectation "
            "3000; Sunshine enterprise");

  // Outside the preferred area, wage too low, ordinary employer.
  p.set_division("530102");
  p.set_wage_max(2800);
  MatchScore low = ScoreMatch(seeker, p, v1::EMPLOYER_KIND_ORDINARY);
  EXPECT_EQ(low.score, 25 + 0 - 20);
  EXPECT_LT(low.score, m.score);
  EXPECT_TRUE(absl::StrContains(absl::StrJoin(low.reasons, ";"), "below expectation"));

  // Home county without preferences.
  MatchProfile home{"520102", {}, {}, 0};
  v1::Posting q;
  q.set_division("520102");
  MatchScore h = ScoreMatch(home, q, v1::EMPLOYER_KIND_PLACEMENT_BASE);
  EXPECT_EQ(h.score, 10 + 25 + 10 + 10);
}

// ---------------------------------------------------------------- fields and tiers

TEST(FieldsTest, SkillsPrefixesAndRecordIds) {
  google::protobuf::RepeatedPtrField<std::string> skills;
  *skills.Add() = " Welding ";
  *skills.Add() = "welding";
  *skills.Add() = "Cooking";
  auto n = NormalizeSkills(skills, 5, "skills");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(absl::StrJoin(*n, ","), "welding,cooking");
  *skills.Add() = "";
  EXPECT_FALSE(NormalizeSkills(skills, 5, "skills").ok());

  EXPECT_TRUE(ValidateDivisionPrefix("52", "p").ok());
  EXPECT_TRUE(ValidateDivisionPrefix("520102", "p").ok());
  EXPECT_FALSE(ValidateDivisionPrefix("520", "p").ok());
  EXPECT_FALSE(ValidateDivisionPrefix("52a1", "p").ok());
  EXPECT_TRUE(ValidateRecordId("LB-2026:0001.a_b").ok());
  EXPECT_FALSE(ValidateRecordId("").ok());
  EXPECT_FALSE(ValidateRecordId("has space").ok());
}

TEST(SubsidyTierTest, ParsesConfigurationAndRejectsBadLines) {
  auto tiers = ParseSubsidyTiers(
      "# code|description|min contract months|retained months|amount (fen)\n"
      "\n"
      "BASE_1Y|base subsidy, contract of a year or more|12|6|150000\n"
      "SHORT|short placements|0|0|20000\n");
  ASSERT_TRUE(tiers.ok()) << tiers.status();
  ASSERT_EQ(tiers->size(), 2u);
  EXPECT_EQ((*tiers)[0].code(), "BASE_1Y");
  EXPECT_EQ((*tiers)[0].min_contract_months(), 12);
  EXPECT_EQ((*tiers)[0].retained_months(), 6);
  EXPECT_EQ((*tiers)[0].amount_per_placement_fen(), 150000);
  EXPECT_FALSE(ParseSubsidyTiers("A|x|12|5|100\n").ok());   // 5 is no checkpoint
  EXPECT_FALSE(ParseSubsidyTiers("A|x|12|6\n").ok());
  EXPECT_FALSE(ParseSubsidyTiers("A|x|12|6|1\nA|y|1|1|1\n").ok());  // duplicate code
}

TEST(SubsidyTierTest, QualifyingPlacementsLastTheTermAndWereRetained) {
  v1::SubsidyTier tier;
  tier.set_min_contract_months(12);
  tier.set_retained_months(6);
  const CivilDay start(2026, 3, 1);
  const std::optional<v1::RetentionOutcome> kept = v1::RETENTION_OUTCOME_STILL_EMPLOYED;
  // A year counts its first day: 1 Mar 2026 to 28 Feb 2027 is a year; open-ended counts.
  EXPECT_TRUE(QualifiesForTier(tier, start, CivilDay(2027, 2, 28), kept));
  EXPECT_TRUE(QualifiesForTier(tier, start, std::nullopt, kept));
  EXPECT_FALSE(QualifiesForTier(tier, start, CivilDay(2027, 2, 27), kept));
  // Retention is asked for: none recorded, or not employed, does not qualify.
  EXPECT_FALSE(QualifiesForTier(tier, start, std::nullopt, std::nullopt));
  EXPECT_FALSE(QualifiesForTier(tier, start, std::nullopt, v1::RETENTION_OUTCOME_LEFT));
  EXPECT_FALSE(QualifiesForTier(tier, start, std::nullopt, v1::RETENTION_OUTCOME_UNKNOWN));
  // A tier without terms takes any placement.
  v1::SubsidyTier any;
  EXPECT_TRUE(QualifiesForTier(any, start, CivilDay(2026, 3, 2), std::nullopt));
  EXPECT_TRUE(ContractLastsMonths(start, CivilDay(2026, 3, 31), 1));
  EXPECT_FALSE(ContractLastsMonths(start, CivilDay(2026, 3, 30), 1));
}

// ---------------------------------------------------------------- seeker changes

common::v1::Date Date(int y, int m, int d) {
  common::v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

TEST(SeekerChangeTest, ChangeDatesByWhoAsks) {
  v1::Seeker s;
  *s.mutable_registered_on() = Date(2026, 3, 10);
  *s.mutable_state_since() = Date(2026, 4, 1);
  const CivilDay today(2026, 5, 1);
  // A caseworker's entry: before registration or in the future is refused.
  EXPECT_EQ(*ChangeDate(Date(2026, 3, 20), today, s, ChangeDating::kRefuse), CivilDay(2026, 3, 20));
  EXPECT_EQ(ChangeDate(Date(2026, 3, 9), today, s, ChangeDating::kRefuse).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChangeDate(Date(2026, 5, 2), today, s, ChangeDating::kRefuse).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A hand-off dated before the latest change applies as of that change.
  EXPECT_EQ(*ChangeDate(Date(2026, 3, 1), today, s, ChangeDating::kApplyLatest),
            CivilDay(2026, 4, 1));
  EXPECT_EQ(*ChangeDate(Date(2026, 4, 20), today, s, ChangeDating::kApplyLatest),
            CivilDay(2026, 4, 20));
  // Only the service role's future date is applied today.
  EXPECT_EQ(ChangeDate(Date(2026, 5, 3), today, s, ChangeDating::kApplyLatest).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ChangeDate(Date(2026, 5, 3), today, s, ChangeDating::kApplyLatestUpToToday), today);
  EXPECT_EQ(ChangeDate(common::v1::Date(), today, s, ChangeDating::kApplyLatest).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SeekerChangeTest, ProgramStateFollowsStateAndEligibility) {
  v1::Seeker s;
  s.set_state(v1::SEEKER_STATE_SEEKING);
  s.set_eligibility(v1::ELIGIBILITY_PLACEMENT);
  EXPECT_EQ(SeekerProgramState(s), "SEEKING");
  s.set_eligibility(v1::ELIGIBILITY_TRAINING_ONLY);
  EXPECT_EQ(SeekerProgramState(s), "TRAINING_ONLY");
  s.set_state(v1::SEEKER_STATE_PLACED);
  EXPECT_EQ(SeekerProgramState(s), "PLACED");
  s.set_state(v1::SEEKER_STATE_SUSPENDED);
  EXPECT_EQ(SeekerProgramState(s), "SUSPENDED");
  s.set_state(v1::SEEKER_STATE_CLOSED);
  EXPECT_EQ(SeekerProgramState(s), "CLOSED");
}

}  // namespace
}  // namespace placement
}  // namespace pathway
