#include "services/supervision/supervision_tables.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace pathway::supervision {
namespace {

using absl::CivilDay;

// ---- days in the database ----

Value DayValue(CivilDay d) { return DayText(d); }
Value DayValue(const std::optional<CivilDay>& d) {
  if (!d.has_value()) return std::monostate{};
  return DayText(*d);
}
CivilDay DayAt(const Row& row, int col) {
  return ParseDayText(row.GetString(col)).value_or(CivilDay());
}
std::optional<CivilDay> OptDayAt(const Row& row, int col) {
  if (row.IsNull(col)) return std::nullopt;
  return DayAt(row, col);
}
Value Flag(bool b) { return static_cast<int64_t>(b ? 1 : 0); }

// Version 1 of the schema, for both engines (EngineMigration): the generated key
// columns are the one thing the two engines spell differently.
constexpr char kSchemaV1[] =
    "CREATE TABLE sv_orders ("
    "  order_id {AUTO_ID},"
    "  case_id TEXT NOT NULL,"
    "  division TEXT NOT NULL,"  // the current executing county
    "  state TEXT NOT NULL,"
    "  state_since TEXT NOT NULL,"
    "  decision_number TEXT NOT NULL,"
    "  decision_date TEXT NOT NULL,"
    "  received_on TEXT NOT NULL,"
    "  term_months BIGINT NOT NULL,"
    "  term_start TEXT,"
    "  closed BIGINT NOT NULL DEFAULT 0,"
    "  close_reason TEXT NOT NULL DEFAULT '',"
    "  closed_on TEXT,"
    "  closing_document TEXT NOT NULL DEFAULT '',"
    "  opened_by TEXT NOT NULL,"
    "  created_us BIGINT NOT NULL);"
    // One open order per case per service.
    "CREATE UNIQUE INDEX sv_orders_one_open ON sv_orders(case_id) WHERE closed = 0;"
    "CREATE INDEX sv_orders_case ON sv_orders(case_id, order_id);"
    "CREATE INDEX sv_orders_division ON sv_orders(closed, division, order_id);"
    "CREATE TABLE sv_places ("
    "  order_id BIGINT NOT NULL REFERENCES sv_orders(order_id),"
    "  seq BIGINT NOT NULL,"
    "  division TEXT NOT NULL,"
    "  place TEXT NOT NULL,"
    "  assigned_on TEXT NOT NULL,"
    "  report_deadline TEXT NOT NULL,"
    "  reported_on TEXT,"
    "  agreement_on TEXT,"
    "  agreement_number TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY(order_id, seq));"
    "CREATE TABLE sv_tests ("
    "  test_id {AUTO_ID},"
    "  order_id BIGINT NOT NULL REFERENCES sv_orders(order_id),"
    "  tested_on TEXT NOT NULL,"
    "  specimen BIGINT NOT NULL,"
    "  result BIGINT NOT NULL,"
    "  unannounced BIGINT NOT NULL,"
    "  reviewed_on TEXT,"
    "  evaded BIGINT NOT NULL DEFAULT 0,"
    "  recorded_by TEXT NOT NULL);"
    "CREATE INDEX sv_tests_order ON sv_tests(order_id, tested_on);"
    "CREATE TABLE sv_leaves ("
    "  leave_id {AUTO_ID},"
    "  order_id BIGINT NOT NULL REFERENCES sv_orders(order_id),"
    "  reported_on TEXT NOT NULL,"
    "  start_on TEXT NOT NULL,"
    "  end_on TEXT NOT NULL,"
    "  destination TEXT NOT NULL);"
    "CREATE INDEX sv_leaves_order ON sv_leaves(order_id, start_on);"
    "CREATE TABLE sv_absences ("
    "  absence_id {AUTO_ID},"
    "  order_id BIGINT NOT NULL REFERENCES sv_orders(order_id),"
    "  left_on TEXT NOT NULL,"
    "  returned_on TEXT);"
    "CREATE INDEX sv_absences_order ON sv_absences(order_id, left_on);"
    "CREATE TABLE sv_suspensions ("
    "  suspension_id {AUTO_ID},"
    "  order_id BIGINT NOT NULL REFERENCES sv_orders(order_id),"
    "  reason BIGINT NOT NULL,"
    "  start_on TEXT NOT NULL,"
    "  resumed_on TEXT,"
    "  pauses_clock BIGINT NOT NULL);"
    "CREATE INDEX sv_suspensions_order ON sv_suspensions(order_id, start_on);"
    // Alerts reported to police (Art 21): acknowledges a due item by its key.
    "CREATE TABLE sv_police_reports ("
    "  order_id BIGINT NOT NULL REFERENCES sv_orders(order_id),"
    "  alert_key TEXT NOT NULL,"
    "  reported_on TEXT NOT NULL,"
    "  reported_by TEXT NOT NULL,"
    "  PRIMARY KEY(order_id, alert_key));";

constexpr char kOrderColumns[] =
    "order_id, case_id, state, state_since, decision_number, decision_date, received_on, "
    "term_months, term_start, closed, close_reason, closed_on, "
    "closing_document, credited_days";

Order OrderFromRow(const Row& r) {
  Order o;
  o.order_id = r.GetInt(0);
  o.case_id = r.GetString(1);
  o.state = r.GetString(2);
  o.state_since = DayAt(r, 3);
  o.decision_number = r.GetString(4);
  o.decision_date = DayAt(r, 5);
  o.received_on = DayAt(r, 6);
  o.term_months = static_cast<int>(r.GetInt(7));
  o.term_start = OptDayAt(r, 8);
  o.closed = r.GetInt(9) != 0;
  o.close_reason = r.GetString(10);
  o.closed_on = OptDayAt(r, 11);
  o.closing_document = r.GetString(12);
  o.credited_days = static_cast<int>(r.GetInt(13));
  return o;
}

absl::Status LoadHistory(ReadTransaction& tx, Order* o) {
  const std::vector<Value> id = {o->order_id};
  ASSIGN_OR_RETURN(std::vector<Row> places,
                   tx.Query("SELECT seq, division, place, assigned_on, report_deadline, "
                            "reported_on, agreement_on, agreement_number FROM sv_places "
                            "WHERE order_id = ? ORDER BY seq",
                            id));
  for (const Row& r : places) {
    Place p;
    p.seq = static_cast<int>(r.GetInt(0));
    p.division = r.GetString(1);
    p.place = r.GetString(2);
    p.assigned_on = DayAt(r, 3);
    p.report_deadline = DayAt(r, 4);
    p.reported_on = OptDayAt(r, 5);
    p.agreement_on = OptDayAt(r, 6);
    p.agreement_number = r.GetString(7);
    o->places.push_back(std::move(p));
  }
  if (o->places.empty()) return absl::InternalError("order without a place");
  ASSIGN_OR_RETURN(std::vector<Row> tests,
                   tx.Query("SELECT test_id, tested_on, specimen, result, unannounced, "
                            "reviewed_on, evaded FROM sv_tests WHERE order_id = ? "
                            "ORDER BY tested_on, test_id",
                            id));
  for (const Row& r : tests) {
    DrugTest t;
    t.test_id = r.GetInt(0);
    t.tested_on = DayAt(r, 1);
    t.specimen = static_cast<Specimen>(r.GetInt(2));
    t.result = static_cast<TestResult>(r.GetInt(3));
    t.unannounced = r.GetInt(4) != 0;
    t.reviewed_on = OptDayAt(r, 5);
    t.evaded = r.GetInt(6) != 0;
    o->tests.push_back(t);
  }
  ASSIGN_OR_RETURN(std::vector<Row> leaves,
                   tx.Query("SELECT leave_id, reported_on, start_on, end_on, destination "
                            "FROM sv_leaves WHERE order_id = ? ORDER BY start_on, leave_id",
                            id));
  for (const Row& r : leaves) {
    o->leaves.push_back(
        Leave{r.GetInt(0), DayAt(r, 1), DayAt(r, 2), DayAt(r, 3), r.GetString(4)});
  }
  ASSIGN_OR_RETURN(std::vector<Row> absences,
                   tx.Query("SELECT absence_id, left_on, returned_on FROM sv_absences "
                            "WHERE order_id = ? ORDER BY left_on, absence_id",
                            id));
  for (const Row& r : absences) {
    o->absences.push_back(Absence{r.GetInt(0), DayAt(r, 1), OptDayAt(r, 2)});
  }
  ASSIGN_OR_RETURN(std::vector<Row> suspensions,
                   tx.Query("SELECT suspension_id, reason, start_on, resumed_on, pauses_clock "
                            "FROM sv_suspensions WHERE order_id = ? "
                            "ORDER BY start_on, suspension_id",
                            id));
  for (const Row& r : suspensions) {
    o->suspensions.push_back(Suspension{r.GetInt(0),
                                        static_cast<SuspensionReason>(r.GetInt(1)),
                                        DayAt(r, 2), OptDayAt(r, 3), r.GetInt(4) != 0});
  }
  ASSIGN_OR_RETURN(std::vector<Row> reports,
                   tx.Query("SELECT alert_key, reported_on FROM sv_police_reports "
                            "WHERE order_id = ? ORDER BY reported_on, alert_key",
                            id));
  for (const Row& r : reports) {
    o->police_reports.push_back(PoliceReport{r.GetString(0), DayAt(r, 1)});
  }
  return absl::OkStatus();
}

std::optional<OrderRef> FirstRef(const std::vector<Row>& rows) {
  if (rows.empty()) return std::nullopt;
  return OrderRef{rows[0].GetInt(0), rows[0].GetString(1), rows[0].GetString(2)};
}

}  // namespace

