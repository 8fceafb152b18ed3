// The gRPC adapter shared by the community detox and community rehabilitation
// services: one callback handler per RPC (authorise, validate, call the engine through
// RunMutation, publish the status after commit, report registry events, finish),
// written once over the two packages' identically shaped messages.
//
//   struct DetoxApi {
//     using Service = v1::CommunityDetox;
//     using Order = v1::Order;
//     ...  // one alias per request/response message, see services/community_detox
//   };
//   using CommunityDetoxService = supervision::SupervisionService<DetoxApi>;
//   CommunityDetoxService service(runtime, supervision::CommunityDetoxPolicy());
//
// Roles (DESIGN.md §6): police open, terminate and discharge; township caseworkers
// record reporting, agreements, tests, leave and absences; both record suspensions and
// police reports; reads for caseworker, police, auditor, admin (ListDue also batch).
// Every read is audited through runtime.read_audit(); every write through RunMutation.
//
// Hand-offs (DESIGN.md §5): events for the registry's abstinence clock (positive
// tests, measure started / ended) are enqueued in the write's own transaction as
// outbox rows to the registry's ReportEvent, and the service's HandoffRunner is woken
// after the commit; nothing is sent directly. CloseForIsolation (both programmes) is
// the receiving end of the isolation service's hand-off; the rehabilitation service
// adds OpenFromRelease (services/community_rehab) and the detox service
// OpenFromConversion (services/community_detox). GetCaseFacts on open stays a
// direct call with the registry client's deadline (a read).
//
// Thread-safe. `runtime` and `handoffs` are not owned and must outlive the service.
#ifndef PATHWAY_SERVICES_SUPERVISION_SUPERVISION_SERVICE_H_
#define PATHWAY_SERVICES_SUPERVISION_SUPERVISION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/auth/case_scope.h"
#include "common/auth/jurisdiction.h"
#include "common/codec/proto_date.h"
#include "common/codec/proto_programme.h"
#include "common/ids/case_id.h"
#include "common/log/log.h"
#include "common/outbox/handoff_runner.h"
#include "common/program_status/program_status.h"
#include "common/program_status/program_status_rpc.h"
#include "common/registry_client/registry_client.h"
#include "common/server/handler_pool.h"
#include "common/server/mutation.h"
#include "common/server/service_runtime.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"
#include "services/supervision/supervision.h"

