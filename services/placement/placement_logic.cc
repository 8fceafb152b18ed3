#include "services/placement/placement_logic.h"

#include <openssl/sha.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/jurisdiction.h"
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

std::string JoinTags(const std::vector<std::string>& tags) { return absl::StrJoin(tags, ","); }

std::vector<std::string> SplitTags(const std::string& text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, ',');
}

void SetDate(const std::string& text, common::v1::Date* out) {
  std::optional<absl::CivilDay> d = ParseDayText(text);
  if (d.has_value()) ToProtoDate(*d, out);
}

Value NullableText(const std::string& s) {
  if (s.empty()) return std::monostate();
  return s;
}

// SQL LIKE pattern for the caller's jurisdiction ("%" for national).
std::string ScopePattern(const Caller& caller) {
  if (caller.jurisdiction() == kNationalJurisdiction) return "%";
  return caller.jurisdiction() + "%";
}

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

// ---------------------------------------------------------------- rows

constexpr char kSeekerCols[] =
    "case_id, division, state, eligibility, eligibility_basis, consent_on, consent_scopes, "
    "skills, education, preferred, min_wage, registered_on, state_since, state_reason, "
    "resume_state, updated_at";

struct SeekerRow {
  v1::Seeker seeker;
  int resume_state = 0;
};

SeekerRow SeekerFromRow(const Row& r) {
  SeekerRow out;
  v1::Seeker& s = out.seeker;
  s.set_case_id(r.GetString(0));
  s.set_division(r.GetString(1));
  s.set_state(static_cast<v1::SeekerState>(r.GetInt(2)));
  s.set_eligibility(static_cast<v1::Eligibility>(r.GetInt(3)));
  s.set_eligibility_basis(r.GetString(4));
  SetDate(r.GetString(5), s.mutable_consent()->mutable_given_on());
  for (const std::string& sc : SplitTags(r.GetString(6))) {
    int v = 0;
    if (absl::SimpleAtoi(sc, &v)) s.mutable_consent()->add_scopes(static_cast<v1::ConsentScope>(v));
  }
  for (std::string& t : SplitTags(r.GetString(7))) s.add_skills(std::move(t));
  s.set_education(static_cast<v1::Education>(r.GetInt(8)));
  for (std::string& t : SplitTags(r.GetString(9))) s.add_preferred_divisions(std::move(t));
  s.set_min_monthly_wage(static_cast<int32_t>(r.GetInt(10)));
  SetDate(r.GetString(11), s.mutable_registered_on());
  SetDate(r.GetString(12), s.mutable_state_since());
  s.set_state_reason(r.GetString(13));
  out.resume_state = static_cast<int>(r.GetInt(14));
  SetTimestamp(r.GetInt(15), s.mutable_updated_at());
  return out;
}

absl::StatusOr<std::optional<SeekerRow>> LoadSeeker(ReadTransaction& tx, absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kSeekerCols, " FROM seekers WHERE case_id = ?"),
                            {std::string(case_id)}));
  if (rows.empty()) return std::optional<SeekerRow>();
  return std::optional<SeekerRow>(SeekerFromRow(rows[0]));
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

absl::Status StoreSeeker(Transaction& tx, absl::Time now, const SeekerRow& row) {
  const v1::Seeker& s = row.seeker;
  std::vector<std::string> scopes;
  for (int sc : s.consent().scopes()) scopes.push_back(absl::StrCat(sc));
  auto day = [](const common::v1::Date& d) {
    return IsSet(d) ? DayText(absl::CivilDay(d.year(), d.month(), d.day())) : std::string();
  };
  return tx.Exec(
      "INSERT INTO seekers(case_id, division, state, eligibility, eligibility_basis, consent_on, "
      "consent_scopes, skills, education, preferred, min_wage, registered_on, state_since, "
      "state_reason, resume_state, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
      "ON CONFLICT(case_id) DO UPDATE SET division = excluded.division, state = excluded.state, "
      "eligibility = excluded.eligibility, eligibility_basis = excluded.eligibility_basis, "
      "consent_on = excluded.consent_on, consent_scopes = excluded.consent_scopes, "
      "skills = excluded.skills, education = excluded.education, preferred = excluded.preferred, "
      "min_wage = excluded.min_wage, registered_on = excluded.registered_on, "
      "state_since = excluded.state_since, state_reason = excluded.state_reason, "
      "resume_state = excluded.resume_state, updated_at = excluded.updated_at",
      {s.case_id(), s.division(), static_cast<int64_t>(s.state()),
       static_cast<int64_t>(s.eligibility()), s.eligibility_basis(), day(s.consent().given_on()),
       absl::StrJoin(scopes, ","),
       JoinTags(std::vector<std::string>(s.skills().begin(), s.skills().end())),
       static_cast<int64_t>(s.education()),
       JoinTags(std::vector<std::string>(s.preferred_divisions().begin(),
                                         s.preferred_divisions().end())),
       static_cast<int64_t>(s.min_monthly_wage()), day(s.registered_on()), day(s.state_since()),
       s.state_reason(), static_cast<int64_t>(row.resume_state), Micros(now)});
}

constexpr char kPlacementCols[] =
    "id, case_id, division, employer, posting_id, mode, contract_start, contract_end, one_year, "
    "state, ended_on, state_reason, created_at";

absl::Status PlacementFromRow(ReadTransaction& tx, const Row& r, v1::PlacementRecord* p) {
  p->set_placement_id(r.GetInt(0));
  p->set_case_id(r.GetString(1));
  p->set_division(r.GetString(2));
  p->set_employer_credit_code(r.GetString(3));
  p->set_posting_id(r.GetInt(4));
  p->set_mode(static_cast<v1::PlacementMode>(r.GetInt(5)));
  SetDate(r.GetString(6), p->mutable_contract_start());
  SetDate(r.GetString(7), p->mutable_contract_end());
  p->set_contract_one_year_or_more(r.GetInt(8) != 0);
  p->set_state(static_cast<v1::PlacementState>(r.GetInt(9)));
  SetDate(r.GetString(10), p->mutable_ended_on());
  p->set_state_reason(r.GetString(11));
  SetTimestamp(r.GetInt(12), p->mutable_created_at());
  ASSIGN_OR_RETURN(std::vector<Row> checks,
                   tx.Query("SELECT months, due_on, record_by, outcome, checked_on "
                            "FROM retention_checks WHERE placement_id = ? ORDER BY months",
                            {p->placement_id()}));
  for (const Row& c : checks) {
    v1::RetentionCheckpoint* cp = p->add_checkpoints();
    cp->set_months(static_cast<int32_t>(c.GetInt(0)));
    SetDate(c.GetString(1), cp->mutable_due_on());
    SetDate(c.GetString(2), cp->mutable_record_by());
    cp->set_outcome(static_cast<v1::RetentionOutcome>(c.GetInt(3)));
    SetDate(c.GetString(4), cp->mutable_checked_on());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::PlacementRecord>> LoadPlacement(ReadTransaction& tx, int64_t id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kPlacementCols, " FROM placements WHERE id = ?"),
                            {id}));
  if (rows.empty()) return std::optional<v1::PlacementRecord>();
  v1::PlacementRecord p;
  RETURN_IF_ERROR(PlacementFromRow(tx, rows[0], &p));
  return std::optional<v1::PlacementRecord>(std::move(p));
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

