#include "common/server/operations_service.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/audit/audit_log.h"
#include "common/auth/role.h"
#include "common/codec/programme.h"
#include "common/codec/proto_date.h"
#include "common/codec/proto_programme.h"
#include "common/log/log.h"
#include "common/outbox/outbox.h"
#include "common/server/audit_listing.h"
#include "common/server/backup.h"
#include "common/server/handler_pool.h"
#include "common/server/mutation.h"
#include "common/program_status/program_status.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

using common::v1::OwnedProgramStatus;
using common::v1::ProgramStatusPage;

constexpr char kListAction[] = "ListProgramStatuses";
constexpr char kReplayMethod[] = "/pathway.common.v1.Operations/ReplayParkedHandoffs";
constexpr char kListAuditMethod[] = "/pathway.common.v1.Operations/ListAuditEntries";
constexpr char kBackupMethod[] = "/pathway.common.v1.Operations/Backup";
constexpr int kMaxReplayIds = 1000;
constexpr int kMaxCaseIdLength = 128;
constexpr int kDefaultMaxStuck = 100;
constexpr int kMaxMaxStuck = 1000;

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  int64_t us = absl::ToUnixMicros(t);
  int64_t seconds = us / 1000000;
  int64_t micros = us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(micros * 1000));
}

bool IsResumePoint(absl::string_view s) {
  if (s.size() > static_cast<size_t>(kMaxCaseIdLength)) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-') return false;
  }
  return true;
}

bool IsDivisionPrefix(absl::string_view s) {
  if (s.size() > 6) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// Streams pages: read one (a short store read), write it, read the next on
// OnWriteDone. Deletes itself in OnDone.
class ListStatusesReactor final : public grpc::ServerWriteReactor<ProgramStatusPage> {
 public:
  ListStatusesReactor(ServiceRuntime* runtime, std::optional<Programme> programme,
                      grpc::CallbackServerContext* ctx,
                      const common::v1::ListProgramStatusesRequest& request)
      : runtime_(runtime), programme_(programme), ctx_(ctx) {
    absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(
        *ctx, {Role::kBatch, Role::kService, Role::kAdmin, Role::kAuditor});
    if (!caller.ok()) {
      Finish(ToGrpcStatus(caller.status()));
      return;
    }
    absl::Status valid = Validate(request);
    runtime_->read_audit().Record(AuditEntry{runtime_->clock().Now(), caller->subject(),
                                             std::string(RoleName(caller->role())),
                                             kListAction, std::string(), AuditOutcome(valid),
                                             caller->request_id});
    if (!valid.ok()) {
      Finish(ToGrpcStatus(valid));
      return;
    }
    std::optional<std::string> prefix =
        EffectiveDivisionPrefix(caller->jurisdiction(), request.division_prefix());
    if (!programme_.has_value() || !prefix.has_value()) {
      Finish(grpc::Status::OK);  // nothing this caller may see
      return;
    }
    query_.after_case_id = request.after_case_id();
    query_.division_prefix = *std::move(prefix);
    query_.limit = request.page_size() == 0
                       ? kDefaultStatusPageSize
                       : std::min(request.page_size(), kMaxStatusPageSize);
    NextPage(/*first=*/true);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      // The client went away or its deadline passed; nothing more can be written.
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled"));
      return;
    }
    NextPage(/*first=*/false);
  }

  void OnDone() override { delete this; }

 private:
  static absl::Status Validate(const common::v1::ListProgramStatusesRequest& r) {
    if (!IsResumePoint(r.after_case_id())) {
      return absl::InvalidArgumentError(
          "after_case_id must be at most 128 characters of [0-9A-Za-z-]");
    }
    if (!IsDivisionPrefix(r.division_prefix())) {
      return absl::InvalidArgumentError("division_prefix must be 0 to 6 digits");
    }
    if (r.page_size() < 0) return absl::InvalidArgumentError("page_size must not be negative");
    return absl::OkStatus();
  }

  void NextPage(bool first) {
    if (ctx_->IsCancelled()) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled"));
      return;
    }
    page_.Clear();
    absl::Status read = runtime_->store().Read([&](ReadTransaction& tx) -> absl::Status {
      if (first) {
        ASSIGN_OR_RETURN(int64_t total, CountProgramStatuses(tx, query_));
        page_.set_total_estimate(total);
      }
      return ReadProgramStatusPage(tx, *programme_, query_, &page_);
    });
    if (!read.ok()) {
      log::Warning("list_program_statuses_failed",
                   {{"service", runtime_->options().service_name}, {"error", read.ToString()}});
      Finish(ToGrpcStatus(absl::UnavailableError("cannot read program statuses; resume later")));
      return;
    }
    const int n = page_.statuses_size();
    if (n == 0) {
      Finish(grpc::Status::OK);
      return;
    }
    query_.after_case_id = page_.statuses(n - 1).status().case_id();
    if (n < query_.limit) {
      StartWriteAndFinish(&page_, grpc::WriteOptions(), grpc::Status::OK);
    } else {
      StartWrite(&page_);
    }
  }

  ServiceRuntime* runtime_;
  const std::optional<Programme> programme_;
  grpc::CallbackServerContext* ctx_;
  StatusPageQuery query_;
  ProgramStatusPage page_;
};

}  // namespace

