// The Sunshine placement (阳光工程) gRPC service: a thin callback adapter (STYLE.md) over
// PlacementLogic. Each unary handler authorises first, reads the registry and the status
// cache where a rule needs them (outside any transaction), runs the logic (writes
// through RunMutation: change, audit row and idempotent result in one transaction),
// publishes the programme status after the commit, audits reads, clears treatment detail
// for labor bureau and employer tokens, and finishes with ToGrpcStatus.
//
// The bulk imports are client-streaming reactors that validate each row, commit the good
// ones in transactions of kImportCommitRows rows (each through RunMutation, so each
// batch carries its audit row) and answer per-row errors; the export is a
// server-streaming reactor that reads one chunk per write. ReconcileRetention first
// backfills missing labor exchange indices from the registry (outside any transaction,
// then one RunMutation), then reads one page of discrepancies.
//
//   PlacementService service(runtime.get(), std::make_unique<PlacementLogic>(tiers, key));
//
// Store calls run on gRPC's callback threads, as in every Pathway service; they are short
// (one page, or one batch of rows). Thread-safe. `runtime` is not owned and must outlive
// the service.
#ifndef PATHWAY_SERVICES_PLACEMENT_PLACEMENT_SERVICE_H_
#define PATHWAY_SERVICES_PLACEMENT_PLACEMENT_SERVICE_H_

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/server/service_runtime.h"
#include "pathway/placement/v1/placement.grpc.pb.h"
#include "services/placement/placement_logic.h"

namespace pathway {
namespace placement {

class PlacementService final : public v1::Placement::CallbackService {
 public:
  PlacementService(ServiceRuntime* runtime, std::unique_ptr<PlacementLogic> logic)
      : runtime_(runtime), logic_(std::move(logic)) {}

  grpc::ServerUnaryReactor* GetProgramStatus(grpc::CallbackServerContext* ctx,
                                             const common::v1::GetProgramStatusRequest* request,
                                             common::v1::ProgramStatus* response) override;

  grpc::ServerUnaryReactor* UpsertEmployer(grpc::CallbackServerContext* ctx,
                                           const v1::UpsertEmployerRequest* request,
                                           v1::Employer* response) override;
  grpc::ServerUnaryReactor* GetEmployer(grpc::CallbackServerContext* ctx,
                                        const v1::GetEmployerRequest* request,
                                        v1::Employer* response) override;
  grpc::ServerUnaryReactor* ListEmployers(grpc::CallbackServerContext* ctx,
                                          const v1::ListEmployersRequest* request,
                                          v1::ListEmployersResponse* response) override;

  grpc::ServerUnaryReactor* RegisterSeeker(grpc::CallbackServerContext* ctx,
                                           const v1::RegisterSeekerRequest* request,
                                           v1::Seeker* response) override;
  grpc::ServerUnaryReactor* UpdateSeeker(grpc::CallbackServerContext* ctx,
                                         const v1::UpdateSeekerRequest* request,
                                         v1::Seeker* response) override;
  grpc::ServerUnaryReactor* GetSeeker(grpc::CallbackServerContext* ctx,
                                      const v1::GetSeekerRequest* request,
                                      v1::Seeker* response) override;
  grpc::ServerUnaryReactor* ListSeekers(grpc::CallbackServerContext* ctx,
                                        const v1::ListSeekersRequest* request,
                                        v1::ListSeekersResponse* response) override;
  grpc::ServerUnaryReactor* SuspendSeeker(grpc::CallbackServerContext* ctx,
                                          const v1::SuspendSeekerRequest* request,
                                          v1::SeekerChange* response) override;
  grpc::ServerUnaryReactor* ResumeSeeker(grpc::CallbackServerContext* ctx,
                                         const v1::ResumeSeekerRequest* request,
                                         v1::SeekerChange* response) override;
  grpc::ServerUnaryReactor* CloseSeeker(grpc::CallbackServerContext* ctx,
                                        const v1::CloseSeekerRequest* request,
                                        v1::SeekerChange* response) override;

