// The law of compulsory isolation detox (强制隔离戒毒, QZ; DESIGN.md §3) as plain
// functions over typed values: the term (戒毒条例 Art 27, 32; 禁毒法 Art 47), the guards
// on a decision (禁毒法 Art 39; 戒毒条例 Art 38), the police-stage transfer window, the
// credit on conversion (Art 31), and what a decision owes on a given day (its due
// items, the early-release bar, training eligibility). No storage, no gRPC, no clock:
// every function takes its dates. The service's tables layer
// (compulsory_isolation_tables.h) reads and writes the records defined here.
//
//   DecisionData d = ...;                       // as stored, with its history
//   Derived x = Derive(d, options, as_of);
//   if (x.barred) return absl::FailedPreconditionError(x.bar_reason);
//   for (const DueData& item : x.due) ...       // deadlines and opportunities
//
// Stateless; thread-safe.
#ifndef PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_RULES_H_
#define PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_RULES_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "pathway/common/v1/common.pb.h"
#include "pathway/isolation/v1/isolation.pb.h"

namespace pathway {
namespace isolation {

// ---- Term arithmetic as applied to isolation (table-tested) -------------------------

// 戒毒条例 Art 27: the term is 2 years from the decision date; 禁毒法 Art 47: extended by
// at most 12 months in total; 戒毒条例 Art 32: escape days do not count.
inline constexpr int kTermMonths = 24;
inline constexpr int kMaxExtensionMonths = 12;
// 禁毒法 Art 47: early release only after one year served.
inline constexpr int kEarlyReleaseAfterMonths = 12;
// 戒毒条例 Art 27: 3 to 6 months in the police facility, at most 12 where provided.
inline constexpr int kPoliceStageMinMonths = 3;
inline constexpr int kPoliceStageDefaultMaxMonths = 6;
inline constexpr int kPoliceStageAbsoluteMaxMonths = 12;
// 戒毒条例 Art 31, 33: the deciding police decide a proposal within 7 days.
inline constexpr int kProposalDecisionDays = 7;
// 戒毒条例 Art 34: the deciding body is notified 3 days before release.
inline constexpr int kReleaseNoticeDaysBefore = 3;
// 禁毒法 Art 48: community rehabilitation of at most 3 years.
inline constexpr int kMaxCommunityRehabMonths = 36;

// The last day of the term.
absl::CivilDay IsolationTermLastDay(absl::CivilDay decided_on, int extension_months,
                                    int excluded_days);
// The first day early release may be proposed: the day after one year served.
absl::CivilDay EarlyReleaseEligibleFrom(absl::CivilDay decided_on, int excluded_days);
// The first day on which less than a year of the term remains: the smallest d with
// TermLastDay(d, 12) > term_last_day.
absl::CivilDay TrainingEligibleFrom(absl::CivilDay term_last_day);
// Days excluded from the term for an escape: recaptured_on - escaped_on (the days at
// large; an escape and recapture on the same day excludes none).
int EscapeExcludedDays(absl::CivilDay escaped_on, absl::CivilDay recaptured_on);

// The transfer window of the police stage (戒毒条例 Art 27): transfer from `from` (after
// 3 months served there) and by `by` (after max_months: from the next day overdue).
struct TransferWindow {
  absl::CivilDay from;
  absl::CivilDay by;
};
TransferWindow PoliceStageTransferWindow(absl::CivilDay admitted_on, int max_months);

// The first day a person born on `birth` counts as `years` old: the day AFTER the
// birthday (周岁 from the day after the birthday, the courts' reading), so a person
// is still under 16 on their 16th birthday.
absl::CivilDay FirstDayAged(absl::CivilDay birth, int years);

// 禁毒法 Art 39 (and 戒毒条例 Art 26): isolation does not apply to a pregnant woman or
// one nursing her own infant under one year on the decision date. FAILED_PRECONDITION
// saying why.
absl::Status CheckIsolationApplies(bool pregnant,
                                   const std::optional<absl::CivilDay>& nursing_infant_birth,
                                   absl::CivilDay decided_on);

// 戒毒条例 Art 38(2): isolation of a person who refused or seriously breached community
// rehabilitation (社区康复) and used drugs again cannot be released early. The fact
// behind the bar is whether the person's SK order was running on the decision date,
// whatever ground the police wrote: `sk` is the case's SK programme status as the
// rehabilitation service records it (nullopt: no SK order ever). Running means:
//   AWAITING_REPORT, ACTIVE, SUSPENDED     the order is open (a suspension, Art 24,
//                                          does not end it);
//   EXPIRED_AWAITING_DISCHARGE             the term's last day (the day before `began`)
//                                          is on or after decided_on;
//   TERMINATED, DISCHARGED                 closed on or after decided_on (e.g. closed by
//                                          this very decision, 禁毒法 Art 38);
//   any other state                        open (an order not known to be closed).
bool CommunityRehabRunningOn(const std::optional<common::v1::ProgramStatus>& sk,
                             absl::CivilDay decided_on);

// ---- Configuration -------------------------------------------------------------------

struct FacilityConfig {
  std::string id;
  v1::FacilityKind kind = v1::FACILITY_KIND_UNSPECIFIED;
  std::string division;  // county, 6 digits
  std::string name;
};

struct IsolationOptions {
  std::vector<FacilityConfig> facilities;
  // Longest police stage: 6 by default, up to 12 where the province so provides
  // (戒毒条例 Art 27).
  int police_stage_max_months = kPoliceStageDefaultMaxMonths;
  // Practice, not national law: the intake assessment within this many days of
  // admission, and the pre-expiry assessment this many days before the term's end.
  int intake_assessment_days = 30;
  int pre_expiry_assessment_days = 30;

