// Table tests of the isolation rules: term arithmetic as applied (escape gaps,
// extension caps, leap years, early-release eligibility on the exact day), the guards
// (禁毒法 Art 39; 戒毒条例 Art 32, 38), the transfer window (Art 27), what is due, and the
// status record; on a real SQLite file.
#include "services/compulsory_isolation/compulsory_isolation_logic.h"

#include <memory>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/codec/proto_date.h"
#include "common/ids/case_id.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "pathway/detox/v1/detox.pb.h"
#include "pathway/rehab/v1/rehab.pb.h"

namespace pathway {
namespace isolation {
namespace {

using absl::CivilDay;

CivilDay D(int y, int m, int d) { return CivilDay(y, m, d); }

absl::Time At(CivilDay day) {
  return absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 12, 0, 0),
                         absl::FixedTimeZone(8 * 3600));
}

// ---- Term arithmetic ---------------------------------------------------------------------

TEST(TermArithmeticTest, LastDayOfTheTerm) {
  struct Case {
    CivilDay decided;
    int extension;
    int excluded;
    CivilDay want;
  } cases[] = {
      {D(2026, 3, 15), 0, 0, D(2028, 3, 14)},    // DESIGN.md §3 example
      {D(2026, 2, 1), 0, 0, D(2028, 1, 31)},
      {D(2024, 2, 29), 0, 0, D(2026, 2, 28)},    // leap day: Mar 1 2026 is the corresponding day
      {D(2028, 2, 29), 0, 0, D(2030, 2, 28)},
      {D(2026, 1, 31), 1, 0, D(2028, 2, 29)},    // +1 month lands on Feb 2028's missing 31st
      {D(2026, 3, 15), 12, 0, D(2029, 3, 14)},   // the maximum: 3 years (禁毒法 Art 47)
      {D(2026, 3, 15), 0, 10, D(2028, 3, 24)},   // 10 escape days push the end back
      {D(2026, 3, 15), 6, 3, D(2028, 9, 17)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsolationTermLastDay(c.decided, c.extension, c.excluded), c.want)
        << c.decided << " +" << c.extension << "m excl " << c.excluded;
  }
}

TEST(TermArithmeticTest, EscapeGapCountsTheDaysAtLarge) {
  EXPECT_EQ(EscapeExcludedDays(D(2026, 6, 1), D(2026, 6, 1)), 0);
  EXPECT_EQ(EscapeExcludedDays(D(2026, 6, 1), D(2026, 6, 11)), 10);
  EXPECT_EQ(EscapeExcludedDays(D(2028, 2, 28), D(2028, 3, 1)), 2);  // across a leap day
  EXPECT_EQ(EscapeExcludedDays(D(2027, 2, 28), D(2027, 3, 1)), 1);
}

TEST(TermArithmeticTest, EarlyReleaseEligibleFromTheDayAfterOneYear) {
  struct Case {
    CivilDay decided;
    int excluded;
    CivilDay want;
  } cases[] = {
      {D(2026, 3, 15), 0, D(2027, 3, 15)},  // served one year at the end of 14 Mar 2027
      {D(2024, 2, 29), 0, D(2025, 3, 1)},   // served through 28 Feb 2025
      {D(2026, 3, 15), 10, D(2027, 3, 25)},
      {D(2026, 12, 31), 0, D(2027, 12, 31)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EarlyReleaseEligibleFrom(c.decided, c.excluded), c.want) << c.decided;
  }
}

TEST(TermArithmeticTest, TrainingEligibleWhenLessThanAYearRemains) {
  EXPECT_EQ(TrainingEligibleFrom(D(2028, 3, 14)), CivilDay(2027, 3, 16));
  EXPECT_EQ(TrainingEligibleFrom(D(2026, 2, 28)), CivilDay(2025, 3, 2));
  EXPECT_EQ(TrainingEligibleFrom(D(2029, 3, 14)), CivilDay(2028, 3, 16));
}

TEST(TermArithmeticTest, PoliceStageTransferWindow) {
  struct Case {
    CivilDay admitted;
    int max_months;
    CivilDay from;
    CivilDay by;
  } cases[] = {
      {D(2026, 3, 20), 6, D(2026, 6, 20), D(2026, 9, 20)},
      {D(2026, 3, 20), 12, D(2026, 6, 20), D(2027, 3, 20)},
      {D(2025, 11, 30), 6, D(2026, 3, 1), D(2026, 5, 30)},  // no 30 Feb: from 1 Mar
      {D(2027, 8, 31), 6, D(2027, 12, 1), D(2028, 3, 1)},   // no 31 Nov / 31 Feb
  };
  for (const Case& c : cases) {
    TransferWindow w = PoliceStageTransferWindow(c.admitted, c.max_months);
    EXPECT_EQ(w.from, c.from) << c.admitted;
    EXPECT_EQ(w.by, c.by) << c.admitted;
  }
}

TEST(GuardsTest, AgeCountsFromTheDayAfterTheBirthday) {
  EXPECT_EQ(FirstDayAged(D(2010, 5, 10), 16), CivilDay(2026, 5, 11));
  EXPECT_EQ(FirstDayAged(D(2012, 2, 29), 16), CivilDay(2028, 3, 1));   // 2028 is leap
  EXPECT_EQ(FirstDayAged(D(2008, 2, 29), 17), CivilDay(2025, 3, 2));   // birthday 1 Mar
  EXPECT_EQ(FirstDayAged(D(2025, 6, 1), 1), CivilDay(2026, 6, 2));
}

// 戒毒条例 Art 38(2): whether the SK order was running on the decision date, from the
// state the rehabilitation service records and the day that state began.
TEST(GuardsTest, CommunityRehabRunningOnTheDecisionDate) {
  auto sk = [](const std::string& state, CivilDay began) {
    common::v1::ProgramStatus s;
    s.set_program(common::v1::PROGRAM_COMMUNITY_REHAB);
    s.set_state(state);
    ToProtoDate(began, s.mutable_began());
    return std::optional<common::v1::ProgramStatus>(s);
  };
  const CivilDay decided = D(2026, 6, 10);
  struct Case {
    std::optional<common::v1::ProgramStatus> status;
    bool want;
  } cases[] = {
      {std::nullopt, false},                                 // never in SK
      {sk("AWAITING_REPORT", D(2026, 5, 1)), true},          // ordered, not yet reported
      {sk("ACTIVE", D(2026, 5, 20)), true},
      {sk("SUSPENDED", D(2026, 6, 1)), true},                // 戒毒条例 Art 24: not ended
      {sk("EXPIRED_AWAITING_DISCHARGE", D(2026, 6, 11)), true},   // last day 10 Jun
      {sk("EXPIRED_AWAITING_DISCHARGE", D(2026, 6, 10)), false},  // ended 9 Jun
      {sk("TERMINATED", D(2026, 6, 10)), true},              // closed by this decision
      {sk("TERMINATED", D(2025, 1, 5)), false},              // an earlier isolation
      {sk("DISCHARGED", D(2026, 6, 9)), false},
      {sk("DISCHARGED", D(2026, 6, 20)), true},              // recorded after the fact
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CommunityRehabRunningOn(c.status, decided), c.want)
        << (c.status.has_value() ? c.status->state() : "none");
  }
}

