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

OutboxRow Decode(const Row& r) {
  OutboxRow o;
  o.id = r.GetInt(0);
  o.message.target = r.GetString(1);
  o.message.method = r.GetString(2);
  o.message.payload = r.GetString(3);
  o.message.idempotency_key = r.GetString(4);
  o.state = r.GetString(5);
  o.attempts = static_cast<int>(r.GetInt(6));
  o.created_at = absl::FromUnixMicros(r.GetInt(7));
  o.next_attempt_at = absl::FromUnixMicros(r.GetInt(8));
  o.last_error = r.GetString(9);
  o.last_error_message = r.GetString(10);
  return o;
}

constexpr char kColumns[] =
    "id, target, method, payload, idempotency_key, state, attempts, created_us,"
    " next_attempt_us, last_error, last_error_message";

// The receiver's message as kept on the row: what an operator needs to see why a
// hand-off did not get through. Receivers answer in words about the request, never
// personal data (STYLE.md rule 5); the length is bounded all the same.
std::string KeptMessage(const absl::Status& s) {
  std::string m(s.message());
  if (m.size() > kMaxOutboxErrorMessage) m.resize(kMaxOutboxErrorMessage);
  return m;
}

// Version 1, for both engines (EngineMigration): an id is never handed out twice,
// even after the newest row was deleted.
constexpr char kOutboxV1[] =
    "CREATE TABLE outbox ("
    "  id {AUTO_ID_NEVER_REUSED},"
    "  target TEXT NOT NULL, method TEXT NOT NULL, payload {BLOB} NOT NULL,"
    "  idempotency_key TEXT NOT NULL UNIQUE,"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  attempts BIGINT NOT NULL DEFAULT 0,"
    "  created_us BIGINT NOT NULL, next_attempt_us BIGINT NOT NULL,"
    "  last_error TEXT NOT NULL DEFAULT '', delivered_us BIGINT);"
    "CREATE INDEX outbox_due ON outbox(state, next_attempt_us, id);";

constexpr char kInsertHandoff[] =
    "INSERT INTO outbox(target, method, payload, idempotency_key, created_us,"
    " next_attempt_us) VALUES(?, ?, ?, ?, ?, ?)";

absl::Status ValidateHandoff(const OutboxMessage& m) {
  if (m.target.empty() || m.method.empty() || m.idempotency_key.empty()) {
    return absl::InvalidArgumentError("hand-off needs a target, a method and a key");
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<Migration> OutboxMigrations() {
  return {EngineMigration("outbox", 1, kOutboxV1),
          // The receiver's error message beside its code, so a parked hand-off says why
          // (an existing outbox gains the column; old rows keep an empty message).
          {"outbox", 2,
           "ALTER TABLE outbox ADD COLUMN last_error_message TEXT NOT NULL DEFAULT '';"},
          // Until when a dispatcher has claimed the row to send it (microseconds; 0:
          // unclaimed), so dispatchers of several replicas never send one row twice.
          {"outbox", 3,
           "ALTER TABLE outbox ADD COLUMN claimed_until_us BIGINT NOT NULL DEFAULT 0;"}};
}

absl::Status EnqueueHandoff(Transaction& tx, const OutboxMessage& m, absl::Time now) {
  RETURN_IF_ERROR(ValidateHandoff(m));
  const int64_t us = absl::ToUnixMicros(now);
  return tx.Exec(kInsertHandoff,
                 {m.target, m.method, Blob{m.payload}, m.idempotency_key, us, us});
}

absl::StatusOr<bool> EnqueueHandoffOnce(Transaction& tx, const OutboxMessage& m,
                                        absl::Time now) {
  RETURN_IF_ERROR(ValidateHandoff(m));
  const int64_t us = absl::ToUnixMicros(now);
  RETURN_IF_ERROR(tx.Exec(absl::StrCat(kInsertHandoff, " ON CONFLICT(idempotency_key) DO NOTHING"),
                          {m.target, m.method, Blob{m.payload}, m.idempotency_key, us, us}));
  return tx.ChangedRows() > 0;
}

absl::StatusOr<bool> HasOutbox(Store& store) {
  bool has_outbox = false;
  // schema_migrations is the store's own bookkeeping (every implementation keeps it):
  // asking it tells "no outbox" apart from a real error without parsing SQL errors.
  RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     tx.Query("SELECT COUNT(*) FROM schema_migrations WHERE component = ?",
                              {std::string("outbox")}));
    has_outbox = !rows.empty() && rows[0].GetInt(0) > 0;
    return absl::OkStatus();
  }));
  return has_outbox;
}