// The case's open (active or suspended) placement id, 0 if none.
absl::StatusOr<int64_t> OpenPlacementId(ReadTransaction& tx, const std::string& case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT id FROM placements WHERE case_id = ? AND state IN (?, ?) "
                            "ORDER BY id DESC LIMIT 1",
                            {case_id, static_cast<int64_t>(v1::PLACEMENT_STATE_ACTIVE),
                             static_cast<int64_t>(v1::PLACEMENT_STATE_SUSPENDED)}));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

// Saves the seeker's programme status (DESIGN.md §4) in the same transaction.
absl::Status SaveSeekerStatus(Transaction& tx, absl::Time now, const v1::Seeker& s,
                              ProgramStatusRecord* status) {
  ProgramStatusRecord r;
  r.case_id = s.case_id();
  r.division = s.division();
  switch (s.state()) {
    case v1::SEEKER_STATE_PLACED: r.state = "PLACED"; break;
    case v1::SEEKER_STATE_SUSPENDED: r.state = "SUSPENDED"; break;
    case v1::SEEKER_STATE_CLOSED: r.state = "CLOSED"; break;
    default:
      r.state = s.eligibility() == v1::ELIGIBILITY_TRAINING_ONLY ? "TRAINING_ONLY" : "SEEKING";
  }
  if (IsSet(s.state_since())) {
    r.began = absl::CivilDay(s.state_since().year(), s.state_since().month(), s.state_since().day());
  }
  if (s.state() == v1::SEEKER_STATE_PLACED) {
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     tx.Query("SELECT rc.due_on FROM retention_checks rc JOIN placements p "
                              "ON p.id = rc.placement_id WHERE p.case_id = ? AND p.state = ? "
                              "AND rc.outcome = 0 ORDER BY rc.due_on LIMIT 1",
                              {s.case_id(), static_cast<int64_t>(v1::PLACEMENT_STATE_ACTIVE)}));
    if (!rows.empty()) {
      r.deadline_kind = "RETENTION_CHECK";
      r.deadline = ParseDayText(rows[0].GetString(0));
    }
  }
  RETURN_IF_ERROR(SaveProgramStatus(tx, now, &r));
  if (status != nullptr) *status = r;
  return absl::OkStatus();
}

constexpr char kPostingCols[] =
    "id, source, source_record_id, employer, employer_name, title, division, wage_min, wage_max, "
    "skills, openings, valid_from, valid_until";

v1::Posting PostingFromRow(const Row& r) {
  v1::Posting p;
  p.set_posting_id(r.GetInt(0));
  p.set_source(static_cast<v1::PostingSource>(r.GetInt(1)));
  p.set_source_record_id(r.GetString(2));
  p.set_employer_credit_code(r.GetString(3));
  p.set_employer_name(r.GetString(4));
  p.set_title(r.GetString(5));
  p.set_division(r.GetString(6));
  p.set_wage_min(static_cast<int32_t>(r.GetInt(7)));
  p.set_wage_max(static_cast<int32_t>(r.GetInt(8)));
  for (std::string& t : SplitTags(r.GetString(9))) p.add_skills(std::move(t));
  p.set_openings(static_cast<int32_t>(r.GetInt(10)));
  SetDate(r.GetString(11), p.mutable_valid_from());
  SetDate(r.GetString(12), p.mutable_valid_until());
  return p;
}

absl::StatusOr<v1::Posting> LoadPostingInScope(ReadTransaction& tx, const Caller& caller,
                                               int64_t id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kPostingCols, " FROM postings WHERE id = ?"),
                            {id}));
  if (rows.empty()) return CaseNotFound("posting");
  v1::Posting p = PostingFromRow(rows[0]);
  bool visible = IsEmployer(caller) ? p.employer_credit_code() == caller.organization()
                                    : caller.Covers(p.division());
  if (!visible) return CaseNotFound("posting");
  return p;
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
  ASSIGN_OR_RETURN(absl::CivilDay from, FromProtoDate(p.valid_from(), "valid_from"));
  ASSIGN_OR_RETURN(absl::CivilDay until, FromProtoDate(p.valid_until(), "valid_until"));
  if (until < from) return absl::InvalidArgumentError("valid_until: before valid_from");
  return absl::OkStatus();
}

absl::Status InsertPosting(Transaction& tx, absl::Time now, const v1::Posting& p,
                           const std::string& content_hash) {
  return tx.Exec(
      "INSERT INTO postings(source, source_record_id, employer, employer_name, title, division, "
      "wage_min, wage_max, skills, openings, valid_from, valid_until, content_hash, created_at, "
      "updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
      {static_cast<int64_t>(p.source()), NullableText(p.source_record_id()),
       p.employer_credit_code(), p.employer_name(), p.title(), p.division(),
       static_cast<int64_t>(p.wage_min()), static_cast<int64_t>(p.wage_max()),
       JoinTags(std::vector<std::string>(p.skills().begin(), p.skills().end())),
       static_cast<int64_t>(p.openings()),
       DayText(absl::CivilDay(p.valid_from().year(), p.valid_from().month(), p.valid_from().day())),
       DayText(absl::CivilDay(p.valid_until().year(), p.valid_until().month(),
                              p.valid_until().day())),
       Blob{content_hash}, Micros(now), Micros(now)});
}

absl::StatusOr<v1::EmployerKind> EmployerKind(ReadTransaction& tx, const std::string& code) {
  if (code.empty()) return v1::EMPLOYER_KIND_UNSPECIFIED;
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT kind FROM employers WHERE credit_code = ?", {code}));
  if (rows.empty()) return v1::EMPLOYER_KIND_UNSPECIFIED;
  return static_cast<v1::EmployerKind>(rows[0].GetInt(0));
}

v1::Employer EmployerFromRow(const Row& r) {
  v1::Employer e;
  e.set_credit_code(r.GetString(0));
  e.set_name(r.GetString(1));
  e.set_kind(static_cast<v1::EmployerKind>(r.GetInt(2)));
  e.set_division(r.GetString(3));
  e.set_capacity(static_cast<int32_t>(r.GetInt(4)));
  e.set_contact_name(r.GetString(5));
  e.set_contact_phone(r.GetString(6));
  SetTimestamp(r.GetInt(7), e.mutable_updated_at());
  return e;
}

constexpr char kEmployerCols[] =
    "credit_code, name, kind, division, capacity, contact_name, contact_phone, updated_at";

absl::StatusOr<std::optional<v1::Employer>> LoadEmployer(ReadTransaction& tx,
                                                         const std::string& code) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kEmployerCols,
                                         " FROM employers WHERE credit_code = ?"),
                            {code}));
  if (rows.empty()) return std::optional<v1::Employer>();
  return std::optional<v1::Employer>(EmployerFromRow(rows[0]));
}

absl::CivilDay DayOf(const common::v1::Date& d) {
  return absl::CivilDay(d.year(), d.month(), d.day());
}

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

// The day a seeker change takes effect.
absl::StatusOr<absl::CivilDay> ChangeDate(const common::v1::Date& d, absl::CivilDay today,
                                          const v1::Seeker& s, ChangeDating dating) {
  ASSIGN_OR_RETURN(absl::CivilDay day, FromProtoDate(d, "effective_on"));
  if (day > today) {
    if (dating != ChangeDating::kApplyLatestUpToToday) {
      return absl::InvalidArgumentError("effective_on: in the future");
    }
    day = today;
  }
  std::optional<absl::CivilDay> earliest;
  if (IsSet(s.registered_on())) earliest = DayOf(s.registered_on());
  if (dating == ChangeDating::kRefuse) {
    if (earliest.has_value() && day < *earliest) {
      return absl::InvalidArgumentError("effective_on: before the seeker was registered");
    }
    return day;
  }
  if (IsSet(s.state_since()) && (!earliest.has_value() || DayOf(s.state_since()) > *earliest)) {
    earliest = DayOf(s.state_since());
  }
  if (earliest.has_value() && day < *earliest) day = std::min(*earliest, today);
  return day;
}

