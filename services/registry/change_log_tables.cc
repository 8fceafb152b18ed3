#include "services/registry/change_log_tables.h"

#include <utility>

#include "common/codec/date_text.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace registry {
namespace {

// Migration 6. Existing cases get one entry each, numbered in registration order,
// with no "before" snapshot: no cursor predates the log.
constexpr char kChangeLogSchema[] =
    "CREATE TABLE case_change_counter (id BIGINT PRIMARY KEY, last_seq BIGINT NOT NULL,"
    "  pruned_before_us BIGINT NOT NULL);"
    "INSERT INTO case_change_counter(id, last_seq, pruned_before_us)"
    "  SELECT 1, COUNT(*), 0 FROM cases;"
    "CREATE TABLE case_changes (seq {BIGINT_KEY}, case_id TEXT NOT NULL,"
    "  recorded_us BIGINT NOT NULL, household_division TEXT NOT NULL,"
    "  residence_division TEXT NOT NULL, prev_exists BIGINT NOT NULL,"
    "  prev_household TEXT NOT NULL, prev_residence TEXT NOT NULL,"
    "  prev_township TEXT NOT NULL, prev_caseworker TEXT NOT NULL,"
    "  prev_anchor TEXT NOT NULL, prev_open_measures BIGINT NOT NULL,"
    "  prev_since_us BIGINT NOT NULL);"
    "CREATE INDEX case_changes_case ON case_changes(case_id, seq);"
    "CREATE INDEX case_changes_recorded ON case_changes(recorded_us);"
    "CREATE INDEX cases_abstinence ON cases(abstinence_anchor);"
    "INSERT INTO case_changes(seq, case_id, recorded_us, household_division,"
    "  residence_division, prev_exists, prev_household, prev_residence, prev_township,"
    "  prev_caseworker, prev_anchor, prev_open_measures, prev_since_us)"
    "  SELECT ROW_NUMBER() OVER (ORDER BY created_us, case_id), case_id, updated_us,"
    "  household_division, residence_division, 0, '', '', '', '', '', 0, 0 FROM cases;";

constexpr char kInsertColumns[] =
    "INSERT INTO case_changes(seq, case_id, recorded_us, household_division,"
    " residence_division, prev_exists, prev_household, prev_residence, prev_township,"
    " prev_caseworker, prev_anchor, prev_open_measures, prev_since_us) ";

}  // namespace

Migration ChangeLogMigration() { return EngineMigration("registry", 6, kChangeLogSchema); }

absl::Status AppendCaseChange(Transaction& tx, absl::string_view case_id, int64_t recorded_us,
                              absl::string_view household, absl::string_view residence) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("UPDATE case_change_counter SET last_seq = last_seq + 1"
                            " WHERE id = 1 RETURNING last_seq",
                            {}));
  if (rows.empty()) return absl::InternalError("the change log counter is missing");
  const int64_t seq = rows[0].GetInt(0);
  const std::string id(case_id);
  RETURN_IF_ERROR(
      tx.Exec(std::string(kInsertColumns) +
                  "SELECT CAST(? AS BIGINT), case_id, CAST(? AS BIGINT), CAST(? AS TEXT),"
                  " CAST(? AS TEXT), 1, household_division, residence_division, township,"
                  " assigned_caseworker, abstinence_anchor, open_measures, updated_us"
                  " FROM cases WHERE case_id = ?",
              {seq, recorded_us, std::string(household), std::string(residence), id}));
  if (tx.ChangedRows() > 0) return absl::OkStatus();
  return tx.Exec(std::string(kInsertColumns) + "VALUES(?, ?, ?, ?, ?, 0, '', '', '', '', '', 0, 0)",
                 {seq, id, recorded_us, std::string(household), std::string(residence)});
}

