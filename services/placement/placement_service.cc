#include "services/placement/placement_service.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/audit/audit_log.h"
#include "common/codec/proto_programme.h"
#include "common/ids/case_id.h"
#include "common/legal_time/legal_time.h"
#include "common/log/log.h"
#include "common/program_status/program_status_rpc.h"
#include "common/server/handler_pool.h"
#include "common/server/mutation.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace placement {
namespace {

constexpr char kPrefix[] = "/pathway.placement.v1.Placement/";

std::string Method(const char* name) { return absl::StrCat(kPrefix, name); }

const CaseScope* ScopePtr(const std::optional<CaseScope>& scope) {
  return scope.has_value() ? &*scope : nullptr;
}

// Roles, as the proto documents them per RPC.
constexpr std::initializer_list<Role> kCaseRoles = {Role::kCaseworker, Role::kAdmin};

// Validates an optional as_of date, defaulting to `today`.
absl::StatusOr<absl::CivilDay> AsOf(const common::v1::Date& d, absl::CivilDay today) {
  ASSIGN_OR_RETURN(std::optional<absl::CivilDay> day, OptionalDate(d, "as_of"));
  return day.value_or(today);
}

// Shared by the two client-streaming imports: validate each row, commit good rows in
// batches of kImportCommitRows through RunMutation, report bad rows.
template <typename Chunk, typename RowT, typename ToWrite>
class ImportReactor final : public grpc::ServerReadReactor<Chunk> {
 public:
  using Validate = std::function<bool(const Caller&, const RowT&, absl::CivilDay, ToWrite*,
                                      v1::RowError*)>;
  using Apply = std::function<absl::Status(Transaction&, absl::Time,
                                           const std::vector<ToWrite>&, ImportCounts*)>;
  using Classify = std::function<absl::Status(ReadTransaction&, const std::vector<ToWrite>&,
                                              ImportCounts*)>;
  using RowsOf = std::function<const google::protobuf::RepeatedPtrField<RowT>&(const Chunk&)>;

  ImportReactor(ServiceRuntime* runtime, grpc::CallbackServerContext* ctx, const char* method,
                v1::ImportResult* result, RowsOf rows_of, Validate validate, Apply apply,
                Classify classify)
      : runtime_(runtime),
        method_(Method(method)),
        deadline_(DeadlineOf(*ctx)),
        result_(result),
        rows_of_(std::move(rows_of)),
        validate_(std::move(validate)),
        apply_(std::move(apply)),
        classify_(std::move(classify)) {
    absl::StatusOr<Caller> caller =
        runtime_->authorizer().Authorize(*ctx, {Role::kLaborBureau, Role::kAdmin});
    if (!caller.ok()) {
      this->Finish(ToGrpcStatus(caller.status()));
      return;
    }
    caller_ = *std::move(caller);
    today_ = legal_time::ToCivilDay(runtime_->clock().Now());
    this->StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client has sent everything
      absl::Status s = Flush();
      log::Info("import_done", {{"method", method_},
                                {"received", result_->rows_received()},
                                {"imported", result_->rows_imported()},
                                {"updated", result_->rows_updated()},
                                {"unchanged", result_->rows_unchanged()},
                                {"rejected", result_->rows_rejected()}});
      this->Finish(ToGrpcStatus(s));
      return;
    }
    if (first_) {
      result_->set_validate_only(chunk_.validate_only());
      first_ = false;
    }
    const auto& rows = rows_of_(chunk_);
    if (rows.size() > kMaxRowsPerChunk) {
      absl::Status s = Flush();
      this->Finish(ToGrpcStatus(
          s.ok() ? absl::InvalidArgumentError(absl::StrCat("rows: at most ", kMaxRowsPerChunk,
                                                           " per message"))
                 : s));
      return;
    }
    for (const RowT& row : rows) {
      ++row_number_;
      result_->set_rows_received(result_->rows_received() + 1);
      ToWrite w;
      v1::RowError error;
      if (validate_(*caller_, row, today_, &w, &error)) {
        pending_.push_back(std::move(w));
        continue;
      }
      result_->set_rows_rejected(result_->rows_rejected() + 1);
      if (result_->errors_size() < kMaxReportedRowErrors) {
        error.set_row(row_number_);
        *result_->add_errors() = std::move(error);
      } else {
        result_->set_errors_truncated(true);
      }
    }
    if (static_cast<int>(pending_.size()) >= kImportCommitRows) {
      absl::Status s = Flush();
      if (!s.ok()) {
        this->Finish(ToGrpcStatus(s));
        return;
      }
    }
    this->StartRead(&chunk_);
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Flush() {
    if (pending_.empty()) return absl::OkStatus();
    ImportCounts counts;
    absl::Status s;
    if (result_->validate_only()) {
      s = runtime_->store().Read([&](ReadTransaction& tx) { return classify_(tx, pending_, &counts); });
    } else {
      v1::ImportResult scratch;
      absl::Time now = runtime_->clock().Now();
      s = RunMutation(*runtime_, {&*caller_, method_, std::nullopt, &chunk_, deadline_}, &scratch,
                      [&](Transaction& tx, std::string*) {
                        counts = ImportCounts();
                        return apply_(tx, now, pending_, &counts);
                      });
    }
    pending_.clear();
    if (!s.ok()) return s;
    result_->set_rows_imported(result_->rows_imported() + counts.imported);
    result_->set_rows_updated(result_->rows_updated() + counts.updated);
    result_->set_rows_unchanged(result_->rows_unchanged() + counts.unchanged);
    return absl::OkStatus();
  }

