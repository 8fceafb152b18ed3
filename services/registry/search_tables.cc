#include "services/registry/search_tables.h"

#include <utility>

#include "common/codec/date_text.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace registry {
namespace {

// 1 if a criterion is given, for "(CAST(? AS BIGINT) = 0 OR column = ?)".
int64_t Set(const std::string& criterion) { return criterion.empty() ? 0 : 1; }

}  // namespace

absl::Status SetPersonSearchIndexes(Transaction& tx, absl::string_view case_id,
                                    const std::string& name_index,
                                    const std::optional<std::string>& phone_index) {
  return tx.Exec("UPDATE cases SET name_index = ?, phone_index = ? WHERE case_id = ?",
                 {Blob{name_index}, phone_index.has_value() ? Value(Blob{*phone_index}) : Value(),
                  std::string(case_id)});
}

absl::StatusOr<std::vector<std::string>> CaseIdsWithoutNameIndex(ReadTransaction& tx,
                                                                 absl::string_view after_case_id,
                                                                 int64_t limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT case_id FROM cases WHERE name_index IS NULL AND case_id > ?"
                            " ORDER BY case_id LIMIT ?",
                            {std::string(after_case_id), limit}));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const Row& row : rows) out.push_back(row.GetString(0));
  return out;
}

absl::StatusOr<std::vector<PersonSearchCandidate>> FindPersonSearchCandidates(
    ReadTransaction& tx, const PersonSearchQuery& q) {
  const std::string jur = q.jurisdiction_prefix + "%";
  const std::string birth = q.birth_date.has_value() ? DayText(*q.birth_date) : "";
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT case_id, household_division, residence_division, abstinence_anchor,"
               " open_measures, township, assigned_caseworker, created_us FROM cases"
               " WHERE (created_us, case_id) < (?, ?)"
               " AND (household_division LIKE ? OR residence_division LIKE ?)"
               " AND (CAST(? AS BIGINT) = 0 OR name_index = ?)"
               " AND (CAST(? AS BIGINT) = 0 OR phone_index = ?)"
               " AND (CAST(? AS BIGINT) = 0 OR id_index = ?)"
               " AND (CAST(? AS TEXT) = '' OR case_id = ?)"
               " AND (CAST(? AS TEXT) = '' OR risk_grade = ?)"
               " AND (CAST(? AS BIGINT) = 0 OR control_status = ?)"
               " AND (CAST(? AS TEXT) = '' OR birth_date = ?)"
               " AND (CAST(? AS TEXT) = '' OR township = ? OR assigned_caseworker = ?)"
               " ORDER BY created_us DESC, case_id DESC LIMIT ?",
               {q.after_us, q.after_case_id, jur, jur, Set(q.name_index), Blob{q.name_index},
                Set(q.phone_index), Blob{q.phone_index}, Set(q.id_index), Blob{q.id_index},
                q.case_id, q.case_id, q.risk_grade, q.risk_grade, q.control_status,
                q.control_status, birth, birth, q.scope_township, q.scope_township,
                q.scope_caseworker, q.limit}));
  std::vector<PersonSearchCandidate> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    PersonSearchCandidate c;
    c.scope.case_id = row.GetString(0);
    c.scope.household_division = row.GetString(1);
    c.scope.residence_division = row.GetString(2);
    c.scope.abstinence_anchor = ParseDayText(row.GetString(3)).value_or(absl::CivilDay());
    c.scope.open_measures = row.GetInt(4);
    c.scope.township = row.GetString(5);
    c.scope.assigned_caseworker = row.GetString(6);
    c.created_us = row.GetInt(7);
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<bool> HasPossibleDuplicate(ReadTransaction& tx, absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT o.case_id FROM cases c JOIN cases o"
                            " ON o.name_index = c.name_index AND o.birth_date = c.birth_date"
                            " WHERE c.case_id = ? AND o.case_id <> c.case_id"
                            " AND o.id_index <> c.id_index LIMIT 1",
                            {std::string(case_id)}));
  return !rows.empty();
}

}  // namespace registry
}  // namespace pathway
