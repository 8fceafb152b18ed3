#include "common/registry_client/registry_client.h"

#include <algorithm>
#include <utility>

#include "common/client/bearer_context.h"
#include "common/auth/jurisdiction.h"
#include "common/client/peer_error.h"
#include "common/codec/proto_programme.h"
#include "common/ids/case_id.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

// The registry's own answer passes through; transport trouble becomes UNAVAILABLE
// so callers can tell "no such case" from "ask again later".
absl::Status FromCall(const grpc::Status& s) {
  if (!PeerDidNotAnswer(s.error_code())) return FromGrpcStatus(s);
  return absl::UnavailableError(s.error_code() == grpc::StatusCode::UNAVAILABLE
                                    ? "case registry unavailable"
                                    : "case registry did not answer in time");
}

}  // namespace

absl::StatusOr<CaseScope> RegistryClient::GetCaseScope(absl::string_view case_id) {
  ASSIGN_OR_RETURN(std::vector<std::optional<CaseScope>> scopes,
                   GetCaseScopes({std::string(case_id)}));
  if (scopes.size() != 1 || !scopes[0].has_value()) return CaseNotFound();
  return *std::move(scopes[0]);
}

CaseScope ScopeOfProto(const registry::v1::CaseScope& r) {
  CaseScope scope;
  scope.case_id = r.case_id();
  scope.household_division = r.household_division();
  scope.residence_division = r.residence_division();
  scope.sealed = r.sealed();
  scope.township = r.township();
  scope.assigned_caseworker = r.assigned_caseworker();
  return scope;
}

CaseScope ScopeOfFacts(const registry::v1::CaseFacts& facts) {
  CaseScope scope;
  scope.case_id = facts.case_id();
  scope.household_division = facts.household_division();
  scope.residence_division = facts.residence_division();
  scope.sealed = facts.sealed();
  scope.township = facts.township();
  scope.assigned_caseworker = facts.assigned_caseworker();
  return scope;
}

absl::StatusOr<std::vector<bool>> CasesListedFor(RegistryClient& registry, const Caller& caller,
                                                 const std::vector<std::string>& case_ids) {
  const bool township = IsTownshipJurisdiction(caller.jurisdiction());
  if (!township && MayReadSealed(caller.role())) {
    return std::vector<bool>(case_ids.size(), true);
  }
  std::vector<bool> keep;
  keep.reserve(case_ids.size());
  for (size_t from = 0; from < case_ids.size(); from += 1000) {
    std::vector<std::string> ids(case_ids.begin() + from,
                                 case_ids.begin() + std::min(case_ids.size(), from + 1000));
    ASSIGN_OR_RETURN(std::vector<std::optional<CaseScope>> scopes, registry.GetCaseScopes(ids));
    for (const std::optional<CaseScope>& scope : scopes) {
      keep.push_back(scope.has_value() && (!scope->sealed || MayReadSealed(caller.role())) &&
                     (!township || CoversCase(caller, *scope)));
    }
  }
  return keep;
}

GrpcRegistryClient::GrpcRegistryClient(
    std::shared_ptr<registry::v1::Registry::StubInterface> stub, const ServiceTokenSource* tokens,
    absl::Duration timeout)
    : stub_(std::move(stub)), tokens_(tokens), timeout_(timeout) {}

absl::StatusOr<registry::v1::CaseFacts> GrpcRegistryClient::GetCaseFacts(
    absl::string_view case_id) {
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, tokens_->Token(), timeout_);
  registry::v1::GetCaseFactsRequest req;
  req.set_case_id(std::string(case_id));
  registry::v1::CaseFacts facts;
  grpc::Status s = stub_->GetCaseFacts(&ctx, req, &facts);
  if (!s.ok()) return FromCall(s);
  return facts;
}

absl::StatusOr<std::vector<std::optional<CaseScope>>> GrpcRegistryClient::GetCaseScopes(
    const std::vector<std::string>& case_ids) {
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, tokens_->Token(), timeout_);
  registry::v1::GetCaseScopesRequest req;
  for (const std::string& id : case_ids) req.add_case_ids(id);
  registry::v1::GetCaseScopesResponse resp;
  grpc::Status s = stub_->GetCaseScopes(&ctx, req, &resp);
  if (!s.ok()) return FromCall(s);
  if (resp.scopes_size() != static_cast<int>(case_ids.size())) {
    return absl::UnavailableError("case registry answered a different number of scopes");
  }
  std::vector<std::optional<CaseScope>> out;
  for (const registry::v1::CaseScope& r : resp.scopes()) {
    if (!r.found()) {
      out.emplace_back();
      continue;
    }
    out.emplace_back(ScopeOfProto(r));
  }
  return out;
}

absl::StatusOr<registry::v1::ReportEventResponse> GrpcRegistryClient::ReportEvent(
    const registry::v1::ReportEventRequest& event) {
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, tokens_->Token(), timeout_);
  registry::v1::ReportEventResponse resp;
  grpc::Status s = stub_->ReportEvent(&ctx, event, &resp);
  if (!s.ok()) return FromCall(s);
  return resp;
}

absl::StatusOr<registry::v1::CaseStatus> GrpcRegistryClient::GetCaseStatus(
    absl::string_view case_id) {
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, tokens_->Token(), timeout_);
  registry::v1::GetCaseStatusRequest req;
  req.set_case_id(std::string(case_id));
  registry::v1::CaseStatus status;
  grpc::Status s = stub_->GetCaseStatus(&ctx, req, &status);
  if (!s.ok()) return FromCall(s);
  return status;
}