std::vector<Migration> SupervisionMigrations() {
  Migration v1 = EngineMigration("supervision", 1, kSchemaV1);
  // 戒毒条例 Art 31: isolation days credited against an SD term on conversion.
  Migration v2;
  v2.component = "supervision";
  v2.version = 2;
  v2.sql = "ALTER TABLE sv_orders ADD COLUMN credited_days BIGINT NOT NULL DEFAULT 0;";
  return {std::move(v1), std::move(v2)};
}

// ---- orders ----

absl::StatusOr<std::optional<int64_t>> InsertOrder(Transaction& tx, const NewOrderRow& row) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("INSERT INTO sv_orders(case_id, division, state, state_since, decision_number, "
               "decision_date, received_on, term_months, opened_by, created_us, credited_days) "
               "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (case_id) WHERE closed = 0 DO NOTHING RETURNING order_id",
               {row.case_id, row.division, std::string(kStateAwaitingReport),
                DayValue(row.received_on), row.decision_number, DayValue(row.decision_date),
                DayValue(row.received_on), static_cast<int64_t>(row.term_months),
                row.opened_by, absl::ToUnixMicros(row.created),
                static_cast<int64_t>(row.credited_days)}));
  if (rows.empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(rows[0].GetInt(0));
}

absl::StatusOr<std::optional<Order>> FindOrder(ReadTransaction& tx, int64_t order_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT ", kOrderColumns,
                                         " FROM sv_orders WHERE order_id = ?"),
                            {order_id}));
  if (rows.empty()) return std::optional<Order>();
  Order o = OrderFromRow(rows[0]);
  RETURN_IF_ERROR(LoadHistory(tx, &o));
  return std::optional<Order>(std::move(o));
}