namespace pathway::supervision {

// ---- conversions shared by both packages ----

void DueItemToAlert(const DueItem& item, Programme programme, common::v1::Alert* out);
// The registry's ReportEvent request for an engine event.
registry::v1::ReportEventRequest RegistryEventRequest(const RegistryEvent& event,
                                                      Programme programme);
// Enqueues the events as hand-offs to the registry in the caller's transaction
// (idempotency key = source_event_id; the registry also ignores repeats).
absl::Status EnqueueRegistryEvents(Transaction& tx, Programme programme,
                                   const std::vector<RegistryEvent>& events, absl::Time now);

// A proto enum value (1..n) as the engine's enum (0..n-1); INVALID_ARGUMENT naming
// `field` for 0 (unspecified) or an unknown value.
template <typename E>
absl::StatusOr<E> EnumFromProto(int value, int count, absl::string_view field) {
  if (value < 1 || value > count) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  return static_cast<E>(value - 1);
}

// Whether the package's Order has credited_days (community detox only, 戒毒条例 Art 31).
template <typename T, typename = void>
struct HasCreditedDays : std::false_type {};
template <typename T>
struct HasCreditedDays<T, std::void_t<decltype(std::declval<T&>().set_credited_days(0))>>
    : std::true_type {};

template <typename OrderProto>
void OrderToProto(const Order& o, Programme programme, OrderProto* out) {
  out->Clear();
  out->set_order_id(o.order_id);
  out->set_case_id(o.case_id);
  out->set_state(o.state);
  ToProtoDate(o.state_since, out->mutable_state_since());
  out->set_division(o.current_place().division);
  out->set_decision_number(o.decision_number);
  ToProtoDate(o.decision_date, out->mutable_decision_date());
  ToProtoDate(o.received_on, out->mutable_received_on());
  out->set_term_months(o.term_months);
  if constexpr (HasCreditedDays<OrderProto>::value) out->set_credited_days(o.credited_days);
  if (o.term_start) ToProtoDate(o.term_start, out->mutable_term_start());
  if (o.term_last_day) ToProtoDate(o.term_last_day, out->mutable_term_last_day());
  out->set_excluded_days(o.excluded_days);
  out->set_close_reason(o.close_reason);
  if (o.closed_on) ToProtoDate(o.closed_on, out->mutable_closed_on());
  out->set_closing_document(o.closing_document);
  for (const Place& p : o.places) {
    auto* pp = out->add_places();
    pp->set_seq(p.seq);
    pp->set_division(p.division);
    pp->set_place(p.place);
    ToProtoDate(p.assigned_on, pp->mutable_assigned_on());
    ToProtoDate(p.report_deadline, pp->mutable_report_deadline());
    if (p.reported_on) ToProtoDate(p.reported_on, pp->mutable_reported_on());
    if (p.agreement_on) ToProtoDate(p.agreement_on, pp->mutable_agreement_on());
    pp->set_agreement_number(p.agreement_number);
  }
  for (const DrugTest& t : o.tests) {
    auto* tp = out->add_tests();
    tp->set_test_id(t.test_id);
    ToProtoDate(t.tested_on, tp->mutable_tested_on());
    using SpecimenE = std::decay_t<decltype(tp->specimen())>;
    using ResultE = std::decay_t<decltype(tp->result())>;
    tp->set_specimen(static_cast<SpecimenE>(static_cast<int>(t.specimen) + 1));
    tp->set_result(static_cast<ResultE>(static_cast<int>(t.result) + 1));
    tp->set_unannounced(t.unannounced);
    if (t.reviewed_on) ToProtoDate(t.reviewed_on, tp->mutable_reviewed_on());
    tp->set_evaded(t.evaded);
  }
  for (const Leave& l : o.leaves) {
    auto* lp = out->add_leaves();
    lp->set_leave_id(l.leave_id);
    ToProtoDate(l.reported_on, lp->mutable_reported_on());
    ToProtoDate(l.start, lp->mutable_start());
    ToProtoDate(l.end, lp->mutable_end());
    lp->set_destination(l.destination);
  }
  for (const Absence& a : o.absences) {
    auto* ap = out->add_absences();
    ap->set_absence_id(a.absence_id);
    ToProtoDate(a.left_on, ap->mutable_left_on());
    if (a.returned_on) ToProtoDate(a.returned_on, ap->mutable_returned_on());
  }
  for (const Suspension& s : o.suspensions) {
    auto* sp = out->add_suspensions();
    sp->set_suspension_id(s.suspension_id);
    using ReasonE = std::decay_t<decltype(sp->reason())>;
    sp->set_reason(static_cast<ReasonE>(static_cast<int>(s.reason) + 1));
    ToProtoDate(s.start, sp->mutable_start());
    if (s.resumed_on) ToProtoDate(s.resumed_on, sp->mutable_resumed_on());
    sp->set_pauses_clock(s.pauses_clock);
  }
  for (const PoliceReport& r : o.police_reports) {
    auto* rp = out->add_police_reports();
    rp->set_alert_key(r.alert_key);
    ToProtoDate(r.reported_on, rp->mutable_reported_on());
  }
  out->set_evaded_or_refused_tests(o.evaded_or_refused_tests);
  out->set_unauthorised_departures(o.unauthorised_departures);
  out->set_days_away(o.days_away);
  out->set_schedule_gaps(o.schedule_gaps);
  for (const DueItem& d : o.due) {
    auto* dp = out->add_due();
    DueItemToAlert(d, programme, dp->mutable_alert());
    dp->set_key(d.key);
    dp->set_open(d.open);
  }
}

// ---- the service ----

template <typename Api>
class SupervisionService : public Api::Service::CallbackService {
 public:
  using Engine = SupervisionEngine;

  // `runtime`, `handoffs`: not owned; must outlive this. Without `handoffs` (null)
  // enqueued hand-offs wait for the next start of a runner over the same store.
  SupervisionService(ServiceRuntime* runtime, ProgramPolicy policy,
                     HandoffRunner* handoffs = nullptr)
      : runtime_(runtime), engine_(std::move(policy)), handoffs_(handoffs) {}

  const SupervisionEngine& engine() const { return engine_; }

  grpc::ServerUnaryReactor* GetProgramStatus(grpc::CallbackServerContext* ctx,
                                             const common::v1::GetProgramStatusRequest* request,
                                             common::v1::ProgramStatus* response) override {
    return ServeGetProgramStatus(*runtime_, programme(), ctx, request, response);
  }