absl::StatusOr<registry::v1::ReportProgramStatusesResponse>
GrpcRegistryClient::ReportProgramStatuses(const registry::v1::ReportProgramStatusesRequest& request) {
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, tokens_->Token(), timeout_);
  registry::v1::ReportProgramStatusesResponse resp;
  grpc::Status s = stub_->ReportProgramStatuses(&ctx, request, &resp);
  if (!s.ok()) return FromCall(s);
  return resp;
}

absl::Status SendStatusesToRegistry(RegistryClient& registry, Programme programme,
                                    const std::vector<ProgramStatusRecord>& batch,
                                    std::vector<PublishedVersion>* landed) {
  registry::v1::ReportProgramStatusesRequest request;
  request.set_program(ToProtoProgram(programme));
  for (const ProgramStatusRecord& r : batch) {
    registry::v1::ProgramStatusReport* e = request.add_entries();
    e->set_case_id(r.case_id);
    e->set_state(r.state);
    e->set_version(r.version);
    e->set_division(r.division);
    for (const DueItemRecord& item : r.due_items) ToProto(item, e->add_items());
  }
  absl::StatusOr<registry::v1::ReportProgramStatusesResponse> sent =
      registry.ReportProgramStatuses(request);
  if (!sent.ok()) return sent.status();
  for (const ProgramStatusRecord& r : batch) landed->push_back({r.case_id, r.version});
  return absl::OkStatus();
}

void FakeRegistryClient::SetCaseStatus(registry::v1::CaseStatus status) {
  absl::MutexLock lock(&mu_);
  std::string id = status.case_id();
  statuses_[id] = std::move(status);
}

absl::StatusOr<registry::v1::CaseStatus> FakeRegistryClient::GetCaseStatus(
    absl::string_view case_id) {
  absl::MutexLock lock(&mu_);
  if (unavailable_) return absl::UnavailableError("case registry unavailable");
  if (cases_.count(std::string(case_id)) == 0) return absl::NotFoundError("case not found");
  auto it = statuses_.find(std::string(case_id));
  if (it == statuses_.end()) {
    registry::v1::CaseStatus empty;
    empty.set_case_id(std::string(case_id));
    empty.set_found(true);
    return empty;
  }
  return it->second;
}

void FakeRegistryClient::AddCase(registry::v1::CaseFacts facts) {
  absl::MutexLock lock(&mu_);
  std::string id = facts.case_id();
  cases_[id] = std::move(facts);
}

void FakeRegistryClient::SetUnavailable(bool unavailable) {
  absl::MutexLock lock(&mu_);
  unavailable_ = unavailable;
}

std::vector<registry::v1::ReportEventRequest> FakeRegistryClient::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

std::vector<registry::v1::ReportProgramStatusesRequest> FakeRegistryClient::status_reports()
    const {
  absl::MutexLock lock(&mu_);
  return status_reports_;
}

absl::StatusOr<registry::v1::ReportProgramStatusesResponse>
FakeRegistryClient::ReportProgramStatuses(const registry::v1::ReportProgramStatusesRequest& request) {
  absl::MutexLock lock(&mu_);
  if (unavailable_) return absl::UnavailableError("case registry unavailable");
  status_reports_.push_back(request);
  registry::v1::ReportProgramStatusesResponse resp;
  resp.set_applied(request.entries_size());
  return resp;
}

absl::StatusOr<registry::v1::CaseFacts> FakeRegistryClient::GetCaseFacts(
    absl::string_view case_id) {
  absl::StatusOr<CaseId> id = CaseId::Parse(case_id);
  if (!id.ok()) return id.status();
  absl::MutexLock lock(&mu_);
  if (held_) {
    ++held_calls_;
    mu_.Await(absl::Condition(
        +[](bool* held) { return !*held; }, &held_));
    --held_calls_;
  }
  if (unavailable_) return absl::UnavailableError("case registry unavailable");
  auto it = cases_.find(id->ToString());
  if (it == cases_.end()) return absl::NotFoundError("case not found");
  return it->second;
}

absl::StatusOr<std::vector<std::optional<CaseScope>>> FakeRegistryClient::GetCaseScopes(
    const std::vector<std::string>& case_ids) {
  std::vector<std::optional<CaseScope>> out;
  for (const std::string& id : case_ids) {
    absl::StatusOr<registry::v1::CaseFacts> facts = GetCaseFacts(id);
    if (absl::IsNotFound(facts.status())) {
      out.emplace_back();
      continue;
    }
    if (!facts.ok()) return facts.status();
    out.emplace_back(ScopeOfFacts(*facts));
  }
  return out;
}

void FakeRegistryClient::SetHeld(bool held) {
  absl::MutexLock lock(&mu_);
  held_ = held;
}

bool FakeRegistryClient::AwaitHeldCalls(int n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return held_calls_ >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

absl::StatusOr<registry::v1::ReportEventResponse> FakeRegistryClient::ReportEvent(
    const registry::v1::ReportEventRequest& event) {
  absl::MutexLock lock(&mu_);
  if (unavailable_) return absl::UnavailableError("case registry unavailable");
  if (cases_.count(event.case_id()) == 0) return absl::NotFoundError("case not found");
  events_.push_back(event);
  return registry::v1::ReportEventResponse();
}

}  // namespace pathway
