// How the programme services talk to the case registry: accept a case id only once
// the registry has issued it (DESIGN.md §2) and learn the facts legal guards need
// (divisions, birth date, sex), and report what moves the abstinence clock
// (positive tests, measures starting and ending; 戒毒条例 Art 7).
//
//   ASSIGN_OR_RETURN(registry::v1::CaseFacts facts, registry->GetCaseFacts(case_id));
//   if (facts.sealed()) ...
//
// GrpcRegistryClient is the real one (a deadline on every call, a service token);
// FakeRegistryClient serves tests. Both are thread-safe.
#ifndef PATHWAY_COMMON_REGISTRY_CLIENT_REGISTRY_CLIENT_H_
#define PATHWAY_COMMON_REGISTRY_CLIENT_REGISTRY_CLIENT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/case_scope.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "common/auth/service_token.h"
#include "common/codec/programme.h"
#include "common/program_status/program_status.h"
#include "pathway/registry/v1/registry.grpc.pb.h"

namespace pathway {

class RegistryClient {
 public:
  virtual ~RegistryClient() = default;

  // NOT_FOUND when the registry never issued the id; INVALID_ARGUMENT for a
  // malformed id; UNAVAILABLE when the registry does not answer in time.
  virtual absl::StatusOr<registry::v1::CaseFacts> GetCaseFacts(absl::string_view case_id) = 0;

  // The facts that decide who sees each case (common/auth/case_scope.h), in the order
  // of `case_ids` (1..1,000 well-formed ids); nullopt for an id never issued.
  virtual absl::StatusOr<std::vector<std::optional<CaseScope>>> GetCaseScopes(
      const std::vector<std::string>& case_ids) = 0;

  // GetCaseScopes for one case. NOT_FOUND is CaseNotFound(), the same answer a caller
  // gets for a case outside its scope, so callers may return it as it is.
  absl::StatusOr<CaseScope> GetCaseScope(absl::string_view case_id);

  // Idempotent by (case, source_event_id): safe to resend.
  virtual absl::StatusOr<registry::v1::ReportEventResponse> ReportEvent(
      const registry::v1::ReportEventRequest& event) = 0;

  // The registry's status view of one case (cache, else the owning services): what a
  // service reads when its own look at the cache misses (DESIGN.md §4).
  virtual absl::StatusOr<registry::v1::CaseStatus> GetCaseStatus(absl::string_view case_id) = 0;

  // Feeds the registry's programme index and worklist (registry.proto
  // ReportProgramStatuses). Versioned on the registry's side: safe to resend.
  virtual absl::StatusOr<registry::v1::ReportProgramStatusesResponse> ReportProgramStatuses(
      const registry::v1::ReportProgramStatusesRequest& request) = 0;
};

// How a programme service's StatusRepublisher for the registry's index sends a batch
// (status_republisher.h): one ReportProgramStatuses call; every entry landed when it
// answers OK (applied, stale and skipped alike: none can ever land otherwise).
absl::Status SendStatusesToRegistry(RegistryClient& registry, Programme programme,
                                    const std::vector<ProgramStatusRecord>& batch,
                                    std::vector<PublishedVersion>* landed);

// The scope of a case from the registry's answer (GetCaseScopes), or from its facts
// (GetCaseFacts answers both at once).
CaseScope ScopeOfProto(const registry::v1::CaseScope& scope);
CaseScope ScopeOfFacts(const registry::v1::CaseFacts& facts);

// For each of `case_ids`, whether a list drawn for `caller` keeps it: the case was
// issued, is not sealed unless the role keeps a statutory need to read sealed records
// (戒毒条例 Art 7), and, for a township-level caller, is its township's or assigned to
// it (CoversCase). The programme services' rows know neither the registry's abstinence
// clock nor its assignments, so their lists ask here: one GetCaseScopes call per 1,000
// ids, none when nothing can be dropped.
absl::StatusOr<std::vector<bool>> CasesListedFor(RegistryClient& registry, const Caller& caller,
                                                 const std::vector<std::string>& case_ids);

// Removes from `list` (a repeated proto field) the entries whose case, `case_of(entry)`,
// CasesListedFor drops.
template <typename Entry, typename CaseOf>
absl::Status DropCasesNotListed(RegistryClient& registry, const Caller& caller,
                                google::protobuf::RepeatedPtrField<Entry>* list, CaseOf case_of) {
  std::vector<std::string> ids;
  ids.reserve(list->size());
  for (const Entry& e : *list) ids.push_back(case_of(e));
  absl::StatusOr<std::vector<bool>> keep = CasesListedFor(registry, caller, ids);
  if (!keep.ok()) return keep.status();
  int kept = 0;
  for (int i = 0; i < list->size(); ++i) {
    if ((*keep)[i]) list->SwapElements(kept++, i);
  }
  list->DeleteSubrange(kept, list->size() - kept);
  return absl::OkStatus();
}

class GrpcRegistryClient final : public RegistryClient {
 public:
  // `tokens` is not owned and must outlive the client.
  GrpcRegistryClient(std::shared_ptr<registry::v1::Registry::StubInterface> stub,
                     const ServiceTokenSource* tokens, absl::Duration timeout);

