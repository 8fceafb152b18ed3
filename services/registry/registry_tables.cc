#include "services/registry/registry_tables.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/codec/date_text.h"
#include "common/status/status_macros.h"
#include "services/registry/change_log_tables.h"
#include "services/registry/visit_tables.h"
#include "services/registry/worklist_tables.h"

namespace pathway {
namespace registry {
namespace {

// A day this layer stored (DayText); 1970-01-01 if the text is not one.
absl::CivilDay StoredDay(const std::string& s) {
  return ParseDayText(s).value_or(absl::CivilDay());
}

// Migration 1, for both engines (EngineMigration).
constexpr char kSchemaV1[] =
    // The durable case-id sequence per registering county and year: never Redis
    // (DESIGN.md §2).
    "CREATE TABLE case_sequence (division TEXT NOT NULL, year BIGINT NOT NULL,"
    "  last_sequence BIGINT NOT NULL, PRIMARY KEY(division, year));"
    "CREATE TABLE cases ("
    "  case_id TEXT PRIMARY KEY,"
    "  id_index {BLOB} NOT NULL UNIQUE,"  // HMAC-SHA-256 blind index
    "  id_cipher {BLOB} NOT NULL, name_cipher {BLOB} NOT NULL,"
    "  phone_cipher {BLOB} NOT NULL, address_cipher {BLOB} NOT NULL,"
    "  birth_date TEXT NOT NULL, sex BIGINT NOT NULL,"
    "  household_division TEXT NOT NULL, residence_division TEXT NOT NULL,"
    "  registering_division TEXT NOT NULL, drug_types TEXT NOT NULL,"
    "  route_of_use BIGINT NOT NULL, registered_on TEXT NOT NULL,"
    "  risk_grade TEXT NOT NULL, control_status BIGINT NOT NULL,"
    "  life_status BIGINT NOT NULL, abstinence_anchor TEXT NOT NULL,"
    "  open_measures BIGINT NOT NULL, version BIGINT NOT NULL,"
    "  created_us BIGINT NOT NULL, updated_us BIGINT NOT NULL);"
    "CREATE INDEX cases_newest ON cases(created_us DESC, case_id DESC);"
    "CREATE INDEX cases_household ON cases(household_division);"
    "CREATE INDEX cases_residence ON cases(residence_division);"
    "CREATE TABLE grade_history (case_id TEXT NOT NULL, seq BIGINT NOT NULL,"
    "  grade TEXT NOT NULL, previous TEXT NOT NULL, reason TEXT NOT NULL,"
    "  actor TEXT NOT NULL, effective_on TEXT NOT NULL, recorded_us BIGINT NOT NULL,"
    "  PRIMARY KEY(case_id, seq));"
    "CREATE TABLE status_history (case_id TEXT NOT NULL, recorded_us BIGINT NOT NULL,"
    "  kind TEXT NOT NULL, value BIGINT NOT NULL, effective_on TEXT NOT NULL,"
    "  reason TEXT NOT NULL, actor TEXT NOT NULL);"
    "CREATE INDEX status_history_case ON status_history(case_id, recorded_us);"
    "CREATE TABLE jurisdiction_history (case_id TEXT NOT NULL,"
    "  recorded_us BIGINT NOT NULL, household_division TEXT NOT NULL,"
    "  residence_division TEXT NOT NULL, effective_on TEXT NOT NULL,"
    "  reason TEXT NOT NULL, actor TEXT NOT NULL);"
    "CREATE INDEX jurisdiction_history_case ON jurisdiction_history(case_id, recorded_us);"
    "CREATE TABLE case_events (case_id TEXT NOT NULL, source_event_id TEXT NOT NULL,"
    "  kind BIGINT NOT NULL, program BIGINT NOT NULL, occurred_on TEXT NOT NULL,"
    "  recorded_us BIGINT NOT NULL, PRIMARY KEY(case_id, source_event_id));"
    "CREATE TABLE measures (case_id TEXT NOT NULL, program BIGINT NOT NULL,"
    "  started_on TEXT NOT NULL, ended_on TEXT);"
    "CREATE INDEX measures_open ON measures(case_id, program, ended_on);";

// Migration 2: townships and assigned caseworkers (DESIGN.md §6). The list indexes
// lead with the assignment so a township's or a caseworker's newest cases are a range.
constexpr char kSchemaV2[] =
    "ALTER TABLE cases ADD COLUMN township TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE cases ADD COLUMN assigned_caseworker TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX cases_township ON cases(township, created_us DESC, case_id DESC);"
    "CREATE INDEX cases_assigned ON cases(assigned_caseworker, created_us DESC, case_id DESC);"
    "CREATE TABLE assignment_history (case_id TEXT NOT NULL, recorded_us BIGINT NOT NULL,"
    "  township TEXT NOT NULL, caseworker TEXT NOT NULL, previous_township TEXT NOT NULL,"
    "  previous_caseworker TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL,"
    "  actor_role TEXT NOT NULL);"
    "CREATE INDEX assignment_history_case ON assignment_history(case_id, recorded_us);";

// Migration 4: keyed blind indexes of the normalised name and phone for finding a
// person (search_keys.h, search_tables.h); NULL until written at registration or by
// the start-up backfill. Name with birth date also finds possible duplicates.
constexpr char kSchemaV4[] =
    "ALTER TABLE cases ADD COLUMN name_index {BLOB};"
    "ALTER TABLE cases ADD COLUMN phone_index {BLOB};"
    "CREATE INDEX cases_name_birth ON cases(name_index, birth_date);"
    "CREATE INDEX cases_phone ON cases(phone_index);";

constexpr char kCaseColumns[] =
    "case_id, id_cipher, name_cipher, phone_cipher, address_cipher, birth_date, sex,"
    " household_division, residence_division, registering_division, drug_types,"
    " route_of_use, registered_on, risk_grade, control_status, life_status,"
    " abstinence_anchor, open_measures, version, updated_us, created_us, township,"
    " assigned_caseworker";

CaseRow CaseFromRow(const Row& row) {
  CaseRow c;
  c.case_id = row.GetString(0);
  c.id_cipher = row.GetString(1);
  c.name_cipher = row.GetString(2);
  c.phone_cipher = row.GetString(3);
  c.address_cipher = row.GetString(4);
  c.birth_date = StoredDay(row.GetString(5));
  c.sex = row.GetInt(6);
  c.household_division = row.GetString(7);
  c.residence_division = row.GetString(8);
  c.registering_division = row.GetString(9);
  c.drug_types = absl::StrSplit(row.GetString(10), ',', absl::SkipEmpty());
  c.route_of_use = row.GetInt(11);
  c.registered_on = StoredDay(row.GetString(12));
  c.risk_grade = row.GetString(13);
  c.control_status = row.GetInt(14);
  c.life_status = row.GetInt(15);
  c.abstinence_anchor = StoredDay(row.GetString(16));
  c.open_measures = row.GetInt(17);
  c.version = row.GetInt(18);
  c.updated_us = row.GetInt(19);
  c.created_us = row.GetInt(20);
  c.township = row.GetString(21);
  c.assigned_caseworker = row.GetString(22);
  return c;
}

absl::StatusOr<std::optional<CaseRow>> OneCase(ReadTransaction& tx, absl::string_view where,
                                               const std::vector<Value>& params) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kCaseColumns, " FROM cases WHERE ", where),
                            params));
  if (rows.empty()) return std::optional<CaseRow>();
  return std::optional<CaseRow>(CaseFromRow(rows[0]));
}

}  // namespace

