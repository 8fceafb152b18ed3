#include "services/compulsory_isolation/compulsory_isolation_service.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "common/audit/audit_log.h"
#include "common/auth/case_scope.h"
#include "common/ids/case_id.h"
#include "common/legal_time/legal_time.h"
#include "common/log/log.h"
#include "common/outbox/outbox.h"
#include "common/program_status/program_status_rpc.h"
#include "common/server/handler_pool.h"
#include "common/server/mutation.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace isolation {
namespace {

std::string Method(absl::string_view name) {
  return absl::StrCat("/", v1::CompulsoryIsolation::service_full_name(), "/", name);
}

// A string field of a request by name; empty when the message has none.
std::string StringField(const google::protobuf::Message& m, absl::string_view name) {
  const google::protobuf::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(std::string(name));
  if (f == nullptr || f->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      f->is_repeated()) {
    return "";
  }
  return m.GetReflection()->GetString(m, f);
}

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace

absl::Status CompulsoryIsolationService::EnqueueEffects(Transaction& tx, const Effects& effects,
                                                        absl::Time now) {
  // DESIGN.md §5: what the change causes elsewhere commits with it, as outbox rows.
  for (const registry::v1::ReportEventRequest& event : effects.events) {
    RETURN_IF_ERROR(EnqueueRegistryEvent(tx, event, now));
  }
  for (const OutboxMessage& handoff : effects.handoffs) {
    RETURN_IF_ERROR(EnqueueHandoff(tx, handoff, now));
  }
  return absl::OkStatus();
}

void CompulsoryIsolationService::AfterCommit(const Effects& effects) {
  if (effects.status.has_value()) {
    runtime_->PublishStatus(Programme::kCompulsoryIsolation, *effects.status);
  }
  if ((!effects.events.empty() || !effects.handoffs.empty()) && handoffs_ != nullptr) {
    handoffs_->Committed();  // wakes the dispatcher
  }
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::Mutate(
    grpc::CallbackServerContext* ctx, absl::string_view method, std::initializer_list<Role> roles,
    const google::protobuf::Message* request, v1::Decision* response, const WriteFn& fn) {
  absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(*ctx, roles);
  if (!caller.ok()) return Done(ctx, caller.status());
  absl::StatusOr<std::optional<std::string>> key = IdempotencyKeyFrom(*ctx);
  if (!key.ok()) return Done(ctx, key.status());
  // The commit is waited for on the handler pool (see handler_pool.h); `fn`
  // captures by value, as it runs after this frame is gone.
  return FinishOnPool(ctx, runtime_->handlers(),
                      [this, ctx, method, request, response, fn, caller = *caller, key = *key] {
                        return MutateNow(ctx, method, caller, key, request, response, fn);
                      });
}

absl::Status CompulsoryIsolationService::MutateNow(
    grpc::CallbackServerContext* ctx, absl::string_view method, const Caller& caller,
    const std::optional<std::string>& key, const google::protobuf::Message* request,
    v1::Decision* response, const WriteFn& fn, absl::string_view out_of_area_basis) {
  // Every request here names its case (and, to admit or transfer, the receiving
  // facility): read generically so no write can skip the scope check.
  const std::string case_id = StringField(*request, "case_id");
  std::optional<CaseScope> scope;
  if (caller.role() != Role::kService) {
    ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(case_id));
    ASSIGN_OR_RETURN(scope, runtime_->registry().GetCaseScope(id.ToString()));
  }
  const std::string facility_id = StringField(*request, "facility_id");
  Effects effects;
  const absl::Time now = runtime_->clock().Now();
  Mutation mutation{&caller, Method(method), key, request, DeadlineOf(*ctx)};
  if (scope.has_value() && out_of_area_basis.empty()) {
    // A repeat answers only while the case is still the caller's to see (sealed or
    // moved away since: answered as never issued).
    mutation.replay_check = [&](ReadTransaction& tx) {
      return logic_->CheckVisible(tx, caller, *scope, facility_id);
    };
  }
  absl::Status status = RunMutation(
      *runtime_, mutation, response,
      [&](Transaction& tx, std::string* audit_case_id) -> absl::Status {
        effects = Effects();
        if (scope.has_value()) {
          absl::Status visible = logic_->CheckVisible(tx, caller, *scope, facility_id);
          if (!visible.ok() && !out_of_area_basis.empty() && caller.role() == Role::kPolice) {
            // The explicit path for police deciding on a person found in their area
            // whose case lies elsewhere (禁毒法 Art 38), with its own audit entry.
            visible = AppendAudit(
                tx, AuditEntry{now, caller.subject(), std::string(RoleName(caller.role())),
                               absl::StrCat(Method(method), "#out_of_area"), scope->case_id,
                               "OK", caller.request_id});
          }
          RETURN_IF_ERROR(visible);
          // Who acts is decided before any field is looked at (Decide opens anew).
          if (method != "Decide") {
            RETURN_IF_ERROR(logic_->CheckActs(tx, caller, scope->case_id, facility_id));
          }
        }
        absl::Status s = fn(tx, caller, now, &effects);
        // Only a case the caller could act on is named in the audit row.
        if (s.ok()) *audit_case_id = response->case_id();
        if (s.ok()) s = EnqueueEffects(tx, effects, now);
        return s;
      });
  if (status.ok()) AfterCommit(effects);  // a replay has no effects left to apply
  return status;
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::GetProgramStatus(
    grpc::CallbackServerContext* ctx, const common::v1::GetProgramStatusRequest* request,
    common::v1::ProgramStatus* response) {
  return ServeGetProgramStatus(*runtime_, Programme::kCompulsoryIsolation, ctx, request, response);
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::Decide(grpc::CallbackServerContext* ctx,
                                                             const v1::DecideRequest* request,
                                                             v1::Decision* response) {
  absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(*ctx, {Role::kPolice});
  if (!caller.ok()) return Done(ctx, caller.status());
  absl::StatusOr<std::optional<std::string>> key = IdempotencyKeyFrom(*ctx);
  if (!key.ok()) return Done(ctx, key.status());
  // On the handler pool: the registry call and the commit both wait.
  return FinishOnPool(ctx, runtime_->handlers(), [this, ctx, request, response,
                                                  caller = *caller, key = *key] {
    // The registry must have issued the case (DESIGN.md §2), and knows the birth date
    // the under-16 warning needs. Asked before the transaction, which must not wait on it.
    absl::StatusOr<registry::v1::CaseFacts> facts =
        runtime_->registry().GetCaseFacts(request->case_id());
    if (!facts.ok()) {
      absl::Status s = absl::IsNotFound(facts.status()) ? CaseNotFound() : facts.status();
      runtime_->read_audit().Record(AuditEntry{runtime_->clock().Now(), caller.subject(),
                                               std::string(RoleName(caller.role())),
                                               Method("Decide"), "", AuditOutcome(s),
                                               caller.request_id});
      return s;
    }
    if (request->out_of_area_basis().size() > 128) {
      return absl::InvalidArgumentError("out_of_area_basis is longer than 128 bytes");
    }
    // 戒毒条例 Art 38(2): whether community rehabilitation was running, from the
    // rehabilitation service's record. Without that fact the bar cannot be decided, so
    // the decision waits for it (UNAVAILABLE: retry).
    absl::StatusOr<std::optional<common::v1::ProgramStatus>> sk =
        rehab_->GetStatus(facts->case_id());
    if (!sk.ok()) return sk.status();
    return MutateNow(
        ctx, "Decide", caller, key, request, response,
        [&](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
          return logic_->Decide(tx, c, now, *request, *facts, *sk, response, e);
        },
        request->out_of_area_basis());
  });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::RecordNotice(
    grpc::CallbackServerContext* ctx, const v1::RecordNoticeRequest* request,
    v1::Decision* response) {
  return Mutate(ctx, "RecordNotice", {Role::kPolice}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->RecordNotice(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::Admit(grpc::CallbackServerContext* ctx,
                                                            const v1::AdmitRequest* request,
                                                            v1::Decision* response) {
  return Mutate(ctx, "Admit", {Role::kFacilityStaff}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->Admit(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::Transfer(grpc::CallbackServerContext* ctx,
                                                               const v1::TransferRequest* request,
                                                               v1::Decision* response) {
  return Mutate(ctx, "Transfer", {Role::kFacilityStaff}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->Transfer(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::BeginAbsence(
    grpc::CallbackServerContext* ctx, const v1::BeginAbsenceRequest* request,
    v1::Decision* response) {
  return Mutate(ctx, "BeginAbsence", {Role::kFacilityStaff}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->BeginAbsence(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::EndAbsence(
    grpc::CallbackServerContext* ctx, const v1::EndAbsenceRequest* request,
    v1::Decision* response) {
  return Mutate(ctx, "EndAbsence", {Role::kFacilityStaff}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->EndAbsence(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::RecordAssessment(
    grpc::CallbackServerContext* ctx, const v1::RecordAssessmentRequest* request,
    v1::Decision* response) {
  return Mutate(ctx, "RecordAssessment", {Role::kFacilityStaff}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->RecordAssessment(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::ProposeEarlyRelease(
    grpc::CallbackServerContext* ctx, const v1::ProposeEarlyReleaseRequest* request,
    v1::Decision* response) {
  return Mutate(ctx, "ProposeEarlyRelease", {Role::kFacilityStaff}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->ProposeEarlyRelease(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::ProposeExtension(
    grpc::CallbackServerContext* ctx, const v1::ProposeExtensionRequest* request,
    v1::Decision* response) {
  return Mutate(ctx, "ProposeExtension", {Role::kFacilityStaff}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->ProposeExtension(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::ProposeConversionToCommunityDetox(
    grpc::CallbackServerContext* ctx, const v1::ProposeConversionRequest* request,
    v1::Decision* response) {
  return Mutate(ctx, "ProposeConversionToCommunityDetox", {Role::kFacilityStaff}, request,
                response, [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->ProposeConversion(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::DecideProposal(
    grpc::CallbackServerContext* ctx, const v1::DecideProposalRequest* request,
    v1::Decision* response) {
  return Mutate(ctx, "DecideProposal", {Role::kPolice}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->DecideProposal(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::RecordReleaseNotice(
    grpc::CallbackServerContext* ctx, const v1::RecordReleaseNoticeRequest* request,
    v1::Decision* response) {
  return Mutate(ctx, "RecordReleaseNotice", {Role::kFacilityStaff}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->RecordReleaseNotice(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::Release(grpc::CallbackServerContext* ctx,
                                                              const v1::ReleaseRequest* request,
                                                              v1::Decision* response) {
  return Mutate(ctx, "Release", {Role::kFacilityStaff, Role::kPolice}, request, response,
                [=](Transaction& tx, const Caller& c, absl::Time now, Effects* e) {
                  return logic_->Release(tx, c, now, *request, response, e);
                });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::GetDecision(
    grpc::CallbackServerContext* ctx, const v1::GetDecisionRequest* request,
    v1::Decision* response) {
  absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(
      *ctx, {Role::kPolice, Role::kFacilityStaff, Role::kCaseworker, Role::kAuditor,
             Role::kService, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  // On the handler pool: the case's scope comes from the registry.
  return FinishOnPool(ctx, runtime_->handlers(), [this, request, response, caller = *caller] {
    const absl::Time now = runtime_->clock().Now();
    absl::Status status = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(absl::CivilDay as_of,
                       AsOfOrToday(request->as_of(), legal_time::ToCivilDay(now)));
      ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(request->case_id()));
      std::optional<CaseScope> scope;
      if (caller.role() != Role::kService) {
        ASSIGN_OR_RETURN(scope, runtime_->registry().GetCaseScope(id.ToString()));
      }
      return runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
        if (scope.has_value()) RETURN_IF_ERROR(logic_->CheckVisible(tx, caller, *scope));
        return logic_->GetDecision(tx, caller, id.ToString(), as_of, response);
      });
    }();
    runtime_->read_audit().Record(AuditEntry{now, caller.subject(),
                                             std::string(RoleName(caller.role())),
                                             Method("GetDecision"),
                                             status.ok() ? response->case_id() : std::string(),
                                             AuditOutcome(status), caller.request_id});
    return status;
  });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::ListDecisions(
    grpc::CallbackServerContext* ctx, const v1::ListDecisionsRequest* request,
    v1::ListDecisionsResponse* response) {
  absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(
      *ctx, {Role::kPolice, Role::kFacilityStaff, Role::kAuditor, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  return FinishOnPool(ctx, runtime_->handlers(), [this, request, response, caller = *caller] {
    const absl::Time now = runtime_->clock().Now();
    absl::Status status = runtime_->store().Read([&](ReadTransaction& tx) {
      return logic_->ListDecisions(tx, caller, *request, legal_time::ToCivilDay(now), response);
    });
    if (status.ok() && !MayReadSealed(caller.role())) {
      // A closed decision may belong to a sealed case (戒毒条例 Art 7), which only roles
      // with a statutory need see; an open one never does. Dropped from the page, not
      // from the count, which so becomes an upper bound.
      if (!request->open_only()) response->mutable_page()->set_total_size_is_bound(true);
      auto* list = response->mutable_decisions();
      for (int i = list->size() - 1; i >= 0 && status.ok(); --i) {
        const v1::State st = list->Get(i).state();
        if (st != v1::STATE_RELEASED && st != v1::STATE_CONVERTED_TO_SD) continue;
        absl::StatusOr<CaseScope> scope =
            runtime_->registry().GetCaseScope(list->Get(i).case_id());
        if (!scope.ok() && !absl::IsNotFound(scope.status())) {
          status = scope.status();
        } else if (!scope.ok() || scope->sealed) {
          list->DeleteSubrange(i, 1);
        }
      }
    }
    std::set<std::string> seen;
    for (const v1::Decision& d : response->decisions()) seen.insert(d.case_id());
    if (!status.ok() || seen.empty()) seen = {""};
    for (const std::string& case_id : seen) {
      runtime_->read_audit().Record(AuditEntry{now, caller.subject(),
                                               std::string(RoleName(caller.role())),
                                               Method("ListDecisions"), case_id,
                                               AuditOutcome(status), caller.request_id});
    }
    if (!status.ok()) response->Clear();
    return status;
  });
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::ListDue(grpc::CallbackServerContext* ctx,
                                                              const v1::ListDueRequest* request,
                                                              v1::ListDueResponse* response) {
  absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(
      *ctx, {Role::kPolice, Role::kFacilityStaff, Role::kAuditor, Role::kBatch, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  const absl::Time now = runtime_->clock().Now();
  absl::Status status = runtime_->store().Read([&](ReadTransaction& tx) {
    return logic_->ListDue(tx, *caller, *request, legal_time::ToCivilDay(now), response);
  });
  std::set<std::string> seen;
  for (const v1::DueItem& item : response->items()) seen.insert(item.case_id());
  if (!status.ok() || seen.empty()) seen = {""};
  for (const std::string& case_id : seen) {
    runtime_->read_audit().Record(AuditEntry{now, caller->subject(),
                                             std::string(RoleName(caller->role())),
                                             Method("ListDue"), case_id, AuditOutcome(status),
                                             caller->request_id});
  }
  return Done(ctx, status);
}

grpc::ServerUnaryReactor* CompulsoryIsolationService::RefreshStatuses(
    grpc::CallbackServerContext* ctx, const v1::RefreshStatusesRequest* request,
    v1::RefreshStatusesResponse* response) {
  absl::StatusOr<Caller> caller =
      runtime_->authorizer().Authorize(*ctx, {Role::kBatch, Role::kAdmin});
  if (!caller.ok()) return Done(ctx, caller.status());
  absl::StatusOr<std::optional<std::string>> key = IdempotencyKeyFrom(*ctx);
  if (!key.ok()) return Done(ctx, key.status());
  const absl::Time now = runtime_->clock().Now();
  absl::StatusOr<absl::CivilDay> as_of =
      AsOfOrToday(request->as_of(), legal_time::ToCivilDay(now));
  if (!as_of.ok()) return Done(ctx, as_of.status());
  std::vector<ProgramStatusRecord> changed;
  absl::Status status = RunMutation(
      *runtime_, {&*caller, Method("RefreshStatuses"), *key, request, DeadlineOf(*ctx)},
      response, [&](Transaction& tx, std::string*) -> absl::Status {
        changed.clear();
        RETURN_IF_ERROR(logic_->RefreshStatuses(tx, now, *as_of, &changed));
        response->set_changed(static_cast<int32_t>(changed.size()));
        return absl::OkStatus();
      });
  if (status.ok()) {
    for (const ProgramStatusRecord& r : changed) {
      runtime_->PublishStatus(Programme::kCompulsoryIsolation, r);
    }
  }
  return Done(ctx, status);
}

absl::StatusOr<int64_t> CompulsoryIsolationService::RefreshStatusesAt(absl::Time now) {
  const Caller scheduler = runtime_->SchedulerCaller();
  std::vector<ProgramStatusRecord> changed;
  RETURN_IF_ERROR(runtime_->store().Write([&](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(
        logic_->RefreshStatuses(tx, now, legal_time::ToCivilDay(now), &changed));
    return AppendAudit(tx, AuditEntry{now, scheduler.subject(), "batch",
                                      Method("RefreshStatuses#scheduled"), "", "OK"});
  }));
  for (const ProgramStatusRecord& r : changed) {
    runtime_->PublishStatus(Programme::kCompulsoryIsolation, r);
  }
  return static_cast<int64_t>(changed.size());
}

}  // namespace isolation
}  // namespace pathway