constexpr char kClaimCols[] =
    "id, employer, division, tier, period_start, period_end, placement_ids, amount_fen, state, "
    "note, filed_at, decided_at";

v1::SubsidyClaim ClaimFromRow(const Row& r) {
  v1::SubsidyClaim c;
  c.set_claim_id(r.GetInt(0));
  c.set_employer_credit_code(r.GetString(1));
  c.set_division(r.GetString(2));
  c.set_tier(r.GetString(3));
  SetDate(r.GetString(4), c.mutable_period_start());
  SetDate(r.GetString(5), c.mutable_period_end());
  for (const std::string& id : SplitTags(r.GetString(6))) {
    int64_t v = 0;
    if (absl::SimpleAtoi(id, &v)) c.add_placement_ids(v);
  }
  c.set_amount_fen(r.GetInt(7));
  c.set_state(static_cast<v1::ClaimState>(r.GetInt(8)));
  c.set_decision_note(r.GetString(9));
  SetTimestamp(r.GetInt(10), c.mutable_filed_at());
  if (!r.IsNull(11)) SetTimestamp(r.GetInt(11), c.mutable_decided_at());
  return c;
}

absl::StatusOr<std::pair<absl::CivilDay, absl::CivilDay>> Period(const common::v1::Date& start,
                                                                 const common::v1::Date& end) {
  ASSIGN_OR_RETURN(absl::CivilDay s, FromProtoDate(start, "period_start"));
  ASSIGN_OR_RETURN(absl::CivilDay e, FromProtoDate(end, "period_end"));
  if (e < s) return absl::InvalidArgumentError("period_end: before period_start");
  return std::make_pair(s, e);
}

}  // namespace

// ---------------------------------------------------------------- schema