std::vector<Migration> RegistryTableMigrations() {
  return {EngineMigration("registry", 1, kSchemaV1), EngineMigration("registry", 2, kSchemaV2),
          EngineMigration("registry", 3, kWorklistSchema),
          EngineMigration("registry", 4, kSchemaV4),
          // Step 5: visit records (visit_tables.h).
          VisitTablesMigration(),
          // Step 6: the change log of SyncCases (change_log_tables.h).
          ChangeLogMigration()};
}

absl::StatusOr<int64_t> NextCaseSequence(Transaction& tx, absl::string_view division,
                                         int64_t year) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("INSERT INTO case_sequence(division, year, last_sequence) VALUES(?, ?, 1)"
               " ON CONFLICT(division, year) DO UPDATE"
               " SET last_sequence = case_sequence.last_sequence + 1 RETURNING last_sequence",
               {std::string(division), year}));
  if (rows.empty()) return absl::InternalError("the case sequence returned no row");
  return rows[0].GetInt(0);
}

absl::Status InsertCase(Transaction& tx, const CaseRow& c, const std::string& id_index) {
  // Every write of a case row is logged for the change feed (change_log_tables.h).
  RETURN_IF_ERROR(AppendCaseChange(tx, c.case_id, c.updated_us, c.household_division,
                                   c.residence_division));
  return tx.Exec(
      absl::StrCat("INSERT INTO cases(", kCaseColumns,
                   ", id_index) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                   " ?, ?, ?, ?)"),
      {c.case_id, Blob{c.id_cipher}, Blob{c.name_cipher}, Blob{c.phone_cipher},
       Blob{c.address_cipher}, DayText(c.birth_date), c.sex, c.household_division,
       c.residence_division, c.registering_division, absl::StrJoin(c.drug_types, ","),
       c.route_of_use, DayText(c.registered_on), c.risk_grade, c.control_status, c.life_status,
       DayText(c.abstinence_anchor), c.open_measures, c.version, c.updated_us, c.created_us,
       c.township, c.assigned_caseworker, Blob{id_index}});
}

