#include "services/registry/worklist_tables.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/codec/date_text.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace registry {

// programme_states answers ListCases' programme filter (program, state, case_id);
// work_items is the worklist. A county's worklist is a range of
// work_items_division_due; a township's starts from cases_township and
// cases_assigned and joins work_items by its primary key.
const char kWorklistSchema[] =
    "CREATE TABLE programme_states (case_id TEXT NOT NULL, program BIGINT NOT NULL,"
    "  state TEXT NOT NULL, version BIGINT NOT NULL, division TEXT NOT NULL,"
    "  updated_us BIGINT NOT NULL, PRIMARY KEY(case_id, program));"
    "CREATE INDEX programme_states_state ON programme_states(program, state, case_id);"
    "CREATE TABLE work_items (case_id TEXT NOT NULL, program BIGINT NOT NULL,"
    "  item_key TEXT NOT NULL, kind TEXT NOT NULL, due_on TEXT NOT NULL,"
    "  is_open BIGINT NOT NULL, is_deadline BIGINT NOT NULL, legal_basis TEXT NOT NULL,"
    "  division TEXT NOT NULL, PRIMARY KEY(case_id, program, item_key));"
    "CREATE INDEX work_items_division_due ON work_items(division, due_on, case_id, program,"
    "  item_key);"
    "CREATE INDEX work_items_due ON work_items(due_on, case_id, program, item_key);";

namespace {

// The first text after every text that starts with `prefix` (digits only): the
// prefix with its last character raised by one, so [prefix, upper) is a range an
// index can use where LIKE 'prefix%' may not.
std::string PrefixUpperBound(const std::string& prefix) {
  std::string upper = prefix;
  upper.back() = static_cast<char>(upper.back() + 1);
  return upper;
}

// The WHERE clause of a worklist query (without keyset and limit).
std::string WorkWhere(const WorkQuery& q, std::vector<Value>* params) {
  std::string where = " WHERE w.due_on <= ?";
  params->push_back(DayText(q.due_to));
  if (q.due_from.has_value()) {
    where += " AND w.due_on >= ?";
    params->push_back(DayText(*q.due_from));
  }
  if (q.due_before.has_value()) {
    where += " AND w.due_on < ? AND w.is_deadline = 1";
    params->push_back(DayText(*q.due_before));
  }
  if (!q.include_upcoming) where += " AND w.is_open = 1";
  if (!q.township.empty()) {
    // From the township's cases (and the caseworker's) to their items: two index
    // ranges of `cases`, then work_items by its primary key. Written as IN over a
    // UNION so both engines start there and never walk the whole worklist by date.
    where +=
        // (`|| ''` keeps SQLite from preferring the county's date index instead.)
        " AND w.division || '' = ? AND w.case_id IN (SELECT case_id FROM cases"
        " WHERE township = ? UNION SELECT case_id FROM cases WHERE assigned_caseworker = ?)";
    params->push_back(q.county);
    params->push_back(q.township);
    params->push_back(q.caseworker);
  } else if (q.division_prefix.size() == 6) {
    // One county: its items in due order straight from work_items_division_due.
    where += " AND w.division = ?";
    params->push_back(q.division_prefix);
  } else if (!q.division_prefix.empty()) {
    where += " AND w.division >= ? AND w.division < ?";
    params->push_back(q.division_prefix);
    params->push_back(PrefixUpperBound(q.division_prefix));
  }
  std::vector<std::string> marks(q.programs.size(), "?");
  where += absl::StrCat(" AND w.program IN (", absl::StrJoin(marks, ", "), ")");
  for (int64_t p : q.programs) params->push_back(p);
  if (!q.kinds.empty()) {
    std::vector<std::string> kind_marks(q.kinds.size(), "?");
    where += absl::StrCat(" AND w.kind IN (", absl::StrJoin(kind_marks, ", "), ")");
    for (const std::string& k : q.kinds) params->push_back(k);
  }
  if (q.sealed_anchor_limit.has_value()) {
    where += " AND (c.open_measures > 0 OR c.abstinence_anchor > ?)";
    params->push_back(DayText(*q.sealed_anchor_limit));
  }
  return where;
}

constexpr char kWorkFrom[] = " FROM work_items w JOIN cases c ON c.case_id = w.case_id";

}  // namespace