TEST(GuardsTest, PregnantOrNursingUnderOneYearIsRefused) {
  absl::Status pregnant = CheckIsolationApplies(true, std::nullopt, D(2026, 3, 15));
  EXPECT_EQ(pregnant.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(pregnant.message(), "pregnant")) << pregnant;
  EXPECT_TRUE(absl::StrContains(pregnant.message(), "Art 39")) << pregnant;

  struct Case {
    CivilDay infant_born;
    CivilDay decided;
    bool refused;
  } cases[] = {
      {D(2025, 6, 1), D(2025, 6, 1), true},
      {D(2025, 6, 1), D(2026, 5, 31), true},
      {D(2025, 6, 1), D(2026, 6, 1), true},   // first birthday: not yet over one year
      {D(2025, 6, 1), D(2026, 6, 2), false},
      {D(2024, 2, 29), D(2025, 3, 1), true},  // birthday taken as 1 Mar in a common year
      {D(2024, 2, 29), D(2025, 3, 2), false},
  };
  for (const Case& c : cases) {
    absl::Status s = CheckIsolationApplies(false, c.infant_born, c.decided);
    EXPECT_EQ(!s.ok(), c.refused) << c.infant_born << " " << c.decided;
    if (!s.ok()) {
      EXPECT_TRUE(absl::StrContains(s.message(), "nursing")) << s;
    }
  }
  EXPECT_TRUE(CheckIsolationApplies(false, std::nullopt, D(2026, 3, 15)).ok());
}

TEST(OptionsTest, ValidatesFacilitiesAndPoliceStage) {
  auto parsed = ParseFacilities(
      "# id,kind,division,name\n"
      "gy-police,police,520102,Guiyang police facility\n"
      "\n"
      "gy-judicial, Judicial ,520113,Guiyang judicial facility, with comma\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[1].kind, v1::FACILITY_KIND_JUDICIAL);
  EXPECT_EQ((*parsed)[1].name, "Guiyang judicial facility, with comma");
  EXPECT_EQ(ParseFacilities("x,prison,520102,X").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFacilities("x,police,520102").status().code(),
            absl::StatusCode::kInvalidArgument);

  IsolationOptions o;
  o.facilities = *parsed;
  EXPECT_TRUE(o.Validate().ok());
  o.police_stage_max_months = 13;
  EXPECT_FALSE(o.Validate().ok());
  o.police_stage_max_months = 5;
  EXPECT_FALSE(o.Validate().ok());
  o.police_stage_max_months = 12;
  o.facilities.push_back(o.facilities[0]);
  EXPECT_FALSE(o.Validate().ok());
}

// ---- Rules on a real store ----------------------------------------------------------------

class IsolationLogicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Migration> migrations = ProgramStatusMigrations();
    for (Migration& m : IsolationLogic::Migrations()) migrations.push_back(std::move(m));
    auto store = OpenTestStore(std::move(migrations));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    IsolationOptions o;
    o.facilities = {{"gy-police", v1::FACILITY_KIND_POLICE, "520102", "Guiyang police"},
                    {"gy-judicial", v1::FACILITY_KIND_JUDICIAL, "520113", "Guiyang judicial"},
                    {"km-judicial", v1::FACILITY_KIND_JUDICIAL, "530102", "Kunming judicial"}};
    ASSERT_TRUE(o.Validate().ok());
    logic_ = std::make_unique<IsolationLogic>(o);
    police_.claims = {};
    police_.claims.subject = "police-1";
    police_.claims.role = Role::kPolice;
    police_.claims.jurisdiction = "520102";
    staff_.claims.subject = "staff-1";
    staff_.claims.role = Role::kFacilityStaff;
    staff_.claims.jurisdiction = "52";
    outsider_.claims.subject = "police-9";
    outsider_.claims.role = Role::kPolice;
    outsider_.claims.jurisdiction = "530102";
  }

  static std::string Case(int seq) { return CaseId::Mint("520102", 2026, seq)->ToString(); }

  registry::v1::CaseFacts Facts(const std::string& case_id, CivilDay birth = D(1990, 1, 1)) {
    registry::v1::CaseFacts f;
    f.set_case_id(case_id);
    f.set_household_division("520102");
    ToProtoDate(birth, f.mutable_birth_date());
    return f;
  }

  // Runs one logic write at noon (China time) of `today`.
  template <typename Fn>
  absl::Status Write(CivilDay today, Fn fn, v1::Decision* out = nullptr) {
    v1::Decision scratch;
    v1::Decision* d = out != nullptr ? out : &scratch;
    effects_ = Effects();
    return store_->Write([&](Transaction& tx) { return fn(tx, At(today), d, &effects_); });
  }

  absl::Status Decide(const std::string& case_id, CivilDay decided, v1::Decision* out = nullptr,
                      v1::Ground ground = v1::GROUND_SEVERE_ADDICTION,
                      registry::v1::CaseFacts facts = {}, bool pregnant = false) {
    v1::DecideRequest r;
    r.set_case_id(case_id);
    r.set_decision_number("筑公强戒决字[2026]001号");
    r.set_deciding_division("520102");
    ToProtoDate(decided, r.mutable_decided_on());
    ToProtoDate(decided, r.mutable_served_on());
    r.set_ground(ground);
    r.set_pregnant(pregnant);
    if (facts.case_id().empty()) facts = Facts(case_id);
    return Write(decided, [&](Transaction& tx, absl::Time now, v1::Decision* d, Effects* e) {
      return logic_->Decide(tx, police_, now, r, facts, std::nullopt, d, e);
    }, out);
  }

  absl::Status Admit(const std::string& case_id, CivilDay on, const std::string& facility = "gy-police") {
    v1::AdmitRequest r;
    r.set_case_id(case_id);
    r.set_facility_id(facility);
    ToProtoDate(on, r.mutable_admitted_on());
    return Write(on, [&](Transaction& tx, absl::Time now, v1::Decision* d, Effects* e) {
      return logic_->Admit(tx, staff_, now, r, d, e);
    });
  }

  absl::Status Transfer(const std::string& case_id, CivilDay on,
                        const std::string& facility = "gy-judicial") {
    v1::TransferRequest r;
    r.set_case_id(case_id);
    r.set_facility_id(facility);
    ToProtoDate(on, r.mutable_transferred_on());
    return Write(on, [&](Transaction& tx, absl::Time now, v1::Decision* d, Effects* e) {
      return logic_->Transfer(tx, staff_, now, r, d, e);
    });
  }

  absl::Status Absence(const std::string& case_id, v1::AbsenceKind kind, CivilDay on, bool begin,
                       v1::Decision* out = nullptr) {
    return Write(on, [&](Transaction& tx, absl::Time now, v1::Decision* d, Effects* e) {
      if (begin) {
        v1::BeginAbsenceRequest r;
        r.set_case_id(case_id);
        r.set_kind(kind);
        ToProtoDate(on, r.mutable_started_on());
        return logic_->BeginAbsence(tx, staff_, now, r, d, e);
      }
      v1::EndAbsenceRequest r;
      r.set_case_id(case_id);
      r.set_kind(kind);
      ToProtoDate(on, r.mutable_ended_on());
      return logic_->EndAbsence(tx, staff_, now, r, d, e);
    }, out);
  }

  // Records a passing (or failing) assessment and returns its id (0 on failure).
  int64_t Assess(const std::string& case_id, CivilDay on, v1::AssessmentKind kind,
                 bool pass = true) {
    v1::RecordAssessmentRequest r;
    r.set_case_id(case_id);
    r.set_kind(kind);
    ToProtoDate(on, r.mutable_assessed_on());
    r.set_physiological_detox(v1::GRADE_PASS);
    r.set_physical_mental_recovery(v1::GRADE_PASS);
    r.set_behaviour(pass ? v1::GRADE_PASS : v1::GRADE_FAIL);
    r.set_social_adaptability(v1::ADAPTABILITY_FAIR);
    v1::Decision d;
    absl::Status s = Write(on, [&](Transaction& tx, absl::Time now, v1::Decision* out, Effects* e) {
      return logic_->RecordAssessment(tx, staff_, now, r, out, e);
    }, &d);
    EXPECT_TRUE(s.ok()) << s;
    return s.ok() ? d.assessments(d.assessments_size() - 1).id() : 0;
  }

  absl::Status ProposeEarly(const std::string& case_id, CivilDay on, int64_t assessment,
                            v1::Decision* out = nullptr) {
    v1::ProposeEarlyReleaseRequest r;
    r.set_case_id(case_id);
    ToProtoDate(on, r.mutable_proposed_on());
    ToProtoDate(on + 10, r.mutable_release_on());
    r.set_assessment_id(assessment);
    return Write(on, [&](Transaction& tx, absl::Time now, v1::Decision* d, Effects* e) {
      return logic_->ProposeEarlyRelease(tx, staff_, now, r, d, e);
    }, out);
  }

  absl::Status ProposeExtension(const std::string& case_id, CivilDay on, int64_t assessment,
                                int months, v1::Decision* out = nullptr) {
    v1::ProposeExtensionRequest r;
    r.set_case_id(case_id);
    ToProtoDate(on, r.mutable_proposed_on());
    r.set_assessment_id(assessment);
    r.set_months(months);
    return Write(on, [&](Transaction& tx, absl::Time now, v1::Decision* d, Effects* e) {
      return logic_->ProposeExtension(tx, staff_, now, r, d, e);
    }, out);
  }

  absl::Status DecideProposal(const std::string& case_id, int64_t proposal, CivilDay on,
                              bool approve, v1::Decision* out = nullptr) {
    v1::DecideProposalRequest r;
    r.set_case_id(case_id);
    r.set_proposal_id(proposal);
    r.set_approve(approve);
    ToProtoDate(on, r.mutable_decided_on());
    if (approve) {
      r.set_decision_number("筑公决字[2027]009号");
    } else {
      r.set_refusal_reason("assessment does not support it");
    }
    return Write(on, [&](Transaction& tx, absl::Time now, v1::Decision* d, Effects* e) {
      return logic_->DecideProposal(tx, police_, now, r, d, e);
    }, out);
  }

  absl::Status Release(const std::string& case_id, CivilDay on, v1::Decision* out = nullptr) {
    v1::ReleaseRequest r;
    r.set_case_id(case_id);
    ToProtoDate(on, r.mutable_released_on());
    r.set_release_certificate_number("解戒证[2028]17号");
    r.mutable_community_rehab()->set_ordered(true);
    r.mutable_community_rehab()->set_term_months(36);
    r.mutable_community_rehab()->set_decision_number("筑公康字[2028]3号");
    return Write(on, [&](Transaction& tx, absl::Time now, v1::Decision* d, Effects* e) {
      return logic_->Release(tx, staff_, now, r, d, e);
    }, out);
  }

  v1::Decision Get(const std::string& case_id, CivilDay as_of) {
    v1::Decision d;
    absl::Status s = store_->Read([&](ReadTransaction& tx) {
      return logic_->GetDecision(tx, police_, case_id, as_of, &d);
    });
    EXPECT_TRUE(s.ok()) << s;
    return d;
  }

  std::vector<v1::DueItem> Due(CivilDay as_of, int horizon = 0, const Caller* caller = nullptr) {
    v1::ListDueRequest r;
    ToProtoDate(as_of, r.mutable_as_of());
    r.set_horizon_days(horizon);
    v1::ListDueResponse resp;
    absl::Status s = store_->Read([&](ReadTransaction& tx) {
      return logic_->ListDue(tx, caller != nullptr ? *caller : police_, r, as_of, &resp);
    });
    EXPECT_TRUE(s.ok()) << s;
    return {resp.items().begin(), resp.items().end()};
  }

  static const v1::DueItem* FindDue(const std::vector<v1::DueItem>& items,
                                    const std::string& kind) {
    for (const v1::DueItem& i : items) {
      if (i.kind() == kind) return &i;
    }
    return nullptr;
  }

  ScopedTempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<IsolationLogic> logic_;
  Caller police_, staff_, outsider_;
  Effects effects_;
};

