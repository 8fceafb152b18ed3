#include "services/registry/registry_service.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/legal_time/legal_time.h"
#include "common/server/handler_pool.h"
#include "common/server/mutation.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"
#include "services/registry/worklist.h"
#include "services/registry/person_search.h"

namespace pathway {
namespace registry {
namespace {

constexpr char kPrefix[] = "/pathway.registry.v1.Registry/";
constexpr int kMaxBatch = 1000;

std::string Method(absl::string_view name) { return absl::StrCat(kPrefix, name); }

// Finishes with `status` and returns the reactor: the tail of every handler.
grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

const std::initializer_list<Role> kCaseReaders = {Role::kCaseworker, Role::kPolice,
                                                  Role::kFacilityStaff, Role::kAuditor,
                                                  Role::kAdmin};
const std::initializer_list<Role> kStatusReaders = {
    Role::kCaseworker, Role::kPolice, Role::kFacilityStaff, Role::kAuditor,
    Role::kBatch,      Role::kService, Role::kAdmin};

}  // namespace

grpc::ServerUnaryReactor* RegistryService::OnPool(grpc::CallbackServerContext* ctx,
                                                  std::function<absl::Status()> work) {
  return FinishOnPool(ctx, runtime_->handlers(), std::move(work));
}

absl::CivilDay RegistryService::Today() const {
  return legal_time::ToCivilDay(runtime_->clock().Now());
}

void RegistryService::AuditRead(const Caller& caller, absl::string_view action,
                                absl::string_view case_id, const absl::Status& outcome) {
  runtime_->read_audit().Record(AuditEntry{
      runtime_->clock().Now(), caller.subject(), std::string(RoleName(caller.role())),
      Method(action),
      // A case the caller may not see is not recorded as seen.
      outcome.ok() ? std::string(case_id) : std::string(),
      std::string(outcome.ok() ? "OK" : absl::StatusCodeToString(outcome.code())),
      caller.request_id});
}

absl::StatusOr<CaseRecord> RegistryService::ReadCase(const Caller& caller,
                                                     absl::string_view action,
                                                     absl::string_view case_id) {
  std::optional<CaseRecord> found;
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(CaseRecord c, logic_->LoadVisible(tx, caller, case_id, Today()));
    found = std::move(c);
    return absl::OkStatus();
  });
  AuditRead(caller, action, found.has_value() ? found->case_id : "", s);
  if (!s.ok()) return s;
  return *std::move(found);
}

absl::Status RegistryService::Mutate(
    grpc::CallbackServerContext* ctx, const Caller& caller, absl::string_view method,
    const google::protobuf::Message& request, v1::Case* response,
    const std::function<absl::StatusOr<CaseRecord>(Transaction&)>& fn,
    const std::function<absl::Status(const CaseRecord&)>& replay_scope) {
  ASSIGN_OR_RETURN(std::optional<std::string> key, IdempotencyKeyFrom(*ctx));
  Mutation m{&caller, Method(method), key, &request, DeadlineOf(*ctx)};
  // A Case holds the person's ID number, name and contacts: the replay store keeps
  // only the case id, and a repeat reads the case again and answers as GetCase would
  // for this caller (scope, sealing, masking), never the first caller's view.
  m.reread = [&](ReadTransaction& tx, absl::string_view case_id,
                 google::protobuf::Message* out) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<CaseRecord> c, logic_->Load(tx, case_id));
    if (!c.has_value()) return CaseNotFound();
    RETURN_IF_ERROR(replay_scope ? replay_scope(*c) : logic_->CheckVisible(caller, *c, Today()));
    logic_->ToProto(*c, caller, Today(), static_cast<v1::Case*>(out));
    return absl::OkStatus();
  };
  return RunMutation(*runtime_, m, response,
                     [&](Transaction& tx, std::string* audit_case_id) -> absl::Status {
                       ASSIGN_OR_RETURN(CaseRecord c, fn(tx));
                       *audit_case_id = c.case_id;
                       logic_->ToProto(c, caller, Today(), response);
                       return absl::OkStatus();
                     });
}

