// The Sunshine placement (阳光工程) use cases over the service's own tables: employers,
// seekers, training, postings, matching, placements and retention, subsidy claims, the
// labor bureau's bulk rows and the outcome metrics. Each function is one transaction's
// work: load through the tables layer (placement_tables.h, the only SQL), apply the
// rules (placement_rules.h, labor_reconcile.h) and the caller's scope, store. Explicit
// `now` / `as_of` and the caller: no gRPC types and no clock.
//
//   PlacementLogic logic({/* subsidy tiers from configuration */}, id_hash_key);
//   absl::Status s = store.Write([&](Transaction& tx) {
//     return logic.RegisterSeeker(tx, caller, now, request, eligibility, &seeker, &status);
//   });
//
// Scoping (DESIGN.md §6): a seeker, placement or claim outside the caller's
// jurisdiction answers exactly as a missing one (CaseNotFound). An employer token
// (organization = its credit code) sees only its own postings, placements and claims,
// whatever its jurisdiction.
//
// Case-keyed functions take `scope`, the registry's CaseScope of the case
// (common/auth/case_scope.h), which the service fetches before the transaction for
// person-facing roles: the caller sees the case if it covers its household or residence
// place or the seeker's county (the executing side), and a sealed case only with a
// statutory need; anything else is CaseNotFound. Only the seeker's county changes the
// seeker's records (PERMISSION_DENIED for another caller who sees the case). With
// `scope` null (the service role's hand-offs; labor bureau and employer tokens, which
// keep their own rules) the caller must cover the seeker's county.
//
// Replies may still carry case ids and fields marked treatment_detail in the proto: the
// service clears them, and shows a suspended placement as active, for labor bureau and
// employer tokens (RedactForOutsideRole).
//
// Every mutating function that changes a seeker or placement fills `status` with the
// programme status it saved in the same transaction (SaveProgramStatus); the caller
// publishes it after the commit.
//
// Immutable after construction; thread-safe (state lives in the store).
#ifndef PATHWAY_SERVICES_PLACEMENT_PLACEMENT_LOGIC_H_
#define PATHWAY_SERVICES_PLACEMENT_PLACEMENT_LOGIC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/auth/case_scope.h"
#include "common/program_status/program_status.h"
#include "common/store/store.h"
#include "google/protobuf/message.h"
#include "pathway/placement/v1/placement.pb.h"
#include "services/placement/placement_rules.h"
#include "services/placement/placement_tables.h"

namespace pathway {
namespace placement {

// Page sizes of the list RPCs.
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;
// Matching results.
inline constexpr int kDefaultMatches = 20;
inline constexpr int kMaxMatches = 100;
// Bulk exchange: rows per stream message (a row is at most about 2 KiB, so a chunk
// stays far below the 8 MiB message limit), rows per store transaction, and how many
// row errors a reply lists.
inline constexpr int kMaxRowsPerChunk = 1000;
inline constexpr int kImportCommitRows = 5000;
inline constexpr int kMaxReportedRowErrors = 10000;
// Seekers whose labor exchange index one reconciliation call fetches from the registry.
inline constexpr int kLaborIndexBackfillPerCall = 500;
// Export chunks.
inline constexpr int kDefaultExportRows = 500;
inline constexpr int kMaxExportRows = 1000;

// True for the roles that never see treatment history: labor bureau and employer.
bool IsOutsideRole(const Caller& caller);

// Clears, recursively, every field of `message` marked [(treatment_detail) = true].
void RedactTreatmentDetail(google::protobuf::Message* message);

// What a labor bureau or employer token receives (placement.proto, "The privacy
// firewall"): RedactTreatmentDetail (case ids included), and every PlacementState
// SUSPENDED shown as ACTIVE, the state the placement had.
void RedactForOutsideRole(google::protobuf::Message* message);

// A validated import row, ready to write.
struct PostingRowToWrite {
  v1::Posting posting;    // source LABOR_BUREAU, source_record_id set
  std::string content_hash;
};
// A validated registration row is written as it is stored: RegistrationRowToWrite
// (placement_tables.h).
struct ImportCounts {
  int64_t imported = 0;
  int64_t updated = 0;
  int64_t unchanged = 0;
};

class PlacementLogic {
 public:
  // `tiers`: the configured subsidy tiers. `id_hash_key`: the HMAC key for resident ID
  // numbers in labor bureau registrations (at least 32 bytes; configuration).
  PlacementLogic(std::vector<v1::SubsidyTier> tiers, std::string id_hash_key);

  // ---- Employers ----
  absl::Status UpsertEmployer(Transaction& tx, const Caller& caller, absl::Time now,
                              const v1::Employer& employer, v1::Employer* out) const;
  absl::Status GetEmployer(ReadTransaction& tx, const Caller& caller,
                           absl::string_view credit_code, v1::Employer* out) const;
  absl::Status ListEmployers(ReadTransaction& tx, const Caller& caller,
                             const v1::ListEmployersRequest& request,
                             v1::ListEmployersResponse* out) const;

