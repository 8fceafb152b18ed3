#include "services/placement/placement_logic.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/jurisdiction.h"
#include "common/codec/proto_date.h"
#include "common/ids/case_id.h"
#include "common/ids/division_code.h"
#include "common/ids/resident_id.h"
#include "common/legal_time/legal_time.h"
#include "common/log/log.h"
#include "common/server/mutation.h"
#include "common/status/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "services/placement/credit_code.h"
#include "services/placement/labor_exchange_index.h"
#include "services/placement/labor_reconcile.h"

namespace pathway {
namespace placement {
namespace {

using google::protobuf::RepeatedPtrField;

// ---------------------------------------------------------------- helpers

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

void SetTimestamp(int64_t micros, google::protobuf::Timestamp* out) {
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

absl::CivilDay Today(absl::Time now) { return legal_time::ToCivilDay(now); }

bool IsEmployer(const Caller& caller) { return caller.role() == Role::kEmployer; }

std::string EncodeToken(const std::string& key) { return absl::WebSafeBase64Escape(key); }

absl::StatusOr<std::string> DecodeToken(const std::string& token) {
  std::string key;
  if (!token.empty() && !absl::WebSafeBase64Unescape(token, &key)) {
    return absl::InvalidArgumentError("page.page_token: malformed");
  }
  return key;
}

int PageSize(const common::v1::PageRequest& page) {
  if (page.page_size() <= 0) return kDefaultPageSize;
  return std::min(page.page_size(), kMaxPageSize);
}

absl::StatusOr<int64_t> DecodeIdToken(const common::v1::PageRequest& page) {
  ASSIGN_OR_RETURN(std::string key, DecodeToken(page.page_token()));
  if (key.empty()) return 0;
  int64_t id = 0;
  if (!absl::SimpleAtoi(key, &id) || id < 0) {
    return absl::InvalidArgumentError("page.page_token: malformed");
  }
  return id;
}

std::string Sha256(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

std::string ContentHash(const google::protobuf::Message& m) {
  m.ByteSizeLong();
  return Sha256(SerializeDeterministically(m));
}

// Splits a "field: reason" validation message into a row error.
void ToRowError(const absl::Status& s, v1::RowError* error) {
  std::string msg(s.message());
  size_t colon = msg.find(": ");
  if (colon == std::string::npos) {
    error->set_field("");
    error->set_reason(msg);
  } else {
    error->set_field(msg.substr(0, colon));
    error->set_reason(msg.substr(colon + 2));
  }
}

bool HasScope(const v1::Seeker& s, v1::ConsentScope scope) {
  for (int sc : s.consent().scopes()) {
    if (sc == scope) return true;
  }
  return false;
}

// ---------------------------------------------------------------- loading in scope

// The caller's jurisdiction as a division prefix ("" for national).
std::string ScopePrefix(const Caller& caller) {
  if (caller.jurisdiction() == kNationalJurisdiction) return "";
  return caller.jurisdiction();
}

// Who sees a record of the case (DESIGN.md §6, common/auth/case_scope.h). With the
// registry's scope: a caller covering the household or residence place (双向管控) or
// `division` (the seeker's county, which executes), and a sealed case only for a role
// with a statutory need. Without one (the service role's hand-offs; the labor bureau's
// own rule): a caller covering `division`. Anything else is the single NOT_FOUND.
absl::Status CheckSees(const Caller& caller, const CaseScope* scope, absl::string_view division,
                       absl::string_view what = "case") {
  if (scope != nullptr) {
    if (!CheckCaseVisible(caller, *scope, {division}).ok()) return CaseNotFound(what);
    return absl::OkStatus();
  }
  return caller.Covers(division) ? absl::OkStatus() : CaseNotFound(what);
}

// Who acts: only the seeker's county (the township that executes) changes the seeker's
// records; another caller who sees the case is refused (call after CheckSees).
absl::Status CheckActs(const Caller& caller, absl::string_view division) {
  return CheckExecutes(caller, division, "the seeker's county");
}

// The seeker, if it exists and the caller sees it; otherwise the single NOT_FOUND
// (DESIGN.md §6). `scope`: the registry's, for the case (nullptr: see CheckSees).
absl::StatusOr<SeekerRow> LoadSeekerInScope(ReadTransaction& tx, const Caller& caller,
                                            absl::string_view case_id, const CaseScope* scope) {
  ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(case_id));
  ASSIGN_OR_RETURN(std::optional<SeekerRow> s, LoadSeeker(tx, id.ToString()));
  if (!s.has_value() || IsEmployer(caller)) return CaseNotFound();
  if (scope != nullptr && scope->case_id != s->seeker.case_id()) return CaseNotFound();
  RETURN_IF_ERROR(CheckSees(caller, scope, s->seeker.division()));
  return *std::move(s);
}

// An employer sees its own placements; anyone else as CheckSees decides for the case.
bool PlacementVisible(const Caller& caller, const v1::PlacementRecord& p, const CaseScope* scope) {
  if (IsEmployer(caller)) return p.employer_credit_code() == caller.organization();
  if (scope != nullptr && scope->case_id != p.case_id()) return false;
  return CheckSees(caller, scope, p.division()).ok();
}

absl::StatusOr<v1::PlacementRecord> LoadPlacementInScope(ReadTransaction& tx, const Caller& caller,
                                                         int64_t id, const CaseScope* scope) {
  ASSIGN_OR_RETURN(std::optional<v1::PlacementRecord> p, LoadPlacement(tx, id));
  if (!p.has_value() || !PlacementVisible(caller, *p, scope)) return CaseNotFound("placement");
  return *std::move(p);
}

// Saves the seeker's programme status (DESIGN.md §4) in the same transaction.
absl::Status SaveSeekerStatus(Transaction& tx, absl::Time now, const v1::Seeker& s,
                              ProgramStatusRecord* status) {
  ProgramStatusRecord r;
  r.case_id = s.case_id();
  r.division = s.division();
  r.state = SeekerProgramState(s);
  if (IsDateSet(s.state_since())) r.began = DayOf(s.state_since());
  if (s.state() == v1::SEEKER_STATE_PLACED) {
    ASSIGN_OR_RETURN(std::optional<absl::CivilDay> due, LoadNextRetentionDue(tx, s.case_id()));
    if (due.has_value()) {
      r.deadline_kind = "RETENTION_CHECK";
      r.deadline = due;
      // The Sunshine follow-up of a placement: whether the person is still in work.
      r.due_items.push_back(
          DueItemRecord{"RETENTION_CHECK", "RETENTION_CHECK", *due, true, true, "阳光工程 就业跟踪"});
    }
  }
  RETURN_IF_ERROR(SaveProgramStatus(tx, now, &r));
  if (status != nullptr) *status = r;
  return absl::OkStatus();
}

absl::StatusOr<v1::Posting> LoadPostingInScope(ReadTransaction& tx, const Caller& caller,
                                               int64_t id) {
  ASSIGN_OR_RETURN(std::optional<v1::Posting> p, LoadPosting(tx, id));
  if (!p.has_value()) return CaseNotFound("posting");
  bool visible = IsEmployer(caller) ? p->employer_credit_code() == caller.organization()
                                    : caller.Covers(p->division());
  if (!visible) return CaseNotFound("posting");
  return *std::move(p);
}

// Checks the fields shared by created and imported postings; messages are "field: reason".
absl::Status ValidatePostingFields(const v1::Posting& p, std::vector<std::string>* skills) {
  RETURN_IF_ERROR(ValidateText(p.title(), 200, true, "title"));
  RETURN_IF_ERROR(ValidateText(p.employer_name(), 200, false, "employer_name"));
  if (!ValidateDivisionCode(p.division()).ok()) {
    return absl::InvalidArgumentError("division: must be a 6-digit county code");
  }
  if (p.wage_min() < 0 || p.wage_min() > 1000000) {
    return absl::InvalidArgumentError("wage_min: 0..1000000");
  }
  if (p.wage_max() < p.wage_min() || p.wage_max() > 1000000) {
    return absl::InvalidArgumentError("wage_max: must be wage_min..1000000");
  }
  ASSIGN_OR_RETURN(*skills, NormalizeSkills(p.skills(), 20, "skills"));
  if (p.openings() < 1 || p.openings() > 100000) {
    return absl::InvalidArgumentError("openings: 1..100000");
  }
  ASSIGN_OR_RETURN(absl::CivilDay from, RequiredDate(p.valid_from(), "valid_from"));
  ASSIGN_OR_RETURN(absl::CivilDay until, RequiredDate(p.valid_until(), "valid_until"));
  if (until < from) return absl::InvalidArgumentError("valid_until: before valid_from");
  return absl::OkStatus();
}

absl::StatusOr<std::pair<absl::CivilDay, absl::CivilDay>> Period(const common::v1::Date& start,
                                                                 const common::v1::Date& end) {
  ASSIGN_OR_RETURN(absl::CivilDay s, RequiredDate(start, "period_start"));
  ASSIGN_OR_RETURN(absl::CivilDay e, RequiredDate(end, "period_end"));
  if (e < s) return absl::InvalidArgumentError("period_end: before period_start");
  return std::make_pair(s, e);
}

}  // namespace

bool IsOutsideRole(const Caller& caller) {
  return caller.role() == Role::kLaborBureau || caller.role() == Role::kEmployer;
}

void RedactTreatmentDetail(google::protobuf::Message* message) {
  const google::protobuf::Descriptor* d = message->GetDescriptor();
  const google::protobuf::Reflection* r = message->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->options().GetExtension(v1::treatment_detail)) {
      r->ClearField(message, f);
      continue;
    }
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int j = 0; j < r->FieldSize(*message, f); ++j) {
        RedactTreatmentDetail(r->MutableRepeatedMessage(message, f, j));
      }
    } else if (r->HasField(*message, f)) {
      RedactTreatmentDetail(r->MutableMessage(message, f));
    }
  }
}

