#include "services/registry/visit_tables.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/codec/date_text.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace registry {
namespace {

// Ids per query of LoadNextVisitsDue: well under either engine's parameter limit.
constexpr size_t kIdsPerQuery = 500;

// Migration 5. Place and notes are ciphertext ({BLOB}); a correction names the visit
// it corrects, and the unique index allows one correction per visit (NULLs, the
// entries that correct nothing, are distinct on both engines).
constexpr char kSchemaV5[] =
    "CREATE TABLE visits (case_id TEXT NOT NULL, visit_id BIGINT NOT NULL,"
    "  visited_on TEXT NOT NULL, kind BIGINT NOT NULL,"
    "  place_cipher {BLOB} NOT NULL, notes_cipher {BLOB} NOT NULL,"
    "  next_visit_on TEXT, recorded_by TEXT NOT NULL, recorder_role TEXT NOT NULL,"
    "  recorded_us BIGINT NOT NULL, corrects_visit_id BIGINT,"
    "  PRIMARY KEY(case_id, visit_id));"
    "CREATE UNIQUE INDEX visits_correction ON visits(case_id, corrects_visit_id);"
    "CREATE INDEX visits_newest ON visits(case_id, visited_on DESC, visit_id DESC);"
    "CREATE TABLE visit_next_due (case_id TEXT PRIMARY KEY, next_visit_on TEXT NOT NULL);"
    "CREATE INDEX visit_next_due_day ON visit_next_due(next_visit_on, case_id);";

// A day this layer stored; 1970-01-01 if the text is not one.
absl::CivilDay StoredDay(const std::string& s) {
  return ParseDayText(s).value_or(absl::CivilDay());
}

std::optional<absl::CivilDay> StoredOptionalDay(const Row& row, int col) {
  if (row.IsNull(col)) return std::nullopt;
  return ParseDayText(row.GetString(col));
}

Value OptionalDayValue(const std::optional<absl::CivilDay>& day) {
  if (!day.has_value()) return std::monostate();
  return DayText(*day);
}

// The columns of a visit with the id of the visit that corrects it (v: the visit,
// c: its correction, if any).
constexpr char kVisitSelect[] =
    "SELECT v.case_id, v.visit_id, v.visited_on, v.kind, v.place_cipher, v.notes_cipher,"
    " v.next_visit_on, v.recorded_by, v.recorder_role, v.recorded_us, v.corrects_visit_id,"
    " c.visit_id FROM visits v LEFT JOIN visits c"
    " ON c.case_id = v.case_id AND c.corrects_visit_id = v.visit_id";

VisitRow VisitFromRow(const Row& row) {
  VisitRow v;
  v.case_id = row.GetString(0);
  v.visit_id = row.GetInt(1);
  v.visited_on = StoredDay(row.GetString(2));
  v.kind = row.GetInt(3);
  v.place_cipher = row.GetString(4);
  v.notes_cipher = row.GetString(5);
  v.next_visit_on = StoredOptionalDay(row, 6);
  v.recorded_by = row.GetString(7);
  v.recorder_role = row.GetString(8);
  v.recorded_us = row.GetInt(9);
  v.corrects_visit_id = row.IsNull(10) ? 0 : row.GetInt(10);
  v.superseded_by = row.IsNull(11) ? 0 : row.GetInt(11);
  return v;
}

}  // namespace

Migration VisitTablesMigration() { return EngineMigration("registry", 5, kSchemaV5); }

absl::StatusOr<int64_t> LastVisitId(ReadTransaction& tx, absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT COALESCE(MAX(visit_id), 0) FROM visits WHERE case_id = ?",
                            {std::string(case_id)}));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::Status InsertVisit(Transaction& tx, const VisitRow& v) {
  Value corrects = std::monostate();
  if (v.corrects_visit_id != 0) corrects = v.corrects_visit_id;
  return tx.Exec(
      "INSERT INTO visits(case_id, visit_id, visited_on, kind, place_cipher, notes_cipher,"
      " next_visit_on, recorded_by, recorder_role, recorded_us, corrects_visit_id)"
      " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {v.case_id, v.visit_id, DayText(v.visited_on), v.kind, Blob{v.place_cipher},
       Blob{v.notes_cipher}, OptionalDayValue(v.next_visit_on), v.recorded_by, v.recorder_role,
       v.recorded_us, corrects});
}

absl::StatusOr<std::optional<VisitRow>> LoadVisit(ReadTransaction& tx, absl::string_view case_id,
                                                  int64_t visit_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat(kVisitSelect, " WHERE v.case_id = ? AND v.visit_id = ?"),
                            {std::string(case_id), visit_id}));
  if (rows.empty()) return std::optional<VisitRow>();
  return std::optional<VisitRow>(VisitFromRow(rows[0]));
}