  // INVALID_ARGUMENT naming the first bad field (empty or duplicate facility ids, an
  // unspecified kind, a malformed division, months outside 6..12, negative days).
  absl::Status Validate() const;
};

// Parses facility lines "id,kind,division,name" (kind "police" or "judicial"); blank
// lines and lines starting with '#' are skipped. INVALID_ARGUMENT naming the line.
absl::StatusOr<std::vector<FacilityConfig>> ParseFacilities(absl::string_view text);

// ---- Decisions as recorded ----------------------------------------------------------

// State codes: the stored state of a decision and the published programme state.
inline constexpr char kDecided[] = "DECIDED";
inline constexpr char kInPoliceFacility[] = "IN_POLICE_FACILITY";
inline constexpr char kInJudicialFacility[] = "IN_JUDICIAL_FACILITY";
inline constexpr char kEscaped[] = "ESCAPED";
inline constexpr char kMedicalParole[] = "MEDICAL_PAROLE";
inline constexpr char kDetained[] = "DETAINED";
inline constexpr char kReleased[] = "RELEASED";
inline constexpr char kConvertedToSd[] = "CONVERTED_TO_SD";
// Appended to an in-facility state when less than a year of the term remains.
inline constexpr char kTrainingSuffix[] = "_TRAINING_ELIGIBLE";
// The warning recorded on a decision about a person under 16 (禁毒法 Art 39).
inline constexpr char kMinorWarning[] = "MINOR_UNDER_16";

// A notice of the decision (禁毒法 Art 40); `recipient` a v1::NoticeRecipient.
struct NoticeData {
  int recipient = 0;
  absl::CivilDay notified_on;
  bool not_applicable = false;
};

// An absence from the facility; `kind` a v1::AbsenceKind; open while ended_on is empty.
struct AbsenceData {
  int64_t id = 0;
  int kind = 0;
  absl::CivilDay started_on;
  std::optional<absl::CivilDay> ended_on;
};

// A diagnostic assessment (强制隔离戒毒诊断评估办法); kind a v1::AssessmentKind, the
// grades v1::Grade and v1::Adaptability values.
struct AssessmentData {
  int64_t id = 0;
  int kind = 0;
  absl::CivilDay assessed_on;
  int physiological = 0;
  int recovery = 0;
  int behaviour = 0;
  int social = 0;
  std::string facility_id;
};

// A proposal to the deciding police (禁毒法 Art 47; 戒毒条例 Art 31, 33); kind a
// v1::ProposalKind, status a v1::ProposalStatus.
struct ProposalData {
  int64_t id = 0;
  int kind = 0;
  absl::CivilDay proposed_on;
  int64_t assessment_id = 0;
  int months = 0;
  std::optional<absl::CivilDay> release_on;
  int status = 0;
  std::optional<absl::CivilDay> decided_on;
  std::string decision_number;
  std::string refusal_reason;
};

// One isolation decision and its history, as recorded.
struct DecisionData {
  int64_t id = 0;
  std::string case_id;
  std::string decision_number;
  std::string deciding_division;
  absl::CivilDay decided_on;
  absl::CivilDay served_on;
  int ground = 0;  // a v1::Ground
  std::vector<std::string> warnings;
  std::string state;  // one of the state codes above
  absl::CivilDay state_since;
  std::string facility_id;
  std::string division;
  std::optional<absl::CivilDay> admitted_on;
  std::optional<absl::CivilDay> transferred_on;
  int extension_months = 0;
  std::optional<absl::CivilDay> early_release_on;
  std::optional<absl::CivilDay> release_notice_on;
  std::optional<absl::CivilDay> released_on;
  std::string release_certificate;
  bool sk_ordered = false;
  int sk_term_months = 0;
  std::string sk_decision_number;
  std::string sk_division;  // where SK is executed, when given at release
  std::string sk_place;
  std::optional<absl::CivilDay> converted_on;
  int sd_credit_days = 0;
  bool open = false;
  // 戒毒条例 Art 38(2): the person's SK order was running on the decision date.
  bool sk_running_at_decision = false;