void RedactForOutsideRole(google::protobuf::Message* message) {
  RedactTreatmentDetail(message);
  const google::protobuf::Descriptor* d = message->GetDescriptor();
  const google::protobuf::Reflection* r = message->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_ENUM &&
        f->enum_type() == v1::PlacementState_descriptor() && !f->is_repeated()) {
      // A suspension is a treatment fact (only isolation causes it): the placement shows
      // as the active one it was (placement.proto, PlacementState).
      if (r->GetEnumValue(*message, f) == v1::PLACEMENT_STATE_SUSPENDED) {
        r->SetEnumValue(message, f, v1::PLACEMENT_STATE_ACTIVE);
      }
      continue;
    }
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int j = 0; j < r->FieldSize(*message, f); ++j) {
        RedactForOutsideRole(r->MutableRepeatedMessage(message, f, j));
      }
    } else if (r->HasField(*message, f)) {
      RedactForOutsideRole(r->MutableMessage(message, f));
    }
  }
}

PlacementLogic::PlacementLogic(std::vector<v1::SubsidyTier> tiers, std::string id_hash_key)
    : tiers_(std::move(tiers)),
      id_hash_key_(std::move(id_hash_key)),
      seeker_ref_key_(LaborExchangeIndex(id_hash_key_, "pathway.placement.v1.seeker_ref")) {}

std::string PlacementLogic::SeekerRef(int64_t posting_id, absl::string_view case_id) const {
  std::string mac = LaborExchangeIndex(seeker_ref_key_, absl::StrCat(posting_id, ":", case_id));
  return absl::StrCat("ref-", absl::BytesToHexString(mac.substr(0, 16)));
}

std::string PlacementLogic::IdHash(absl::string_view normalized_id_number) const {
  return LaborExchangeIndex(id_hash_key_, normalized_id_number);
}

// ---------------------------------------------------------------- employers

absl::Status PlacementLogic::UpsertEmployer(Transaction& tx, const Caller& caller, absl::Time now,
                                            const v1::Employer& e, v1::Employer* out) const {
  RETURN_IF_ERROR(ValidateCreditCode(e.credit_code(), "employer.credit_code"));
  RETURN_IF_ERROR(ValidateText(e.name(), 200, true, "employer.name"));
  if (e.kind() == v1::EMPLOYER_KIND_UNSPECIFIED || !v1::EmployerKind_IsValid(e.kind())) {
    return absl::InvalidArgumentError("employer.kind: required");
  }
  if (!ValidateDivisionCode(e.division()).ok()) {
    return absl::InvalidArgumentError("employer.division: must be a 6-digit county code");
  }
  if (e.capacity() < 0 || e.capacity() > 100000) {
    return absl::InvalidArgumentError("employer.capacity: 0..100000");
  }
  RETURN_IF_ERROR(ValidateText(e.contact_name(), 64, false, "employer.contact_name"));
  RETURN_IF_ERROR(ValidateText(e.contact_phone(), 32, false, "employer.contact_phone"));
  RETURN_IF_ERROR(CheckInJurisdiction(caller, e.division(), "employer"));
  ASSIGN_OR_RETURN(std::optional<v1::Employer> existing, LoadEmployer(tx, e.credit_code()));
  if (existing.has_value() && !caller.Covers(existing->division())) return CaseNotFound("employer");
  RETURN_IF_ERROR(SaveEmployer(tx, now, e));
  *out = e;
  SetTimestamp(Micros(now), out->mutable_updated_at());
  return absl::OkStatus();
}

absl::Status PlacementLogic::GetEmployer(ReadTransaction& tx, const Caller& caller,
                                         absl::string_view credit_code, v1::Employer* out) const {
  RETURN_IF_ERROR(ValidateCreditCode(credit_code));
  ASSIGN_OR_RETURN(std::optional<v1::Employer> e, LoadEmployer(tx, std::string(credit_code)));
  bool visible = e.has_value() && (IsEmployer(caller) ? e->credit_code() == caller.organization()
                                                      : caller.Covers(e->division()));
  if (!visible) return CaseNotFound("employer");
  *out = *std::move(e);
  return absl::OkStatus();
}

absl::Status PlacementLogic::ListEmployers(ReadTransaction& tx, const Caller& caller,
                                           const v1::ListEmployersRequest& request,
                                           v1::ListEmployersResponse* out) const {
  ASSIGN_OR_RETURN(std::string after, DecodeToken(request.page().page_token()));
  EmployerFilter filter;
  filter.after_credit_code = after;
  filter.division_prefix = ScopePrefix(caller);
  // The requested prefix narrows; the caller's jurisdiction still bounds, in the query
  // itself so the count never includes another county's employers.
  if (!IsEmployer(caller)) filter.scope_prefix = ScopePrefix(caller);
  if (!request.division_prefix().empty()) {
    RETURN_IF_ERROR(ValidateDivisionPrefix(request.division_prefix(), "division_prefix"));
    filter.division_prefix = request.division_prefix();
  }
  int limit = PageSize(request.page());
  filter.kind = request.kind();
  filter.credit_code = IsEmployer(caller) ? caller.organization() : "";
  filter.limit = limit + 1;
  ASSIGN_OR_RETURN(std::vector<v1::Employer> rows, SelectEmployers(tx, filter));
  ASSIGN_OR_RETURN(int64_t total, CountEmployers(tx, filter));
  out->mutable_page()->set_total_size(total);
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    if (!IsEmployer(caller) && !caller.Covers(rows[i].division())) continue;
    *out->add_employers() = rows[i];
  }
  if (static_cast<int>(rows.size()) > limit) {
    out->mutable_page()->set_next_page_token(EncodeToken(rows[limit - 1].credit_code()));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- seekers

absl::Status PlacementLogic::ValidateRegisterSeeker(const Caller& /*caller*/,
                                                    const v1::RegisterSeekerRequest& r,
                                                    absl::CivilDay today) const {
  RETURN_IF_ERROR(CaseId::Parse(r.case_id()).status());
  if (!ValidateDivisionCode(r.division()).ok()) {
    return absl::InvalidArgumentError("division: must be a 6-digit county code");
  }
  ASSIGN_OR_RETURN(absl::CivilDay consent_on,
                   RequiredDate(r.consent().given_on(), "consent.given_on"));
  if (consent_on > today) return absl::InvalidArgumentError("consent.given_on: in the future");
  bool placement_scope = false;
  for (int sc : r.consent().scopes()) {
    if (sc == v1::CONSENT_SCOPE_UNSPECIFIED || !v1::ConsentScope_IsValid(sc)) {
      return absl::InvalidArgumentError("consent.scopes: unknown scope");
    }
    if (sc == v1::CONSENT_SCOPE_PLACEMENT) placement_scope = true;
  }
  if (!placement_scope) {
    return absl::InvalidArgumentError("consent.scopes: must include CONSENT_SCOPE_PLACEMENT");
  }
  RETURN_IF_ERROR(NormalizeSkills(r.skills(), 50, "skills").status());
  if (r.preferred_divisions_size() > 20) {
    return absl::InvalidArgumentError("preferred_divisions: at most 20");
  }
  for (const std::string& p : r.preferred_divisions()) {
    RETURN_IF_ERROR(ValidateDivisionPrefix(p, "preferred_divisions"));
  }
  if (r.min_monthly_wage() < 0 || r.min_monthly_wage() > 1000000) {
    return absl::InvalidArgumentError("min_monthly_wage: 0..1000000");
  }
  if (!v1::Education_IsValid(r.education())) return absl::InvalidArgumentError("education: unknown");
  return absl::OkStatus();
}

absl::Status PlacementLogic::RegisterSeeker(Transaction& tx, const Caller& caller, absl::Time now,
                                            const v1::RegisterSeekerRequest& r,
                                            const CaseScope& scope,
                                            const EligibilityDecision& eligibility,
                                            absl::string_view labor_exchange_index,
                                            v1::Seeker* out, ProgramStatusRecord* status) const {
  absl::CivilDay today = Today(now);
  RETURN_IF_ERROR(ValidateRegisterSeeker(caller, r, today));
  if (caller.role() == Role::kFacilityStaff &&
      eligibility.eligibility != v1::ELIGIBILITY_TRAINING_ONLY) {
    return absl::PermissionDeniedError(
        "facility staff register only persons in isolation, for training");
  }
  ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(r.case_id()));
  if (scope.case_id != id.ToString()) return CaseNotFound();
  ASSIGN_OR_RETURN(std::optional<SeekerRow> existing, LoadSeeker(tx, id.ToString()));
  if (existing.has_value()) {
    RETURN_IF_ERROR(CheckSees(caller, &scope, existing->seeker.division()));
    RETURN_IF_ERROR(CheckActs(caller, existing->seeker.division()));
    return absl::AlreadyExistsError("the case is already registered as a job seeker");
  }
  // Only a caller who sees the case registers it (household or residence place; a
  // sealed case not at all). Facility staff hold the person in isolation, which this
  // service cannot see: the county they register for stands for the facility.
  if (caller.role() == Role::kFacilityStaff) {
    RETURN_IF_ERROR(CheckCaseVisible(caller, scope, {r.division()}));
  } else {
    RETURN_IF_ERROR(CheckCaseVisible(caller, scope));
  }
  // The seeker's county is where the case is worked: the caller's own (who sees is not
  // who acts, DESIGN.md §6). Checked after scope, so an outsider learns nothing.
  if (!caller.Covers(r.division())) {
    return absl::PermissionDeniedError("division: outside your jurisdiction");
  }
  SeekerRow row;
  v1::Seeker& s = row.seeker;
  s.set_case_id(id.ToString());
  s.set_division(r.division());
  *s.mutable_consent() = r.consent();
  ASSIGN_OR_RETURN(std::vector<std::string> skills, NormalizeSkills(r.skills(), 50, "skills"));
  for (std::string& t : skills) s.add_skills(std::move(t));
  s.set_education(r.education());
  for (const std::string& p : r.preferred_divisions()) s.add_preferred_divisions(p);
  s.set_min_monthly_wage(r.min_monthly_wage());
  s.set_state(v1::SEEKER_STATE_SEEKING);
  ToProtoDate(today, s.mutable_registered_on());
  ToProtoDate(today, s.mutable_state_since());
  s.set_eligibility(eligibility.eligibility);
  s.set_eligibility_basis(eligibility.basis);
  RETURN_IF_ERROR(SaveSeeker(tx, now, row));
  if (!labor_exchange_index.empty()) {
    RETURN_IF_ERROR(SaveSeekerLaborIndex(tx, s.case_id(), labor_exchange_index));
  }
  RETURN_IF_ERROR(SaveSeekerStatus(tx, now, s, status));
  *out = s;
  SetTimestamp(Micros(now), out->mutable_updated_at());
  return absl::OkStatus();
}

