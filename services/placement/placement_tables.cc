#include "services/placement/placement_tables.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/codec/proto_date.h"
#include "common/program_status/program_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace placement {
namespace {

// ---------------------------------------------------------------- value mapping

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

void SetTimestamp(int64_t micros, google::protobuf::Timestamp* out) {
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

template <typename Range>
std::string JoinTags(const Range& tags) {
  return absl::StrJoin(tags, ",");
}

std::vector<std::string> SplitTags(const std::string& text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, ',');
}

// Unset or unparsable text leaves the date unset.
void SetDate(const std::string& text, common::v1::Date* out) {
  std::optional<absl::CivilDay> d = ParseDayText(text);
  if (d.has_value()) ToProtoDate(*d, out);
}

// DayText of a set date; "" for an unset one.
std::string DateText(const common::v1::Date& d) { return IsDateSet(d) ? DayText(DayOf(d)) : ""; }

// A set date's DayText, or NULL.
Value NullableDate(const common::v1::Date& d) {
  if (!IsDateSet(d)) return std::monostate();
  return DayText(DayOf(d));
}

Value NullableText(const std::string& s) {
  if (s.empty()) return std::monostate();
  return s;
}

int64_t Int(int v) { return static_cast<int64_t>(v); }

// The LIKE pattern of a division prefix (digits only, so no wildcard inside).
std::string DivisionLike(absl::string_view prefix) { return absl::StrCat(prefix, "%"); }

// The id an INSERT ... RETURNING id gave back.
absl::StatusOr<int64_t> ReturnedId(absl::StatusOr<std::vector<Row>> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::InternalError("insert returned no id");
  return (*rows)[0].GetInt(0);
}

// ---------------------------------------------------------------- rows

constexpr char kEmployerCols[] =
    "credit_code, name, kind, division, capacity, contact_name, contact_phone, updated_at";

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

constexpr char kSeekerCols[] =
    "case_id, division, state, eligibility, eligibility_basis, consent_on, consent_scopes, "
    "skills, education, preferred, min_wage, registered_on, state_since, state_reason, "
    "resume_state, updated_at";

std::vector<v1::ConsentScope> ScopesFromText(const std::string& text) {
  std::vector<v1::ConsentScope> scopes;
  for (const std::string& sc : SplitTags(text)) {
    int v = 0;
    if (absl::SimpleAtoi(sc, &v)) scopes.push_back(static_cast<v1::ConsentScope>(v));
  }
  return scopes;
}

SeekerRow SeekerFromRow(const Row& r) {
  SeekerRow out;
  v1::Seeker& s = out.seeker;
  s.set_case_id(r.GetString(0));
  s.set_division(r.GetString(1));
  s.set_state(static_cast<v1::SeekerState>(r.GetInt(2)));
  s.set_eligibility(static_cast<v1::Eligibility>(r.GetInt(3)));
  s.set_eligibility_basis(r.GetString(4));
  SetDate(r.GetString(5), s.mutable_consent()->mutable_given_on());
  for (v1::ConsentScope sc : ScopesFromText(r.GetString(6))) s.mutable_consent()->add_scopes(sc);
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

constexpr char kPlacementCols[] =
    "id, case_id, division, employer, posting_id, mode, contract_start, contract_end, one_year, "
    "state, ended_on, state_reason, created_at";
constexpr int kPlacementColCount = 13;

// The placement's own columns (kPlacementCols), without checkpoints.
v1::PlacementRecord PlacementFromRow(const Row& r) {
  v1::PlacementRecord p;
  p.set_placement_id(r.GetInt(0));
  p.set_case_id(r.GetString(1));
  p.set_division(r.GetString(2));
  p.set_employer_credit_code(r.GetString(3));
  p.set_posting_id(r.GetInt(4));
  p.set_mode(static_cast<v1::PlacementMode>(r.GetInt(5)));
  SetDate(r.GetString(6), p.mutable_contract_start());
  SetDate(r.GetString(7), p.mutable_contract_end());
  p.set_contract_one_year_or_more(r.GetInt(8) != 0);
  p.set_state(static_cast<v1::PlacementState>(r.GetInt(9)));
  SetDate(r.GetString(10), p.mutable_ended_on());
  p.set_state_reason(r.GetString(11));
  SetTimestamp(r.GetInt(12), p.mutable_created_at());
  return p;
}

// Placements with their checkpoints.
absl::StatusOr<std::vector<v1::PlacementRecord>> PlacementsWithCheckpoints(
    ReadTransaction& tx, const std::vector<Row>& rows, size_t limit) {
  std::vector<v1::PlacementRecord> out;
  for (size_t i = 0; i < rows.size() && i < limit; ++i) {
    v1::PlacementRecord p = PlacementFromRow(rows[i]);
    RETURN_IF_ERROR(LoadRetentionCheckpoints(tx, &p));
    out.push_back(std::move(p));
  }
  return out;
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

// The first column of the first row as an integer (COUNT, SUM).
absl::StatusOr<int64_t> SingleInt(absl::StatusOr<std::vector<Row>> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::InternalError("aggregate returned no row");
  return (*rows)[0].GetInt(0);
}

}  // namespace

// ---------------------------------------------------------------- schema

// Integers are BIGINT; generated keys and bytes are EngineMigration's tokens.
std::vector<Migration> PlacementTableMigrations() {
  return {EngineMigration("placement", 1, R"sql(
CREATE TABLE employers(
  credit_code TEXT PRIMARY KEY, name TEXT NOT NULL, kind BIGINT NOT NULL,
  division TEXT NOT NULL, capacity BIGINT NOT NULL, contact_name TEXT NOT NULL,
  contact_phone TEXT NOT NULL, updated_at BIGINT NOT NULL);
CREATE INDEX employers_division ON employers(division, credit_code);
CREATE TABLE seekers(
  case_id TEXT PRIMARY KEY, division TEXT NOT NULL, state BIGINT NOT NULL,
  eligibility BIGINT NOT NULL, eligibility_basis TEXT NOT NULL, consent_on TEXT NOT NULL,
  consent_scopes TEXT NOT NULL, skills TEXT NOT NULL, education BIGINT NOT NULL,
  preferred TEXT NOT NULL, min_wage BIGINT NOT NULL, registered_on TEXT NOT NULL,
  state_since TEXT NOT NULL, state_reason TEXT NOT NULL, resume_state BIGINT NOT NULL,
  updated_at BIGINT NOT NULL);
CREATE INDEX seekers_division ON seekers(division, case_id);
CREATE TABLE trainings(
  id {AUTO_ID}, case_id TEXT NOT NULL, course TEXT NOT NULL, provider TEXT NOT NULL,
  start_on TEXT NOT NULL, end_on TEXT, outcome BIGINT NOT NULL, certificate TEXT NOT NULL,
  skills TEXT NOT NULL, during_isolation BIGINT NOT NULL, recorded_at BIGINT NOT NULL);
CREATE INDEX trainings_case ON trainings(case_id, id);
CREATE TABLE postings(
  id {AUTO_ID}, source BIGINT NOT NULL, source_record_id TEXT UNIQUE,
  employer TEXT NOT NULL, employer_name TEXT NOT NULL, title TEXT NOT NULL,
  division TEXT NOT NULL, wage_min BIGINT NOT NULL, wage_max BIGINT NOT NULL,
  skills TEXT NOT NULL, openings BIGINT NOT NULL, valid_from TEXT NOT NULL,
  valid_until TEXT NOT NULL, content_hash {BLOB} NOT NULL, created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL);
CREATE INDEX postings_division ON postings(division, id);
CREATE INDEX postings_employer ON postings(employer, id);
CREATE TABLE placements(
  id {AUTO_ID}, case_id TEXT NOT NULL, division TEXT NOT NULL,
  employer TEXT NOT NULL, posting_id BIGINT NOT NULL, mode BIGINT NOT NULL,
  contract_start TEXT NOT NULL, contract_end TEXT, one_year BIGINT NOT NULL,
  state BIGINT NOT NULL, ended_on TEXT, state_reason TEXT NOT NULL,
  created_at BIGINT NOT NULL);
CREATE INDEX placements_case ON placements(case_id, id);
CREATE INDEX placements_division ON placements(division, id);
CREATE INDEX placements_employer ON placements(employer, id);
CREATE TABLE retention_checks(
  placement_id BIGINT NOT NULL REFERENCES placements(id), months BIGINT NOT NULL,
  due_on TEXT NOT NULL, record_by TEXT NOT NULL, outcome BIGINT NOT NULL, checked_on TEXT,
  PRIMARY KEY(placement_id, months));
CREATE INDEX retention_checks_due ON retention_checks(outcome, due_on, placement_id);
CREATE TABLE labor_registrations(
  record_id TEXT PRIMARY KEY, kind BIGINT NOT NULL, id_hash {BLOB} NOT NULL,
  employer TEXT NOT NULL, division TEXT NOT NULL, registered_on TEXT NOT NULL,
  content_hash {BLOB} NOT NULL, imported_at BIGINT NOT NULL);
CREATE INDEX labor_registrations_id_hash ON labor_registrations(id_hash);
CREATE TABLE subsidy_claims(
  id {AUTO_ID}, employer TEXT NOT NULL, division TEXT NOT NULL, tier TEXT NOT NULL,
  period_start TEXT NOT NULL, period_end TEXT NOT NULL, placement_ids TEXT NOT NULL,
  amount_fen BIGINT NOT NULL, state BIGINT NOT NULL, note TEXT NOT NULL,
  filed_at BIGINT NOT NULL, decided_at BIGINT);
CREATE INDEX subsidy_claims_employer ON subsidy_claims(employer, id);
CREATE TABLE subsidy_claim_placements(
  claim_id BIGINT NOT NULL REFERENCES subsidy_claims(id), placement_id BIGINT NOT NULL,
  tier TEXT NOT NULL, PRIMARY KEY(claim_id, placement_id));
CREATE INDEX subsidy_claim_placements_p ON subsidy_claim_placements(placement_id, tier);
)sql"),
          // The labor exchange index of the seeker's ID number (registry
          // CaseFacts.labor_exchange_index): NULL = not fetched yet, empty = the registry
          // has none (sealed or unknown). Matches labor_registrations.id_hash.
          EngineMigration("placement", 2, R"sql(
ALTER TABLE seekers ADD COLUMN labor_index {BLOB};
CREATE INDEX labor_registrations_match ON labor_registrations(id_hash, registered_on);
)sql")};
}

// ---------------------------------------------------------------- employers

absl::StatusOr<std::optional<v1::Employer>> LoadEmployer(ReadTransaction& tx,
                                                         absl::string_view credit_code) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kEmployerCols,
                                         " FROM employers WHERE credit_code = ?"),
                            {std::string(credit_code)}));
  if (rows.empty()) return std::optional<v1::Employer>();
  return std::optional<v1::Employer>(EmployerFromRow(rows[0]));
}

