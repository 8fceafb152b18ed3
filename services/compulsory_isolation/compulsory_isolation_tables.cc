#include "services/compulsory_isolation/compulsory_isolation_tables.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/codec/date_text.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace isolation {
namespace {

using absl::CivilDay;

Value DayValue(const std::optional<CivilDay>& d) {
  if (!d.has_value()) return std::monostate();
  return DayText(*d);
}

std::optional<CivilDay> OptDay(const Row& row, int col) {
  if (row.IsNull(col)) return std::nullopt;
  return ParseDayText(row.GetString(col));
}

CivilDay Day(const Row& row, int col) { return OptDay(row, col).value_or(CivilDay()); }

int Int(const Row& row, int col) { return static_cast<int>(row.GetInt(col)); }

// Migration 1, for both engines (EngineMigration): qz_decisions, qz_absences,
// qz_assessments and qz_proposals have generated keys.
constexpr char kSchemaV1[] =
    "CREATE TABLE qz_decisions ("
    "  id {AUTO_ID},"
    "  case_id TEXT NOT NULL,"
    "  decision_number TEXT NOT NULL,"
    "  deciding_division TEXT NOT NULL,"
    "  decided_on TEXT NOT NULL,"
    "  served_on TEXT NOT NULL,"
    "  ground BIGINT NOT NULL,"
    "  warnings TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL,"
    "  state_since TEXT NOT NULL,"
    "  facility_id TEXT NOT NULL DEFAULT '',"
    "  division TEXT NOT NULL,"
    "  admitted_on TEXT,"
    "  transferred_on TEXT,"
    "  extension_months BIGINT NOT NULL DEFAULT 0,"
    "  early_release_on TEXT,"
    "  release_notice_on TEXT,"
    "  released_on TEXT,"
    "  release_certificate TEXT NOT NULL DEFAULT '',"
    "  sk_ordered BIGINT NOT NULL DEFAULT 0,"
    "  sk_term_months BIGINT NOT NULL DEFAULT 0,"
    "  sk_decision_number TEXT NOT NULL DEFAULT '',"
    "  converted_on TEXT,"
    "  sd_credit_days BIGINT NOT NULL DEFAULT 0,"
    "  is_open BIGINT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  created_us BIGINT NOT NULL"
    ");"
    // One open decision per case.
    "CREATE UNIQUE INDEX qz_decisions_one_open ON qz_decisions(case_id) WHERE is_open = 1;"
    "CREATE INDEX qz_decisions_case ON qz_decisions(case_id, id);"
    "CREATE INDEX qz_decisions_facility ON qz_decisions(facility_id, is_open);"
    "CREATE TABLE qz_notices ("
    "  decision_id BIGINT NOT NULL REFERENCES qz_decisions(id),"
    "  recipient BIGINT NOT NULL,"
    "  notified_on TEXT NOT NULL,"
    "  not_applicable BIGINT NOT NULL,"
    "  PRIMARY KEY (decision_id, recipient)"
    ");"
    "CREATE TABLE qz_absences ("
    "  id {AUTO_ID},"
    "  decision_id BIGINT NOT NULL REFERENCES qz_decisions(id),"
    "  kind BIGINT NOT NULL,"
    "  started_on TEXT NOT NULL,"
    "  ended_on TEXT"
    ");"
    "CREATE INDEX qz_absences_decision ON qz_absences(decision_id, id);"
    "CREATE TABLE qz_assessments ("
    "  id {AUTO_ID},"
    "  decision_id BIGINT NOT NULL REFERENCES qz_decisions(id),"
    "  kind BIGINT NOT NULL,"
    "  assessed_on TEXT NOT NULL,"
    "  physiological BIGINT NOT NULL,"
    "  recovery BIGINT NOT NULL,"
    "  behaviour BIGINT NOT NULL,"
    "  social BIGINT NOT NULL,"
    "  facility_id TEXT NOT NULL"
    ");"
    "CREATE INDEX qz_assessments_decision ON qz_assessments(decision_id, id);"
    "CREATE TABLE qz_proposals ("
    "  id {AUTO_ID},"
    "  decision_id BIGINT NOT NULL REFERENCES qz_decisions(id),"
    "  kind BIGINT NOT NULL,"
    "  proposed_on TEXT NOT NULL,"
    "  assessment_id BIGINT NOT NULL DEFAULT 0,"
    "  months BIGINT NOT NULL DEFAULT 0,"
    "  release_on TEXT,"
    "  status BIGINT NOT NULL,"
    "  decided_on TEXT,"
    "  decision_number TEXT NOT NULL DEFAULT '',"
    "  refusal_reason TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX qz_proposals_decision ON qz_proposals(decision_id, id);";

constexpr char kDecisionColumns[] =
    "id, case_id, decision_number, deciding_division, decided_on, served_on, ground, warnings,"
    " state, state_since, facility_id, division, admitted_on, transferred_on, extension_months,"
    " early_release_on, release_notice_on, released_on, release_certificate, sk_ordered,"
    " sk_term_months, sk_decision_number, converted_on, sd_credit_days, is_open, sk_division,"
    " sk_place, sk_running_at_decision";

DecisionData DecisionFromRow(const Row& r) {
  DecisionData d;
  d.id = r.GetInt(0);
  d.case_id = r.GetString(1);
  d.decision_number = r.GetString(2);
  d.deciding_division = r.GetString(3);
  d.decided_on = Day(r, 4);
  d.served_on = Day(r, 5);
  d.ground = Int(r, 6);
  if (!r.GetString(7).empty()) d.warnings = absl::StrSplit(r.GetString(7), ',');
  d.state = r.GetString(8);
  d.state_since = Day(r, 9);
  d.facility_id = r.GetString(10);
  d.division = r.GetString(11);
  d.admitted_on = OptDay(r, 12);
  d.transferred_on = OptDay(r, 13);
  d.extension_months = Int(r, 14);
  d.early_release_on = OptDay(r, 15);
  d.release_notice_on = OptDay(r, 16);
  d.released_on = OptDay(r, 17);
  d.release_certificate = r.GetString(18);
  d.sk_ordered = r.GetInt(19) != 0;
  d.sk_term_months = Int(r, 20);
  d.sk_decision_number = r.GetString(21);
  d.converted_on = OptDay(r, 22);
  d.sd_credit_days = Int(r, 23);
  d.open = r.GetInt(24) != 0;
  d.sk_division = r.GetString(25);
  d.sk_place = r.GetString(26);
  d.sk_running_at_decision = r.GetInt(27) != 0;
  return d;
}

absl::Status LoadChildren(ReadTransaction& tx, DecisionData* d) {
  d->notices.clear();
  d->absences.clear();
  d->assessments.clear();
  d->proposals.clear();
  ASSIGN_OR_RETURN(std::vector<Row> notices,
                   tx.Query("SELECT recipient, notified_on, not_applicable FROM qz_notices"
                            " WHERE decision_id = ? ORDER BY recipient",
                            {d->id}));
  for (const Row& r : notices) d->notices.push_back({Int(r, 0), Day(r, 1), r.GetInt(2) != 0});
  ASSIGN_OR_RETURN(std::vector<Row> absences,
                   tx.Query("SELECT id, kind, started_on, ended_on FROM qz_absences"
                            " WHERE decision_id = ? ORDER BY id",
                            {d->id}));
  for (const Row& r : absences) {
    d->absences.push_back({r.GetInt(0), Int(r, 1), Day(r, 2), OptDay(r, 3)});
  }
  ASSIGN_OR_RETURN(std::vector<Row> assessments,
                   tx.Query("SELECT id, kind, assessed_on, physiological, recovery, behaviour,"
                            " social, facility_id FROM qz_assessments WHERE decision_id = ?"
                            " ORDER BY id",
                            {d->id}));
  for (const Row& r : assessments) {
    d->assessments.push_back({r.GetInt(0), Int(r, 1), Day(r, 2), Int(r, 3), Int(r, 4), Int(r, 5),
                              Int(r, 6), r.GetString(7)});
  }
  ASSIGN_OR_RETURN(std::vector<Row> proposals,
                   tx.Query("SELECT id, kind, proposed_on, assessment_id, months, release_on,"
                            " status, decided_on, decision_number, refusal_reason"
                            " FROM qz_proposals WHERE decision_id = ? ORDER BY id",
                            {d->id}));
  for (const Row& r : proposals) {
    ProposalData p;
    p.id = r.GetInt(0);
    p.kind = Int(r, 1);
    p.proposed_on = Day(r, 2);
    p.assessment_id = r.GetInt(3);
    p.months = Int(r, 4);
    p.release_on = OptDay(r, 5);
    p.status = Int(r, 6);
    p.decided_on = OptDay(r, 7);
    p.decision_number = r.GetString(8);
    p.refusal_reason = r.GetString(9);
    d->proposals.push_back(std::move(p));
  }
  return absl::OkStatus();
}

// The newest decision matching `where` (a condition on qz_decisions), with its history.
absl::StatusOr<std::optional<DecisionData>> LoadNewest(ReadTransaction& tx,
                                                       absl::string_view where,
                                                       const std::vector<Value>& params) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kDecisionColumns, " FROM qz_decisions WHERE ",
                                         where, " ORDER BY id DESC LIMIT 1"),
                            params));
  if (rows.empty()) return std::optional<DecisionData>();
  DecisionData d = DecisionFromRow(rows[0]);
  RETURN_IF_ERROR(LoadChildren(tx, &d));
  return std::optional<DecisionData>(std::move(d));
}