  grpc::ServerUnaryReactor* RecordTraining(grpc::CallbackServerContext* ctx,
                                           const v1::RecordTrainingRequest* request,
                                           v1::Training* response) override;
  grpc::ServerUnaryReactor* ListTrainings(grpc::CallbackServerContext* ctx,
                                          const v1::ListTrainingsRequest* request,
                                          v1::ListTrainingsResponse* response) override;

  grpc::ServerUnaryReactor* CreatePosting(grpc::CallbackServerContext* ctx,
                                          const v1::CreatePostingRequest* request,
                                          v1::Posting* response) override;
  grpc::ServerUnaryReactor* GetPosting(grpc::CallbackServerContext* ctx,
                                       const v1::GetPostingRequest* request,
                                       v1::Posting* response) override;
  grpc::ServerUnaryReactor* ListPostings(grpc::CallbackServerContext* ctx,
                                         const v1::ListPostingsRequest* request,
                                         v1::ListPostingsResponse* response) override;
  grpc::ServerReadReactor<v1::ImportPostingsChunk>* ImportPostings(
      grpc::CallbackServerContext* ctx, v1::ImportResult* response) override;

  grpc::ServerUnaryReactor* MatchPostings(grpc::CallbackServerContext* ctx,
                                          const v1::MatchPostingsRequest* request,
                                          v1::MatchPostingsResponse* response) override;
  grpc::ServerUnaryReactor* MatchSeekers(grpc::CallbackServerContext* ctx,
                                         const v1::MatchSeekersRequest* request,
                                         v1::MatchSeekersResponse* response) override;

  grpc::ServerUnaryReactor* CreatePlacement(grpc::CallbackServerContext* ctx,
                                            const v1::CreatePlacementRequest* request,
                                            v1::PlacementRecord* response) override;
  grpc::ServerUnaryReactor* RecordRetention(grpc::CallbackServerContext* ctx,
                                            const v1::RecordRetentionRequest* request,
                                            v1::PlacementRecord* response) override;
  grpc::ServerUnaryReactor* GetPlacement(grpc::CallbackServerContext* ctx,
                                         const v1::GetPlacementRequest* request,
                                         v1::PlacementRecord* response) override;
  grpc::ServerUnaryReactor* ListPlacements(grpc::CallbackServerContext* ctx,
                                           const v1::ListPlacementsRequest* request,
                                           v1::ListPlacementsResponse* response) override;
  grpc::ServerUnaryReactor* ListDueRetentionChecks(
      grpc::CallbackServerContext* ctx, const v1::ListDueRetentionChecksRequest* request,
      v1::ListDueRetentionChecksResponse* response) override;

  grpc::ServerUnaryReactor* ListSubsidyTiers(grpc::CallbackServerContext* ctx,
                                             const v1::ListSubsidyTiersRequest* request,
                                             v1::ListSubsidyTiersResponse* response) override;
  grpc::ServerUnaryReactor* FileSubsidyClaim(grpc::CallbackServerContext* ctx,
                                             const v1::FileSubsidyClaimRequest* request,
                                             v1::SubsidyClaim* response) override;
  grpc::ServerUnaryReactor* DecideSubsidyClaim(grpc::CallbackServerContext* ctx,
                                               const v1::DecideSubsidyClaimRequest* request,
                                               v1::SubsidyClaim* response) override;
  grpc::ServerUnaryReactor* ListSubsidyClaims(grpc::CallbackServerContext* ctx,
                                              const v1::ListSubsidyClaimsRequest* request,
                                              v1::ListSubsidyClaimsResponse* response) override;

  grpc::ServerReadReactor<v1::ImportRegistrationsChunk>* ImportRegistrations(
      grpc::CallbackServerContext* ctx, v1::ImportResult* response) override;
  grpc::ServerWriteReactor<v1::ExportOutcomesChunk>* ExportOutcomes(
      grpc::CallbackServerContext* ctx, const v1::ExportOutcomesRequest* request) override;