  ServiceRuntime* runtime_;
  std::string method_;
  absl::Time deadline_;
  v1::ImportResult* result_;
  RowsOf rows_of_;
  Validate validate_;
  Apply apply_;
  Classify classify_;
  std::optional<Caller> caller_;
  absl::CivilDay today_;
  Chunk chunk_;
  bool first_ = true;
  int64_t row_number_ = 0;
  std::vector<ToWrite> pending_;
};

// Streams placement outcomes, one chunk per write.
class ExportReactor final : public grpc::ServerWriteReactor<v1::ExportOutcomesChunk> {
 public:
  ExportReactor(ServiceRuntime* runtime, const PlacementLogic* logic,
                grpc::CallbackServerContext* ctx, const v1::ExportOutcomesRequest* request)
      : runtime_(runtime), logic_(logic) {
    absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(
        *ctx, {Role::kLaborBureau, Role::kAuditor, Role::kAdmin});
    if (!caller.ok()) {
      Finish(ToGrpcStatus(caller.status()));
      return;
    }
    caller_ = *std::move(caller);
    absl::StatusOr<absl::CivilDay> start = RequiredDate(request->period_start(), "period_start");
    absl::StatusOr<absl::CivilDay> end = RequiredDate(request->period_end(), "period_end");
    absl::Status s = !start.ok() ? start.status() : end.status();
    if (s.ok() && *end < *start) s = absl::InvalidArgumentError("period_end: before period_start");
    if (s.ok() && (request->rows_per_message() < 0)) {
      s = absl::InvalidArgumentError("rows_per_message: negative");
    }
    if (!s.ok()) {
      Finish(ToGrpcStatus(s));
      return;
    }
    start_ = *start;
    end_ = *end;
    limit_ = request->rows_per_message() == 0 ? kDefaultExportRows
                                              : std::min(request->rows_per_message(), kMaxExportRows);
    Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream broken"));
      return;
    }
    if (chunk_.outcomes_size() < limit_) {
      Finish(grpc::Status::OK);
      return;
    }
    Next();
  }

  void OnDone() override { delete this; }

 private:
  void Next() {
    chunk_.Clear();
    absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) {
      return logic_->ExportOutcomes(tx, *caller_, start_, end_, after_id_, limit_, &chunk_,
                                    &after_id_);
    });
    runtime_->read_audit().Record(AuditEntry{runtime_->clock().Now(), caller_->subject(),
                                             std::string(RoleName(caller_->role())),
                                             Method("ExportOutcomes"), "", AuditOutcome(s),
                                             caller_->request_id});
    if (!s.ok()) {
      Finish(ToGrpcStatus(s));
      return;
    }
    if (chunk_.outcomes_size() == 0) {
      Finish(grpc::Status::OK);
      return;
    }
    if (IsOutsideRole(*caller_)) RedactForOutsideRole(&chunk_);
    StartWrite(&chunk_);
  }

  ServiceRuntime* runtime_;
  const PlacementLogic* logic_;
  std::optional<Caller> caller_;
  absl::CivilDay start_, end_;
  int limit_ = kDefaultExportRows;
  int64_t after_id_ = 0;
  v1::ExportOutcomesChunk chunk_;
};

}  // namespace

// ---------------------------------------------------------------- helpers

absl::CivilDay PlacementService::Today() const {
  return legal_time::ToCivilDay(runtime_->clock().Now());
}

grpc::ServerUnaryReactor* PlacementService::Unary(
    grpc::CallbackServerContext* ctx, google::protobuf::Message* response,
    std::initializer_list<Role> roles, const std::function<absl::Status(const Caller&)>& body) {
  absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(*ctx, roles);
  if (!caller.ok()) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  // The body may commit or ask the registry: it waits on the handler pool, not on
  // gRPC's few callback threads (handler_pool.h). It captures by value.
  return FinishOnPool(ctx, runtime_->handlers(), [response, body, caller = *caller] {
    absl::Status s = body(caller);
    // Labor bureau and employer tokens never receive treatment history (禁毒法 Art 52,
    // 70; 戒毒条例 Art 7).
    if (s.ok() && IsOutsideRole(caller)) RedactForOutsideRole(response);
    return s;
  });
}

absl::Status PlacementService::Mutate(grpc::CallbackServerContext* ctx, const Caller& caller,
                                      const char* method, const google::protobuf::Message& request,
                                      google::protobuf::Message* response, const MutationFn& fn) {
  ASSIGN_OR_RETURN(std::optional<std::string> key, IdempotencyKeyFrom(*ctx));
  ProgramStatusRecord status;
  absl::Time now = runtime_->clock().Now();
  absl::Status s = RunMutation(
      *runtime_, {&caller, Method(method), key, &request, DeadlineOf(*ctx)}, response,
      [&](Transaction& tx, std::string* audit_case_id) {
        status = ProgramStatusRecord();
        return fn(tx, now, audit_case_id, &status);
      });
  if (s.ok() && status.version > 0) {
    runtime_->PublishStatus(Programme::kPlacement, status);
  }
  return s;
}

absl::Status PlacementService::ReadAudited(const Caller& caller, const char* method,
                                           const ReadFn& fn) {
  std::vector<std::string> cases;
  absl::Status s = runtime_->store().Read([&](ReadTransaction& tx) {
    cases.clear();
    return fn(tx, &cases);
  });
  absl::Time now = runtime_->clock().Now();
  std::string role(RoleName(caller.role()));
  if (!s.ok() || cases.empty()) {
    runtime_->read_audit().Record(
        AuditEntry{now, caller.subject(), role, Method(method), "", AuditOutcome(s),
                   caller.request_id});
  } else {
    for (const std::string& c : cases) {
      runtime_->read_audit().Record(
          AuditEntry{now, caller.subject(), role, Method(method), c, "OK", caller.request_id});
    }
  }
  return s;
}

absl::StatusOr<registry::v1::CaseFacts> PlacementService::CheckCase(absl::string_view case_id) {
  absl::StatusOr<registry::v1::CaseFacts> facts = runtime_->registry().GetCaseFacts(case_id);
  if (absl::IsNotFound(facts.status())) return CaseNotFound();
  RETURN_IF_ERROR(facts.status());
  if (facts->life_status() == registry::v1::LIFE_STATUS_DECEASED) {
    return absl::FailedPreconditionError("the person is recorded as deceased");
  }
  return facts;
}