TEST_F(IsolationLogicTest, PregnantWomanIsRefusedAndNothingIsStored) {
  std::string id = Case(1);
  absl::Status s = Decide(id, D(2026, 3, 15), nullptr, v1::GROUND_SEVERE_ADDICTION, {}, true);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(s.message(), "禁毒法 Art 39")) << s;
  v1::Decision d;
  absl::Status r = store_->Read([&](ReadTransaction& tx) {
    return logic_->GetDecision(tx, police_, id, D(2026, 3, 15), &d);
  });
  EXPECT_EQ(r.code(), absl::StatusCode::kNotFound);
}

TEST_F(IsolationLogicTest, MinorUnder16IsAcceptedWithAWarning) {
  v1::Decision d;
  ASSERT_TRUE(Decide(Case(2), D(2026, 5, 10), &d, v1::GROUND_SEVERE_ADDICTION,
                     Facts(Case(2), D(2010, 5, 10)))
                  .ok());
  ASSERT_EQ(d.warnings_size(), 1);
  EXPECT_EQ(d.warnings(0), "MINOR_UNDER_16");
  // The day after the 16th birthday: 16 years old, no warning.
  ASSERT_TRUE(Decide(Case(3), D(2026, 5, 11), &d, v1::GROUND_SEVERE_ADDICTION,
                     Facts(Case(3), D(2010, 5, 10)))
                  .ok());
  EXPECT_EQ(d.warnings_size(), 0);
  // No age-60 rule: a 70-year-old is decided like anyone else.
  ASSERT_TRUE(Decide(Case(4), D(2026, 5, 11), &d, v1::GROUND_SEVERE_ADDICTION,
                     Facts(Case(4), D(1956, 1, 1)))
                  .ok());
  EXPECT_EQ(d.warnings_size(), 0);
}