std::optional<std::string> EffectiveDivisionPrefix(absl::string_view jurisdiction,
                                                   absl::string_view requested_prefix) {
  if (jurisdiction == "*") return std::string(requested_prefix);
  // The narrower of the two when one contains the other; otherwise disjoint.
  if (absl::StartsWith(requested_prefix, jurisdiction)) return std::string(requested_prefix);
  if (absl::StartsWith(jurisdiction, requested_prefix)) return std::string(jurisdiction);
  return std::nullopt;
}

absl::Status ReadProgramStatusPage(ReadTransaction& tx, Programme programme,
                                   const StatusPageQuery& q, ProgramStatusPage* page) {
  ASSIGN_OR_RETURN(std::vector<ProgramStatusRecord> records,
                   LoadProgramStatusPage(tx, q.after_case_id, q.division_prefix, q.limit));
  const common::v1::Program program = ToProtoProgram(programme);
  page->mutable_statuses()->Reserve(page->statuses_size() + static_cast<int>(records.size()));
  for (const ProgramStatusRecord& r : records) {
    OwnedProgramStatus* owned = page->add_statuses();
    owned->set_division(r.division);
    common::v1::ProgramStatus* s = owned->mutable_status();
    s->set_case_id(r.case_id);
    s->set_program(program);
    s->set_state(r.state);
    s->set_version(r.version);
    if (r.began.has_value()) ToProtoDate(*r.began, s->mutable_began());
    if (!r.deadline_kind.empty() && r.deadline.has_value()) {
      s->mutable_next_deadline()->set_kind(r.deadline_kind);
      ToProtoDate(*r.deadline, s->mutable_next_deadline()->mutable_due());
    }
    SetTimestamp(r.updated_at, s->mutable_updated_at());
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CountProgramStatuses(ReadTransaction& tx, const StatusPageQuery& q) {
  return CountProgramStatusesAfter(tx, q.after_case_id, q.division_prefix);
}

absl::StatusOr<common::v1::OutboxSummary> ReadOutboxSummary(Store& store, absl::Time now,
                                                            absl::Duration pending_older_than,
                                                            int max_stuck) {
  common::v1::OutboxSummary out;
  ASSIGN_OR_RETURN(bool has_outbox, HasOutbox(store));
  out.set_has_outbox(has_outbox);
  if (!has_outbox) return out;

  ASSIGN_OR_RETURN(OutboxSummary summary, SummarizeOutbox(store));
  out.set_pending(summary.pending);
  out.set_parked(summary.parked);
  out.set_delivered(summary.delivered);
  if (summary.pending > 0 && summary.oldest_pending != absl::InfiniteFuture()) {
    SetTimestamp(summary.oldest_pending, out.mutable_oldest_pending());
  }
  ASSIGN_OR_RETURN(std::vector<OutboxRow> stuck,
                   ListStuckHandoffs(store, now - pending_older_than, max_stuck + 1));
  if (stuck.size() > static_cast<size_t>(max_stuck)) {
    out.set_stuck_truncated(true);
    stuck.resize(max_stuck);
  }
  for (const OutboxRow& row : stuck) {
    common::v1::StuckHandoff* h = out.add_stuck();
    h->set_id(row.id);
    h->set_target(row.message.target);
    h->set_method(row.message.method);
    h->set_idempotency_key(row.message.idempotency_key);
    h->set_state(row.state);
    h->set_attempts(row.attempts);
    SetTimestamp(row.created_at, h->mutable_created_at());
    SetTimestamp(row.next_attempt_at, h->mutable_next_attempt_at());
    h->set_last_error(row.last_error);
    h->set_last_error_message(row.last_error_message);
  }
  return out;
}

OperationsService::OperationsService(ServiceRuntime* runtime)
    : runtime_(runtime), programme_(ProgrammeOfService(runtime->options().service_name)) {}

grpc::ServerWriteReactor<ProgramStatusPage>* OperationsService::ListProgramStatuses(
    grpc::CallbackServerContext* ctx, const common::v1::ListProgramStatusesRequest* request) {
  return new ListStatusesReactor(runtime_, programme_, ctx, *request);
}

grpc::ServerUnaryReactor* OperationsService::GetOutboxSummary(
    grpc::CallbackServerContext* ctx, const common::v1::GetOutboxSummaryRequest* request,
    common::v1::OutboxSummary* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::StatusOr<Caller> caller = runtime_->authorizer().Authorize(
      *ctx, {Role::kBatch, Role::kService, Role::kAdmin, Role::kAuditor});
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  absl::Duration older_than = absl::Hours(1);
  if (request->has_pending_older_than()) {
    const auto& d = request->pending_older_than();
    if (d.seconds() < 0 || d.nanos() < 0) {
      reactor->Finish(ToGrpcStatus(
          absl::InvalidArgumentError("pending_older_than must not be negative")));
      return reactor;
    }
    absl::Duration given = absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
    if (given > absl::ZeroDuration()) older_than = given;
  }
  if (request->max_stuck() < 0) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError("max_stuck must not be negative")));
    return reactor;
  }
  int max_stuck = request->max_stuck() == 0 ? kDefaultMaxStuck
                                            : std::min(request->max_stuck(), kMaxMaxStuck);
  absl::StatusOr<common::v1::OutboxSummary> summary =
      ReadOutboxSummary(runtime_->store(), runtime_->clock().Now(), older_than, max_stuck);
  if (!summary.ok()) {
    log::Warning("outbox_summary_failed",
                 {{"service", runtime_->options().service_name},
                  {"error", summary.status().ToString()}});
    reactor->Finish(ToGrpcStatus(absl::UnavailableError("cannot read the outbox; retry")));
    return reactor;
  }
  *response = *std::move(summary);
  response->set_service(runtime_->options().service_name);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* OperationsService::ReplayParkedHandoffs(
    grpc::CallbackServerContext* ctx, const common::v1::ReplayParkedHandoffsRequest* request,
    common::v1::ReplayParkedHandoffsResponse* response) {
  absl::StatusOr<Caller> caller =
      runtime_->authorizer().Authorize(*ctx, {Role::kBatch, Role::kAdmin});
  if (!caller.ok()) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  // A write: it waits for its commit on the handler pool, not on a callback thread.
  return FinishOnPool(ctx, runtime_->handlers(), [this, ctx, request, response,
                                                  caller = *caller]() -> absl::Status {
    if (!request->all() && request->ids_size() == 0) {
      return absl::InvalidArgumentError("ids: name the parked hand-offs, or set all");
    }
    if (request->ids_size() > kMaxReplayIds) {
      return absl::InvalidArgumentError(absl::StrCat("ids: at most ", kMaxReplayIds));
    }
    ParkedSelection which;
    which.all = request->all();
    which.target = request->target();
    for (int64_t id : request->ids()) {
      if (id < 0) return absl::InvalidArgumentError("ids: must not be negative");
      which.ids.push_back(id);
    }
    ASSIGN_OR_RETURN(std::optional<std::string> key, IdempotencyKeyFrom(*ctx));
    ASSIGN_OR_RETURN(bool has_outbox, HasOutbox(runtime_->store()));
    if (!has_outbox) return absl::FailedPreconditionError("this service keeps no outbox");
    const absl::Time now = runtime_->clock().Now();
    absl::Status s = RunMutation(
        *runtime_, {&caller, kReplayMethod, key, request, DeadlineOf(*ctx)}, response,
        [&](Transaction& tx, std::string*) -> absl::Status {
          response->Clear();
          response->set_service(runtime_->options().service_name);
          ASSIGN_OR_RETURN(std::vector<int64_t> replayed,
                           pathway::ReplayParkedHandoffs(tx, which, now));
          for (int64_t id : replayed) response->add_replayed(id);
          return absl::OkStatus();
        });
    if (s.ok()) {
      log::Info("outbox_replayed", {{"service", runtime_->options().service_name},
                                    {"rows", static_cast<int64_t>(response->replayed_size())}});
    }
    return s;
  });
}

