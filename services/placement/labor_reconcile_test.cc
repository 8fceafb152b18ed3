// The labor bureau reconciliation rules, table-tested on synthetic placements and
// registrations: each DiscrepancyKind with its day boundaries (after the contract start,
// on the checked day, the 30-day registration allowance either side), as_of cutting off
// later records, suspended and ended placements, self-employment, leap-year checkpoint
// dates, and the row order.
#include "services/placement/labor_reconcile.h"

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/codec/proto_date.h"
#include "common/program_status/program_status.h"
#include "gtest/gtest.h"
#include "services/placement/credit_code.h"
#include "services/placement/placement_rules.h"

namespace pathway {
namespace placement {
namespace {

using absl::CivilDay;

CivilDay D(int y, int m, int d) { return CivilDay(y, m, d); }

const std::string& E() {
  static const std::string* code = new std::string(GenerateSyntheticCreditCode("520102", 1));
  return *code;
}
const std::string& F() {
  static const std::string* code = new std::string(GenerateSyntheticCreditCode("520102", 2));
  return *code;
}

constexpr auto kStill = v1::RETENTION_OUTCOME_STILL_EMPLOYED;
constexpr auto kLeft = v1::RETENTION_OUTCOME_LEFT;
constexpr auto kUnknown = v1::RETENTION_OUTCOME_UNKNOWN;
constexpr auto kNone = v1::RETENTION_OUTCOME_UNSPECIFIED;
constexpr auto kEmp = v1::REGISTRATION_KIND_EMPLOYMENT;
constexpr auto kUnemp = v1::REGISTRATION_KIND_UNEMPLOYMENT;

struct Recorded {
  int months;
  v1::RetentionOutcome outcome;
  CivilDay checked_on;
};

struct Expected {
  v1::DiscrepancyKind kind;
  int months;
  std::string record_id;  // empty: no bureau registration on the row
  bool operator==(const Expected& o) const {
    return std::tie(kind, months, record_id) == std::tie(o.kind, o.months, o.record_id);
  }
};

std::ostream& operator<<(std::ostream& os, const Expected& e) {
  return os << v1::DiscrepancyKind_Name(e.kind) << "@" << e.months << "m:" << e.record_id;
}

struct Case {
  std::string name;
  std::optional<CivilDay> start;  // default 10 Mar 2026
  CivilDay Start() const { return start.value_or(CivilDay(2026, 3, 10)); }
  std::string employer = E();
  v1::PlacementState state = v1::PLACEMENT_STATE_ACTIVE;
  std::optional<CivilDay> ended_on;
  std::vector<Recorded> recorded;
  std::vector<BureauRecord> bureau;
  CivilDay as_of;
  std::vector<Expected> expected;
};

BureauRecord Emp(const std::string& id, const std::string& employer, CivilDay day) {
  return BureauRecord{id, kEmp, employer, "520102", day};
}
BureauRecord Unemp(const std::string& id, CivilDay day) {
  return BureauRecord{id, kUnemp, "", "520102", day};
}

v1::PlacementRecord Build(const Case& c) {
  v1::PlacementRecord p;
  p.set_placement_id(7);
  p.set_case_id("520102-2026-0000001-X");
  p.set_division("520102");
  p.set_employer_credit_code(c.employer);
  p.set_mode(c.employer.empty() ? v1::PLACEMENT_MODE_SELF_EMPLOYMENT
                                : v1::PLACEMENT_MODE_CONCENTRATED);
  ToProtoDate(c.Start(), p.mutable_contract_start());
  p.set_state(c.state);
  if (c.ended_on.has_value()) ToProtoDate(*c.ended_on, p.mutable_ended_on());
  bool left = false;
  for (const Checkpoint& cp : RetentionCheckpoints(c.Start())) {
    v1::RetentionCheckpoint* out = p.add_checkpoints();
    out->set_months(cp.months);
    ToProtoDate(cp.due_on, out->mutable_due_on());
    ToProtoDate(cp.record_by, out->mutable_record_by());
    if (left) out->set_outcome(v1::RETENTION_OUTCOME_LAPSED);
    for (const Recorded& r : c.recorded) {
      if (r.months != cp.months) continue;
      out->set_outcome(r.outcome);
      ToProtoDate(r.checked_on, out->mutable_checked_on());
      left = r.outcome == kLeft;
    }
  }
  return p;
}

TEST(LaborReconcileTest, RulesTable) {
  using K = v1::DiscrepancyKind;
  const K kUnemployed = v1::DISCREPANCY_KIND_RETAINED_BUT_UNEMPLOYED;
  const K kUnregistered = v1::DISCREPANCY_KIND_RETAINED_WITHOUT_EMPLOYMENT_REGISTRATION;
  const K kLeftEmployed = v1::DISCREPANCY_KIND_LEFT_BUT_EMPLOYMENT_REGISTERED;
  const K kElsewhere = v1::DISCREPANCY_KIND_EMPLOYED_ELSEWHERE;
  const K kEvidence = v1::DISCREPANCY_KIND_UNKNOWN_WITH_BUREAU_EVIDENCE;
  // Contract start 10 Mar 2026: checkpoints due 10 Apr, 10 Jun, 10 Sep 2026, 10 Mar 2027.
  const std::vector<Case> cases = {
      {"retained and registered with the employer: nothing",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}}, {Emp("E1", E(), D(2026, 3, 12))},
       D(2026, 4, 20), {}},
      {"retained, unemployment registered after the start",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}},
       {Emp("E1", E(), D(2026, 3, 12)), Unemp("U1", D(2026, 3, 25))}, D(2026, 4, 20),
       {{kUnemployed, 1, "U1"}}},
      {"unemployment followed by employment with the employer again: nothing",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}},
       {Emp("E1", E(), D(2026, 3, 12)), Unemp("U1", D(2026, 3, 25)), Emp("E2", E(), D(2026, 4, 1))},
       D(2026, 4, 20), {}},
      {"unemployment on the start day is not after the start",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}},
       {Unemp("U0", D(2026, 3, 10)), Emp("E1", E(), D(2026, 3, 12))}, D(2026, 4, 20), {}},
      {"unemployment on the checked day counts",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}},
       {Emp("E1", E(), D(2026, 3, 12)), Unemp("U1", D(2026, 4, 10))}, D(2026, 4, 20),
       {{kUnemployed, 1, "U1"}}},
      {"unemployment the day after the check is not this checkpoint's",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}},
       {Emp("E1", E(), D(2026, 3, 12)), Unemp("U1", D(2026, 4, 11))}, D(2026, 4, 20), {}},
      {"retained but no registration at all",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}}, {}, D(2026, 4, 20),
       {{kUnregistered, 1, ""}}},
      {"employment registered 30 days before the start counts",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}}, {Emp("E0", E(), D(2026, 2, 8))},
       D(2026, 4, 20), {}},
      {"employment registered 31 days before the start does not",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}}, {Emp("E0", E(), D(2026, 2, 7))},
       D(2026, 4, 20), {{kUnregistered, 1, ""}}},
      {"registration allowance: not flagged until 30 days after the start (1 Feb + 30 = 3 Mar)",
       D(2026, 2, 1), E(), {}, {}, {{1, kStill, D(2026, 3, 1)}}, {}, D(2026, 3, 2), {}},
      {"registration allowance: flagged from the 30th day",
       D(2026, 2, 1), E(), {}, {}, {{1, kStill, D(2026, 3, 1)}}, {}, D(2026, 3, 3),
       {{kUnregistered, 1, ""}}},
      {"only another employer registered: unregistered here, employed elsewhere",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}}, {Emp("F1", F(), D(2026, 3, 15))},
       D(2026, 4, 20), {{kUnregistered, 1, ""}, {kElsewhere, 0, "F1"}}},
      {"left, but the bureau still shows employment with the employer",
       {}, E(), v1::PLACEMENT_STATE_ENDED, CivilDay(2026, 6, 12),
       {{1, kStill, D(2026, 4, 10)}, {3, kLeft, D(2026, 6, 12)}}, {Emp("E1", E(), D(2026, 3, 12))},
       D(2026, 8, 1), {{kLeftEmployed, 3, "E1"}}},
      {"left, unemployment registered within 30 days of the check: nothing",
       {}, E(), v1::PLACEMENT_STATE_ENDED, CivilDay(2026, 6, 12),
       {{1, kStill, D(2026, 4, 10)}, {3, kLeft, D(2026, 6, 12)}},
       {Emp("E1", E(), D(2026, 3, 12)), Unemp("U1", D(2026, 7, 12))}, D(2026, 8, 1), {}},
      {"left, unemployment registered 31 days after the check: flagged",
       {}, E(), v1::PLACEMENT_STATE_ENDED, CivilDay(2026, 6, 12),
       {{1, kStill, D(2026, 4, 10)}, {3, kLeft, D(2026, 6, 12)}},
       {Emp("E1", E(), D(2026, 3, 12)), Unemp("U1", D(2026, 7, 13))}, D(2026, 8, 1),
       {{kLeftEmployed, 3, "E1"}}},
      {"left, reconciled before the allowance ran out: what the bureau shows on as_of",
       {}, E(), v1::PLACEMENT_STATE_ENDED, CivilDay(2026, 6, 12),
       {{1, kStill, D(2026, 4, 10)}, {3, kLeft, D(2026, 6, 12)}}, {Emp("E1", E(), D(2026, 3, 12))},
       D(2026, 6, 15), {{kLeftEmployed, 3, "E1"}}},
      {"unknown, the bureau shows employment with the employer",
       {}, E(), {}, {}, {{1, kUnknown, D(2026, 4, 12)}}, {Emp("E1", E(), D(2026, 3, 12))},
       D(2026, 4, 20), {{kEvidence, 1, "E1"}}},
      {"unknown, the bureau shows unemployment after the start",
       {}, E(), {}, {}, {{1, kUnknown, D(2026, 4, 12)}}, {Unemp("U1", D(2026, 3, 20))},
       D(2026, 4, 20), {{kEvidence, 1, "U1"}}},
      {"unknown, only an unemployment from before the start: no evidence",
       {}, E(), {}, {}, {{1, kUnknown, D(2026, 4, 12)}}, {Unemp("U0", D(2025, 12, 1))},
       D(2026, 4, 20), {}},
      {"unrecorded checkpoint on its due day with evidence",
       {}, E(), {}, {}, {}, {Emp("E1", E(), D(2026, 3, 12))}, D(2026, 4, 10),
       {{kEvidence, 1, "E1"}}},
      {"unrecorded checkpoint the day before it is due: nothing",
       {}, E(), {}, {}, {}, {Emp("E1", E(), D(2026, 3, 12))}, D(2026, 4, 9), {}},
      {"a suspended placement's checkpoints do not come due",
       {}, E(), v1::PLACEMENT_STATE_SUSPENDED, {}, {}, {Emp("E1", E(), D(2026, 3, 12))},
       D(2026, 4, 20), {}},
      {"ended placement: employment elsewhere only during it",
       {}, E(), v1::PLACEMENT_STATE_ENDED, CivilDay(2026, 5, 1), {{1, kStill, D(2026, 4, 10)}},
       {Emp("E1", E(), D(2026, 3, 12)), Emp("F1", F(), D(2026, 4, 20)),
        Emp("F2", F(), D(2026, 5, 10))},
       D(2026, 7, 1), {{kElsewhere, 0, "F1"}}},
      {"registrations after as_of are ignored",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}}, {Emp("E1", E(), D(2026, 4, 25))},
       D(2026, 4, 20), {{kUnregistered, 1, ""}}},
      {"a check recorded after as_of counts as not recorded",
       {}, E(), {}, {}, {{1, kLeft, D(2026, 4, 15)}}, {Emp("E1", E(), D(2026, 3, 12))},
       D(2026, 4, 12), {{kEvidence, 1, "E1"}}},
      {"self-employment: no employer rules; unemployment still contradicts",
       {}, "", {}, {}, {{1, kStill, D(2026, 4, 10)}},
       {Emp("F1", F(), D(2026, 3, 15)), Unemp("U1", D(2026, 3, 30))}, D(2026, 4, 20),
       {{kUnemployed, 1, "U1"}}},
      {"self-employment with nothing registered: nothing",
       {}, "", {}, {}, {{1, kStill, D(2026, 4, 10)}}, {}, D(2026, 4, 20), {}},
      {"contract starting after as_of: nothing",
       D(2026, 5, 1), E(), {}, {}, {}, {Unemp("U1", D(2026, 4, 1))}, D(2026, 4, 20), {}},
      {"leap year: 31 Jan 2028 + 1 month is due 29 Feb 2028 (not yet on the 28th)",
       D(2028, 1, 31), E(), {}, {}, {}, {Emp("E1", E(), D(2028, 1, 31))}, D(2028, 2, 28), {}},
      {"leap year: due on 29 Feb 2028",
       D(2028, 1, 31), E(), {}, {}, {}, {Emp("E1", E(), D(2028, 1, 31))}, D(2028, 2, 29),
       {{kEvidence, 1, "E1"}}},
      {"several rows: checkpoints in months order, placement-level last",
       {}, E(), {}, {}, {{1, kStill, D(2026, 4, 10)}, {3, kUnknown, D(2026, 6, 12)}},
       {Emp("F1", F(), D(2026, 3, 15)), Unemp("U1", D(2026, 4, 1))}, D(2026, 7, 1),
       {{kUnemployed, 1, "U1"}, {kEvidence, 3, "U1"}, {kElsewhere, 0, "F1"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<v1::RetentionDiscrepancy> rows = ReconcilePlacement(Build(c), c.bureau, c.as_of);
    std::vector<Expected> got;
    for (const v1::RetentionDiscrepancy& d : rows) {
      got.push_back({d.kind(), d.months(), d.bureau_says().record_id()});
      EXPECT_EQ(d.placement_id(), 7);
      EXPECT_FALSE(d.explanation().empty());
      EXPECT_EQ(d.employer_credit_code(), c.employer);
    }
    EXPECT_EQ(got, c.expected);
  }
}

TEST(LaborReconcileTest, RowsSayWhatEachSideSays) {
  Case c;
  c.recorded = {{1, kStill, D(2026, 4, 10)}};
  c.bureau = {Emp("E1", E(), D(2026, 3, 12)), Unemp("U1", D(2026, 3, 25))};
  std::vector<v1::RetentionDiscrepancy> rows =
      ReconcilePlacement(Build(c), c.bureau, CivilDay(2026, 4, 20));
  ASSERT_EQ(rows.size(), 1u);
  const v1::RetentionDiscrepancy& d = rows[0];
  EXPECT_EQ(d.case_id(), "520102-2026-0000001-X");
  EXPECT_EQ(d.division(), "520102");
  EXPECT_EQ(d.months(), 1);
  EXPECT_EQ(d.due_on().month(), 4);
  EXPECT_EQ(d.due_on().day(), 10);
  EXPECT_EQ(d.placement_says(), kStill);
  EXPECT_EQ(d.checked_on().day(), 10);
  EXPECT_EQ(d.bureau_says().kind(), kUnemp);
  EXPECT_EQ(d.bureau_says().registered_on().day(), 25);
  EXPECT_EQ(d.explanation(),
            "still employed at the 1-month checkpoint, but the bureau shows unemployment "
            "registered 2026-03-25");
}

}  // namespace
}  // namespace placement
}  // namespace pathway
