// The placement service's tables (component "placement"): the only code of the service
// that holds SQL. Typed rows in and out: employers, seekers, trainings, postings,
// placements with their retention checkpoints, the labor bureau's registrations and
// subsidy claims, plus the schema (PlacementTableMigrations). No rule of the programme
// is decided here; placement_logic.h loads, applies the rules of placement_rules.h and
// labor_reconcile.h, and stores through these functions, one transaction per use case.
//
//   ASSIGN_OR_RETURN(std::optional<SeekerRow> seeker, LoadSeeker(tx, case_id));
//   if (!seeker.has_value()) return CaseNotFound();
//   seeker->seeker.set_state(v1::SEEKER_STATE_SUSPENDED);
//   RETURN_IF_ERROR(SaveSeeker(tx, now, *seeker));
//
// Every statement is portable SQL (common/store/store.h). Dates are stored as DayText
// ("YYYY-MM-DD", which sorts as dates do), times as Unix microseconds, lists of tags or
// ids as comma-separated text, booleans as 0/1. A division filter is a prefix of the
// 6-digit county code ("" for all, "5201" for a city).
//
// Write functions assign what they hand out (a store may run a Write more than once).
// Stateless; thread-safe as the store's transactions are.
#ifndef PATHWAY_SERVICES_PLACEMENT_PLACEMENT_TABLES_H_
#define PATHWAY_SERVICES_PLACEMENT_PLACEMENT_TABLES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/store/store.h"
#include "pathway/placement/v1/placement.pb.h"
#include "services/placement/labor_reconcile.h"
#include "services/placement/placement_rules.h"