absl::StatusOr<std::optional<CaseRow>> LoadCaseRow(ReadTransaction& tx,
                                                   absl::string_view case_id) {
  return OneCase(tx, "case_id = ?", {std::string(case_id)});
}

absl::StatusOr<std::optional<CaseRow>> FindCaseRowByIndex(ReadTransaction& tx,
                                                          const std::string& id_index) {
  return OneCase(tx, "id_index = ?", {Blob{id_index}});
}

absl::StatusOr<std::optional<std::string>> FindCaseIdByIndex(ReadTransaction& tx,
                                                             const std::string& id_index) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT case_id FROM cases WHERE id_index = ?", {Blob{id_index}}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].GetString(0));
}

absl::StatusOr<std::optional<CaseScopeRow>> LoadCaseScopeRow(ReadTransaction& tx,
                                                             absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT case_id, household_division, residence_division,"
                            " abstinence_anchor, open_measures, township, assigned_caseworker"
                            " FROM cases WHERE case_id = ?",
                            {std::string(case_id)}));
  if (rows.empty()) return std::optional<CaseScopeRow>();
  CaseScopeRow c;
  c.case_id = rows[0].GetString(0);
  c.household_division = rows[0].GetString(1);
  c.residence_division = rows[0].GetString(2);
  c.abstinence_anchor = StoredDay(rows[0].GetString(3));
  c.open_measures = rows[0].GetInt(4);
  c.township = rows[0].GetString(5);
  c.assigned_caseworker = rows[0].GetString(6);
  return std::optional<CaseScopeRow>(std::move(c));
}

absl::Status UpdateCase(Transaction& tx, const CaseRow& c) {
  RETURN_IF_ERROR(AppendCaseChange(tx, c.case_id, c.updated_us, c.household_division,
                                   c.residence_division));
  return tx.Exec(
      "UPDATE cases SET household_division = ?, residence_division = ?, risk_grade = ?,"
      " control_status = ?, life_status = ?, abstinence_anchor = ?, open_measures = ?,"
      " version = ?, updated_us = ?, township = ?, assigned_caseworker = ? WHERE case_id = ?",
      {c.household_division, c.residence_division, c.risk_grade, c.control_status,
       c.life_status, DayText(c.abstinence_anchor), c.open_measures, c.version, c.updated_us,
       c.township, c.assigned_caseworker, c.case_id});
}