grpc::ServerUnaryReactor* RegistryService::RegisterPerson(grpc::CallbackServerContext* ctx,
                                                          const v1::RegisterPersonRequest* request,
                                                          v1::Case* response) {
  auto caller =
      runtime_->authorizer().Authorize(*ctx, {Role::kPolice, Role::kCaseworker, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  return OnPool(ctx, [this, ctx, request, response, caller = *caller] {
    return Mutate(ctx, caller, "RegisterPerson", *request, response, [&](Transaction& tx) {
      return logic_->Register(tx, caller, *request, runtime_->clock().Now());
    });
  });
}

grpc::ServerUnaryReactor* RegistryService::GetCase(grpc::CallbackServerContext* ctx,
                                                   const v1::GetCaseRequest* request,
                                                   v1::Case* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, kCaseReaders);
  if (!caller.ok()) return Done(ctx, caller.status());
  absl::StatusOr<CaseRecord> c = ReadCase(*caller, "GetCase", request->case_id());
  if (c.ok()) logic_->ToProto(*c, *caller, Today(), response);
  return Done(ctx, c.status());
}

grpc::ServerUnaryReactor* RegistryService::FindCaseByIdNumber(
    grpc::CallbackServerContext* ctx, const v1::FindCaseByIdNumberRequest* request,
    v1::Case* response) {
  auto caller =
      runtime_->authorizer().Authorize(*ctx, {Role::kPolice, Role::kCaseworker, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  absl::StatusOr<ResidentId> id = ResidentId::Parse(request->resident_id_number(), Today());
  if (!id.ok()) return Done(ctx, id.status());
  std::optional<CaseRecord> found;
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<CaseRecord> c, logic_->FindByResidentId(tx, id->normalized()));
    if (!c.has_value()) return CaseNotFound();
    RETURN_IF_ERROR(logic_->CheckVisible(*caller, *c, Today()));
    found = std::move(c);
    return absl::OkStatus();
  });
  AuditRead(*caller, "FindCaseByIdNumber", found.has_value() ? found->case_id : "", s);
  if (s.ok()) logic_->ToProto(*found, *caller, Today(), response);
  return Done(ctx, s);
}