  grpc::ServerUnaryReactor* OpenOrder(grpc::CallbackServerContext* ctx,
                                      const typename Api::OpenOrderRequest* req,
                                      typename Api::Order* resp) override {
    return WriteAfter(
        ctx, "OpenOrder", {Role::kPolice}, req->case_id(), req, resp,
        [this, req](const CaseId&, const CaseScope* scope) -> absl::StatusOr<WriteFn> {
          if (!req->out_of_area_basis().empty() && scope != nullptr &&
              req->division() != scope->household_division &&
              req->division() != scope->residence_division) {
            // 禁毒法 Art 33: community detox is executed where the person lives.
            return absl::InvalidArgumentError(
                "with out_of_area_basis, division must be the person's household or "
                "residence place");
          }
          return WriteFn([this, req](Transaction& tx, const Caller& caller,
                                     absl::Time now) -> absl::StatusOr<WriteResult> {
            OpenOrderInput in;
            in.case_id = req->case_id();
            in.division = req->division();
            in.place = req->place();
            in.decision_number = req->decision_number();
            ASSIGN_OR_RETURN(in.decision_date,
                             RequiredDate(req->decision_date(), "decision_date"));
            ASSIGN_OR_RETURN(in.received_on, RequiredDate(req->received_on(), "received_on"));
            in.term_months = req->term_months();
            in.out_of_area_basis = req->out_of_area_basis();
            return engine_.OpenOrder(tx, caller, in, now);
          });
        },
        /*received_handoff=*/false, req->out_of_area_basis());
  }

  grpc::ServerUnaryReactor* RecordReport(grpc::CallbackServerContext* ctx,
                                         const typename Api::RecordReportRequest* req,
                                         typename Api::Order* resp) override {
    return Write(ctx, "RecordReport", {Role::kCaseworker}, req->case_id(), req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(absl::CivilDay day,
                                    RequiredDate(req->reported_on(), "reported_on"));
                   return engine_.RecordReport(tx, caller, req->case_id(), day, now);
                 });
  }