namespace {

// The filters of a case list (all but the keyset and limit), with their parameters.
std::string CaseListWhere(const CaseListQuery& q, std::vector<Value>* params) {
  const std::string jur = q.jurisdiction_prefix + "%";
  const std::string div = q.division_prefix + "%";
  *params = {jur, jur, div, div, q.control_status, q.control_status, q.risk_grade, q.risk_grade,
             q.scope_township, q.scope_township, q.scope_caseworker, q.township, q.township,
             q.assigned_caseworker, q.assigned_caseworker, q.program, q.program,
             q.program_state, q.program_state};
  return " (household_division LIKE ? OR residence_division LIKE ?)"
         " AND (household_division LIKE ? OR residence_division LIKE ?)"
         " AND (CAST(? AS BIGINT) = 0 OR control_status = ?)"
         " AND (CAST(? AS TEXT) = '' OR risk_grade = ?)"
         " AND (CAST(? AS TEXT) = '' OR township = ? OR assigned_caseworker = ?)"
         " AND (CAST(? AS TEXT) = '' OR township = ?)"
         " AND (CAST(? AS TEXT) = '' OR assigned_caseworker = ?)"
         " AND (CAST(? AS BIGINT) = 0 OR EXISTS (SELECT 1 FROM programme_states p"
         "   WHERE p.case_id = cases.case_id AND p.program = ?"
         "   AND (CAST(? AS TEXT) = '' OR p.state = ?)))";
}

}  // namespace

absl::StatusOr<std::vector<CaseRow>> ListCaseRows(ReadTransaction& tx, const CaseListQuery& q) {
  std::vector<Value> filters;
  const std::string where = CaseListWhere(q, &filters);
  std::vector<Value> params = {q.after_us, q.after_case_id};
  params.insert(params.end(), filters.begin(), filters.end());
  const Value limit = q.limit;  // a copy: GCC 12 misreads a moved variant temporary
  params.push_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kCaseColumns,
                                         " FROM cases WHERE (created_us, case_id) < (?, ?) AND",
                                         where, " ORDER BY created_us DESC, case_id DESC LIMIT ?"),
                            params));
  std::vector<CaseRow> out;
  out.reserve(rows.size());
  for (const Row& row : rows) out.push_back(CaseFromRow(row));
  return out;
}

absl::StatusOr<int64_t> CountCaseRows(ReadTransaction& tx, const CaseListQuery& q) {
  std::vector<Value> params;
  const std::string where = CaseListWhere(q, &params);
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT COUNT(*) FROM cases WHERE", where), params));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::StatusOr<int64_t> LastGradeSeq(ReadTransaction& tx, absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT COALESCE(MAX(seq), 0) FROM grade_history WHERE case_id = ?",
                            {std::string(case_id)}));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::Status InsertGradeChange(Transaction& tx, const GradeChangeRow& r) {
  return tx.Exec(
      "INSERT INTO grade_history(case_id, seq, grade, previous, reason, actor, effective_on,"
      " recorded_us) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
      {r.case_id, r.seq, r.grade, r.previous, r.reason, r.actor, DayText(r.effective_on),
       r.recorded_us});
}

absl::StatusOr<std::vector<GradeChangeRow>> LoadGradeHistory(ReadTransaction& tx,
                                                             absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT case_id, seq, grade, previous, reason, actor, effective_on,"
                            " recorded_us FROM grade_history WHERE case_id = ? ORDER BY seq",
                            {std::string(case_id)}));
  std::vector<GradeChangeRow> out;
  for (const Row& row : rows) {
    GradeChangeRow r;
    r.case_id = row.GetString(0);
    r.seq = row.GetInt(1);
    r.grade = row.GetString(2);
    r.previous = row.GetString(3);
    r.reason = row.GetString(4);
    r.actor = row.GetString(5);
    r.effective_on = StoredDay(row.GetString(6));
    r.recorded_us = row.GetInt(7);
    out.push_back(std::move(r));
  }
  return out;
}