absl::StatusOr<std::vector<VisitRow>> ListVisitRows(ReadTransaction& tx, const VisitPageQuery& q) {
  constexpr char kOrder[] = " ORDER BY v.visited_on DESC, v.visit_id DESC LIMIT ?";
  std::vector<Row> rows;
  if (q.after_day.has_value()) {
    ASSIGN_OR_RETURN(rows, tx.Query(absl::StrCat(kVisitSelect,
                                                 " WHERE v.case_id = ?"
                                                 " AND (v.visited_on, v.visit_id) < (?, ?)",
                                                 kOrder),
                                    {q.case_id, DayText(*q.after_day), q.after_visit_id, q.limit}));
  } else {
    ASSIGN_OR_RETURN(rows, tx.Query(absl::StrCat(kVisitSelect, " WHERE v.case_id = ?", kOrder),
                                    {q.case_id, q.limit}));
  }
  std::vector<VisitRow> out;
  out.reserve(rows.size());
  for (const Row& row : rows) out.push_back(VisitFromRow(row));
  return out;
}

absl::StatusOr<int64_t> CountVisits(ReadTransaction& tx, absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT COUNT(*) FROM visits WHERE case_id = ?",
                                                   {std::string(case_id)}));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::StatusOr<std::vector<VisitDatesRow>> LoadVisitDates(ReadTransaction& tx,
                                                          absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT visit_id, visited_on, next_visit_on, corrects_visit_id"
                            " FROM visits WHERE case_id = ? ORDER BY visit_id",
                            {std::string(case_id)}));
  std::vector<VisitDatesRow> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    VisitDatesRow v;
    v.visit_id = row.GetInt(0);
    v.visited_on = StoredDay(row.GetString(1));
    v.next_visit_on = StoredOptionalDay(row, 2);
    v.corrects_visit_id = row.IsNull(3) ? 0 : row.GetInt(3);
    out.push_back(v);
  }
  return out;
}

absl::StatusOr<std::optional<absl::CivilDay>> LoadCaseRegisteredOn(ReadTransaction& tx,
                                                                   absl::string_view case_id) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT registered_on FROM cases WHERE case_id = ?", {std::string(case_id)}));
  if (rows.empty()) return std::optional<absl::CivilDay>();
  return std::optional<absl::CivilDay>(StoredDay(rows[0].GetString(0)));
}

absl::StatusOr<std::optional<absl::CivilDay>> LoadNextVisitDue(ReadTransaction& tx,
                                                               absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT next_visit_on FROM visit_next_due WHERE case_id = ?",
                            {std::string(case_id)}));
  if (rows.empty()) return std::optional<absl::CivilDay>();
  return ParseDayText(rows[0].GetString(0));
}

absl::StatusOr<std::vector<NextVisitDueRow>> LoadNextVisitsDue(
    ReadTransaction& tx, const std::vector<std::string>& case_ids) {
  const std::set<std::string> unique(case_ids.begin(), case_ids.end());
  const std::vector<std::string> ids(unique.begin(), unique.end());
  std::vector<NextVisitDueRow> out;
  for (size_t start = 0; start < ids.size(); start += kIdsPerQuery) {
    const size_t n = std::min(kIdsPerQuery, ids.size() - start);
    std::vector<Value> params(ids.begin() + start, ids.begin() + start + n);
    std::vector<std::string> marks(n, "?");
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     tx.Query(absl::StrCat("SELECT case_id, next_visit_on FROM visit_next_due"
                                           " WHERE case_id IN (",
                                           absl::StrJoin(marks, ", "), ")"),
                              params));
    for (const Row& row : rows) {
      out.push_back({row.GetString(0), StoredDay(row.GetString(1))});
    }
  }
  std::sort(out.begin(), out.end(), [](const NextVisitDueRow& a, const NextVisitDueRow& b) {
    return a.next_visit_on != b.next_visit_on ? a.next_visit_on < b.next_visit_on
                                              : a.case_id < b.case_id;
  });
  return out;
}

absl::Status StoreNextVisitDue(Transaction& tx, absl::string_view case_id,
                               const std::optional<absl::CivilDay>& next_visit_on) {
  if (!next_visit_on.has_value()) {
    return tx.Exec("DELETE FROM visit_next_due WHERE case_id = ?", {std::string(case_id)});
  }
  return tx.Exec(
      "INSERT INTO visit_next_due(case_id, next_visit_on) VALUES(?, ?)"
      " ON CONFLICT(case_id) DO UPDATE SET next_visit_on = excluded.next_visit_on",
      {std::string(case_id), DayText(*next_visit_on)});
}

}  // namespace registry
}  // namespace pathway