  grpc::ServerUnaryReactor* SignAgreement(grpc::CallbackServerContext* ctx,
                                          const typename Api::SignAgreementRequest* req,
                                          typename Api::Order* resp) override {
    return Write(ctx, "SignAgreement", {Role::kCaseworker}, req->case_id(), req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(absl::CivilDay day, RequiredDate(req->signed_on(), "signed_on"));
                   return engine_.SignAgreement(tx, caller, req->case_id(), day,
                                                req->agreement_number(), now);
                 });
  }

  grpc::ServerUnaryReactor* ChangeExecutionPlace(
      grpc::CallbackServerContext* ctx, const typename Api::ChangeExecutionPlaceRequest* req,
      typename Api::Order* resp) override {
    return Write(ctx, "ChangeExecutionPlace", {Role::kCaseworker, Role::kPolice}, req->case_id(),
                 req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(absl::CivilDay day, RequiredDate(req->changed_on(), "changed_on"));
                   return engine_.ChangeExecutionPlace(tx, caller, req->case_id(),
                                                       req->new_division(), req->new_place(), day,
                                                       now);
                 });
  }

  grpc::ServerUnaryReactor* RecordTest(grpc::CallbackServerContext* ctx,
                                       const typename Api::RecordTestRequest* req,
                                       typename Api::Order* resp) override {
    return Write(ctx, "RecordTest", {Role::kCaseworker}, req->case_id(), req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   TestInput in;
                   ASSIGN_OR_RETURN(in.tested_on, RequiredDate(req->tested_on(), "tested_on"));
                   ASSIGN_OR_RETURN(in.specimen, EnumFromProto<Specimen>(
                                                     static_cast<int>(req->specimen()), 4, "specimen"));
                   ASSIGN_OR_RETURN(in.result, EnumFromProto<TestResult>(
                                                   static_cast<int>(req->result()), 4, "result"));
                   in.unannounced = req->unannounced();
                   return engine_.RecordTest(tx, caller, req->case_id(), in, now);
                 });
  }

  grpc::ServerUnaryReactor* ConfirmMissedTest(grpc::CallbackServerContext* ctx,
                                              const typename Api::ConfirmMissedTestRequest* req,
                                              typename Api::Order* resp) override {
    return Write(ctx, "ConfirmMissedTest", {Role::kCaseworker}, req->case_id(), req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(absl::CivilDay day,
                                    RequiredDate(req->confirmed_on(), "confirmed_on"));
                   return engine_.ConfirmMissedTest(tx, caller, req->case_id(), req->test_id(),
                                                    req->evaded(), day, now);
                 });
  }

  grpc::ServerUnaryReactor* RecordLeave(grpc::CallbackServerContext* ctx,
                                        const typename Api::RecordLeaveRequest* req,
                                        typename Api::Order* resp) override {
    return Write(ctx, "RecordLeave", {Role::kCaseworker}, req->case_id(), req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   LeaveInput in;
                   ASSIGN_OR_RETURN(in.reported_on, RequiredDate(req->reported_on(), "reported_on"));
                   ASSIGN_OR_RETURN(in.start, RequiredDate(req->start(), "start"));
                   ASSIGN_OR_RETURN(in.end, RequiredDate(req->end(), "end"));
                   in.destination = req->destination();
                   return engine_.RecordLeave(tx, caller, req->case_id(), in, now);
                 });
  }

  grpc::ServerUnaryReactor* RecordAbsence(grpc::CallbackServerContext* ctx,
                                          const typename Api::RecordAbsenceRequest* req,
                                          typename Api::Order* resp) override {
    return Write(ctx, "RecordAbsence", {Role::kCaseworker}, req->case_id(), req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(absl::CivilDay left, RequiredDate(req->left_on(), "left_on"));
                   ASSIGN_OR_RETURN(std::optional<absl::CivilDay> back,
                                    OptionalDate(req->returned_on(), "returned_on"));
                   return engine_.RecordAbsence(tx, caller, req->case_id(), left, back, now);
                 });
  }

  grpc::ServerUnaryReactor* RecordReturn(grpc::CallbackServerContext* ctx,
                                         const typename Api::RecordReturnRequest* req,
                                         typename Api::Order* resp) override {
    return Write(ctx, "RecordReturn", {Role::kCaseworker}, req->case_id(), req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(absl::CivilDay day, RequiredDate(req->returned_on(), "returned_on"));
                   return engine_.RecordReturn(tx, caller, req->case_id(), req->absence_id(), day,
                                               now);
                 });
  }

  grpc::ServerUnaryReactor* RecordPoliceReport(grpc::CallbackServerContext* ctx,
                                               const typename Api::RecordPoliceReportRequest* req,
                                               typename Api::Order* resp) override {
    return Write(ctx, "RecordPoliceReport", {Role::kCaseworker, Role::kPolice}, req->case_id(),
                 req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(absl::CivilDay day, RequiredDate(req->reported_on(), "reported_on"));
                   return engine_.RecordPoliceReport(tx, caller, req->case_id(), req->alert_key(),
                                                     day, now);
                 });
  }

  grpc::ServerUnaryReactor* RecordSuspension(grpc::CallbackServerContext* ctx,
                                             const typename Api::RecordSuspensionRequest* req,
                                             typename Api::Order* resp) override {
    return Write(ctx, "RecordSuspension", {Role::kPolice, Role::kCaseworker}, req->case_id(), req,
                 resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(SuspensionReason reason,
                                    EnumFromProto<SuspensionReason>(
                                        static_cast<int>(req->reason()), 2, "reason"));
                   ASSIGN_OR_RETURN(absl::CivilDay day, RequiredDate(req->start(), "start"));
                   return engine_.Suspend(tx, caller, req->case_id(), reason, day, now);
                 });
  }

  grpc::ServerUnaryReactor* ResumeOrder(grpc::CallbackServerContext* ctx,
                                        const typename Api::ResumeOrderRequest* req,
                                        typename Api::Order* resp) override {
    return Write(ctx, "ResumeOrder", {Role::kPolice, Role::kCaseworker}, req->case_id(), req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(absl::CivilDay day, RequiredDate(req->resumed_on(), "resumed_on"));
                   return engine_.Resume(tx, caller, req->case_id(), day, now);
                 });
  }

  grpc::ServerUnaryReactor* TerminateOrder(grpc::CallbackServerContext* ctx,
                                           const typename Api::TerminateOrderRequest* req,
                                           typename Api::Order* resp) override {
    return Write(ctx, "TerminateOrder", {Role::kPolice}, req->case_id(), req, resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(TerminationReason reason,
                                    EnumFromProto<TerminationReason>(
                                        static_cast<int>(req->reason()), 4, "reason"));
                   ASSIGN_OR_RETURN(absl::CivilDay day,
                                    RequiredDate(req->effective_on(), "effective_on"));
                   return engine_.Terminate(tx, caller, req->case_id(), reason,
                                            req->document_number(), day, now);
                 });
  }

  grpc::ServerUnaryReactor* RecordDischarge(grpc::CallbackServerContext* ctx,
                                            const typename Api::RecordDischargeRequest* req,
                                            typename Api::Order* resp) override {
    return Write(ctx, "RecordDischarge", {Role::kPolice, Role::kCaseworker}, req->case_id(), req,
                 resp,
                 [this, req](Transaction& tx, const Caller& caller, absl::Time now)
                     -> absl::StatusOr<WriteResult> {
                   ASSIGN_OR_RETURN(absl::CivilDay day,
                                    RequiredDate(req->notice_date(), "notice_date"));
                   return engine_.RecordDischarge(tx, caller, req->case_id(), req->notice_number(),
                                                  day, now);
                 });
  }

  // The receiving end of the isolation hand-off (禁毒法 Art 38): closes the open
  // order, if any, as handed over.
  grpc::ServerUnaryReactor* CloseForIsolation(
      grpc::CallbackServerContext* ctx, const typename Api::CloseForIsolationRequest* req,
      typename Api::CloseForIsolationResponse* resp) override {
    return FinishOnPool(ctx, runtime_->handlers(), [this, ctx, req, resp]() -> absl::Status {
      ASSIGN_OR_RETURN(Caller caller,
                       runtime_->authorizer().Authorize(*ctx, {Role::kService, Role::kAdmin}));
      ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(req->case_id()));
      ASSIGN_OR_RETURN(std::optional<std::string> key, IdempotencyKeyFrom(*ctx));
      ASSIGN_OR_RETURN(absl::CivilDay decided_on, RequiredDate(req->decided_on(), "decided_on"));
      if (req->decision_number().empty()) {
        return absl::InvalidArgumentError("decision_number is required");
      }
      const absl::Time now = runtime_->clock().Now();
      std::optional<WriteResult> closed;
      bool applied = false;
      absl::Status done = RunMutation(
          *runtime_, {&caller, Method("CloseForIsolation"), key, req, DeadlineOf(*ctx)}, resp,
          [&](Transaction& tx, std::string* audit_case_id) -> absl::Status {
            *audit_case_id = id.ToString();
            closed.reset();
            ASSIGN_OR_RETURN(closed, engine_.CloseForIsolation(tx, caller, id.ToString(),
                                                               req->decision_number(),
                                                               decided_on, now));
            applied = true;
            if (!closed.has_value()) return absl::OkStatus();  // no open order: nothing to do
            resp->set_closed(true);
            resp->set_order_id(closed->order.order_id);
            ToProtoDate(closed->order.closed_on, resp->mutable_closed_on());
            return EnqueueRegistryEvents(tx, programme(), closed->events, now);
          });
      RETURN_IF_ERROR(done);
      if (applied) {  // not a replay
        if (closed.has_value()) {
          runtime_->PublishStatus(programme(), closed->status);
          Committed(closed->events);
        }
        if (handoffs_ != nullptr) handoffs_->Applied();
      }
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* ctx,
                                     const typename Api::GetOrderRequest* req,
                                     typename Api::Order* resp) override {
    return ReadCase(
        ctx, "GetOrder", {Role::kCaseworker, Role::kPolice, Role::kAuditor, Role::kAdmin},
        req->case_id(),
        [this, req, resp](ReadTransaction& tx, const Caller& caller) -> absl::Status {
          ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(req->as_of()));
          ASSIGN_OR_RETURN(Order order, engine_.GetOrder(tx, caller, req->case_id(), as_of));
          OrderToProto(order, programme(), resp);
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* ListOrders(grpc::CallbackServerContext* ctx,
                                       const typename Api::ListOrdersRequest* req,
                                       typename Api::ListOrdersResponse* resp) override {
    return Read(ctx, "ListOrders", {Role::kCaseworker, Role::kPolice, Role::kAuditor, Role::kAdmin},
                [this, req, resp](const Caller& caller, std::string*) -> absl::Status {
                  OrderFilter f;
                  f.division_prefix = req->division_prefix();
                  f.state = req->state();
                  f.include_closed = req->include_closed();
                  f.page_size = req->page().page_size();
                  f.page_token = req->page().page_token();
                  ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(req->as_of()));
                  OrderPage page;
                  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
                    // A township's orders are drawn from its county, then kept case by case.
                    absl::StatusOr<OrderPage> p =
                        engine_.ListOrders(tx, CountyView(caller), f, as_of);
                    if (!p.ok()) return p.status();
                    page = *std::move(p);
                    return absl::OkStatus();
                  });
                  if (!s.ok()) return s;
                  for (const Order& o : page.orders) OrderToProto(o, programme(), resp->add_orders());
                  resp->mutable_page()->set_next_page_token(page.next_page_token);
                  // The county's count: the state filter and the drop below come after.
                  // A township caller gets none: its county's count would tell it how
                  // many orders the other townships have.
                  if (!IsTownshipJurisdiction(caller.jurisdiction())) {
                    resp->mutable_page()->set_total_size(page.total_bound);
                    resp->mutable_page()->set_total_size_is_bound(true);
                  }
                  // A closed order may belong to a sealed case (戒毒条例 Art 7).
                  return DropCasesNotListed(runtime_->registry(), caller,
                                         resp->mutable_orders(),
                                         [](const auto& o) { return o.case_id(); });
                });
  }

  grpc::ServerUnaryReactor* ListDue(grpc::CallbackServerContext* ctx,
                                    const typename Api::ListDueRequest* req,
                                    typename Api::ListDueResponse* resp) override {
    return Read(ctx, "ListDue",
                {Role::kCaseworker, Role::kPolice, Role::kAuditor, Role::kBatch, Role::kAdmin},
                [this, req, resp](const Caller& caller, std::string*) -> absl::Status {
                  ListDueQuery q;
                  ASSIGN_OR_RETURN(q.as_of, AsOf(req->as_of()));
                  q.kind = req->kind();
                  q.overdue_only = req->overdue_only();
                  q.page_size = req->page().page_size();
                  q.page_token = req->page().page_token();
                  // A township's items are drawn from its county and kept case by case
                  // before they are paged, so its pages are full.
                  std::vector<DueItem> items;
                  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
                    absl::StatusOr<std::vector<DueItem>> all =
                        engine_.CollectDue(tx, CountyView(caller), q);
                    if (!all.ok()) return all.status();
                    items = *std::move(all);
                    return absl::OkStatus();
                  });
                  if (!s.ok()) return s;
                  if (IsTownshipJurisdiction(caller.jurisdiction())) {
                    std::vector<std::string> ids;
                    for (const DueItem& d : items) ids.push_back(d.case_id);
                    ASSIGN_OR_RETURN(std::vector<bool> keep,
                                     CasesListedFor(runtime_->registry(), caller, ids));
                    std::vector<DueItem> kept;
                    for (size_t i = 0; i < items.size(); ++i) {
                      if (keep[i]) kept.push_back(std::move(items[i]));
                    }
                    items = std::move(kept);
                  }
                  ASSIGN_OR_RETURN(DuePage page, SupervisionEngine::PageDue(std::move(items), q));
                  for (const DueItem& d : page.items) {
                    auto* item = resp->add_items();
                    DueItemToAlert(d, programme(), item->mutable_alert());
                    item->set_key(d.key);
                    item->set_open(d.open);
                  }
                  resp->mutable_page()->set_next_page_token(page.next_page_token);
                  resp->mutable_page()->set_total_size(page.total_size);
                  return absl::OkStatus();
                });
  }

  grpc::ServerUnaryReactor* RefreshStatuses(grpc::CallbackServerContext* ctx,
                                            const typename Api::RefreshStatusesRequest* req,
                                            typename Api::RefreshStatusesResponse* resp) override {
    return FinishOnPool(ctx, runtime_->handlers(), [this, ctx, req, resp]() -> absl::Status {
      ASSIGN_OR_RETURN(Caller caller,
                       runtime_->authorizer().Authorize(*ctx, {Role::kBatch, Role::kAdmin}));
      ASSIGN_OR_RETURN(std::optional<std::string> key, IdempotencyKeyFrom(*ctx));
      const absl::Time now = runtime_->clock().Now();
      std::vector<ProgramStatusRecord> changed;
      absl::Status done = RunMutation(
          *runtime_, {&caller, Method("RefreshStatuses"), key, req, DeadlineOf(*ctx)}, resp,
          [&](Transaction& tx, std::string*) -> absl::Status {
            absl::StatusOr<std::vector<ProgramStatusRecord>> r =
                engine_.RefreshStatuses(tx, caller, now);
            if (!r.ok()) return r.status();
            changed = *std::move(r);
            resp->set_changed(static_cast<int32_t>(changed.size()));
            return absl::OkStatus();
          });
      RETURN_IF_ERROR(done);
      for (const ProgramStatusRecord& r : changed) {
        runtime_->PublishStatus(programme(), r);
      }
      return absl::OkStatus();
    });
  }

  // The service's own daily refresh (ServiceRuntime::StartStatusRefresh): what
  // RefreshStatuses does, as the scheduler, audited in the same transaction. The
  // republisher sends the changed statuses to the cache; they are published here too
  // so the registry's view has them at once.
  absl::StatusOr<int64_t> RefreshStatusesAt(absl::Time now) {
    const Caller scheduler = runtime_->SchedulerCaller();
    std::vector<ProgramStatusRecord> changed;
    RETURN_IF_ERROR(runtime_->store().Write([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(changed, engine_.RefreshStatuses(tx, scheduler, now));
      return AppendAudit(tx, AuditEntry{now, scheduler.subject(), "batch",
                                        Method("RefreshStatuses#scheduled"), "", "OK"});
    }));
    for (const ProgramStatusRecord& r : changed) {
      runtime_->PublishStatus(programme(), r);
    }
    return static_cast<int64_t>(changed.size());
  }

 protected:
  Programme programme() const { return engine_.policy().programme; }
  ServiceRuntime& runtime() { return *runtime_; }
  HandoffRunner* handoffs() { return handoffs_; }

  // After a commit that enqueued `events`: wake the dispatcher.
  void Committed(const std::vector<RegistryEvent>& events) {
    if (!events.empty() && handoffs_ != nullptr) handoffs_->Committed();
  }

  // Where a measure opened by another service's hand-off is executed: the requested
  // county, else the person's residence place, else the household place (禁毒法 Art 33;
  // 戒毒条例 Art 37), from the registry's scope, which also proves it issued the case
  // (DESIGN.md §2). Until the township is known the county code stands for the place.
  absl::StatusOr<std::pair<std::string, std::string>> HandoffPlace(
      const CaseId& id, const std::string& division, const std::string& place) {
    ASSIGN_OR_RETURN(CaseScope scope, runtime_->registry().GetCaseScope(id.ToString()));
    std::string county = division;
    if (county.empty()) {
      county = scope.residence_division.empty() ? scope.household_division
                                                : scope.residence_division;
    }
    return std::make_pair(county, place.empty() ? county : place);
  }

  static constexpr size_t kMaxBasisLength = 128;

  static std::string Method(absl::string_view name) {
    return absl::StrCat("/", Api::Service::service_full_name(), "/", name);
  }

  absl::StatusOr<absl::CivilDay> AsOf(const common::v1::Date& date) const {
    ASSIGN_OR_RETURN(std::optional<absl::CivilDay> day, OptionalDate(date, "as_of"));
    return day.value_or(legal_time::ToCivilDay(runtime_->clock().Now()));
  }

  using WriteFn =
      std::function<absl::StatusOr<WriteResult>(Transaction&, const Caller&, absl::Time)>;

  // Authorise, validate the case id, learn the case's scope from the registry (which
  // also proves it issued the id, DESIGN.md §2), run the change through RunMutation
  // once the caller is seen to see the case, with its registry events enqueued in the
  // same transaction, then publish the status and wake the dispatcher.
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* ctx, absl::string_view name,
                                  std::initializer_list<Role> roles,
                                  const std::string& case_id, const Req* req, Resp* resp,
                                  const WriteFn& fn) {
    return WriteAfter(ctx, name, roles, case_id, req, resp,
                      [fn](const CaseId&, const CaseScope*) -> absl::StatusOr<WriteFn> {
                        return fn;
                      });
  }

  // As Write, with the change chosen by `prepare`, which runs first on the handler
  // pool with the case's scope (null for a service caller, whose hand-offs are not
  // scoped) and may ask other services (the registry); an error from it is the answer.
  // `received_handoff`: the write applies another service's hand-off
  // (HandoffRunner::Applied after it). `out_of_area_basis`: see CheckWriteScope.
  using PrepareFn = std::function<absl::StatusOr<WriteFn>(const CaseId&, const CaseScope*)>;
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* WriteAfter(grpc::CallbackServerContext* ctx, absl::string_view name,
                                       std::initializer_list<Role> roles,
                                       const std::string& case_id, const Req* req, Resp* resp,
                                       PrepareFn prepare, bool received_handoff = false,
                                       std::string out_of_area_basis = "") {
    // Token, case id and key are checked here; the waits (other services, the commit)
    // run on the handler pool, so gRPC's few threads never wait and concurrent writes
    // can share one commit.
    absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(*ctx, roles);
    absl::StatusOr<CaseId> id = caller.ok() ? CaseId::Parse(case_id) : caller.status();
    absl::StatusOr<std::optional<std::string>> key =
        id.ok() ? IdempotencyKeyFrom(*ctx) : id.status();
    if (key.ok() && out_of_area_basis.size() > kMaxBasisLength) {
      key = absl::InvalidArgumentError("out_of_area_basis is longer than 128 bytes");
    }
    if (!key.ok()) {
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      reactor->Finish(ToGrpcStatus(key.status()));
      return reactor;
    }
    return FinishOnPool(
        ctx, runtime_->handlers(),
        [this, ctx, name, req, resp, prepare = std::move(prepare), received_handoff,
         out_of_area_basis = std::move(out_of_area_basis), caller = *caller, id = *id,
         key = *key]() -> absl::Status {
          std::optional<CaseScope> scope;
          if (caller.role() != Role::kService) {
            ASSIGN_OR_RETURN(scope, runtime_->registry().GetCaseScope(id.ToString()));
          }
          ASSIGN_OR_RETURN(WriteFn fn, prepare(id, scope.has_value() ? &*scope : nullptr));
          const absl::Time now = runtime_->clock().Now();
          std::optional<WriteResult> result;
          Mutation mutation{&caller, Method(name), key, req, DeadlineOf(*ctx)};
          if (scope.has_value()) {
            // A repeat answers only while the case is still the caller's to see
            // (sealed or moved away since: answered as never issued).
            mutation.replay_check = [&](ReadTransaction& tx) {
              return engine_.CheckVisible(tx, caller, *scope);
            };
          }
          absl::Status done = RunMutation(
              *runtime_, mutation, resp,
              [&](Transaction& tx, std::string* audit_case_id) -> absl::Status {
                *audit_case_id = id.ToString();
                result.reset();
                if (scope.has_value()) {
                  RETURN_IF_ERROR(
                      CheckWriteScope(tx, caller, *scope, name, out_of_area_basis, now));
                }
                // A township caller acts with its county's scope, for its own case only.
                absl::StatusOr<WriteResult> r =
                    fn(tx, scope.has_value() ? ActingOnCase(caller, *scope) : caller, now);
                if (!r.ok()) return r.status();
                OrderToProto(r->order, programme(), resp);
                result = *std::move(r);
                // The registry's events commit with the change (DESIGN.md §5).
                return EnqueueRegistryEvents(tx, programme(), result->events, now);
              });
          RETURN_IF_ERROR(done);
          if (result.has_value()) {  // not a replay: publish after the commit
            runtime_->PublishStatus(programme(), result->status);
            Committed(result->events);
            if (received_handoff && handoffs_ != nullptr) handoffs_->Applied();
          }
          return absl::OkStatus();
        });
  }

  // The scope rule of a write: the caller must see the case (CheckVisible: NOT_FOUND
  // otherwise, as for a case never issued); the engine then lets only the executing
  // county act. The one exception is explicit: police who found the person in their
  // own area may open a measure for a case registered elsewhere when they state the
  // basis (the finding's document number, 禁毒法 Art 33, 38), and that path leaves its
  // own audit entry beside the write's.
  absl::Status CheckWriteScope(Transaction& tx, const Caller& caller, const CaseScope& scope,
                               absl::string_view name, absl::string_view out_of_area_basis,
                               absl::Time now) const {
    absl::Status visible = engine_.CheckVisible(tx, caller, scope);
    if (visible.ok() && name != "OpenOrder") {
      // Who acts is decided before any field is looked at, so the other side of
      // 双向管控 learns nothing from validation messages.
      return engine_.CheckActs(tx, caller, scope);
    }
    if (visible.ok() || out_of_area_basis.empty() || caller.role() != Role::kPolice) {
      return visible;
    }
    return AppendAudit(tx, AuditEntry{now, caller.subject(), std::string(RoleName(caller.role())),
                                      absl::StrCat(Method(name), "#out_of_area"), scope.case_id,
                                      "OK", caller.request_id});
  }

  // A read of one case on the handler pool (it asks the registry for the case's scope):
  // authorise, check the caller sees the case, run `fn` in one read transaction, audit.
  using CaseReadFn = std::function<absl::Status(ReadTransaction&, const Caller&)>;
  grpc::ServerUnaryReactor* ReadCase(grpc::CallbackServerContext* ctx, absl::string_view name,
                                     std::initializer_list<Role> roles, std::string case_id,
                                     CaseReadFn fn) {
    absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(*ctx, roles);
    if (!caller.ok()) {
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      reactor->Finish(ToGrpcStatus(caller.status()));
      return reactor;
    }
    return FinishOnPool(
        ctx, runtime_->handlers(),
        [this, name, case_id = std::move(case_id), fn = std::move(fn),
         caller = *caller]() -> absl::Status {
          absl::Status s = [&]() -> absl::Status {
            ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(case_id));
            ASSIGN_OR_RETURN(CaseScope scope, runtime_->registry().GetCaseScope(id.ToString()));
            return runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
              RETURN_IF_ERROR(engine_.CheckVisible(tx, caller, scope));
              return fn(tx, caller);
            });
          }();
          runtime_->read_audit().Record(AuditEntry{
              runtime_->clock().Now(), caller.subject(), std::string(RoleName(caller.role())),
              std::string(name), s.ok() ? case_id : std::string(), AuditOutcome(s),
              caller.request_id});
          return s;
        });
  }

  // Authorise, run the read on the handler pool, audit it (with the case only when it
  // was seen). `fn` must capture by value (see FinishOnPool).
  grpc::ServerUnaryReactor* Read(grpc::CallbackServerContext* ctx, absl::string_view name,
                                 std::initializer_list<Role> roles,
                                 std::function<absl::Status(const Caller&, std::string*)> fn) {
    absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(*ctx, roles);
    if (!caller.ok()) {
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      reactor->Finish(ToGrpcStatus(caller.status()));
      return reactor;
    }
    return FinishOnPool(ctx, runtime_->handlers(),
                        [this, name, fn = std::move(fn), caller = *caller]() -> absl::Status {
                          std::string audit_case_id;
                          absl::Status s = fn(caller, &audit_case_id);
                          if (!s.ok()) audit_case_id.clear();
                          runtime_->read_audit().Record(AuditEntry{
                              runtime_->clock().Now(), caller.subject(),
                              std::string(RoleName(caller.role())), std::string(name),
                              audit_case_id, AuditOutcome(s), caller.request_id});
                          return s;
                        });
  }

 private:
  ServiceRuntime* runtime_;  // not owned
  SupervisionEngine engine_;
  HandoffRunner* handoffs_;  // not owned; may be null
};

}  // namespace pathway::supervision

#endif  // PATHWAY_SERVICES_SUPERVISION_SUPERVISION_SERVICE_H_