int64_t Flag(bool b) { return b ? 1 : 0; }

}  // namespace

std::vector<Migration> IsolationTableMigrations() {
  return {EngineMigration("compulsory_isolation", 1, kSchemaV1),
          // Where community rehabilitation is executed, given at release (禁毒法 Art 48;
          // 戒毒条例 Art 37) and passed on with the hand-off that opens it.
          {"compulsory_isolation", 2,
           "ALTER TABLE qz_decisions ADD COLUMN sk_division TEXT NOT NULL DEFAULT '';"
           "ALTER TABLE qz_decisions ADD COLUMN sk_place TEXT NOT NULL DEFAULT '';"},
          // 戒毒条例 Art 38(2): whether the person's SK order was running on the decision
          // date, learnt from the rehabilitation service at the decision. Decisions
          // recorded before keep 0 (their ground still bars, see Derive).
          {"compulsory_isolation", 3,
           "ALTER TABLE qz_decisions ADD COLUMN sk_running_at_decision BIGINT NOT NULL"
           " DEFAULT 0;"}};
}

absl::StatusOr<std::optional<DecisionData>> LoadLatestDecision(ReadTransaction& tx,
                                                               absl::string_view case_id) {
  return LoadNewest(tx, "case_id = ?", {std::string(case_id)});
}