  grpc::ServerUnaryReactor* ReconcileRetention(
      grpc::CallbackServerContext* ctx, const v1::ReconcileRetentionRequest* request,
      v1::ReconcileRetentionResponse* response) override;

  grpc::ServerUnaryReactor* GetOutcomeMetrics(grpc::CallbackServerContext* ctx,
                                              const v1::GetOutcomeMetricsRequest* request,
                                              v1::OutcomeMetrics* response) override;

 private:
  using MutationFn = std::function<absl::Status(Transaction&, absl::Time now,
                                                std::string* audit_case_id,
                                                ProgramStatusRecord* status)>;
  using ReadFn = std::function<absl::Status(ReadTransaction&, std::vector<std::string>* cases)>;

  // Authorises, runs `body`, clears treatment detail for outside roles, finishes.
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx,
                                  google::protobuf::Message* response,
                                  std::initializer_list<Role> roles,
                                  const std::function<absl::Status(const Caller&)>& body);
  // A write through RunMutation; publishes the saved programme status after the commit.
  absl::Status Mutate(grpc::CallbackServerContext* ctx, const Caller& caller,
                      const char* method, const google::protobuf::Message& request,
                      google::protobuf::Message* response, const MutationFn& fn);
  // A read, audited once per case it returned (or once without a case).
  absl::Status ReadAudited(const Caller& caller, const char* method, const ReadFn& fn);
  // The registry must have issued the case (NOT_FOUND as CaseNotFound); its facts.
  absl::StatusOr<registry::v1::CaseFacts> CheckCase(absl::string_view case_id);
  // The registry's scope of the case (DESIGN.md §6) for the roles it decides: nullopt for
  // the service role, whose hand-offs act on another service's behalf, and for labor
  // bureau and employer tokens, which keep their own rules and never name a case.
  // INVALID_ARGUMENT for a malformed id; NOT_FOUND is CaseNotFound(); UNAVAILABLE when
  // the registry cannot tell. Called outside any transaction.
  absl::StatusOr<std::optional<CaseScope>> ScopeOf(const Caller& caller,
                                                   absl::string_view case_id);
  // The same for the case a placement belongs to; CaseNotFound("placement") when there
  // is no such placement or the registry does not know its case.
  absl::StatusOr<std::optional<CaseScope>> PlacementScopeOf(const Caller& caller,
                                                            int64_t placement_id);
  // ScopeOf for a write that reads the status view first: also checks that the caller
  // sees the case's seeker, so an unseen case is never looked up; a refusal is audited
  // as the outcome of `method`.
  absl::StatusOr<std::optional<CaseScope>> SeenForWrite(grpc::CallbackServerContext* ctx,
                                                        const Caller& caller, const char* method,
                                                        const google::protobuf::Message& request,
                                                        google::protobuf::Message* response,
                                                        const std::string& case_id);
  // Fetches the labor exchange index from the registry for up to
  // kLaborIndexBackfillPerCall seekers in the caller's scope that lack it, and stores
  // them (one RunMutation); the count stored. A registry outage stops it quietly.
  absl::StatusOr<int64_t> BackfillLaborIndex(grpc::CallbackServerContext* ctx,
                                             const Caller& caller,
                                             const v1::ReconcileRetentionRequest& request);
  // Eligibility from the status cache (never from the caller); UNAVAILABLE when the
  // cache cannot tell.
  absl::StatusOr<EligibilityDecision> Eligibility(absl::string_view case_id,
                                                  absl::CivilDay as_of);
  absl::CivilDay Today() const;

  ServiceRuntime* runtime_;  // not owned
  std::unique_ptr<PlacementLogic> logic_;
};

}  // namespace placement
}  // namespace pathway

#endif  // PATHWAY_SERVICES_PLACEMENT_PLACEMENT_SERVICE_H_