grpc::ServerUnaryReactor* RegistryService::ListCases(grpc::CallbackServerContext* ctx,
                                                     const v1::ListCasesRequest* request,
                                                     v1::ListCasesResponse* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, kCaseReaders);
  if (!caller.ok()) return Done(ctx, caller.status());
  RegistryLogic::ListPage page;
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(page, logic_->List(tx, *caller, *request, Today()));
    return absl::OkStatus();
  });
  if (!s.ok()) {
    AuditRead(*caller, "ListCases", "", s);
    return Done(ctx, s);
  }
  for (const CaseRecord& c : page.cases) {
    logic_->ToProto(c, *caller, Today(), response->add_cases());
    AuditRead(*caller, "ListCases", c.case_id, absl::OkStatus());
  }
  response->mutable_page()->set_next_page_token(page.next_page_token);
  response->mutable_page()->set_total_size(page.total_bound);
  response->mutable_page()->set_total_size_is_bound(true);
  return Done(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RegistryService::GetWorklist(grpc::CallbackServerContext* ctx,
                                                       const v1::GetWorklistRequest* request,
                                                       v1::GetWorklistResponse* response) {
  auto caller = runtime_->authorizer().Authorize(
      *ctx, {Role::kCaseworker, Role::kPolice, Role::kFacilityStaff});
  if (!caller.ok()) return Done(ctx, caller.status());
  return OnPool(ctx, [this, request, response, caller = *caller] {
    absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(*response, ReadWorklist(tx, caller, *request, Today()));
      return absl::OkStatus();
    });
    // One entry per case listed, as ListCases records each case it shows.
    if (!s.ok()) {
      AuditRead(caller, "GetWorklist", "", s);
      return s;
    }
    std::string last;
    for (const v1::WorklistItem& item : response->items()) {
      if (item.case_id() == last) continue;
      last = item.case_id();
      AuditRead(caller, "GetWorklist", item.case_id(), absl::OkStatus());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RegistryService::ReportProgramStatuses(
    grpc::CallbackServerContext* ctx, const v1::ReportProgramStatusesRequest* request,
    v1::ReportProgramStatusesResponse* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, {Role::kService});
  if (!caller.ok()) return Done(ctx, caller.status());
  if (absl::Status s = CheckProgramStatusReport(*caller, *request); !s.ok()) return Done(ctx, s);
  return OnPool(ctx, [this, ctx, request, response, caller = *caller] {
    // Versions make a repeat harmless, so no idempotency key is needed; the batch is
    // one audited write.
    ASSIGN_OR_RETURN(std::optional<std::string> key, IdempotencyKeyFrom(*ctx));
    Mutation m{&caller, Method("ReportProgramStatuses"), key, request, DeadlineOf(*ctx)};
    return RunMutation(*runtime_, m, response,
                       [&](Transaction& tx, std::string*) -> absl::Status {
                         ASSIGN_OR_RETURN(*response, ApplyProgramStatusReport(
                                                         tx, *request, runtime_->clock().Now()));
                         return absl::OkStatus();
                       });
  });
}

grpc::ServerUnaryReactor* RegistryService::SetRiskGrade(grpc::CallbackServerContext* ctx,
                                                        const v1::SetRiskGradeRequest* request,
                                                        v1::Case* response) {
  auto caller =
      runtime_->authorizer().Authorize(*ctx, {Role::kPolice, Role::kCaseworker, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  return OnPool(ctx, [this, ctx, request, response, caller = *caller] {
    return Mutate(ctx, caller, "SetRiskGrade", *request, response, [&](Transaction& tx) {
      return logic_->SetRiskGrade(tx, caller, *request, runtime_->clock().Now());
    });
  });
}

grpc::ServerUnaryReactor* RegistryService::AssignCase(grpc::CallbackServerContext* ctx,
                                                      const v1::AssignCaseRequest* request,
                                                      v1::Case* response) {
  auto caller =
      runtime_->authorizer().Authorize(*ctx, {Role::kCaseworker, Role::kPolice, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  return OnPool(ctx, [this, ctx, request, response, caller = *caller] {
    return Mutate(ctx, caller, "AssignCase", *request, response, [&](Transaction& tx) {
      return logic_->Assign(tx, caller, *request, runtime_->clock().Now());
    });
  });
}

grpc::ServerUnaryReactor* RegistryService::ListCaseAssignments(
    grpc::CallbackServerContext* ctx, const v1::ListCaseAssignmentsRequest* request,
    v1::ListCaseAssignmentsResponse* response) {
  auto caller = runtime_->authorizer().Authorize(
      *ctx, {Role::kCaseworker, Role::kPolice, Role::kAuditor, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  std::vector<v1::CaseAssignment> assignments;
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(CaseRecord c, logic_->LoadScopeVisible(tx, *caller, request->case_id(), Today()));
    ASSIGN_OR_RETURN(assignments, logic_->Assignments(tx, c.case_id));
    return absl::OkStatus();
  });
  AuditRead(*caller, "ListCaseAssignments", request->case_id(), s);
  for (v1::CaseAssignment& a : assignments) *response->add_assignments() = std::move(a);
  return Done(ctx, s);
}

grpc::ServerUnaryReactor* RegistryService::ListRiskGradeHistory(
    grpc::CallbackServerContext* ctx, const v1::ListRiskGradeHistoryRequest* request,
    v1::ListRiskGradeHistoryResponse* response) {
  auto caller = runtime_->authorizer().Authorize(
      *ctx, {Role::kCaseworker, Role::kPolice, Role::kAuditor, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  std::vector<v1::RiskGradeChange> changes;
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(CaseRecord c, logic_->LoadVisible(tx, *caller, request->case_id(), Today()));
    ASSIGN_OR_RETURN(changes, logic_->GradeHistory(tx, c.case_id));
    return absl::OkStatus();
  });
  AuditRead(*caller, "ListRiskGradeHistory", request->case_id(), s);
  for (v1::RiskGradeChange& ch : changes) *response->add_changes() = std::move(ch);
  return Done(ctx, s);
}

grpc::ServerUnaryReactor* RegistryService::ChangeJurisdiction(
    grpc::CallbackServerContext* ctx, const v1::ChangeJurisdictionRequest* request,
    v1::Case* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, {Role::kPolice, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  return OnPool(ctx, [this, ctx, request, response, caller = *caller] {
    return Mutate(ctx, caller, "ChangeJurisdiction", *request, response, [&](Transaction& tx) {
      return logic_->ChangeJurisdiction(tx, caller, *request, runtime_->clock().Now());
    });
  });
}

grpc::ServerUnaryReactor* RegistryService::SetStatus(grpc::CallbackServerContext* ctx,
                                                     const v1::SetStatusRequest* request,
                                                     v1::Case* response) {
  auto caller =
      runtime_->authorizer().Authorize(*ctx, {Role::kPolice, Role::kCaseworker, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  return OnPool(ctx, [this, ctx, request, response, caller = *caller] {
    return Mutate(ctx, caller, "SetStatus", *request, response, [&](Transaction& tx) {
      return logic_->SetStatus(tx, caller, *request, runtime_->clock().Now());
    });
  });
}

grpc::ServerUnaryReactor* RegistryService::ReportEvent(grpc::CallbackServerContext* ctx,
                                                       const v1::ReportEventRequest* request,
                                                       v1::ReportEventResponse* response) {
  auto caller =
      runtime_->authorizer().Authorize(*ctx, {Role::kService, Role::kPolice, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  return OnPool(ctx, [this, ctx, request, response, caller = *caller] {
    v1::Case changed;  // the audit trail records the case; the reply is the clock only
    absl::Status s = Mutate(ctx, caller, "ReportEvent", *request, &changed,
                            [&](Transaction& tx) -> absl::StatusOr<CaseRecord> {
                              return logic_->ReportEvent(tx, caller, *request,
                                                         runtime_->clock().Now());
                            });
    if (s.ok()) {
      if (changed.has_abstinence_milestone()) {
        *response->mutable_abstinence_milestone() = changed.abstinence_milestone();
      }
      response->set_sealed(changed.sealed());
    }
    return s;
  });
}

namespace {

// A batch's case ids, 1..kMaxBatch of them, each checked and normalised;
// INVALID_ARGUMENT naming the position of the first bad one.
absl::StatusOr<std::vector<std::string>> ParseCaseIds(
    const google::protobuf::RepeatedPtrField<std::string>& case_ids) {
  if (case_ids.empty() || case_ids.size() > kMaxBatch) {
    return absl::InvalidArgumentError("case_ids needs 1 to 1000 ids");
  }
  std::vector<std::string> ids;
  for (int i = 0; i < case_ids.size(); ++i) {
    absl::StatusOr<CaseId> id = CaseId::Parse(case_ids.Get(i));
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("case_ids[", i, "]: ", id.status().message()));
    }
    ids.push_back(id->ToString());
  }
  return ids;
}

}  // namespace

grpc::ServerUnaryReactor* RegistryService::GetCaseScopes(
    grpc::CallbackServerContext* ctx, const v1::GetCaseScopesRequest* request,
    v1::GetCaseScopesResponse* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, {Role::kService, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  absl::StatusOr<std::vector<std::string>> parsed = ParseCaseIds(request->case_ids());
  if (!parsed.ok()) return Done(ctx, parsed.status());
  const std::vector<std::string>& ids = *parsed;
  const absl::CivilDay today = Today();
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    response->Clear();
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(std::optional<CaseRecord> c, logic_->LoadScope(tx, id));
      v1::CaseScope* out = response->add_scopes();
      out->set_case_id(id);
      if (!c.has_value()) continue;
      out->set_found(true);
      out->set_household_division(c->household_division);
      out->set_residence_division(c->residence_division);
      out->set_sealed(Sealed(*c, today));
      out->set_township(c->township);
      out->set_assigned_caseworker(c->assigned_caseworker);
    }
    return absl::OkStatus();
  });
  // The programme services audit the reads their callers make; here one entry says a
  // service learned the scope of this many cases.
  AuditRead(*caller, "GetCaseScopes", "", s);
  return Done(ctx, s);
}

grpc::ServerUnaryReactor* RegistryService::GetCaseFacts(grpc::CallbackServerContext* ctx,
                                                        const v1::GetCaseFactsRequest* request,
                                                        v1::CaseFacts* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, {Role::kService, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  absl::StatusOr<CaseRecord> c = ReadCase(*caller, "GetCaseFacts", request->case_id());
  if (c.ok()) logic_->ToFacts(*c, Today(), response);
  return Done(ctx, c.status());
}

grpc::ServerUnaryReactor* RegistryService::GetCaseStatus(grpc::CallbackServerContext* ctx,
                                                         const v1::GetCaseStatusRequest* request,
                                                         v1::CaseStatus* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, kStatusReaders);
  if (!caller.ok()) return Done(ctx, caller.status());
  // Programme status only: the case row is read for visibility, never decrypted.
  std::string case_id;
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(CaseRecord c,
                     logic_->LoadScopeVisible(tx, *caller, request->case_id(), Today()));
    case_id = c.case_id;
    return absl::OkStatus();
  });
  AuditRead(*caller, "GetCaseStatus", case_id, s);
  if (!s.ok()) return Done(ctx, s);
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  // Finished from the view's callback: on a cache miss the owning services answer
  // asynchronously, and this thread is not held meanwhile.
  view_->Resolve({case_id}, [reactor, response](std::vector<v1::CaseStatus> out) {
    *response = std::move(out[0]);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::BatchGetCaseStatus(
    grpc::CallbackServerContext* ctx, const v1::BatchGetCaseStatusRequest* request,
    v1::BatchGetCaseStatusResponse* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, kStatusReaders);
  if (!caller.ok()) return Done(ctx, caller.status());
  absl::StatusOr<std::vector<std::string>> parsed = ParseCaseIds(request->case_ids());
  if (!parsed.ok()) return Done(ctx, parsed.status());
  const std::vector<std::string>& ids = *parsed;
  // Which ids the caller may see, in one snapshot.
  std::vector<bool> visible(ids.size(), false);
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSIGN_OR_RETURN(std::optional<CaseRecord> c, logic_->LoadScope(tx, ids[i]));
      visible[i] = c.has_value() && logic_->CheckVisible(*caller, *c, Today()).ok();
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return Done(ctx, s);
  std::vector<std::string> wanted;
  for (size_t i = 0; i < ids.size(); ++i) {
    AuditRead(*caller, "BatchGetCaseStatus", ids[i],
              visible[i] ? absl::OkStatus() : CaseNotFound());
    if (visible[i]) wanted.push_back(ids[i]);
  }
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  view_->Resolve(wanted, [reactor, response, ids, visible](std::vector<v1::CaseStatus> out) {
    size_t next = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      v1::CaseStatus* cs = response->add_statuses();
      if (visible[i]) {
        *cs = std::move(out[next++]);
      } else {
        cs->set_case_id(ids[i]);
        cs->set_found(false);
      }
    }
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::RecordVisit(grpc::CallbackServerContext* ctx,
                                                       const v1::RecordVisitRequest* request,
                                                       v1::Visit* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, kVisitRecorders);
  if (!caller.ok()) return Done(ctx, caller.status());
  return OnPool(ctx, [this, ctx, request, response, caller = *caller]() -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<std::string> key, IdempotencyKeyFrom(*ctx));
    // The reply carries no place or notes, so it is kept as it is for a repeat,
    // which is answered only while the caller still sees the case.
    Mutation m{&caller, Method("RecordVisit"), key, request, DeadlineOf(*ctx)};
    m.replay_check = [&](ReadTransaction& tx) {
      return visits_->CheckStillVisible(tx, caller, request->case_id(), Today());
    };
    return RunMutation(*runtime_, m, response,
                       [&](Transaction& tx, std::string* audit_case_id) -> absl::Status {
                         ASSIGN_OR_RETURN(*response, visits_->Record(tx, caller, *request,
                                                                     runtime_->clock().Now()));
                         *audit_case_id = response->case_id();
                         return absl::OkStatus();
                       });
  });
}

grpc::ServerUnaryReactor* RegistryService::ListVisits(grpc::CallbackServerContext* ctx,
                                                      const v1::ListVisitsRequest* request,
                                                      v1::ListVisitsResponse* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, kVisitReaders);
  if (!caller.ok()) return Done(ctx, caller.status());
  VisitLogic::Page page;
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(page, visits_->List(tx, *caller, *request, Today()));
    return absl::OkStatus();
  });
  AuditRead(*caller, "ListVisits", page.case_id, s);
  if (s.ok()) {
    for (v1::Visit& v : page.visits) *response->add_visits() = std::move(v);
    response->mutable_page()->set_next_page_token(page.next_page_token);
    response->mutable_page()->set_total_size(page.total);
  }
  return Done(ctx, s);
}

grpc::ServerUnaryReactor* RegistryService::SyncCases(grpc::CallbackServerContext* ctx,
                                                     const v1::SyncCasesRequest* request,
                                                     v1::SyncCasesResponse* response) {
  auto caller = runtime_->authorizer().Authorize(*ctx, kCaseReaders);
  if (!caller.ok()) return Done(ctx, caller.status());
  const absl::Time now = runtime_->clock().Now();
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    return sync_->Sync(tx, *caller, *request, now, response);
  });
  if (!s.ok()) {
    response->Clear();
    AuditRead(*caller, "SyncCases", "", s);
    return Done(ctx, s);
  }
  // Each case handed over is a read of it; a removal hands over nothing.
  for (const v1::CaseChange& change : response->changes()) {
    if (change.has_upsert()) AuditRead(*caller, "SyncCases", change.upsert().case_id(), s);
  }
  return Done(ctx, s);
}

grpc::ServerUnaryReactor* RegistryService::SearchPersons(grpc::CallbackServerContext* ctx,
                                                         const v1::SearchPersonsRequest* request,
                                                         v1::SearchPersonsResponse* response) {
  auto caller =
      runtime_->authorizer().Authorize(*ctx, {Role::kPolice, Role::kCaseworker, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  const absl::CivilDay today = Today();
  PersonSearchResult found;
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(found, registry::SearchPersons(tx, *logic_, *caller, *request, today));
    return absl::OkStatus();
  });
  // One entry for the search: the kinds of criteria and the number of hits, never
  // their values; then each case returned, as ListCases records them.
  runtime_->read_audit().Record(AuditEntry{
      runtime_->clock().Now(), caller->subject(), std::string(RoleName(caller->role())),
      absl::StrCat(Method("SearchPersons"), "?criteria=", SearchCriteriaKinds(*request),
                   "&hits=", found.hits.size()),
      "", AuditOutcome(s), caller->request_id});
  if (!s.ok()) return Done(ctx, s);
  for (const PersonSearchResult::Hit& hit : found.hits) {
    v1::SearchPersonHit* out = response->add_hits();
    logic_->ToProto(hit.record, *caller, today, out->mutable_record());
    out->set_possible_duplicate(hit.possible_duplicate);
    AuditRead(*caller, "SearchPersons", hit.record.case_id, absl::OkStatus());
  }
  response->mutable_page()->set_next_page_token(found.next_page_token);
  response->mutable_page()->set_total_size(found.total_size);
  response->mutable_page()->set_total_size_is_bound(found.total_size_capped);
  return Done(ctx, absl::OkStatus());
}

}  // namespace registry
}  // namespace pathway