absl::StatusOr<std::optional<DecisionData>> LoadOpenDecision(ReadTransaction& tx,
                                                             absl::string_view case_id) {
  return LoadNewest(tx, "case_id = ? AND is_open = 1", {std::string(case_id)});
}

absl::StatusOr<std::optional<DecisionData>> LoadDecision(ReadTransaction& tx, int64_t id) {
  return LoadNewest(tx, "id = ?", {id});
}

absl::StatusOr<bool> HasOpenDecision(ReadTransaction& tx, absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> open,
                   tx.Query("SELECT id FROM qz_decisions WHERE case_id = ? AND is_open = 1",
                            {std::string(case_id)}));
  return !open.empty();
}

namespace {

// The filters of a decision list (all but the keyset), shared by its page and its
// count; appends their parameters.
std::string DecisionWhere(const DecisionFilter& filter, std::vector<Value>* params) {
  const std::string seen = filter.seen_prefix + "%";
  params->insert(params->end(), {Flag(filter.open_only), filter.facility_id, filter.facility_id,
                                 filter.division_prefix + "%", seen, seen});
  return "(CAST(? AS BIGINT) = 0 OR is_open = 1)"
         " AND (CAST(? AS TEXT) = '' OR facility_id = ?)"
         " AND division LIKE ? AND (division LIKE ? OR deciding_division LIKE ?)";
}

}  // namespace