absl::StatusOr<OutboxSummary> SummarizeOutbox(Store& store) {
  OutboxSummary s;
  RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     tx.Query("SELECT state, COUNT(*), MIN(created_us) FROM outbox GROUP BY state"));
    for (const Row& r : rows) {
      const std::string& state = r.GetString(0);
      if (state == "pending") {
        s.pending = r.GetInt(1);
        s.oldest_pending = absl::FromUnixMicros(r.GetInt(2));
      } else if (state == "parked") {
        s.parked = r.GetInt(1);
      } else if (state == "delivered") {
        s.delivered = r.GetInt(1);
      }
    }
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
  std::vector<Row> rows;
  if (which.all) {
    ASSIGN_OR_RETURN(rows, tx.Query("SELECT id FROM outbox WHERE state = 'parked'"
                                    " AND (CAST(? AS TEXT) = '' OR target = ?) ORDER BY id",
                                    {which.target, which.target}));
  } else {
    std::vector<int64_t> ids = which.ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (int64_t id : ids) {
      ASSIGN_OR_RETURN(std::vector<Row> one,
                       tx.Query("SELECT id FROM outbox WHERE id = ? AND state = 'parked'"
                                " AND (CAST(? AS TEXT) = '' OR target = ?)",
                                {id, which.target, which.target}));
      for (Row& r : one) rows.push_back(std::move(r));
    }
  }
  std::vector<int64_t> replayed;
  for (const Row& r : rows) {
    // Due at once, with a fresh backoff; the last error stays until the next attempt.
    RETURN_IF_ERROR(tx.Exec(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_us = ? WHERE id = ?",
        {absl::ToUnixMicros(now), r.GetInt(0)}));
    replayed.push_back(r.GetInt(0));
  }
  return replayed;
}

absl::StatusOr<std::vector<OutboxRow>> ListStuckHandoffs(Store& store, absl::Time created_before,
                                                         int limit) {
  std::vector<OutboxRow> out;
  RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     tx.Query(absl::StrCat("SELECT ", kColumns,
                                           " FROM outbox WHERE state = 'parked' OR"
                                           " (state = 'pending' AND created_us < ?)"
                                           " ORDER BY id LIMIT ?"),
                              {absl::ToUnixMicros(created_before), int64_t{limit}}));
    for (const Row& r : rows) out.push_back(Decode(r));
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
    RETURN_IF_ERROR(tx.Exec(
        "UPDATE outbox SET claimed_until_us = ? WHERE id = ? AND state = 'pending'"
        " AND next_attempt_us <= ? AND claimed_until_us <= ?"
        " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending'"
        " AND p.target = outbox.target AND p.id < outbox.id)",
        {until_us, id, now_us, now_us}));
    claimed = tx.ChangedRows() == 1;
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
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        tx.Query(absl::StrCat("SELECT ", kColumns,
                              " FROM outbox o WHERE state = 'pending' AND next_attempt_us <= ?"
                              " AND claimed_until_us <= ?"
                              " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE"
                              " p.state = 'pending' AND p.target = o.target AND p.id < o.id"
                              " AND p.next_attempt_us > ?)"
                              " ORDER BY id LIMIT ?"),
                 {absl::ToUnixMicros(now), absl::ToUnixMicros(now), absl::ToUnixMicros(now),
                  int64_t{options_.batch}}));
    for (const Row& r : rows) due.push_back(Decode(r));
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
        return tx.Exec("UPDATE outbox SET state = 'delivered', attempts = attempts + 1,"
                       " delivered_us = ?, last_error = '', last_error_message = '',"
                       " claimed_until_us = 0 WHERE id = ?",
                       {now_us, row.id});
      });
    } else if (Retryable(s.code())) {
      held_back.insert(row.message.target);
      const int attempts = row.attempts + 1;
      marked = store_->Write([&](Transaction& tx) {
        return tx.Exec(
            "UPDATE outbox SET attempts = ?, next_attempt_us = ?, last_error = ?,"
            " last_error_message = ?, claimed_until_us = 0 WHERE id = ?",
            {int64_t{attempts}, now_us + absl::ToInt64Microseconds(BackoffAfter(attempts)),
             std::string(absl::StatusCodeToString(s.code())), KeptMessage(s), row.id});
      });
      log::Warning("handoff_retry", {{"target", row.message.target},
                                     {"attempts", attempts},
                                     {"code", absl::StatusCodeToString(s.code())}});
    } else {
      marked = store_->Write([&](Transaction& tx) {
        return tx.Exec("UPDATE outbox SET state = 'parked', attempts = attempts + 1,"
                       " last_error = ?, last_error_message = ?, claimed_until_us = 0 WHERE id = ?",
                       {std::string(absl::StatusCodeToString(s.code())), KeptMessage(s),
                        row.id});
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