absl::StatusOr<v1::EmployerKind> LoadEmployerKind(ReadTransaction& tx,
                                                  absl::string_view credit_code) {
  if (credit_code.empty()) return v1::EMPLOYER_KIND_UNSPECIFIED;
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT kind FROM employers WHERE credit_code = ?",
                            {std::string(credit_code)}));
  if (rows.empty()) return v1::EMPLOYER_KIND_UNSPECIFIED;
  return static_cast<v1::EmployerKind>(rows[0].GetInt(0));
}

absl::Status SaveEmployer(Transaction& tx, absl::Time now, const v1::Employer& e) {
  return tx.Exec(
      "INSERT INTO employers(credit_code, name, kind, division, capacity, contact_name, "
      "contact_phone, updated_at) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(credit_code) DO UPDATE SET "
      "name = excluded.name, kind = excluded.kind, division = excluded.division, "
      "capacity = excluded.capacity, contact_name = excluded.contact_name, "
      "contact_phone = excluded.contact_phone, updated_at = excluded.updated_at",
      {e.credit_code(), e.name(), Int(e.kind()), e.division(), Int(e.capacity()),
       e.contact_name(), e.contact_phone(), Micros(now)});
}

namespace {

// The filters of an employer list (all but the keyset and limit), shared by its page
// and its count; appends their parameters.
std::string EmployerWhere(const EmployerFilter& f, std::vector<Value>* params) {
  params->insert(params->end(), {DivisionLike(f.scope_prefix), DivisionLike(f.division_prefix),
                                 Int(f.kind), Int(f.kind), f.credit_code, f.credit_code});
  return "division LIKE ? AND division LIKE ? AND (CAST(? AS BIGINT) = 0 OR kind = ?) "
         "AND (CAST(? AS TEXT) = '' OR credit_code = ?)";
}

}  // namespace