absl::StatusOr<int64_t> CountDecisions(ReadTransaction& tx, const DecisionFilter& filter) {
  std::vector<Value> params;
  const std::string where = DecisionWhere(filter, &params);
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT COUNT(*) FROM qz_decisions WHERE ", where),
                            params));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::Status EachDecision(ReadTransaction& tx, const DecisionFilter& filter,
                          const std::function<absl::StatusOr<bool>(DecisionData)>& fn) {
  absl::Status inner;
  std::vector<Value> params;
  const std::string where = DecisionWhere(filter, &params);
  params.insert(params.end(), {filter.after_case_id, filter.after_case_id, filter.after_id});
  RETURN_IF_ERROR(tx.QueryEach(
      absl::StrCat("SELECT ", kDecisionColumns, " FROM qz_decisions WHERE ", where,
                   " AND (case_id > ? OR (case_id = ? AND id > ?)) ORDER BY case_id, id"),
      params,
      [&](const Row& row) -> bool {
        DecisionData d = DecisionFromRow(row);
        inner = LoadChildren(tx, &d);
        if (!inner.ok()) return false;
        absl::StatusOr<bool> more = fn(std::move(d));
        if (!more.ok()) {
          inner = more.status();
          return false;
        }
        return *more;
      }));
  return inner;
}

absl::StatusOr<int64_t> InsertDecision(Transaction& tx, const NewDecision& d) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("INSERT INTO qz_decisions(case_id, decision_number, deciding_division, decided_on,"
               " served_on, ground, warnings, state, state_since, division, is_open, created_by,"
               " created_us, sk_running_at_decision)"
               " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id",
               {d.case_id, d.decision_number, d.deciding_division, DayText(d.decided_on),
                DayText(d.served_on), int64_t{d.ground}, absl::StrJoin(d.warnings, ","), d.state,
                DayText(d.state_since), d.division, d.created_by, d.created_us,
                Flag(d.sk_running_at_decision)}));
  if (rows.empty()) return absl::InternalError("INSERT ... RETURNING gave no row");
  return rows[0].GetInt(0);
}

absl::Status SetDecisionState(Transaction& tx, int64_t id, absl::string_view state,
                              CivilDay since) {
  return tx.Exec("UPDATE qz_decisions SET state = ?, state_since = ? WHERE id = ?",
                 {std::string(state), DayText(since), id});
}

absl::Status SetAdmitted(Transaction& tx, int64_t id, absl::string_view state, CivilDay on,
                         absl::string_view facility_id, absl::string_view division) {
  return tx.Exec(
      "UPDATE qz_decisions SET state = ?, state_since = ?, facility_id = ?, division = ?,"
      " admitted_on = ? WHERE id = ?",
      {std::string(state), DayText(on), std::string(facility_id), std::string(division),
       DayText(on), id});
}

absl::Status SetTransferred(Transaction& tx, int64_t id, absl::string_view state, CivilDay on,
                            absl::string_view facility_id, absl::string_view division) {
  return tx.Exec(
      "UPDATE qz_decisions SET state = ?, state_since = ?, facility_id = ?, division = ?,"
      " transferred_on = ? WHERE id = ?",
      {std::string(state), DayText(on), std::string(facility_id), std::string(division),
       DayText(on), id});
}

absl::Status SetEarlyReleaseOn(Transaction& tx, int64_t id, CivilDay on) {
  return tx.Exec("UPDATE qz_decisions SET early_release_on = ? WHERE id = ?",
                 {DayText(on), id});
}

