#include "services/compulsory_isolation/rehab_status_client.h"

#include <utility>

#include "common/client/bearer_context.h"
#include "common/log/log.h"

namespace pathway {
namespace isolation {

GrpcRehabStatusClient::GrpcRehabStatusClient(
    std::shared_ptr<rehab::v1::CommunityRehab::StubInterface> stub,
    const ServiceTokenSource* tokens, absl::Duration timeout)
    : stub_(std::move(stub)), tokens_(tokens), timeout_(timeout) {}

absl::StatusOr<std::optional<common::v1::ProgramStatus>> GrpcRehabStatusClient::GetStatus(
    absl::string_view case_id) {
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, tokens_->Token(), timeout_);
  common::v1::GetProgramStatusRequest req;
  req.set_case_id(std::string(case_id));
  common::v1::ProgramStatus status;
  grpc::Status s = stub_->GetProgramStatus(&ctx, req, &status);
  if (s.ok()) return std::optional<common::v1::ProgramStatus>(std::move(status));
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return std::optional<common::v1::ProgramStatus>();
  }
  // Anything else leaves the fact unknown: the caller must not decide without it.
  log::Warning("rehab_status_unavailable", {{"code", static_cast<int>(s.error_code())}});
  return absl::UnavailableError(
      "the community rehabilitation service did not answer; retry");
}

void FakeRehabStatusClient::SetStatus(common::v1::ProgramStatus status) {
  absl::MutexLock lock(&mu_);
  statuses_[status.case_id()] = std::move(status);
}

void FakeRehabStatusClient::SetUnavailable(bool unavailable) {
  absl::MutexLock lock(&mu_);
  unavailable_ = unavailable;
}

absl::StatusOr<std::optional<common::v1::ProgramStatus>> FakeRehabStatusClient::GetStatus(
    absl::string_view case_id) {
  absl::MutexLock lock(&mu_);
  if (unavailable_) {
    return absl::UnavailableError("the community rehabilitation service did not answer; retry");
  }
  auto it = statuses_.find(std::string(case_id));
  if (it == statuses_.end()) return std::optional<common::v1::ProgramStatus>();
  return std::optional<common::v1::ProgramStatus>(it->second);
}

}  // namespace isolation
}  // namespace pathway