absl::StatusOr<std::vector<v1::Employer>> SelectEmployers(ReadTransaction& tx,
                                                          const EmployerFilter& f) {
  std::vector<Value> params = {f.after_credit_code};
  const std::string where = EmployerWhere(f, &params);
  const Value limit = Int(f.limit);  // a copy: GCC 12 misreads a moved variant temporary
  params.push_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kEmployerCols,
                                         " FROM employers WHERE credit_code > ? AND ", where,
                                         " ORDER BY credit_code LIMIT ?"),
                            params));
  std::vector<v1::Employer> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(EmployerFromRow(r));
  return out;
}

absl::StatusOr<int64_t> CountEmployers(ReadTransaction& tx, const EmployerFilter& f) {
  std::vector<Value> params;
  const std::string where = EmployerWhere(f, &params);
  return SingleInt(tx.Query(absl::StrCat("SELECT COUNT(*) FROM employers WHERE ", where), params));
}

// ---------------------------------------------------------------- seekers

absl::StatusOr<std::optional<SeekerRow>> LoadSeeker(ReadTransaction& tx,
                                                    absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kSeekerCols, " FROM seekers WHERE case_id = ?"),
                            {std::string(case_id)}));
  if (rows.empty()) return std::optional<SeekerRow>();
  return std::optional<SeekerRow>(SeekerFromRow(rows[0]));
}

absl::Status SaveSeeker(Transaction& tx, absl::Time now, const SeekerRow& row) {
  const v1::Seeker& s = row.seeker;
  std::vector<std::string> scopes;
  for (int sc : s.consent().scopes()) scopes.push_back(absl::StrCat(sc));
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
      {s.case_id(), s.division(), Int(s.state()), Int(s.eligibility()), s.eligibility_basis(),
       DateText(s.consent().given_on()), JoinTags(scopes), JoinTags(s.skills()),
       Int(s.education()), JoinTags(s.preferred_divisions()), Int(s.min_monthly_wage()),
       DateText(s.registered_on()), DateText(s.state_since()), s.state_reason(),
       Int(row.resume_state), Micros(now)});
}

absl::StatusOr<std::optional<std::string>> LoadSeekerLaborIndex(ReadTransaction& tx,
                                                                absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT labor_index FROM seekers WHERE case_id = ?",
                            {std::string(case_id)}));
  if (rows.empty() || rows[0].IsNull(0)) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].GetString(0));
}

absl::Status SaveSeekerLaborIndex(Transaction& tx, absl::string_view case_id,
                                  absl::string_view index) {
  return tx.Exec("UPDATE seekers SET labor_index = ? WHERE case_id = ?",
                 {Blob{std::string(index)}, std::string(case_id)});
}

namespace {

// The filters of a seeker list, shared by its page and its count.
std::string SeekerWhere(const SeekerFilter& f, std::vector<Value>* params) {
  params->insert(params->end(), {DivisionLike(f.division_prefix), Int(f.state), Int(f.state)});
  return "division LIKE ? AND (CAST(? AS BIGINT) = 0 OR state = ?)";
}

}  // namespace

absl::StatusOr<std::vector<SeekerRow>> SelectSeekers(ReadTransaction& tx,
                                                     const SeekerFilter& f) {
  std::vector<Value> params = {f.after_case_id};
  const std::string where = SeekerWhere(f, &params);
  const Value limit = Int(f.limit);  // a copy: GCC 12 misreads a moved variant temporary
  params.push_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kSeekerCols,
                                         " FROM seekers WHERE case_id > ? AND ", where,
                                         " ORDER BY case_id LIMIT ?"),
                            params));
  std::vector<SeekerRow> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(SeekerFromRow(r));
  return out;
}

absl::StatusOr<int64_t> CountSeekers(ReadTransaction& tx, const SeekerFilter& f) {
  std::vector<Value> params;
  const std::string where = SeekerWhere(f, &params);
  return SingleInt(tx.Query(absl::StrCat("SELECT COUNT(*) FROM seekers WHERE ", where), params));
}

absl::Status ScanSeekers(ReadTransaction& tx, absl::string_view division_prefix,
                         v1::SeekerState state, v1::Eligibility eligibility,
                         const std::function<bool(const v1::Seeker&)>& fn) {
  return tx.QueryEach(
      absl::StrCat("SELECT ", kSeekerCols,
                   " FROM seekers WHERE division LIKE ? AND state = ? AND eligibility = ?"),
      {DivisionLike(division_prefix), Int(state), Int(eligibility)},
      [&](const Row& r) { return fn(SeekerFromRow(r).seeker); });
}

absl::StatusOr<std::vector<std::string>> SelectSeekersMissingLaborIndex(
    ReadTransaction& tx, absl::string_view division_prefix, int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT case_id FROM seekers WHERE labor_index IS NULL "
                            "AND division LIKE ? AND EXISTS (SELECT 1 FROM placements p "
                            "WHERE p.case_id = seekers.case_id) ORDER BY case_id LIMIT ?",
                            {DivisionLike(division_prefix), Int(limit)}));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(r.GetString(0));
  return out;
}

absl::StatusOr<SeekerCounts> CountSeekersRegistered(ReadTransaction& tx,
                                                    absl::string_view division_prefix,
                                                    absl::CivilDay from, absl::CivilDay to) {
  const std::string s = DayText(from), e = DayText(to);
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM placements p "
               "WHERE p.case_id = s.case_id AND p.contract_start <= ?) THEN 1 ELSE 0 END), 0) "
               "FROM seekers s WHERE s.division LIKE ? AND s.registered_on >= ? "
               "AND s.registered_on <= ?",
               {e, DivisionLike(division_prefix), s, e}));
  if (rows.empty()) return absl::InternalError("aggregate returned no row");
  return SeekerCounts{rows[0].GetInt(0), rows[0].GetInt(1)};
}

// ---------------------------------------------------------------- trainings

