// The registry's statements for finding a person (person_search.h): the blind
// indexes of name and phone (registry migration 4), the candidate rows of a search
// (scope fields only, nothing personal), the duplicate check and the rows the
// start-up backfill still has to index. Part of the registry's tables layer, with
// registry_tables.h; portable by the rules of common/store/store.h.
//
// Stateless; thread-safe as the transactions passed in are.
#ifndef PATHWAY_SERVICES_REGISTRY_SEARCH_TABLES_H_
#define PATHWAY_SERVICES_REGISTRY_SEARCH_TABLES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/store/store.h"
#include "services/registry/registry_tables.h"

namespace pathway {
namespace registry {

// Sets the case's name index and phone index (NULL when nullopt).
absl::Status SetPersonSearchIndexes(Transaction& tx, absl::string_view case_id,
                                    const std::string& name_index,
                                    const std::optional<std::string>& phone_index);

// Up to `limit` case ids after `after_case_id` (in case id order) whose name index is
// not set yet: rows written before migration 4.
absl::StatusOr<std::vector<std::string>> CaseIdsWithoutNameIndex(ReadTransaction& tx,
                                                                 absl::string_view after_case_id,
                                                                 int64_t limit);

// The exact criteria of a search, each unset ("" / 0 / nullopt) matching any; the
// position (strictly after (after_us, after_case_id) in newest-first order); and the
// prefilter of the caller's scope: either division under `jurisdiction_prefix`
// (empty: any), and, when scope_township is set, the case is that township's or
// assigned to scope_caseworker. The logic still checks each row's visibility.
struct PersonSearchQuery {
  std::string name_index;
  std::string phone_index;
  std::string id_index;
  std::string case_id;
  std::string risk_grade;
  int64_t control_status = 0;
  std::optional<absl::CivilDay> birth_date;
  std::string jurisdiction_prefix;
  std::string scope_township;
  std::string scope_caseworker;
  int64_t after_us = 0;
  std::string after_case_id;
  int64_t limit = 0;
};

// A matching case's scope fields and registration time: no personal field.
struct PersonSearchCandidate {
  CaseScopeRow scope;
  int64_t created_us = 0;
};

// Up to q.limit matching cases, newest first ((created_us, case_id) descending).
absl::StatusOr<std::vector<PersonSearchCandidate>> FindPersonSearchCandidates(
    ReadTransaction& tx, const PersonSearchQuery& q);

// True if another case has the same name index and birth date as `case_id` and a
// different ID number index.
absl::StatusOr<bool> HasPossibleDuplicate(ReadTransaction& tx, absl::string_view case_id);

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_SEARCH_TABLES_H_