std::vector<Migration> PlacementTableMigrations() {
  return {{"placement", 1, R"sql(
CREATE TABLE employers(
  credit_code TEXT PRIMARY KEY, name TEXT NOT NULL, kind INTEGER NOT NULL,
  division TEXT NOT NULL, capacity INTEGER NOT NULL, contact_name TEXT NOT NULL,
  contact_phone TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX employers_division ON employers(division, credit_code);
CREATE TABLE seekers(
  case_id TEXT PRIMARY KEY, division TEXT NOT NULL, state INTEGER NOT NULL,
  eligibility INTEGER NOT NULL, eligibility_basis TEXT NOT NULL, consent_on TEXT NOT NULL,
  consent_scopes TEXT NOT NULL, skills TEXT NOT NULL, education INTEGER NOT NULL,
  preferred TEXT NOT NULL, min_wage INTEGER NOT NULL, registered_on TEXT NOT NULL,
  state_since TEXT NOT NULL, state_reason TEXT NOT NULL, resume_state INTEGER NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE INDEX seekers_division ON seekers(division, case_id);
CREATE TABLE trainings(
  id INTEGER PRIMARY KEY, case_id TEXT NOT NULL, course TEXT NOT NULL, provider TEXT NOT NULL,
  start_on TEXT NOT NULL, end_on TEXT, outcome INTEGER NOT NULL, certificate TEXT NOT NULL,
  skills TEXT NOT NULL, during_isolation INTEGER NOT NULL, recorded_at INTEGER NOT NULL);
CREATE INDEX trainings_case ON trainings(case_id, id);
CREATE TABLE postings(
  id INTEGER PRIMARY KEY, source INTEGER NOT NULL, source_record_id TEXT UNIQUE,
  employer TEXT NOT NULL, employer_name TEXT NOT NULL, title TEXT NOT NULL,
  division TEXT NOT NULL, wage_min INTEGER NOT NULL, wage_max INTEGER NOT NULL,
  skills TEXT NOT NULL, openings INTEGER NOT NULL, valid_from TEXT NOT NULL,
  valid_until TEXT NOT NULL, content_hash BLOB NOT NULL, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE INDEX postings_division ON postings(division, id);
CREATE INDEX postings_employer ON postings(employer, id);
CREATE TABLE placements(
  id INTEGER PRIMARY KEY, case_id TEXT NOT NULL, division TEXT NOT NULL,
  employer TEXT NOT NULL, posting_id INTEGER NOT NULL, mode INTEGER NOT NULL,
  contract_start TEXT NOT NULL, contract_end TEXT, one_year INTEGER NOT NULL,
  state INTEGER NOT NULL, ended_on TEXT, state_reason TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE INDEX placements_case ON placements(case_id, id);
CREATE INDEX placements_division ON placements(division, id);
CREATE INDEX placements_employer ON placements(employer, id);
CREATE TABLE retention_checks(
  placement_id INTEGER NOT NULL REFERENCES placements(id), months INTEGER NOT NULL,
  due_on TEXT NOT NULL, record_by TEXT NOT NULL, outcome INTEGER NOT NULL, checked_on TEXT,
  PRIMARY KEY(placement_id, months));
CREATE INDEX retention_checks_due ON retention_checks(outcome, due_on, placement_id);
CREATE TABLE labor_registrations(
  record_id TEXT PRIMARY KEY, kind INTEGER NOT NULL, id_hash BLOB NOT NULL,
  employer TEXT NOT NULL, division TEXT NOT NULL, registered_on TEXT NOT NULL,
  content_hash BLOB NOT NULL, imported_at INTEGER NOT NULL);
CREATE INDEX labor_registrations_id_hash ON labor_registrations(id_hash);
CREATE TABLE subsidy_claims(
  id INTEGER PRIMARY KEY, employer TEXT NOT NULL, division TEXT NOT NULL, tier TEXT NOT NULL,
  period_start TEXT NOT NULL, period_end TEXT NOT NULL, placement_ids TEXT NOT NULL,
  amount_fen INTEGER NOT NULL, state INTEGER NOT NULL, note TEXT NOT NULL,
  filed_at INTEGER NOT NULL, decided_at INTEGER);
CREATE INDEX subsidy_claims_employer ON subsidy_claims(employer, id);
CREATE TABLE subsidy_claim_placements(
  claim_id INTEGER NOT NULL REFERENCES subsidy_claims(id), placement_id INTEGER NOT NULL,
  tier TEXT NOT NULL, PRIMARY KEY(claim_id, placement_id));
CREATE INDEX subsidy_claim_placements_p ON subsidy_claim_placements(placement_id, tier);
)sql"},
          // The labor exchange index of the seeker's ID number (registry
          // CaseFacts.labor_exchange_index): NULL = not fetched yet, empty = the registry
          // has none (sealed or unknown). Matches labor_registrations.id_hash.
          {"placement", 2, R"sql(
ALTER TABLE seekers ADD COLUMN labor_index BLOB;
CREATE INDEX labor_registrations_match ON labor_registrations(id_hash, registered_on);
)sql"}};
}

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
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO employers(credit_code, name, kind, division, capacity, contact_name, "
      "contact_phone, updated_at) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(credit_code) DO UPDATE SET "
      "name = excluded.name, kind = excluded.kind, division = excluded.division, "
      "capacity = excluded.capacity, contact_name = excluded.contact_name, "
      "contact_phone = excluded.contact_phone, updated_at = excluded.updated_at",
      {e.credit_code(), e.name(), static_cast<int64_t>(e.kind()), e.division(),
       static_cast<int64_t>(e.capacity()), e.contact_name(), e.contact_phone(), Micros(now)}));
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
  std::string pattern = ScopePattern(caller);
  if (!request.division_prefix().empty()) {
    RETURN_IF_ERROR(ValidateDivisionPrefix(request.division_prefix(), "division_prefix"));
    pattern = request.division_prefix() + "%";
  }
  int limit = PageSize(request.page());
  std::string sql = absl::StrCat("SELECT ", kEmployerCols,
                                 " FROM employers WHERE credit_code > ? AND division LIKE ? "
                                 "AND (? = 0 OR kind = ?) AND (? = '' OR credit_code = ?) "
                                 "ORDER BY credit_code LIMIT ?");
  std::string only = IsEmployer(caller) ? caller.organization() : "";
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(sql, {after, pattern, static_cast<int64_t>(request.kind()),
                                  static_cast<int64_t>(request.kind()), only, only,
                                  static_cast<int64_t>(limit + 1)}));
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    v1::Employer e = EmployerFromRow(rows[i]);
    // The requested prefix narrows; the caller's jurisdiction still bounds.
    if (!IsEmployer(caller) && !caller.Covers(e.division())) continue;
    *out->add_employers() = std::move(e);
  }
  if (static_cast<int>(rows.size()) > limit) {
    out->mutable_page()->set_next_page_token(EncodeToken(rows[limit - 1].GetString(0)));
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
  ASSIGN_OR_RETURN(absl::CivilDay consent_on, FromProtoDate(r.consent().given_on(), "consent.given_on"));
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
  RETURN_IF_ERROR(StoreSeeker(tx, now, row));
  if (!labor_exchange_index.empty()) {
    RETURN_IF_ERROR(tx.Exec("UPDATE seekers SET labor_index = ? WHERE case_id = ?",
                            {Blob{std::string(labor_exchange_index)}, s.case_id()}));
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
  RETURN_IF_ERROR(StoreSeeker(tx, now, row));
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
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query(absl::StrCat("SELECT ", kSeekerCols,
                            " FROM seekers WHERE case_id > ? AND division LIKE ? "
                            "AND (? = 0 OR state = ?) ORDER BY case_id LIMIT ?"),
               {after, ScopePattern(caller), static_cast<int64_t>(request.state()),
                static_cast<int64_t>(request.state()), static_cast<int64_t>(limit + 1)}));
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    *out->add_seekers() = SeekerFromRow(rows[i]).seeker;
  }
  if (static_cast<int>(rows.size()) > limit) {
    out->mutable_page()->set_next_page_token(EncodeToken(rows[limit - 1].GetString(0)));
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
  if (IsSet(effective_on) && day != DayOf(effective_on)) {
    log::Info("seeker_change_dated_later",
              {{"kind", kind == SeekerChangeKind::kSuspend  ? "suspend"
                        : kind == SeekerChangeKind::kResume ? "resume"
                                                            : "close"},
               {"requested", DayText(DayOf(effective_on))},
               {"applied", DayText(day)}});
  }
  bool reason_required = kind != SeekerChangeKind::kResume;
  RETURN_IF_ERROR(ValidateText(reason, 500, reason_required, "reason"));
  ASSIGN_OR_RETURN(int64_t open_id, OpenPlacementId(tx, s.case_id()));
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
          RETURN_IF_ERROR(tx.Exec("UPDATE placements SET state = ?, state_reason = ? WHERE id = ?",
                                  {static_cast<int64_t>(v1::PLACEMENT_STATE_SUSPENDED),
                                   std::string(reason), open_id}));
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
          RETURN_IF_ERROR(tx.Exec("UPDATE placements SET state = ?, state_reason = ? WHERE id = ?",
                                  {static_cast<int64_t>(v1::PLACEMENT_STATE_ACTIVE),
                                   std::string(reason), open_id}));
        }
        changed = true;
      }
      break;
    case SeekerChangeKind::kClose:
      if (s.state() != v1::SEEKER_STATE_CLOSED) {
        s.set_state(v1::SEEKER_STATE_CLOSED);
        if (open_id != 0) {
          RETURN_IF_ERROR(tx.Exec(
              "UPDATE placements SET state = ?, state_reason = ?, ended_on = ? WHERE id = ?",
              {static_cast<int64_t>(v1::PLACEMENT_STATE_ENDED), std::string(reason), DayText(day),
               open_id}));
          // Checkpoints after the end lapse; one already due stays to be recorded.
          RETURN_IF_ERROR(tx.Exec(
              "UPDATE retention_checks SET outcome = ? WHERE placement_id = ? AND outcome = 0 "
              "AND due_on > ?",
              {static_cast<int64_t>(v1::RETENTION_OUTCOME_LAPSED), open_id, DayText(day)}));
        }
        changed = true;
      }
      break;
  }
  if (changed) {
    ToProtoDate(day, s.mutable_state_since());
    s.set_state_reason(std::string(reason));
    RETURN_IF_ERROR(StoreSeeker(tx, now, row));
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
  ASSIGN_OR_RETURN(absl::CivilDay start, FromProtoDate(r.start_on(), "start_on"));
  if (start > Today(now)) return absl::InvalidArgumentError("start_on: in the future");
  if (start < DayOf(s.consent().given_on())) {
    return absl::InvalidArgumentError("start_on: before the consent was given");
  }
  std::string end_text;
  if (IsSet(r.end_on())) {
    ASSIGN_OR_RETURN(absl::CivilDay end, FromProtoDate(r.end_on(), "end_on"));
    if (end < start) return absl::InvalidArgumentError("end_on: before start_on");
    end_text = DayText(end);
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
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO trainings(case_id, course, provider, start_on, end_on, outcome, certificate, "
      "skills, during_isolation, recorded_at) VALUES(?,?,?,?,?,?,?,?,?,?)",
      {s.case_id(), r.course(), r.provider(), DayText(start), NullableText(end_text),
       static_cast<int64_t>(r.outcome()), r.certificate(), JoinTags(gained),
       static_cast<int64_t>(during_isolation ? 1 : 0), Micros(now)}));
  out->set_training_id(tx.LastInsertId());
  out->set_case_id(s.case_id());
  out->set_course(r.course());
  out->set_provider(r.provider());
  *out->mutable_start_on() = r.start_on();
  if (!end_text.empty()) *out->mutable_end_on() = r.end_on();
  out->set_outcome(r.outcome());
  out->set_certificate(r.certificate());
  for (const std::string& g : gained) out->add_skills_gained(g);
  out->set_during_isolation(during_isolation);
  SetTimestamp(Micros(now), out->mutable_recorded_at());
  // A completed course adds its skills; the eligibility seen now is kept.
  if (r.outcome() == v1::TRAINING_OUTCOME_COMPLETED) {
    for (const std::string& g : gained) {
      if (std::find(s.skills().begin(), s.skills().end(), g) == s.skills().end()) s.add_skills(g);
    }
  }
  s.set_eligibility(eligibility.eligibility);
  s.set_eligibility_basis(eligibility.basis);
  RETURN_IF_ERROR(StoreSeeker(tx, now, row));
  return SaveSeekerStatus(tx, now, s, status);
}