absl::StatusOr<ChangeLogCounter> ReadChangeLogCounter(ReadTransaction& tx) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT last_seq, pruned_before_us FROM case_change_counter"
                            " WHERE id = 1",
                            {}));
  if (rows.empty()) return absl::InternalError("the change log counter is missing");
  return ChangeLogCounter{rows[0].GetInt(0), rows[0].GetInt(1)};
}

absl::StatusOr<std::vector<CaseChangeRef>> ScanCaseChanges(ReadTransaction& tx, int64_t after_seq,
                                                           absl::string_view division_prefix,
                                                           int64_t limit) {
  const std::string like = std::string(division_prefix) + "%";
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT seq, case_id FROM case_changes WHERE seq > ?"
                            " AND (household_division LIKE ? OR residence_division LIKE ?"
                            " OR prev_household LIKE ? OR prev_residence LIKE ?)"
                            " ORDER BY seq LIMIT ?",
                            {after_seq, like, like, like, like, limit}));
  std::vector<CaseChangeRef> out;
  out.reserve(rows.size());
  for (const Row& row : rows) out.push_back({row.GetInt(0), row.GetString(1)});
  return out;
}

absl::StatusOr<std::vector<PriorScopeRow>> PriorScopesAfter(ReadTransaction& tx,
                                                            absl::string_view case_id,
                                                            int64_t after_seq) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT prev_household, prev_residence, prev_township, prev_caseworker,"
                            " prev_anchor, prev_open_measures, prev_since_us FROM case_changes"
                            " WHERE case_id = ? AND seq > ? AND prev_exists = 1 ORDER BY seq",
                            {std::string(case_id), after_seq}));
  std::vector<PriorScopeRow> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    PriorScopeRow p;
    p.household_division = row.GetString(0);
    p.residence_division = row.GetString(1);
    p.township = row.GetString(2);
    p.assigned_caseworker = row.GetString(3);
    p.abstinence_anchor = ParseDayText(row.GetString(4)).value_or(absl::CivilDay());
    p.open_measures = row.GetInt(5);
    p.since_us = row.GetInt(6);
    out.push_back(std::move(p));
  }
  return out;
}

absl::StatusOr<std::vector<SealingCandidateRow>> SealingCandidates(
    ReadTransaction& tx, absl::CivilDay anchor_from, absl::CivilDay anchor_to,
    absl::string_view division_prefix) {
  const std::string like = std::string(division_prefix) + "%";
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT case_id, household_division, residence_division, township,"
                            " assigned_caseworker, abstinence_anchor, updated_us FROM cases"
                            " WHERE abstinence_anchor >= ? AND abstinence_anchor <= ?"
                            " AND open_measures = 0"
                            " AND (household_division LIKE ? OR residence_division LIKE ?)"
                            " ORDER BY case_id",
                            {DayText(anchor_from), DayText(anchor_to), like, like}));
  std::vector<SealingCandidateRow> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SealingCandidateRow c;
    c.case_id = row.GetString(0);
    c.household_division = row.GetString(1);
    c.residence_division = row.GetString(2);
    c.township = row.GetString(3);
    c.assigned_caseworker = row.GetString(4);
    c.abstinence_anchor = ParseDayText(row.GetString(5)).value_or(absl::CivilDay());
    c.updated_us = row.GetInt(6);
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<int64_t> PruneCaseChanges(Transaction& tx, int64_t before_us) {
  constexpr char kSuperseded[] =
      " WHERE recorded_us < ? AND EXISTS (SELECT 1 FROM case_changes newer"
      " WHERE newer.case_id = case_changes.case_id AND newer.seq > case_changes.seq)";
  RETURN_IF_ERROR(tx.Exec(std::string("DELETE FROM case_changes") + kSuperseded, {before_us}));
  const int64_t deleted = tx.ChangedRows();
  if (deleted > 0) {
    RETURN_IF_ERROR(
        tx.Exec("UPDATE case_change_counter SET pruned_before_us = ?"
                " WHERE id = 1 AND pruned_before_us < ?",
                {before_us, before_us}));
  }
  return deleted;
}

}  // namespace registry
}  // namespace pathway