TEST_F(IsolationLogicTest, DecisionGuardsAndOneOpenDecisionPerCase) {
  std::string id = Case(5);
  v1::Decision d;
  ASSERT_TRUE(Decide(id, D(2026, 3, 15), &d).ok());
  EXPECT_EQ(d.state(), v1::STATE_DECIDED);
  EXPECT_EQ(DayOf(d.term_last_day()), CivilDay(2028, 3, 14));
  EXPECT_EQ(DayOf(d.early_release_eligible_from()), CivilDay(2027, 3, 15));
  ASSERT_EQ(effects_.events.size(), 1u);
  EXPECT_EQ(effects_.events[0].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
  // 禁毒法 Art 38: hand-offs closing an open SD or SK order, keyed by the decision;
  // and the person's Sunshine placement is suspended (DESIGN.md §5).
  ASSERT_EQ(effects_.handoffs.size(), 3u);
  EXPECT_EQ(effects_.handoffs[2].target, "placement");
  EXPECT_EQ(effects_.handoffs[2].method, "/pathway.placement.v1.Placement/SuspendSeeker");
  EXPECT_EQ(effects_.handoffs[2].idempotency_key,
            absl::StrCat("qz:", d.decision_id(), ":suspend-placement"));
  EXPECT_EQ(effects_.handoffs[0].target, "community_detox");
  EXPECT_EQ(effects_.handoffs[0].idempotency_key, absl::StrCat("qz:", d.decision_id(), ":close-sd"));
  EXPECT_EQ(effects_.handoffs[1].target, "community_rehab");
  EXPECT_EQ(effects_.handoffs[1].idempotency_key, absl::StrCat("qz:", d.decision_id(), ":close-sk"));
  detox::v1::CloseForIsolationRequest close_sd;
  ASSERT_TRUE(close_sd.ParseFromString(effects_.handoffs[0].payload));
  EXPECT_EQ(close_sd.case_id(), id);
  EXPECT_EQ(close_sd.decided_on().year(), 2026);
  EXPECT_EQ(close_sd.decided_on().month(), 3);
  EXPECT_EQ(close_sd.decided_on().day(), 15);
  ASSERT_TRUE(effects_.status.has_value());
  EXPECT_EQ(effects_.status->state, "DECIDED");
  EXPECT_EQ(effects_.status->division, "520102");
  EXPECT_EQ(Decide(id, D(2026, 3, 16)).code(), absl::StatusCode::kAlreadyExists);

  // A decision in the future of the clock, or served before it was made.
  v1::DecideRequest r;
  r.set_case_id(Case(6));
  r.set_decision_number("n");
  r.set_deciding_division("520102");
  r.set_ground(v1::GROUND_VOLUNTARY);
  ToProtoDate(D(2026, 3, 16), r.mutable_decided_on());
  ToProtoDate(D(2026, 3, 16), r.mutable_served_on());
  auto decide = [&](const Caller& c) {
    return Write(D(2026, 3, 15), [&](Transaction& tx, absl::Time now, v1::Decision* out, Effects* e) {
      return logic_->Decide(tx, c, now, r, Facts(Case(6)), std::nullopt, out, e);
    });
  };
  absl::Status future = decide(police_);
  EXPECT_EQ(future.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(future.message(), "decided_on")) << future;
  ToProtoDate(D(2026, 3, 10), r.mutable_decided_on());
  ToProtoDate(D(2026, 3, 9), r.mutable_served_on());
  EXPECT_EQ(decide(police_).code(), absl::StatusCode::kInvalidArgument);
  ToProtoDate(D(2026, 3, 10), r.mutable_served_on());
  EXPECT_EQ(decide(outsider_).code(), absl::StatusCode::kPermissionDenied);
  r.set_ground(v1::GROUND_UNSPECIFIED);
  EXPECT_EQ(decide(police_).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IsolationLogicTest, NoticesAreDueWithin24HoursOfServiceAndClearWhenRecorded) {
  std::string id = Case(7);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15)).ok());
  std::vector<v1::DueItem> due = Due(D(2026, 3, 16));
  for (const char* kind : {"NOTICE_FAMILY", "NOTICE_EMPLOYER", "NOTICE_HOUSEHOLD_POLICE_STATION"}) {
    const v1::DueItem* item = FindDue(due, kind);
    ASSERT_NE(item, nullptr) << kind;
    EXPECT_EQ(DayOf(item->due()), CivilDay(2026, 3, 16));
    EXPECT_FALSE(item->overdue());
    EXPECT_EQ(item->legal_basis(), "禁毒法 Art 40");
  }
  EXPECT_TRUE(FindDue(Due(D(2026, 3, 17)), "NOTICE_FAMILY")->overdue());

  v1::RecordNoticeRequest n;
  n.set_case_id(id);
  n.set_recipient(v1::NOTICE_RECIPIENT_FAMILY);
  ToProtoDate(D(2026, 3, 15), n.mutable_notified_on());
  auto record = [&](const Caller& c) {
    return Write(D(2026, 3, 16), [&](Transaction& tx, absl::Time now, v1::Decision* d, Effects* e) {
      return logic_->RecordNotice(tx, c, now, n, d, e);
    });
  };
  // Who sees is decided by the service from the registry; the logic lets only the
  // deciding police act.
  EXPECT_EQ(record(outsider_).code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(record(police_).ok());
  EXPECT_EQ(record(police_).code(), absl::StatusCode::kAlreadyExists);
  n.set_recipient(v1::NOTICE_RECIPIENT_EMPLOYER);
  n.set_not_applicable(true);
  ASSERT_TRUE(record(police_).ok());
  due = Due(D(2026, 3, 16));
  EXPECT_EQ(FindDue(due, "NOTICE_FAMILY"), nullptr);
  EXPECT_EQ(FindDue(due, "NOTICE_EMPLOYER"), nullptr);
  EXPECT_NE(FindDue(due, "NOTICE_HOUSEHOLD_POLICE_STATION"), nullptr);
  // Outside the jurisdiction: nothing.
  EXPECT_TRUE(Due(D(2026, 3, 16), 0, &outsider_).empty());
}

TEST_F(IsolationLogicTest, TransferWindowOfThePoliceStage) {
  std::string id = Case(8);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15)).ok());
  EXPECT_EQ(Admit(id, D(2026, 3, 20), "gy-judicial").code(), absl::StatusCode::kFailedPrecondition)
      << "police facility first (戒毒条例 Art 27)";
  EXPECT_EQ(Admit(id, D(2026, 3, 20), "nowhere").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Admit(id, D(2026, 3, 20)).ok());
  EXPECT_EQ(effects_.status->state, "IN_POLICE_FACILITY");
  EXPECT_EQ(Admit(id, D(2026, 3, 21)).code(), absl::StatusCode::kFailedPrecondition);

  // The TRANSFER item: visible within the horizon before the 6-month point, overdue after.
  EXPECT_EQ(FindDue(Due(D(2026, 8, 1)), "TRANSFER"), nullptr);
  const std::vector<v1::DueItem> soon = Due(D(2026, 9, 1));
  ASSERT_NE(FindDue(soon, "TRANSFER"), nullptr);
  EXPECT_EQ(DayOf(FindDue(soon, "TRANSFER")->due()), CivilDay(2026, 9, 20));
  EXPECT_FALSE(FindDue(soon, "TRANSFER")->overdue());
  EXPECT_TRUE(FindDue(Due(D(2026, 9, 21)), "TRANSFER")->overdue());

  absl::Status early = Transfer(id, D(2026, 6, 19));
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(early.message(), "2026-06-20")) << early;
  EXPECT_EQ(Transfer(id, D(2026, 6, 20), "gy-police").code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Transfer(id, D(2026, 6, 20)).ok());
  EXPECT_EQ(effects_.status->state, "IN_JUDICIAL_FACILITY");
  EXPECT_EQ(effects_.status->division, "520113");
  EXPECT_EQ(FindDue(Due(D(2026, 9, 21)), "TRANSFER"), nullptr);
  EXPECT_EQ(Transfer(id, D(2026, 6, 21), "km-judicial").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(IsolationLogicTest, ConfiguredTwelveMonthPoliceStage) {
  IsolationOptions o = logic_->options();
  o.police_stage_max_months = 12;
  logic_ = std::make_unique<IsolationLogic>(o);
  std::string id = Case(9);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15)).ok());
  ASSERT_TRUE(Admit(id, D(2026, 3, 20)).ok());
  v1::Decision d = Get(id, D(2026, 4, 1));
  EXPECT_EQ(DayOf(d.transfer_by()), CivilDay(2027, 3, 20));
  EXPECT_EQ(FindDue(Due(D(2026, 9, 21)), "TRANSFER"), nullptr);
}