absl::StatusOr<int64_t> InsertTraining(Transaction& tx, absl::Time now, const v1::Training& t) {
  return ReturnedId(tx.Query(
      "INSERT INTO trainings(case_id, course, provider, start_on, end_on, outcome, certificate, "
      "skills, during_isolation, recorded_at) VALUES(?,?,?,?,?,?,?,?,?,?) RETURNING id",
      {t.case_id(), t.course(), t.provider(), DateText(t.start_on()), NullableDate(t.end_on()),
       Int(t.outcome()), t.certificate(), JoinTags(t.skills_gained()),
       static_cast<int64_t>(t.during_isolation() ? 1 : 0), Micros(now)}));
}

absl::StatusOr<std::vector<v1::Training>> SelectTrainings(ReadTransaction& tx,
                                                          absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT id, course, provider, start_on, end_on, outcome, certificate, "
                            "skills, during_isolation, recorded_at FROM trainings "
                            "WHERE case_id = ? ORDER BY id",
                            {std::string(case_id)}));
  std::vector<v1::Training> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    v1::Training t;
    t.set_training_id(r.GetInt(0));
    t.set_case_id(std::string(case_id));
    t.set_course(r.GetString(1));
    t.set_provider(r.GetString(2));
    SetDate(r.GetString(3), t.mutable_start_on());
    SetDate(r.GetString(4), t.mutable_end_on());
    t.set_outcome(static_cast<v1::TrainingOutcome>(r.GetInt(5)));
    t.set_certificate(r.GetString(6));
    for (std::string& g : SplitTags(r.GetString(7))) t.add_skills_gained(std::move(g));
    t.set_during_isolation(r.GetInt(8) != 0);
    SetTimestamp(r.GetInt(9), t.mutable_recorded_at());
    out.push_back(std::move(t));
  }
  return out;
}

// ---------------------------------------------------------------- postings

constexpr char kInsertPosting[] =
    "INSERT INTO postings(source, source_record_id, employer, employer_name, title, division, "
    "wage_min, wage_max, skills, openings, valid_from, valid_until, content_hash, created_at, "
    "updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

std::vector<Value> PostingValues(absl::Time now, const v1::Posting& p,
                                 const std::string& content_hash) {
  return {Int(p.source()), NullableText(p.source_record_id()), p.employer_credit_code(),
          p.employer_name(), p.title(), p.division(), Int(p.wage_min()), Int(p.wage_max()),
          JoinTags(p.skills()), Int(p.openings()), DayText(DayOf(p.valid_from())),
          DayText(DayOf(p.valid_until())), Blob{content_hash}, Micros(now), Micros(now)};
}

absl::StatusOr<int64_t> InsertPosting(Transaction& tx, absl::Time now, const v1::Posting& p,
                                      const std::string& content_hash) {
  return ReturnedId(tx.Query(absl::StrCat(kInsertPosting, " RETURNING id"),
                             PostingValues(now, p, content_hash)));
}

absl::StatusOr<std::optional<v1::Posting>> LoadPosting(ReadTransaction& tx, int64_t posting_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kPostingCols, " FROM postings WHERE id = ?"),
                            {posting_id}));
  if (rows.empty()) return std::optional<v1::Posting>();
  return std::optional<v1::Posting>(PostingFromRow(rows[0]));
}

absl::StatusOr<std::optional<ImportedPosting>> LoadImportedPosting(
    ReadTransaction& tx, absl::string_view source_record_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT id, content_hash FROM postings WHERE source_record_id = ?",
                            {std::string(source_record_id)}));
  if (rows.empty()) return std::optional<ImportedPosting>();
  return std::optional<ImportedPosting>(ImportedPosting{rows[0].GetInt(0), rows[0].GetString(1)});
}

absl::StatusOr<std::map<std::string, ImportedPosting>> LoadImportedPostings(
    ReadTransaction& tx, const std::vector<std::string>& source_record_ids) {
  constexpr size_t kIdsPerStatement = 500;
  std::map<std::string, ImportedPosting> out;
  for (size_t begin = 0; begin < source_record_ids.size(); begin += kIdsPerStatement) {
    const size_t end = std::min(source_record_ids.size(), begin + kIdsPerStatement);
    std::vector<Value> params(source_record_ids.begin() + begin, source_record_ids.begin() + end);
    std::string marks;
    for (size_t i = begin; i < end; ++i) absl::StrAppend(&marks, i == begin ? "?" : ", ?");
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        tx.Query(absl::StrCat("SELECT source_record_id, id, content_hash FROM postings "
                              "WHERE source_record_id IN (", marks, ")"),
                 params));
    for (const Row& r : rows) {
      out[r.GetString(0)] = ImportedPosting{r.GetInt(1), r.GetString(2)};
    }
  }
  return out;
}

absl::Status InsertImportedPostings(Transaction& tx, absl::Time now,
                                    const std::vector<ImportedPostingToInsert>& postings) {
  constexpr size_t kRowsPerStatement = 200;  // 15 parameters a row
  constexpr char kOneRow[] = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  for (size_t begin = 0; begin < postings.size(); begin += kRowsPerStatement) {
    const size_t end = std::min(postings.size(), begin + kRowsPerStatement);
    std::string sql =
        "INSERT INTO postings(source, source_record_id, employer, employer_name, title, "
        "division, wage_min, wage_max, skills, openings, valid_from, valid_until, content_hash, "
        "created_at, updated_at) VALUES";
    std::vector<Value> params;
    params.reserve((end - begin) * 15);
    for (size_t i = begin; i < end; ++i) {
      absl::StrAppend(&sql, i == begin ? "" : ",", kOneRow);
      for (Value& v : PostingValues(now, *postings[i].posting, *postings[i].content_hash)) {
        params.push_back(std::move(v));
      }
    }
    RETURN_IF_ERROR(tx.Exec(sql, params));
  }
  return absl::OkStatus();
}

absl::Status UpdateImportedPosting(Transaction& tx, absl::Time now, int64_t posting_id,
                                   const v1::Posting& p, const std::string& content_hash) {
  return tx.Exec(
      "UPDATE postings SET employer = ?, employer_name = ?, title = ?, division = ?, "
      "wage_min = ?, wage_max = ?, skills = ?, openings = ?, valid_from = ?, "
      "valid_until = ?, content_hash = ?, updated_at = ? WHERE id = ?",
      {p.employer_credit_code(), p.employer_name(), p.title(), p.division(), Int(p.wage_min()),
       Int(p.wage_max()), JoinTags(p.skills()), Int(p.openings()),
       DayText(DayOf(p.valid_from())), DayText(DayOf(p.valid_until())), Blob{content_hash},
       Micros(now), posting_id});
}