  // ---- Seekers ----
  // Field checks that need neither the registry nor the store (run first).
  absl::Status ValidateRegisterSeeker(const Caller& caller,
                                      const v1::RegisterSeekerRequest& request,
                                      absl::CivilDay today) const;
  // `labor_exchange_index`: the registry's CaseFacts.labor_exchange_index (may be
  // empty: then the reconciliation backfills it later).
  absl::Status RegisterSeeker(Transaction& tx, const Caller& caller, absl::Time now,
                              const v1::RegisterSeekerRequest& request, const CaseScope& scope,
                              const EligibilityDecision& eligibility,
                              absl::string_view labor_exchange_index, v1::Seeker* out,
                              ProgramStatusRecord* status) const;
  absl::Status UpdateSeeker(Transaction& tx, const Caller& caller, absl::Time now,
                            const v1::UpdateSeekerRequest& request, const CaseScope* scope,
                            v1::Seeker* out) const;
  absl::Status GetSeeker(ReadTransaction& tx, const Caller& caller, absl::string_view case_id,
                         const CaseScope* scope, v1::Seeker* out) const;
  absl::Status ListSeekers(ReadTransaction& tx, const Caller& caller,
                           const v1::ListSeekersRequest& request,
                           v1::ListSeekersResponse* out) const;

  enum class SeekerChangeKind { kSuspend, kResume, kClose };
  // Suspends, resumes or closes a seeker with their open placement (the isolation
  // hand-off's operations). Repeating a change that already holds answers OK unchanged.
  absl::Status ChangeSeeker(Transaction& tx, const Caller& caller, absl::Time now,
                            SeekerChangeKind kind, absl::string_view case_id,
                            const common::v1::Date& effective_on, absl::string_view reason,
                            const CaseScope* scope, v1::SeekerChange* out,
                            ProgramStatusRecord* status) const;

  // ---- Training ----
  // `eligibility`: decided from the status cache on the training's start date.
  absl::Status RecordTraining(Transaction& tx, const Caller& caller, absl::Time now,
                              const v1::RecordTrainingRequest& request, const CaseScope* scope,
                              const EligibilityDecision& eligibility, v1::Training* out,
                              ProgramStatusRecord* status) const;
  absl::Status ListTrainings(ReadTransaction& tx, const Caller& caller,
                             absl::string_view case_id, const CaseScope* scope,
                             v1::ListTrainingsResponse* out) const;

  // ---- Postings ----
  absl::Status CreatePosting(Transaction& tx, const Caller& caller, absl::Time now,
                             const v1::Posting& posting, v1::Posting* out) const;
  absl::Status GetPosting(ReadTransaction& tx, const Caller& caller, int64_t posting_id,
                          v1::Posting* out) const;
  absl::Status ListPostings(ReadTransaction& tx, const Caller& caller,
                            const v1::ListPostingsRequest& request,
                            v1::ListPostingsResponse* out) const;

  // ---- Labor bureau imports ----
  // Validates one row on its own (no store access); on failure fills *error's field
  // and reason.
  bool ValidatePostingRow(const Caller& caller, const v1::PostingRow& row, absl::CivilDay today,
                          PostingRowToWrite* out, v1::RowError* error) const;
  bool ValidateRegistrationRow(const Caller& caller, const v1::RegistrationRow& row,
                               absl::CivilDay today, RegistrationRowToWrite* out,
                               v1::RowError* error) const;
  // Writes validated rows in the caller's transaction: new, updated or unchanged by
  // record_id (a re-sent row with the same content changes nothing). *counts is set to
  // this batch's counts (not added to), so the store may run the write again.
  absl::Status ApplyPostingRows(Transaction& tx, absl::Time now,
                                const std::vector<PostingRowToWrite>& rows,
                                ImportCounts* counts) const;
  absl::Status ApplyRegistrationRows(Transaction& tx, absl::Time now,
                                     const std::vector<RegistrationRowToWrite>& rows,
                                     ImportCounts* counts) const;
  // What ApplyPostingRows would do, without writing (validate_only); sets *counts.
  absl::Status ClassifyPostingRows(ReadTransaction& tx, const std::vector<PostingRowToWrite>& rows,
                                   ImportCounts* counts) const;
  absl::Status ClassifyRegistrationRows(ReadTransaction& tx,
                                        const std::vector<RegistrationRowToWrite>& rows,
                                        ImportCounts* counts) const;

  // ---- Matching ----
  // `eligibility` decided from the status cache on as_of.
  absl::Status MatchPostings(ReadTransaction& tx, const Caller& caller,
                             const v1::MatchPostingsRequest& request, absl::CivilDay as_of,
                             const CaseScope* scope, const EligibilityDecision& eligibility,
                             v1::MatchPostingsResponse* out) const;
  absl::Status MatchSeekers(ReadTransaction& tx, const Caller& caller,
                            const v1::MatchSeekersRequest& request, absl::CivilDay today,
                            v1::MatchSeekersResponse* out) const;