grpc::ServerUnaryReactor* OperationsService::ListAuditEntries(
    grpc::CallbackServerContext* ctx, const common::v1::ListAuditEntriesRequest* request,
    common::v1::ListAuditEntriesResponse* response) {
  // Authenticated but not yet authorised: a refused attempt is audited too (who
  // tried to read the trail matters as much as who did).
  absl::StatusOr<Caller> caller = runtime_->authorizer().Authenticate(*ctx);
  if (!caller.ok()) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  return FinishOnPool(ctx, runtime_->handlers(), [this, request, response,
                                                  caller = *caller]() -> absl::Status {
    std::string audited_case;
    absl::Status s = CheckRole(caller, {Role::kAuditor});
    if (s.ok()) {
      s = ReadAuditEntries(runtime_->store(), runtime_->options().service_name, caller, *request,
                           response, &audited_case);
    }
    if (!s.ok() && !absl::IsInvalidArgument(s) && !absl::IsPermissionDenied(s)) {
      log::Warning("list_audit_entries_failed", {{"service", runtime_->options().service_name},
                                                 {"error", s.ToString()}});
      s = absl::UnavailableError("cannot read the audit trail; retry");
    }
    runtime_->read_audit().Record(AuditEntry{runtime_->clock().Now(), caller.subject(),
                                             std::string(RoleName(caller.role())),
                                             kListAuditMethod, audited_case, AuditOutcome(s),
                                             caller.request_id});
    if (!s.ok()) response->Clear();
    return s;
  });
}

