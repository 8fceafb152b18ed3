#include "common/program_status/program_status_tables.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/codec/date_text.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

Value DayValue(const std::optional<absl::CivilDay>& d) {
  if (!d.has_value()) return std::monostate{};
  return DayText(*d);
}

std::optional<absl::CivilDay> ParseDay(const Row& row, int col) {
  if (row.IsNull(col)) return std::nullopt;
  return ParseDayText(row.GetString(col));
}

constexpr char kSelectColumns[] =
    "SELECT case_id, division, state, version, began, deadline_kind, deadline, updated_us,"
    " due_items FROM program_status";

// Due items are stored as text, one line per item, fields separated by tabs (the
// record's checks keep tabs and line breaks out of every field): readable in the
// database and the same on both engines.
std::string EncodeDueItems(const std::vector<DueItemRecord>& items) {
  std::string out;
  for (const DueItemRecord& i : items) {
    if (!out.empty()) out += '\n';
    absl::StrAppend(&out, i.kind, "\t", i.key, "\t", DayText(i.due), "\t", i.open ? "1" : "0",
                    "\t", i.deadline ? "1" : "0", "\t", i.legal_basis);
  }
  return out;
}

std::vector<DueItemRecord> DecodeDueItems(absl::string_view text) {
  std::vector<DueItemRecord> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() != 6) continue;  // written by EncodeDueItems only
    std::optional<absl::CivilDay> due = ParseDayText(f[2]);
    if (!due.has_value()) continue;
    out.push_back(DueItemRecord{f[0], f[1], *due, f[3] == "1", f[4] == "1", f[5]});
  }
  return out;
}

const char* VersionColumn(StatusSink sink) {
  return sink == StatusSink::kCache ? "published_version" : "indexed_version";
}

ProgramStatusRecord FromRow(const Row& row) {
  ProgramStatusRecord r;
  r.case_id = row.GetString(0);
  r.division = row.GetString(1);
  r.state = row.GetString(2);
  r.version = row.GetInt(3);
  r.began = ParseDay(row, 4);
  r.deadline_kind = row.GetString(5);
  r.deadline = ParseDay(row, 6);
  r.updated_at = absl::FromUnixMicros(row.GetInt(7));
  r.due_items = DecodeDueItems(row.GetString(8));
  return r;
}

absl::StatusOr<std::vector<ProgramStatusRecord>> QueryRecords(ReadTransaction& tx,
                                                              const std::string& sql,
                                                              const std::vector<Value>& params) {
  std::vector<ProgramStatusRecord> out;
  RETURN_IF_ERROR(tx.QueryEach(sql, params, [&](const Row& row) {
    out.push_back(FromRow(row));
    return true;
  }));
  return out;
}

// The WHERE clause and parameters shared by the page read and the count.
std::string PageWhere(absl::string_view after_case_id, absl::string_view division_prefix,
                      std::vector<Value>* params) {
  std::string where = " WHERE case_id > ?";
  params->push_back(std::string(after_case_id));
  if (!division_prefix.empty()) {
    // substr is common to SQLite and PostgreSQL (store.h dialect rule).
    where += " AND substr(division, 1, ?) = ?";
    params->push_back(static_cast<int64_t>(division_prefix.size()));
    params->push_back(std::string(division_prefix));
  }
  return where;
}

}  // namespace

