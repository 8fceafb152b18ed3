// The rules of compulsory isolation detox (强制隔离戒毒, QZ; DESIGN.md §3), in plain
// C++ over the service's store: decisions (禁毒法 Art 38-40), execution in police and
// judicial facilities (戒毒条例 Art 27), the 2-year term with escape excluded and
// extensions (Art 27, 32; 禁毒法 Art 47), diagnostic assessments, early release,
// medical parole and conversion to community detox (Art 31, 33), release and the SK
// decision (Art 34; 禁毒法 Art 48), what is due, and the programme status.
//
//   IsolationLogic logic(options);   // options validated by the caller
//   absl::Status s = store.Write([&](Transaction& tx) {
//     return logic.Admit(tx, caller, clock.Now(), request, &decision, &effects);
//   });
//   if (s.ok()) { publish effects.status; report effects.events; }   // after the commit
//
// Every write takes the transaction, the caller, `now` (today is its China Standard
// Time date) and a request; it validates against the case's history, writes the
// change and the programme status (SaveProgramStatus) in the same transaction, fills
// the decision as it stands after the change, and lists in Effects what must happen
// after the commit. Reads take an explicit `as_of` date. No gRPC types; protobuf
// messages are the data.
//
// Error codes follow STYLE.md rule 5; a case that does not exist and one outside the
// caller's jurisdiction both give CaseNotFound(). Roles are checked by the service
// adapter; jurisdiction (which county the caller covers) is checked here.
//
// Thread safety: IsolationLogic is immutable after construction; calls are safe from
// any thread as their transactions are.
#ifndef PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_LOGIC_H_
#define PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_LOGIC_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/auth/case_scope.h"
#include "common/outbox/outbox.h"
#include "common/program_status/program_status.h"
#include "common/store/store.h"
#include "pathway/common/v1/common.pb.h"
#include "pathway/isolation/v1/isolation.pb.h"
#include "pathway/registry/v1/registry.pb.h"

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

// The request's optional as_of date, or `today` when unset. INVALID_ARGUMENT naming
// "as_of" for an impossible date.
absl::StatusOr<absl::CivilDay> AsOfOrToday(const common::v1::Date& as_of, absl::CivilDay today);

// What a change causes beyond this service. The adapter enqueues `events` and
// `handoffs` as outbox rows in the change's own transaction (DESIGN.md §5) and
// publishes `status` after the commit.
struct Effects {
  std::optional<ProgramStatusRecord> status;                 // publish into the cache
  std::vector<registry::v1::ReportEventRequest> events;      // for the registry's clock
  // Hand-offs to the community programmes, with deterministic keys "qz:<decision
  // id>:close-sd", ":close-sk" (decision, 禁毒法 Art 38), ":open-sk" (release with SK
  // ordered, 禁毒法 Art 48) and ":open-sd" (approved conversion, 戒毒条例 Art 31), and
  // to placement (":suspend-placement", ":resume-placement").
  std::vector<OutboxMessage> handoffs;
};

class IsolationLogic {
 public:
  // `options` must have passed Validate().
  explicit IsolationLogic(IsolationOptions options);

  // Schema of the service's own tables.
  static std::vector<Migration> Migrations();

  const IsolationOptions& options() const { return options_; }

