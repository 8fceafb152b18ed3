#include "common/program_status/program_status.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/codec/date_text.h"
#include "common/codec/proto_date.h"
#include "common/codec/proto_programme.h"
#include "common/ids/division_code.h"
#include "common/log/log.h"
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

bool IsStateCode(absl::string_view s, bool allow_empty) {
  if (s.empty()) return allow_empty;
  if (s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

constexpr char kSelectColumns[] =
    "SELECT case_id, division, state, version, began, deadline_kind, deadline, updated_us"
    " FROM program_status";

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
  return r;
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
           " WHERE version > published_version;"}};
}

absl::Status SaveProgramStatus(Transaction& tx, absl::Time now, ProgramStatusRecord* r) {
  if (r->case_id.empty()) return absl::InvalidArgumentError("program status: empty case id");
  RETURN_IF_ERROR(ValidateDivisionCode(r->division));
  if (!IsStateCode(r->state, false) || !IsStateCode(r->deadline_kind, true)) {
    return absl::InvalidArgumentError("program status: state codes must be [A-Z0-9_]+");
  }
  if (r->deadline_kind.empty() != !r->deadline.has_value()) {
    return absl::InvalidArgumentError("program status: deadline kind and date go together");
  }
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT version FROM program_status WHERE case_id = ?",
                            {r->case_id}));
  r->version = rows.empty() ? 1 : rows[0].GetInt(0) + 1;
  r->updated_at = now;
  return tx.Exec(
      "INSERT INTO program_status(case_id, division, state, version, began, deadline_kind,"
      " deadline, updated_us) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT(case_id) DO UPDATE SET division = excluded.division,"
      " state = excluded.state, version = excluded.version, began = excluded.began,"
      " deadline_kind = excluded.deadline_kind, deadline = excluded.deadline,"
      " updated_us = excluded.updated_us",
      {r->case_id, r->division, r->state, r->version, DayValue(r->began), r->deadline_kind,
       DayValue(r->deadline), absl::ToUnixMicros(now)});
}

absl::StatusOr<std::optional<ProgramStatusRecord>> LoadProgramStatus(ReadTransaction& tx,
                                                                     absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat(kSelectColumns, " WHERE case_id = ?"),
                            {std::string(case_id)}));
  if (rows.empty()) return std::optional<ProgramStatusRecord>();
  return std::optional<ProgramStatusRecord>(FromRow(rows[0]));
}

absl::StatusOr<std::vector<ProgramStatusRecord>> LoadUnpublishedProgramStatuses(
    ReadTransaction& tx, absl::string_view after_case_id, int limit) {
  if (limit < 1) return absl::InvalidArgumentError("program status: limit must be >= 1");
  // The condition matches the partial index program_status_unpublished exactly,
  // so only unpublished rows are visited.
  std::vector<ProgramStatusRecord> out;
  absl::Status s = tx.QueryEach(
      absl::StrCat(kSelectColumns,
                   " WHERE version > published_version AND case_id > ?"
                   " ORDER BY case_id LIMIT ?"),
      {std::string(after_case_id), static_cast<int64_t>(limit)}, [&](const Row& row) {
        out.push_back(FromRow(row));
        return true;
      });
  RETURN_IF_ERROR(s);
  return out;
}

namespace {

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

absl::StatusOr<std::vector<ProgramStatusRecord>> LoadProgramStatusPage(
    ReadTransaction& tx, absl::string_view after_case_id, absl::string_view division_prefix,
    int limit) {
  if (limit < 1) return absl::InvalidArgumentError("program status: limit must be >= 1");
  std::vector<Value> params;
  const std::string sql = absl::StrCat(
      kSelectColumns, PageWhere(after_case_id, division_prefix, &params), " ORDER BY case_id LIMIT ?");
  params.push_back(static_cast<int64_t>(limit));
  std::vector<ProgramStatusRecord> out;
  RETURN_IF_ERROR(tx.QueryEach(sql, params, [&](const Row& row) {
    out.push_back(FromRow(row));
    return true;
  }));
  return out;
}

absl::StatusOr<int64_t> CountProgramStatusesAfter(ReadTransaction& tx,
                                                 absl::string_view after_case_id,
                                                 absl::string_view division_prefix) {
  std::vector<Value> params;
  const std::string sql = absl::StrCat("SELECT COUNT(*) FROM program_status",
                                       PageWhere(after_case_id, division_prefix, &params));
  ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(sql, params));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::Status MarkProgramStatusesPublished(Transaction& tx,
                                          const std::vector<PublishedVersion>& published) {
  for (const PublishedVersion& p : published) {
    RETURN_IF_ERROR(tx.Exec(
        "UPDATE program_status SET published_version = ?"
        " WHERE case_id = ? AND published_version < ?",
        {p.version, p.case_id, p.version}));
  }
  return absl::OkStatus();
}

ProgrammeStatus ToCacheStatus(const ProgramStatusRecord& r) {
  ProgrammeStatus s;
  s.state = r.state;
  s.version = r.version;
  s.began = r.began;
  s.next_deadline_kind = r.deadline_kind;
  s.next_deadline = r.deadline;
  s.written_at = r.updated_at;
  return s;
}

void PublishProgramStatus(StatusCache& cache, Programme programme,
                          const ProgramStatusRecord& r) {
  absl::StatusOr<bool> put = cache.Put(r.case_id, programme, ToCacheStatus(r));
  if (!put.ok()) {
    // No case id in the log line: the row stays unpublished (version >
    // published_version) and the republisher sends it again, so the line needs
    // only the programme and the error.
    log::Warning("status_publish_failed", {{"program", ProgrammeField(programme)},
                                           {"error", put.status().ToString()}});
  }
}

void ToProto(const ProgramStatusRecord& r, Programme programme, common::v1::ProgramStatus* out) {
  out->set_case_id(r.case_id);
  out->set_program(ToProtoProgram(programme));
  out->set_state(r.state);
  out->set_version(r.version);
  if (r.began.has_value()) ToProtoDate(*r.began, out->mutable_began());
  if (r.deadline.has_value()) {
    out->mutable_next_deadline()->set_kind(r.deadline_kind);
    ToProtoDate(*r.deadline, out->mutable_next_deadline()->mutable_due());
  }
  int64_t us = absl::ToUnixMicros(r.updated_at);
  out->mutable_updated_at()->set_seconds(us / 1000000);
  out->mutable_updated_at()->set_nanos(static_cast<int32_t>((us % 1000000) * 1000));
}

}  // namespace pathway