absl::StatusOr<std::optional<CaseScope>> PlacementService::ScopeOf(const Caller& caller,
                                                                   absl::string_view case_id) {
  // Labor bureau and employer tokens are refused a case by the logic, without an echo.
  if (caller.role() == Role::kService || IsOutsideRole(caller)) return std::nullopt;
  ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(case_id));
  ASSIGN_OR_RETURN(CaseScope scope, runtime_->registry().GetCaseScope(id.ToString()));
  return std::optional<CaseScope>(std::move(scope));
}

absl::StatusOr<std::optional<CaseScope>> PlacementService::PlacementScopeOf(const Caller& caller,
                                                                            int64_t placement_id) {
  if (caller.role() == Role::kService || IsOutsideRole(caller)) return std::nullopt;
  std::string case_id;
  RETURN_IF_ERROR(runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(case_id, logic_->PlacementCaseId(tx, placement_id));
    return absl::OkStatus();
  }));
  if (case_id.empty()) return CaseNotFound("placement");
  absl::StatusOr<CaseScope> scope = runtime_->registry().GetCaseScope(case_id);
  if (absl::IsNotFound(scope.status())) return CaseNotFound("placement");
  RETURN_IF_ERROR(scope.status());
  return std::optional<CaseScope>(*std::move(scope));
}

absl::StatusOr<std::optional<CaseScope>> PlacementService::SeenForWrite(
    grpc::CallbackServerContext* ctx, const Caller& caller, const char* method,
    const google::protobuf::Message& request, google::protobuf::Message* response,
    const std::string& case_id) {
  absl::StatusOr<std::optional<CaseScope>> scope = ScopeOf(caller, case_id);
  absl::Status seen = scope.status();
  if (seen.ok()) {
    seen = runtime_->store().Read([&](ReadTransaction& tx) {
      v1::Seeker seeker;
      return logic_->GetSeeker(tx, caller, case_id, ScopePtr(*scope), &seeker);
    });
  }
  if (!seen.ok()) {
    // The refusal is the write's outcome: audited like any other.
    Mutate(ctx, caller, method, request, response,
           [&](Transaction&, absl::Time, std::string* audit_case_id, ProgramStatusRecord*) {
             *audit_case_id = case_id;
             return seen;
           })
        .IgnoreError();
    return seen;
  }
  return scope;
}

absl::StatusOr<EligibilityDecision> PlacementService::Eligibility(absl::string_view case_id,
                                                                  absl::CivilDay as_of) {
  // The status view is the only source: the caller's own claims are never trusted.
  // Redis first; on a miss or with Redis down, the registry's view, which asks the
  // owning services (DESIGN.md §4). Only if both fail is the answer UNAVAILABLE.
  absl::StatusOr<CaseStatusEntries> entries = runtime_->cache().Get(case_id);
  if (entries.ok() && !entries->empty()) return DecideEligibility(*entries, as_of);
  absl::StatusOr<registry::v1::CaseStatus> view = runtime_->registry().GetCaseStatus(case_id);
  if (!view.ok()) {
    log::Warning("status_view_unavailable", {{"method", "eligibility"},
                                             {"code", absl::StatusCodeToString(view.status().code())}});
    return absl::UnavailableError("the programme status view is unavailable; retry later");
  }
  CaseStatusEntries from_registry;
  for (const registry::v1::ProgramStatusView& v : view->programs()) {
    if (v.freshness() == common::v1::FRESHNESS_UNAVAILABLE) continue;
    const std::optional<Programme> p = FromProtoProgram(v.status().program());
    if (!p.has_value()) continue;
    ProgrammeStatus e;
    e.state = v.status().state();
    e.version = v.status().version();
    from_registry[*p] = std::move(e);
  }
  return DecideEligibility(from_registry, as_of);
}

// ---------------------------------------------------------------- RPCs

grpc::ServerUnaryReactor* PlacementService::GetProgramStatus(
    grpc::CallbackServerContext* ctx, const common::v1::GetProgramStatusRequest* request,
    common::v1::ProgramStatus* response) {
  return ServeGetProgramStatus(*runtime_, Programme::kPlacement, ctx, request, response);
}

grpc::ServerUnaryReactor* PlacementService::UpsertEmployer(grpc::CallbackServerContext* ctx,
                                                           const v1::UpsertEmployerRequest* request,
                                                           v1::Employer* response) {
  return Unary(ctx, response, {Role::kCaseworker, Role::kLaborBureau, Role::kAdmin},
               [=](const Caller& caller) {
                 return Mutate(ctx, caller, "UpsertEmployer", *request, response,
                               [&](Transaction& tx, absl::Time now, std::string*,
                                   ProgramStatusRecord*) {
                                 return logic_->UpsertEmployer(tx, caller, now,
                                                               request->employer(), response);
                               });
               });
}

grpc::ServerUnaryReactor* PlacementService::GetEmployer(grpc::CallbackServerContext* ctx,
                                                        const v1::GetEmployerRequest* request,
                                                        v1::Employer* response) {
  return Unary(ctx, response,
               {Role::kCaseworker, Role::kLaborBureau, Role::kEmployer, Role::kAuditor,
                Role::kAdmin},
               [=](const Caller& caller) {
                 return ReadAudited(caller, "GetEmployer",
                                    [&](ReadTransaction& tx, std::vector<std::string>*) {
                                      return logic_->GetEmployer(tx, caller,
                                                                 request->credit_code(), response);
                                    });
               });
}

grpc::ServerUnaryReactor* PlacementService::ListEmployers(grpc::CallbackServerContext* ctx,
                                                          const v1::ListEmployersRequest* request,
                                                          v1::ListEmployersResponse* response) {
  return Unary(ctx, response,
               {Role::kCaseworker, Role::kLaborBureau, Role::kEmployer, Role::kAuditor,
                Role::kAdmin},
               [=](const Caller& caller) {
                 return ReadAudited(caller, "ListEmployers",
                                    [&](ReadTransaction& tx, std::vector<std::string>*) {
                                      response->Clear();
                                      return logic_->ListEmployers(tx, caller, *request, response);
                                    });
               });
}