absl::Status PlacementLogic::UpdateSeeker(Transaction& tx, const Caller& caller, absl::Time now,
                                          const v1::UpdateSeekerRequest& r, const CaseScope* scope,
                                          v1::Seeker* out) const {
  ASSIGN_OR_RETURN(SeekerRow row, LoadSeekerInScope(tx, caller, r.case_id(), scope));
  RETURN_IF_ERROR(CheckActs(caller, row.seeker.division()));
  if (row.seeker.state() == v1::SEEKER_STATE_CLOSED) {
    return absl::FailedPreconditionError("the seeker is closed");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> skills, NormalizeSkills(r.skills(), 50, "skills"));
  if (r.preferred_divisions_size() > 20) {
    return absl::InvalidArgumentError("preferred_divisions: at most 20");
  }
  for (const std::string& p : r.preferred_divisions()) {
    RETURN_IF_ERROR(ValidateDivisionPrefix(p, "preferred_divisions"));
  }
  if (r.min_monthly_wage() < 0 || r.min_monthly_wage() > 1000000) {
    return absl::InvalidArgumentError("min_monthly_wage: 0..1000000");
  }
  if (!v1::Education_IsValid(r.education())) return absl::InvalidArgumentError("education: unknown");
  v1::Seeker& s = row.seeker;
  s.clear_skills();
  for (std::string& t : skills) s.add_skills(std::move(t));
  s.set_education(r.education());
  *s.mutable_preferred_divisions() = r.preferred_divisions();
  s.set_min_monthly_wage(r.min_monthly_wage());
  RETURN_IF_ERROR(SaveSeeker(tx, now, row));
  *out = s;
  SetTimestamp(Micros(now), out->mutable_updated_at());
  return absl::OkStatus();
}

absl::Status PlacementLogic::GetSeeker(ReadTransaction& tx, const Caller& caller,
                                       absl::string_view case_id, const CaseScope* scope,
                                       v1::Seeker* out) const {
  ASSIGN_OR_RETURN(SeekerRow row, LoadSeekerInScope(tx, caller, case_id, scope));
  *out = std::move(row.seeker);
  return absl::OkStatus();
}

absl::Status PlacementLogic::ListSeekers(ReadTransaction& tx, const Caller& caller,
                                         const v1::ListSeekersRequest& request,
                                         v1::ListSeekersResponse* out) const {
  ASSIGN_OR_RETURN(std::string after, DecodeToken(request.page().page_token()));
  int limit = PageSize(request.page());
  SeekerFilter filter;
  filter.after_case_id = after;
  filter.division_prefix = ScopePrefix(caller);
  filter.state = request.state();
  filter.limit = limit + 1;
  ASSIGN_OR_RETURN(std::vector<SeekerRow> rows, SelectSeekers(tx, filter));
  // A bound: the service drops sealed and (for a township) other townships' cases after.
  ASSIGN_OR_RETURN(int64_t total, CountSeekers(tx, filter));
  out->mutable_page()->set_total_size(total);
  out->mutable_page()->set_total_size_is_bound(true);
  if (static_cast<int>(rows.size()) > limit) {
    out->mutable_page()->set_next_page_token(EncodeToken(rows[limit - 1].seeker.case_id()));
  }
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    *out->add_seekers() = std::move(rows[i].seeker);
  }
  return absl::OkStatus();
}