absl::Status TakePostingOpening(Transaction& tx, int64_t posting_id) {
  return tx.Exec("UPDATE postings SET openings = openings - 1 WHERE id = ?", {posting_id});
}

namespace {

// The filters of a posting list, shared by its page and its count.
std::string PostingWhere(const PostingFilter& f, std::vector<Value>* params) {
  const std::string open_on = f.open_on.has_value() ? DayText(*f.open_on) : "";
  params->insert(params->end(), {DivisionLike(f.division_prefix), f.employer, f.employer,
                                 open_on, open_on, open_on});
  return "division LIKE ? AND (CAST(? AS TEXT) = '' OR employer = ?) "
         "AND (CAST(? AS TEXT) = '' OR (valid_from <= ? AND valid_until >= ?))";
}

}  // namespace

absl::StatusOr<std::vector<v1::Posting>> SelectPostings(ReadTransaction& tx,
                                                        const PostingFilter& f) {
  std::vector<Value> params = {f.after_id};
  const std::string where = PostingWhere(f, &params);
  const Value limit = Int(f.limit);  // a copy: GCC 12 misreads a moved variant temporary
  params.push_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kPostingCols, " FROM postings WHERE id > ? AND ",
                                         where, " ORDER BY id LIMIT ?"),
                            params));
  std::vector<v1::Posting> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(PostingFromRow(r));
  return out;
}

absl::StatusOr<int64_t> CountPostings(ReadTransaction& tx, const PostingFilter& f) {
  std::vector<Value> params;
  const std::string where = PostingWhere(f, &params);
  return SingleInt(tx.Query(absl::StrCat("SELECT COUNT(*) FROM postings WHERE ", where), params));
}

absl::Status ScanOpenPostings(
    ReadTransaction& tx, absl::string_view division_prefix, absl::CivilDay day,
    const std::function<bool(const v1::Posting&, v1::EmployerKind)>& fn) {
  const std::string d = DayText(day);
  return tx.QueryEach(
      "SELECT p.id, p.source, p.source_record_id, p.employer, p.employer_name, "
      "p.title, p.division, p.wage_min, p.wage_max, p.skills, p.openings, "
      "p.valid_from, p.valid_until, e.kind FROM postings p LEFT JOIN employers e "
      "ON e.credit_code = p.employer WHERE p.division LIKE ? AND p.openings > 0 "
      "AND p.valid_from <= ? AND p.valid_until >= ?",
      {DivisionLike(division_prefix), d, d}, [&](const Row& r) {
        return fn(PostingFromRow(r), static_cast<v1::EmployerKind>(r.GetInt(13)));
      });
}

// ---------------------------------------------------------------- placements

absl::StatusOr<int64_t> InsertPlacement(Transaction& tx, absl::Time now,
                                        const v1::PlacementRecord& p) {
  return ReturnedId(tx.Query(
      "INSERT INTO placements(case_id, division, employer, posting_id, mode, contract_start, "
      "contract_end, one_year, state, ended_on, state_reason, created_at) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
      {p.case_id(), p.division(), p.employer_credit_code(), p.posting_id(), Int(p.mode()),
       DateText(p.contract_start()), NullableDate(p.contract_end()),
       static_cast<int64_t>(p.contract_one_year_or_more() ? 1 : 0), Int(p.state()),
       NullableDate(p.ended_on()), p.state_reason(), Micros(now)}));
}

absl::Status InsertRetentionCheckpoints(Transaction& tx, int64_t placement_id,
                                        const std::vector<Checkpoint>& checkpoints) {
  for (const Checkpoint& c : checkpoints) {
    RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO retention_checks(placement_id, months, due_on, record_by, outcome, "
        "checked_on) VALUES(?,?,?,?,0,NULL)",
        {placement_id, Int(c.months), DayText(c.due_on), DayText(c.record_by)}));
  }
  return absl::OkStatus();
}

absl::Status LoadRetentionCheckpoints(ReadTransaction& tx, v1::PlacementRecord* p) {
  ASSIGN_OR_RETURN(std::vector<Row> checks,
                   tx.Query("SELECT months, due_on, record_by, outcome, checked_on "
                            "FROM retention_checks WHERE placement_id = ? ORDER BY months",
                            {p->placement_id()}));
  p->clear_checkpoints();
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

absl::StatusOr<std::optional<v1::PlacementRecord>> LoadPlacement(ReadTransaction& tx,
                                                                 int64_t placement_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kPlacementCols, " FROM placements WHERE id = ?"),
                            {placement_id}));
  if (rows.empty()) return std::optional<v1::PlacementRecord>();
  v1::PlacementRecord p = PlacementFromRow(rows[0]);
  RETURN_IF_ERROR(LoadRetentionCheckpoints(tx, &p));
  return std::optional<v1::PlacementRecord>(std::move(p));
}

absl::StatusOr<std::string> LoadPlacementCaseId(ReadTransaction& tx, int64_t placement_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT case_id FROM placements WHERE id = ?", {placement_id}));
  return rows.empty() ? std::string() : rows[0].GetString(0);
}

absl::StatusOr<int64_t> LoadOpenPlacementId(ReadTransaction& tx, absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT id FROM placements WHERE case_id = ? AND state IN (?, ?) "
                            "ORDER BY id DESC LIMIT 1",
                            {std::string(case_id), Int(v1::PLACEMENT_STATE_ACTIVE),
                             Int(v1::PLACEMENT_STATE_SUSPENDED)}));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::StatusOr<std::optional<absl::CivilDay>> LoadNextRetentionDue(ReadTransaction& tx,
                                                                   absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT rc.due_on FROM retention_checks rc JOIN placements p "
                            "ON p.id = rc.placement_id WHERE p.case_id = ? AND p.state = ? "
                            "AND rc.outcome = 0 ORDER BY rc.due_on LIMIT 1",
                            {std::string(case_id), Int(v1::PLACEMENT_STATE_ACTIVE)}));
  if (rows.empty()) return std::optional<absl::CivilDay>();
  return ParseDayText(rows[0].GetString(0));
}

