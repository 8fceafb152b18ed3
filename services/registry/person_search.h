// Finding a person in the registry (Registry.SearchPersons): exact criteria over the
// cases the caller may see, names and phones through their blind indexes
// (search_keys.h), with the count an app shows ("1-50 of 1,234") and a flag for a
// possible duplicate registration. And the start-up backfill that indexes rows
// written before the indexes existed.
//
//   PersonSearchResult found;
//   store.Read([&](ReadTransaction& tx) -> absl::Status {
//     ASSIGN_OR_RETURN(found, SearchPersons(tx, logic, caller, request, today));
//     return absl::OkStatus();
//   });
//
// Scope (DESIGN.md §6): a township caller searches its own cases (its township's and
// those assigned to it, as ListCases) with any criterion. Beyond that - a township
// caller's county (beyond_own_township), or any wider caller's jurisdiction - the
// criteria must single a person out (the full ID number, or name and birth date) and
// at most kMaxHitsBeyondOwnTownship cases come back. A case the caller may not see
// (RegistryLogic::CheckVisible, sealing included) is neither returned nor counted.
//
// Plain functions over the store and the logic; thread-safe as those are.
#ifndef PATHWAY_SERVICES_REGISTRY_PERSON_SEARCH_H_
#define PATHWAY_SERVICES_REGISTRY_PERSON_SEARCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/auth/caller.h"
#include "common/store/store.h"
#include "pathway/registry/v1/registry.pb.h"
#include "services/registry/registry_logic.h"

namespace pathway {
namespace registry {

// The most cases a search beyond the caller's own township returns (and counts).
inline constexpr int kMaxHitsBeyondOwnTownship = 10;
// The most matches a search of one's own township counts (total_size's bound).
inline constexpr int kMaxCountedHits = 10000;
// Page sizes of a search.
inline constexpr int kSearchDefaultPageSize = 50;
inline constexpr int kSearchMaxPageSize = 500;

struct PersonSearchResult {
  struct Hit {
    CaseRecord record;  // decrypted; answer through RegistryLogic::ToProto
    bool possible_duplicate = false;
  };
  std::vector<Hit> hits;
  std::string next_page_token;
  int total_size = 0;
  bool total_size_capped = false;
};

// The kinds of criteria `request` sets, comma-separated in a fixed order (e.g.
// "name,birth_date"): for the audit trail, which never holds their values.
std::string SearchCriteriaKinds(const v1::SearchPersonsRequest& request);

// One search as `caller` on `today`. INVALID_ARGUMENT for no criterion, a malformed
// one (the message names the field, never its value), a search beyond the caller's
// own township that does not single a person out, or a bad page token. Roles are the
// service's business.
absl::StatusOr<PersonSearchResult> SearchPersons(ReadTransaction& tx, const RegistryLogic& logic,
                                                 const Caller& caller,
                                                 const v1::SearchPersonsRequest& request,
                                                 absl::CivilDay today);

// Writes the name and phone indexes of every case that has no name index yet (rows
// registered before registry migration 4), decrypting each through `logic`, in
// transactions of `batch_size` cases. Idempotent and safe to run from several
// replicas at once (the values are deterministic). Returns how many cases it indexed.
absl::StatusOr<int64_t> BackfillPersonSearchIndexes(Store& store, const RegistryLogic& logic,
                                                    int batch_size = 500);

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_PERSON_SEARCH_H_