absl::Status PlacementLogic::ChangeSeeker(Transaction& tx, const Caller& caller, absl::Time now,
                                          SeekerChangeKind kind, absl::string_view case_id,
                                          const common::v1::Date& effective_on,
                                          absl::string_view reason, const CaseScope* scope,
                                          v1::SeekerChange* out,
                                          ProgramStatusRecord* status) const {
  // The isolation hand-off (DESIGN.md §5) suspends or resumes whoever is a seeker,
  // without asking first: for the service role, a person who is not a seeker, or whose
  // seeker record is closed, has nothing to change and the answer is OK, so the
  // hand-off is acknowledged instead of parked.
  const bool handoff = caller.role() == Role::kService && kind != SeekerChangeKind::kClose;
  out->Clear();
  absl::StatusOr<SeekerRow> loaded = LoadSeekerInScope(tx, caller, case_id, scope);
  if (handoff && absl::IsNotFound(loaded.status())) return absl::OkStatus();
  ASSIGN_OR_RETURN(SeekerRow row, std::move(loaded));
  v1::Seeker& s = row.seeker;
  RETURN_IF_ERROR(CheckActs(caller, s.division()));
  if (handoff && s.state() == v1::SEEKER_STATE_CLOSED) {
    *out->mutable_seeker() = s;
    return absl::OkStatus();
  }
  ChangeDating dating = ChangeDating::kRefuse;
  if (caller.role() == Role::kService) {
    dating = ChangeDating::kApplyLatestUpToToday;
  } else if (kind != SeekerChangeKind::kClose) {
    dating = ChangeDating::kApplyLatest;  // an administrator suspending or resuming
  }
  ASSIGN_OR_RETURN(absl::CivilDay day, ChangeDate(effective_on, Today(now), s, dating));
  if (IsDateSet(effective_on) && day != DayOf(effective_on)) {
    log::Info("seeker_change_dated_later",
              {{"kind", kind == SeekerChangeKind::kSuspend  ? "suspend"
                        : kind == SeekerChangeKind::kResume ? "resume"
                                                            : "close"},
               {"requested", DayText(DayOf(effective_on))},
               {"applied", DayText(day)}});
  }
  bool reason_required = kind != SeekerChangeKind::kResume;
  RETURN_IF_ERROR(ValidateText(reason, 500, reason_required, "reason"));
  ASSIGN_OR_RETURN(int64_t open_id, LoadOpenPlacementId(tx, s.case_id()));
  bool changed = false;
  switch (kind) {
    case SeekerChangeKind::kSuspend:
      if (s.state() == v1::SEEKER_STATE_CLOSED) {
        return absl::FailedPreconditionError("the seeker is closed");
      }
      if (s.state() != v1::SEEKER_STATE_SUSPENDED) {
        row.resume_state = s.state();
        s.set_state(v1::SEEKER_STATE_SUSPENDED);
        if (open_id != 0) {
          RETURN_IF_ERROR(
              SavePlacementState(tx, open_id, v1::PLACEMENT_STATE_SUSPENDED, reason));
        }
        changed = true;
      }
      break;
    case SeekerChangeKind::kResume:
      if (s.state() == v1::SEEKER_STATE_CLOSED) {
        return absl::FailedPreconditionError("the seeker is closed");
      }
      if (s.state() == v1::SEEKER_STATE_SUSPENDED) {
        s.set_state(open_id != 0 ? v1::SEEKER_STATE_PLACED : v1::SEEKER_STATE_SEEKING);
        row.resume_state = 0;
        if (open_id != 0) {
          RETURN_IF_ERROR(SavePlacementState(tx, open_id, v1::PLACEMENT_STATE_ACTIVE, reason));
        }
        changed = true;
      }
      break;
    case SeekerChangeKind::kClose:
      if (s.state() != v1::SEEKER_STATE_CLOSED) {
        s.set_state(v1::SEEKER_STATE_CLOSED);
        if (open_id != 0) {
          RETURN_IF_ERROR(SavePlacementEnded(tx, open_id, day, std::string(reason)));
          // Checkpoints after the end lapse; one already due stays to be recorded.
          RETURN_IF_ERROR(LapseRetentionChecksDueAfter(tx, open_id, day));
        }
        changed = true;
      }
      break;
  }
  if (changed) {
    ToProtoDate(day, s.mutable_state_since());
    s.set_state_reason(std::string(reason));
    RETURN_IF_ERROR(SaveSeeker(tx, now, row));
    RETURN_IF_ERROR(SaveSeekerStatus(tx, now, s, status));
    SetTimestamp(Micros(now), s.mutable_updated_at());
  }
  *out->mutable_seeker() = s;
  if (open_id != 0) {
    ASSIGN_OR_RETURN(std::optional<v1::PlacementRecord> p, LoadPlacement(tx, open_id));
    if (p.has_value()) *out->mutable_placement() = *std::move(p);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- training

absl::Status PlacementLogic::RecordTraining(Transaction& tx, const Caller& caller, absl::Time now,
                                            const v1::RecordTrainingRequest& r,
                                            const CaseScope* scope,
                                            const EligibilityDecision& eligibility,
                                            v1::Training* out, ProgramStatusRecord* status) const {
  ASSIGN_OR_RETURN(SeekerRow row, LoadSeekerInScope(tx, caller, r.case_id(), scope));
  v1::Seeker& s = row.seeker;
  RETURN_IF_ERROR(CheckActs(caller, s.division()));
  RETURN_IF_ERROR(ValidateText(r.course(), 200, true, "course"));
  RETURN_IF_ERROR(ValidateText(r.provider(), 200, true, "provider"));
  RETURN_IF_ERROR(ValidateText(r.certificate(), 200, false, "certificate"));
  if (r.outcome() == v1::TRAINING_OUTCOME_UNSPECIFIED || !v1::TrainingOutcome_IsValid(r.outcome())) {
    return absl::InvalidArgumentError("outcome: required");
  }
  ASSIGN_OR_RETURN(absl::CivilDay start, RequiredDate(r.start_on(), "start_on"));
  if (start > Today(now)) return absl::InvalidArgumentError("start_on: in the future");
  if (start < DayOf(s.consent().given_on())) {
    return absl::InvalidArgumentError("start_on: before the consent was given");
  }
  if (IsDateSet(r.end_on())) {
    ASSIGN_OR_RETURN(absl::CivilDay end, RequiredDate(r.end_on(), "end_on"));
    if (end < start) return absl::InvalidArgumentError("end_on: before start_on");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> gained,
                   NormalizeSkills(r.skills_gained(), 20, "skills_gained"));
  if (s.state() == v1::SEEKER_STATE_CLOSED) {
    return absl::FailedPreconditionError("the seeker is closed");
  }
  if (eligibility.eligibility == v1::ELIGIBILITY_UNSPECIFIED) {
    return absl::FailedPreconditionError("not eligible for vocational training");
  }
  bool during_isolation = eligibility.eligibility == v1::ELIGIBILITY_TRAINING_ONLY;
  v1::Training t;
  t.set_case_id(s.case_id());
  t.set_course(r.course());
  t.set_provider(r.provider());
  *t.mutable_start_on() = r.start_on();
  if (IsDateSet(r.end_on())) *t.mutable_end_on() = r.end_on();
  t.set_outcome(r.outcome());
  t.set_certificate(r.certificate());
  for (const std::string& g : gained) t.add_skills_gained(g);
  t.set_during_isolation(during_isolation);
  ASSIGN_OR_RETURN(int64_t training_id, InsertTraining(tx, now, t));
  t.set_training_id(training_id);
  SetTimestamp(Micros(now), t.mutable_recorded_at());
  *out = std::move(t);
  // A completed course adds its skills; the eligibility seen now is kept.
  if (r.outcome() == v1::TRAINING_OUTCOME_COMPLETED) {
    for (const std::string& g : gained) {
      if (std::find(s.skills().begin(), s.skills().end(), g) == s.skills().end()) s.add_skills(g);
    }
  }
  s.set_eligibility(eligibility.eligibility);
  s.set_eligibility_basis(eligibility.basis);
  RETURN_IF_ERROR(SaveSeeker(tx, now, row));
  return SaveSeekerStatus(tx, now, s, status);
}

absl::Status PlacementLogic::ListTrainings(ReadTransaction& tx, const Caller& caller,
                                           absl::string_view case_id, const CaseScope* scope,
                                           v1::ListTrainingsResponse* out) const {
  ASSIGN_OR_RETURN(SeekerRow row, LoadSeekerInScope(tx, caller, case_id, scope));
  ASSIGN_OR_RETURN(std::vector<v1::Training> trainings,
                   SelectTrainings(tx, row.seeker.case_id()));
  for (v1::Training& t : trainings) *out->add_trainings() = std::move(t);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- postings

absl::Status PlacementLogic::CreatePosting(Transaction& tx, const Caller& caller, absl::Time now,
                                           const v1::Posting& in, v1::Posting* out) const {
  v1::Posting p = in;
  p.set_posting_id(0);
  p.set_source(v1::POSTING_SOURCE_EMPLOYER);
  p.clear_source_record_id();
  if (IsEmployer(caller) && p.employer_credit_code() != caller.organization()) {
    return absl::PermissionDeniedError("an employer may post only for itself");
  }
  RETURN_IF_ERROR(ValidateCreditCode(p.employer_credit_code(), "posting.employer_credit_code"));
  std::vector<std::string> skills;
  absl::Status valid = ValidatePostingFields(p, &skills);
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat("posting.", valid.message()));
  RETURN_IF_ERROR(CheckInJurisdiction(caller, p.division(), "posting"));
  ASSIGN_OR_RETURN(std::optional<v1::Employer> e, LoadEmployer(tx, p.employer_credit_code()));
  if (!e.has_value()) return CaseNotFound("employer");
  if (p.employer_name().empty()) p.set_employer_name(e->name());
  p.clear_skills();
  for (std::string& t : skills) p.add_skills(std::move(t));
  ASSIGN_OR_RETURN(int64_t posting_id, InsertPosting(tx, now, p, ContentHash(p)));
  p.set_posting_id(posting_id);
  *out = std::move(p);
  return absl::OkStatus();
}

absl::Status PlacementLogic::GetPosting(ReadTransaction& tx, const Caller& caller,
                                        int64_t posting_id, v1::Posting* out) const {
  ASSIGN_OR_RETURN(*out, LoadPostingInScope(tx, caller, posting_id));
  return absl::OkStatus();
}

absl::Status PlacementLogic::ListPostings(ReadTransaction& tx, const Caller& caller,
                                          const v1::ListPostingsRequest& request,
                                          v1::ListPostingsResponse* out) const {
  ASSIGN_OR_RETURN(int64_t after, DecodeIdToken(request.page()));
  int limit = PageSize(request.page());
  PostingFilter filter;
  filter.after_id = after;
  filter.employer = request.employer_credit_code();
  filter.division_prefix = ScopePrefix(caller);
  if (IsEmployer(caller)) {
    filter.employer = caller.organization();
    filter.division_prefix = "";
  }
  if (IsDateSet(request.open_on())) {
    ASSIGN_OR_RETURN(filter.open_on, RequiredDate(request.open_on(), "open_on"));
  }
  filter.limit = limit + 1;
  ASSIGN_OR_RETURN(std::vector<v1::Posting> rows, SelectPostings(tx, filter));
  ASSIGN_OR_RETURN(int64_t total, CountPostings(tx, filter));
  out->mutable_page()->set_total_size(total);
  if (static_cast<int>(rows.size()) > limit) {
    out->mutable_page()->set_next_page_token(
        EncodeToken(absl::StrCat(rows[limit - 1].posting_id())));
  }
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    *out->add_postings() = std::move(rows[i]);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- imports

bool PlacementLogic::ValidatePostingRow(const Caller& caller, const v1::PostingRow& row,
                                        absl::CivilDay today, PostingRowToWrite* out,
                                        v1::RowError* error) const {
  (void)today;
  error->set_record_id(row.record_id().size() <= 64 ? row.record_id() : "");
  absl::Status s = ValidateRecordId(row.record_id());
  v1::Posting& p = out->posting;
  p.Clear();
  if (s.ok() && !row.employer_credit_code().empty()) {
    s = ValidateCreditCode(row.employer_credit_code(), "employer_credit_code");
  }
  if (s.ok()) {
    p.set_source(v1::POSTING_SOURCE_LABOR_BUREAU);
    p.set_source_record_id(row.record_id());
    p.set_employer_credit_code(row.employer_credit_code());
    p.set_employer_name(row.employer_name());
    p.set_title(row.title());
    p.set_division(row.division());
    p.set_wage_min(row.wage_min());
    p.set_wage_max(row.wage_max());
    *p.mutable_skills() = row.skills();
    p.set_openings(row.openings());
    *p.mutable_valid_from() = row.valid_from();
    *p.mutable_valid_until() = row.valid_until();
    std::vector<std::string> skills;
    s = ValidatePostingFields(p, &skills);
    if (s.ok()) {
      p.clear_skills();
      for (std::string& t : skills) p.add_skills(std::move(t));
    }
  }
  if (s.ok() && !caller.Covers(row.division())) {
    s = absl::InvalidArgumentError("division: outside the caller's jurisdiction");
  }
  if (!s.ok()) {
    ToRowError(s, error);
    return false;
  }
  out->content_hash = ContentHash(p);
  return true;
}

bool PlacementLogic::ValidateRegistrationRow(const Caller& caller, const v1::RegistrationRow& row,
                                             absl::CivilDay today, RegistrationRowToWrite* out,
                                             v1::RowError* error) const {
  error->set_record_id(row.record_id().size() <= 64 ? row.record_id() : "");
  absl::Status s = ValidateRecordId(row.record_id());
  if (s.ok() && (row.kind() == v1::REGISTRATION_KIND_UNSPECIFIED ||
                 !v1::RegistrationKind_IsValid(row.kind()))) {
    s = absl::InvalidArgumentError("kind: required");
  }
  absl::StatusOr<ResidentId> id = absl::InvalidArgumentError("unset");
  if (s.ok()) {
    id = ResidentId::Parse(row.resident_id_number(), today);
    // The parser's messages never contain the number.
    if (!id.ok()) s = absl::InvalidArgumentError("resident_id_number: not a valid ID number");
  }
  if (s.ok() && (row.kind() == v1::REGISTRATION_KIND_EMPLOYMENT ||
                 !row.employer_credit_code().empty())) {
    s = ValidateCreditCode(row.employer_credit_code(), "employer_credit_code");
  }
  if (s.ok() && !ValidateDivisionCode(row.division()).ok()) {
    s = absl::InvalidArgumentError("division: must be a 6-digit county code");
  }
  if (s.ok() && !caller.Covers(row.division())) {
    s = absl::InvalidArgumentError("division: outside the caller's jurisdiction");
  }
  absl::StatusOr<absl::CivilDay> registered = RequiredDate(row.registered_on(), "registered_on");
  if (s.ok() && !registered.ok()) s = registered.status();
  if (s.ok() && *registered > today) s = absl::InvalidArgumentError("registered_on: in the future");
  if (!s.ok()) {
    ToRowError(s, error);
    return false;
  }
  out->record_id = row.record_id();
  out->kind = row.kind();
  out->id_hash = IdHash(id->normalized());
  out->employer = row.employer_credit_code();
  out->division = row.division();
  out->registered_on = DayText(*registered);
  out->content_hash = Sha256(absl::StrCat(out->kind, "|", out->id_hash, "|", out->employer, "|",
                                          out->division, "|", out->registered_on));
  return true;
}

absl::Status PlacementLogic::ClassifyPostingRows(ReadTransaction& tx,
                                                 const std::vector<PostingRowToWrite>& rows,
                                                 ImportCounts* counts) const {
  ImportCounts n;
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const PostingRowToWrite& r : rows) ids.push_back(r.posting.source_record_id());
  ASSIGN_OR_RETURN(auto stored, LoadImportedPostings(tx, ids));
  for (const PostingRowToWrite& r : rows) {
    auto found = stored.find(r.posting.source_record_id());
    if (found == stored.end()) {
      ++n.imported;
    } else if (found->second.content_hash == r.content_hash) {
      ++n.unchanged;
    } else {
      ++n.updated;
    }
  }
  *counts = n;
  return absl::OkStatus();
}

absl::Status PlacementLogic::ApplyPostingRows(Transaction& tx, absl::Time now,
                                              const std::vector<PostingRowToWrite>& rows,
                                              ImportCounts* counts) const {
  // Row by row as the batch reads, in few statements: what is stored is looked up
  // at once, new rows are inserted together at the end, in order. A record id met
  // again in the batch sees what the earlier row left: unchanged if the same, else
  // its content replaced (before insertion, if the earlier row was new).
  ImportCounts n;
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const PostingRowToWrite& r : rows) ids.push_back(r.posting.source_record_id());
  ASSIGN_OR_RETURN(auto stored, LoadImportedPostings(tx, ids));
  std::vector<ImportedPostingToInsert> fresh;
  std::map<std::string, size_t> fresh_index;  // record id -> position in `fresh`
  for (const PostingRowToWrite& r : rows) {
    const v1::Posting& p = r.posting;
    auto found = stored.find(p.source_record_id());
    auto pending = fresh_index.find(p.source_record_id());
    if (found != stored.end()) {
      if (found->second.content_hash == r.content_hash) {
        ++n.unchanged;
      } else {
        RETURN_IF_ERROR(
            UpdateImportedPosting(tx, now, found->second.posting_id, p, r.content_hash));
        found->second.content_hash = r.content_hash;
        ++n.updated;
      }
    } else if (pending != fresh_index.end()) {
      if (*fresh[pending->second].content_hash == r.content_hash) {
        ++n.unchanged;
      } else {
        fresh[pending->second] = {&p, &r.content_hash};
        ++n.updated;
      }
    } else {
      fresh_index.emplace(p.source_record_id(), fresh.size());
      fresh.push_back({&p, &r.content_hash});
      ++n.imported;
    }
  }
  RETURN_IF_ERROR(InsertImportedPostings(tx, now, fresh));
  *counts = n;
  return absl::OkStatus();
}

absl::Status PlacementLogic::ClassifyRegistrationRows(
    ReadTransaction& tx, const std::vector<RegistrationRowToWrite>& rows,
    ImportCounts* counts) const {
  ImportCounts n;
  for (const RegistrationRowToWrite& r : rows) {
    ASSIGN_OR_RETURN(std::optional<std::string> found, LoadLaborRegistrationHash(tx, r.record_id));
    if (!found.has_value()) {
      ++n.imported;
    } else if (*found == r.content_hash) {
      ++n.unchanged;
    } else {
      ++n.updated;
    }
  }
  *counts = n;
  return absl::OkStatus();
}

absl::Status PlacementLogic::ApplyRegistrationRows(Transaction& tx, absl::Time now,
                                                   const std::vector<RegistrationRowToWrite>& rows,
                                                   ImportCounts* counts) const {
  ImportCounts n;
  for (const RegistrationRowToWrite& r : rows) {
    ASSIGN_OR_RETURN(std::optional<std::string> found, LoadLaborRegistrationHash(tx, r.record_id));
    if (found.has_value() && *found == r.content_hash) {
      ++n.unchanged;
      continue;
    }
    RETURN_IF_ERROR(SaveLaborRegistration(tx, now, r));
    if (!found.has_value()) {
      ++n.imported;
    } else {
      ++n.updated;
    }
  }
  *counts = n;
  return absl::OkStatus();
}

// ---------------------------------------------------------------- matching

absl::Status PlacementLogic::MatchPostings(ReadTransaction& tx, const Caller& caller,
                                           const v1::MatchPostingsRequest& request,
                                           absl::CivilDay as_of, const CaseScope* scope,
                                           const EligibilityDecision& eligibility,
                                           v1::MatchPostingsResponse* out) const {
  ASSIGN_OR_RETURN(SeekerRow row, LoadSeekerInScope(tx, caller, request.case_id(), scope));
  const v1::Seeker& s = row.seeker;
  if (s.state() != v1::SEEKER_STATE_SEEKING) {
    return absl::FailedPreconditionError("the seeker is not seeking work");
  }
  if (eligibility.eligibility != v1::ELIGIBILITY_PLACEMENT) {
    return absl::FailedPreconditionError("not eligible for placement");
  }
  int max = request.max_results() <= 0 ? kDefaultMatches
                                       : std::min(request.max_results(), kMaxMatches);
  MatchProfile profile{s.division(),
                       std::vector<std::string>(s.skills().begin(), s.skills().end()),
                       std::vector<std::string>(s.preferred_divisions().begin(),
                                                s.preferred_divisions().end()),
                       s.min_monthly_wage()};
  struct Candidate {
    v1::Posting posting;
    MatchScore score;
  };
  std::vector<Candidate> candidates;
  RETURN_IF_ERROR(ScanOpenPostings(
      tx, ScopePrefix(caller), as_of, [&](const v1::Posting& posting, v1::EmployerKind kind) {
        Candidate c;
        c.posting = posting;
        c.score = ScoreMatch(profile, c.posting, kind);
        candidates.push_back(std::move(c));
        return true;
      }));
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.score.score != b.score.score) return a.score.score > b.score.score;
    return a.posting.posting_id() < b.posting.posting_id();
  });
  for (size_t i = 0; i < candidates.size() && static_cast<int>(i) < max; ++i) {
    v1::PostingMatch* m = out->add_matches();
    *m->mutable_posting() = std::move(candidates[i].posting);
    m->set_score(candidates[i].score.score);
    for (std::string& reason : candidates[i].score.reasons) m->add_reasons(std::move(reason));
  }
  return absl::OkStatus();
}