absl::Status SavePlacementState(Transaction& tx, int64_t placement_id, v1::PlacementState state,
                                absl::string_view reason) {
  return tx.Exec("UPDATE placements SET state = ?, state_reason = ? WHERE id = ?",
                 {Int(state), std::string(reason), placement_id});
}

absl::Status SavePlacementEnded(Transaction& tx, int64_t placement_id, absl::CivilDay ended_on,
                                std::optional<std::string> reason) {
  if (reason.has_value()) {
    return tx.Exec("UPDATE placements SET state = ?, state_reason = ?, ended_on = ? WHERE id = ?",
                   {Int(v1::PLACEMENT_STATE_ENDED), *std::move(reason), DayText(ended_on),
                    placement_id});
  }
  return tx.Exec("UPDATE placements SET state = ?, ended_on = ? WHERE id = ?",
                 {Int(v1::PLACEMENT_STATE_ENDED), DayText(ended_on), placement_id});
}

absl::Status SaveRetentionOutcome(Transaction& tx, int64_t placement_id, int months,
                                  v1::RetentionOutcome outcome, absl::CivilDay checked_on) {
  return tx.Exec(
      "UPDATE retention_checks SET outcome = ?, checked_on = ? WHERE placement_id = ? AND months = ?",
      {Int(outcome), DayText(checked_on), placement_id, Int(months)});
}

absl::Status LapseRetentionChecksDueAfter(Transaction& tx, int64_t placement_id,
                                          absl::CivilDay day) {
  return tx.Exec(
      "UPDATE retention_checks SET outcome = ? WHERE placement_id = ? AND outcome = 0 "
      "AND due_on > ?",
      {Int(v1::RETENTION_OUTCOME_LAPSED), placement_id, DayText(day)});
}

absl::Status LapseRetentionChecksAfterMonths(Transaction& tx, int64_t placement_id, int months) {
  return tx.Exec(
      "UPDATE retention_checks SET outcome = ? WHERE placement_id = ? AND outcome = 0 "
      "AND months > ?",
      {Int(v1::RETENTION_OUTCOME_LAPSED), placement_id, Int(months)});
}

namespace {

// The filters of a placement list, shared by its page and its count.
std::string PlacementWhere(const PlacementFilter& f, std::vector<Value>* params) {
  params->insert(params->end(), {DivisionLike(f.division_prefix), f.employer, f.employer,
                                 f.case_id, f.case_id, f.state, f.state, f.also_state});
  return "division LIKE ? AND (CAST(? AS TEXT) = '' OR employer = ?) "
         "AND (CAST(? AS TEXT) = '' OR case_id = ?) "
         "AND (CAST(? AS BIGINT) = 0 OR state = ? OR state = ?)";
}

}  // namespace

absl::StatusOr<std::vector<v1::PlacementRecord>> SelectPlacements(ReadTransaction& tx,
                                                                  const PlacementFilter& f) {
  std::vector<Value> params = {f.after_id};
  const std::string where = PlacementWhere(f, &params);
  const Value limit = Int(f.limit);  // a copy: GCC 12 misreads a moved variant temporary
  params.push_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kPlacementCols,
                                         " FROM placements WHERE id > ? AND ", where,
                                         " ORDER BY id LIMIT ?"),
                            params));
  return PlacementsWithCheckpoints(tx, rows, rows.size());
}

absl::StatusOr<int64_t> CountPlacements(ReadTransaction& tx, const PlacementFilter& f) {
  std::vector<Value> params;
  const std::string where = PlacementWhere(f, &params);
  return SingleInt(
      tx.Query(absl::StrCat("SELECT COUNT(*) FROM placements WHERE ", where), params));
}

absl::StatusOr<std::vector<v1::PlacementRecord>> SelectPlacementsStarting(
    ReadTransaction& tx, absl::string_view division_prefix, absl::CivilDay from,
    absl::CivilDay to, int64_t after_id, int limit) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query(absl::StrCat("SELECT ", kPlacementCols,
                            " FROM placements WHERE id > ? AND division LIKE ? "
                            "AND contract_start >= ? AND contract_start <= ? ORDER BY id LIMIT ?"),
               {after_id, DivisionLike(division_prefix), DayText(from), DayText(to),
                Int(limit)}));
  return PlacementsWithCheckpoints(tx, rows, rows.size());
}

namespace {

// The filters of a due check list (all but the keyset and limit), shared by its page
// and its count.
std::string DueCheckWhere(const DueCheckFilter& f, std::vector<Value>* params) {
  params->insert(params->end(), {DayText(f.as_of), f.state, f.also_state,
                                 DivisionLike(f.division_prefix), f.employer, f.employer});
  return "rc.outcome = 0 AND rc.due_on <= ? AND (p.state = ? OR p.state = ?) "
         "AND p.division LIKE ? AND (CAST(? AS TEXT) = '' OR p.employer = ?)";
}

constexpr absl::string_view kDueCheckFrom =
    " FROM retention_checks rc JOIN placements p ON p.id = rc.placement_id WHERE ";

}  // namespace

absl::StatusOr<int64_t> CountDueRetentionChecks(ReadTransaction& tx, const DueCheckFilter& f) {
  std::vector<Value> params;
  const std::string where = DueCheckWhere(f, &params);
  return SingleInt(tx.Query(absl::StrCat("SELECT COUNT(*)", kDueCheckFrom, where), params));
}

