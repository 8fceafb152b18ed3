// OperationsService: pathway.common.v1.Operations (protos/pathway/common/v1/
// operations.proto), which GrpcServer registers on every server. It streams the
// programme statuses a service owns, page by page in case id order, for the nightly
// reconciler (tools/reconcile), summarises the service's outbox of hand-offs,
// replays parked ones for an operator, and lists the service's audit trail of a case
// or a user for an auditor (audit_listing.h), and backs up its embedded database
// for an operator (backup.h).
//
//   OperationsService ops(runtime);   // programme from runtime->options().service_name
//   builder.RegisterService(&ops);
//
// The page reads below are plain functions over a ReadTransaction so they can be
// tested without gRPC:
//
//   StatusPageQuery q{.after_case_id = "", .division_prefix = "52", .limit = 1000};
//   common::v1::ProgramStatusPage page;
//   RETURN_IF_ERROR(ReadProgramStatusPage(tx, Programme::kCommunityDetox, q, &page));
//
// The streaming reactor reads one page (a short store read), writes it, and reads the
// next when the write is done; it never blocks on anything else.
//
// Ownership: the runtime is not owned and must outlive the service. Thread-safe.
#ifndef PATHWAY_COMMON_SERVER_OPERATIONS_SERVICE_H_
#define PATHWAY_COMMON_SERVER_OPERATIONS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/cache/status_cache.h"
#include "common/server/service_runtime.h"
#include "common/store/store.h"
#include "pathway/common/v1/operations.grpc.pb.h"
#include "pathway/common/v1/operations.pb.h"

namespace pathway {

// Page size limits of ListProgramStatuses.
inline constexpr int kDefaultStatusPageSize = 1000;
inline constexpr int kMaxStatusPageSize = 5000;

// The division prefix a caller may list: the requested prefix narrowed to the
// caller's jurisdiction ("*" is national). nullopt when the two are disjoint (the
// caller may see nothing the request asks for).
std::optional<std::string> EffectiveDivisionPrefix(absl::string_view jurisdiction,
                                                   absl::string_view requested_prefix);

struct StatusPageQuery {
  std::string after_case_id;    // exclusive; empty = from the start
  std::string division_prefix;  // 0 to 6 digits; empty = all
  int limit = kDefaultStatusPageSize;
};

// Appends up to q.limit statuses with case_id > q.after_case_id (and the division
// filter) to page->statuses, in case id order.
absl::Status ReadProgramStatusPage(ReadTransaction& tx, Programme programme,
                                   const StatusPageQuery& q, common::v1::ProgramStatusPage* page);

// How many statuses ReadProgramStatusPage would return with an unlimited page.
absl::StatusOr<int64_t> CountProgramStatuses(ReadTransaction& tx, const StatusPageQuery& q);

// The GetOutboxSummary answer for the service's store at `now`. A store without the
// outbox table answers has_outbox = false and zeros. `max_stuck` >= 1.
absl::StatusOr<common::v1::OutboxSummary> ReadOutboxSummary(Store& store, absl::Time now,
                                                            absl::Duration pending_older_than,
                                                            int max_stuck);

class OperationsService final : public common::v1::Operations::CallbackService {
 public:
  // `runtime`: not owned; must outlive this.
  explicit OperationsService(ServiceRuntime* runtime);

  grpc::ServerWriteReactor<common::v1::ProgramStatusPage>* ListProgramStatuses(
      grpc::CallbackServerContext* ctx,
      const common::v1::ListProgramStatusesRequest* request) override;

  grpc::ServerUnaryReactor* GetOutboxSummary(grpc::CallbackServerContext* ctx,
                                             const common::v1::GetOutboxSummaryRequest* request,
                                             common::v1::OutboxSummary* response) override;

  // Batch and admin only; a write through RunMutation (audited, idempotent by key).
  grpc::ServerUnaryReactor* ReplayParkedHandoffs(
      grpc::CallbackServerContext* ctx, const common::v1::ReplayParkedHandoffsRequest* request,
      common::v1::ReplayParkedHandoffsResponse* response) override;

  // Auditors only (audit_listing.h has who sees which entries); the listing, and a
  // refused attempt by another role, are audited. Reads on the handler pool.
  grpc::ServerUnaryReactor* ListAuditEntries(
      grpc::CallbackServerContext* ctx, const common::v1::ListAuditEntriesRequest* request,
      common::v1::ListAuditEntriesResponse* response) override;

  // Batch and admin only; SQLite only (FAILED_PRECONDITION on PostgreSQL). Copies
  // the database on the handler pool while writes go on (backup.h); audited.
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* ctx,
                                   const common::v1::BackupRequest* request,
                                   common::v1::BackupResponse* response) override;

 private:
  ServiceRuntime* runtime_;  // not owned
  const std::optional<Programme> programme_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_OPERATIONS_SERVICE_H_