absl::StatusOr<std::optional<OrderRef>> FindLatestOrder(ReadTransaction& tx,
                                                        absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT order_id, division, decision_number FROM sv_orders "
                            "WHERE case_id = ? ORDER BY closed ASC, order_id DESC LIMIT 1",
                            {std::string(case_id)}));
  return FirstRef(rows);
}

absl::StatusOr<std::optional<OrderRef>> FindOpenOrder(ReadTransaction& tx,
                                                      absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT order_id, division, decision_number FROM sv_orders "
                            "WHERE case_id = ? AND closed = 0",
                            {std::string(case_id)}));
  return FirstRef(rows);
}

absl::Status ScanOpenOrders(ReadTransaction& tx, absl::string_view division_like,
                            const OrderVisitor& fn) {
  return tx.QueryEach(
      "SELECT order_id, division FROM sv_orders WHERE closed = 0 AND division LIKE ? "
      "ORDER BY order_id",
      {std::string(division_like)},
      [&fn](const Row& r) { return fn(r.GetInt(0), r.GetString(1)); });
}

namespace {

// The filters of an order list (all but the keyset), shared by its page and its count.
std::string OrderListWhere(bool include_closed) {
  return absl::StrCat("division LIKE ? AND division LIKE ?",
                      include_closed ? "" : " AND closed = 0");
}

}  // namespace