absl::Status PlacementLogic::ListTrainings(ReadTransaction& tx, const Caller& caller,
                                           absl::string_view case_id, const CaseScope* scope,
                                           v1::ListTrainingsResponse* out) const {
  ASSIGN_OR_RETURN(SeekerRow row, LoadSeekerInScope(tx, caller, case_id, scope));
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT id, course, provider, start_on, end_on, outcome, certificate, "
                            "skills, during_isolation, recorded_at FROM trainings "
                            "WHERE case_id = ? ORDER BY id",
                            {row.seeker.case_id()}));
  for (const Row& r : rows) {
    v1::Training* t = out->add_trainings();
    t->set_training_id(r.GetInt(0));
    t->set_case_id(row.seeker.case_id());
    t->set_course(r.GetString(1));
    t->set_provider(r.GetString(2));
    SetDate(r.GetString(3), t->mutable_start_on());
    SetDate(r.GetString(4), t->mutable_end_on());
    t->set_outcome(static_cast<v1::TrainingOutcome>(r.GetInt(5)));
    t->set_certificate(r.GetString(6));
    for (std::string& g : SplitTags(r.GetString(7))) t->add_skills_gained(std::move(g));
    t->set_during_isolation(r.GetInt(8) != 0);
    SetTimestamp(r.GetInt(9), t->mutable_recorded_at());
  }
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
  RETURN_IF_ERROR(InsertPosting(tx, now, p, ContentHash(p)));
  p.set_posting_id(tx.LastInsertId());
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
  std::string employer = request.employer_credit_code();
  std::string pattern = ScopePattern(caller);
  if (IsEmployer(caller)) {
    employer = caller.organization();
    pattern = "%";
  }
  std::string open_on;
  if (IsSet(request.open_on())) {
    ASSIGN_OR_RETURN(absl::CivilDay d, FromProtoDate(request.open_on(), "open_on"));
    open_on = DayText(d);
  }
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query(absl::StrCat("SELECT ", kPostingCols,
                            " FROM postings WHERE id > ? AND division LIKE ? "
                            "AND (? = '' OR employer = ?) "
                            "AND (? = '' OR (valid_from <= ? AND valid_until >= ?)) "
                            "ORDER BY id LIMIT ?"),
               {after, pattern, employer, employer, open_on, open_on, open_on,
                static_cast<int64_t>(limit + 1)}));
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    *out->add_postings() = PostingFromRow(rows[i]);
  }
  if (static_cast<int>(rows.size()) > limit) {
    out->mutable_page()->set_next_page_token(EncodeToken(absl::StrCat(rows[limit - 1].GetInt(0))));
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
  absl::StatusOr<absl::CivilDay> registered = FromProtoDate(row.registered_on(), "registered_on");
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
  for (const PostingRowToWrite& r : rows) {
    ASSIGN_OR_RETURN(std::vector<Row> found,
                     tx.Query("SELECT content_hash FROM postings WHERE source_record_id = ?",
                              {r.posting.source_record_id()}));
    if (found.empty()) {
      ++counts->imported;
    } else if (found[0].GetString(0) == r.content_hash) {
      ++counts->unchanged;
    } else {
      ++counts->updated;
    }
  }
  return absl::OkStatus();
}

absl::Status PlacementLogic::ApplyPostingRows(Transaction& tx, absl::Time now,
                                              const std::vector<PostingRowToWrite>& rows,
                                              ImportCounts* counts) const {
  for (const PostingRowToWrite& r : rows) {
    const v1::Posting& p = r.posting;
    ASSIGN_OR_RETURN(std::vector<Row> found,
                     tx.Query("SELECT id, content_hash FROM postings WHERE source_record_id = ?",
                              {p.source_record_id()}));
    if (found.empty()) {
      RETURN_IF_ERROR(InsertPosting(tx, now, p, r.content_hash));
      ++counts->imported;
    } else if (found[0].GetString(1) == r.content_hash) {
      ++counts->unchanged;
    } else {
      RETURN_IF_ERROR(tx.Exec(
          "UPDATE postings SET employer = ?, employer_name = ?, title = ?, division = ?, "
          "wage_min = ?, wage_max = ?, skills = ?, openings = ?, valid_from = ?, "
          "valid_until = ?, content_hash = ?, updated_at = ? WHERE id = ?",
          {p.employer_credit_code(), p.employer_name(), p.title(), p.division(),
           static_cast<int64_t>(p.wage_min()), static_cast<int64_t>(p.wage_max()),
           JoinTags(std::vector<std::string>(p.skills().begin(), p.skills().end())),
           static_cast<int64_t>(p.openings()), DayText(DayOf(p.valid_from())),
           DayText(DayOf(p.valid_until())), Blob{r.content_hash}, Micros(now),
           found[0].GetInt(0)}));
      ++counts->updated;
    }
  }
  return absl::OkStatus();
}

absl::Status PlacementLogic::ClassifyRegistrationRows(
    ReadTransaction& tx, const std::vector<RegistrationRowToWrite>& rows,
    ImportCounts* counts) const {
  for (const RegistrationRowToWrite& r : rows) {
    ASSIGN_OR_RETURN(std::vector<Row> found,
                     tx.Query("SELECT content_hash FROM labor_registrations WHERE record_id = ?",
                              {r.record_id}));
    if (found.empty()) {
      ++counts->imported;
    } else if (found[0].GetString(0) == r.content_hash) {
      ++counts->unchanged;
    } else {
      ++counts->updated;
    }
  }
  return absl::OkStatus();
}