grpc::ServerUnaryReactor* PlacementService::RegisterSeeker(grpc::CallbackServerContext* ctx,
                                                           const v1::RegisterSeekerRequest* request,
                                                           v1::Seeker* response) {
  return Unary(ctx, response, {Role::kCaseworker, Role::kFacilityStaff, Role::kAdmin},
               [=](const Caller& caller) -> absl::Status {
                 absl::CivilDay today = Today();
                 RETURN_IF_ERROR(logic_->ValidateRegisterSeeker(caller, *request, today));
                 ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(request->case_id()));
                 ASSIGN_OR_RETURN(registry::v1::CaseFacts facts, CheckCase(id.ToString()));
                 CaseScope scope = ScopeOfFacts(facts);
                 scope.case_id = id.ToString();
                 // Scope first: an unseen case is never looked up in the status view
                 // (the logic decides it again, with the seeker's record).
                 RETURN_IF_ERROR(caller.role() == Role::kFacilityStaff
                                     ? CheckCaseVisible(caller, scope, {request->division()})
                                     : CheckCaseVisible(caller, scope));
                 ASSIGN_OR_RETURN(EligibilityDecision eligibility,
                                  Eligibility(id.ToString(), today));
                 // The labor exchange index is kept for the labor bureau reconciliation
                 // (never logged, never returned).
                 return Mutate(ctx, caller, "RegisterSeeker", *request, response,
                               [&](Transaction& tx, absl::Time now, std::string* audit_case_id,
                                   ProgramStatusRecord* status) {
                                 *audit_case_id = id.ToString();
                                 return logic_->RegisterSeeker(
                                     tx, caller, now, *request, scope, eligibility,
                                     facts.labor_exchange_index(), response, status);
                               });
               });
}

grpc::ServerUnaryReactor* PlacementService::UpdateSeeker(grpc::CallbackServerContext* ctx,
                                                         const v1::UpdateSeekerRequest* request,
                                                         v1::Seeker* response) {
  return Unary(ctx, response, kCaseRoles, [=](const Caller& caller) -> absl::Status {
    absl::StatusOr<std::optional<CaseScope>> scope = ScopeOf(caller, request->case_id());
    return Mutate(ctx, caller, "UpdateSeeker", *request, response,
                  [&](Transaction& tx, absl::Time now, std::string* audit_case_id,
                      ProgramStatusRecord*) {
                    *audit_case_id = request->case_id();
                    RETURN_IF_ERROR(scope.status());  // refused in scope: audited too
                    return logic_->UpdateSeeker(tx, caller, now, *request, ScopePtr(*scope),
                                                response);
                  });
  });
}

grpc::ServerUnaryReactor* PlacementService::GetSeeker(grpc::CallbackServerContext* ctx,
                                                      const v1::GetSeekerRequest* request,
                                                      v1::Seeker* response) {
  return Unary(ctx, response,
               {Role::kCaseworker, Role::kFacilityStaff, Role::kAuditor, Role::kAdmin},
               [=](const Caller& caller) -> absl::Status {
                 absl::StatusOr<std::optional<CaseScope>> scope =
                     ScopeOf(caller, request->case_id());
                 return ReadAudited(caller, "GetSeeker",
                                    [&](ReadTransaction& tx, std::vector<std::string>* cases) {
                                      RETURN_IF_ERROR(scope.status());
                                      RETURN_IF_ERROR(logic_->GetSeeker(tx, caller,
                                                                        request->case_id(),
                                                                        ScopePtr(*scope),
                                                                        response));
                                      cases->push_back(response->case_id());
                                      return absl::OkStatus();
                                    });
               });
}

grpc::ServerUnaryReactor* PlacementService::ListSeekers(grpc::CallbackServerContext* ctx,
                                                        const v1::ListSeekersRequest* request,
                                                        v1::ListSeekersResponse* response) {
  return Unary(ctx, response, {Role::kCaseworker, Role::kAuditor, Role::kAdmin},
               [=](const Caller& caller) {
                 return ReadAudited(caller, "ListSeekers",
                                    [&](ReadTransaction& tx, std::vector<std::string>* cases) {
                                      response->Clear();
                                      RETURN_IF_ERROR(
                                          logic_->ListSeekers(tx, caller, *request, response));
                                      RETURN_IF_ERROR(DropCasesNotListed(runtime_->registry(), caller,
                                          response->mutable_seekers(),
                                          [](const v1::Seeker& s) { return s.case_id(); }));
                                      for (const auto& s : response->seekers()) {
                                        cases->push_back(s.case_id());
                                      }
                                      return absl::OkStatus();
                                    });
               });
}

grpc::ServerUnaryReactor* PlacementService::SuspendSeeker(grpc::CallbackServerContext* ctx,
                                                          const v1::SuspendSeekerRequest* request,
                                                          v1::SeekerChange* response) {
  return Unary(ctx, response, {Role::kService, Role::kAdmin},
               [=](const Caller& caller) -> absl::Status {
    absl::StatusOr<std::optional<CaseScope>> scope = ScopeOf(caller, request->case_id());
    return Mutate(ctx, caller, "SuspendSeeker", *request, response,
                  [&](Transaction& tx, absl::Time now, std::string* audit_case_id,
                      ProgramStatusRecord* status) {
                    *audit_case_id = request->case_id();
                    RETURN_IF_ERROR(scope.status());
                    return logic_->ChangeSeeker(tx, caller, now,
                                                PlacementLogic::SeekerChangeKind::kSuspend,
                                                request->case_id(), request->effective_on(),
                                                request->reason(), ScopePtr(*scope), response,
                                                status);
                  });
  });
}