TEST_F(IsolationLogicTest, EarlyReleaseOnTheExactDayAfterOneYear) {
  std::string id = Case(10);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15)).ok());
  ASSERT_TRUE(Admit(id, D(2026, 3, 15)).ok());
  int64_t a = Assess(id, D(2027, 3, 10), v1::ASSESSMENT_KIND_ONE_YEAR);
  absl::Status before = ProposeEarly(id, D(2027, 3, 14), a);
  EXPECT_EQ(before.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(before.message(), "禁毒法 Art 47")) << before;
  EXPECT_TRUE(absl::StrContains(before.message(), "2027-03-15")) << before;
  EXPECT_EQ(ProposeEarly(id, D(2027, 3, 15), 999).code(), absl::StatusCode::kNotFound);
  v1::Decision d;
  ASSERT_TRUE(ProposeEarly(id, D(2027, 3, 15), a, &d).ok());
  ASSERT_EQ(d.proposals_size(), 1);
  EXPECT_EQ(DayOf(d.proposals(0).decision_due()), CivilDay(2027, 3, 22));
  EXPECT_EQ(ProposeEarly(id, D(2027, 3, 15), a).code(), absl::StatusCode::kAlreadyExists);

  // Pending past 7 days: an overdue item for the police (戒毒条例 Art 33).
  const std::vector<v1::DueItem> late = Due(D(2027, 3, 23));
  const v1::DueItem* pending = FindDue(late, "PROPOSAL_DECISION");
  ASSERT_NE(pending, nullptr);
  EXPECT_TRUE(pending->overdue());
  EXPECT_EQ(pending->proposal_id(), d.proposals(0).id());
  const std::vector<v1::DueItem> on_time = Due(D(2027, 3, 22));
  ASSERT_NE(FindDue(on_time, "PROPOSAL_DECISION"), nullptr);
  EXPECT_FALSE(FindDue(on_time, "PROPOSAL_DECISION")->overdue());

  // Release before the term's end needs the approval.
  EXPECT_EQ(Release(id, D(2027, 3, 25)).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(DecideProposal(id, d.proposals(0).id(), D(2027, 3, 20), true, &d).ok());
  EXPECT_EQ(DayOf(d.scheduled_release_on()), CivilDay(2027, 3, 25));
  EXPECT_EQ(DecideProposal(id, d.proposals(0).id(), D(2027, 3, 20), true).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Release(id, D(2027, 3, 24)).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Release(id, D(2027, 3, 25), &d).ok());
  EXPECT_EQ(d.state(), v1::STATE_RELEASED);
  EXPECT_TRUE(d.community_rehab().ordered());
  EXPECT_EQ(d.community_rehab().term_months(), 36);
  // SK ordered: the registry hears that SK starts before it hears that QZ ends, so
  // its abstinence clock never sees a moment with no measure open.
  ASSERT_EQ(effects_.events.size(), 2u);
  EXPECT_EQ(effects_.events[0].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
  EXPECT_EQ(effects_.events[0].program(), common::v1::PROGRAM_COMMUNITY_REHAB);
  EXPECT_EQ(effects_.events[0].occurred_on().day(), 25);
  EXPECT_EQ(effects_.events[1].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_ENDED);
  EXPECT_EQ(effects_.events[1].program(), common::v1::PROGRAM_COMPULSORY_ISOLATION);
  EXPECT_EQ(effects_.status->state, "RELEASED");
  EXPECT_TRUE(effects_.status->deadline_kind.empty());
  // 禁毒法 Art 48: SK ordered at release opens by hand-off, from the release date;
  // the placement is resumed.
  ASSERT_EQ(effects_.handoffs.size(), 2u);
  EXPECT_EQ(effects_.handoffs[1].method, "/pathway.placement.v1.Placement/ResumeSeeker");
  EXPECT_EQ(effects_.handoffs[1].idempotency_key,
            absl::StrCat("qz:", d.decision_id(), ":resume-placement"));
  EXPECT_EQ(effects_.handoffs[0].target, "community_rehab");
  EXPECT_EQ(effects_.handoffs[0].method, "/pathway.rehab.v1.CommunityRehab/OpenFromRelease");
  EXPECT_EQ(effects_.handoffs[0].idempotency_key, absl::StrCat("qz:", d.decision_id(), ":open-sk"));
  rehab::v1::OpenFromReleaseRequest open_sk;
  ASSERT_TRUE(open_sk.ParseFromString(effects_.handoffs[0].payload));
  EXPECT_EQ(open_sk.case_id(), id);
  EXPECT_EQ(open_sk.term_months(), 36);
  EXPECT_EQ(open_sk.decision_number(), "筑公康字[2028]3号");
  EXPECT_EQ(open_sk.released_on().year(), 2027);
  EXPECT_EQ(open_sk.released_on().month(), 3);
  EXPECT_EQ(open_sk.released_on().day(), 25);
}

TEST_F(IsolationLogicTest, CommunityRehabPlaceIsCheckedAndNotOrderedHandsNothingOff) {
  struct Input {
    const char* name;
    bool ordered;
    std::string division;
    std::string place;
  };
  for (const Input& c : std::vector<Input>{
           {"malformed division", true, "52010", ""},
           {"place too long", true, "520102", std::string(129, 'x')},
           {"division without an order", false, "520102", ""},
           {"place without an order", false, "", "520102001"}}) {
    SCOPED_TRACE(c.name);
    v1::ReleaseRequest r;
    r.set_case_id(Case(9));
    ToProtoDate(CivilDay(2026, 4, 1), r.mutable_released_on());
    r.set_release_certificate_number("解戒证[2028]18号");
    r.mutable_community_rehab()->set_ordered(c.ordered);
    if (c.ordered) {
      r.mutable_community_rehab()->set_term_months(12);
      r.mutable_community_rehab()->set_decision_number("筑公康字[2028]4号");
    }
    r.mutable_community_rehab()->set_division(c.division);
    r.mutable_community_rehab()->set_place(c.place);
    absl::Status s = Write(CivilDay(2026, 4, 1),
                           [&](Transaction& tx, absl::Time now, v1::Decision* d, Effects* e) {
                             return logic_->Release(tx, staff_, now, r, d, e);
                           });
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  }
}

// 戒毒条例 Art 38(2) from the facts: a decision taken while the SK order ran is barred
// whatever its ground; the same decision for a person without SK is not.
TEST_F(IsolationLogicTest, CommunityRehabRunningAtTheDecisionBarsEarlyRelease) {
  common::v1::ProgramStatus sk;
  sk.set_program(common::v1::PROGRAM_COMMUNITY_REHAB);
  sk.set_state("ACTIVE");
  ToProtoDate(D(2026, 1, 20), sk.mutable_began());
  for (bool running : {true, false}) {
    SCOPED_TRACE(running);
    v1::DecideRequest r;
    r.set_case_id(Case(running ? 30 : 31));
    r.set_decision_number("筑公强戒决字[2026]030号");
    r.set_deciding_division("520102");
    ToProtoDate(D(2026, 3, 15), r.mutable_decided_on());
    ToProtoDate(D(2026, 3, 15), r.mutable_served_on());
    r.set_ground(v1::GROUND_DRUG_USE_DURING_COMMUNITY_MEASURE);
    v1::Decision d;
    ASSERT_TRUE(Write(D(2026, 3, 15),
                      [&](Transaction& tx, absl::Time now, v1::Decision* out, Effects* e) {
                        return logic_->Decide(tx, police_, now, r, Facts(r.case_id()),
                                              running ? std::optional(sk) : std::nullopt, out,
                                              e);
                      },
                      &d)
                    .ok());
    EXPECT_EQ(d.community_rehab_running_at_decision(), running);
    EXPECT_EQ(d.early_release_barred(), running);
    ASSERT_TRUE(Admit(r.case_id(), D(2026, 3, 15)).ok());
    int64_t a = Assess(r.case_id(), D(2027, 3, 15), v1::ASSESSMENT_KIND_ONE_YEAR, true);
    absl::Status s = ProposeEarly(r.case_id(), D(2027, 3, 16), a);
    if (running) {
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
      EXPECT_TRUE(absl::StrContains(s.message(), "戒毒条例 Art 38")) << s;
    } else {
      EXPECT_TRUE(s.ok()) << s;
    }
  }
}

// The fact is a new column: a database written before it opens with the column added,
// and its decisions keep the bar their ground gave them.
TEST_F(IsolationLogicTest, SkFactMigratesAnExistingDatabase) {
  const std::string database = TestDatabaseUriOrDie("qz_before");
  OpenStoreOptions so;
  so.default_sqlite_path = dir_.File("qz-before.db");
  std::vector<Migration> migrations = ProgramStatusMigrations();
  for (const Migration& m : IsolationLogic::Migrations()) {
    if (m.version <= 2) migrations.push_back(m);
  }
  {
    auto before = OpenStore(database, std::move(migrations), nullptr, so);
    ASSERT_TRUE(before.ok()) << before.status();
    absl::Status s = (*before)->Write([&](Transaction& tx) -> absl::Status {
      for (auto [seq, ground] : {std::pair<int, int>{40, v1::GROUND_COMMUNITY_REHAB_BREACH},
                                 std::pair<int, int>{41, v1::GROUND_SERIOUS_VIOLATION}}) {
        absl::Status inserted = tx.Exec(
            "INSERT INTO qz_decisions(case_id, decision_number, deciding_division, decided_on,"
            " served_on, ground, state, state_since, division, is_open, created_by, created_us)"
            " VALUES(?, 'n', '520102', '2026-03-15', '2026-03-15', ?, 'DECIDED', '2026-03-15',"
            " '520102', 1, 'police-1', 0)",
            {Case(seq), int64_t{ground}});
        if (!inserted.ok()) return inserted;
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }
  migrations = ProgramStatusMigrations();
  for (Migration& m : IsolationLogic::Migrations()) migrations.push_back(std::move(m));
  auto after = OpenStore(database, std::move(migrations), nullptr, so);
  ASSERT_TRUE(after.ok()) << after.status();
  for (const auto& row : {std::pair<int, bool>{40, true}, std::pair<int, bool>{41, false}}) {
    // Named copies: a lambda may not capture a structured binding before C++20.
    const int seq = row.first;
    const bool barred = row.second;
    v1::Decision d;
    absl::Status s = (*after)->Read([&](ReadTransaction& tx) {
      return logic_->GetDecision(tx, police_, Case(seq), D(2026, 4, 1), &d);
    });
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_FALSE(d.community_rehab_running_at_decision());
    EXPECT_EQ(d.early_release_barred(), barred) << seq;
  }
}

TEST_F(IsolationLogicTest, FailedAssessmentDoesNotSupportEarlyRelease) {
  std::string id = Case(11);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15)).ok());
  ASSERT_TRUE(Admit(id, D(2026, 3, 15)).ok());
  int64_t failed = Assess(id, D(2027, 3, 15), v1::ASSESSMENT_KIND_ONE_YEAR, false);
  EXPECT_EQ(ProposeEarly(id, D(2027, 3, 16), failed).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(IsolationLogicTest, RecapturedEscapeeLosesEarlyReleaseAndEscapeDaysDoNotCount) {
  std::string id = Case(12);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15)).ok());
  ASSERT_TRUE(Admit(id, D(2026, 3, 15)).ok());
  v1::Decision d;
  ASSERT_TRUE(Absence(id, v1::ABSENCE_KIND_ESCAPE, D(2026, 6, 1), true, &d).ok());
  EXPECT_EQ(d.state(), v1::STATE_ESCAPED);
  EXPECT_EQ(effects_.status->state, "ESCAPED");
  // While at large the clock stands still.
  d = Get(id, D(2026, 6, 21));
  EXPECT_TRUE(d.term_paused());
  EXPECT_EQ(d.excluded_days(), 20);
  EXPECT_EQ(Absence(id, v1::ABSENCE_KIND_MEDICAL_PAROLE, D(2026, 6, 11), false).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Absence(id, v1::ABSENCE_KIND_ESCAPE, D(2026, 6, 11), false, &d).ok());
  EXPECT_EQ(d.state(), v1::STATE_IN_POLICE_FACILITY);
  EXPECT_EQ(d.excluded_days(), 10);
  EXPECT_EQ(DayOf(d.term_last_day()), CivilDay(2028, 3, 24));
  EXPECT_EQ(DayOf(d.early_release_eligible_from()), CivilDay(2027, 3, 25));
  EXPECT_TRUE(d.early_release_barred());

  int64_t a = Assess(id, D(2027, 4, 1), v1::ASSESSMENT_KIND_ONE_YEAR);
  absl::Status s = ProposeEarly(id, D(2027, 4, 1), a);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(s.message(), "戒毒条例 Art 32")) << s;
  EXPECT_EQ(FindDue(Due(D(2027, 4, 1)), "EARLY_RELEASE_ELIGIBLE"), nullptr);
  // Release is on the pushed-back last day, not before.
  EXPECT_EQ(Release(id, D(2028, 3, 14)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Release(id, D(2028, 3, 24)).ok());
}