  std::vector<NoticeData> notices;       // by recipient
  std::vector<AbsenceData> absences;     // in the order recorded
  std::vector<AssessmentData> assessments;
  std::vector<ProposalData> proposals;
};

bool InFacility(absl::string_view state);
// The in-facility state the person returns to: judicial once transferred.
std::string InFacilityState(const DecisionData& d);
// The absence not yet ended, or null.
const AbsenceData* OpenAbsence(const DecisionData& d);
const AssessmentData* FindAssessment(const DecisionData& d, int64_t id);
const ProposalData* FindProposal(const DecisionData& d, int64_t id);
// Whether a proposal of `kind` has one of `statuses`.
bool HasProposal(const DecisionData& d, int kind, std::initializer_list<int> statuses);

// ---- What a decision owes on a day ----------------------------------------------------

// One thing due: a deadline, or an opportunity (deadline = false: never overdue, never
// the next deadline). `proposal_id` names the proposal a PROPOSAL_DECISION is about.
struct DueData {
  std::string kind;
  absl::CivilDay due;
  std::string basis;
  int64_t proposal_id = 0;
  bool deadline = true;
};

// The values a decision's record implies on `as_of`.
struct Derived {
  int excluded_days = 0;  // escape days (戒毒条例 Art 32), an open escape up to as_of
  bool paused = false;    // at large now: the clock stands still
  absl::CivilDay last_day;
  absl::CivilDay early_from;
  bool barred = false;  // from early release (戒毒条例 Art 32, 38)
  std::string bar_reason;
  absl::CivilDay scheduled_release;  // the approved early release, else the last day
  absl::CivilDay training_from;
  bool training_eligible = false;
  std::optional<TransferWindow> transfer;  // admitted and not yet transferred
  std::vector<DueData> due;                // empty for a closed decision
  std::optional<DueData> next;             // the earliest deadline among `due`
};

// The legal basis cited for a pending proposal's decision.
const char* ProposalBasis(int kind);

Derived Derive(const DecisionData& d, const IsolationOptions& o, absl::CivilDay as_of);

// 戒毒条例 Art 31: on conversion to community detox the isolation days served are
// credited: the days from the decision date to `converted_on`, less escape days; never
// negative.
int ConversionCreditDays(absl::CivilDay decided_on, absl::CivilDay converted_on,
                         int excluded_days);

}  // namespace isolation
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_RULES_H_
