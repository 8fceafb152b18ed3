// Cross-service hand-offs, exactly once (DESIGN.md §5). A legal transition that
// touches another service writes an outbox row in the SAME transaction as the
// decision; a dispatcher delivers each row to its target with the row's
// idempotency key and retries with backoff until it is acknowledged. Receivers apply
// each key once (common/server/mutation.h) and answer a repeat with the first
// result, so a crash of either side at any point neither loses nor duplicates a
// hand-off.
//
//   // in the decision's transaction:
//   RETURN_IF_ERROR(EnqueueHandoff(tx, {"community_detox",
//       "/pathway.detox.v1.CommunityDetox/CloseForIsolation", request.SerializeAsString(),
//       absl::StrCat("qz-decision-", decision_id, "-close-sd")}, now));
//   // after the commit:
//   dispatcher->Notify();
//
// Rows that a receiver refuses for good (a permanent error) are parked, with the
// receiver's code and message, logged and reported by the reconciler; they are never
// dropped silently. An operator sees them (Operations.GetOutboxSummary, `pathwayctl
// outbox list`) and, once the cause is fixed, replays them (ReplayParkedHandoffs,
// Operations.ReplayParkedHandoffs, `pathwayctl outbox replay`).
//
// Order: rows to one target are delivered in the order they were enqueued (a measure's
// start reaches the registry before its end). A row waiting out its backoff holds
// back the later rows to the same target; a parked row does not.
//
// Replicas: each replica of a service runs its own dispatcher on the one shared
// database. A dispatcher claims a row (claimed_until_us, a lease of
// Options::claim_lease on its clock) in a short write before sending it, and only
// the oldest pending row of its target can be claimed; so two dispatchers never
// send one row at once, nor a target's rows out of order. Marking the outcome
// clears the claim. A dispatcher that dies while sending leaves the row claimed
// until the lease lapses; then any dispatcher sends it again (the receiver applies
// the key once).
//
// Thread-safe. Nothing passed in is owned; all must outlive the dispatcher.
#ifndef PATHWAY_COMMON_OUTBOX_OUTBOX_H_
#define PATHWAY_COMMON_OUTBOX_OUTBOX_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/service_token.h"
#include "common/clock/clock.h"
#include "common/store/store.h"
#include "common/tls/tls.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace pathway {

struct OutboxMessage {
  std::string target;           // the receiving service: "registry", "community_detox", ...
  std::string method;           // full gRPC method, "/package.Service/Method"
  std::string payload;          // the serialized request
  std::string idempotency_key;  // unique per hand-off; the receiver applies it once
};

// The outbox table, for the sending service's migrations.
std::vector<Migration> OutboxMigrations();

// Adds a hand-off in the caller's transaction. ALREADY_EXISTS if the key was
// already enqueued (the decision is being recorded twice).
absl::Status EnqueueHandoff(Transaction& tx, const OutboxMessage& message, absl::Time now);
// As EnqueueHandoff, but a key already enqueued leaves that row as it is and the
// transaction usable: true if the hand-off was added, false if it was there already.
absl::StatusOr<bool> EnqueueHandoffOnce(Transaction& tx, const OutboxMessage& message,
                                        absl::Time now);

struct OutboxRow {
  int64_t id = 0;
  OutboxMessage message;
  std::string state;  // "pending", "delivered" or "parked"
  int attempts = 0;
  absl::Time created_at;
  absl::Time next_attempt_at;
  std::string last_error;  // status code name of the last failure
  // The receiver's message of the last failure (at most kMaxOutboxErrorMessage bytes).
  std::string last_error_message;
};

// Longest receiver message kept on a row.
inline constexpr size_t kMaxOutboxErrorMessage = 500;

// Which parked rows to replay: those with the given ids, or all of them (optionally
// only those to one target).
struct ParkedSelection {
  std::vector<int64_t> ids;
  bool all = false;
  std::string target;  // empty: any target
};