absl::Status ScanOrders(ReadTransaction& tx, int64_t after_order_id,
                        absl::string_view division_like, absl::string_view prefix_like,
                        bool include_closed, const OrderVisitor& fn) {
  const std::string sql =
      absl::StrCat("SELECT order_id, division FROM sv_orders WHERE order_id > ? AND ",
                   OrderListWhere(include_closed), " ORDER BY order_id");
  return tx.QueryEach(sql,
                      {after_order_id, std::string(division_like), std::string(prefix_like)},
                      [&fn](const Row& r) { return fn(r.GetInt(0), r.GetString(1)); });
}

absl::StatusOr<int64_t> CountOrders(ReadTransaction& tx, absl::string_view division_like,
                                    absl::string_view prefix_like, bool include_closed) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query(absl::StrCat("SELECT COUNT(*) FROM sv_orders WHERE ",
                                         OrderListWhere(include_closed)),
                            {std::string(division_like), std::string(prefix_like)}));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::Status SaveOrderState(Transaction& tx, int64_t order_id, absl::string_view state,
                            CivilDay state_since, absl::string_view division) {
  return tx.Exec(
      "UPDATE sv_orders SET state = ?, state_since = ?, division = ? WHERE order_id = ?",
      {std::string(state), DayValue(state_since), std::string(division), order_id});
}

absl::Status SetTermStart(Transaction& tx, int64_t order_id, CivilDay term_start) {
  return tx.Exec("UPDATE sv_orders SET term_start = ? WHERE order_id = ?",
                 {DayValue(term_start), order_id});
}

absl::Status CloseOrder(Transaction& tx, int64_t order_id, absl::string_view reason,
                        CivilDay closed_on, absl::string_view document_number) {
  return tx.Exec(
      "UPDATE sv_orders SET closed = 1, close_reason = ?, closed_on = ?, closing_document = ? "
      "WHERE order_id = ?",
      {std::string(reason), DayValue(closed_on), std::string(document_number), order_id});
}

// ---- places ----

absl::Status InsertPlace(Transaction& tx, int64_t order_id, const Place& p) {
  return tx.Exec(
      "INSERT INTO sv_places(order_id, seq, division, place, assigned_on, report_deadline) "
      "VALUES(?, ?, ?, ?, ?, ?)",
      {order_id, static_cast<int64_t>(p.seq), p.division, p.place, DayValue(p.assigned_on),
       DayValue(p.report_deadline)});
}

absl::Status SetPlaceReported(Transaction& tx, int64_t order_id, int seq, CivilDay reported_on) {
  return tx.Exec("UPDATE sv_places SET reported_on = ? WHERE order_id = ? AND seq = ?",
                 {DayValue(reported_on), order_id, static_cast<int64_t>(seq)});
}

absl::Status SetPlaceAgreement(Transaction& tx, int64_t order_id, int seq, CivilDay signed_on,
                               absl::string_view agreement_number) {
  return tx.Exec(
      "UPDATE sv_places SET agreement_on = ?, agreement_number = ? WHERE order_id = ? AND seq = ?",
      {DayValue(signed_on), std::string(agreement_number), order_id, static_cast<int64_t>(seq)});
}