absl::Status PlacementLogic::MatchSeekers(ReadTransaction& tx, const Caller& caller,
                                          const v1::MatchSeekersRequest& request,
                                          absl::CivilDay today,
                                          v1::MatchSeekersResponse* out) const {
  (void)today;
  ASSIGN_OR_RETURN(v1::Posting posting, LoadPostingInScope(tx, caller, request.posting_id()));
  ASSIGN_OR_RETURN(v1::EmployerKind kind, LoadEmployerKind(tx, posting.employer_credit_code()));
  int max = request.max_results() <= 0 ? kDefaultMatches
                                       : std::min(request.max_results(), kMaxMatches);
  struct Candidate {
    v1::Seeker seeker;
    MatchScore score;
  };
  std::vector<Candidate> candidates;
  RETURN_IF_ERROR(ScanSeekers(
      tx, ScopePrefix(caller), v1::SEEKER_STATE_SEEKING, v1::ELIGIBILITY_PLACEMENT,
      [&](const v1::Seeker& seeker) {
        Candidate c;
        c.seeker = seeker;
        // Employers see only seekers who agreed to be shown to employers.
        if (IsEmployer(caller) && !HasScope(c.seeker, v1::CONSENT_SCOPE_SHARE_WITH_EMPLOYERS)) {
          return true;
        }
        MatchProfile profile{c.seeker.division(),
                             std::vector<std::string>(c.seeker.skills().begin(),
                                                      c.seeker.skills().end()),
                             std::vector<std::string>(c.seeker.preferred_divisions().begin(),
                                                      c.seeker.preferred_divisions().end()),
                             c.seeker.min_monthly_wage()};
        c.score = ScoreMatch(profile, posting, kind);
        candidates.push_back(std::move(c));
        return true;
      }));
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.score.score != b.score.score) return a.score.score > b.score.score;
    return a.seeker.case_id() < b.seeker.case_id();
  });
  for (size_t i = 0; i < candidates.size() && static_cast<int>(i) < max; ++i) {
    v1::SeekerMatch* m = out->add_matches();
    const v1::Seeker& s = candidates[i].seeker;
    v1::SeekerSummary* sum = m->mutable_seeker();
    sum->set_case_id(s.case_id());
    sum->set_division(s.division());
    *sum->mutable_skills() = s.skills();
    sum->set_education(s.education());
    *sum->mutable_preferred_divisions() = s.preferred_divisions();
    sum->set_min_monthly_wage(s.min_monthly_wage());
    sum->set_seeker_ref(SeekerRef(posting.posting_id(), s.case_id()));
    m->set_score(candidates[i].score.score);
    for (std::string& reason : candidates[i].score.reasons) m->add_reasons(std::move(reason));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- placements

absl::Status PlacementLogic::CreatePlacement(Transaction& tx, const Caller& caller, absl::Time now,
                                             const v1::CreatePlacementRequest& r,
                                             const CaseScope* scope,
                                             const EligibilityDecision& eligibility,
                                             v1::PlacementRecord* out,
                                             ProgramStatusRecord* status) const {
  ASSIGN_OR_RETURN(SeekerRow row, LoadSeekerInScope(tx, caller, r.case_id(), scope));
  v1::Seeker& s = row.seeker;
  RETURN_IF_ERROR(CheckActs(caller, s.division()));
  absl::CivilDay today = Today(now);
  if (r.mode() == v1::PLACEMENT_MODE_UNSPECIFIED || !v1::PlacementMode_IsValid(r.mode())) {
    return absl::InvalidArgumentError("mode: required");
  }
  ASSIGN_OR_RETURN(absl::CivilDay start, RequiredDate(r.contract_start(), "contract_start"));
  if (start > legal_time::DeadlineAfterMonths(today, 12)) {
    return absl::InvalidArgumentError("contract_start: more than a year ahead");
  }
  if (start < DayOf(s.consent().given_on())) {
    return absl::InvalidArgumentError("contract_start: before the consent was given");
  }
  std::optional<absl::CivilDay> end;
  if (IsDateSet(r.contract_end())) {
    ASSIGN_OR_RETURN(end, RequiredDate(r.contract_end(), "contract_end"));
    if (!(*end > start)) return absl::InvalidArgumentError("contract_end: not after contract_start");
  }
  bool self_employed = r.mode() == v1::PLACEMENT_MODE_SELF_EMPLOYMENT;
  if (!self_employed || !r.employer_credit_code().empty()) {
    RETURN_IF_ERROR(ValidateCreditCode(r.employer_credit_code(), "employer_credit_code"));
    ASSIGN_OR_RETURN(std::optional<v1::Employer> e, LoadEmployer(tx, r.employer_credit_code()));
    if (!e.has_value()) return CaseNotFound("employer");
  }
  // A person in isolation is never placed (DESIGN.md §3): the status view decides.
  if (eligibility.eligibility != v1::ELIGIBILITY_PLACEMENT) {
    return absl::FailedPreconditionError(
        "a person in compulsory isolation is not placed (vocational training only)");
  }
  if (s.state() != v1::SEEKER_STATE_SEEKING) {
    return absl::FailedPreconditionError(s.state() == v1::SEEKER_STATE_PLACED
                                             ? "the seeker already has an open placement"
                                             : "the seeker is not seeking work");
  }
  if (r.posting_id() != 0) {
    ASSIGN_OR_RETURN(std::optional<v1::Posting> posting, LoadPosting(tx, r.posting_id()));
    if (!posting.has_value()) return CaseNotFound("posting");
    if (posting->employer_credit_code() != r.employer_credit_code()) {
      return absl::FailedPreconditionError("the posting belongs to another employer");
    }
    if (posting->openings() <= 0) {
      return absl::FailedPreconditionError("the posting has no openings left");
    }
    RETURN_IF_ERROR(TakePostingOpening(tx, r.posting_id()));
  }
  v1::PlacementRecord placement;
  placement.set_case_id(s.case_id());
  placement.set_division(s.division());
  placement.set_employer_credit_code(r.employer_credit_code());
  placement.set_posting_id(r.posting_id());
  placement.set_mode(r.mode());
  ToProtoDate(start, placement.mutable_contract_start());
  if (end.has_value()) ToProtoDate(*end, placement.mutable_contract_end());
  placement.set_contract_one_year_or_more(ContractOneYearOrMore(start, end));
  placement.set_state(v1::PLACEMENT_STATE_ACTIVE);
  ASSIGN_OR_RETURN(int64_t id, InsertPlacement(tx, now, placement));
  RETURN_IF_ERROR(InsertRetentionCheckpoints(tx, id, RetentionCheckpoints(start)));
  s.set_state(v1::SEEKER_STATE_PLACED);
  ToProtoDate(std::min(start, today), s.mutable_state_since());
  s.set_state_reason("");
  s.set_eligibility(eligibility.eligibility);
  s.set_eligibility_basis(eligibility.basis);
  RETURN_IF_ERROR(SaveSeeker(tx, now, row));
  RETURN_IF_ERROR(SaveSeekerStatus(tx, now, s, status));
  ASSIGN_OR_RETURN(std::optional<v1::PlacementRecord> p, LoadPlacement(tx, id));
  if (!p.has_value()) return absl::InternalError("placement vanished");
  *out = *std::move(p);
  return absl::OkStatus();
}

absl::Status PlacementLogic::RecordRetention(Transaction& tx, const Caller& caller,
                                             absl::Time now,
                                             const v1::RecordRetentionRequest& r,
                                             const CaseScope* scope,
                                             v1::PlacementRecord* out,
                                             ProgramStatusRecord* status) const {
  ASSIGN_OR_RETURN(v1::PlacementRecord p,
                   LoadPlacementInScope(tx, caller, r.placement_id(), scope));
  // An employer records for its own placements; anyone else only for the seeker's county.
  if (!IsEmployer(caller)) RETURN_IF_ERROR(CheckActs(caller, p.division()));
  if (!IsRetentionMonths(r.months())) {
    return absl::InvalidArgumentError("months: must be 1, 3, 6 or 12");
  }
  if (r.outcome() != v1::RETENTION_OUTCOME_STILL_EMPLOYED &&
      r.outcome() != v1::RETENTION_OUTCOME_LEFT && r.outcome() != v1::RETENTION_OUTCOME_UNKNOWN) {
    return absl::InvalidArgumentError("outcome: STILL_EMPLOYED, LEFT or UNKNOWN");
  }
  ASSIGN_OR_RETURN(absl::CivilDay checked, RequiredDate(r.checked_on(), "checked_on"));
  absl::CivilDay today = Today(now);
  if (checked > today) return absl::InvalidArgumentError("checked_on: in the future");
  const v1::RetentionCheckpoint* cp = nullptr;
  for (const v1::RetentionCheckpoint& c : p.checkpoints()) {
    if (c.months() == r.months()) cp = &c;
  }
  if (cp == nullptr) return CaseNotFound("checkpoint");
  if (checked < DayOf(cp->due_on()) - kRetentionEarlyDays) {
    return absl::InvalidArgumentError("checked_on: more than 7 days before the checkpoint");
  }
  // Retention is an employment fact: recorded on a suspended placement too, so an
  // employer (who sees it as active) is never refused in a way that would tell it.
  if (p.state() == v1::PLACEMENT_STATE_ENDED) {
    return absl::FailedPreconditionError("the placement has ended");
  }
  if (cp->outcome() != v1::RETENTION_OUTCOME_UNSPECIFIED) {
    return absl::FailedPreconditionError("the checkpoint is already recorded");
  }
  RETURN_IF_ERROR(SaveRetentionOutcome(tx, p.placement_id(), r.months(), r.outcome(), checked));
  if (r.outcome() == v1::RETENTION_OUTCOME_LEFT) {
    RETURN_IF_ERROR(SavePlacementEnded(tx, p.placement_id(), checked, std::nullopt));
    // The later checkpoints lapse; an earlier one left unrecorded stays so.
    RETURN_IF_ERROR(LapseRetentionChecksAfterMonths(tx, p.placement_id(), r.months()));
  }
  ASSIGN_OR_RETURN(std::optional<SeekerRow> seeker, LoadSeeker(tx, p.case_id()));
  if (seeker.has_value()) {
    if (r.outcome() == v1::RETENTION_OUTCOME_LEFT &&
        seeker->seeker.state() == v1::SEEKER_STATE_PLACED) {
      seeker->seeker.set_state(v1::SEEKER_STATE_SEEKING);
      ToProtoDate(checked, seeker->seeker.mutable_state_since());
      RETURN_IF_ERROR(SaveSeeker(tx, now, *seeker));
    }
    RETURN_IF_ERROR(SaveSeekerStatus(tx, now, seeker->seeker, status));
  }
  ASSIGN_OR_RETURN(std::optional<v1::PlacementRecord> updated, LoadPlacement(tx, p.placement_id()));
  if (!updated.has_value()) return absl::InternalError("placement vanished");
  *out = *std::move(updated);
  return absl::OkStatus();
}

absl::Status PlacementLogic::GetPlacement(ReadTransaction& tx, const Caller& caller,
                                          int64_t placement_id, const CaseScope* scope,
                                          v1::PlacementRecord* out) const {
  ASSIGN_OR_RETURN(*out, LoadPlacementInScope(tx, caller, placement_id, scope));
  return absl::OkStatus();
}

absl::StatusOr<std::string> PlacementLogic::PlacementCaseId(ReadTransaction& tx,
                                                            int64_t placement_id) const {
  return LoadPlacementCaseId(tx, placement_id);
}

absl::Status PlacementLogic::ListPlacements(ReadTransaction& tx, const Caller& caller,
                                            const v1::ListPlacementsRequest& request,
                                            const CaseScope* scope,
                                            v1::ListPlacementsResponse* out) const {
  ASSIGN_OR_RETURN(int64_t after, DecodeIdToken(request.page()));
  int limit = PageSize(request.page());
  // A bound on every answer, the early empty ones too, so that no answer's shape tells
  // a case the caller does not see from one never issued.
  out->mutable_page()->set_total_size_is_bound(true);
  PlacementFilter filter;
  filter.after_id = after;
  filter.employer = IsEmployer(caller) ? caller.organization() : "";
  filter.division_prefix = IsEmployer(caller) ? "" : ScopePrefix(caller);
  if (!request.case_id().empty()) {
    // Labor bureau and employer tokens never handle case ids: a filter by one would
    // tell them whether a person has a placement (禁毒法 Art 52, 70).
    if (IsOutsideRole(caller)) {
      return absl::PermissionDeniedError(
          "case_id: labor bureau and employer tokens do not filter by case");
    }
    ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(request.case_id()));
    filter.case_id = id.ToString();
    if (scope != nullptr) {
      // One case: none if the caller does not see it, as for a case never issued; all of
      // its placements for a caller of its household or residence place (双向管控), its
      // own county's for a caller who sees it as the executing side.
      if (scope->case_id != filter.case_id) return absl::OkStatus();
      if (scope->sealed && !MayReadSealed(caller.role())) return absl::OkStatus();
      if (CoversCase(caller, *scope)) filter.division_prefix = "";
    }
  }
  // For outside roles a suspended placement is an active one (PlacementState).
  int64_t state = request.state();
  int64_t also_state = state;
  if (IsOutsideRole(caller)) {
    if (state == v1::PLACEMENT_STATE_ACTIVE) also_state = v1::PLACEMENT_STATE_SUSPENDED;
    if (state == v1::PLACEMENT_STATE_SUSPENDED) return absl::OkStatus();
  }
  filter.state = state;
  filter.also_state = also_state;
  filter.limit = limit + 1;
  ASSIGN_OR_RETURN(std::vector<v1::PlacementRecord> rows, SelectPlacements(tx, filter));
  // A bound: the service drops sealed and (for a township) other townships' cases after.
  ASSIGN_OR_RETURN(int64_t total, CountPlacements(tx, filter));
  out->mutable_page()->set_total_size(total);
  if (static_cast<int>(rows.size()) > limit) {
    out->mutable_page()->set_next_page_token(
        EncodeToken(absl::StrCat(rows[limit - 1].placement_id())));
  }
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    *out->add_placements() = std::move(rows[i]);
  }
  return absl::OkStatus();
}