grpc::ServerUnaryReactor* PlacementService::ResumeSeeker(grpc::CallbackServerContext* ctx,
                                                         const v1::ResumeSeekerRequest* request,
                                                         v1::SeekerChange* response) {
  return Unary(ctx, response, {Role::kService, Role::kAdmin},
               [=](const Caller& caller) -> absl::Status {
    absl::StatusOr<std::optional<CaseScope>> scope = ScopeOf(caller, request->case_id());
    return Mutate(ctx, caller, "ResumeSeeker", *request, response,
                  [&](Transaction& tx, absl::Time now, std::string* audit_case_id,
                      ProgramStatusRecord* status) {
                    *audit_case_id = request->case_id();
                    RETURN_IF_ERROR(scope.status());
                    return logic_->ChangeSeeker(tx, caller, now,
                                                PlacementLogic::SeekerChangeKind::kResume,
                                                request->case_id(), request->effective_on(),
                                                request->reason(), ScopePtr(*scope), response,
                                                status);
                  });
  });
}

grpc::ServerUnaryReactor* PlacementService::CloseSeeker(grpc::CallbackServerContext* ctx,
                                                        const v1::CloseSeekerRequest* request,
                                                        v1::SeekerChange* response) {
  return Unary(ctx, response, {Role::kService, Role::kCaseworker, Role::kAdmin},
               [=](const Caller& caller) -> absl::Status {
                 absl::StatusOr<std::optional<CaseScope>> scope =
                     ScopeOf(caller, request->case_id());
                 return Mutate(ctx, caller, "CloseSeeker", *request, response,
                               [&](Transaction& tx, absl::Time now, std::string* audit_case_id,
                                   ProgramStatusRecord* status) {
                                 *audit_case_id = request->case_id();
                                 RETURN_IF_ERROR(scope.status());
                                 return logic_->ChangeSeeker(
                                     tx, caller, now, PlacementLogic::SeekerChangeKind::kClose,
                                     request->case_id(), request->effective_on(),
                                     request->reason(), ScopePtr(*scope), response, status);
                               });
               });
}

grpc::ServerUnaryReactor* PlacementService::RecordTraining(grpc::CallbackServerContext* ctx,
                                                           const v1::RecordTrainingRequest* request,
                                                           v1::Training* response) {
  return Unary(ctx, response, {Role::kCaseworker, Role::kFacilityStaff, Role::kAdmin},
               [=](const Caller& caller) -> absl::Status {
                 ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(request->case_id()));
                 // Scope first, so an unseen case is never looked up in the cache.
                 ASSIGN_OR_RETURN(std::optional<CaseScope> scope,
                                  SeenForWrite(ctx, caller, "RecordTraining", *request, response,
                                               id.ToString()));
                 ASSIGN_OR_RETURN(absl::CivilDay start,
                                  RequiredDate(request->start_on(), "start_on"));
                 // The remaining-term rule is judged on the training's start date.
                 ASSIGN_OR_RETURN(EligibilityDecision eligibility,
                                  Eligibility(id.ToString(), std::min(start, Today())));
                 return Mutate(ctx, caller, "RecordTraining", *request, response,
                               [&](Transaction& tx, absl::Time now, std::string* audit_case_id,
                                   ProgramStatusRecord* status) {
                                 *audit_case_id = id.ToString();
                                 return logic_->RecordTraining(tx, caller, now, *request,
                                                               ScopePtr(scope), eligibility,
                                                               response, status);
                               });
               });
}

grpc::ServerUnaryReactor* PlacementService::ListTrainings(grpc::CallbackServerContext* ctx,
                                                          const v1::ListTrainingsRequest* request,
                                                          v1::ListTrainingsResponse* response) {
  return Unary(ctx, response,
               {Role::kCaseworker, Role::kFacilityStaff, Role::kAuditor, Role::kAdmin},
               [=](const Caller& caller) {
                 absl::StatusOr<std::optional<CaseScope>> scope =
                     ScopeOf(caller, request->case_id());
                 return ReadAudited(caller, "ListTrainings",
                                    [&](ReadTransaction& tx, std::vector<std::string>* cases) {
                                      response->Clear();
                                      RETURN_IF_ERROR(scope.status());
                                      RETURN_IF_ERROR(logic_->ListTrainings(
                                          tx, caller, request->case_id(), ScopePtr(*scope),
                                          response));
                                      cases->push_back(request->case_id());
                                      return absl::OkStatus();
                                    });
               });
}

grpc::ServerUnaryReactor* PlacementService::CreatePosting(grpc::CallbackServerContext* ctx,
                                                          const v1::CreatePostingRequest* request,
                                                          v1::Posting* response) {
  return Unary(ctx, response,
               {Role::kEmployer, Role::kCaseworker, Role::kLaborBureau, Role::kAdmin},
               [=](const Caller& caller) {
                 return Mutate(ctx, caller, "CreatePosting", *request, response,
                               [&](Transaction& tx, absl::Time now, std::string*,
                                   ProgramStatusRecord*) {
                                 return logic_->CreatePosting(tx, caller, now, request->posting(),
                                                              response);
                               });
               });
}

grpc::ServerUnaryReactor* PlacementService::GetPosting(grpc::CallbackServerContext* ctx,
                                                       const v1::GetPostingRequest* request,
                                                       v1::Posting* response) {
  return Unary(ctx, response,
               {Role::kEmployer, Role::kCaseworker, Role::kLaborBureau, Role::kAuditor,
                Role::kAdmin},
               [=](const Caller& caller) {
                 return ReadAudited(caller, "GetPosting",
                                    [&](ReadTransaction& tx, std::vector<std::string>*) {
                                      return logic_->GetPosting(tx, caller, request->posting_id(),
                                                                response);
                                    });
               });
}

grpc::ServerUnaryReactor* PlacementService::ListPostings(grpc::CallbackServerContext* ctx,
                                                         const v1::ListPostingsRequest* request,
                                                         v1::ListPostingsResponse* response) {
  return Unary(ctx, response,
               {Role::kEmployer, Role::kCaseworker, Role::kLaborBureau, Role::kAuditor,
                Role::kAdmin},
               [=](const Caller& caller) {
                 return ReadAudited(caller, "ListPostings",
                                    [&](ReadTransaction& tx, std::vector<std::string>*) {
                                      response->Clear();
                                      return logic_->ListPostings(tx, caller, *request, response);
                                    });
               });
}