absl::Status SetPlaceReportDeadline(Transaction& tx, int64_t order_id, int seq,
                                    CivilDay report_deadline) {
  return tx.Exec("UPDATE sv_places SET report_deadline = ? WHERE order_id = ? AND seq = ?",
                 {DayValue(report_deadline), order_id, static_cast<int64_t>(seq)});
}

// ---- history ----

absl::StatusOr<int64_t> InsertTest(Transaction& tx, int64_t order_id, const TestInput& in,
                                   absl::string_view recorded_by) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("INSERT INTO sv_tests(order_id, tested_on, specimen, result, unannounced, "
               "recorded_by) VALUES(?, ?, ?, ?, ?, ?) RETURNING test_id",
               {order_id, DayValue(in.tested_on), static_cast<int64_t>(in.specimen),
                static_cast<int64_t>(in.result), Flag(in.unannounced),
                std::string(recorded_by)}));
  if (rows.empty()) return absl::InternalError("a test insert returned no id");
  return rows[0].GetInt(0);
}

absl::Status SetTestReview(Transaction& tx, int64_t test_id, CivilDay reviewed_on, bool evaded) {
  return tx.Exec("UPDATE sv_tests SET reviewed_on = ?, evaded = ? WHERE test_id = ?",
                 {DayValue(reviewed_on), Flag(evaded), test_id});
}

absl::Status InsertLeave(Transaction& tx, int64_t order_id, const LeaveInput& in) {
  return tx.Exec(
      "INSERT INTO sv_leaves(order_id, reported_on, start_on, end_on, destination) "
      "VALUES(?, ?, ?, ?, ?)",
      {order_id, DayValue(in.reported_on), DayValue(in.start), DayValue(in.end),
       in.destination});
}

absl::Status InsertAbsence(Transaction& tx, int64_t order_id, CivilDay left_on,
                           std::optional<CivilDay> returned_on) {
  return tx.Exec("INSERT INTO sv_absences(order_id, left_on, returned_on) VALUES(?, ?, ?)",
                 {order_id, DayValue(left_on), DayValue(returned_on)});
}

absl::Status SetAbsenceReturn(Transaction& tx, int64_t absence_id, CivilDay returned_on) {
  return tx.Exec("UPDATE sv_absences SET returned_on = ? WHERE absence_id = ?",
                 {DayValue(returned_on), absence_id});
}

absl::Status InsertPoliceReport(Transaction& tx, int64_t order_id, absl::string_view alert_key,
                                CivilDay reported_on, absl::string_view reported_by) {
  return tx.Exec(
      "INSERT INTO sv_police_reports(order_id, alert_key, reported_on, reported_by) "
      "VALUES(?, ?, ?, ?)",
      {order_id, std::string(alert_key), DayValue(reported_on), std::string(reported_by)});
}

absl::Status InsertSuspension(Transaction& tx, int64_t order_id, SuspensionReason reason,
                              CivilDay start, bool pauses_clock) {
  return tx.Exec(
      "INSERT INTO sv_suspensions(order_id, reason, start_on, pauses_clock) VALUES(?, ?, ?, ?)",
      {order_id, static_cast<int64_t>(reason), DayValue(start), Flag(pauses_clock)});
}

absl::Status SetSuspensionResumed(Transaction& tx, int64_t suspension_id, CivilDay resumed_on) {
  return tx.Exec("UPDATE sv_suspensions SET resumed_on = ? WHERE suspension_id = ?",
                 {DayValue(resumed_on), suspension_id});
}

absl::Status EndOpenSuspensions(Transaction& tx, int64_t order_id, CivilDay ended_on) {
  return tx.Exec(
      "UPDATE sv_suspensions SET resumed_on = ? WHERE order_id = ? AND resumed_on IS NULL",
      {DayValue(ended_on), order_id});
}

}  // namespace pathway::supervision
