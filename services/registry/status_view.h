// The registry's combined status view (DESIGN.md §4): every programme's status for a
// set of cases from the Redis status cache in one round trip; cases the cache does
// not hold (or all of them, with Redis down) are asked of the owning services in
// parallel, each call with a deadline, and the cache is refilled. Each part says how
// fresh it is.
//
//   StatusView view(&cache, &source);
//   view.Resolve({"520102-2026-0000042-2"}, [](std::vector<v1::CaseStatus> out) { ... });
//
// ProgramStatusSource abstracts the four services so tests can inject faults; the gRPC
// one holds the generated StubInterfaces (STYLE.md rule 6).
// Thread-safe; `done` runs exactly once, on the calling thread or a gRPC thread.
#ifndef PATHWAY_SERVICES_REGISTRY_STATUS_VIEW_H_
#define PATHWAY_SERVICES_REGISTRY_STATUS_VIEW_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/service_token.h"
#include "common/cache/status_cache.h"
#include "pathway/common/v1/common.pb.h"
#include "pathway/detox/v1/detox.grpc.pb.h"
#include "pathway/isolation/v1/isolation.grpc.pb.h"
#include "pathway/placement/v1/placement.grpc.pb.h"
#include "pathway/registry/v1/registry.pb.h"
#include "pathway/rehab/v1/rehab.grpc.pb.h"

namespace pathway {
namespace registry {

inline constexpr Programme kViewProgrammes[] = {
    Programme::kCommunityDetox, Programme::kCompulsoryIsolation, Programme::kCommunityRehab,
    Programme::kPlacement};

class ProgramStatusSource {
 public:
  using Done = std::function<void(absl::StatusOr<common::v1::ProgramStatus>)>;
  virtual ~ProgramStatusSource() = default;
  // Asks the owning service. `done` gets the status, NOT_FOUND when the case has no
  // record there, or UNAVAILABLE when the service did not answer in time.
  virtual void Fetch(Programme programme, const std::string& case_id, Done done) = 0;
};

class GrpcProgramStatusSource final : public ProgramStatusSource {
 public:
  struct Stubs {
    std::shared_ptr<detox::v1::CommunityDetox::StubInterface> detox;
    std::shared_ptr<isolation::v1::CompulsoryIsolation::StubInterface> isolation;
    std::shared_ptr<rehab::v1::CommunityRehab::StubInterface> rehab;
    std::shared_ptr<placement::v1::Placement::StubInterface> placement;
  };
  // `tokens` is not owned and must outlive the source.
  GrpcProgramStatusSource(Stubs stubs, const ServiceTokenSource* tokens, absl::Duration timeout);

  void Fetch(Programme programme, const std::string& case_id, Done done) override;

 private:
  Stubs stubs_;
  const ServiceTokenSource* tokens_;
  absl::Duration timeout_;
};

class StatusView {
 public:
  // Neither is owned; both must outlive the view.
  StatusView(StatusCache* cache, ProgramStatusSource* source) : cache_(cache), source_(source) {}

  // Statuses of `case_ids` (already authorised), in the same order, found = true.
  void Resolve(std::vector<std::string> case_ids,
               std::function<void(std::vector<v1::CaseStatus>)> done);

 private:
  StatusCache* cache_;
  ProgramStatusSource* source_;
};

// Conversions between the cache's entries and the API's messages.
common::v1::ProgramStatus FromCacheEntry(const std::string& case_id, Programme programme,
                                         const ProgrammeStatus& entry);
ProgrammeStatus ToCacheEntry(const common::v1::ProgramStatus& status);

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_STATUS_VIEW_H_
