#include "services/supervision/supervision.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/jurisdiction.h"
#include "common/ids/division_code.h"
#include "common/status/status_macros.h"

namespace pathway::supervision {
namespace {

using absl::CivilDay;

constexpr int kMaxPageSize = 500;

std::string JurisdictionLike(const Caller& caller) {
  if (caller.jurisdiction() == kNationalJurisdiction) return "%";
  return caller.jurisdiction() + "%";
}

std::string EncodeToken(absl::string_view text) { return absl::WebSafeBase64Escape(text); }

absl::StatusOr<std::string> DecodeToken(absl::string_view token) {
  std::string text;
  if (!absl::WebSafeBase64Unescape(token, &text)) {
    return absl::InvalidArgumentError("page_token is malformed");
  }
  return text;
}

int ClampPageSize(int size) {
  if (size <= 0) return 50;
  return std::min(size, kMaxPageSize);
}

// ---- loading ----

absl::StatusOr<Order> LoadOrderById(ReadTransaction& tx, int64_t order_id) {
  ASSIGN_OR_RETURN(std::optional<Order> o, FindOrder(tx, order_id));
  if (!o.has_value()) return CaseNotFound("order");
  return *std::move(o);
}

// The case's open order if any, else its latest; NOT_FOUND when there is none. Who
// may see it is decided before (SupervisionEngine::CheckVisible).
absl::StatusOr<Order> LoadLatestOrder(ReadTransaction& tx, absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::optional<OrderRef> ref, FindLatestOrder(tx, case_id));
  if (!ref.has_value()) return CaseNotFound("order");
  return LoadOrderById(tx, ref->order_id);
}

// The open order, for recording its execution: only the executing township's side
// acts (DESIGN.md §6); the other place of 双向管控 sees it but is PERMISSION_DENIED.
absl::StatusOr<Order> LoadOpenOrder(ReadTransaction& tx, const Caller& caller,
                                    absl::string_view case_id) {
  ASSIGN_OR_RETURN(Order o, LoadLatestOrder(tx, case_id));
  RETURN_IF_ERROR(CheckExecutes(caller, o.current_place().division, "the executing county"));
  if (o.closed) {
    return absl::FailedPreconditionError(
        absl::StrCat("the order is closed (", o.close_reason, ")"));
  }
  return o;
}

// Ids of the open orders in the caller's jurisdiction, by id.
absl::StatusOr<std::vector<int64_t>> OpenOrderIds(ReadTransaction& tx, const Caller& caller) {
  std::vector<int64_t> ids;
  RETURN_IF_ERROR(ScanOpenOrders(tx, JurisdictionLike(caller),
                                 [&](int64_t order_id, const std::string& division) {
                                   if (caller.Covers(division)) ids.push_back(order_id);
                                   return true;
                                 }));
  return ids;
}

// ---- finishing a write ----
// Each write loads the open order, asks the rules about the change, stores it, then
// Finish re-evaluates and saves the order's state and programme status.

// `stored`: the order exactly as LoadOrderById would read it now, change included.
absl::StatusOr<WriteResult> FinishLoaded(const SupervisionEngine& engine, Transaction& tx,
                                         Order stored, absl::Time now,
                                         std::vector<RegistryEvent> events) {
  WriteResult result;
  const int64_t order_id = stored.order_id;
  result.order = std::move(stored);
  engine.Evaluate(&result.order, legal_time::ToCivilDay(now));
  RETURN_IF_ERROR(SaveOrderState(tx, order_id, result.order.state, result.order.state_since,
                                 result.order.current_place().division));
  result.status = StatusOf(result.order);
  RETURN_IF_ERROR(SaveProgramStatus(tx, now, &result.status));
  result.events = std::move(events);
  return result;
}

absl::StatusOr<WriteResult> Finish(const SupervisionEngine& engine, Transaction& tx,
                                   int64_t order_id, absl::Time now,
                                   std::vector<RegistryEvent> events = {}) {
  ASSIGN_OR_RETURN(Order stored, LoadOrderById(tx, order_id));
  return FinishLoaded(engine, tx, std::move(stored), now, std::move(events));
}

}  // namespace

