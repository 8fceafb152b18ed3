// The case registry's rules (DESIGN.md §2, §3 "Registry status and grading", §6):
// registering a person and minting the case id, exact lookup through the blind
// index, visibility (jurisdiction and sealing), risk grading with history,
// jurisdiction changes (双向管控), control and life status, and the abstinence clock
// (戒毒条例 Art 7). Plain C++ over the store, whose statements are all in the tables
// layer (registry_tables.h); no gRPC types.
//
//   RegistryLogic logic(cipher.get(), RegistryConfig{});
//   store.Write([&](Transaction& tx) -> absl::Status {
//     ASSIGN_OR_RETURN(CaseRecord c, logic.Register(tx, caller, request, clock.Now()));
//     ...
//   });
//
// Thread-safe: stateless apart from the immutable config and cipher (not owned;
// must outlive the logic).
#ifndef PATHWAY_SERVICES_REGISTRY_REGISTRY_LOGIC_H_
#define PATHWAY_SERVICES_REGISTRY_REGISTRY_LOGIC_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/cache/status_cache.h"
#include "common/crypto/pii_cipher.h"
#include "common/ids/resident_id.h"
#include "common/store/store.h"
#include "pathway/registry/v1/registry.pb.h"
#include "services/registry/registry_rules.h"

namespace pathway {
namespace registry {

struct CaseRow;  // registry_tables.h

class RegistryLogic {
 public:
  // `labor_exchange_key`: the key of CaseFacts.labor_exchange_index
  // (DeriveLaborExchangeKey in services/placement/labor_exchange_index.h); empty leaves
  // the index unset.
  RegistryLogic(const PiiCipher* cipher, RegistryConfig config,
                std::string labor_exchange_key = "");

  static std::vector<Migration> Migrations();

  // The cipher and the configuration the logic was built with (for person_search.h).
  const PiiCipher& cipher() const { return *cipher_; }
  const RegistryConfig& config() const { return config_; }

  // A case the caller may see: inside its jurisdiction (household or residence
  // place: both see it, 双向管控) and, once sealed, only for roles with a statutory
  // need. Anything else is CaseNotFound(), the same answer as a missing case.
  absl::Status CheckVisible(const Caller& caller, const CaseRecord& c, absl::CivilDay today) const;

  absl::StatusOr<CaseRecord> Register(Transaction& tx, const Caller& caller,
                                      const v1::RegisterPersonRequest& request,
                                      absl::Time now) const;
  absl::StatusOr<std::optional<CaseRecord>> Load(ReadTransaction& tx,
                                                 absl::string_view case_id) const;
  absl::StatusOr<std::optional<CaseRecord>> FindByResidentId(ReadTransaction& tx,
                                                             absl::string_view normalized) const;
  // Only what CheckVisible needs (case id, divisions, abstinence anchor, open
  // measures): no personal field is read or decrypted. For status reads, which
  // answer with programme status alone.
  absl::StatusOr<std::optional<CaseRecord>> LoadScope(ReadTransaction& tx,
                                                      absl::string_view case_id) const;
  // LoadScope and CheckVisible in one step (NOT_FOUND for both failures); the
  // record holds only the scope fields.
  absl::StatusOr<CaseRecord> LoadScopeVisible(ReadTransaction& tx, const Caller& caller,
                                              absl::string_view case_id,
                                              absl::CivilDay today) const;
  // Loads and checks visibility in one step (NOT_FOUND for both failures).
  absl::StatusOr<CaseRecord> LoadVisible(ReadTransaction& tx, const Caller& caller,
                                         absl::string_view case_id, absl::CivilDay today) const;

  absl::StatusOr<CaseRecord> SetRiskGrade(Transaction& tx, const Caller& caller,
                                          const v1::SetRiskGradeRequest& request,
                                          absl::Time now) const;
  absl::StatusOr<std::vector<v1::RiskGradeChange>> GradeHistory(ReadTransaction& tx,
                                                                absl::string_view case_id) const;
  absl::StatusOr<CaseRecord> ChangeJurisdiction(Transaction& tx, const Caller& caller,
                                                const v1::ChangeJurisdictionRequest& request,
                                                absl::Time now) const;
  // AssignCase: the caller must see the case and cover the township; the change and
  // its reason are recorded in the assignment history. Assigning what is already
  // assigned changes nothing.
  absl::StatusOr<CaseRecord> Assign(Transaction& tx, const Caller& caller,
                                    const v1::AssignCaseRequest& request, absl::Time now) const;
  absl::StatusOr<std::vector<v1::CaseAssignment>> Assignments(ReadTransaction& tx,
                                                              absl::string_view case_id) const;
  absl::StatusOr<CaseRecord> SetStatus(Transaction& tx, const Caller& caller,
                                       const v1::SetStatusRequest& request, absl::Time now) const;
  // Idempotent by (case, source_event_id). NOT_FOUND for an unknown case or one the
  // caller does not see; PERMISSION_DENIED for a measure's start or end from anyone but
  // a service (or admin); INVALID_ARGUMENT for an end dated before the measure began.
  absl::StatusOr<CaseRecord> ReportEvent(Transaction& tx, const Caller& caller,
                                         const v1::ReportEventRequest& request,
                                         absl::Time now) const;

  struct ListPage {
    std::vector<CaseRecord> cases;
    std::string next_page_token;
    // Every case the filters match in the caller's jurisdiction, sealed ones
    // included: an upper bound of what the pages hold.
    int64_t total_bound = 0;
  };
  // Newest first. The programme filter reads the registry's programme index.
  absl::StatusOr<ListPage> List(ReadTransaction& tx, const Caller& caller,
                                const v1::ListCasesRequest& request, absl::CivilDay today) const;

  // The case as `caller` may see it: the ID number in full for police only (masked
  // for the rest), names and contacts only for roles that work with the person.
  void ToProto(const CaseRecord& c, const Caller& caller, absl::CivilDay today,
               v1::Case* out) const;
  // The facts other services need, with the labor exchange index of the ID number
  // (left empty for a sealed case).
  void ToFacts(const CaseRecord& c, absl::CivilDay today, v1::CaseFacts* out) const;

 private:
  absl::Status Save(Transaction& tx, CaseRecord* c, absl::Time now) const;
  absl::StatusOr<CaseRecord> Decode(const CaseRow& row) const;
  bool KnownGrade(absl::string_view grade) const;

  const PiiCipher* cipher_;
  RegistryConfig config_;
  std::string labor_exchange_key_;
};

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_REGISTRY_LOGIC_H_