absl::Status PlacementLogic::ApplyRegistrationRows(Transaction& tx, absl::Time now,
                                                   const std::vector<RegistrationRowToWrite>& rows,
                                                   ImportCounts* counts) const {
  for (const RegistrationRowToWrite& r : rows) {
    ASSIGN_OR_RETURN(std::vector<Row> found,
                     tx.Query("SELECT content_hash FROM labor_registrations WHERE record_id = ?",
                              {r.record_id}));
    if (!found.empty() && found[0].GetString(0) == r.content_hash) {
      ++counts->unchanged;
      continue;
    }
    RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO labor_registrations(record_id, kind, id_hash, employer, division, "
        "registered_on, content_hash, imported_at) VALUES(?,?,?,?,?,?,?,?) "
        "ON CONFLICT(record_id) DO UPDATE SET kind = excluded.kind, id_hash = excluded.id_hash, "
        "employer = excluded.employer, division = excluded.division, "
        "registered_on = excluded.registered_on, content_hash = excluded.content_hash, "
        "imported_at = excluded.imported_at",
        {r.record_id, static_cast<int64_t>(r.kind), Blob{r.id_hash}, r.employer, r.division,
         r.registered_on, Blob{r.content_hash}, Micros(now)}));
    if (found.empty()) {
      ++counts->imported;
    } else {
      ++counts->updated;
    }
  }
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
  std::string day = DayText(as_of);
  RETURN_IF_ERROR(tx.QueryEach(
      absl::StrCat("SELECT p.id, p.source, p.source_record_id, p.employer, p.employer_name, "
                   "p.title, p.division, p.wage_min, p.wage_max, p.skills, p.openings, "
                   "p.valid_from, p.valid_until, e.kind FROM postings p LEFT JOIN employers e "
                   "ON e.credit_code = p.employer WHERE p.division LIKE ? AND p.openings > 0 "
                   "AND p.valid_from <= ? AND p.valid_until >= ?"),
      {ScopePattern(caller), day, day}, [&](const Row& r) {
        Candidate c;
        c.posting = PostingFromRow(r);
        c.score = ScoreMatch(profile, c.posting, static_cast<v1::EmployerKind>(r.GetInt(13)));
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
  ASSIGN_OR_RETURN(v1::EmployerKind kind, EmployerKind(tx, posting.employer_credit_code()));
  int max = request.max_results() <= 0 ? kDefaultMatches
                                       : std::min(request.max_results(), kMaxMatches);
  struct Candidate {
    v1::Seeker seeker;
    MatchScore score;
  };
  std::vector<Candidate> candidates;
  RETURN_IF_ERROR(tx.QueryEach(
      absl::StrCat("SELECT ", kSeekerCols,
                   " FROM seekers WHERE division LIKE ? AND state = ? AND eligibility = ?"),
      {ScopePattern(caller), static_cast<int64_t>(v1::SEEKER_STATE_SEEKING),
       static_cast<int64_t>(v1::ELIGIBILITY_PLACEMENT)},
      [&](const Row& r) {
        Candidate c;
        c.seeker = SeekerFromRow(r).seeker;
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
  ASSIGN_OR_RETURN(absl::CivilDay start, FromProtoDate(r.contract_start(), "contract_start"));
  if (start > legal_time::DeadlineAfterMonths(today, 12)) {
    return absl::InvalidArgumentError("contract_start: more than a year ahead");
  }
  if (start < DayOf(s.consent().given_on())) {
    return absl::InvalidArgumentError("contract_start: before the consent was given");
  }
  std::optional<absl::CivilDay> end;
  if (IsSet(r.contract_end())) {
    ASSIGN_OR_RETURN(end, FromProtoDate(r.contract_end(), "contract_end"));
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
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     tx.Query("SELECT employer, openings FROM postings WHERE id = ?",
                              {r.posting_id()}));
    if (rows.empty()) return CaseNotFound("posting");
    if (rows[0].GetString(0) != r.employer_credit_code()) {
      return absl::FailedPreconditionError("the posting belongs to another employer");
    }
    if (rows[0].GetInt(1) <= 0) return absl::FailedPreconditionError("the posting has no openings left");
    RETURN_IF_ERROR(tx.Exec("UPDATE postings SET openings = openings - 1 WHERE id = ?",
                            {r.posting_id()}));
  }
  bool one_year = ContractOneYearOrMore(start, end);
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO placements(case_id, division, employer, posting_id, mode, contract_start, "
      "contract_end, one_year, state, ended_on, state_reason, created_at) "
      "VALUES(?,?,?,?,?,?,?,?,?,NULL,'',?)",
      {s.case_id(), s.division(), r.employer_credit_code(), r.posting_id(),
       static_cast<int64_t>(r.mode()), DayText(start),
       end.has_value() ? Value(DayText(*end)) : Value(std::monostate()),
       static_cast<int64_t>(one_year ? 1 : 0), static_cast<int64_t>(v1::PLACEMENT_STATE_ACTIVE),
       Micros(now)}));
  int64_t id = tx.LastInsertId();
  for (const Checkpoint& c : RetentionCheckpoints(start)) {
    RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO retention_checks(placement_id, months, due_on, record_by, outcome, "
        "checked_on) VALUES(?,?,?,?,0,NULL)",
        {id, static_cast<int64_t>(c.months), DayText(c.due_on), DayText(c.record_by)}));
  }
  s.set_state(v1::SEEKER_STATE_PLACED);
  ToProtoDate(std::min(start, today), s.mutable_state_since());
  s.set_state_reason("");
  s.set_eligibility(eligibility.eligibility);
  s.set_eligibility_basis(eligibility.basis);
  RETURN_IF_ERROR(StoreSeeker(tx, now, row));
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
  ASSIGN_OR_RETURN(absl::CivilDay checked, FromProtoDate(r.checked_on(), "checked_on"));
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
  RETURN_IF_ERROR(tx.Exec(
      "UPDATE retention_checks SET outcome = ?, checked_on = ? WHERE placement_id = ? AND months = ?",
      {static_cast<int64_t>(r.outcome()), DayText(checked), p.placement_id(),
       static_cast<int64_t>(r.months())}));
  if (r.outcome() == v1::RETENTION_OUTCOME_LEFT) {
    RETURN_IF_ERROR(tx.Exec("UPDATE placements SET state = ?, ended_on = ? WHERE id = ?",
                            {static_cast<int64_t>(v1::PLACEMENT_STATE_ENDED), DayText(checked),
                             p.placement_id()}));
    // The later checkpoints lapse; an earlier one left unrecorded stays so.
    RETURN_IF_ERROR(tx.Exec(
        "UPDATE retention_checks SET outcome = ? WHERE placement_id = ? AND outcome = 0 "
        "AND months > ?",
        {static_cast<int64_t>(v1::RETENTION_OUTCOME_LAPSED), p.placement_id(),
         static_cast<int64_t>(r.months())}));
  }
  ASSIGN_OR_RETURN(std::optional<SeekerRow> seeker, LoadSeeker(tx, p.case_id()));
  if (seeker.has_value()) {
    if (r.outcome() == v1::RETENTION_OUTCOME_LEFT &&
        seeker->seeker.state() == v1::SEEKER_STATE_PLACED) {
      seeker->seeker.set_state(v1::SEEKER_STATE_SEEKING);
      ToProtoDate(checked, seeker->seeker.mutable_state_since());
      RETURN_IF_ERROR(StoreSeeker(tx, now, *seeker));
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
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT case_id FROM placements WHERE id = ?", {placement_id}));
  return rows.empty() ? std::string() : rows[0].GetString(0);
}

absl::Status PlacementLogic::ListPlacements(ReadTransaction& tx, const Caller& caller,
                                            const v1::ListPlacementsRequest& request,
                                            const CaseScope* scope,
                                            v1::ListPlacementsResponse* out) const {
  ASSIGN_OR_RETURN(int64_t after, DecodeIdToken(request.page()));
  int limit = PageSize(request.page());
  std::string employer = IsEmployer(caller) ? caller.organization() : "";
  std::string pattern = IsEmployer(caller) ? "%" : ScopePattern(caller);
  std::string case_id;
  if (!request.case_id().empty()) {
    // Labor bureau and employer tokens never handle case ids: a filter by one would
    // tell them whether a person has a placement (禁毒法 Art 52, 70).
    if (IsOutsideRole(caller)) {
      return absl::PermissionDeniedError(
          "case_id: labor bureau and employer tokens do not filter by case");
    }
    ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(request.case_id()));
    case_id = id.ToString();
    if (scope != nullptr) {
      // One case: none if the caller does not see it, as for a case never issued; all of
      // its placements for a caller of its household or residence place (双向管控), its
      // own county's for a caller who sees it as the executing side.
      if (scope->case_id != case_id) return absl::OkStatus();
      if (scope->sealed && !MayReadSealed(caller.role())) return absl::OkStatus();
      if (CoversCase(caller, *scope)) pattern = "%";
    }
  }
  // For outside roles a suspended placement is an active one (PlacementState).
  int64_t state = request.state();
  int64_t also_state = state;
  if (IsOutsideRole(caller)) {
    if (state == v1::PLACEMENT_STATE_ACTIVE) also_state = v1::PLACEMENT_STATE_SUSPENDED;
    if (state == v1::PLACEMENT_STATE_SUSPENDED) return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query(absl::StrCat("SELECT ", kPlacementCols,
                            " FROM placements WHERE id > ? AND division LIKE ? "
                            "AND (? = '' OR employer = ?) AND (? = '' OR case_id = ?) "
                            "AND (? = 0 OR state = ? OR state = ?) ORDER BY id LIMIT ?"),
               {after, pattern, employer, employer, case_id, case_id, state, state, also_state,
                static_cast<int64_t>(limit + 1)}));
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    RETURN_IF_ERROR(PlacementFromRow(tx, rows[i], out->add_placements()));
  }
  if (static_cast<int>(rows.size()) > limit) {
    out->mutable_page()->set_next_page_token(EncodeToken(absl::StrCat(rows[limit - 1].GetInt(0))));
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
  std::string employer = IsEmployer(caller) ? caller.organization() : "";
  std::string pattern = IsEmployer(caller) ? "%" : ScopePattern(caller);
  // A suspended placement has nothing due, except for an employer, whose view never
  // changes with a treatment fact (it sees the placement as active).
  const int64_t also_state = IsOutsideRole(caller) ? v1::PLACEMENT_STATE_SUSPENDED
                                                   : v1::PLACEMENT_STATE_ACTIVE;
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT rc.placement_id, p.case_id, p.employer, rc.months, rc.due_on, "
               "rc.record_by FROM retention_checks rc JOIN placements p ON p.id = rc.placement_id "
               "WHERE rc.outcome = 0 AND rc.due_on <= ? AND (p.state = ? OR p.state = ?) "
               "AND p.division LIKE ? "
               "AND (? = '' OR p.employer = ?) "
               "AND (rc.due_on > ? OR (rc.due_on = ? AND (rc.placement_id > ? OR "
               "(rc.placement_id = ? AND rc.months > ?)))) "
               "ORDER BY rc.due_on, rc.placement_id, rc.months LIMIT ?",
               {DayText(as_of), static_cast<int64_t>(v1::PLACEMENT_STATE_ACTIVE), also_state,
                pattern, employer, employer, after_due, after_due, after_id, after_id, after_months,
                static_cast<int64_t>(limit + 1)}));
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    const Row& r = rows[i];
    v1::DueRetentionCheck* c = out->add_checks();
    c->set_placement_id(r.GetInt(0));
    c->set_case_id(r.GetString(1));
    c->set_employer_credit_code(r.GetString(2));
    c->set_months(static_cast<int32_t>(r.GetInt(3)));
    SetDate(r.GetString(4), c->mutable_due_on());
    SetDate(r.GetString(5), c->mutable_record_by());
    std::optional<absl::CivilDay> record_by = ParseDayText(r.GetString(5));
    c->set_overdue(record_by.has_value() && legal_time::IsOverdue(*record_by, as_of));
  }
  if (static_cast<int>(rows.size()) > limit) {
    const Row& last = rows[limit - 1];
    out->mutable_page()->set_next_page_token(EncodeToken(
        absl::StrCat(last.GetString(4), "|", last.GetInt(0), "|", last.GetInt(3))));
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
  std::vector<int64_t> qualifying;
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT p.id, p.contract_start, p.contract_end FROM placements p "
               "WHERE p.employer = ? AND p.contract_start >= ? AND p.contract_start <= ? "
               "AND NOT EXISTS (SELECT 1 FROM subsidy_claim_placements cp JOIN subsidy_claims c "
               "ON c.id = cp.claim_id WHERE cp.placement_id = p.id AND cp.tier = ? "
               "AND c.state != ?) ORDER BY p.id",
               {r.employer_credit_code(), DayText(period.first), DayText(period.second), r.tier(),
                static_cast<int64_t>(v1::CLAIM_STATE_REJECTED)}));
  for (const Row& row : rows) {
    std::optional<absl::CivilDay> start = ParseDayText(row.GetString(1));
    std::optional<absl::CivilDay> end = ParseDayText(row.GetString(2));
    if (!start.has_value()) continue;
    if (tier->min_contract_months() > 0 && end.has_value() &&
        *end < legal_time::TermLastDay(*start, tier->min_contract_months())) {
      continue;
    }
    if (tier->retained_months() > 0) {
      ASSIGN_OR_RETURN(std::vector<Row> check,
                       tx.Query("SELECT outcome FROM retention_checks WHERE placement_id = ? "
                                "AND months = ?",
                                {row.GetInt(0), static_cast<int64_t>(tier->retained_months())}));
      if (check.empty() || check[0].GetInt(0) != v1::RETENTION_OUTCOME_STILL_EMPLOYED) continue;
    }
    qualifying.push_back(row.GetInt(0));
  }
  if (qualifying.empty()) {
    return absl::FailedPreconditionError("no placement qualifies for this tier in the period");
  }
  int64_t amount = static_cast<int64_t>(qualifying.size()) * tier->amount_per_placement_fen();
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO subsidy_claims(employer, division, tier, period_start, period_end, "
      "placement_ids, amount_fen, state, note, filed_at, decided_at) "
      "VALUES(?,?,?,?,?,?,?,?,'',?,NULL)",
      {r.employer_credit_code(), e->division(), r.tier(), DayText(period.first),
       DayText(period.second), absl::StrJoin(qualifying, ","), amount,
       static_cast<int64_t>(v1::CLAIM_STATE_FILED), Micros(now)}));
  int64_t claim_id = tx.LastInsertId();
  for (int64_t pid : qualifying) {
    RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO subsidy_claim_placements(claim_id, placement_id, tier) VALUES(?,?,?)",
        {claim_id, pid, r.tier()}));
  }
  ASSIGN_OR_RETURN(std::vector<Row> claim,
                   tx.Query(absl::StrCat("SELECT ", kClaimCols, " FROM subsidy_claims WHERE id = ?"),
                            {claim_id}));
  *out = ClaimFromRow(claim[0]);
  return absl::OkStatus();
}