absl::Status PlacementLogic::ListDueRetentionChecks(ReadTransaction& tx, const Caller& caller,
                                                    absl::CivilDay as_of,
                                                    const common::v1::PageRequest& page,
                                                    v1::ListDueRetentionChecksResponse* out) const {
  ASSIGN_OR_RETURN(std::string key, DecodeToken(page.page_token()));
  // Key: "<due_on>|<placement_id>|<months>" of the last item.
  std::string after_due;
  int64_t after_id = 0, after_months = 0;
  if (!key.empty()) {
    std::vector<std::string> parts = absl::StrSplit(key, '|');
    if (parts.size() != 3 || !ParseDayText(parts[0]).has_value() ||
        !absl::SimpleAtoi(parts[1], &after_id) || !absl::SimpleAtoi(parts[2], &after_months)) {
      return absl::InvalidArgumentError("page.page_token: malformed");
    }
    after_due = parts[0];
  }
  int limit = PageSize(page);
  DueCheckFilter filter;
  filter.as_of = as_of;
  filter.employer = IsEmployer(caller) ? caller.organization() : "";
  filter.division_prefix = IsEmployer(caller) ? "" : ScopePrefix(caller);
  // A suspended placement has nothing due, except for an employer, whose view never
  // changes with a treatment fact (it sees the placement as active).
  filter.state = v1::PLACEMENT_STATE_ACTIVE;
  filter.also_state = IsOutsideRole(caller) ? v1::PLACEMENT_STATE_SUSPENDED
                                            : v1::PLACEMENT_STATE_ACTIVE;
  filter.after_due = after_due;
  filter.after_placement_id = after_id;
  filter.after_months = after_months;
  filter.limit = limit + 1;
  ASSIGN_OR_RETURN(std::vector<DueCheckRow> rows, SelectDueRetentionChecks(tx, filter));
  // A bound: the service drops sealed and (for a township) other townships' cases after.
  ASSIGN_OR_RETURN(int64_t total, CountDueRetentionChecks(tx, filter));
  out->mutable_page()->set_total_size(total);
  out->mutable_page()->set_total_size_is_bound(true);
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    const DueCheckRow& r = rows[i];
    v1::DueRetentionCheck* c = out->add_checks();
    c->set_placement_id(r.placement_id);
    c->set_case_id(r.case_id);
    c->set_employer_credit_code(r.employer);
    c->set_months(r.months);
    if (r.due_on.has_value()) ToProtoDate(*r.due_on, c->mutable_due_on());
    if (r.record_by.has_value()) ToProtoDate(*r.record_by, c->mutable_record_by());
    c->set_overdue(r.record_by.has_value() && legal_time::IsOverdue(*r.record_by, as_of));
  }
  if (static_cast<int>(rows.size()) > limit) {
    const DueCheckRow& last = rows[limit - 1];
    out->mutable_page()->set_next_page_token(
        EncodeToken(absl::StrCat(last.due_on.has_value() ? DayText(*last.due_on) : "", "|",
                                 last.placement_id, "|", last.months)));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- subsidies

absl::Status PlacementLogic::FileSubsidyClaim(Transaction& tx, const Caller& caller,
                                              absl::Time now,
                                              const v1::FileSubsidyClaimRequest& r,
                                              v1::SubsidyClaim* out) const {
  RETURN_IF_ERROR(ValidateCreditCode(r.employer_credit_code(), "employer_credit_code"));
  const v1::SubsidyTier* tier = nullptr;
  for (const v1::SubsidyTier& t : tiers_) {
    if (t.code() == r.tier()) tier = &t;
  }
  if (tier == nullptr) return absl::InvalidArgumentError("tier: not a configured tier");
  ASSIGN_OR_RETURN(auto period, Period(r.period_start(), r.period_end()));
  if (period.second > Today(now)) return absl::InvalidArgumentError("period_end: in the future");
  ASSIGN_OR_RETURN(std::optional<v1::Employer> e, LoadEmployer(tx, r.employer_credit_code()));
  bool visible = e.has_value() && (IsEmployer(caller) ? e->credit_code() == caller.organization()
                                                      : caller.Covers(e->division()));
  if (!visible) return CaseNotFound("employer");
  ASSIGN_OR_RETURN(std::vector<ClaimablePlacement> candidates,
                   SelectClaimablePlacements(tx, r.employer_credit_code(), period.first,
                                             period.second, r.tier()));
  v1::SubsidyClaim claim;
  for (const ClaimablePlacement& c : candidates) {
    if (!c.contract_start.has_value()) continue;
    if (!ContractLastsMonths(*c.contract_start, c.contract_end, tier->min_contract_months())) {
      continue;
    }
    std::optional<v1::RetentionOutcome> retained;
    if (tier->retained_months() > 0) {
      ASSIGN_OR_RETURN(retained,
                       LoadRetentionOutcome(tx, c.placement_id, tier->retained_months()));
    }
    if (!QualifiesForTier(*tier, *c.contract_start, c.contract_end, retained)) continue;
    claim.add_placement_ids(c.placement_id);
  }
  if (claim.placement_ids().empty()) {
    return absl::FailedPreconditionError("no placement qualifies for this tier in the period");
  }
  claim.set_employer_credit_code(r.employer_credit_code());
  claim.set_division(e->division());
  claim.set_tier(r.tier());
  ToProtoDate(period.first, claim.mutable_period_start());
  ToProtoDate(period.second, claim.mutable_period_end());
  claim.set_amount_fen(static_cast<int64_t>(claim.placement_ids_size()) *
                       tier->amount_per_placement_fen());
  claim.set_state(v1::CLAIM_STATE_FILED);
  ASSIGN_OR_RETURN(int64_t claim_id, InsertSubsidyClaim(tx, now, claim));
  ASSIGN_OR_RETURN(std::optional<v1::SubsidyClaim> filed, LoadSubsidyClaim(tx, claim_id));
  if (!filed.has_value()) return absl::InternalError("claim vanished");
  *out = *std::move(filed);
  return absl::OkStatus();
}

absl::Status PlacementLogic::DecideSubsidyClaim(Transaction& tx, const Caller& caller,
                                                absl::Time now,
                                                const v1::DecideSubsidyClaimRequest& r,
                                                v1::SubsidyClaim* out) const {
  RETURN_IF_ERROR(ValidateText(r.note(), 500, false, "note"));
  ASSIGN_OR_RETURN(std::optional<v1::SubsidyClaim> claim, LoadSubsidyClaim(tx, r.claim_id()));
  if (!claim.has_value()) return CaseNotFound("claim");
  v1::SubsidyClaim c = *std::move(claim);
  if (!caller.Covers(c.division())) return CaseNotFound("claim");
  if (c.state() != v1::CLAIM_STATE_FILED) {
    return absl::FailedPreconditionError("the claim is already decided");
  }
  v1::ClaimState state = r.approve() ? v1::CLAIM_STATE_APPROVED : v1::CLAIM_STATE_REJECTED;
  RETURN_IF_ERROR(SaveClaimDecision(tx, now, r.claim_id(), state, r.note()));
  c.set_state(state);
  c.set_decision_note(r.note());
  SetTimestamp(Micros(now), c.mutable_decided_at());
  *out = std::move(c);
  return absl::OkStatus();
}

absl::Status PlacementLogic::ListSubsidyClaims(ReadTransaction& tx, const Caller& caller,
                                               const v1::ListSubsidyClaimsRequest& request,
                                               v1::ListSubsidyClaimsResponse* out) const {
  ASSIGN_OR_RETURN(int64_t after, DecodeIdToken(request.page()));
  int limit = PageSize(request.page());
  ClaimFilter filter;
  filter.after_id = after;
  filter.employer = IsEmployer(caller) ? caller.organization() : "";
  filter.division_prefix = IsEmployer(caller) ? "" : ScopePrefix(caller);
  filter.state = request.state();
  filter.limit = limit + 1;
  ASSIGN_OR_RETURN(std::vector<v1::SubsidyClaim> rows, SelectSubsidyClaims(tx, filter));
  ASSIGN_OR_RETURN(int64_t total, CountSubsidyClaims(tx, filter));
  out->mutable_page()->set_total_size(total);
  if (static_cast<int>(rows.size()) > limit) {
    out->mutable_page()->set_next_page_token(EncodeToken(absl::StrCat(rows[limit - 1].claim_id())));
  }
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    *out->add_claims() = std::move(rows[i]);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- reconciliation

absl::Status PlacementLogic::SeekersMissingLaborIndex(ReadTransaction& tx, const Caller& caller,
                                                      int limit,
                                                      std::vector<std::string>* case_ids) const {
  ASSIGN_OR_RETURN(*case_ids, SelectSeekersMissingLaborIndex(tx, ScopePrefix(caller), limit));
  return absl::OkStatus();
}

absl::Status PlacementLogic::StoreLaborIndices(
    Transaction& tx, const std::vector<std::pair<std::string, std::string>>& indices) const {
  for (const auto& [case_id, index] : indices) {
    // Empty: the registry has none; kept so the backfill does not ask again.
    RETURN_IF_ERROR(SaveSeekerLaborIndex(tx, case_id, index));
  }
  return absl::OkStatus();
}

absl::Status PlacementLogic::ReconcileRetention(ReadTransaction& tx, const Caller& caller,
                                                absl::CivilDay as_of,
                                                const common::v1::PageRequest& page,
                                                v1::ReconcileRetentionResponse* out) const {
  // The page token is "placement_id:row", the first row not yet returned.
  ASSIGN_OR_RETURN(std::string key, DecodeToken(page.page_token()));
  int64_t from_id = 0;
  int64_t skip = 0;
  if (!key.empty()) {
    std::vector<std::string> parts = absl::StrSplit(key, ':');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &from_id) ||
        !absl::SimpleAtoi(parts[1], &skip) || from_id < 0 || skip < 0) {
      return absl::InvalidArgumentError("page.page_token: malformed");
    }
  }
  const int limit = PageSize(page);
  // A labor bureau sees only placements of seekers who consented to sharing with it.
  const bool bureau = caller.role() == Role::kLaborBureau;
  ToProtoDate(as_of, out->mutable_as_of());
  constexpr int kBatch = 200;
  int64_t cursor = from_id;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<ReconcileRow> rows,
                     SelectPlacementsToReconcile(tx, ScopePrefix(caller), as_of, cursor, kBatch));
    for (ReconcileRow& r : rows) {
      const int64_t id = r.placement.placement_id();
      cursor = id + 1;
      if (bureau && std::find(r.consent_scopes.begin(), r.consent_scopes.end(),
                              v1::CONSENT_SCOPE_SHARE_WITH_LABOR_BUREAU) ==
                        r.consent_scopes.end()) {
        continue;
      }
      // A placement is counted on the page that finishes it (a page may end inside one).
      const int64_t first = id == from_id ? skip : 0;
      const std::string& index = r.labor_index;
      if (index.empty()) {
        out->set_placements_examined(out->placements_examined() + 1);
        out->set_placements_without_index(out->placements_without_index() + 1);
        continue;
      }
      v1::PlacementRecord& p = r.placement;
      RETURN_IF_ERROR(LoadRetentionCheckpoints(tx, &p));
      // Not even the absence of a row may tell the bureau of a suspension: it is
      // reconciled as the active placement the bureau sees (PlacementState). The rows
      // keep the case id for the read audit; the service clears it from the reply.
      if (bureau && p.state() == v1::PLACEMENT_STATE_SUSPENDED) {
        p.set_state(v1::PLACEMENT_STATE_ACTIVE);
      }
      ASSIGN_OR_RETURN(std::vector<BureauRecord> records,
                       SelectLaborRegistrations(tx, index, as_of));
      std::vector<v1::RetentionDiscrepancy> found = ReconcilePlacement(p, records, as_of);
      for (int64_t i = first; i < static_cast<int64_t>(found.size()); ++i) {
        if (out->discrepancies_size() == limit) {
          out->mutable_page()->set_next_page_token(EncodeToken(absl::StrCat(id, ":", i)));
          return absl::OkStatus();
        }
        *out->add_discrepancies() = std::move(found[i]);
      }
      out->set_placements_examined(out->placements_examined() + 1);
    }
    if (static_cast<int>(rows.size()) < kBatch) break;
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- export and metrics