TEST_F(IsolationLogicTest, SkBreachIsolationCannotBeReleasedEarly) {
  std::string id = Case(13);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15), nullptr, v1::GROUND_COMMUNITY_REHAB_BREACH).ok());
  ASSERT_TRUE(Admit(id, D(2026, 3, 15)).ok());
  int64_t a = Assess(id, D(2027, 3, 15), v1::ASSESSMENT_KIND_ONE_YEAR);
  absl::Status s = ProposeEarly(id, D(2027, 3, 15), a);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(s.message(), "戒毒条例 Art 38")) << s;
}

TEST_F(IsolationLogicTest, ExtensionsAreCappedAtOneYearAndProposedBeforeExpiry) {
  std::string id = Case(14);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15)).ok());
  ASSERT_TRUE(Admit(id, D(2026, 3, 15)).ok());
  int64_t a = Assess(id, D(2028, 1, 10), v1::ASSESSMENT_KIND_PRE_EXPIRY);
  EXPECT_EQ(ProposeExtension(id, D(2028, 1, 10), a, 13).code(), absl::StatusCode::kInvalidArgument);
  v1::Decision d;
  ASSERT_TRUE(ProposeExtension(id, D(2028, 1, 10), a, 8, &d).ok());
  EXPECT_EQ(ProposeExtension(id, D(2028, 1, 10), a, 1).code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(DecideProposal(id, d.proposals(0).id(), D(2028, 1, 15), true, &d).ok());
  EXPECT_EQ(d.extension_months(), 8);
  EXPECT_EQ(DayOf(d.term_last_day()), CivilDay(2028, 11, 14));

  absl::Status over = ProposeExtension(id, D(2028, 2, 1), a, 5);
  EXPECT_EQ(over.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(over.message(), "4 months remain")) << over;
  ASSERT_TRUE(ProposeExtension(id, D(2028, 2, 1), a, 4, &d).ok());
  // A refusal leaves the term alone; a new proposal may follow.
  ASSERT_TRUE(DecideProposal(id, d.proposals(1).id(), D(2028, 2, 3), false, &d).ok());
  EXPECT_EQ(d.proposals(1).status(), v1::PROPOSAL_STATUS_REFUSED);
  EXPECT_EQ(DayOf(d.term_last_day()), CivilDay(2028, 11, 14));
  ASSERT_TRUE(ProposeExtension(id, D(2028, 2, 4), a, 4, &d).ok());
  ASSERT_TRUE(DecideProposal(id, d.proposals(2).id(), D(2028, 2, 5), true, &d).ok());
  EXPECT_EQ(DayOf(d.term_last_day()), CivilDay(2029, 3, 14));  // 3 years in all
  EXPECT_EQ(ProposeExtension(id, D(2028, 3, 1), a, 1).code(), absl::StatusCode::kFailedPrecondition);

  // After the (extended) term expired, no extension can be proposed.
  std::string other = Case(15);
  ASSERT_TRUE(Decide(other, D(2026, 3, 15)).ok());
  ASSERT_TRUE(Admit(other, D(2026, 3, 15)).ok());
  int64_t b = Assess(other, D(2028, 3, 1), v1::ASSESSMENT_KIND_PRE_EXPIRY);
  EXPECT_TRUE(ProposeExtension(other, D(2028, 3, 14), b, 1, &d).ok()) << "on the last day";
  std::string third = Case(16);
  ASSERT_TRUE(Decide(third, D(2026, 3, 15)).ok());
  ASSERT_TRUE(Admit(third, D(2026, 3, 15)).ok());
  int64_t c = Assess(third, D(2028, 3, 1), v1::ASSESSMENT_KIND_PRE_EXPIRY);
  absl::Status late = ProposeExtension(third, D(2028, 3, 15), c, 1);
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(late.message(), "before the term expires")) << late;
}