absl::Status PlacementLogic::DecideSubsidyClaim(Transaction& tx, const Caller& caller,
                                                absl::Time now,
                                                const v1::DecideSubsidyClaimRequest& r,
                                                v1::SubsidyClaim* out) const {
  RETURN_IF_ERROR(ValidateText(r.note(), 500, false, "note"));
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kClaimCols, " FROM subsidy_claims WHERE id = ?"),
                            {r.claim_id()}));
  if (rows.empty()) return CaseNotFound("claim");
  v1::SubsidyClaim c = ClaimFromRow(rows[0]);
  if (!caller.Covers(c.division())) return CaseNotFound("claim");
  if (c.state() != v1::CLAIM_STATE_FILED) {
    return absl::FailedPreconditionError("the claim is already decided");
  }
  v1::ClaimState state = r.approve() ? v1::CLAIM_STATE_APPROVED : v1::CLAIM_STATE_REJECTED;
  RETURN_IF_ERROR(tx.Exec("UPDATE subsidy_claims SET state = ?, note = ?, decided_at = ? WHERE id = ?",
                          {static_cast<int64_t>(state), r.note(), Micros(now), r.claim_id()}));
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
  std::string employer = IsEmployer(caller) ? caller.organization() : "";
  std::string pattern = IsEmployer(caller) ? "%" : ScopePattern(caller);
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query(absl::StrCat("SELECT ", kClaimCols,
                            " FROM subsidy_claims WHERE id > ? AND division LIKE ? "
                            "AND (? = '' OR employer = ?) AND (? = 0 OR state = ?) "
                            "ORDER BY id LIMIT ?"),
               {after, pattern, employer, employer, static_cast<int64_t>(request.state()),
                static_cast<int64_t>(request.state()), static_cast<int64_t>(limit + 1)}));
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    *out->add_claims() = ClaimFromRow(rows[i]);
  }
  if (static_cast<int>(rows.size()) > limit) {
    out->mutable_page()->set_next_page_token(EncodeToken(absl::StrCat(rows[limit - 1].GetInt(0))));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- reconciliation

absl::Status PlacementLogic::SeekersMissingLaborIndex(ReadTransaction& tx, const Caller& caller,
                                                      int limit,
                                                      std::vector<std::string>* case_ids) const {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT case_id FROM seekers WHERE labor_index IS NULL "
                            "AND division LIKE ? AND EXISTS (SELECT 1 FROM placements p "
                            "WHERE p.case_id = seekers.case_id) ORDER BY case_id LIMIT ?",
                            {ScopePattern(caller), static_cast<int64_t>(limit)}));
  for (const Row& r : rows) case_ids->push_back(r.GetString(0));
  return absl::OkStatus();
}