  // `facts` from the registry; `community_rehab` the case's SK programme status from
  // the rehabilitation service (nullopt: none), from which the Art 38(2) bar is
  // decided and stored with the decision (CommunityRehabRunningOn).
  absl::Status Decide(Transaction& tx, const Caller& caller, absl::Time now,
                      const v1::DecideRequest& request, const registry::v1::CaseFacts& facts,
                      const std::optional<common::v1::ProgramStatus>& community_rehab,
                      v1::Decision* out, Effects* effects) const;
  absl::Status RecordNotice(Transaction& tx, const Caller& caller, absl::Time now,
                            const v1::RecordNoticeRequest& request, v1::Decision* out,
                            Effects* effects) const;
  absl::Status Admit(Transaction& tx, const Caller& caller, absl::Time now,
                     const v1::AdmitRequest& request, v1::Decision* out,
                     Effects* effects) const;
  absl::Status Transfer(Transaction& tx, const Caller& caller, absl::Time now,
                        const v1::TransferRequest& request, v1::Decision* out,
                        Effects* effects) const;
  absl::Status BeginAbsence(Transaction& tx, const Caller& caller, absl::Time now,
                            const v1::BeginAbsenceRequest& request, v1::Decision* out,
                            Effects* effects) const;
  absl::Status EndAbsence(Transaction& tx, const Caller& caller, absl::Time now,
                          const v1::EndAbsenceRequest& request, v1::Decision* out,
                          Effects* effects) const;
  absl::Status RecordAssessment(Transaction& tx, const Caller& caller, absl::Time now,
                                const v1::RecordAssessmentRequest& request, v1::Decision* out,
                                Effects* effects) const;
  absl::Status ProposeEarlyRelease(Transaction& tx, const Caller& caller, absl::Time now,
                                   const v1::ProposeEarlyReleaseRequest& request,
                                   v1::Decision* out, Effects* effects) const;
  absl::Status ProposeExtension(Transaction& tx, const Caller& caller, absl::Time now,
                                const v1::ProposeExtensionRequest& request, v1::Decision* out,
                                Effects* effects) const;
  absl::Status ProposeConversion(Transaction& tx, const Caller& caller, absl::Time now,
                                 const v1::ProposeConversionRequest& request, v1::Decision* out,
                                 Effects* effects) const;
  absl::Status DecideProposal(Transaction& tx, const Caller& caller, absl::Time now,
                              const v1::DecideProposalRequest& request, v1::Decision* out,
                              Effects* effects) const;
  absl::Status RecordReleaseNotice(Transaction& tx, const Caller& caller, absl::Time now,
                                   const v1::RecordReleaseNoticeRequest& request,
                                   v1::Decision* out, Effects* effects) const;
  absl::Status Release(Transaction& tx, const Caller& caller, absl::Time now,
                       const v1::ReleaseRequest& request, v1::Decision* out,
                       Effects* effects) const;

  // OK if the caller sees the case (common/auth/case_scope.h): a place of 双向管控 in
  // the registry's `scope`, or the deciding police or facility of its latest decision,
  // or the facility `facility_id` receiving the person; a sealed case only for roles
  // with a statutory need. CaseNotFound() otherwise, as for a case never issued. The
  // service calls it before every read and write of a case.
  absl::Status CheckVisible(ReadTransaction& tx, const Caller& caller, const CaseScope& scope,
                            absl::string_view facility_id = "") const;

  // PERMISSION_DENIED unless the caller acts on the case's open decision: the deciding
  // police, the facility holding the person, or the one `facility_id` receiving them.
  // OK when there is no open decision (the change then answers for itself).
  absl::Status CheckActs(ReadTransaction& tx, const Caller& caller, absl::string_view case_id,
                         absl::string_view facility_id) const;

  // The case's latest decision, computed as of `as_of`.
  absl::Status GetDecision(ReadTransaction& tx, const Caller& caller, absl::string_view case_id,
                           absl::CivilDay as_of, v1::Decision* out) const;
  absl::Status ListDecisions(ReadTransaction& tx, const Caller& caller,
                             const v1::ListDecisionsRequest& request, absl::CivilDay today,
                             v1::ListDecisionsResponse* out) const;
  absl::Status ListDue(ReadTransaction& tx, const Caller& caller,
                       const v1::ListDueRequest& request, absl::CivilDay today,
                       v1::ListDueResponse* out) const;
  // Re-saves the status of every open decision whose computed status (as of `as_of`)
  // differs from the stored one; the re-saved records are appended to `changed`.
  absl::Status RefreshProgramStatuses(Transaction& tx, absl::Time now, absl::CivilDay as_of,
                                      std::vector<ProgramStatusRecord>* changed) const;

 private:
  const FacilityConfig* FindFacility(absl::string_view id) const;

  IsolationOptions options_;
};

}  // namespace isolation
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_LOGIC_H_