absl::Status InsertJurisdictionChange(Transaction& tx, const JurisdictionChangeRow& r) {
  return tx.Exec(
      "INSERT INTO jurisdiction_history(case_id, recorded_us, household_division,"
      " residence_division, effective_on, reason, actor) VALUES(?, ?, ?, ?, ?, ?, ?)",
      {r.case_id, r.recorded_us, r.household_division, r.residence_division,
       DayText(r.effective_on), r.reason, r.actor});
}

absl::Status InsertAssignment(Transaction& tx, const AssignmentRow& r) {
  return tx.Exec(
      "INSERT INTO assignment_history(case_id, recorded_us, township, caseworker,"
      " previous_township, previous_caseworker, reason, actor, actor_role)"
      " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {r.case_id, r.recorded_us, r.township, r.caseworker, r.previous_township,
       r.previous_caseworker, r.reason, r.actor, r.actor_role});
}

absl::StatusOr<std::vector<AssignmentRow>> LoadAssignments(ReadTransaction& tx,
                                                           absl::string_view case_id) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT case_id, recorded_us, township, caseworker, previous_township,"
               " previous_caseworker, reason, actor, actor_role FROM assignment_history"
               " WHERE case_id = ? ORDER BY recorded_us",
               {std::string(case_id)}));
  std::vector<AssignmentRow> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    out.push_back({row.GetString(0), row.GetInt(1), row.GetString(2), row.GetString(3),
                   row.GetString(4), row.GetString(5), row.GetString(6), row.GetString(7),
                   row.GetString(8)});
  }
  return out;
}

absl::Status InsertStatusChange(Transaction& tx, const StatusChangeRow& r) {
  return tx.Exec(
      "INSERT INTO status_history(case_id, recorded_us, kind, value, effective_on, reason,"
      " actor) VALUES(?, ?, ?, ?, ?, ?, ?)",
      {r.case_id, r.recorded_us, r.kind, r.value, DayText(r.effective_on), r.reason, r.actor});
}

absl::StatusOr<bool> InsertCaseEventOnce(Transaction& tx, const CaseEventRow& r) {
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO case_events(case_id, source_event_id, kind, program, occurred_on,"
      " recorded_us) VALUES(?, ?, ?, ?, ?, ?)"
      " ON CONFLICT(case_id, source_event_id) DO NOTHING",
      {r.case_id, r.source_event_id, r.kind, r.program, DayText(r.occurred_on),
       r.recorded_us}));
  return tx.ChangedRows() > 0;
}

absl::StatusOr<std::optional<absl::CivilDay>> OpenMeasureStart(ReadTransaction& tx,
                                                               absl::string_view case_id,
                                                               int64_t program) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT started_on FROM measures WHERE case_id = ? AND program = ?"
                            " AND ended_on IS NULL",
                            {std::string(case_id), program}));
  if (rows.empty()) return std::optional<absl::CivilDay>();
  return std::optional<absl::CivilDay>(StoredDay(rows[0].GetString(0)));
}

absl::Status InsertOpenMeasure(Transaction& tx, absl::string_view case_id, int64_t program,
                               absl::CivilDay started_on) {
  return tx.Exec(
      "INSERT INTO measures(case_id, program, started_on, ended_on) VALUES(?, ?, ?, NULL)",
      {std::string(case_id), program, DayText(started_on)});
}

absl::StatusOr<int64_t> EndOpenMeasures(Transaction& tx, absl::string_view case_id,
                                        int64_t program, absl::CivilDay ended_on) {
  RETURN_IF_ERROR(tx.Exec("UPDATE measures SET ended_on = ? WHERE case_id = ?"
                          " AND program = ? AND ended_on IS NULL",
                          {DayText(ended_on), std::string(case_id), program}));
  return tx.ChangedRows();
}

}  // namespace registry
}  // namespace pathway