grpc::ServerReadReactor<v1::ImportPostingsChunk>* PlacementService::ImportPostings(
    grpc::CallbackServerContext* ctx, v1::ImportResult* response) {
  const PlacementLogic* logic = logic_.get();
  return new ImportReactor<v1::ImportPostingsChunk, v1::PostingRow, PostingRowToWrite>(
      runtime_, ctx, "ImportPostings", response,
      [](const v1::ImportPostingsChunk& c) -> const google::protobuf::RepeatedPtrField<v1::PostingRow>& {
        return c.rows();
      },
      [logic](const Caller& caller, const v1::PostingRow& row, absl::CivilDay today,
              PostingRowToWrite* out, v1::RowError* error) {
        return logic->ValidatePostingRow(caller, row, today, out, error);
      },
      [logic](Transaction& tx, absl::Time now, const std::vector<PostingRowToWrite>& rows,
              ImportCounts* counts) { return logic->ApplyPostingRows(tx, now, rows, counts); },
      [logic](ReadTransaction& tx, const std::vector<PostingRowToWrite>& rows,
              ImportCounts* counts) { return logic->ClassifyPostingRows(tx, rows, counts); });
}

grpc::ServerReadReactor<v1::ImportRegistrationsChunk>* PlacementService::ImportRegistrations(
    grpc::CallbackServerContext* ctx, v1::ImportResult* response) {
  const PlacementLogic* logic = logic_.get();
  return new ImportReactor<v1::ImportRegistrationsChunk, v1::RegistrationRow,
                           RegistrationRowToWrite>(
      runtime_, ctx, "ImportRegistrations", response,
      [](const v1::ImportRegistrationsChunk& c)
          -> const google::protobuf::RepeatedPtrField<v1::RegistrationRow>& { return c.rows(); },
      [logic](const Caller& caller, const v1::RegistrationRow& row, absl::CivilDay today,
              RegistrationRowToWrite* out, v1::RowError* error) {
        return logic->ValidateRegistrationRow(caller, row, today, out, error);
      },
      [logic](Transaction& tx, absl::Time now, const std::vector<RegistrationRowToWrite>& rows,
              ImportCounts* counts) { return logic->ApplyRegistrationRows(tx, now, rows, counts); },
      [logic](ReadTransaction& tx, const std::vector<RegistrationRowToWrite>& rows,
              ImportCounts* counts) { return logic->ClassifyRegistrationRows(tx, rows, counts); });
}

grpc::ServerUnaryReactor* PlacementService::MatchPostings(grpc::CallbackServerContext* ctx,
                                                          const v1::MatchPostingsRequest* request,
                                                          v1::MatchPostingsResponse* response) {
  return Unary(ctx, response, kCaseRoles, [=](const Caller& caller) -> absl::Status {
    ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(request->case_id()));
    ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(request->as_of(), Today()));
    // Scope first: an out-of-scope seeker answers NOT_FOUND before the cache is asked.
    absl::StatusOr<std::optional<CaseScope>> scope = ScopeOf(caller, id.ToString());
    v1::Seeker seeker;
    absl::Status visible = scope.status();
    if (visible.ok()) {
      visible = runtime_->store().Read([&](ReadTransaction& tx) {
        return logic_->GetSeeker(tx, caller, id.ToString(), ScopePtr(*scope), &seeker);
      });
    }
    if (!visible.ok()) {
      ReadAudited(caller, "MatchPostings", [&](ReadTransaction&, std::vector<std::string>*) {
        return visible;
      }).IgnoreError();
      return visible;
    }
    ASSIGN_OR_RETURN(EligibilityDecision eligibility, Eligibility(id.ToString(), as_of));
    return ReadAudited(caller, "MatchPostings",
                       [&](ReadTransaction& tx, std::vector<std::string>* cases) {
                         response->Clear();
                         RETURN_IF_ERROR(logic_->MatchPostings(tx, caller, *request, as_of,
                                                               ScopePtr(*scope), eligibility,
                                                               response));
                         cases->push_back(id.ToString());
                         return absl::OkStatus();
                       });
  });
}

grpc::ServerUnaryReactor* PlacementService::MatchSeekers(grpc::CallbackServerContext* ctx,
                                                         const v1::MatchSeekersRequest* request,
                                                         v1::MatchSeekersResponse* response) {
  return Unary(ctx, response, {Role::kCaseworker, Role::kEmployer, Role::kAdmin},
               [=](const Caller& caller) {
                 return ReadAudited(caller, "MatchSeekers",
                                    [&](ReadTransaction& tx, std::vector<std::string>* cases) {
                                      response->Clear();
                                      RETURN_IF_ERROR(logic_->MatchSeekers(tx, caller, *request,
                                                                           Today(), response));
                                      if (caller.role() != Role::kEmployer) {
                                        RETURN_IF_ERROR(DropCasesNotListed(runtime_->registry(), caller,
                                            response->mutable_matches(), [](const auto& m) {
                                              return m.seeker().case_id();
                                            }));
                                      }
                                      for (const auto& m : response->matches()) {
                                        cases->push_back(m.seeker().case_id());
                                      }
                                      return absl::OkStatus();
                                    });
               });
}

grpc::ServerUnaryReactor* PlacementService::CreatePlacement(
    grpc::CallbackServerContext* ctx, const v1::CreatePlacementRequest* request,
    v1::PlacementRecord* response) {
  return Unary(ctx, response, kCaseRoles, [=](const Caller& caller) -> absl::Status {
    ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(request->case_id()));
    // Scope first, so an unseen case is never looked up in the cache.
    ASSIGN_OR_RETURN(std::optional<CaseScope> scope,
                     SeenForWrite(ctx, caller, "CreatePlacement", *request, response,
                                  id.ToString()));
    ASSIGN_OR_RETURN(EligibilityDecision eligibility, Eligibility(id.ToString(), Today()));
    return Mutate(ctx, caller, "CreatePlacement", *request, response,
                  [&](Transaction& tx, absl::Time now, std::string* audit_case_id,
                      ProgramStatusRecord* status) {
                    *audit_case_id = id.ToString();
                    return logic_->CreatePlacement(tx, caller, now, *request, ScopePtr(scope),
                                                   eligibility, response, status);
                  });
  });
}