  // ---- Placements and retention ----
  absl::Status CreatePlacement(Transaction& tx, const Caller& caller, absl::Time now,
                               const v1::CreatePlacementRequest& request, const CaseScope* scope,
                               const EligibilityDecision& eligibility,
                               v1::PlacementRecord* out, ProgramStatusRecord* status) const;
  absl::Status RecordRetention(Transaction& tx, const Caller& caller, absl::Time now,
                               const v1::RecordRetentionRequest& request, const CaseScope* scope,
                               v1::PlacementRecord* out, ProgramStatusRecord* status) const;
  absl::Status GetPlacement(ReadTransaction& tx, const Caller& caller, int64_t placement_id,
                            const CaseScope* scope, v1::PlacementRecord* out) const;
  // The case a placement belongs to ("" if there is no such placement): what the service
  // asks the registry's scope of before a placement-keyed call.
  absl::StatusOr<std::string> PlacementCaseId(ReadTransaction& tx, int64_t placement_id) const;
  // `scope`: the registry's scope of request.case_id when that filter is set.
  absl::Status ListPlacements(ReadTransaction& tx, const Caller& caller,
                              const v1::ListPlacementsRequest& request, const CaseScope* scope,
                              v1::ListPlacementsResponse* out) const;
  absl::Status ListDueRetentionChecks(ReadTransaction& tx, const Caller& caller,
                                      absl::CivilDay as_of,
                                      const common::v1::PageRequest& page,
                                      v1::ListDueRetentionChecksResponse* out) const;

  // ---- Subsidies ----
  const std::vector<v1::SubsidyTier>& tiers() const { return tiers_; }
  absl::Status FileSubsidyClaim(Transaction& tx, const Caller& caller, absl::Time now,
                                const v1::FileSubsidyClaimRequest& request,
                                v1::SubsidyClaim* out) const;
  absl::Status DecideSubsidyClaim(Transaction& tx, const Caller& caller, absl::Time now,
                                  const v1::DecideSubsidyClaimRequest& request,
                                  v1::SubsidyClaim* out) const;
  absl::Status ListSubsidyClaims(ReadTransaction& tx, const Caller& caller,
                                 const v1::ListSubsidyClaimsRequest& request,
                                 v1::ListSubsidyClaimsResponse* out) const;

  // ---- Export and metrics ----
  // One chunk of outcomes with placement id > after_id; *last_id is the last one
  // written (unchanged when the chunk is empty).
  absl::Status ExportOutcomes(ReadTransaction& tx, const Caller& caller, absl::CivilDay start,
                              absl::CivilDay end, int64_t after_id, int limit,
                              v1::ExportOutcomesChunk* out, int64_t* last_id) const;
  absl::Status GetOutcomeMetrics(ReadTransaction& tx, const Caller& caller,
                                 const v1::GetOutcomeMetricsRequest& request,
                                 absl::CivilDay today, v1::OutcomeMetrics* out) const;

  // ---- Labor bureau reconciliation ----
  // Seekers in the caller's jurisdiction with a placement whose labor exchange index was
  // never fetched, by case id, at most `limit`.
  absl::Status SeekersMissingLaborIndex(ReadTransaction& tx, const Caller& caller, int limit,
                                        std::vector<std::string>* case_ids) const;
  // Stores fetched indices (case id, index); an empty index records "the registry has
  // none" so it is not asked again.
  absl::Status StoreLaborIndices(
      Transaction& tx, const std::vector<std::pair<std::string, std::string>>& indices) const;
  // One page of discrepancies between retention checkpoints and the labor bureau's
  // registrations as of `as_of` (rules: labor_reconcile.h), placements in the caller's
  // jurisdiction by id; for a labor bureau token only those whose seeker consented to
  // sharing with it. Rows still carry the case id (the service redacts it).
  absl::Status ReconcileRetention(ReadTransaction& tx, const Caller& caller, absl::CivilDay as_of,
                                  const common::v1::PageRequest& page,
                                  v1::ReconcileRetentionResponse* out) const;

  // The keyed hash kept for a resident ID number (HMAC-SHA-256, 32 bytes; the labor
  // exchange index, services/placement/labor_exchange_index.h).
  std::string IdHash(absl::string_view normalized_id_number) const;

  // The seeker's reference for one posting (SeekerSummary.seeker_ref): "ref-" and 32 hex
  // digits of a keyed hash of posting and case; it holds no case id and differs per
  // posting.
  std::string SeekerRef(int64_t posting_id, absl::string_view case_id) const;

 private:
  std::vector<v1::SubsidyTier> tiers_;
  std::string id_hash_key_;
  std::string seeker_ref_key_;  // derived from id_hash_key_, for SeekerRef only
};

}  // namespace placement
}  // namespace pathway

#endif  // PATHWAY_SERVICES_PLACEMENT_PLACEMENT_LOGIC_H_