absl::StatusOr<std::vector<DueCheckRow>> SelectDueRetentionChecks(ReadTransaction& tx,
                                                                  const DueCheckFilter& f) {
  std::vector<Value> params;
  const std::string where = DueCheckWhere(f, &params);
  params.insert(params.end(), {f.after_due, f.after_due, f.after_placement_id,
                               f.after_placement_id, f.after_months, Int(f.limit)});
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query(absl::StrCat("SELECT rc.placement_id, p.case_id, p.employer, rc.months, rc.due_on, "
                            "rc.record_by",
                            kDueCheckFrom, where,
                            " AND (rc.due_on > ? OR (rc.due_on = ? AND (rc.placement_id > ? OR "
                            "(rc.placement_id = ? AND rc.months > ?)))) "
                            "ORDER BY rc.due_on, rc.placement_id, rc.months LIMIT ?"),
               params));
  std::vector<DueCheckRow> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    DueCheckRow c;
    c.placement_id = r.GetInt(0);
    c.case_id = r.GetString(1);
    c.employer = r.GetString(2);
    c.months = static_cast<int>(r.GetInt(3));
    c.due_on = ParseDayText(r.GetString(4));
    c.record_by = ParseDayText(r.GetString(5));
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<std::vector<ClaimablePlacement>> SelectClaimablePlacements(
    ReadTransaction& tx, absl::string_view employer, absl::CivilDay from, absl::CivilDay to,
    absl::string_view tier) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT p.id, p.contract_start, p.contract_end FROM placements p "
               "WHERE p.employer = ? AND p.contract_start >= ? AND p.contract_start <= ? "
               "AND NOT EXISTS (SELECT 1 FROM subsidy_claim_placements cp JOIN subsidy_claims c "
               "ON c.id = cp.claim_id WHERE cp.placement_id = p.id AND cp.tier = ? "
               "AND c.state <> ?) ORDER BY p.id",
               {std::string(employer), DayText(from), DayText(to), std::string(tier),
                Int(v1::CLAIM_STATE_REJECTED)}));
  std::vector<ClaimablePlacement> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    out.push_back(ClaimablePlacement{r.GetInt(0), ParseDayText(r.GetString(1)),
                                     ParseDayText(r.GetString(2))});
  }
  return out;
}

absl::StatusOr<std::optional<v1::RetentionOutcome>> LoadRetentionOutcome(ReadTransaction& tx,
                                                                         int64_t placement_id,
                                                                         int months) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT outcome FROM retention_checks WHERE placement_id = ? "
                            "AND months = ?",
                            {placement_id, Int(months)}));
  if (rows.empty()) return std::optional<v1::RetentionOutcome>();
  return std::optional<v1::RetentionOutcome>(static_cast<v1::RetentionOutcome>(rows[0].GetInt(0)));
}

absl::StatusOr<std::vector<ReconcileRow>> SelectPlacementsToReconcile(
    ReadTransaction& tx, absl::string_view division_prefix, absl::CivilDay as_of,
    int64_t from_id, int limit) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query(absl::StrCat("SELECT ", kPlacementCols,
                            ", (SELECT labor_index FROM seekers s WHERE s.case_id = "
                            "placements.case_id), (SELECT consent_scopes FROM seekers s "
                            "WHERE s.case_id = placements.case_id) FROM placements "
                            "WHERE id >= ? AND division LIKE ? AND contract_start <= ? "
                            "ORDER BY id LIMIT ?"),
               {from_id, DivisionLike(division_prefix), DayText(as_of), Int(limit)}));
  std::vector<ReconcileRow> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    ReconcileRow c;
    c.placement = PlacementFromRow(r);
    c.labor_index = r.GetString(kPlacementColCount);
    c.consent_scopes = ScopesFromText(r.GetString(kPlacementColCount + 1));
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<PlacementCounts> CountPlacementsStarting(ReadTransaction& tx,
                                                        absl::string_view division_prefix,
                                                        absl::CivilDay from, absl::CivilDay to) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT COUNT(*), COALESCE(SUM(one_year), 0) FROM placements "
                            "WHERE division LIKE ? AND contract_start >= ? AND contract_start <= ?",
                            {DivisionLike(division_prefix), DayText(from), DayText(to)}));
  if (rows.empty()) return absl::InternalError("aggregate returned no row");
  return PlacementCounts{rows[0].GetInt(0), rows[0].GetInt(1)};
}

absl::StatusOr<std::vector<std::pair<v1::RetentionOutcome, int64_t>>> CountRetentionOutcomes(
    ReadTransaction& tx, absl::string_view division_prefix, absl::CivilDay from,
    absl::CivilDay to, int months) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT rc.outcome, COUNT(*) FROM retention_checks rc JOIN placements p "
               "ON p.id = rc.placement_id WHERE p.division LIKE ? AND p.contract_start >= ? "
               "AND p.contract_start <= ? AND rc.months = ? GROUP BY rc.outcome",
               {DivisionLike(division_prefix), DayText(from), DayText(to), Int(months)}));
  std::vector<std::pair<v1::RetentionOutcome, int64_t>> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    out.emplace_back(static_cast<v1::RetentionOutcome>(r.GetInt(0)), r.GetInt(1));
  }
  return out;
}

absl::StatusOr<int64_t> CountLapsedAfterLeaving(ReadTransaction& tx,
                                                absl::string_view division_prefix,
                                                absl::CivilDay from, absl::CivilDay to,
                                                int months) {
  return SingleInt(tx.Query(
      "SELECT COUNT(*) FROM retention_checks rc JOIN placements p "
      "ON p.id = rc.placement_id WHERE p.division LIKE ? AND p.contract_start >= ? "
      "AND p.contract_start <= ? AND rc.months = ? AND rc.outcome = ? "
      "AND EXISTS (SELECT 1 FROM retention_checks x WHERE x.placement_id = p.id "
      "AND x.outcome = ?)",
      {DivisionLike(division_prefix), DayText(from), DayText(to), Int(months),
       Int(v1::RETENTION_OUTCOME_LAPSED), Int(v1::RETENTION_OUTCOME_LEFT)}));
}

// ---------------------------------------------------------------- labor registrations

absl::StatusOr<std::optional<std::string>> LoadLaborRegistrationHash(ReadTransaction& tx,
                                                                     absl::string_view record_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT content_hash FROM labor_registrations WHERE record_id = ?",
                            {std::string(record_id)}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].GetString(0));
}

absl::StatusOr<std::optional<RegistrationRowToWrite>> LoadLaborRegistration(
    ReadTransaction& tx, absl::string_view record_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT record_id, kind, id_hash, employer, division, registered_on, "
                            "content_hash FROM labor_registrations WHERE record_id = ?",
                            {std::string(record_id)}));
  if (rows.empty()) return std::optional<RegistrationRowToWrite>();
  const Row& r = rows[0];
  return std::optional<RegistrationRowToWrite>(
      RegistrationRowToWrite{r.GetString(0), static_cast<int>(r.GetInt(1)), r.GetString(2),
                             r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6)});
}