absl::Status ReplaceWorkItems(Transaction& tx, absl::string_view case_id, int64_t program,
                              absl::string_view division,
                              const std::vector<DueItemRecord>& items) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM work_items WHERE case_id = ? AND program = ?",
                          {std::string(case_id), program}));
  for (const DueItemRecord& i : items) {
    RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO work_items(case_id, program, item_key, kind, due_on, is_open, is_deadline,"
        " legal_basis, division) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"
        // A service never sends one key twice; the last wins if it did.
        " ON CONFLICT(case_id, program, item_key) DO UPDATE SET kind = excluded.kind,"
        " due_on = excluded.due_on, is_open = excluded.is_open,"
        " is_deadline = excluded.is_deadline, legal_basis = excluded.legal_basis",
        {std::string(case_id), program, i.key, i.kind, DayText(i.due),
         static_cast<int64_t>(i.open ? 1 : 0), static_cast<int64_t>(i.deadline ? 1 : 0),
         i.legal_basis, std::string(division)}));
  }
  return absl::OkStatus();
}

absl::StatusOr<ReportOutcome> ApplyProgrammeReport(Transaction& tx, const ProgrammeReport& r,
                                                   absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<Row> held,
                   tx.Query("SELECT version FROM programme_states WHERE case_id = ? AND program = ?",
                            {r.case_id, r.program}));
  if (!held.empty() && held[0].GetInt(0) >= r.version) return ReportOutcome::kStale;
  RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO programme_states(case_id, program, state, version, division, updated_us)"
      " VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(case_id, program) DO UPDATE SET"
      " state = excluded.state, version = excluded.version, division = excluded.division,"
      " updated_us = excluded.updated_us",
      {r.case_id, r.program, r.state, r.version, r.division, absl::ToUnixMicros(now)}));
  RETURN_IF_ERROR(ReplaceWorkItems(tx, r.case_id, r.program, r.division, r.items));
  return ReportOutcome::kApplied;
}

std::string WorkRowsStatement(const WorkQuery& q, std::vector<Value>* params) {
  std::string where = WorkWhere(q, params);
  if (q.after.has_value()) {
    where += " AND (w.due_on, w.case_id, w.program, w.item_key) > (?, ?, ?, ?)";
    params->push_back(DayText(q.after->due));
    params->push_back(q.after->case_id);
    params->push_back(q.after->program);
    params->push_back(q.after->key);
  }
  params->push_back(q.limit);
  return absl::StrCat(
      "SELECT w.case_id, w.program, w.item_key, w.kind, w.due_on, w.is_open, w.is_deadline,"
      " w.legal_basis, w.division, c.household_division, c.residence_division, c.township,"
      " c.assigned_caseworker, c.abstinence_anchor, c.open_measures",
      kWorkFrom, where, " ORDER BY w.due_on, w.case_id, w.program, w.item_key LIMIT ?");
}

absl::StatusOr<std::vector<WorkRow>> ListWorkRows(ReadTransaction& tx, const WorkQuery& q) {
  std::vector<Value> params;
  const std::string sql = WorkRowsStatement(q, &params);
  std::vector<WorkRow> out;
  RETURN_IF_ERROR(tx.QueryEach(sql, params, [&](const Row& row) {
    WorkRow w;
    w.case_id = row.GetString(0);
    w.program = row.GetInt(1);
    w.item.key = row.GetString(2);
    w.item.kind = row.GetString(3);
    w.item.due = ParseDayText(row.GetString(4)).value_or(absl::CivilDay());
    w.item.open = row.GetInt(5) != 0;
    w.item.deadline = row.GetInt(6) != 0;
    w.item.legal_basis = row.GetString(7);
    w.division = row.GetString(8);
    w.household_division = row.GetString(9);
    w.residence_division = row.GetString(10);
    w.township = row.GetString(11);
    w.assigned_caseworker = row.GetString(12);
    w.abstinence_anchor = ParseDayText(row.GetString(13)).value_or(absl::CivilDay());
    w.open_measures = row.GetInt(14);
    out.push_back(std::move(w));
    return true;
  }));
  return out;
}

absl::StatusOr<int64_t> CountWorkRows(ReadTransaction& tx, const WorkQuery& q) {
  std::vector<Value> params;
  const std::string where = WorkWhere(q, &params);
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT COUNT(*)", kWorkFrom, where), params));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

}  // namespace registry
}  // namespace pathway
