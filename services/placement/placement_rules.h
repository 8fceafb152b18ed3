// The rules of Sunshine placement (阳光工程, DESIGN.md §3) as plain functions: who may be
// placed or trained (from the programme statuses in the status view), the retention
// checkpoint dates, what counts as a contract of a year or more, how postings and seekers
// are matched (with the reasons), date and text helpers, and the subsidy tier
// configuration. No storage, no gRPC, no clock: every function takes its `as_of`.
//
//   ASSIGN_OR_RETURN(EligibilityDecision d, DecideEligibility(entries, today));
//   if (d.eligibility != v1::ELIGIBILITY_PLACEMENT) ...  // training only
//   for (const Checkpoint& c : RetentionCheckpoints(contract_start)) ...
//
// Stateless; thread-safe.
#ifndef PATHWAY_SERVICES_PLACEMENT_PLACEMENT_RULES_H_
#define PATHWAY_SERVICES_PLACEMENT_PLACEMENT_RULES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/cache/status_cache.h"
#include "common/codec/date_text.h"
#include "common/codec/proto_date.h"
#include "pathway/common/v1/common.pb.h"
#include "pathway/placement/v1/placement.pb.h"

namespace pathway {
namespace placement {

// ---- Eligibility (DESIGN.md §3: seekers are persons in SD, SK or released; training
// also for isolation detainees with less than a year left) ----

// Isolation states after which a person is no longer isolated: released (解除强制隔离戒毒,
// 戒毒条例 Art 34) or converted to community detox after medical parole (Art 31). Any
// other isolation state counts as isolated.
inline constexpr const char* kIsolationEndedStates[] = {"RELEASED", "CONVERTED_TO_SD"};
// The isolation service owns the term (戒毒条例 Art 27: 2 years from the decision,
// possibly extended, escape time excluded) and marks the last year of it by ending its
// published state with this suffix, e.g. "IN_JUDICIAL_FACILITY_TRAINING_ELIGIBLE"
// (recomputed on every change and by its nightly refresh).
inline constexpr char kIsolationTrainingEligibleSuffix[] = "_TRAINING_ELIGIBLE";

struct EligibilityDecision {
  v1::Eligibility eligibility = v1::ELIGIBILITY_UNSPECIFIED;
  // Which programme status decided it, e.g. "detox:ACTIVE", "isolation:RELEASED".
  std::string basis;
};

// Decides from a case's programme statuses (the status cache; the caller's own claims
// are never trusted) on `as_of`:
//   - isolation in a state other than RELEASED / CONVERTED_TO_SD: TRAINING_ONLY when
//     the isolation service marks the last year of the term (the state ends with
//     kIsolationTrainingEligibleSuffix); FAILED_PRECONDITION otherwise;
//   - otherwise any community detox or community rehabilitation status (in progress or
//     ended), or isolation RELEASED / CONVERTED_TO_SD: PLACEMENT;
//   - FAILED_PRECONDITION when the statuses show only other programmes;
//   - UNAVAILABLE when there is no programme status at all: an empty cache entry cannot
//     tell "never in a programme" from "not cached", so the answer is "retry", never a
//     guess.
absl::StatusOr<EligibilityDecision> DecideEligibility(const CaseStatusEntries& entries,
                                                      absl::CivilDay as_of);

// ---- Retention (DESIGN.md §3: checkpoints at 1, 3, 6 and 12 months) ----

inline constexpr int kRetentionMonths[] = {1, 3, 6, 12};
// Days after a checkpoint by whose end it must be recorded; after that it is overdue.
// Local practice, not law [INF].
inline constexpr int kRetentionRecordWindowDays = 15;
// A check may be recorded up to this many days before the checkpoint date.
inline constexpr int kRetentionEarlyDays = 7;

struct Checkpoint {
  int months = 0;
  absl::CivilDay due_on;     // contract start + months (民法典 Art 202)
  absl::CivilDay record_by;  // due_on + kRetentionRecordWindowDays (Art 201 counting)
};

// The four checkpoints of a placement whose contract starts on `contract_start`:
// 31 Jan + 1 month is 28 Feb (29 in a leap year), the corresponding day otherwise.
std::vector<Checkpoint> RetentionCheckpoints(absl::CivilDay contract_start);
bool IsRetentionMonths(int months);

// A contract of a year or more (base subsidies count these): open-ended, or ending on
// or after the last day of a one-year term from its start (the first day counts:
// 1 Mar 2026 to 28 Feb 2027 is a year).
bool ContractOneYearOrMore(absl::CivilDay start, std::optional<absl::CivilDay> end);

// A contract of at least `min_months` (0: any): open-ended, or ending on or after the
// last day of a term of that many months from its start.
bool ContractLastsMonths(absl::CivilDay start, std::optional<absl::CivilDay> end, int min_months);

// ---- Seeker changes (suspension, resumption, closing) ----

// How a seeker change treats a date its record cannot hold.
enum class ChangeDating {
  // A person's entry (a caseworker closing): a date before the registration, or in the
  // future, is bad input.
  kRefuse,
  // A hand-off (DESIGN.md §3, §5): the decision is a fact that happened and may have
  // been recorded after the fact, dated before the seeker was registered (registration
  // stamps the recording day) or before the seeker's latest change. It is applied as of
  // the latest date the record allows, never refused (a refusal would park it for good
  // and leave the placement open for a person in isolation). An administrator replaying
  // one is told of a future date; the service role's future date (another service's
  // clock a little ahead) is applied today.
  kApplyLatest,
  kApplyLatestUpToToday,
};

// The day a change requested for `effective_on` takes effect on seeker `s`, as `dating`
// says; INVALID_ARGUMENT ("effective_on: ...") for a date it refuses.
absl::StatusOr<absl::CivilDay> ChangeDate(const common::v1::Date& effective_on,
                                          absl::CivilDay today, const v1::Seeker& s,
                                          ChangeDating dating);

// The programme status a seeker publishes (DESIGN.md §4): PLACED, SUSPENDED or CLOSED
// by state; otherwise TRAINING_ONLY for a person in isolation, SEEKING for anyone else.
std::string SeekerProgramState(const v1::Seeker& s);

// ---- Matching ----

struct MatchProfile {
  std::string division;                      // the seeker's county
  std::vector<std::string> skills;           // normalised tags
  std::vector<std::string> preferred_divisions;
  int min_monthly_wage = 0;
};

struct MatchScore {
  int score = 0;
  std::vector<std::string> reasons;
};

// Scores a posting for a seeker by skills (up to 50: share of the posting's skills the
// seeker has), area (30 in a preferred area, 25 in the home county, 15 in the home
// city), terms (20 when the wage can meet the expectation, -20 when it cannot) and 10 for
// a Sunshine enterprise or placement base, the employers set up for this work. Each
// part adds a reason.
MatchScore ScoreMatch(const MatchProfile& seeker, const v1::Posting& posting,
                      v1::EmployerKind employer_kind);

// ---- Fields ----

// Lower-cases and trims tags, drops duplicates, keeps order. INVALID_ARGUMENT naming
// `field` if more than `max_count` or a tag is empty or longer than 32 bytes.
absl::StatusOr<std::vector<std::string>> NormalizeSkills(
    const google::protobuf::RepeatedPtrField<std::string>& skills, int max_count,
    absl::string_view field);
// OK for a 2-, 4- or 6-digit division prefix.
absl::Status ValidateDivisionPrefix(absl::string_view prefix, absl::string_view field);
// OK if `text` has 1..max_len bytes (or 0 when !required).
absl::Status ValidateText(absl::string_view text, int max_len, bool required,
                          absl::string_view field);
// OK for a labor bureau record id: 1..64 of [A-Za-z0-9._:-].
absl::Status ValidateRecordId(absl::string_view id);

// ---- Subsidy tiers (configuration; no amounts compiled in) ----

// Whether a placement counts for `tier`: its contract lasts the tier's
// min_contract_months (ContractLastsMonths), and when the tier asks for retention, the
// checkpoint of retained_months was recorded STILL_EMPLOYED (`retained`: that
// checkpoint's outcome, nullopt when there is none).
bool QualifiesForTier(const v1::SubsidyTier& tier, absl::CivilDay contract_start,
                      std::optional<absl::CivilDay> contract_end,
                      std::optional<v1::RetentionOutcome> retained);

// Parses tier lines "code|description|min_contract_months|retained_months|amount_fen";
// blank lines and lines starting with '#' are skipped. INVALID_ARGUMENT naming the line.
absl::StatusOr<std::vector<v1::SubsidyTier>> ParseSubsidyTiers(absl::string_view text);

}  // namespace placement
}  // namespace pathway

#endif  // PATHWAY_SERVICES_PLACEMENT_PLACEMENT_RULES_H_
