#include "services/compulsory_isolation/compulsory_isolation_logic.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/jurisdiction.h"
#include "common/codec/date_text.h"
#include "common/codec/proto_date.h"
#include "common/ids/case_id.h"
#include "common/ids/division_code.h"
#include "common/legal_time/legal_time.h"
#include "pathway/detox/v1/detox.pb.h"
#include "pathway/placement/v1/placement.pb.h"
#include "pathway/rehab/v1/rehab.pb.h"
#include "common/status/status_macros.h"
#include "services/compulsory_isolation/compulsory_isolation_tables.h"

namespace pathway {
namespace isolation {
namespace {

namespace lt = legal_time;
using absl::CivilDay;

constexpr int kMaxTextLength = 64;
constexpr size_t kMaxSkPlaceLength = 128;

// Hand-off targets and methods (common/outbox/handoff_runner.h names the targets).
constexpr char kCommunityDetoxTarget[] = "community_detox";
constexpr char kCommunityRehabTarget[] = "community_rehab";
constexpr char kCloseSdMethod[] = "/pathway.detox.v1.CommunityDetox/CloseForIsolation";
constexpr char kCloseSkMethod[] = "/pathway.rehab.v1.CommunityRehab/CloseForIsolation";
constexpr char kOpenSkMethod[] = "/pathway.rehab.v1.CommunityRehab/OpenFromRelease";
constexpr char kOpenSdMethod[] = "/pathway.detox.v1.CommunityDetox/OpenFromConversion";
constexpr char kPlacementTarget[] = "placement";
constexpr char kSuspendSeekerMethod[] = "/pathway.placement.v1.Placement/SuspendSeeker";
constexpr char kResumeSeekerMethod[] = "/pathway.placement.v1.Placement/ResumeSeeker";
constexpr int kMaxReasonLength = 500;

// ---- Dates ----------------------------------------------------------------------------

// A recorded event's date: required, valid, not before `floor` and not after today.
absl::StatusOr<CivilDay> EventDate(const common::v1::Date& d, absl::string_view field,
                                   CivilDay floor, absl::string_view floor_what, CivilDay today) {
  ASSIGN_OR_RETURN(CivilDay day, RequiredDate(d, field));
  if (day > today) return absl::InvalidArgumentError(absl::StrCat(field, " is in the future"));
  if (day < floor) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is before ", floor_what, " (",
                                                   DayText(floor), ")"));
  }
  return day;
}

absl::Status RequiredText(const std::string& text, absl::string_view field, size_t max) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (text.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is longer than ", max, " bytes"));
  }
  return absl::OkStatus();
}

bool Visible(const Caller& caller, const DecisionData& d) {
  return caller.Covers(d.division) || caller.Covers(d.deciding_division);
}

// The open decision of the case, for a caller already seen to see the case
// (IsolationLogic::CheckVisible). Only the executing side acts on it (DESIGN.md §6): the
// deciding police, the facility holding the person, or one receiving them
// (`also_division`); any other caller who sees the case is PERMISSION_DENIED.
absl::StatusOr<DecisionData> OpenForCaller(ReadTransaction& tx, const Caller& caller,
                                           absl::string_view case_id_text,
                                           absl::string_view also_division = "") {
  ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(case_id_text));
  ASSIGN_OR_RETURN(std::optional<DecisionData> d,
                   LoadOpenDecision(tx, id.ToString()));
  if (!d.has_value()) return CaseNotFound("open decision");
  bool also = !also_division.empty() && caller.Covers(also_division);
  if (!Visible(caller, *d) && !also) {
    return absl::PermissionDeniedError(
        "only the deciding police or the facility holding the person act on the decision "
        "(DESIGN.md §6: who sees is not who acts)");
  }
  return *std::move(d);
}

ProgramStatusRecord StatusRecord(const DecisionData& d, const Derived& x) {
  ProgramStatusRecord r;
  r.case_id = d.case_id;
  r.division = d.division;
  r.state = d.state;
  if (x.training_eligible) r.state += kTrainingSuffix;
  r.began = d.state_since;
  if (x.next.has_value()) {
    r.deadline_kind = x.next->kind;
    r.deadline = x.next->due;
  }
  for (const DueData& due : x.due) {
    // One item per kind, except decisions on proposals (one per proposal).
    std::string key = due.proposal_id != 0 ? absl::StrCat(due.kind, ":", due.proposal_id) : due.kind;
    r.due_items.push_back(DueItemRecord{due.kind, std::move(key), due.due, true, due.deadline,
                                        due.basis});
  }
  return r;
}

v1::State StateEnum(const std::string& s) {
  if (s == kDecided) return v1::STATE_DECIDED;
  if (s == kInPoliceFacility) return v1::STATE_IN_POLICE_FACILITY;
  if (s == kInJudicialFacility) return v1::STATE_IN_JUDICIAL_FACILITY;
  if (s == kEscaped) return v1::STATE_ESCAPED;
  if (s == kMedicalParole) return v1::STATE_MEDICAL_PAROLE;
  if (s == kDetained) return v1::STATE_DETAINED;
  if (s == kReleased) return v1::STATE_RELEASED;
  if (s == kConvertedToSd) return v1::STATE_CONVERTED_TO_SD;
  return v1::STATE_UNSPECIFIED;
}