grpc::ServerUnaryReactor* OperationsService::Backup(grpc::CallbackServerContext* ctx,
                                                    const common::v1::BackupRequest* request,
                                                    common::v1::BackupResponse* response) {
  absl::StatusOr<Caller> caller =
      runtime_->authorizer().Authorize(*ctx, {Role::kBatch, Role::kAdmin});
  if (!caller.ok()) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  // Copying the file waits on the disk: on the handler pool, not a callback thread.
  return FinishOnPool(ctx, runtime_->handlers(), [this, request, response,
                                                  caller = *caller]() -> absl::Status {
    absl::Status s;
    SqliteStore* sqlite = runtime_->sqlite_store();
    if (sqlite == nullptr) {
      s = absl::FailedPreconditionError(
          "this service runs on PostgreSQL, which is backed up with its own tools "
          "(pg_basebackup, pg_dump)");
    } else {
      absl::StatusOr<common::v1::BackupResponse> taken =
          TakeSqliteBackup(*sqlite, runtime_->options().service_name, request->dir(),
                           runtime_->clock().Now());
      s = taken.status();
      if (taken.ok()) *response = *std::move(taken);
    }
    runtime_->read_audit().Record(AuditEntry{runtime_->clock().Now(), caller.subject(),
                                             std::string(RoleName(caller.role())),
                                             kBackupMethod, std::string(), AuditOutcome(s),
                                             caller.request_id});
    if (!s.ok()) response->Clear();
    return s;
  });
}

}  // namespace pathway