absl::Status PlacementLogic::ExportOutcomes(ReadTransaction& tx, const Caller& caller,
                                            absl::CivilDay start, absl::CivilDay end,
                                            int64_t after_id, int limit,
                                            v1::ExportOutcomesChunk* out,
                                            int64_t* last_id) const {
  ASSIGN_OR_RETURN(
      std::vector<v1::PlacementRecord> rows,
      SelectPlacementsStarting(tx, ScopePrefix(caller), start, end, after_id, limit));
  for (const v1::PlacementRecord& p : rows) {
    v1::PlacementOutcome* o = out->add_outcomes();
    o->set_placement_id(p.placement_id());
    o->set_division(p.division());
    o->set_employer_credit_code(p.employer_credit_code());
    o->set_mode(p.mode());
    *o->mutable_contract_start() = p.contract_start();
    if (p.has_contract_end()) *o->mutable_contract_end() = p.contract_end();
    o->set_contract_one_year_or_more(p.contract_one_year_or_more());
    o->set_state(p.state());
    if (p.has_ended_on()) *o->mutable_ended_on() = p.ended_on();
    *o->mutable_checkpoints() = p.checkpoints();
    *last_id = p.placement_id();
  }
  return absl::OkStatus();
}

absl::Status PlacementLogic::GetOutcomeMetrics(ReadTransaction& tx, const Caller& caller,
                                               const v1::GetOutcomeMetricsRequest& r,
                                               absl::CivilDay today,
                                               v1::OutcomeMetrics* out) const {
  (void)today;
  ASSIGN_OR_RETURN(auto period, Period(r.period_start(), r.period_end()));
  std::string prefix = ScopePrefix(caller);
  if (!r.division_prefix().empty()) {
    RETURN_IF_ERROR(ValidateDivisionPrefix(r.division_prefix(), "division_prefix"));
    std::string padded = r.division_prefix() + std::string(6 - r.division_prefix().size(), '0');
    // The prefix must lie inside the caller's jurisdiction.
    if (caller.jurisdiction() != kNationalJurisdiction &&
        (r.division_prefix().size() < caller.jurisdiction().size() || !caller.Covers(padded))) {
      return absl::InvalidArgumentError("division_prefix: outside the caller's jurisdiction");
    }
    prefix = r.division_prefix();
  }
  const absl::CivilDay from = period.first, to = period.second;
  ASSIGN_OR_RETURN(SeekerCounts seekers, CountSeekersRegistered(tx, prefix, from, to));
  out->set_seekers_registered(seekers.registered);
  out->set_seekers_placed(seekers.placed);
  out->set_placement_rate(out->seekers_registered() == 0
                              ? 0.0
                              : static_cast<double>(out->seekers_placed()) /
                                    static_cast<double>(out->seekers_registered()));
  ASSIGN_OR_RETURN(PlacementCounts placements, CountPlacementsStarting(tx, prefix, from, to));
  out->set_placements(placements.placements);
  out->set_contracts_one_year_or_more(placements.one_year_or_more);
  out->set_share_contracts_one_year_or_more(
      out->placements() == 0 ? 0.0
                             : static_cast<double>(out->contracts_one_year_or_more()) /
                                   static_cast<double>(out->placements()));
  for (int months : {6, 12}) {
    ASSIGN_OR_RETURN(auto outcomes, CountRetentionOutcomes(tx, prefix, from, to, months));
    int64_t kept = 0, left = 0, unknown = 0;
    for (const auto& [outcome, count] : outcomes) {
      switch (outcome) {
        case v1::RETENTION_OUTCOME_STILL_EMPLOYED: kept = count; break;
        case v1::RETENTION_OUTCOME_LEFT: left = count; break;
        case v1::RETENTION_OUTCOME_UNKNOWN: unknown = count; break;
        default: break;
      }
    }
    // A placement that ended before the checkpoint (left earlier) counts as not retained.
    ASSIGN_OR_RETURN(int64_t lapsed, CountLapsedAfterLeaving(tx, prefix, from, to, months));
    left += lapsed;
    double rate = kept + left == 0 ? 0.0 : static_cast<double>(kept) / static_cast<double>(kept + left);
    if (months == 6) {
      out->set_retained_6m(kept);
      out->set_left_6m(left);
      out->set_unknown_6m(unknown);
      out->set_retention_6m(rate);
    } else {
      out->set_retained_12m(kept);
      out->set_left_12m(left);
      out->set_unknown_12m(unknown);
      out->set_retention_12m(rate);
    }
  }
  return absl::OkStatus();
}

}  // namespace placement
}  // namespace pathway