absl::Status SetExtensionMonths(Transaction& tx, int64_t id, int months) {
  return tx.Exec("UPDATE qz_decisions SET extension_months = ? WHERE id = ?",
                 {int64_t{months}, id});
}

absl::Status SetReleaseNoticeOn(Transaction& tx, int64_t id, CivilDay on) {
  return tx.Exec("UPDATE qz_decisions SET release_notice_on = ? WHERE id = ?",
                 {DayText(on), id});
}

absl::Status SetConverted(Transaction& tx, int64_t id, absl::string_view state, CivilDay on,
                          int credit_days) {
  return tx.Exec(
      "UPDATE qz_decisions SET state = ?, state_since = ?, converted_on = ?,"
      " sd_credit_days = ?, is_open = 0 WHERE id = ?",
      {std::string(state), DayText(on), DayText(on), int64_t{credit_days}, id});
}

absl::Status SetReleased(Transaction& tx, int64_t id, const ReleaseRecord& r) {
  return tx.Exec(
      "UPDATE qz_decisions SET state = ?, state_since = ?, released_on = ?,"
      " release_certificate = ?, sk_ordered = ?, sk_term_months = ?, sk_decision_number = ?,"
      " sk_division = ?, sk_place = ?, is_open = 0 WHERE id = ?",
      {r.state, DayText(r.released_on), DayText(r.released_on), r.certificate,
       Flag(r.sk_ordered), int64_t{r.sk_term_months}, r.sk_decision_number, r.sk_division,
       r.sk_place, id});
}

absl::Status InsertNotice(Transaction& tx, int64_t decision_id, const NoticeData& n) {
  return tx.Exec(
      "INSERT INTO qz_notices(decision_id, recipient, notified_on, not_applicable)"
      " VALUES(?, ?, ?, ?)",
      {decision_id, int64_t{n.recipient}, DayText(n.notified_on), Flag(n.not_applicable)});
}

absl::Status InsertAbsence(Transaction& tx, int64_t decision_id, int kind, CivilDay started_on) {
  return tx.Exec("INSERT INTO qz_absences(decision_id, kind, started_on) VALUES(?, ?, ?)",
                 {decision_id, int64_t{kind}, DayText(started_on)});
}

absl::Status SetAbsenceEnded(Transaction& tx, int64_t absence_id, CivilDay ended_on) {
  return tx.Exec("UPDATE qz_absences SET ended_on = ? WHERE id = ?",
                 {DayText(ended_on), absence_id});
}

absl::Status InsertAssessment(Transaction& tx, int64_t decision_id, const AssessmentData& a) {
  return tx.Exec(
      "INSERT INTO qz_assessments(decision_id, kind, assessed_on, physiological, recovery,"
      " behaviour, social, facility_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
      {decision_id, int64_t{a.kind}, DayText(a.assessed_on), int64_t{a.physiological},
       int64_t{a.recovery}, int64_t{a.behaviour}, int64_t{a.social}, a.facility_id});
}

absl::Status InsertProposal(Transaction& tx, int64_t decision_id, const ProposalData& p) {
  return tx.Exec(
      "INSERT INTO qz_proposals(decision_id, kind, proposed_on, assessment_id, months,"
      " release_on, status, decided_on, decision_number, refusal_reason)"
      " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {decision_id, int64_t{p.kind}, DayText(p.proposed_on), p.assessment_id,
       int64_t{p.months}, DayValue(p.release_on), int64_t{p.status}, DayValue(p.decided_on),
       p.decision_number, p.refusal_reason});
}

absl::Status SetProposalDecided(Transaction& tx, int64_t proposal_id, int status,
                                CivilDay decided_on, absl::string_view decision_number,
                                absl::string_view refusal_reason) {
  return tx.Exec(
      "UPDATE qz_proposals SET status = ?, decided_on = ?, decision_number = ?,"
      " refusal_reason = ? WHERE id = ?",
      {int64_t{status}, DayText(decided_on), std::string(decision_number),
       std::string(refusal_reason), proposal_id});
}

}  // namespace isolation
}  // namespace pathway
