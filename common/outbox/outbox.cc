#include "common/outbox/outbox.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "common/client/bearer_context.h"
#include "common/client/peer_channel.h"
#include "common/client/peer_error.h"
#include "common/log/log.h"
#include "common/outbox/outbox_tables.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

// Failures a later attempt may get past; anything else is the receiver refusing
// the hand-off for good, which a retry would only repeat. A hand-off waits longer
// than a call does: besides a transient peer error, an UNKNOWN (a receiver that
// failed without saying why) and an UNAUTHENTICATED (e.g. a key being rotated) are
// tried again, with backoff, until the receiver is set right.
bool Retryable(absl::StatusCode code) {
  return IsTransientPeerError(code) || code == absl::StatusCode::kUnknown ||
         code == absl::StatusCode::kUnauthenticated;
}

// The receiver's message as kept on the row: what an operator needs to see why a
// hand-off did not get through. Receivers answer in words about the request, never
// personal data (STYLE.md rule 5); the length is bounded all the same.
std::string KeptMessage(const absl::Status& s) {
  std::string m(s.message());
  if (m.size() > kMaxOutboxErrorMessage) m.resize(kMaxOutboxErrorMessage);
  return m;
}

absl::Status ValidateHandoff(const OutboxMessage& m) {
  if (m.target.empty() || m.method.empty() || m.idempotency_key.empty()) {
    return absl::InvalidArgumentError("hand-off needs a target, a method and a key");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnqueueHandoff(Transaction& tx, const OutboxMessage& m, absl::Time now) {
  RETURN_IF_ERROR(ValidateHandoff(m));
  return outbox_tables::InsertHandoff(tx, m, absl::ToUnixMicros(now));
}

absl::StatusOr<bool> EnqueueHandoffOnce(Transaction& tx, const OutboxMessage& m,
                                        absl::Time now) {
  RETURN_IF_ERROR(ValidateHandoff(m));
  return outbox_tables::InsertHandoffOnce(tx, m, absl::ToUnixMicros(now));
}

absl::StatusOr<bool> HasOutbox(Store& store) {
  bool has_outbox = false;
  // schema_migrations is the store's own bookkeeping (every implementation keeps it):
  // asking it tells "no outbox" apart from a real error without parsing SQL errors.
  RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(has_outbox, outbox_tables::HasOutboxMigrations(tx));
    return absl::OkStatus();
  }));
  return has_outbox;
}

absl::StatusOr<OutboxHighWater> ReadOutboxHighWater(ReadTransaction& tx) {
  ASSIGN_OR_RETURN(bool has_outbox, outbox_tables::HasOutboxMigrations(tx));
  if (!has_outbox) return OutboxHighWater{};
  return outbox_tables::ReadOutboxHighWater(tx);
}

absl::StatusOr<OutboxSummary> SummarizeOutbox(Store& store) {
  OutboxSummary s;
  RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(s, outbox_tables::ReadOutboxSummary(tx));
    return absl::OkStatus();
  }));
  return s;
}

absl::StatusOr<std::vector<int64_t>> ReplayParkedHandoffs(Transaction& tx,
                                                          const ParkedSelection& which,
                                                          absl::Time now) {
  if (!which.all && which.ids.empty()) {
    return absl::InvalidArgumentError("name the parked hand-offs to replay, or all of them");
  }
  std::vector<int64_t> parked;
  if (which.all) {
    ASSIGN_OR_RETURN(parked, outbox_tables::ListParkedIds(tx, which.target));
  } else {
    std::vector<int64_t> ids = which.ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (int64_t id : ids) {
      ASSIGN_OR_RETURN(bool is_parked, outbox_tables::IsParked(tx, id, which.target));
      if (is_parked) parked.push_back(id);
    }
  }
  std::vector<int64_t> replayed;
  for (int64_t id : parked) {
    // Due at once, with a fresh backoff; the last error stays until the next attempt.
    RETURN_IF_ERROR(outbox_tables::RequeueHandoff(tx, id, absl::ToUnixMicros(now)));
    replayed.push_back(id);
  }
  return replayed;
}

absl::StatusOr<std::vector<OutboxRow>> ListStuckHandoffs(Store& store, absl::Time created_before,
                                                         int limit) {
  std::vector<OutboxRow> out;
  RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(out, outbox_tables::ListStuckHandoffRows(
                              tx, absl::ToUnixMicros(created_before), int64_t{limit}));
    return absl::OkStatus();
  }));
  return out;
}

GrpcDeliverer::GrpcDeliverer(std::map<std::string, std::string> targets,
                             const ServiceTokenSource* tokens, ChannelSecurity security)
    : targets_(std::move(targets)), tokens_(tokens), security_(std::move(security)) {}

GrpcDeliverer::~GrpcDeliverer() = default;