grpc::ServerUnaryReactor* PlacementService::RecordRetention(
    grpc::CallbackServerContext* ctx, const v1::RecordRetentionRequest* request,
    v1::PlacementRecord* response) {
  return Unary(ctx, response, {Role::kCaseworker, Role::kEmployer, Role::kAdmin},
               [=](const Caller& caller) -> absl::Status {
                 absl::StatusOr<std::optional<CaseScope>> scope =
                     PlacementScopeOf(caller, request->placement_id());
                 return Mutate(ctx, caller, "RecordRetention", *request, response,
                               [&](Transaction& tx, absl::Time now, std::string* audit_case_id,
                                   ProgramStatusRecord* status) {
                                 RETURN_IF_ERROR(scope.status());
                                 RETURN_IF_ERROR(logic_->RecordRetention(tx, caller, now, *request,
                                                                         ScopePtr(*scope), response,
                                                                         status));
                                 *audit_case_id = response->case_id();
                                 return absl::OkStatus();
                               });
               });
}

grpc::ServerUnaryReactor* PlacementService::GetPlacement(grpc::CallbackServerContext* ctx,
                                                         const v1::GetPlacementRequest* request,
                                                         v1::PlacementRecord* response) {
  return Unary(ctx, response,
               {Role::kCaseworker, Role::kEmployer, Role::kLaborBureau, Role::kAuditor,
                Role::kAdmin},
               [=](const Caller& caller) {
                 absl::StatusOr<std::optional<CaseScope>> scope =
                     PlacementScopeOf(caller, request->placement_id());
                 return ReadAudited(caller, "GetPlacement",
                                    [&](ReadTransaction& tx, std::vector<std::string>* cases) {
                                      RETURN_IF_ERROR(scope.status());
                                      RETURN_IF_ERROR(logic_->GetPlacement(
                                          tx, caller, request->placement_id(), ScopePtr(*scope),
                                          response));
                                      cases->push_back(response->case_id());
                                      return absl::OkStatus();
                                    });
               });
}

grpc::ServerUnaryReactor* PlacementService::ListPlacements(
    grpc::CallbackServerContext* ctx, const v1::ListPlacementsRequest* request,
    v1::ListPlacementsResponse* response) {
  return Unary(ctx, response,
               {Role::kCaseworker, Role::kEmployer, Role::kLaborBureau, Role::kAuditor,
                Role::kAdmin},
               [=](const Caller& caller) {
                 // A case filter is decided by the registry's scope of that case; a case
                 // the registry never issued lists nothing, as one out of scope.
                 absl::StatusOr<std::optional<CaseScope>> scope = std::nullopt;
                 if (!request->case_id().empty()) {
                   scope = ScopeOf(caller, request->case_id());
                   if (absl::IsNotFound(scope.status())) {
                     scope = std::optional<CaseScope>(CaseScope());  // matches no case
                   }
                 }
                 return ReadAudited(caller, "ListPlacements",
                                    [&](ReadTransaction& tx, std::vector<std::string>* cases) {
                                      response->Clear();
                                      RETURN_IF_ERROR(scope.status());
                                      RETURN_IF_ERROR(logic_->ListPlacements(
                                          tx, caller, *request, ScopePtr(*scope), response));
                                      if (caller.role() == Role::kCaseworker) {
                                        RETURN_IF_ERROR(DropCasesNotListed(runtime_->registry(), caller,
                                            response->mutable_placements(),
                                            [](const auto& p) { return p.case_id(); }));
                                      }
                                      for (const auto& p : response->placements()) {
                                        cases->push_back(p.case_id());
                                      }
                                      return absl::OkStatus();
                                    });
               });
}

grpc::ServerUnaryReactor* PlacementService::ListDueRetentionChecks(
    grpc::CallbackServerContext* ctx, const v1::ListDueRetentionChecksRequest* request,
    v1::ListDueRetentionChecksResponse* response) {
  return Unary(ctx, response, {Role::kCaseworker, Role::kEmployer, Role::kBatch, Role::kAdmin},
               [=](const Caller& caller) -> absl::Status {
                 ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(request->as_of(), Today()));
                 return ReadAudited(caller, "ListDueRetentionChecks",
                                    [&](ReadTransaction& tx, std::vector<std::string>* cases) {
                                      response->Clear();
                                      RETURN_IF_ERROR(logic_->ListDueRetentionChecks(
                                          tx, caller, as_of, request->page(), response));
                                      if (caller.role() == Role::kCaseworker) {
                                        RETURN_IF_ERROR(DropCasesNotListed(runtime_->registry(), caller,
                                            response->mutable_checks(),
                                            [](const auto& c) { return c.case_id(); }));
                                      }
                                      for (const auto& c : response->checks()) {
                                        cases->push_back(c.case_id());
                                      }
                                      return absl::OkStatus();
                                    });
               });
}