absl::Status PlacementLogic::StoreLaborIndices(
    Transaction& tx, const std::vector<std::pair<std::string, std::string>>& indices) const {
  for (const auto& [case_id, index] : indices) {
    // Empty: the registry has none; kept so the backfill does not ask again.
    RETURN_IF_ERROR(tx.Exec("UPDATE seekers SET labor_index = ? WHERE case_id = ?",
                            {Blob{index}, case_id}));
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
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        tx.Query(absl::StrCat("SELECT ", kPlacementCols,
                              ", (SELECT labor_index FROM seekers s WHERE s.case_id = "
                              "placements.case_id), (SELECT consent_scopes FROM seekers s "
                              "WHERE s.case_id = placements.case_id) FROM placements "
                              "WHERE id >= ? AND division LIKE ? AND contract_start <= ? "
                              "ORDER BY id LIMIT ?"),
                 {cursor, ScopePattern(caller), DayText(as_of), static_cast<int64_t>(kBatch)}));
    for (const Row& r : rows) {
      const int64_t id = r.GetInt(0);
      cursor = id + 1;
      if (bureau) {
        bool shared = false;
        for (const std::string& sc : SplitTags(r.GetString(14))) {
          shared |= sc == absl::StrCat(static_cast<int>(v1::CONSENT_SCOPE_SHARE_WITH_LABOR_BUREAU));
        }
        if (!shared) continue;
      }
      // A placement is counted on the page that finishes it (a page may end inside one).
      const int64_t first = id == from_id ? skip : 0;
      const std::string& index = r.GetString(13);
      if (index.empty()) {
        out->set_placements_examined(out->placements_examined() + 1);
        out->set_placements_without_index(out->placements_without_index() + 1);
        continue;
      }
      v1::PlacementRecord p;
      RETURN_IF_ERROR(PlacementFromRow(tx, r, &p));
      // Not even the absence of a row may tell the bureau of a suspension: it is
      // reconciled as the active placement the bureau sees (PlacementState). The rows
      // keep the case id for the read audit; the service clears it from the reply.
      if (bureau && p.state() == v1::PLACEMENT_STATE_SUSPENDED) {
        p.set_state(v1::PLACEMENT_STATE_ACTIVE);
      }
      ASSIGN_OR_RETURN(std::vector<Row> regs,
                       tx.Query("SELECT record_id, kind, employer, division, registered_on "
                                "FROM labor_registrations WHERE id_hash = ? AND registered_on <= ? "
                                "ORDER BY registered_on, record_id",
                                {Blob{index}, DayText(as_of)}));
      std::vector<BureauRecord> records;
      for (const Row& g : regs) {
        std::optional<absl::CivilDay> day = ParseDayText(g.GetString(4));
        if (!day.has_value()) continue;
        records.push_back(BureauRecord{g.GetString(0),
                                       static_cast<v1::RegistrationKind>(g.GetInt(1)),
                                       g.GetString(2), g.GetString(3), *day});
      }
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
      std::vector<Row> rows,
      tx.Query(absl::StrCat("SELECT ", kPlacementCols,
                            " FROM placements WHERE id > ? AND division LIKE ? "
                            "AND contract_start >= ? AND contract_start <= ? ORDER BY id LIMIT ?"),
               {after_id, ScopePattern(caller), DayText(start), DayText(end),
                static_cast<int64_t>(limit)}));
  for (const Row& r : rows) {
    v1::PlacementRecord p;
    RETURN_IF_ERROR(PlacementFromRow(tx, r, &p));
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
  std::string pattern = ScopePattern(caller);
  if (!r.division_prefix().empty()) {
    RETURN_IF_ERROR(ValidateDivisionPrefix(r.division_prefix(), "division_prefix"));
    std::string padded = r.division_prefix() + std::string(6 - r.division_prefix().size(), '0');
    // The prefix must lie inside the caller's jurisdiction.
    if (caller.jurisdiction() != kNationalJurisdiction &&
        (r.division_prefix().size() < caller.jurisdiction().size() || !caller.Covers(padded))) {
      return absl::InvalidArgumentError("division_prefix: outside the caller's jurisdiction");
    }
    pattern = r.division_prefix() + "%";
  }
  std::string s = DayText(period.first), e = DayText(period.second);
  ASSIGN_OR_RETURN(
      std::vector<Row> seekers,
      tx.Query("SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM placements p "
               "WHERE p.case_id = s.case_id AND p.contract_start <= ?) THEN 1 ELSE 0 END), 0) "
               "FROM seekers s WHERE s.division LIKE ? AND s.registered_on >= ? "
               "AND s.registered_on <= ?",
               {e, pattern, s, e}));
  out->set_seekers_registered(seekers[0].GetInt(0));
  out->set_seekers_placed(seekers[0].GetInt(1));
  out->set_placement_rate(out->seekers_registered() == 0
                              ? 0.0
                              : static_cast<double>(out->seekers_placed()) /
                                    static_cast<double>(out->seekers_registered()));
  ASSIGN_OR_RETURN(std::vector<Row> placements,
                   tx.Query("SELECT COUNT(*), COALESCE(SUM(one_year), 0) FROM placements "
                            "WHERE division LIKE ? AND contract_start >= ? AND contract_start <= ?",
                            {pattern, s, e}));
  out->set_placements(placements[0].GetInt(0));
  out->set_contracts_one_year_or_more(placements[0].GetInt(1));
  out->set_share_contracts_one_year_or_more(
      out->placements() == 0 ? 0.0
                             : static_cast<double>(out->contracts_one_year_or_more()) /
                                   static_cast<double>(out->placements()));
  for (int months : {6, 12}) {
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        tx.Query("SELECT rc.outcome, COUNT(*) FROM retention_checks rc JOIN placements p "
                 "ON p.id = rc.placement_id WHERE p.division LIKE ? AND p.contract_start >= ? "
                 "AND p.contract_start <= ? AND rc.months = ? GROUP BY rc.outcome",
                 {pattern, s, e, static_cast<int64_t>(months)}));
    int64_t kept = 0, left = 0, unknown = 0;
    for (const Row& row : rows) {
      switch (row.GetInt(0)) {
        case v1::RETENTION_OUTCOME_STILL_EMPLOYED: kept = row.GetInt(1); break;
        case v1::RETENTION_OUTCOME_LEFT: left = row.GetInt(1); break;
        case v1::RETENTION_OUTCOME_UNKNOWN: unknown = row.GetInt(1); break;
        default: break;
      }
    }
    // A placement that ended before the checkpoint (left earlier) counts as not retained.
    ASSIGN_OR_RETURN(
        std::vector<Row> lapsed,
        tx.Query("SELECT COUNT(*) FROM retention_checks rc JOIN placements p "
                 "ON p.id = rc.placement_id WHERE p.division LIKE ? AND p.contract_start >= ? "
                 "AND p.contract_start <= ? AND rc.months = ? AND rc.outcome = ? "
                 "AND EXISTS (SELECT 1 FROM retention_checks x WHERE x.placement_id = p.id "
                 "AND x.outcome = ?)",
                 {pattern, s, e, static_cast<int64_t>(months),
                  static_cast<int64_t>(v1::RETENTION_OUTCOME_LAPSED),
                  static_cast<int64_t>(v1::RETENTION_OUTCOME_LEFT)}));
    left += lapsed[0].GetInt(0);
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