void ToProto(const DecisionData& d, const Derived& x, const IsolationOptions& o,
             v1::Decision* out) {
  out->Clear();
  out->set_case_id(d.case_id);
  out->set_decision_id(d.id);
  out->set_decision_number(d.decision_number);
  out->set_deciding_division(d.deciding_division);
  ToProtoDate(d.decided_on, out->mutable_decided_on());
  ToProtoDate(d.served_on, out->mutable_served_on());
  out->set_ground(static_cast<v1::Ground>(d.ground));
  for (const std::string& w : d.warnings) out->add_warnings(w);
  out->set_state(StateEnum(d.state));
  ToProtoDate(d.state_since, out->mutable_state_since());
  out->set_facility_id(d.facility_id);
  for (const FacilityConfig& f : o.facilities) {
    if (f.id == d.facility_id) out->set_facility_kind(f.kind);
  }
  out->set_division(d.division);
  ToProtoDate(d.admitted_on, out->mutable_admitted_on());
  ToProtoDate(d.transferred_on, out->mutable_transferred_on());
  if (x.transfer.has_value()) {
    ToProtoDate(x.transfer->from, out->mutable_transfer_from());
    ToProtoDate(x.transfer->by, out->mutable_transfer_by());
  }
  ToProtoDate(x.last_day, out->mutable_term_last_day());
  out->set_extension_months(d.extension_months);
  out->set_excluded_days(x.excluded_days);
  out->set_term_paused(x.paused);
  ToProtoDate(x.early_from, out->mutable_early_release_eligible_from());
  out->set_early_release_barred(x.barred);
  out->set_early_release_bar_reason(x.bar_reason);
  ToProtoDate(x.scheduled_release, out->mutable_scheduled_release_on());
  out->set_training_eligible(x.training_eligible);
  ToProtoDate(x.training_from, out->mutable_training_eligible_from());
  for (const NoticeData& n : d.notices) {
    v1::Notice* p = out->add_notices();
    p->set_recipient(static_cast<v1::NoticeRecipient>(n.recipient));
    ToProtoDate(n.notified_on, p->mutable_notified_on());
    p->set_not_applicable(n.not_applicable);
  }
  for (const AbsenceData& a : d.absences) {
    v1::Absence* p = out->add_absences();
    p->set_id(a.id);
    p->set_kind(static_cast<v1::AbsenceKind>(a.kind));
    ToProtoDate(a.started_on, p->mutable_started_on());
    ToProtoDate(a.ended_on, p->mutable_ended_on());
  }
  for (const AssessmentData& a : d.assessments) {
    v1::Assessment* p = out->add_assessments();
    p->set_id(a.id);
    p->set_kind(static_cast<v1::AssessmentKind>(a.kind));
    ToProtoDate(a.assessed_on, p->mutable_assessed_on());
    p->set_physiological_detox(static_cast<v1::Grade>(a.physiological));
    p->set_physical_mental_recovery(static_cast<v1::Grade>(a.recovery));
    p->set_behaviour(static_cast<v1::Grade>(a.behaviour));
    p->set_social_adaptability(static_cast<v1::Adaptability>(a.social));
    p->set_facility_id(a.facility_id);
  }
  for (const ProposalData& pr : d.proposals) {
    v1::Proposal* p = out->add_proposals();
    p->set_id(pr.id);
    p->set_kind(static_cast<v1::ProposalKind>(pr.kind));
    ToProtoDate(pr.proposed_on, p->mutable_proposed_on());
    p->set_assessment_id(pr.assessment_id);
    p->set_extension_months(pr.months);
    ToProtoDate(pr.release_on, p->mutable_release_on());
    p->set_status(static_cast<v1::ProposalStatus>(pr.status));
    ToProtoDate(lt::DeadlineAfterDays(pr.proposed_on, kProposalDecisionDays),
            p->mutable_decision_due());
    ToProtoDate(pr.decided_on, p->mutable_decided_on());
    p->set_decision_number(pr.decision_number);
    p->set_refusal_reason(pr.refusal_reason);
  }
  ToProtoDate(d.release_notice_on, out->mutable_release_notice_on());
  ToProtoDate(d.released_on, out->mutable_released_on());
  out->set_release_certificate_number(d.release_certificate);
  if (d.released_on.has_value()) {
    out->mutable_community_rehab()->set_ordered(d.sk_ordered);
    out->mutable_community_rehab()->set_term_months(d.sk_term_months);
    out->mutable_community_rehab()->set_decision_number(d.sk_decision_number);
    out->mutable_community_rehab()->set_division(d.sk_division);
    out->mutable_community_rehab()->set_place(d.sk_place);
  }
  ToProtoDate(d.converted_on, out->mutable_converted_on());
  out->set_community_detox_credit_days(d.sd_credit_days);
  out->set_community_rehab_running_at_decision(d.sk_running_at_decision);
  if (x.next.has_value()) {
    out->mutable_next_deadline()->set_kind(x.next->kind);
    ToProtoDate(x.next->due, out->mutable_next_deadline()->mutable_due());
  }
}

// After a change: reload, save the programme status in the same transaction, answer.
absl::Status Finish(Transaction& tx, const IsolationOptions& o, absl::Time now, int64_t id,
                    v1::Decision* out, Effects* effects) {
  ASSIGN_OR_RETURN(std::optional<DecisionData> d, LoadDecision(tx, id));
  if (!d.has_value()) return absl::InternalError("decision vanished inside its transaction");
  Derived x = Derive(*d, o, lt::ToCivilDay(now));
  ProgramStatusRecord record = StatusRecord(*d, x);
  RETURN_IF_ERROR(SaveProgramStatus(tx, now, &record));
  effects->status = record;
  ToProto(*d, x, o, out);
  return absl::OkStatus();
}

registry::v1::ReportEventRequest MeasureEvent(const DecisionData& d, bool started,
                                              CivilDay on) {
  registry::v1::ReportEventRequest e;
  e.set_case_id(d.case_id);
  e.set_kind(started ? registry::v1::ReportEventRequest::KIND_MEASURE_STARTED
                     : registry::v1::ReportEventRequest::KIND_MEASURE_ENDED);
  e.set_program(common::v1::PROGRAM_COMPULSORY_ISOLATION);
  ToProtoDate(on, e.mutable_occurred_on());
  e.set_source_event_id(absl::StrCat("qz-", d.id, started ? "-started" : "-ended"));
  return e;
}

// 禁毒法 Art 38 (and Art 48 for SK): an isolation decision ends an open community
// detox or community rehabilitation order, recorded there as handed over (违反协议已
// 移交), effective the decision date. Sent to both services; one with no open order
// answers OK and changes nothing.
void AddCloseCommunityHandoffs(int64_t decision_id, const std::string& case_id,
                               const std::string& decision_number, CivilDay decided_on,
                               Effects* effects) {
  detox::v1::CloseForIsolationRequest sd;
  sd.set_case_id(case_id);
  sd.set_decision_number(decision_number);
  ToProtoDate(decided_on, sd.mutable_decided_on());
  effects->handoffs.push_back({kCommunityDetoxTarget, kCloseSdMethod, sd.SerializeAsString(),
                               absl::StrCat("qz:", decision_id, ":close-sd")});
  rehab::v1::CloseForIsolationRequest sk;
  sk.set_case_id(case_id);
  sk.set_decision_number(decision_number);
  ToProtoDate(decided_on, sk.mutable_decided_on());
  effects->handoffs.push_back({kCommunityRehabTarget, kCloseSkMethod, sk.SerializeAsString(),
                               absl::StrCat("qz:", decision_id, ":close-sk")});
}

// Division filters are jurisdiction-style prefixes: 2, 4 or 6 digits.
absl::Status ValidatePrefix(const std::string& prefix, absl::string_view field) {
  if (prefix.empty()) return absl::OkStatus();
  bool digits = std::all_of(prefix.begin(), prefix.end(), absl::ascii_isdigit);
  if (!digits || (prefix.size() != 2 && prefix.size() != 4 && prefix.size() != 6)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be 2, 4 or 6 digits"));
  }
  return absl::OkStatus();
}

int PageSize(int32_t requested, int def, int max) {
  if (requested <= 0) return def;
  return std::min<int>(requested, max);
}