absl::Status GrpcDeliverer::Deliver(const OutboxMessage& m, absl::Time deadline) {
  auto target = targets_.find(m.target);
  if (target == targets_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("unknown hand-off target ", m.target));
  }
  std::shared_ptr<grpc::Channel> channel;
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<grpc::Channel>& c = channels_[m.target];
    if (c == nullptr) c = PeerChannel(target->second, security_);
    channel = c;
  }
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, tokens_->Token(), deadline);
  ctx.AddMetadata("idempotency-key", m.idempotency_key);
  grpc::Slice slice(m.payload);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::Status result;
  absl::Notification done;
  stub.UnaryCall(&ctx, m.method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   result = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  return FromGrpcStatus(result);
}

OutboxDispatcher::OutboxDispatcher(Store* store, Deliverer* deliverer, const Clock* clock,
                                   Options options)
    : store_(store), deliverer_(deliverer), clock_(clock), options_(options) {}

OutboxDispatcher::~OutboxDispatcher() { Stop(); }

void OutboxDispatcher::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void OutboxDispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void OutboxDispatcher::Notify() {
  absl::MutexLock lock(&mu_);
  notified_ = true;
}

absl::Duration OutboxDispatcher::ClaimLease() const {
  return std::max(options_.claim_lease, options_.call_timeout + absl::Seconds(1));
}

absl::StatusOr<bool> OutboxDispatcher::Claim(int64_t id) {
  const int64_t now_us = absl::ToUnixMicros(clock_->Now());
  const int64_t until_us = now_us + absl::ToInt64Microseconds(ClaimLease());
  bool claimed = false;
  absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
    // Only the oldest pending row of its target may be sent (order), and only if
    // no other dispatcher holds it.
    ASSIGN_OR_RETURN(claimed, outbox_tables::ClaimHandoff(tx, id, now_us, until_us));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return claimed;
}

absl::Duration OutboxDispatcher::BackoffAfter(int attempts) const {
  absl::Duration d = options_.initial_backoff;
  for (int i = 1; i < attempts && d < options_.max_backoff; ++i) d *= 2;
  return std::min(d, options_.max_backoff);
}

absl::StatusOr<int> OutboxDispatcher::RunOnce() {
  const absl::Time now = clock_->Now();
  std::vector<OutboxRow> due;
  RETURN_IF_ERROR(store_->Read([&](ReadTransaction& tx) -> absl::Status {
    // Due rows with no earlier pending row to the same target still waiting out its
    // backoff: each target's rows go in the order they were enqueued.
    ASSIGN_OR_RETURN(due, outbox_tables::ListDueHandoffs(tx, absl::ToUnixMicros(now),
                                                         int64_t{options_.batch}));
    return absl::OkStatus();
  }));
  int delivered = 0;
  std::set<std::string> held_back;  // targets with a row that failed in this run
  for (const OutboxRow& row : due) {
    if (held_back.count(row.message.target) > 0) continue;
    // Another dispatcher (a replica on the same database) may have sent or be
    // sending this row or an earlier one to its target: then leave the target.
    ASSIGN_OR_RETURN(bool claimed, Claim(row.id));
    if (!claimed) {
      held_back.insert(row.message.target);
      continue;
    }
    absl::Status s = deliverer_->Deliver(row.message, absl::Now() + options_.call_timeout);
    const int64_t now_us = absl::ToUnixMicros(clock_->Now());
    absl::Status marked;
    if (s.ok()) {
      ++delivered;
      if (options_.after_ack) options_.after_ack();  // test-only crash window
      marked = store_->Write([&](Transaction& tx) {
        return outbox_tables::MarkHandoffDelivered(tx, row.id, now_us);
      });
    } else if (Retryable(s.code())) {
      held_back.insert(row.message.target);
      const int attempts = row.attempts + 1;
      marked = store_->Write([&](Transaction& tx) {
        return outbox_tables::MarkHandoffRetry(
            tx, row.id, attempts, now_us + absl::ToInt64Microseconds(BackoffAfter(attempts)),
            absl::StatusCodeToString(s.code()), KeptMessage(s));
      });
      log::Warning("handoff_retry", {{"target", row.message.target},
                                     {"attempts", attempts},
                                     {"code", absl::StatusCodeToString(s.code())}});
    } else {
      marked = store_->Write([&](Transaction& tx) {
        return outbox_tables::MarkHandoffParked(tx, row.id, absl::StatusCodeToString(s.code()),
                                                KeptMessage(s));
      });
      log::Error("handoff_parked", {{"target", row.message.target},
                                    {"method", row.message.method},
                                    {"code", absl::StatusCodeToString(s.code())}});
    }
    // If marking fails the row is attempted again once its claim lapses; the
    // receiver's idempotency makes the repeat harmless.
    if (!marked.ok()) return marked;
  }
  return delivered;
}

void OutboxDispatcher::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    notified_ = false;
    mu_.Unlock();
    absl::StatusOr<int> n = RunOnce();
    if (!n.ok()) log::Warning("outbox_run_failed", {{"error", n.status().ToString()}});
    mu_.Lock();
    auto wake = [this]() -> bool { return stop_ || notified_; };
    mu_.AwaitWithTimeout(absl::Condition(&wake), options_.poll_interval);
  }
}

}  // namespace pathway