namespace pathway {
namespace placement {

// The service's own tables (component "placement").
std::vector<Migration> PlacementTableMigrations();

// ---------------------------------------------------------------- employers

absl::StatusOr<std::optional<v1::Employer>> LoadEmployer(ReadTransaction& tx,
                                                         absl::string_view credit_code);
// The employer's kind; UNSPECIFIED for an empty code or an unknown employer.
absl::StatusOr<v1::EmployerKind> LoadEmployerKind(ReadTransaction& tx,
                                                  absl::string_view credit_code);
// Inserts or replaces the employer by credit code, updated_at = now.
absl::Status SaveEmployer(Transaction& tx, absl::Time now, const v1::Employer& employer);

struct EmployerFilter {
  std::string after_credit_code;  // exclusive; "" from the start
  std::string scope_prefix;       // the caller's jurisdiction; "": any
  std::string division_prefix;
  v1::EmployerKind kind = v1::EMPLOYER_KIND_UNSPECIFIED;  // UNSPECIFIED: any
  std::string credit_code;        // "": any
  int limit = 0;
};
// Employers matching `filter` by credit code, at most filter.limit.
absl::StatusOr<std::vector<v1::Employer>> SelectEmployers(ReadTransaction& tx,
                                                          const EmployerFilter& filter);
// How many employers match `filter`, keyset and limit ignored (same WHERE as the page).
absl::StatusOr<int64_t> CountEmployers(ReadTransaction& tx, const EmployerFilter& filter);

// ---------------------------------------------------------------- seekers

// A seeker as stored: the record and the state a resumption returns to (0 when not
// suspended). The labor exchange index is kept apart (LoadSeekerLaborIndex).
struct SeekerRow {
  v1::Seeker seeker;
  int resume_state = 0;
};

absl::StatusOr<std::optional<SeekerRow>> LoadSeeker(ReadTransaction& tx,
                                                    absl::string_view case_id);
// Inserts or replaces the seeker by case id, updated_at = now; the labor exchange index
// stays as it was.
absl::Status SaveSeeker(Transaction& tx, absl::Time now, const SeekerRow& row);

// The stored labor exchange index of the seeker's ID number: nullopt when never fetched
// (or no such seeker), "" when the registry has none.
absl::StatusOr<std::optional<std::string>> LoadSeekerLaborIndex(ReadTransaction& tx,
                                                                absl::string_view case_id);
absl::Status SaveSeekerLaborIndex(Transaction& tx, absl::string_view case_id,
                                  absl::string_view index);

struct SeekerFilter {
  std::string after_case_id;  // exclusive; "" from the start
  std::string division_prefix;
  v1::SeekerState state = v1::SEEKER_STATE_UNSPECIFIED;  // UNSPECIFIED: any
  int limit = 0;
};
// Seekers matching `filter` by case id, at most filter.limit.
absl::StatusOr<std::vector<SeekerRow>> SelectSeekers(ReadTransaction& tx,
                                                     const SeekerFilter& filter);
// How many seekers match `filter`, keyset and limit ignored.
absl::StatusOr<int64_t> CountSeekers(ReadTransaction& tx, const SeekerFilter& filter);
// Streams the seekers of `division_prefix` in `state` with `eligibility`, in no order;
// fn returns false to stop.
absl::Status ScanSeekers(ReadTransaction& tx, absl::string_view division_prefix,
                         v1::SeekerState state, v1::Eligibility eligibility,
                         const std::function<bool(const v1::Seeker&)>& fn);
// Case ids of seekers of `division_prefix` with a placement whose labor exchange index
// was never fetched, by case id, at most `limit`.
absl::StatusOr<std::vector<std::string>> SelectSeekersMissingLaborIndex(
    ReadTransaction& tx, absl::string_view division_prefix, int limit);

struct SeekerCounts {
  int64_t registered = 0;  // registered in the period
  int64_t placed = 0;      // of those, with a placement starting by the period's end
};
absl::StatusOr<SeekerCounts> CountSeekersRegistered(ReadTransaction& tx,
                                                    absl::string_view division_prefix,
                                                    absl::CivilDay from, absl::CivilDay to);

// ---------------------------------------------------------------- trainings

// Inserts the training (its id is ignored), recorded_at = now; returns the new id.
absl::StatusOr<int64_t> InsertTraining(Transaction& tx, absl::Time now,
                                       const v1::Training& training);
// The case's trainings by id.
absl::StatusOr<std::vector<v1::Training>> SelectTrainings(ReadTransaction& tx,
                                                          absl::string_view case_id);

// ---------------------------------------------------------------- postings

// Inserts the posting (its id is ignored; an empty source_record_id is stored as none);
// returns the new id.
absl::StatusOr<int64_t> InsertPosting(Transaction& tx, absl::Time now, const v1::Posting& posting,
                                      const std::string& content_hash);
absl::StatusOr<std::optional<v1::Posting>> LoadPosting(ReadTransaction& tx, int64_t posting_id);

// A labor bureau posting as stored, found by the bureau's record id.
struct ImportedPosting {
  int64_t posting_id = 0;
  std::string content_hash;
};
absl::StatusOr<std::optional<ImportedPosting>> LoadImportedPosting(
    ReadTransaction& tx, absl::string_view source_record_id);
// The imported postings whose record ids are among `source_record_ids`, keyed by
// record id; a few statements for any number of ids.
absl::StatusOr<std::map<std::string, ImportedPosting>> LoadImportedPostings(
    ReadTransaction& tx, const std::vector<std::string>& source_record_ids);
// One imported posting to insert with its content hash; both not owned.
struct ImportedPostingToInsert {
  const v1::Posting* posting = nullptr;
  const std::string* content_hash = nullptr;
};
// As InsertPosting for labor bureau rows, whose ids nobody needs (bulk imports):
// inserted in order, many to a statement.
absl::Status InsertImportedPostings(Transaction& tx, absl::Time now,
                                    const std::vector<ImportedPostingToInsert>& postings);
// Replaces the content of posting `posting_id` (not its source or record id).
absl::Status UpdateImportedPosting(Transaction& tx, absl::Time now, int64_t posting_id,
                                   const v1::Posting& posting, const std::string& content_hash);
// One opening of the posting is taken.
absl::Status TakePostingOpening(Transaction& tx, int64_t posting_id);

struct PostingFilter {
  int64_t after_id = 0;  // exclusive
  std::string division_prefix;
  std::string employer;                   // "": any
  std::optional<absl::CivilDay> open_on;  // valid on that day
  int limit = 0;
};
// Postings matching `filter` by id, at most filter.limit.
absl::StatusOr<std::vector<v1::Posting>> SelectPostings(ReadTransaction& tx,
                                                        const PostingFilter& filter);
// How many postings match `filter`, keyset and limit ignored.
absl::StatusOr<int64_t> CountPostings(ReadTransaction& tx, const PostingFilter& filter);
// Streams the postings of `division_prefix` with openings left that are valid on `day`,
// with their employer's kind (UNSPECIFIED for an unknown employer), in no order; fn
// returns false to stop.
absl::Status ScanOpenPostings(
    ReadTransaction& tx, absl::string_view division_prefix, absl::CivilDay day,
    const std::function<bool(const v1::Posting&, v1::EmployerKind)>& fn);

// ---------------------------------------------------------------- placements

// Inserts the placement's own fields (its id and checkpoints are ignored); returns the
// new id. created_at = now.
absl::StatusOr<int64_t> InsertPlacement(Transaction& tx, absl::Time now,
                                        const v1::PlacementRecord& placement);
// Inserts the placement's checkpoints, none recorded yet.
absl::Status InsertRetentionCheckpoints(Transaction& tx, int64_t placement_id,
                                        const std::vector<Checkpoint>& checkpoints);
// The placement with its checkpoints by months.
absl::StatusOr<std::optional<v1::PlacementRecord>> LoadPlacement(ReadTransaction& tx,
                                                                 int64_t placement_id);
// Replaces placement->checkpoints() with the stored ones of placement->placement_id().
absl::Status LoadRetentionCheckpoints(ReadTransaction& tx, v1::PlacementRecord* placement);
// The case the placement belongs to; "" when there is no such placement.
absl::StatusOr<std::string> LoadPlacementCaseId(ReadTransaction& tx, int64_t placement_id);
// The case's newest open (active or suspended) placement; 0 when none.
absl::StatusOr<int64_t> LoadOpenPlacementId(ReadTransaction& tx, absl::string_view case_id);
// The earliest due date of an unrecorded checkpoint of the case's active placements.
absl::StatusOr<std::optional<absl::CivilDay>> LoadNextRetentionDue(ReadTransaction& tx,
                                                                   absl::string_view case_id);

absl::Status SavePlacementState(Transaction& tx, int64_t placement_id, v1::PlacementState state,
                                absl::string_view reason);
// Ends the placement on `ended_on`; `reason` replaces the state reason when given.
absl::Status SavePlacementEnded(Transaction& tx, int64_t placement_id, absl::CivilDay ended_on,
                                std::optional<std::string> reason);
// Records a checkpoint's outcome.
absl::Status SaveRetentionOutcome(Transaction& tx, int64_t placement_id, int months,
                                  v1::RetentionOutcome outcome, absl::CivilDay checked_on);
// Unrecorded checkpoints due after `day` lapse.
absl::Status LapseRetentionChecksDueAfter(Transaction& tx, int64_t placement_id,
                                          absl::CivilDay day);
// Unrecorded checkpoints later than `months` lapse.
absl::Status LapseRetentionChecksAfterMonths(Transaction& tx, int64_t placement_id, int months);

struct PlacementFilter {
  int64_t after_id = 0;  // exclusive
  std::string division_prefix;
  std::string employer;  // "": any
  std::string case_id;   // "": any
  // 0: any state; otherwise state or also_state.
  int64_t state = 0;
  int64_t also_state = 0;
  int limit = 0;
};
// Placements (with checkpoints) matching `filter` by id, at most filter.limit.
absl::StatusOr<std::vector<v1::PlacementRecord>> SelectPlacements(ReadTransaction& tx,
                                                                  const PlacementFilter& filter);
// How many placements match `filter`, keyset and limit ignored.
absl::StatusOr<int64_t> CountPlacements(ReadTransaction& tx, const PlacementFilter& filter);
// Placements (with checkpoints) of `division_prefix` with id > after_id whose contract
// starts in [from, to], by id, at most `limit`.
absl::StatusOr<std::vector<v1::PlacementRecord>> SelectPlacementsStarting(
    ReadTransaction& tx, absl::string_view division_prefix, absl::CivilDay from,
    absl::CivilDay to, int64_t after_id, int limit);

// An unrecorded checkpoint that has come due.
struct DueCheckRow {
  int64_t placement_id = 0;
  std::string case_id;
  std::string employer;
  int months = 0;
  std::optional<absl::CivilDay> due_on;     // nullopt only for a malformed stored date
  std::optional<absl::CivilDay> record_by;
};
struct DueCheckFilter {
  absl::CivilDay as_of;  // due on or before
  // Placements in either state.
  int64_t state = 0;
  int64_t also_state = 0;
  std::string division_prefix;
  std::string employer;  // "": any
  // Keyset: items after (due_on, placement_id, months); after_due "" from the start.
  std::string after_due;
  int64_t after_placement_id = 0;
  int64_t after_months = 0;
  int limit = 0;
};
// Due checkpoints by (due_on, placement_id, months), at most filter.limit.
absl::StatusOr<std::vector<DueCheckRow>> SelectDueRetentionChecks(ReadTransaction& tx,
                                                                  const DueCheckFilter& filter);
// How many due checkpoints match `filter`, keyset and limit ignored.
absl::StatusOr<int64_t> CountDueRetentionChecks(ReadTransaction& tx,
                                                const DueCheckFilter& filter);

// A placement a subsidy claim may count: its contract dates.
struct ClaimablePlacement {
  int64_t placement_id = 0;
  std::optional<absl::CivilDay> contract_start;
  std::optional<absl::CivilDay> contract_end;
};
// The employer's placements whose contract starts in [from, to] and that no claim for
// `tier` in another state than REJECTED counts yet, by id.
absl::StatusOr<std::vector<ClaimablePlacement>> SelectClaimablePlacements(
    ReadTransaction& tx, absl::string_view employer, absl::CivilDay from, absl::CivilDay to,
    absl::string_view tier);
// The recorded outcome of the placement's checkpoint; nullopt when there is none.
absl::StatusOr<std::optional<v1::RetentionOutcome>> LoadRetentionOutcome(ReadTransaction& tx,
                                                                         int64_t placement_id,
                                                                         int months);

// A placement to reconcile with its seeker's labor exchange index and consent.
struct ReconcileRow {
  v1::PlacementRecord placement;  // without checkpoints (LoadRetentionCheckpoints)
  std::string labor_index;        // "" when not fetched or none
  std::vector<v1::ConsentScope> consent_scopes;
};
// Placements of `division_prefix` with id >= from_id whose contract starts on or before
// `as_of`, by id, at most `limit`.
absl::StatusOr<std::vector<ReconcileRow>> SelectPlacementsToReconcile(
    ReadTransaction& tx, absl::string_view division_prefix, absl::CivilDay as_of,
    int64_t from_id, int limit);

struct PlacementCounts {
  int64_t placements = 0;
  int64_t one_year_or_more = 0;
};
// Placements of `division_prefix` whose contract starts in [from, to].
absl::StatusOr<PlacementCounts> CountPlacementsStarting(ReadTransaction& tx,
                                                        absl::string_view division_prefix,
                                                        absl::CivilDay from, absl::CivilDay to);
// Of those placements, how many `months` checkpoints hold each outcome.
absl::StatusOr<std::vector<std::pair<v1::RetentionOutcome, int64_t>>> CountRetentionOutcomes(
    ReadTransaction& tx, absl::string_view division_prefix, absl::CivilDay from,
    absl::CivilDay to, int months);
// Of those placements, how many `months` checkpoints lapsed on a placement left at an
// earlier checkpoint.
absl::StatusOr<int64_t> CountLapsedAfterLeaving(ReadTransaction& tx,
                                                absl::string_view division_prefix,
                                                absl::CivilDay from, absl::CivilDay to,
                                                int months);

// ---------------------------------------------------------------- labor registrations

// One labor bureau registration as stored.
struct RegistrationRowToWrite {
  std::string record_id;
  int kind = 0;
  std::string id_hash;    // HMAC-SHA-256 of the ID number; never the number
  std::string employer;
  std::string division;
  std::string registered_on;  // DayText
  std::string content_hash;
};
// The stored content hash of a registration; nullopt when there is none.
absl::StatusOr<std::optional<std::string>> LoadLaborRegistrationHash(ReadTransaction& tx,
                                                                     absl::string_view record_id);
absl::StatusOr<std::optional<RegistrationRowToWrite>> LoadLaborRegistration(
    ReadTransaction& tx, absl::string_view record_id);
// Inserts or replaces the registration by record id, imported_at = now.
absl::Status SaveLaborRegistration(Transaction& tx, absl::Time now,
                                   const RegistrationRowToWrite& row);
// The registrations of `id_hash` registered on or before `as_of`, by date and record id.
absl::StatusOr<std::vector<BureauRecord>> SelectLaborRegistrations(ReadTransaction& tx,
                                                                   absl::string_view id_hash,
                                                                   absl::CivilDay as_of);

// ---------------------------------------------------------------- subsidy claims

// Inserts the claim (its id and decided_at are ignored) with the placements it counts
// for its tier; filed_at = now. Returns the new id.
absl::StatusOr<int64_t> InsertSubsidyClaim(Transaction& tx, absl::Time now,
                                           const v1::SubsidyClaim& claim);
absl::StatusOr<std::optional<v1::SubsidyClaim>> LoadSubsidyClaim(ReadTransaction& tx,
                                                                 int64_t claim_id);
absl::Status SaveClaimDecision(Transaction& tx, absl::Time now, int64_t claim_id,
                               v1::ClaimState state, absl::string_view note);

struct ClaimFilter {
  int64_t after_id = 0;  // exclusive
  std::string division_prefix;
  std::string employer;  // "": any
  v1::ClaimState state = v1::CLAIM_STATE_UNSPECIFIED;  // UNSPECIFIED: any
  int limit = 0;
};
// Claims matching `filter` by id, at most filter.limit.
absl::StatusOr<std::vector<v1::SubsidyClaim>> SelectSubsidyClaims(ReadTransaction& tx,
                                                                  const ClaimFilter& filter);
// How many claims match `filter`, keyset and limit ignored.
absl::StatusOr<int64_t> CountSubsidyClaims(ReadTransaction& tx, const ClaimFilter& filter);

// ---------------------------------------------------------------- sizes

// Rows per table, for operators and tests.
struct PlacementTableSizes {
  int64_t employers = 0;
  int64_t seekers = 0;
  int64_t trainings = 0;
  int64_t postings = 0;
  int64_t placements = 0;
  int64_t labor_registrations = 0;
  int64_t subsidy_claims = 0;
};
absl::StatusOr<PlacementTableSizes> CountTableRows(ReadTransaction& tx);

}  // namespace placement
}  // namespace pathway

#endif  // PATHWAY_SERVICES_PLACEMENT_PLACEMENT_TABLES_H_