absl::Status SaveLaborRegistration(Transaction& tx, absl::Time now,
                                   const RegistrationRowToWrite& r) {
  return tx.Exec(
      "INSERT INTO labor_registrations(record_id, kind, id_hash, employer, division, "
      "registered_on, content_hash, imported_at) VALUES(?,?,?,?,?,?,?,?) "
      "ON CONFLICT(record_id) DO UPDATE SET kind = excluded.kind, id_hash = excluded.id_hash, "
      "employer = excluded.employer, division = excluded.division, "
      "registered_on = excluded.registered_on, content_hash = excluded.content_hash, "
      "imported_at = excluded.imported_at",
      {r.record_id, Int(r.kind), Blob{r.id_hash}, r.employer, r.division, r.registered_on,
       Blob{r.content_hash}, Micros(now)});
}

absl::StatusOr<std::vector<BureauRecord>> SelectLaborRegistrations(ReadTransaction& tx,
                                                                   absl::string_view id_hash,
                                                                   absl::CivilDay as_of) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT record_id, kind, employer, division, registered_on "
                            "FROM labor_registrations WHERE id_hash = ? AND registered_on <= ? "
                            "ORDER BY registered_on, record_id",
                            {Blob{std::string(id_hash)}, DayText(as_of)}));
  std::vector<BureauRecord> out;
  out.reserve(rows.size());
  for (const Row& g : rows) {
    std::optional<absl::CivilDay> day = ParseDayText(g.GetString(4));
    if (!day.has_value()) continue;
    out.push_back(BureauRecord{g.GetString(0), static_cast<v1::RegistrationKind>(g.GetInt(1)),
                               g.GetString(2), g.GetString(3), *day});
  }
  return out;
}

// ---------------------------------------------------------------- subsidy claims

absl::StatusOr<int64_t> InsertSubsidyClaim(Transaction& tx, absl::Time now,
                                           const v1::SubsidyClaim& c) {
  ASSIGN_OR_RETURN(
      int64_t claim_id,
      ReturnedId(tx.Query(
          "INSERT INTO subsidy_claims(employer, division, tier, period_start, period_end, "
          "placement_ids, amount_fen, state, note, filed_at, decided_at) "
          "VALUES(?,?,?,?,?,?,?,?,?,?,NULL) RETURNING id",
          {c.employer_credit_code(), c.division(), c.tier(), DateText(c.period_start()),
           DateText(c.period_end()), JoinTags(c.placement_ids()), c.amount_fen(), Int(c.state()),
           c.decision_note(), Micros(now)})));
  for (int64_t pid : c.placement_ids()) {
    RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO subsidy_claim_placements(claim_id, placement_id, tier) VALUES(?,?,?)",
        {claim_id, pid, c.tier()}));
  }
  return claim_id;
}

absl::StatusOr<std::optional<v1::SubsidyClaim>> LoadSubsidyClaim(ReadTransaction& tx,
                                                                 int64_t claim_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kClaimCols, " FROM subsidy_claims WHERE id = ?"),
                            {claim_id}));
  if (rows.empty()) return std::optional<v1::SubsidyClaim>();
  return std::optional<v1::SubsidyClaim>(ClaimFromRow(rows[0]));
}

absl::Status SaveClaimDecision(Transaction& tx, absl::Time now, int64_t claim_id,
                               v1::ClaimState state, absl::string_view note) {
  return tx.Exec("UPDATE subsidy_claims SET state = ?, note = ?, decided_at = ? WHERE id = ?",
                 {Int(state), std::string(note), Micros(now), claim_id});
}

namespace {

// The filters of a claim list, shared by its page and its count.
std::string ClaimWhere(const ClaimFilter& f, std::vector<Value>* params) {
  params->insert(params->end(), {DivisionLike(f.division_prefix), f.employer, f.employer,
                                 Int(f.state), Int(f.state)});
  return "division LIKE ? AND (CAST(? AS TEXT) = '' OR employer = ?) "
         "AND (CAST(? AS BIGINT) = 0 OR state = ?)";
}

}  // namespace

absl::StatusOr<std::vector<v1::SubsidyClaim>> SelectSubsidyClaims(ReadTransaction& tx,
                                                                  const ClaimFilter& f) {
  std::vector<Value> params = {f.after_id};
  const std::string where = ClaimWhere(f, &params);
  const Value limit = Int(f.limit);  // a copy: GCC 12 misreads a moved variant temporary
  params.push_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kClaimCols,
                                         " FROM subsidy_claims WHERE id > ? AND ", where,
                                         " ORDER BY id LIMIT ?"),
                            params));
  std::vector<v1::SubsidyClaim> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(ClaimFromRow(r));
  return out;
}

absl::StatusOr<int64_t> CountSubsidyClaims(ReadTransaction& tx, const ClaimFilter& f) {
  std::vector<Value> params;
  const std::string where = ClaimWhere(f, &params);
  return SingleInt(
      tx.Query(absl::StrCat("SELECT COUNT(*) FROM subsidy_claims WHERE ", where), params));
}

// ---------------------------------------------------------------- sizes

absl::StatusOr<PlacementTableSizes> CountTableRows(ReadTransaction& tx) {
  PlacementTableSizes out;
  ASSIGN_OR_RETURN(out.employers, SingleInt(tx.Query("SELECT COUNT(*) FROM employers")));
  ASSIGN_OR_RETURN(out.seekers, SingleInt(tx.Query("SELECT COUNT(*) FROM seekers")));
  ASSIGN_OR_RETURN(out.trainings, SingleInt(tx.Query("SELECT COUNT(*) FROM trainings")));
  ASSIGN_OR_RETURN(out.postings, SingleInt(tx.Query("SELECT COUNT(*) FROM postings")));
  ASSIGN_OR_RETURN(out.placements, SingleInt(tx.Query("SELECT COUNT(*) FROM placements")));
  ASSIGN_OR_RETURN(out.labor_registrations,
                   SingleInt(tx.Query("SELECT COUNT(*) FROM labor_registrations")));
  ASSIGN_OR_RETURN(out.subsidy_claims, SingleInt(tx.Query("SELECT COUNT(*) FROM subsidy_claims")));
  return out;
}

}  // namespace placement
}  // namespace pathway