absl::StatusOr<std::string> DecodeToken(const std::string& token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) {
    return absl::InvalidArgumentError("page_token is malformed");
  }
  return raw;
}

}  // namespace

absl::StatusOr<CivilDay> AsOfOrToday(const common::v1::Date& as_of, CivilDay today) {
  ASSIGN_OR_RETURN(std::optional<CivilDay> day, OptionalDate(as_of, "as_of"));
  return day.value_or(today);
}

// ---- IsolationLogic -------------------------------------------------------------------

IsolationLogic::IsolationLogic(IsolationOptions options) : options_(std::move(options)) {}

std::vector<Migration> IsolationLogic::Migrations() { return IsolationTableMigrations(); }

const FacilityConfig* IsolationLogic::FindFacility(absl::string_view id) const {
  for (const FacilityConfig& f : options_.facilities) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

absl::Status IsolationLogic::Decide(Transaction& tx, const Caller& caller, absl::Time now,
                                    const v1::DecideRequest& request,
                                    const registry::v1::CaseFacts& facts,
                                    const std::optional<common::v1::ProgramStatus>& community_rehab,
                                    v1::Decision* out, Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(request.case_id()));
  RETURN_IF_ERROR(RequiredText(request.decision_number(), "decision_number", kMaxTextLength));
  if (!ValidateDivisionCode(request.deciding_division()).ok()) {
    return absl::InvalidArgumentError("deciding_division must be a 6-digit division code");
  }
  // 禁毒法 Art 38, 40: the decision is the police's, of the caller's own county or above.
  if (!caller.Covers(request.deciding_division())) {
    return absl::PermissionDeniedError("deciding_division is outside the caller's jurisdiction");
  }
  if (request.ground() == v1::GROUND_UNSPECIFIED || !v1::Ground_IsValid(request.ground())) {
    return absl::InvalidArgumentError("ground is required");
  }
  ASSIGN_OR_RETURN(CivilDay decided_on, RequiredDate(request.decided_on(), "decided_on"));
  if (decided_on > today) return absl::InvalidArgumentError("decided_on is in the future");
  ASSIGN_OR_RETURN(CivilDay served_on,
                   EventDate(request.served_on(), "served_on", decided_on, "decided_on", today));
  ASSIGN_OR_RETURN(std::optional<CivilDay> nursing,
                   OptionalDate(request.nursing_infant_birth_date(),
                                     "nursing_infant_birth_date"));
  if (nursing.has_value() && *nursing > decided_on) {
    return absl::InvalidArgumentError("nursing_infant_birth_date is after decided_on");
  }
  RETURN_IF_ERROR(CheckIsolationApplies(request.pregnant(), nursing, decided_on));

  ASSIGN_OR_RETURN(bool open, HasOpenDecision(tx, id.ToString()));
  if (open) {
    return absl::AlreadyExistsError("the case already has an open isolation decision");
  }
  std::vector<std::string> warnings;
  // 禁毒法 Art 39: for a minor under 16 isolation is discretionary (可以不适用): accepted,
  // with the warning recorded.
  if (facts.has_birth_date() && IsDateSet(facts.birth_date())) {
    absl::StatusOr<CivilDay> birth = RequiredDate(facts.birth_date(), "birth_date");
    if (birth.ok() && decided_on < FirstDayAged(*birth, 16)) warnings.push_back(kMinorWarning);
  }
  // 戒毒条例 Art 38(2): the early-release bar follows from whether community
  // rehabilitation was running at the decision, kept with the decision.
  const bool sk_running = CommunityRehabRunningOn(community_rehab, decided_on);
  NewDecision row;
  row.case_id = id.ToString();
  row.decision_number = request.decision_number();
  row.deciding_division = request.deciding_division();
  row.decided_on = decided_on;
  row.served_on = served_on;
  row.ground = request.ground();
  row.warnings = warnings;
  row.state = kDecided;
  row.state_since = decided_on;
  row.division = request.deciding_division();
  row.sk_running_at_decision = sk_running;
  row.created_by = caller.subject();
  row.created_us = absl::ToUnixMicros(now);
  ASSIGN_OR_RETURN(int64_t decision_id, InsertDecision(tx, row));
  RETURN_IF_ERROR(Finish(tx, options_, now, decision_id, out, effects));
  DecisionData d;
  d.id = decision_id;
  d.case_id = id.ToString();
  effects->events.push_back(MeasureEvent(d, /*started=*/true, decided_on));
  AddCloseCommunityHandoffs(d.id, id.ToString(), request.decision_number(), decided_on, effects);
  // A person sent to isolation has their open Sunshine placement and seeker profile
  // suspended (DESIGN.md §3, §5); the placement service answers OK for a person who
  // is not a seeker. The reason stays inside: employers and the labor bureau never
  // see it (禁毒法 Art 52, 70).
  placement::v1::SuspendSeekerRequest suspend;
  suspend.set_case_id(id.ToString());
  ToProtoDate(decided_on, suspend.mutable_effective_on());
  suspend.set_reason("compulsory isolation decided");
  effects->handoffs.push_back({kPlacementTarget, kSuspendSeekerMethod, suspend.SerializeAsString(),
                               absl::StrCat("qz:", d.id, ":suspend-placement")});
  return absl::OkStatus();
}