TEST_F(IsolationLogicTest, MedicalParoleKeepsTheClockAndConvertsToCommunityDetox) {
  std::string id = Case(17);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15)).ok());
  ASSERT_TRUE(Admit(id, D(2026, 3, 15)).ok());
  v1::Decision d;
  EXPECT_EQ(Absence(id, v1::ABSENCE_KIND_DETENTION, D(2026, 5, 1), true, &d).code(),
            absl::StatusCode::kOk);
  EXPECT_EQ(d.state(), v1::STATE_DETAINED);
  ASSERT_TRUE(Absence(id, v1::ABSENCE_KIND_DETENTION, D(2026, 5, 20), false, &d).ok());
  EXPECT_EQ(d.excluded_days(), 0) << "detention keeps the clock running (戒毒条例 Art 36)";

  v1::ProposeConversionRequest p;
  p.set_case_id(id);
  ToProtoDate(D(2026, 7, 1), p.mutable_proposed_on());
  auto propose = [&](v1::Decision* out) {
    return Write(D(2026, 7, 1), [&](Transaction& tx, absl::Time now, v1::Decision* o, Effects* e) {
      return logic_->ProposeConversion(tx, staff_, now, p, o, e);
    }, out);
  };
  EXPECT_EQ(propose(&d).code(), absl::StatusCode::kFailedPrecondition) << "not on parole";
  ASSERT_TRUE(Absence(id, v1::ABSENCE_KIND_MEDICAL_PAROLE, D(2026, 6, 1), true, &d).ok());
  EXPECT_EQ(d.state(), v1::STATE_MEDICAL_PAROLE);
  EXPECT_EQ(DayOf(d.term_last_day()), CivilDay(2028, 3, 14)) << "the clock keeps running";
  ASSERT_TRUE(propose(&d).ok());
  ASSERT_TRUE(DecideProposal(id, d.proposals(0).id(), D(2026, 7, 5), true, &d).ok());
  EXPECT_EQ(d.state(), v1::STATE_CONVERTED_TO_SD);
  EXPECT_EQ(DayOf(d.converted_on()), CivilDay(2026, 7, 5));
  EXPECT_EQ(d.community_detox_credit_days(), 112);  // 15 Mar .. 4 Jul 2026
  // The registry hears SD start before QZ end, both on the conversion day.
  ASSERT_EQ(effects_.events.size(), 2u);
  EXPECT_EQ(effects_.events[0].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
  EXPECT_EQ(effects_.events[0].program(), common::v1::PROGRAM_COMMUNITY_DETOX);
  EXPECT_EQ(DayOf(effects_.events[0].occurred_on()), CivilDay(2026, 7, 5));
  EXPECT_EQ(effects_.events[1].kind(), registry::v1::ReportEventRequest::KIND_MEASURE_ENDED);
  EXPECT_EQ(effects_.events[1].program(), common::v1::PROGRAM_COMPULSORY_ISOLATION);
  EXPECT_EQ(DayOf(effects_.events[1].occurred_on()), CivilDay(2026, 7, 5));
  // 戒毒条例 Art 31: the SD order opens with the credit, received on the conversion day.
  ASSERT_EQ(effects_.handoffs.size(), 2u);
  EXPECT_EQ(effects_.handoffs[0].target, "community_detox");
  EXPECT_EQ(effects_.handoffs[0].method, "/pathway.detox.v1.CommunityDetox/OpenFromConversion");
  EXPECT_EQ(effects_.handoffs[0].idempotency_key, absl::StrCat("qz:", d.decision_id(), ":open-sd"));
  detox::v1::OpenFromConversionRequest open_sd;
  ASSERT_TRUE(open_sd.ParseFromString(effects_.handoffs[0].payload));
  EXPECT_EQ(open_sd.case_id(), id);
  EXPECT_EQ(open_sd.credited_days(), 112);
  EXPECT_EQ(DayOf(open_sd.converted_on()), CivilDay(2026, 7, 5));
  EXPECT_EQ(open_sd.isolation_decision_id(), d.decision_id());
  EXPECT_EQ(effects_.handoffs[1].method, "/pathway.placement.v1.Placement/ResumeSeeker");
  EXPECT_EQ(effects_.status->state, "CONVERTED_TO_SD");
  // Closed: a new decision may follow.
  EXPECT_TRUE(Decide(id, D(2026, 8, 1)).ok());
}

