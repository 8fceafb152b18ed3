#include "services/registry/status_view.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "common/client/bearer_context.h"
#include "common/client/peer_error.h"
#include "common/codec/proto_date.h"
#include "common/codec/proto_programme.h"
#include "common/log/log.h"
#include "common/program_status/program_status.h"
#include "common/status/grpc_status.h"

namespace pathway {
namespace registry {
namespace {

// One outstanding call: owns what the callback API needs to stay alive.
struct Call {
  grpc::ClientContext ctx;
  common::v1::GetProgramStatusRequest request;
  common::v1::ProgramStatus response;
  ProgramStatusSource::Done done;
};

absl::Status FromPeer(const grpc::Status& s) {
  switch (s.error_code()) {
    case grpc::StatusCode::NOT_FOUND: return absl::NotFoundError("no record");
    default:
      if (PeerDidNotAnswer(s.error_code())) return absl::UnavailableError("service did not answer");
      return FromGrpcStatus(s);
  }
}

template <typename Stub>
void Ask(Stub* stub, const ServiceTokenSource* tokens, absl::Duration timeout,
         const std::string& case_id, ProgramStatusSource::Done done) {
  if (stub == nullptr) {
    done(absl::UnavailableError("service not configured"));
    return;
  }
  auto* call = new Call();
  call->done = std::move(done);
  call->request.set_case_id(case_id);
  PrepareBearerContext(&call->ctx, tokens->Token(), timeout);
  stub->async()->GetProgramStatus(&call->ctx, &call->request, &call->response,
                                  [call](grpc::Status s) {
                                    if (s.ok()) {
                                      call->done(std::move(call->response));
                                    } else {
                                      call->done(FromPeer(s));
                                    }
                                    delete call;
                                  });
}

}  // namespace

GrpcProgramStatusSource::GrpcProgramStatusSource(Stubs stubs, const ServiceTokenSource* tokens,
                                                 absl::Duration timeout)
    : stubs_(std::move(stubs)), tokens_(tokens), timeout_(timeout) {}

void GrpcProgramStatusSource::Fetch(Programme programme, const std::string& case_id, Done done) {
  switch (programme) {
    case Programme::kCommunityDetox:
      return Ask(stubs_.detox.get(), tokens_, timeout_, case_id, std::move(done));
    case Programme::kCompulsoryIsolation:
      return Ask(stubs_.isolation.get(), tokens_, timeout_, case_id, std::move(done));
    case Programme::kCommunityRehab:
      return Ask(stubs_.rehab.get(), tokens_, timeout_, case_id, std::move(done));
    case Programme::kPlacement:
      return Ask(stubs_.placement.get(), tokens_, timeout_, case_id, std::move(done));
  }
}

common::v1::ProgramStatus FromCacheEntry(const std::string& case_id, Programme programme,
                                         const ProgrammeStatus& e) {
  common::v1::ProgramStatus s;
  s.set_case_id(case_id);
  s.set_program(ToProtoProgram(programme));
  s.set_state(e.state);
  s.set_version(e.version);
  if (e.began.has_value()) ToProtoDate(*e.began, s.mutable_began());
  if (e.next_deadline.has_value()) {
    s.mutable_next_deadline()->set_kind(e.next_deadline_kind);
    ToProtoDate(*e.next_deadline, s.mutable_next_deadline()->mutable_due());
  }
  int64_t us = absl::ToUnixMicros(e.written_at);
  s.mutable_updated_at()->set_seconds(us / 1000000);
  s.mutable_updated_at()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  return s;
}

ProgrammeStatus ToCacheEntry(const common::v1::ProgramStatus& s) {
  ProgrammeStatus e;
  e.state = s.state();
  e.version = s.version();
  if (s.has_began()) e.began = DayOf(s.began());
  if (s.has_next_deadline() && !s.next_deadline().kind().empty()) {
    e.next_deadline_kind = s.next_deadline().kind();
    e.next_deadline = DayOf(s.next_deadline().due());
  }
  e.written_at = absl::FromUnixSeconds(s.updated_at().seconds()) +
                 absl::Nanoseconds(s.updated_at().nanos());
  return e;
}

void StatusView::Resolve(std::vector<std::string> case_ids,
                         std::function<void(std::vector<v1::CaseStatus>)> done) {
  auto out = std::make_shared<std::vector<v1::CaseStatus>>(case_ids.size());
  std::vector<size_t> misses;
  absl::StatusOr<std::vector<CaseStatusEntries>> cached = cache_->GetMany(case_ids);
  for (size_t i = 0; i < case_ids.size(); ++i) {
    v1::CaseStatus& cs = (*out)[i];
    cs.set_case_id(case_ids[i]);
    cs.set_found(true);
    if (!cached.ok() || (*cached)[i].empty()) {
      misses.push_back(i);
      continue;
    }
    for (const auto& [programme, entry] : (*cached)[i]) {
      v1::ProgramStatusView* v = cs.add_programs();
      *v->mutable_status() = FromCacheEntry(case_ids[i], programme, entry);
      v->set_freshness(common::v1::FRESHNESS_CACHE);
    }
  }
  if (misses.empty()) {
    done(std::move(*out));
    return;
  }

  // Fallback: every programme of every missed case, in parallel. The last callback
  // to finish refills the cache and answers.
  struct Pending {
    absl::Mutex mu;
    std::vector<std::vector<std::pair<Programme, absl::StatusOr<common::v1::ProgramStatus>>>>
        results ABSL_GUARDED_BY(mu);
    std::atomic<int> remaining{0};
  };
  auto pending = std::make_shared<Pending>();
  {
    absl::MutexLock lock(&pending->mu);
    pending->results.resize(misses.size());
  }
  const int per_case = static_cast<int>(std::size(kViewProgrammes));
  pending->remaining = static_cast<int>(misses.size()) * per_case;
  StatusCache* cache = cache_;
  auto finish = [pending, out, misses, cache, done]() {
    absl::MutexLock lock(&pending->mu);
    for (size_t m = 0; m < misses.size(); ++m) {
      v1::CaseStatus& cs = (*out)[misses[m]];
      // Callbacks arrive in any order; answer in programme order.
      std::sort(pending->results[m].begin(), pending->results[m].end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& [programme, result] : pending->results[m]) {
        if (result.ok()) {
          v1::ProgramStatusView* v = cs.add_programs();
          *v->mutable_status() = *result;
          v->set_freshness(common::v1::FRESHNESS_SERVICE);
          // Refill; a Redis that is down fails fast and the reconciler catches up.
          absl::StatusOr<bool> put = cache->Put(cs.case_id(), programme, ToCacheEntry(*result));
          if (!put.ok()) {
            log::Debug("status_refill_skipped", {{"program", ProgrammeField(programme)}});
          }
        } else if (result.status().code() != absl::StatusCode::kNotFound) {
          v1::ProgramStatusView* v = cs.add_programs();
          v->mutable_status()->set_case_id(cs.case_id());
          v->mutable_status()->set_program(ToProtoProgram(programme));
          v->set_freshness(common::v1::FRESHNESS_UNAVAILABLE);
        }
      }
    }
    done(std::move(*out));
  };
  for (size_t m = 0; m < misses.size(); ++m) {
    for (Programme programme : kViewProgrammes) {
      source_->Fetch(programme, case_ids[misses[m]],
                     [pending, m, programme, finish](absl::StatusOr<common::v1::ProgramStatus> r) {
                       {
                         absl::MutexLock lock(&pending->mu);
                         pending->results[m].emplace_back(programme, std::move(r));
                       }
                       if (pending->remaining.fetch_sub(1) == 1) finish();
                     });
    }
  }
}

}  // namespace registry
}  // namespace pathway
