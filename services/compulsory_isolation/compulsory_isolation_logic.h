// The use cases of compulsory isolation detox (强制隔离戒毒, QZ; DESIGN.md §3), one
// transaction each: load through the tables layer (compulsory_isolation_tables.h),
// apply the rules (compulsory_isolation_rules.h), store. Decisions (禁毒法 Art 38-40),
// execution in police and judicial facilities (戒毒条例 Art 27), the 2-year term with
// escape excluded and extensions (Art 27, 32; 禁毒法 Art 47), diagnostic assessments,
// early release, medical parole and conversion to community detox (Art 31, 33),
// release and the SK decision (Art 34; 禁毒法 Art 48), what is due, and the programme
// status.
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
// the decision as it stands after the change, and sets Effects afresh to what must
// happen after the commit (a Write may run more than once). Reads take an explicit
// `as_of` date. No gRPC types; protobuf messages are the data.
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
#include "services/compulsory_isolation/compulsory_isolation_rules.h"

namespace pathway {
namespace isolation {

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
  // differs from the stored one; `changed` is set to the re-saved records.
  absl::Status RefreshStatuses(Transaction& tx, absl::Time now, absl::CivilDay as_of,
                                      std::vector<ProgramStatusRecord>* changed) const;

 private:
  const FacilityConfig* FindFacility(absl::string_view id) const;

  IsolationOptions options_;
};

}  // namespace isolation
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMPULSORY_ISOLATION_COMPULSORY_ISOLATION_LOGIC_H_
