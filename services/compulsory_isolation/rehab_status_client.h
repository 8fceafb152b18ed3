// How the isolation service learns, at a decision, whether the person's community
// rehabilitation (社区康复, SK) order was running: it asks the community rehabilitation
// service for the case's programme status from that service's own record
// (CommunityRehab.GetProgramStatus), never from the status cache, because a legal bar
// (戒毒条例 Art 38(2): no early release) must not depend on what a cache happens to
// hold (DESIGN.md §8: a missing cache entry changes latency, never an answer).
//
//   ASSIGN_OR_RETURN(std::optional<common::v1::ProgramStatus> sk, rehab->GetStatus(case_id));
//   if (!sk.has_value()) ...  // the case never had an SK order
//
// GrpcRehabStatusClient is the real one (a deadline on every call, a service token);
// FakeRehabStatusClient serves tests. Both are thread-safe.
#ifndef PATHWAY_SERVICES_COMPULSORY_ISOLATION_REHAB_STATUS_CLIENT_H_
#define PATHWAY_SERVICES_COMPULSORY_ISOLATION_REHAB_STATUS_CLIENT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/service_token.h"
#include "pathway/common/v1/common.pb.h"
#include "pathway/rehab/v1/rehab.grpc.pb.h"

namespace pathway {
namespace isolation {

class RehabStatusClient {
 public:
  virtual ~RehabStatusClient() = default;

  // The case's SK programme status as the rehabilitation service stores it; nullopt
  // when the case has no SK order there. UNAVAILABLE when the service does not
  // answer in time or answers anything but the status or NOT_FOUND (retry).
  virtual absl::StatusOr<std::optional<common::v1::ProgramStatus>> GetStatus(
      absl::string_view case_id) = 0;
};

class GrpcRehabStatusClient final : public RehabStatusClient {
 public:
  // `tokens` is not owned and must outlive the client.
  GrpcRehabStatusClient(std::shared_ptr<rehab::v1::CommunityRehab::StubInterface> stub,
                        const ServiceTokenSource* tokens, absl::Duration timeout);

  absl::StatusOr<std::optional<common::v1::ProgramStatus>> GetStatus(
      absl::string_view case_id) override;

 private:
  std::shared_ptr<rehab::v1::CommunityRehab::StubInterface> stub_;
  const ServiceTokenSource* tokens_;
  absl::Duration timeout_;
};

// Statuses set by the test; a case never set has no SK order.
class FakeRehabStatusClient final : public RehabStatusClient {
 public:
  void SetStatus(common::v1::ProgramStatus status);
  // Makes every call fail with UNAVAILABLE (a service that is down).
  void SetUnavailable(bool unavailable);

  absl::StatusOr<std::optional<common::v1::ProgramStatus>> GetStatus(
      absl::string_view case_id) override;

 private:
  absl::Mutex mu_;
  std::map<std::string, common::v1::ProgramStatus> statuses_ ABSL_GUARDED_BY(mu_);
  bool unavailable_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace isolation
}  // namespace pathway

#endif  // PATHWAY_SERVICES_COMPULSORY_ISOLATION_REHAB_STATUS_CLIENT_H_