absl::Status IsolationLogic::RecordNotice(Transaction& tx, const Caller& caller, absl::Time now,
                                          const v1::RecordNoticeRequest& request,
                                          v1::Decision* out, Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  ASSIGN_OR_RETURN(DecisionData d, OpenForCaller(tx, caller, request.case_id()));
  // 禁毒法 Art 40: the deciding police notify.
  if (!caller.Covers(d.deciding_division)) {
    return absl::PermissionDeniedError("only the deciding police record the notices (禁毒法 Art 40)");
  }
  if (request.recipient() == v1::NOTICE_RECIPIENT_UNSPECIFIED ||
      !v1::NoticeRecipient_IsValid(request.recipient())) {
    return absl::InvalidArgumentError("recipient is required");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.notified_on(), "notified_on", d.served_on,
                                          "served_on", today));
  for (const NoticeData& n : d.notices) {
    if (n.recipient == request.recipient()) {
      return absl::AlreadyExistsError("this notice is already recorded");
    }
  }
  RETURN_IF_ERROR(InsertNotice(tx, d.id, {request.recipient(), on, request.not_applicable()}));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::Admit(Transaction& tx, const Caller& caller, absl::Time now,
                                   const v1::AdmitRequest& request, v1::Decision* out,
                                   Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  const FacilityConfig* facility = FindFacility(request.facility_id());
  if (facility == nullptr) {
    return absl::InvalidArgumentError("facility_id is not a configured facility");
  }
  ASSIGN_OR_RETURN(DecisionData d,
                   OpenForCaller(tx, caller, request.case_id(), facility->division));
  if (d.admitted_on.has_value()) {
    return absl::FailedPreconditionError("the person was already admitted");
  }
  // 戒毒条例 Art 27: first in a police facility, then a judicial one.
  if (facility->kind != v1::FACILITY_KIND_POLICE) {
    return absl::FailedPreconditionError(
        "admission is to a police isolation facility first (戒毒条例 Art 27)");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.admitted_on(), "admitted_on", d.served_on,
                                          "served_on", today));
  RETURN_IF_ERROR(SetAdmitted(tx, d.id, kInPoliceFacility, on, facility->id, facility->division));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::Transfer(Transaction& tx, const Caller& caller, absl::Time now,
                                      const v1::TransferRequest& request, v1::Decision* out,
                                      Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  const FacilityConfig* facility = FindFacility(request.facility_id());
  if (facility == nullptr) {
    return absl::InvalidArgumentError("facility_id is not a configured facility");
  }
  ASSIGN_OR_RETURN(DecisionData d,
                   OpenForCaller(tx, caller, request.case_id(), facility->division));
  if (d.state != kInPoliceFacility) {
    return absl::FailedPreconditionError(
        "only a person held in a police facility is transferred (戒毒条例 Art 27)");
  }
  if (facility->kind != v1::FACILITY_KIND_JUDICIAL) {
    return absl::FailedPreconditionError(
        "the transfer goes to a judicial-administration facility (戒毒条例 Art 27)");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.transferred_on(), "transferred_on",
                                          d.state_since, "the last recorded event", today));
  TransferWindow w = PoliceStageTransferWindow(*d.admitted_on, options_.police_stage_max_months);
  // 戒毒条例 Art 27: 3 to 6 months (at most 12 where provided) in the police facility.
  if (on < w.from) {
    return absl::FailedPreconditionError(
        absl::StrCat("a transfer comes after 3 months in the police facility (戒毒条例 Art 27): "
                     "from ",
                     DayText(w.from)));
  }
  RETURN_IF_ERROR(
      SetTransferred(tx, d.id, kInJudicialFacility, on, facility->id, facility->division));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::BeginAbsence(Transaction& tx, const Caller& caller, absl::Time now,
                                          const v1::BeginAbsenceRequest& request,
                                          v1::Decision* out, Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  if (request.kind() == v1::ABSENCE_KIND_UNSPECIFIED ||
      !v1::AbsenceKind_IsValid(request.kind())) {
    return absl::InvalidArgumentError("kind is required");
  }
  ASSIGN_OR_RETURN(DecisionData d, OpenForCaller(tx, caller, request.case_id()));
  if (!InFacility(d.state)) {
    return absl::FailedPreconditionError("the person is not held in a facility");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.started_on(), "started_on", d.state_since,
                                          "the last recorded event", today));
  RETURN_IF_ERROR(InsertAbsence(tx, d.id, request.kind(), on));
  // Escape stops the clock (戒毒条例 Art 32); medical parole (Art 31) and detention
  // elsewhere (Art 36) do not: Derive() excludes escape days only.
  const char* state = request.kind() == v1::ABSENCE_KIND_ESCAPE           ? kEscaped
                      : request.kind() == v1::ABSENCE_KIND_MEDICAL_PAROLE ? kMedicalParole
                                                                          : kDetained;
  RETURN_IF_ERROR(SetDecisionState(tx, d.id, state, on));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::EndAbsence(Transaction& tx, const Caller& caller, absl::Time now,
                                        const v1::EndAbsenceRequest& request, v1::Decision* out,
                                        Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  if (request.kind() == v1::ABSENCE_KIND_UNSPECIFIED ||
      !v1::AbsenceKind_IsValid(request.kind())) {
    return absl::InvalidArgumentError("kind is required");
  }
  ASSIGN_OR_RETURN(DecisionData d, OpenForCaller(tx, caller, request.case_id()));
  const AbsenceData* open = OpenAbsence(d);
  if (open == nullptr || open->kind != request.kind()) {
    return absl::FailedPreconditionError("the person has no open absence of this kind");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.ended_on(), "ended_on", d.state_since,
                                          "the absence's start", today));
  RETURN_IF_ERROR(SetAbsenceEnded(tx, open->id, on));
  RETURN_IF_ERROR(SetDecisionState(tx, d.id, InFacilityState(d), on));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::RecordAssessment(Transaction& tx, const Caller& caller,
                                              absl::Time now,
                                              const v1::RecordAssessmentRequest& request,
                                              v1::Decision* out, Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  if (request.kind() == v1::ASSESSMENT_KIND_UNSPECIFIED ||
      !v1::AssessmentKind_IsValid(request.kind())) {
    return absl::InvalidArgumentError("kind is required");
  }
  auto grade_ok = [](int g) { return g == v1::GRADE_PASS || g == v1::GRADE_FAIL; };
  if (!grade_ok(request.physiological_detox())) {
    return absl::InvalidArgumentError("physiological_detox is required");
  }
  if (!grade_ok(request.physical_mental_recovery())) {
    return absl::InvalidArgumentError("physical_mental_recovery is required");
  }
  if (!grade_ok(request.behaviour())) return absl::InvalidArgumentError("behaviour is required");
  if (request.social_adaptability() != v1::ADAPTABILITY_GOOD &&
      request.social_adaptability() != v1::ADAPTABILITY_FAIR) {
    return absl::InvalidArgumentError("social_adaptability is required");
  }
  ASSIGN_OR_RETURN(DecisionData d, OpenForCaller(tx, caller, request.case_id()));
  if (!d.admitted_on.has_value()) {
    return absl::FailedPreconditionError("the person was never admitted to a facility");
  }
  if (d.state == kEscaped) return absl::FailedPreconditionError("the person is escaped");
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.assessed_on(), "assessed_on", *d.admitted_on,
                                          "admitted_on", today));
  AssessmentData a;
  a.kind = request.kind();
  a.assessed_on = on;
  a.physiological = request.physiological_detox();
  a.recovery = request.physical_mental_recovery();
  a.behaviour = request.behaviour();
  a.social = request.social_adaptability();
  a.facility_id = d.facility_id;
  RETURN_IF_ERROR(InsertAssessment(tx, d.id, a));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::ProposeEarlyRelease(Transaction& tx, const Caller& caller,
                                                 absl::Time now,
                                                 const v1::ProposeEarlyReleaseRequest& request,
                                                 v1::Decision* out, Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  ASSIGN_OR_RETURN(DecisionData d, OpenForCaller(tx, caller, request.case_id()));
  if (!InFacility(d.state)) {
    return absl::FailedPreconditionError("early release is proposed for a person in a facility");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.proposed_on(), "proposed_on", *d.admitted_on,
                                          "admitted_on", today));
  ASSIGN_OR_RETURN(CivilDay release_on, RequiredDate(request.release_on(), "release_on"));
  if (release_on < on) return absl::InvalidArgumentError("release_on is before proposed_on");
  if (request.assessment_id() <= 0) return absl::InvalidArgumentError("assessment_id is required");
  Derived x = Derive(d, options_, on);
  // 戒毒条例 Art 32 (recaptured escapee) and Art 38 (after breaching SK): never early.
  if (x.barred) return absl::FailedPreconditionError(x.bar_reason);
  // 禁毒法 Art 47: only after one year served.
  if (on < x.early_from) {
    return absl::FailedPreconditionError(
        absl::StrCat("early release only after one year served (禁毒法 Art 47): it can be "
                     "proposed from ",
                     DayText(x.early_from)));
  }
  const AssessmentData* a = FindAssessment(d, request.assessment_id());
  if (a == nullptr) return CaseNotFound("assessment");
  if (a->assessed_on > on) {
    return absl::FailedPreconditionError("the assessment postdates the proposal");
  }
  // The assessment is the basis: early release needs 戒毒情况良好, i.e. every pass/fail
  // dimension passed (强制隔离戒毒诊断评估办法).
  if (a->physiological != v1::GRADE_PASS || a->recovery != v1::GRADE_PASS ||
      a->behaviour != v1::GRADE_PASS) {
    return absl::FailedPreconditionError(
        "the assessment did not pass every pass/fail dimension (诊断评估)");
  }
  if (HasProposal(d, v1::PROPOSAL_KIND_EARLY_RELEASE,
                  {v1::PROPOSAL_STATUS_PENDING, v1::PROPOSAL_STATUS_APPROVED})) {
    return absl::AlreadyExistsError("an early release proposal is already pending or approved");
  }
  ProposalData p;
  p.kind = v1::PROPOSAL_KIND_EARLY_RELEASE;
  p.proposed_on = on;
  p.assessment_id = request.assessment_id();
  p.release_on = release_on;
  p.status = v1::PROPOSAL_STATUS_PENDING;
  RETURN_IF_ERROR(InsertProposal(tx, d.id, p));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::ProposeExtension(Transaction& tx, const Caller& caller,
                                              absl::Time now,
                                              const v1::ProposeExtensionRequest& request,
                                              v1::Decision* out, Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  if (request.months() < 1 || request.months() > kMaxExtensionMonths) {
    return absl::InvalidArgumentError("months must be 1..12");
  }
  if (request.assessment_id() <= 0) return absl::InvalidArgumentError("assessment_id is required");
  ASSIGN_OR_RETURN(DecisionData d, OpenForCaller(tx, caller, request.case_id()));
  if (!d.admitted_on.has_value() || d.state == kEscaped) {
    return absl::FailedPreconditionError("an extension is proposed for a person held in isolation");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.proposed_on(), "proposed_on", *d.admitted_on,
                                          "admitted_on", today));
  Derived x = Derive(d, options_, on);
  // 禁毒法 Art 47: proposed before the term expires.
  if (on > x.last_day) {
    return absl::FailedPreconditionError(absl::StrCat(
        "an extension must be proposed before the term expires on ", DayText(x.last_day),
        " (禁毒法 Art 47)"));
  }
  if (HasProposal(d, v1::PROPOSAL_KIND_EXTENSION, {v1::PROPOSAL_STATUS_PENDING})) {
    return absl::AlreadyExistsError("an extension proposal is already pending");
  }
  // 禁毒法 Art 47: 最长可以延长一年.
  if (d.extension_months + request.months() > kMaxExtensionMonths) {
    return absl::FailedPreconditionError(absl::StrCat(
        "extensions total at most 12 months (禁毒法 Art 47); ",
        kMaxExtensionMonths - d.extension_months, " months remain"));
  }
  const AssessmentData* a = FindAssessment(d, request.assessment_id());
  if (a == nullptr) return CaseNotFound("assessment");
  if (a->assessed_on > on) {
    return absl::FailedPreconditionError("the assessment postdates the proposal");
  }
  ProposalData p;
  p.kind = v1::PROPOSAL_KIND_EXTENSION;
  p.proposed_on = on;
  p.assessment_id = request.assessment_id();
  p.months = request.months();
  p.status = v1::PROPOSAL_STATUS_PENDING;
  RETURN_IF_ERROR(InsertProposal(tx, d.id, p));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::ProposeConversion(Transaction& tx, const Caller& caller,
                                               absl::Time now,
                                               const v1::ProposeConversionRequest& request,
                                               v1::Decision* out, Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  ASSIGN_OR_RETURN(DecisionData d, OpenForCaller(tx, caller, request.case_id()));
  // 戒毒条例 Art 31: only for a person on medical parole who cannot return.
  if (d.state != kMedicalParole) {
    return absl::FailedPreconditionError(
        "conversion to community detox is proposed only during medical parole (戒毒条例 Art 31)");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.proposed_on(), "proposed_on", d.state_since,
                                          "the start of medical parole", today));
  if (HasProposal(d, v1::PROPOSAL_KIND_CONVERSION_TO_COMMUNITY_DETOX,
                  {v1::PROPOSAL_STATUS_PENDING})) {
    return absl::AlreadyExistsError("a conversion proposal is already pending");
  }
  ProposalData p;
  p.kind = v1::PROPOSAL_KIND_CONVERSION_TO_COMMUNITY_DETOX;
  p.proposed_on = on;
  p.status = v1::PROPOSAL_STATUS_PENDING;
  RETURN_IF_ERROR(InsertProposal(tx, d.id, p));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::DecideProposal(Transaction& tx, const Caller& caller, absl::Time now,
                                            const v1::DecideProposalRequest& request,
                                            v1::Decision* out, Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  ASSIGN_OR_RETURN(DecisionData d, OpenForCaller(tx, caller, request.case_id()));
  // 禁毒法 Art 47; 戒毒条例 Art 31, 33: the deciding police approve.
  if (!caller.Covers(d.deciding_division)) {
    return absl::PermissionDeniedError("only the deciding police decide a proposal (禁毒法 Art 47)");
  }
  const ProposalData* p = FindProposal(d, request.proposal_id());
  if (p == nullptr) return CaseNotFound("proposal");
  if (p->status != v1::PROPOSAL_STATUS_PENDING) {
    return absl::FailedPreconditionError("the proposal was already decided");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.decided_on(), "decided_on", p->proposed_on,
                                          "proposed_on", today));
  const std::string& sd_division = request.community_detox_division();
  const std::string& sd_place = request.community_detox_place();
  if (p->kind != v1::PROPOSAL_KIND_CONVERSION_TO_COMMUNITY_DETOX || !request.approve()) {
    if (!sd_division.empty() || !sd_place.empty()) {
      return absl::InvalidArgumentError(
          "community_detox_division and _place belong to an approved conversion only");
    }
  } else {
    if (!sd_division.empty() && !ValidateDivisionCode(sd_division).ok()) {
      return absl::InvalidArgumentError(
          "community_detox_division must be a 6-digit division code");
    }
    if (sd_place.size() > kMaxSkPlaceLength) {
      return absl::InvalidArgumentError("community_detox_place is longer than 128 bytes");
    }
  }
  if (!request.approve()) {
    RETURN_IF_ERROR(RequiredText(request.refusal_reason(), "refusal_reason", kMaxReasonLength));
    RETURN_IF_ERROR(SetProposalDecided(tx, p->id, v1::PROPOSAL_STATUS_REFUSED, on,
                                       /*decision_number=*/"", request.refusal_reason()));
    return Finish(tx, options_, now, d.id, out, effects);
  }
  RETURN_IF_ERROR(RequiredText(request.decision_number(), "decision_number", kMaxTextLength));
  switch (p->kind) {
    case v1::PROPOSAL_KIND_EARLY_RELEASE: {
      Derived x = Derive(d, options_, on);
      if (x.barred) return absl::FailedPreconditionError(x.bar_reason);
      if (!InFacility(d.state)) {
        return absl::FailedPreconditionError("the person is no longer held in a facility");
      }
      CivilDay release_on = std::max(p->release_on.value_or(on), on);
      RETURN_IF_ERROR(SetEarlyReleaseOn(tx, d.id, release_on));
      break;
    }
    case v1::PROPOSAL_KIND_EXTENSION:
      if (d.extension_months + p->months > kMaxExtensionMonths) {
        return absl::FailedPreconditionError(
            "extensions total at most 12 months (禁毒法 Art 47)");
      }
      RETURN_IF_ERROR(SetExtensionMonths(tx, d.id, d.extension_months + p->months));
      break;
    case v1::PROPOSAL_KIND_CONVERSION_TO_COMMUNITY_DETOX: {
      if (d.state != kMedicalParole) {
        return absl::FailedPreconditionError("the person is no longer on medical parole");
      }
      if (on < d.state_since) {
        return absl::InvalidArgumentError("decided_on is before the last recorded event");
      }
      // 戒毒条例 Art 31: 已执行的强制隔离戒毒期限折抵社区戒毒期限. The days served are
      // the term's days from the decision date up to the conversion, less escape days.
      Derived x = Derive(d, options_, on);
      const int credit = ConversionCreditDays(d.decided_on, on, x.excluded_days);
      const AbsenceData* open = OpenAbsence(d);
      if (open != nullptr) RETURN_IF_ERROR(SetAbsenceEnded(tx, open->id, on));
      RETURN_IF_ERROR(SetConverted(tx, d.id, kConvertedToSd, on, credit));
      // The measure continues as SD from the conversion day: the registry hears that
      // SD started before it hears that isolation ended (one outbox, delivered in
      // order), both dated `on`, so its abstinence clock (戒毒条例 Art 7) never sees
      // the person out of every measure while the order travels to the community
      // detox service, whose own start report then finds the measure open.
      registry::v1::ReportEventRequest sd_started;
      sd_started.set_case_id(d.case_id);
      sd_started.set_kind(registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
      sd_started.set_program(common::v1::PROGRAM_COMMUNITY_DETOX);
      ToProtoDate(on, sd_started.mutable_occurred_on());
      sd_started.set_source_event_id(absl::StrCat("qz-", d.id, "-sd-converted"));
      effects->events.push_back(std::move(sd_started));
      effects->events.push_back(MeasureEvent(d, /*started=*/false, on));
      // 戒毒条例 Art 31: the SD order opens in the community detox service, received on
      // the conversion day (its 15-day report window, Art 14), with the days served
      // credited against its term.
      detox::v1::OpenFromConversionRequest open_sd;
      open_sd.set_case_id(d.case_id);
      open_sd.set_decision_number(request.decision_number());
      ToProtoDate(on, open_sd.mutable_converted_on());
      open_sd.set_credited_days(credit);
      open_sd.set_division(sd_division);
      open_sd.set_place(sd_place);
      open_sd.set_isolation_decision_id(d.id);
      effects->handoffs.push_back({kCommunityDetoxTarget, kOpenSdMethod,
                                   open_sd.SerializeAsString(),
                                   absl::StrCat("qz:", d.id, ":open-sd")});
      // Out of isolation, the person's suspended Sunshine placement and seeker profile
      // resume, as on release (DESIGN.md §3, §5).
      placement::v1::ResumeSeekerRequest resume;
      resume.set_case_id(d.case_id);
      ToProtoDate(on, resume.mutable_effective_on());
      resume.set_reason("compulsory isolation converted to community detox");
      effects->handoffs.push_back({kPlacementTarget, kResumeSeekerMethod,
                                   resume.SerializeAsString(),
                                   absl::StrCat("qz:", d.id, ":resume-placement")});
      break;
    }
    default:
      return absl::InternalError("stored proposal of unknown kind");
  }
  RETURN_IF_ERROR(SetProposalDecided(tx, p->id, v1::PROPOSAL_STATUS_APPROVED, on,
                                     request.decision_number(), /*refusal_reason=*/""));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::RecordReleaseNotice(Transaction& tx, const Caller& caller,
                                                 absl::Time now,
                                                 const v1::RecordReleaseNoticeRequest& request,
                                                 v1::Decision* out, Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  ASSIGN_OR_RETURN(DecisionData d, OpenForCaller(tx, caller, request.case_id()));
  if (!d.admitted_on.has_value()) {
    return absl::FailedPreconditionError("the person was never admitted to a facility");
  }
  if (d.release_notice_on.has_value()) {
    return absl::AlreadyExistsError("the release notice is already recorded");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.notified_on(), "notified_on", *d.admitted_on,
                                          "admitted_on", today));
  RETURN_IF_ERROR(SetReleaseNoticeOn(tx, d.id, on));
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::Release(Transaction& tx, const Caller& caller, absl::Time now,
                                     const v1::ReleaseRequest& request, v1::Decision* out,
                                     Effects* effects) const {
  *effects = Effects();
  const CivilDay today = lt::ToCivilDay(now);
  RETURN_IF_ERROR(RequiredText(request.release_certificate_number(), "release_certificate_number",
                               kMaxTextLength));
  if (!request.has_community_rehab()) {
    return absl::InvalidArgumentError("community_rehab is required (ordered or not)");
  }
  const v1::CommunityRehabDecision& sk = request.community_rehab();
  if (sk.ordered()) {
    // 禁毒法 Art 48: 不超过三年.
    if (sk.term_months() < 1 || sk.term_months() > kMaxCommunityRehabMonths) {
      return absl::InvalidArgumentError(
          "community_rehab.term_months must be 1..36 (禁毒法 Art 48)");
    }
    RETURN_IF_ERROR(
        RequiredText(sk.decision_number(), "community_rehab.decision_number", kMaxTextLength));
    if (!sk.division().empty() && !ValidateDivisionCode(sk.division()).ok()) {
      return absl::InvalidArgumentError(
          "community_rehab.division must be a 6-digit division code");
    }
    if (sk.place().size() > kMaxSkPlaceLength) {
      return absl::InvalidArgumentError("community_rehab.place is longer than 128 bytes");
    }
  } else if (sk.term_months() != 0 || !sk.decision_number().empty() || !sk.division().empty() ||
             !sk.place().empty()) {
    return absl::InvalidArgumentError("community_rehab has a term but is not ordered");
  }
  ASSIGN_OR_RETURN(DecisionData d, OpenForCaller(tx, caller, request.case_id()));
  if (caller.role() == Role::kPolice && !caller.Covers(d.deciding_division)) {
    return absl::PermissionDeniedError("only the deciding police record a release");
  }
  if (!d.admitted_on.has_value()) {
    return absl::FailedPreconditionError("the person was never admitted to a facility");
  }
  if (d.state == kEscaped) {
    return absl::FailedPreconditionError("an escaped person is released only after recapture");
  }
  ASSIGN_OR_RETURN(CivilDay on, EventDate(request.released_on(), "released_on", d.state_since,
                                          "the last recorded event", today));
  Derived x = Derive(d, options_, on);
  if (on < x.scheduled_release) {
    return absl::FailedPreconditionError(absl::StrCat(
        "release before the term's last day (", DayText(x.scheduled_release),
        ") needs an approved early release (禁毒法 Art 47)"));
  }
  const AbsenceData* open = OpenAbsence(d);
  if (open != nullptr) RETURN_IF_ERROR(SetAbsenceEnded(tx, open->id, on));
  ReleaseRecord release;
  release.state = kReleased;
  release.released_on = on;
  release.certificate = request.release_certificate_number();
  release.sk_ordered = sk.ordered();
  release.sk_term_months = sk.term_months();
  release.sk_decision_number = sk.decision_number();
  release.sk_division = sk.division();
  release.sk_place = sk.place();
  RETURN_IF_ERROR(SetReleased(tx, d.id, release));
  if (sk.ordered()) {
    // The measure continues as SK from the release date: tell the registry before the
    // isolation ends, so its abstinence clock (戒毒条例 Art 7) never sees a moment
    // with no measure open while the SK order travels to the rehabilitation service.
    // The rehabilitation service's own start report later finds the measure open.
    registry::v1::ReportEventRequest sk_started;
    sk_started.set_case_id(d.case_id);
    sk_started.set_kind(registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
    sk_started.set_program(common::v1::PROGRAM_COMMUNITY_REHAB);
    ToProtoDate(on, sk_started.mutable_occurred_on());
    sk_started.set_source_event_id(absl::StrCat("qz-", d.id, "-sk-ordered"));
    effects->events.push_back(std::move(sk_started));
  }
  effects->events.push_back(MeasureEvent(d, /*started=*/false, on));
  if (sk.ordered()) {
    // 禁毒法 Art 48: the SK order opens in the community rehabilitation service, its
    // 15-day report window counted from release (戒毒条例 Art 38).
    rehab::v1::OpenFromReleaseRequest open_sk;
    open_sk.set_case_id(d.case_id);
    open_sk.set_decision_number(sk.decision_number());
    ToProtoDate(on, open_sk.mutable_released_on());
    open_sk.set_term_months(sk.term_months());
    open_sk.set_division(sk.division());
    open_sk.set_place(sk.place());
    open_sk.set_isolation_decision_id(d.id);
    effects->handoffs.push_back({kCommunityRehabTarget, kOpenSkMethod, open_sk.SerializeAsString(),
                                 absl::StrCat("qz:", d.id, ":open-sk")});
  }
  // Release resumes the person's suspended Sunshine placement and seeker profile
  // (DESIGN.md §3, §5): released into SK or free, they may be placed again.
  placement::v1::ResumeSeekerRequest resume;
  resume.set_case_id(d.case_id);
  ToProtoDate(on, resume.mutable_effective_on());
  resume.set_reason("released from compulsory isolation");
  effects->handoffs.push_back({kPlacementTarget, kResumeSeekerMethod, resume.SerializeAsString(),
                               absl::StrCat("qz:", d.id, ":resume-placement")});
  return Finish(tx, options_, now, d.id, out, effects);
}

absl::Status IsolationLogic::GetDecision(ReadTransaction& tx, const Caller& /*caller*/,
                                         absl::string_view case_id, CivilDay as_of,
                                         v1::Decision* out) const {
  ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(case_id));
  ASSIGN_OR_RETURN(std::optional<DecisionData> d, LoadLatestDecision(tx, id.ToString()));
  if (!d.has_value()) return CaseNotFound("decision");
  ToProto(*d, Derive(*d, options_, as_of), options_, out);
  return absl::OkStatus();
}

absl::Status IsolationLogic::CheckActs(ReadTransaction& tx, const Caller& caller,
                                       absl::string_view case_id,
                                       absl::string_view facility_id) const {
  ASSIGN_OR_RETURN(std::optional<DecisionData> d,
                   LoadOpenDecision(tx, case_id));
  if (!d.has_value()) return absl::OkStatus();
  const FacilityConfig* receiving = facility_id.empty() ? nullptr : FindFacility(facility_id);
  return OpenForCaller(tx, caller, case_id, receiving == nullptr ? "" : receiving->division)
      .status();
}

absl::Status IsolationLogic::CheckVisible(ReadTransaction& tx, const Caller& caller,
                                          const CaseScope& scope,
                                          absl::string_view facility_id) const {
  if (CoversCase(caller, scope)) return CheckCaseVisible(caller, scope);
  // Not a place of 双向管控: the deciding police and the facility holding (or about to
  // receive) the person still see it.
  const FacilityConfig* receiving = facility_id.empty() ? nullptr : FindFacility(facility_id);
  // Not `cond ? "" : receiving->division`: that makes a temporary std::string, and the
  // view would outlive it.
  absl::string_view receiving_division;
  if (receiving != nullptr) receiving_division = receiving->division;
  ASSIGN_OR_RETURN(std::optional<DecisionData> d,
                   LoadLatestDecision(tx, scope.case_id));
  if (!d.has_value()) return CheckCaseVisible(caller, scope, {receiving_division});
  return CheckCaseVisible(caller, scope, {d->division, d->deciding_division, receiving_division});
}

absl::Status IsolationLogic::ListDecisions(ReadTransaction& tx, const Caller& caller,
                                           const v1::ListDecisionsRequest& request,
                                           CivilDay today,
                                           v1::ListDecisionsResponse* out) const {
  RETURN_IF_ERROR(ValidatePrefix(request.division(), "division"));
  ASSIGN_OR_RETURN(std::optional<CivilDay> as_of_opt, OptionalDate(request.as_of(), "as_of"));
  CivilDay as_of = as_of_opt.value_or(today);
  const int page_size = PageSize(request.page().page_size(), 50, 500);
  std::string after_case;
  int64_t after_id = 0;
  if (!request.page().page_token().empty()) {
    ASSIGN_OR_RETURN(std::string raw, DecodeToken(request.page().page_token()));
    std::vector<std::string> parts = absl::StrSplit(raw, '|');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &after_id)) {
      return absl::InvalidArgumentError("page_token is malformed");
    }
    after_case = parts[0];
  }
  int taken = 0;
  bool more = false;
  std::string last_key;
  DecisionFilter filter;
  filter.open_only = request.open_only();
  filter.facility_id = request.facility_id();
  filter.division_prefix = request.division();
  // Visible() in the query too, so the count holds the caller's jurisdiction only.
  filter.seen_prefix =
      caller.jurisdiction() == kNationalJurisdiction ? std::string() : caller.jurisdiction();
  filter.after_case_id = after_case;
  filter.after_id = after_id;
  ASSIGN_OR_RETURN(int64_t total, CountDecisions(tx, filter));
  out->mutable_page()->set_total_size(total);
  RETURN_IF_ERROR(EachDecision(
      tx, filter,
      [&](DecisionData d) -> absl::StatusOr<bool> {
        if (!Visible(caller, d)) return true;
        if (taken == page_size) {
          more = true;
          return false;
        }
        ToProto(d, Derive(d, options_, as_of), options_, out->add_decisions());
        ++taken;
        last_key = absl::StrCat(d.case_id, "|", d.id);
        return true;
      }));
  if (more) out->mutable_page()->set_next_page_token(absl::WebSafeBase64Escape(last_key));
  return absl::OkStatus();
}