std::vector<Migration> ProgramStatusMigrations() {
  return {{"program_status", 1,
           "CREATE TABLE program_status ("
           "  case_id TEXT PRIMARY KEY,"
           "  division TEXT NOT NULL,"
           "  state TEXT NOT NULL,"
           "  version BIGINT NOT NULL,"
           "  began TEXT,"
           "  deadline_kind TEXT NOT NULL DEFAULT '',"
           "  deadline TEXT,"
           "  updated_us BIGINT NOT NULL"
           ");"
           "CREATE INDEX program_status_division ON program_status(division, case_id);"},
          // Which version of each row reached the cache. Rows already there when this
          // step runs count as published (the reconciler had been keeping them).
          {"program_status", 2,
           "ALTER TABLE program_status ADD COLUMN published_version BIGINT NOT NULL"
           " DEFAULT 0;"
           "UPDATE program_status SET published_version = version;"
           "CREATE INDEX program_status_unpublished ON program_status(case_id)"
           " WHERE version > published_version;"},
          // The worklist: each record's due items, and which version reached the
          // registry's index. Every row already there is owed to it (indexed_version
          // 0), so a service upgraded in place fills the registry's index at start.
          {"program_status", 3,
           "ALTER TABLE program_status ADD COLUMN due_items TEXT NOT NULL DEFAULT '';"
           "ALTER TABLE program_status ADD COLUMN indexed_version BIGINT NOT NULL"
           " DEFAULT 0;"
           "CREATE INDEX program_status_unindexed ON program_status(case_id)"
           " WHERE version > indexed_version;"}};
}

namespace program_status_tables {

absl::StatusOr<std::optional<int64_t>> ReadStatusVersion(ReadTransaction& tx,
                                                         absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT version FROM program_status WHERE case_id = ?",
                            {std::string(case_id)}));
  if (rows.empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(rows[0].GetInt(0));
}

absl::Status UpsertStatus(Transaction& tx, const ProgramStatusRecord& r) {
  return tx.Exec(
      "INSERT INTO program_status(case_id, division, state, version, began, deadline_kind,"
      " deadline, updated_us, due_items) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT(case_id) DO UPDATE SET division = excluded.division,"
      " state = excluded.state, version = excluded.version, began = excluded.began,"
      " deadline_kind = excluded.deadline_kind, deadline = excluded.deadline,"
      " updated_us = excluded.updated_us, due_items = excluded.due_items",
      {r.case_id, r.division, r.state, r.version, DayValue(r.began), r.deadline_kind,
       DayValue(r.deadline), absl::ToUnixMicros(r.updated_at), EncodeDueItems(r.due_items)});
}

absl::StatusOr<std::optional<ProgramStatusRecord>> FindStatus(ReadTransaction& tx,
                                                              absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat(kSelectColumns, " WHERE case_id = ?"),
                            {std::string(case_id)}));
  if (rows.empty()) return std::optional<ProgramStatusRecord>();
  return std::optional<ProgramStatusRecord>(FromRow(rows[0]));
}

absl::StatusOr<std::vector<ProgramStatusRecord>> ListUnsentStatuses(
    ReadTransaction& tx, StatusSink sink, absl::string_view after_case_id, int64_t limit) {
  // The condition matches the sink's partial index (program_status_unpublished,
  // program_status_unindexed) exactly, so only the rows owed to it are visited.
  return QueryRecords(tx,
                      absl::StrCat(kSelectColumns, " WHERE version > ", VersionColumn(sink),
                                   " AND case_id > ? ORDER BY case_id LIMIT ?"),
                      {std::string(after_case_id), limit});
}

absl::StatusOr<std::vector<ProgramStatusRecord>> ListStatusPage(
    ReadTransaction& tx, absl::string_view after_case_id, absl::string_view division_prefix,
    int64_t limit) {
  std::vector<Value> params;
  const std::string sql = absl::StrCat(kSelectColumns,
                                       PageWhere(after_case_id, division_prefix, &params),
                                       " ORDER BY case_id LIMIT ?");
  params.push_back(limit);
  return QueryRecords(tx, sql, params);
}

absl::StatusOr<int64_t> CountStatuses(ReadTransaction& tx, absl::string_view after_case_id,
                                      absl::string_view division_prefix) {
  std::vector<Value> params;
  const std::string sql = absl::StrCat("SELECT COUNT(*) FROM program_status",
                                       PageWhere(after_case_id, division_prefix, &params));
  ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(sql, params));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::Status MarkStatusSent(Transaction& tx, StatusSink sink, absl::string_view case_id,
                            int64_t version) {
  const char* column = VersionColumn(sink);
  return tx.Exec(absl::StrCat("UPDATE program_status SET ", column, " = ? WHERE case_id = ? AND ",
                              column, " < ?"),
                 {version, std::string(case_id), version});
}

}  // namespace program_status_tables
}  // namespace pathway