SupervisionEngine::SupervisionEngine(ProgramPolicy policy) : policy_(std::move(policy)) {}

void SupervisionEngine::Evaluate(Order* order, CivilDay as_of) const {
  EvaluateOrder(policy_, order, as_of);
}

// ---------------------------------------------------------------------------------
// Writes.

absl::StatusOr<WriteResult> SupervisionEngine::OpenOrder(Transaction& tx, const Caller& caller,
                                                         const OpenOrderInput& in,
                                                         absl::Time now) const {
  ASSIGN_OR_RETURN(const int term, CheckNewOrder(policy_, in, legal_time::ToCivilDay(now)));
  if (!caller.Covers(in.division) && in.out_of_area_basis.empty()) {
    return absl::PermissionDeniedError("division (the execution place) is outside your jurisdiction");
  }
  RETURN_IF_ERROR(CheckCredit(policy_, in.credited_days));
  NewOrderRow row;
  row.case_id = in.case_id;
  row.division = in.division;
  row.decision_number = in.decision_number;
  row.decision_date = in.decision_date;
  row.received_on = in.received_on;
  row.term_months = term;
  row.credited_days = in.credited_days;
  row.opened_by = caller.subject();
  row.created = now;
  ASSIGN_OR_RETURN(std::optional<int64_t> order_id, InsertOrder(tx, row));
  if (!order_id.has_value()) {
    return absl::AlreadyExistsError("the case already has an open order in this programme");
  }
  // 戒毒条例 Art 14 / 38: report within 15 days of receiving the decision (民法典 Art 201,
  // 203 for counting and holidays).
  Place first;
  first.seq = 1;
  first.division = in.division;
  first.place = in.place;
  first.assigned_on = in.received_on;
  first.report_deadline = ReportDeadline(in.received_on, policy_.calendar.get());
  RETURN_IF_ERROR(InsertPlace(tx, *order_id, first));
  std::vector<RegistryEvent> events = {{RegistryEvent::Kind::kMeasureStarted, in.case_id,
                                        in.received_on,
                                        EventId(policy_, "order-start", *order_id)}};
  return Finish(*this, tx, *order_id, now, std::move(events));
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordReport(Transaction& tx, const Caller& caller,
                                                            absl::string_view case_id,
                                                            CivilDay reported_on,
                                                            absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(CheckReport(o, reported_on, legal_time::ToCivilDay(now)));
  RETURN_IF_ERROR(SetPlaceReported(tx, o.order_id, o.current_place().seq, reported_on));
  if (!o.term_start.has_value()) {
    // 戒毒条例 Art 14: the term runs from the report date. After a change of place the
    // term runs on without a break (Art 22).
    RETURN_IF_ERROR(SetTermStart(tx, o.order_id, reported_on));
  }
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::SignAgreement(
    Transaction& tx, const Caller& caller, absl::string_view case_id, CivilDay signed_on,
    absl::string_view agreement_number, absl::Time now) const {
  RETURN_IF_ERROR(CheckText(agreement_number, "agreement_number", false));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(CheckAgreement(o, signed_on, legal_time::ToCivilDay(now)));
  RETURN_IF_ERROR(
      SetPlaceAgreement(tx, o.order_id, o.current_place().seq, signed_on, agreement_number));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::ChangeExecutionPlace(
    Transaction& tx, const Caller& caller, absl::string_view case_id,
    absl::string_view new_division, absl::string_view new_place, CivilDay changed_on,
    absl::Time now) const {
  RETURN_IF_ERROR(ValidateDivisionCode(new_division));
  RETURN_IF_ERROR(CheckText(new_place, "new_place", true));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(
      CheckPlaceChange(o, new_division, new_place, changed_on, legal_time::ToCivilDay(now)));
  // 戒毒条例 Art 22: report to the new place within 15 days of the change; a new
  // agreement follows; the term runs on without a break.
  Place next;
  next.seq = o.current_place().seq + 1;
  next.division = std::string(new_division);
  next.place = std::string(new_place);
  next.assigned_on = changed_on;
  next.report_deadline = ReportDeadline(changed_on, policy_.calendar.get());
  RETURN_IF_ERROR(InsertPlace(tx, o.order_id, next));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordTest(Transaction& tx, const Caller& caller,
                                                          absl::string_view case_id,
                                                          const TestInput& in, absl::Time now,
                                                          int64_t* test_id) const {
  // As loaded, before evaluation: with the new test added below it is what a reload
  // would read, so Finish need not read the order's history again (a test is the most
  // frequent write of SD and SK).
  ASSIGN_OR_RETURN(Order stored, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(CheckTest(policy_, stored, in.tested_on, legal_time::ToCivilDay(now)));
  ASSIGN_OR_RETURN(const int64_t id, InsertTest(tx, stored.order_id, in, caller.subject()));
  if (test_id != nullptr) *test_id = id;
  std::vector<RegistryEvent> events;
  if (in.result == TestResult::kPositive) {
    // A positive test is a drug-use finding for the registry (戒毒条例 Art 7 clock).
    events.push_back({RegistryEvent::Kind::kPositiveTest, stored.case_id, in.tested_on,
                      EventId(policy_, "test", id)});
  }
  DrugTest added;
  added.test_id = id;
  added.tested_on = in.tested_on;
  added.specimen = in.specimen;
  added.result = in.result;
  added.unannounced = in.unannounced;
  // FindOrder's order: tested_on, then test_id (the new id is the largest).
  auto at = std::upper_bound(stored.tests.begin(), stored.tests.end(), added,
                             [](const DrugTest& a, const DrugTest& b) {
                               return std::tie(a.tested_on, a.test_id) <
                                      std::tie(b.tested_on, b.test_id);
                             });
  stored.tests.insert(at, added);
  return FinishLoaded(*this, tx, std::move(stored), now, std::move(events));
}

absl::StatusOr<WriteResult> SupervisionEngine::ConfirmMissedTest(
    Transaction& tx, const Caller& caller, absl::string_view case_id, int64_t test_id,
    bool evaded, CivilDay confirmed_on, absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(CheckMissedTestReview(o, test_id, confirmed_on, legal_time::ToCivilDay(now)));
  RETURN_IF_ERROR(SetTestReview(tx, test_id, confirmed_on, evaded));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordLeave(Transaction& tx, const Caller& caller,
                                                           absl::string_view case_id,
                                                           const LeaveInput& in,
                                                           absl::Time now) const {
  RETURN_IF_ERROR(CheckText(in.destination, "destination", false));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(CheckLeave(o, in, legal_time::ToCivilDay(now)));
  RETURN_IF_ERROR(InsertLeave(tx, o.order_id, in));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordAbsence(
    Transaction& tx, const Caller& caller, absl::string_view case_id, CivilDay left_on,
    std::optional<CivilDay> returned_on, absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(CheckAbsence(o, left_on, returned_on, legal_time::ToCivilDay(now)));
  RETURN_IF_ERROR(InsertAbsence(tx, o.order_id, left_on, returned_on));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordReturn(Transaction& tx, const Caller& caller,
                                                            absl::string_view case_id,
                                                            int64_t absence_id,
                                                            CivilDay returned_on,
                                                            absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(CheckReturn(o, absence_id, returned_on, legal_time::ToCivilDay(now)));
  RETURN_IF_ERROR(SetAbsenceReturn(tx, absence_id, returned_on));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordPoliceReport(
    Transaction& tx, const Caller& caller, absl::string_view case_id,
    absl::string_view alert_key, CivilDay reported_on, absl::Time now) const {
  RETURN_IF_ERROR(CheckText(alert_key, "alert_key", true));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(
      CheckPoliceReport(policy_, o, alert_key, reported_on, legal_time::ToCivilDay(now)));
  RETURN_IF_ERROR(InsertPoliceReport(tx, o.order_id, alert_key, reported_on, caller.subject()));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::Suspend(Transaction& tx, const Caller& caller,
                                                       absl::string_view case_id,
                                                       SuspensionReason reason, CivilDay start,
                                                       absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(CheckSuspension(o, start, legal_time::ToCivilDay(now)));
  // 戒毒条例 Art 24: detention or arrest suspends (中止); whether the clock pauses is
  // policy.
  RETURN_IF_ERROR(
      InsertSuspension(tx, o.order_id, reason, start, policy_.suspension_pauses_clock));
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::Resume(Transaction& tx, const Caller& caller,
                                                      absl::string_view case_id,
                                                      CivilDay resumed_on, absl::Time now) const {
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  ASSIGN_OR_RETURN(const Suspension s, CheckResume(o, resumed_on, legal_time::ToCivilDay(now)));
  RETURN_IF_ERROR(SetSuspensionResumed(tx, s.suspension_id, resumed_on));
  // Paused days push the term's last day back: EvaluateOrder counts them from the
  // suspension rows (legal_time::TermLastDay excluded_days). Held before reporting,
  // the person gets the 15-day window again from release.
  const std::optional<CivilDay> deadline = ReportDeadlineAfterResume(policy_, o, resumed_on);
  if (deadline.has_value()) {
    RETURN_IF_ERROR(SetPlaceReportDeadline(tx, o.order_id, o.current_place().seq, *deadline));
  }
  return Finish(*this, tx, o.order_id, now);
}

absl::StatusOr<WriteResult> SupervisionEngine::Terminate(
    Transaction& tx, const Caller& caller, absl::string_view case_id, TerminationReason reason,
    absl::string_view document_number, CivilDay effective_on, absl::Time now) const {
  RETURN_IF_ERROR(CheckText(document_number, "document_number", true));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(CheckTermination(o, effective_on, legal_time::ToCivilDay(now)));
  // 戒毒条例 Art 24: imprisonment or compulsory education terminates (终止); 禁毒法 Art 38:
  // so does a decision of compulsory isolation.
  RETURN_IF_ERROR(
      CloseOrder(tx, o.order_id, TerminationReasonName(reason), effective_on, document_number));
  RETURN_IF_ERROR(EndOpenSuspensions(tx, o.order_id, effective_on));
  std::vector<RegistryEvent> events = {{RegistryEvent::Kind::kMeasureEnded, o.case_id,
                                        effective_on, EventId(policy_, "order-end", o.order_id)}};
  return Finish(*this, tx, o.order_id, now, std::move(events));
}

absl::StatusOr<std::optional<WriteResult>> SupervisionEngine::CloseForIsolation(
    Transaction& tx, const Caller& caller, absl::string_view case_id,
    absl::string_view decision_number, CivilDay decided_on, absl::Time now) const {
  ASSIGN_OR_RETURN(std::optional<OrderRef> open, FindOpenOrder(tx, case_id));
  if (!open.has_value()) return std::optional<WriteResult>();
  // 禁毒法 Art 38: the isolation decision ends community detox (and, by Art 48,
  // community rehabilitation); practice records it as 违反协议已移交 (handed over).
  ASSIGN_OR_RETURN(WriteResult r, Terminate(tx, caller, case_id, TerminationReason::kIsolation,
                                            decision_number, decided_on, now));
  return std::optional<WriteResult>(std::move(r));
}

absl::StatusOr<WriteResult> SupervisionEngine::OpenFromRelease(Transaction& tx,
                                                               const Caller& caller,
                                                               const OpenOrderInput& in,
                                                               absl::Time now,
                                                               bool* opened) const {
  *opened = false;
  ASSIGN_OR_RETURN(std::optional<OrderRef> open, FindOpenOrder(tx, in.case_id));
  if (open.has_value()) {
    if (open->decision_number != in.decision_number) {
      return absl::AlreadyExistsError("the case already has an open order in this programme");
    }
    // The same decision, already recorded by hand: answered as it stands.
    WriteResult same;
    ASSIGN_OR_RETURN(same.order, LoadOrderById(tx, open->order_id));
    RETURN_IF_ERROR(
        CheckExecutes(caller, same.order.current_place().division, "the executing county"));
    Evaluate(&same.order, legal_time::ToCivilDay(now));
    same.status = StatusOf(same.order);
    return same;
  }
  ASSIGN_OR_RETURN(WriteResult r, OpenOrder(tx, caller, in, now));
  *opened = true;
  return r;
}

absl::StatusOr<WriteResult> SupervisionEngine::OpenFromConversion(Transaction& tx,
                                                                  const Caller& caller,
                                                                  const OpenOrderInput& in,
                                                                  absl::Time now,
                                                                  bool* opened) const {
  *opened = false;
  // 戒毒条例 Art 31: only isolation converts, and only to community detox.
  if (policy_.programme != Programme::kCommunityDetox) {
    return absl::InvalidArgumentError("a conversion opens only a community detox order");
  }
  // The same answer to a repeat as a release hand-off: the same decision is answered
  // as it stands.
  return OpenFromRelease(tx, caller, in, now, opened);
}

absl::StatusOr<WriteResult> SupervisionEngine::RecordDischarge(
    Transaction& tx, const Caller& caller, absl::string_view case_id,
    absl::string_view notice_number, CivilDay notice_date, absl::Time now) const {
  RETURN_IF_ERROR(CheckText(notice_number, "notice_number", true));
  ASSIGN_OR_RETURN(Order o, LoadOpenOrder(tx, caller, case_id));
  RETURN_IF_ERROR(CheckDischarge(policy_, o, notice_date, legal_time::ToCivilDay(now)));
  RETURN_IF_ERROR(CloseOrder(tx, o.order_id, kStateDischarged, notice_date, notice_number));
  std::vector<RegistryEvent> events = {{RegistryEvent::Kind::kMeasureEnded, o.case_id,
                                        notice_date, EventId(policy_, "order-end", o.order_id)}};
  return Finish(*this, tx, o.order_id, now, std::move(events));
}

// ---------------------------------------------------------------------------------
// Reads.

absl::StatusOr<Order> SupervisionEngine::GetOrder(ReadTransaction& tx, const Caller& /*caller*/,
                                                  absl::string_view case_id,
                                                  CivilDay as_of) const {
  ASSIGN_OR_RETURN(Order o, LoadLatestOrder(tx, case_id));
  Evaluate(&o, as_of);
  return o;
}

absl::Status SupervisionEngine::CheckActs(ReadTransaction& tx, const Caller& caller,
                                          const CaseScope& scope) const {
  ASSIGN_OR_RETURN(std::optional<OrderRef> latest, FindLatestOrder(tx, scope.case_id));
  if (!latest.has_value()) return absl::OkStatus();
  return CheckExecutesCase(caller, scope, latest->division, "the executing county");
}

absl::Status SupervisionEngine::CheckVisible(ReadTransaction& tx, const Caller& caller,
                                             const CaseScope& scope) const {
  if (CoversCase(caller, scope)) return CheckCaseVisible(caller, scope);
  // Not a place of 双向管控: the county executing the latest order still sees it.
  ASSIGN_OR_RETURN(std::optional<OrderRef> latest, FindLatestOrder(tx, scope.case_id));
  if (!latest.has_value()) return CaseNotFound();
  return CheckCaseVisible(caller, scope, {latest->division});
}

absl::StatusOr<OrderPage> SupervisionEngine::ListOrders(ReadTransaction& tx, const Caller& caller,
                                                        const OrderFilter& filter,
                                                        CivilDay as_of) const {
  const int size = ClampPageSize(filter.page_size);
  int64_t after = 0;
  if (!filter.page_token.empty()) {
    ASSIGN_OR_RETURN(std::string text, DecodeToken(filter.page_token));
    if (!absl::SimpleAtoi(text, &after) || after < 0) {
      return absl::InvalidArgumentError("page_token is malformed");
    }
  }
  if (!filter.division_prefix.empty()) {
    for (char c : filter.division_prefix) {
      if (c < '0' || c > '9' || filter.division_prefix.size() > 6) {
        return absl::InvalidArgumentError("division_prefix must be up to 6 digits");
      }
    }
  }
  std::vector<int64_t> ids;
  bool more = false;
  RETURN_IF_ERROR(ScanOrders(tx, after, JurisdictionLike(caller), filter.division_prefix + "%",
                             filter.include_closed,
                             [&](int64_t order_id, const std::string& division) {
                               if (!caller.Covers(division)) return true;
                               if (static_cast<int>(ids.size()) == size) {
                                 more = true;
                                 return false;
                               }
                               ids.push_back(order_id);
                               return true;
                             }));
  OrderPage page;
  ASSIGN_OR_RETURN(page.total_bound, CountOrders(tx, JurisdictionLike(caller),
                                                 filter.division_prefix + "%",
                                                 filter.include_closed));
  for (int64_t id : ids) {
    ASSIGN_OR_RETURN(Order o, LoadOrderById(tx, id));
    Evaluate(&o, as_of);
    if (!filter.state.empty() && o.state != filter.state) continue;
    page.orders.push_back(std::move(o));
  }
  if (more) page.next_page_token = EncodeToken(absl::StrCat(ids.back()));
  return page;
}

absl::StatusOr<DuePage> SupervisionEngine::ListDue(ReadTransaction& tx, const Caller& caller,
                                                   const ListDueQuery& q) const {
  ASSIGN_OR_RETURN(std::vector<DueItem> items, CollectDue(tx, caller, q));
  return PageDue(std::move(items), q);
}

absl::StatusOr<std::vector<DueItem>> SupervisionEngine::CollectDue(ReadTransaction& tx,
                                                                   const Caller& caller,
                                                                   const ListDueQuery& q) const {
  ASSIGN_OR_RETURN(std::vector<int64_t> ids, OpenOrderIds(tx, caller));
  std::vector<DueItem> items;
  for (int64_t id : ids) {
    ASSIGN_OR_RETURN(Order o, LoadOrderById(tx, id));
    Evaluate(&o, q.as_of);
    for (DueItem& d : o.due) {
      if (!d.open) continue;
      if (!q.kind.empty() && d.kind != q.kind) continue;
      if (q.overdue_only && !d.overdue) continue;
      items.push_back(std::move(d));
    }
  }
  return items;
}

absl::StatusOr<DuePage> SupervisionEngine::PageDue(std::vector<DueItem> items,
                                                   const ListDueQuery& q) {
  const int size = ClampPageSize(q.page_size);
  // The token is the sort key of the last item returned: due|case|key.
  std::optional<std::tuple<std::string, std::string, std::string>> after;
  if (!q.page_token.empty()) {
    ASSIGN_OR_RETURN(std::string text, DecodeToken(q.page_token));
    std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits('|', 2));
    if (parts.size() != 3) return absl::InvalidArgumentError("page_token is malformed");
    after = std::make_tuple(parts[0], parts[1], parts[2]);
  }
  auto sort_key = [](const DueItem& d) {
    return std::make_tuple(DayText(d.due), d.case_id, d.key);
  };
  std::sort(items.begin(), items.end(),
            [&](const DueItem& a, const DueItem& b) { return sort_key(a) < sort_key(b); });
  DuePage page;
  page.total_size = static_cast<int64_t>(items.size());
  for (DueItem& d : items) {
    if (after.has_value() && !(sort_key(d) > *after)) continue;
    if (static_cast<int>(page.items.size()) == size) {
      const auto& k = sort_key(page.items.back());
      page.next_page_token =
          EncodeToken(absl::StrCat(std::get<0>(k), "|", std::get<1>(k), "|", std::get<2>(k)));
      break;
    }
    page.items.push_back(std::move(d));
  }
  return page;
}

absl::StatusOr<std::vector<ProgramStatusRecord>> SupervisionEngine::RefreshStatuses(
    Transaction& tx, const Caller& caller, absl::Time now) const {
  const CivilDay today = legal_time::ToCivilDay(now);
  ASSIGN_OR_RETURN(std::vector<int64_t> ids, OpenOrderIds(tx, caller));
  std::vector<ProgramStatusRecord> changed;
  for (int64_t id : ids) {
    ASSIGN_OR_RETURN(Order o, LoadOrderById(tx, id));
    Evaluate(&o, today);
    ProgramStatusRecord fresh = StatusOf(o);
    ASSIGN_OR_RETURN(std::optional<ProgramStatusRecord> stored, LoadProgramStatus(tx, o.case_id));
    if (stored.has_value() && SameStatus(*stored, fresh)) continue;
    ASSIGN_OR_RETURN(WriteResult r, Finish(*this, tx, id, now));
    changed.push_back(std::move(r.status));
  }
  return changed;
}

}  // namespace pathway::supervision