absl::Status IsolationLogic::ListDue(ReadTransaction& tx, const Caller& caller,
                                     const v1::ListDueRequest& request, CivilDay today,
                                     v1::ListDueResponse* out) const {
  RETURN_IF_ERROR(ValidatePrefix(request.division(), "division"));
  ASSIGN_OR_RETURN(std::optional<CivilDay> as_of_opt, OptionalDate(request.as_of(), "as_of"));
  CivilDay as_of = as_of_opt.value_or(today);
  if (request.horizon_days() < 0 || request.horizon_days() > 366) {
    return absl::InvalidArgumentError("horizon_days must be 0..366");
  }
  const int horizon = request.horizon_days() == 0 ? 30 : request.horizon_days();
  const int page_size = PageSize(request.page().page_size(), 100, 1000);
  using Key = std::tuple<CivilDay, std::string, std::string, int64_t>;
  std::optional<Key> after;
  if (!request.page().page_token().empty()) {
    ASSIGN_OR_RETURN(std::string raw, DecodeToken(request.page().page_token()));
    std::vector<std::string> parts = absl::StrSplit(raw, '|');
    std::optional<CivilDay> day = parts.size() == 4 ? ParseDayText(parts[0]) : std::nullopt;
    int64_t pid = 0;
    if (!day.has_value() || !absl::SimpleAtoi(parts[3], &pid)) {
      return absl::InvalidArgumentError("page_token is malformed");
    }
    after = Key(*day, parts[1], parts[2], pid);
  }
  struct Item {
    Key key;
    v1::DueItem proto;
  };
  std::vector<Item> items;
  int64_t total = 0;
  DecisionFilter filter;
  filter.open_only = true;
  filter.facility_id = request.facility_id();
  filter.division_prefix = request.division();
  RETURN_IF_ERROR(EachDecision(
      tx, filter,
      [&](DecisionData d) -> absl::StatusOr<bool> {
        if (!Visible(caller, d)) return true;
        Derived x = Derive(d, options_, as_of);
        for (const DueData& due : x.due) {
          if (due.due > as_of + horizon) continue;
          Key key(due.due, d.case_id, due.kind, due.proposal_id);
          ++total;  // every page's items, exact: Visible() ran on each decision
          if (after.has_value() && !(*after < key)) continue;
          Item item{key, {}};
          item.proto.set_case_id(d.case_id);
          item.proto.set_decision_id(d.id);
          item.proto.set_kind(due.kind);
          ToProtoDate(due.due, item.proto.mutable_due());
          item.proto.set_overdue(due.deadline && lt::IsOverdue(due.due, as_of));
          item.proto.set_legal_basis(due.basis);
          item.proto.set_facility_id(d.facility_id);
          item.proto.set_division(d.division);
          item.proto.set_proposal_id(due.proposal_id);
          items.push_back(std::move(item));
        }
        return true;
      }));
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.key < b.key; });
  out->mutable_page()->set_total_size(total);
  for (size_t i = 0; i < items.size() && static_cast<int>(i) < page_size; ++i) {
    *out->add_items() = items[i].proto;
  }
  if (static_cast<int>(items.size()) > page_size) {
    const Key& k = items[page_size - 1].key;
    out->mutable_page()->set_next_page_token(absl::WebSafeBase64Escape(absl::StrCat(
        DayText(std::get<0>(k)), "|", std::get<1>(k), "|", std::get<2>(k), "|", std::get<3>(k))));
  }
  return absl::OkStatus();
}

absl::Status IsolationLogic::RefreshStatuses(
    Transaction& tx, absl::Time now, CivilDay as_of,
    std::vector<ProgramStatusRecord>* changed) const {
  changed->clear();
  std::vector<DecisionData> open;
  DecisionFilter filter;
  filter.open_only = true;
  RETURN_IF_ERROR(EachDecision(tx, filter,
                               [&](DecisionData d) -> absl::StatusOr<bool> {
                                 open.push_back(std::move(d));
                                 return true;
                               }));
  for (const DecisionData& d : open) {
    ProgramStatusRecord want = StatusRecord(d, Derive(d, options_, as_of));
    ASSIGN_OR_RETURN(std::optional<ProgramStatusRecord> have, LoadProgramStatus(tx, d.case_id));
    if (have.has_value() && SameStatus(*have, want)) continue;
    RETURN_IF_ERROR(SaveProgramStatus(tx, now, &want));
    changed->push_back(std::move(want));
  }
  return absl::OkStatus();
}

}  // namespace isolation
}  // namespace pathway