// Every legal basis an isolation due item cites, against the law's text
// (shared/reference/domain-notes.md). The walk raises each kind at least once and fails
// on a kind the table does not know.
TEST_F(IsolationLogicTest, DueItemsCiteTheRightArticles) {
  const std::map<std::string, std::string> table = {
      // Family, employer and household police station within 24 hours of service.
      {"NOTICE_FAMILY", "禁毒法 Art 40"},
      {"NOTICE_EMPLOYER", "禁毒法 Art 40"},
      {"NOTICE_HOUSEHOLD_POLICE_STATION", "禁毒法 Art 40"},
      // 3-6 months in a police facility, then a judicial one; the term is 2 years.
      {"TRANSFER", "戒毒条例 Art 27"},
      {"TERM_EXPIRY", "戒毒条例 Art 27"},
      {"ASSESSMENT_INTAKE", "强制隔离戒毒诊断评估办法 (2013)"},
      {"ASSESSMENT_ONE_YEAR", "强制隔离戒毒诊断评估办法 (2013)"},
      {"ASSESSMENT_PRE_EXPIRY", "强制隔离戒毒诊断评估办法 (2013)"},
      // Early release after one year, approved by the deciding police within 7 days.
      {"EARLY_RELEASE_ELIGIBLE", "禁毒法 Art 47"},
      {"PROPOSAL_DECISION", "禁毒法 Art 47; 戒毒条例 Art 33"},
      // The deciding body is told 3 days before release.
      {"RELEASE_NOTICE", "戒毒条例 Art 34"},
  };
  std::set<std::string> seen;
  auto walk = [&](CivilDay as_of) {
    for (const v1::DueItem& item : Due(as_of, /*horizon=*/366)) {
      auto row = table.find(item.kind());
      ASSERT_NE(row, table.end()) << "no article on record for " << item.kind();
      EXPECT_EQ(item.legal_basis(), row->second) << item.kind();
      seen.insert(item.kind());
    }
  };
  const std::string id = Case(30);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15)).ok());
  walk(D(2026, 3, 15));
  ASSERT_TRUE(Admit(id, D(2026, 3, 16)).ok());
  walk(D(2026, 3, 16));
  const int64_t a = Assess(id, D(2027, 3, 10), v1::ASSESSMENT_KIND_ONE_YEAR);
  walk(D(2027, 3, 10));
  ASSERT_TRUE(ProposeEarly(id, D(2027, 3, 15), a).ok());
  walk(D(2027, 3, 16));
  walk(D(2027, 12, 1));
  walk(D(2028, 3, 1));
  for (const auto& [kind, basis] : table) {
    EXPECT_EQ(seen.count(kind), 1u) << "never raised: " << kind << " (" << basis << ")";
  }
}

TEST_F(IsolationLogicTest, DueItemsSortedAndPaged) {
  for (int i = 20; i < 25; ++i) {
    ASSERT_TRUE(Decide(Case(i), CivilDay(2026, 3, 10 + i - 20)).ok());
  }
  v1::ListDueRequest r;
  ToProtoDate(D(2026, 3, 20), r.mutable_as_of());
  r.mutable_page()->set_page_size(4);
  std::vector<v1::DueItem> all;
  for (int page = 0; page < 10; ++page) {
    v1::ListDueResponse resp;
    ASSERT_TRUE(store_->Read([&](ReadTransaction& tx) {
                  return logic_->ListDue(tx, police_, r, D(2026, 3, 20), &resp);
                }).ok());
    for (const v1::DueItem& i : resp.items()) all.push_back(i);
    EXPECT_EQ(resp.page().total_size(), 15);  // exact, the same on every page
    EXPECT_FALSE(resp.page().total_size_is_bound());
    if (resp.page().next_page_token().empty()) break;
    r.mutable_page()->set_page_token(resp.page().next_page_token());
  }
  ASSERT_EQ(all.size(), 15u);  // 5 cases x 3 notices
  // Another county's police: the items exist, none is theirs, none is counted.
  {
    v1::ListDueRequest far;
    ToProtoDate(D(2026, 3, 20), far.mutable_as_of());
    v1::ListDueResponse resp;
    ASSERT_TRUE(store_->Read([&](ReadTransaction& tx) {
                  return logic_->ListDue(tx, outsider_, far, D(2026, 3, 20), &resp);
                }).ok());
    EXPECT_EQ(resp.items_size(), 0);
    EXPECT_EQ(resp.page().total_size(), 0);
  }
  // ListDecisions two at a time: the total is the decisions of all pages.
  auto decisions = [&](const Caller& caller, v1::ListDecisionsRequest req, int64_t* total) {
    int n = 0;
    for (int page = 0; page < 10; ++page) {
      v1::ListDecisionsResponse resp;
      EXPECT_TRUE(store_->Read([&](ReadTransaction& tx) {
                    return logic_->ListDecisions(tx, caller, req, D(2026, 3, 20), &resp);
                  }).ok());
      n += resp.decisions_size();
      if (page == 0) *total = resp.page().total_size();
      EXPECT_EQ(resp.page().total_size(), *total);
      if (resp.page().next_page_token().empty()) break;
      req.mutable_page()->set_page_token(resp.page().next_page_token());
    }
    return n;
  };
  v1::ListDecisionsRequest lr;
  lr.mutable_page()->set_page_size(2);
  int64_t total = -1;
  EXPECT_EQ(decisions(police_, lr, &total), 5);
  EXPECT_EQ(total, 5);
  EXPECT_EQ(decisions(staff_, lr, &total), 5);  // a province sees the county's
  EXPECT_EQ(total, 5);
  EXPECT_EQ(decisions(outsider_, lr, &total), 0);
  EXPECT_EQ(total, 0);
  // A division outside the caller's jurisdiction narrows to nothing, counted as such.
  lr.set_division("5301");
  EXPECT_EQ(decisions(police_, lr, &total), 0);
  EXPECT_EQ(total, 0);
  lr.set_division("520102");
  EXPECT_EQ(decisions(outsider_, lr, &total), 0);
  EXPECT_EQ(total, 0);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LE(DayOf(all[i - 1].due()), DayOf(all[i].due()));
  }
  r.mutable_page()->set_page_token("!!");
  v1::ListDueResponse resp;
  EXPECT_EQ(store_->Read([&](ReadTransaction& tx) {
              return logic_->ListDue(tx, police_, r, D(2026, 3, 20), &resp);
            }).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(IsolationLogicTest, TrainingEligibilityInTheStatusAndRefresh) {
  std::string id = Case(30);
  ASSERT_TRUE(Decide(id, D(2026, 3, 15)).ok());
  ASSERT_TRUE(Admit(id, D(2026, 3, 15)).ok());
  EXPECT_FALSE(Get(id, D(2027, 3, 15)).training_eligible());
  EXPECT_TRUE(Get(id, D(2027, 3, 16)).training_eligible());
  EXPECT_EQ(DayOf(Get(id, D(2026, 4, 1)).training_eligible_from()), CivilDay(2027, 3, 16));

  std::vector<ProgramStatusRecord> changed;
  ASSERT_TRUE(store_->Write([&](Transaction& tx) {
                return logic_->RefreshStatuses(tx, At(D(2027, 3, 15)), D(2027, 3, 15),
                                                      &changed);
              }).ok());
  ASSERT_TRUE(changed.empty()) << changed[0].state;
  ASSERT_TRUE(store_->Write([&](Transaction& tx) {
                return logic_->RefreshStatuses(tx, At(D(2027, 3, 16)), D(2027, 3, 16),
                                                      &changed);
              }).ok());
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].state, "IN_POLICE_FACILITY_TRAINING_ELIGIBLE");
}

}  // namespace
}  // namespace isolation
}  // namespace pathway