// Puts the selected parked rows back to pending, due at `now` with a fresh backoff, in
// the caller's transaction (so the caller audits it alongside). Returns the ids
// replayed, ascending; ids that are not parked are skipped. INVALID_ARGUMENT when the
// selection names nothing. The dispatcher delivers them at its next run, in id order
// with the target's other rows.
absl::StatusOr<std::vector<int64_t>> ReplayParkedHandoffs(Transaction& tx,
                                                          const ParkedSelection& which,
                                                          absl::Time now);

// True when the store holds the outbox table (a service that sends hand-offs).
absl::StatusOr<bool> HasOutbox(Store& store);

struct OutboxSummary {
  int64_t pending = 0;
  int64_t parked = 0;
  int64_t delivered = 0;
  absl::Time oldest_pending = absl::InfiniteFuture();
};
absl::StatusOr<OutboxSummary> SummarizeOutbox(Store& store);

// How far the outbox has come: the highest row id handed out and the rows kept
// (what a backup's manifest records). Zeros when the store keeps no outbox.
struct OutboxHighWater {
  int64_t max_id = 0;
  int64_t rows = 0;
};
absl::StatusOr<OutboxHighWater> ReadOutboxHighWater(ReadTransaction& tx);
// Pending rows older than `created_before` and every parked row: what the
// reconciler reports as stuck.
absl::StatusOr<std::vector<OutboxRow>> ListStuckHandoffs(Store& store, absl::Time created_before,
                                                         int limit);

// Sends one hand-off to its target; returns the receiver's status.
class Deliverer {
 public:
  virtual ~Deliverer() = default;
  virtual absl::Status Deliver(const OutboxMessage& message, absl::Time deadline) = 0;
};

// Delivers over gRPC with a generic stub (the payload is sent as is), a service
// token and the idempotency-key header.
class GrpcDeliverer final : public Deliverer {
 public:
  // `targets` maps a target name to host:port. `tokens` is not owned. `security`:
  // the sending service's TLS towards its peers (ServiceRuntime::peer_security).
  GrpcDeliverer(std::map<std::string, std::string> targets, const ServiceTokenSource* tokens,
                ChannelSecurity security);
  ~GrpcDeliverer() override;

  absl::Status Deliver(const OutboxMessage& message, absl::Time deadline) override;

 private:
  std::map<std::string, std::string> targets_;
  const ServiceTokenSource* tokens_;
  const ChannelSecurity security_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
};

class OutboxDispatcher {
 public:
  struct Options {
    absl::Duration poll_interval = absl::Seconds(1);
    absl::Duration call_timeout = absl::Seconds(5);
    absl::Duration initial_backoff = absl::Milliseconds(500);
    absl::Duration max_backoff = absl::Minutes(5);
    int batch = 100;
    // How long a claimed row is reserved for this dispatcher while it sends it;
    // at least call_timeout + 1 s is used. After a crash mid-send, the row waits
    // this long before another dispatcher (or this one restarted) sends it.
    absl::Duration claim_lease = absl::Seconds(7);
    // TEST-ONLY (tests/handoff): called after a delivery was acknowledged and before
    // it is marked delivered, so a test can crash the sender in exactly that window.
    // Unset in production.
    std::function<void()> after_ack;
  };

  OutboxDispatcher(Store* store, Deliverer* deliverer, const Clock* clock, Options options);
  ~OutboxDispatcher();

  // Runs the delivery loop on a thread of its own until Stop().
  void Start();
  void Stop();
  // Wakes the loop now, e.g. right after a commit that enqueued a hand-off.
  void Notify();

  // Attempts every row that is due at clock->Now(), oldest first; returns how many
  // were acknowledged. What the thread runs; tests call it directly.
  absl::StatusOr<int> RunOnce();

  // Exponential backoff before attempt `attempts + 1`, capped, without jitter.
  absl::Duration BackoffAfter(int attempts) const;
  // The claim lease in use (Options::claim_lease, at least call_timeout + 1 s).
  absl::Duration ClaimLease() const;

 private:
  void Loop();
  // Claims row `id` for sending now: true if this dispatcher got it; false if it
  // is not pending and due, is claimed by another dispatcher, or an earlier row
  // to its target is still pending.
  absl::StatusOr<bool> Claim(int64_t id);

  Store* store_;
  Deliverer* deliverer_;
  const Clock* clock_;
  Options options_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_OUTBOX_OUTBOX_H_