grpc::ServerUnaryReactor* PlacementService::ListSubsidyTiers(
    grpc::CallbackServerContext* ctx, const v1::ListSubsidyTiersRequest*,
    v1::ListSubsidyTiersResponse* response) {
  return Unary(ctx, response,
               {Role::kCaseworker, Role::kEmployer, Role::kLaborBureau, Role::kAuditor,
                Role::kAdmin},
               [=](const Caller&) {
                 for (const v1::SubsidyTier& t : logic_->tiers()) *response->add_tiers() = t;
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* PlacementService::FileSubsidyClaim(
    grpc::CallbackServerContext* ctx, const v1::FileSubsidyClaimRequest* request,
    v1::SubsidyClaim* response) {
  return Unary(ctx, response, {Role::kEmployer, Role::kCaseworker, Role::kAdmin},
               [=](const Caller& caller) {
                 return Mutate(ctx, caller, "FileSubsidyClaim", *request, response,
                               [&](Transaction& tx, absl::Time now, std::string*,
                                   ProgramStatusRecord*) {
                                 return logic_->FileSubsidyClaim(tx, caller, now, *request,
                                                                 response);
                               });
               });
}

grpc::ServerUnaryReactor* PlacementService::DecideSubsidyClaim(
    grpc::CallbackServerContext* ctx, const v1::DecideSubsidyClaimRequest* request,
    v1::SubsidyClaim* response) {
  return Unary(ctx, response, {Role::kLaborBureau, Role::kAdmin}, [=](const Caller& caller) {
    return Mutate(ctx, caller, "DecideSubsidyClaim", *request, response,
                  [&](Transaction& tx, absl::Time now, std::string*, ProgramStatusRecord*) {
                    return logic_->DecideSubsidyClaim(tx, caller, now, *request, response);
                  });
  });
}

grpc::ServerUnaryReactor* PlacementService::ListSubsidyClaims(
    grpc::CallbackServerContext* ctx, const v1::ListSubsidyClaimsRequest* request,
    v1::ListSubsidyClaimsResponse* response) {
  return Unary(ctx, response,
               {Role::kEmployer, Role::kCaseworker, Role::kLaborBureau, Role::kAuditor,
                Role::kAdmin},
               [=](const Caller& caller) {
                 return ReadAudited(caller, "ListSubsidyClaims",
                                    [&](ReadTransaction& tx, std::vector<std::string>*) {
                                      response->Clear();
                                      return logic_->ListSubsidyClaims(tx, caller, *request,
                                                                       response);
                                    });
               });
}

grpc::ServerWriteReactor<v1::ExportOutcomesChunk>* PlacementService::ExportOutcomes(
    grpc::CallbackServerContext* ctx, const v1::ExportOutcomesRequest* request) {
  return new ExportReactor(runtime_, logic_.get(), ctx, request);
}

grpc::ServerUnaryReactor* PlacementService::ReconcileRetention(
    grpc::CallbackServerContext* ctx, const v1::ReconcileRetentionRequest* request,
    v1::ReconcileRetentionResponse* response) {
  return Unary(
      ctx, response,
      {Role::kCaseworker, Role::kLaborBureau, Role::kAuditor, Role::kBatch, Role::kAdmin},
      [=](const Caller& caller) -> absl::Status {
        absl::CivilDay today = Today();
        ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(request->as_of(), today));
        if (as_of > today) return absl::InvalidArgumentError("as_of: in the future");
        if (request->page().page_token().empty()) {
          ASSIGN_OR_RETURN(int64_t backfilled, BackfillLaborIndex(ctx, caller, *request));
          response->set_seekers_backfilled(backfilled);
        }
        int64_t backfilled = response->seekers_backfilled();
        RETURN_IF_ERROR(ReadAudited(caller, "ReconcileRetention",
                                    [&](ReadTransaction& tx, std::vector<std::string>* cases) {
                                      response->Clear();
                                      RETURN_IF_ERROR(logic_->ReconcileRetention(
                                          tx, caller, as_of, request->page(), response));
                                      for (const auto& d : response->discrepancies()) {
                                        if (cases->empty() || cases->back() != d.case_id()) {
                                          cases->push_back(d.case_id());
                                        }
                                      }
                                      return absl::OkStatus();
                                    }));
        response->set_seekers_backfilled(backfilled);
        return absl::OkStatus();
      });
}

absl::StatusOr<int64_t> PlacementService::BackfillLaborIndex(
    grpc::CallbackServerContext* ctx, const Caller& caller,
    const v1::ReconcileRetentionRequest& request) {
  std::vector<std::string> missing;
  RETURN_IF_ERROR(runtime_->store().Read([&](ReadTransaction& tx) {
    missing.clear();
    return logic_->SeekersMissingLaborIndex(tx, caller, kLaborIndexBackfillPerCall, &missing);
  }));
  std::vector<std::pair<std::string, std::string>> found;
  for (const std::string& case_id : missing) {
    absl::StatusOr<registry::v1::CaseFacts> facts = runtime_->registry().GetCaseFacts(case_id);
    if (absl::IsNotFound(facts.status())) {
      found.emplace_back(case_id, "");
      continue;
    }
    if (!facts.ok()) {
      // The registry is down: the backfill waits for the next run; never fail the read.
      log::Warning("labor_index_backfill_unavailable",
                   {{"code", absl::StatusCodeToString(facts.status().code())}});
      break;
    }
    found.emplace_back(case_id, facts->labor_exchange_index());
  }
  if (found.empty()) return 0;
  v1::ReconcileRetentionResponse scratch;
  RETURN_IF_ERROR(RunMutation(
      *runtime_, {&caller, Method("ReconcileRetention"), std::nullopt, &request, DeadlineOf(*ctx)},
      &scratch, [&](Transaction& tx, std::string*) { return logic_->StoreLaborIndices(tx, found); }));
  log::Info("labor_index_backfilled", {{"seekers", static_cast<int64_t>(found.size())}});
  return static_cast<int64_t>(found.size());
}

grpc::ServerUnaryReactor* PlacementService::GetOutcomeMetrics(
    grpc::CallbackServerContext* ctx, const v1::GetOutcomeMetricsRequest* request,
    v1::OutcomeMetrics* response) {
  return Unary(ctx, response,
               {Role::kCaseworker, Role::kLaborBureau, Role::kAuditor, Role::kAdmin},
               [=](const Caller& caller) {
                 return ReadAudited(caller, "GetOutcomeMetrics",
                                    [&](ReadTransaction& tx, std::vector<std::string>*) {
                                      response->Clear();
                                      return logic_->GetOutcomeMetrics(tx, caller, *request,
                                                                       Today(), response);
                                    });
               });
}

}  // namespace placement
}  // namespace pathway