  absl::StatusOr<registry::v1::CaseFacts> GetCaseFacts(absl::string_view case_id) override;
  absl::StatusOr<std::vector<std::optional<CaseScope>>> GetCaseScopes(
      const std::vector<std::string>& case_ids) override;
  absl::StatusOr<registry::v1::ReportEventResponse> ReportEvent(
      const registry::v1::ReportEventRequest& event) override;
  absl::StatusOr<registry::v1::CaseStatus> GetCaseStatus(absl::string_view case_id) override;
  absl::StatusOr<registry::v1::ReportProgramStatusesResponse> ReportProgramStatuses(
      const registry::v1::ReportProgramStatusesRequest& request) override;

 private:
  std::shared_ptr<registry::v1::Registry::StubInterface> stub_;
  const ServiceTokenSource* tokens_;
  absl::Duration timeout_;
};

// Cases added by the test; events recorded for inspection.
class FakeRegistryClient final : public RegistryClient {
 public:
  void AddCase(registry::v1::CaseFacts facts);
  // What GetCaseStatus answers for the case (NOT_FOUND for a case never added).
  void SetCaseStatus(registry::v1::CaseStatus status);
  // Makes every call fail with UNAVAILABLE (a registry that is down).
  void SetUnavailable(bool unavailable);
  // While held, GetCaseFacts waits (a registry that hangs) until released.
  void SetHeld(bool held);
  // Waits until `n` GetCaseFacts calls are held at once; false after `timeout`.
  bool AwaitHeldCalls(int n, absl::Duration timeout);
  std::vector<registry::v1::ReportEventRequest> events() const;
  std::vector<registry::v1::ReportProgramStatusesRequest> status_reports() const;

  absl::StatusOr<registry::v1::CaseFacts> GetCaseFacts(absl::string_view case_id) override;
  // From the cases added (their divisions and sealed flag).
  absl::StatusOr<std::vector<std::optional<CaseScope>>> GetCaseScopes(
      const std::vector<std::string>& case_ids) override;
  absl::StatusOr<registry::v1::ReportEventResponse> ReportEvent(
      const registry::v1::ReportEventRequest& event) override;
  absl::StatusOr<registry::v1::CaseStatus> GetCaseStatus(absl::string_view case_id) override;
  absl::StatusOr<registry::v1::ReportProgramStatusesResponse> ReportProgramStatuses(
      const registry::v1::ReportProgramStatusesRequest& request) override;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, registry::v1::CaseStatus> statuses_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, registry::v1::CaseFacts> cases_ ABSL_GUARDED_BY(mu_);
  std::vector<registry::v1::ReportEventRequest> events_ ABSL_GUARDED_BY(mu_);
  std::vector<registry::v1::ReportProgramStatusesRequest> status_reports_ ABSL_GUARDED_BY(mu_);
  bool unavailable_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int held_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_REGISTRY_CLIENT_REGISTRY_CLIENT_H_
