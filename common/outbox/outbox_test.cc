#include "common/outbox/outbox.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "common/status/status_macros.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

// Records what it was asked to deliver and answers with scripted statuses.
class FakeDeliverer final : public Deliverer {
 public:
  absl::Status Deliver(const OutboxMessage& m, absl::Time) override {
    delivered.push_back(m);
    if (script.empty()) return absl::OkStatus();
    absl::Status s = script.front();
    script.pop_front();
    return s;
  }
  std::deque<absl::Status> script;
  std::vector<OutboxMessage> delivered;
};

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = TestDatabaseUriOrDie("outbox");
    Reopen();
  }
  static std::vector<Migration> Migrations() {
    std::vector<Migration> m = OutboxMigrations();
    m.push_back({"decisions", 1, "CREATE TABLE decisions (id TEXT PRIMARY KEY)"});
    return m;
  }
  // Opens the sender's database (again): its SQLite file, or its PostgreSQL database.
  std::unique_ptr<Store> OpenSender() {
    OpenStoreOptions where;
    where.default_sqlite_path = dir_.path() + "/sender.db";
    auto store = OpenStore(database_, Migrations(), nullptr, where);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  void Reopen() {
    store_.reset();
    store_ = OpenSender();
    ASSERT_NE(store_, nullptr);
  }

  // A decision and its hand-off in one transaction; `fail` rolls both back.
  absl::Status Decide(const std::string& id, bool fail = false) {
    return store_->Write([&](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO decisions VALUES(?)", {id}));
      RETURN_IF_ERROR(EnqueueHandoff(
          tx, {"community_detox", "/pathway.detox.v1.CommunityDetox/Close", "payload-" + id,
               "qz-" + id + "-close-sd"},
          clock_.Now()));
      if (fail) return absl::FailedPreconditionError("refused");
      return absl::OkStatus();
    });
  }

  ScopedTempDir dir_;
  std::string database_;  // "" (SQLite in dir_) or a PostgreSQL URI
  FakeClock clock_{absl::FromUnixSeconds(1795000000)};
  std::unique_ptr<Store> store_;
  FakeDeliverer deliverer_;
  OutboxDispatcher::Options options_;
};

TEST_F(OutboxTest, HandOffCommitsOrRollsBackWithItsDecision) {
  ASSERT_TRUE(Decide("d1").ok());
  EXPECT_FALSE(Decide("d2", /*fail=*/true).ok());
  auto summary = SummarizeOutbox(*store_);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->pending, 1);
  // The same hand-off cannot be enqueued twice.
  EXPECT_EQ(store_->Write([&](Transaction& tx) {
              return EnqueueHandoff(tx, {"community_detox", "/m", "p", "qz-d1-close-sd"},
                                    clock_.Now());
            }).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(OutboxTest, DeliversOnceWithItsKeyAndPayload) {
  ASSERT_TRUE(Decide("d1").ok());
  OutboxDispatcher d(store_.get(), &deliverer_, &clock_, options_);
  EXPECT_EQ(*d.RunOnce(), 1);
  EXPECT_EQ(*d.RunOnce(), 0) << "acknowledged rows are not sent again";
  ASSERT_EQ(deliverer_.delivered.size(), 1u);
  EXPECT_EQ(deliverer_.delivered[0].idempotency_key, "qz-d1-close-sd");
  EXPECT_EQ(deliverer_.delivered[0].payload, "payload-d1");
  EXPECT_EQ(SummarizeOutbox(*store_)->delivered, 1);
}

TEST_F(OutboxTest, RetriesWithBackoffUntilAcknowledged) {
  ASSERT_TRUE(Decide("d1").ok());
  deliverer_.script = {absl::UnavailableError("down"), absl::DeadlineExceededError("slow")};
  OutboxDispatcher d(store_.get(), &deliverer_, &clock_, options_);
  EXPECT_EQ(*d.RunOnce(), 0);
  EXPECT_EQ(*d.RunOnce(), 0);
  EXPECT_EQ(deliverer_.delivered.size(), 1u) << "not due again before the backoff";
  clock_.Advance(d.BackoffAfter(1));
  EXPECT_EQ(*d.RunOnce(), 0);  // the second failure
  EXPECT_EQ(deliverer_.delivered.size(), 2u);
  clock_.Advance(d.BackoffAfter(2) - absl::Milliseconds(1));
  EXPECT_EQ(*d.RunOnce(), 0);
  EXPECT_EQ(deliverer_.delivered.size(), 2u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(*d.RunOnce(), 1);
  EXPECT_EQ(deliverer_.delivered.size(), 3u);
  EXPECT_EQ(d.BackoffAfter(1), absl::Milliseconds(500));
  EXPECT_EQ(d.BackoffAfter(2), absl::Seconds(1));
  EXPECT_EQ(d.BackoffAfter(40), absl::Minutes(5)) << "capped";
}

TEST_F(OutboxTest, PermanentRefusalIsParkedAndReportedNeverDropped) {
  ASSERT_TRUE(Decide("d1").ok());
  deliverer_.script = {absl::InvalidArgumentError("bad request")};
  OutboxDispatcher d(store_.get(), &deliverer_, &clock_, options_);
  EXPECT_EQ(*d.RunOnce(), 0);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(*d.RunOnce(), 0);
  EXPECT_EQ(deliverer_.delivered.size(), 1u) << "a parked row is not retried";
  auto stuck = ListStuckHandoffs(*store_, clock_.Now(), 10);
  ASSERT_TRUE(stuck.ok());
  ASSERT_EQ(stuck->size(), 1u);
  EXPECT_EQ((*stuck)[0].state, "parked");
  EXPECT_EQ((*stuck)[0].last_error, "INVALID_ARGUMENT");
  EXPECT_EQ((*stuck)[0].last_error_message, "bad request") << "the message, not only the code";
}

TEST_F(OutboxTest, AParkedRowIsReplayedAndThenDelivered) {
  ASSERT_TRUE(Decide("d1").ok());
  ASSERT_TRUE(Decide("d2").ok());
  deliverer_.script = {absl::FailedPreconditionError("effective_on: before the record begins"),
                       absl::NotFoundError("case not found")};
  OutboxDispatcher d(store_.get(), &deliverer_, &clock_, options_);
  EXPECT_EQ(*d.RunOnce(), 0);
  ASSERT_EQ(SummarizeOutbox(*store_)->parked, 2);
  // Nothing is named: refused. A row that is not parked is skipped.
  EXPECT_EQ(store_->Write([&](Transaction& tx) {
              return ReplayParkedHandoffs(tx, {}, clock_.Now()).status();
            }).code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<int64_t> replayed;
  ASSERT_TRUE(store_->Write([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(replayed, ReplayParkedHandoffs(tx, {{1, 99}, false, ""}, clock_.Now()));
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(replayed, std::vector<int64_t>{1});
  auto stuck = ListStuckHandoffs(*store_, clock_.Now() - absl::Hours(1), 10);
  ASSERT_EQ(stuck->size(), 1u) << "the replayed row is pending again, and new";
  EXPECT_EQ((*stuck)[0].id, 2);
  EXPECT_EQ(*d.RunOnce(), 1);
  auto summary = SummarizeOutbox(*store_);
  EXPECT_EQ(summary->delivered, 1);
  EXPECT_EQ(summary->parked, 1);
  EXPECT_EQ(deliverer_.delivered.back().idempotency_key, "qz-d1-close-sd");
  // All parked rows of a target.
  ASSERT_TRUE(store_->Write([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(replayed, ReplayParkedHandoffs(tx, {{}, true, "registry"}, clock_.Now()));
    return absl::OkStatus();
  }).ok());
  EXPECT_TRUE(replayed.empty());
  ASSERT_TRUE(store_->Write([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(replayed,
                     ReplayParkedHandoffs(tx, {{}, true, "community_detox"}, clock_.Now()));
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(replayed, std::vector<int64_t>{2});
  EXPECT_EQ(*d.RunOnce(), 1);
  EXPECT_EQ(SummarizeOutbox(*store_)->parked, 0);
}

TEST_F(OutboxTest, AnOutboxFileFromBeforeTheMessageColumnIsMigrated) {
  // An outbox written by the first schema, with a parked row.
  store_.reset();
  const std::string database = TestDatabaseUriOrDie("outbox_old");
  OpenStoreOptions where;
  where.default_sqlite_path = dir_.path() + "/old.db";
  {
    auto old = OpenStore(database, {OutboxMigrations()[0]}, nullptr, where);
    ASSERT_TRUE(old.ok()) << old.status();
    ASSERT_TRUE((*old)->Write([&](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(EnqueueHandoff(tx, {"placement", "/m", "p", "k-old"}, clock_.Now()));
      return tx.Exec("UPDATE outbox SET state = 'parked', last_error = 'INVALID_ARGUMENT'");
    }).ok());
  }
  auto reopened = OpenStore(database, OutboxMigrations(), nullptr, where);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto stuck = ListStuckHandoffs(**reopened, clock_.Now(), 10);
  ASSERT_TRUE(stuck.ok()) << stuck.status();
  ASSERT_EQ(stuck->size(), 1u);
  EXPECT_EQ((*stuck)[0].last_error, "INVALID_ARGUMENT");
  EXPECT_EQ((*stuck)[0].last_error_message, "");
  deliverer_.script = {absl::InvalidArgumentError("still refused")};
  ASSERT_TRUE((*reopened)->Write([&](Transaction& tx) {
    return ReplayParkedHandoffs(tx, {{}, true, ""}, clock_.Now()).status();
  }).ok());
  OutboxDispatcher d(reopened->get(), &deliverer_, &clock_, options_);
  EXPECT_EQ(*d.RunOnce(), 0);
  stuck = ListStuckHandoffs(**reopened, clock_.Now(), 10);
  ASSERT_EQ(stuck->size(), 1u);
  EXPECT_EQ((*stuck)[0].last_error_message, "still refused");
}

TEST_F(OutboxTest, SurvivesARestartOfTheSender) {
  ASSERT_TRUE(Decide("d1").ok());
  ASSERT_TRUE(Decide("d2").ok());
  Reopen();  // the process died before delivering anything
  OutboxDispatcher d(store_.get(), &deliverer_, &clock_, options_);
  EXPECT_EQ(*d.RunOnce(), 2);
  ASSERT_EQ(deliverer_.delivered.size(), 2u);
  EXPECT_EQ(deliverer_.delivered[0].idempotency_key, "qz-d1-close-sd") << "oldest first";
}

TEST_F(OutboxTest, RowsToOneTargetKeepTheirOrderThroughRetries) {
  // Two events for the registry and one hand-off to another target.
  ASSERT_TRUE(store_->Write([&](Transaction& tx) -> absl::Status {
                RETURN_IF_ERROR(EnqueueHandoff(tx, {"registry", "/r", "start", "k-start"},
                                               clock_.Now()));
                RETURN_IF_ERROR(EnqueueHandoff(tx, {"registry", "/r", "end", "k-end"},
                                               clock_.Now()));
                return EnqueueHandoff(tx, {"community_detox", "/d", "close", "k-close"},
                                      clock_.Now());
              }).ok());
  deliverer_.script = {absl::UnavailableError("registry down")};
  OutboxDispatcher d(store_.get(), &deliverer_, &clock_, options_);
  // The first registry row fails: the second waits behind it; the other target goes.
  EXPECT_EQ(*d.RunOnce(), 1);
  ASSERT_EQ(deliverer_.delivered.size(), 2u);
  EXPECT_EQ(deliverer_.delivered[0].idempotency_key, "k-start");
  EXPECT_EQ(deliverer_.delivered[1].idempotency_key, "k-close");
  EXPECT_EQ(*d.RunOnce(), 0) << "k-end is held back while k-start waits out its backoff";
  EXPECT_EQ(deliverer_.delivered.size(), 2u);
  clock_.Advance(d.BackoffAfter(1));
  EXPECT_EQ(*d.RunOnce(), 2);
  ASSERT_EQ(deliverer_.delivered.size(), 4u);
  EXPECT_EQ(deliverer_.delivered[2].idempotency_key, "k-start");
  EXPECT_EQ(deliverer_.delivered[3].idempotency_key, "k-end");
}

TEST_F(OutboxTest, AfterAckHookRunsBetweenAcknowledgementAndMarking) {
  ASSERT_TRUE(Decide("d1").ok());
  int64_t delivered_when_hooked = -1;
  options_.after_ack = [&] { delivered_when_hooked = SummarizeOutbox(*store_)->delivered; };
  OutboxDispatcher d(store_.get(), &deliverer_, &clock_, options_);
  EXPECT_EQ(*d.RunOnce(), 1);
  EXPECT_EQ(delivered_when_hooked, 0) << "a crash here leaves the row pending: it is re-sent";
  EXPECT_EQ(SummarizeOutbox(*store_)->delivered, 1);
}

// Sends each message to the deliverer it wraps; during its first send it runs
// `other` once, as a dispatcher of another replica running at that moment.
class InterleavingDeliverer final : public Deliverer {
 public:
  absl::Status Deliver(const OutboxMessage& m, absl::Time deadline) override {
    delivered.push_back(m);
    if (other != nullptr && !ran) {
      ran = true;
      other_result = other();
    }
    return inner.Deliver(m, deadline);
  }
  FakeDeliverer inner;
  std::function<absl::StatusOr<int>()> other;
  absl::StatusOr<int> other_result = absl::UnknownError("not run");
  bool ran = false;
  std::vector<OutboxMessage> delivered;
};

std::vector<std::string> Keys(const std::vector<OutboxMessage>& messages) {
  std::vector<std::string> keys;
  for (const OutboxMessage& m : messages) keys.push_back(m.idempotency_key);
  return keys;
}

// Replicas share one database and each runs a dispatcher (on PostgreSQL, through
// stores of their own; one SQLite file has one writer process, so there the two
// dispatchers share the store). While one sends a row, the other neither sends
// that row nor a later row to the same target; it sends another target's row,
// which the first then leaves alone.
TEST_F(OutboxTest, TwoDispatchersNeverSendOneRowTwiceAndKeepEachTargetsOrder) {
  ASSERT_TRUE(store_->Write([&](Transaction& tx) -> absl::Status {
                RETURN_IF_ERROR(EnqueueHandoff(tx, {"registry", "/r", "start", "k-start"},
                                               clock_.Now()));
                RETURN_IF_ERROR(EnqueueHandoff(tx, {"registry", "/r", "end", "k-end"},
                                               clock_.Now()));
                return EnqueueHandoff(tx, {"community_detox", "/d", "close", "k-close"},
                                      clock_.Now());
              }).ok());
  std::unique_ptr<Store> second;
  if (TestDatabaseEngine() == "postgres") {
    second = OpenSender();
    ASSERT_NE(second, nullptr);
  }
  FakeDeliverer other_deliverer;
  OutboxDispatcher other(second != nullptr ? second.get() : store_.get(), &other_deliverer,
                         &clock_, options_);
  InterleavingDeliverer deliverer;
  deliverer.other = [&] { return other.RunOnce(); };
  OutboxDispatcher d(store_.get(), &deliverer, &clock_, options_);
  absl::StatusOr<int> sent = d.RunOnce();
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_TRUE(deliverer.other_result.ok()) << deliverer.other_result.status();
  EXPECT_EQ(Keys(deliverer.delivered), (std::vector<std::string>{"k-start", "k-end"}));
  EXPECT_EQ(Keys(other_deliverer.delivered), std::vector<std::string>{"k-close"})
      << "the row being sent and the row behind it are left to the first dispatcher";
  EXPECT_EQ(*sent, 2);
  EXPECT_EQ(*deliverer.other_result, 1);
  EXPECT_EQ(SummarizeOutbox(*store_)->delivered, 3);
  EXPECT_EQ(*other.RunOnce(), 0);
  EXPECT_EQ(*d.RunOnce(), 0);
}

// A dispatcher that dies (or hangs) while sending leaves its claim; once the lease
// lapses, another dispatcher sends the row (the receiver applies its key once).
TEST_F(OutboxTest, AClaimLapsesAfterItsLeaseSoAStuckDispatchersRowIsSentAgain) {
  ASSERT_TRUE(Decide("d1").ok());
  FakeDeliverer other_deliverer;
  OutboxDispatcher other(store_.get(), &other_deliverer, &clock_, options_);
  absl::StatusOr<int> while_claimed = absl::UnknownError("not run");
  absl::StatusOr<int> after_lease = absl::UnknownError("not run");
  OutboxDispatcher::Options stuck = options_;
  // Between the acknowledgement and the marking: the row is still claimed.
  stuck.after_ack = [&] {
    while_claimed = other.RunOnce();
    clock_.Advance(other.ClaimLease());
    after_lease = other.RunOnce();
  };
  OutboxDispatcher d(store_.get(), &deliverer_, &clock_, stuck);
  ASSERT_TRUE(d.RunOnce().ok());
  ASSERT_TRUE(while_claimed.ok()) << while_claimed.status();
  EXPECT_EQ(*while_claimed, 0) << "claimed by the first dispatcher";
  ASSERT_TRUE(after_lease.ok()) << after_lease.status();
  EXPECT_EQ(*after_lease, 1) << "the lease lapsed";
  EXPECT_EQ(Keys(other_deliverer.delivered), std::vector<std::string>{"qz-d1-close-sd"});
  EXPECT_GE(d.ClaimLease(), options_.call_timeout + absl::Seconds(1));
}

TEST_F(OutboxTest, BackgroundThreadDeliversWhenNotified) {
  options_.poll_interval = absl::Hours(1);  // only Notify can wake it in time
  OutboxDispatcher d(store_.get(), &deliverer_, &clock_, options_);
  d.Start();
  ASSERT_TRUE(Decide("d1").ok());
  d.Notify();
  // Wait for the delivery to be recorded: a bounded poll of the outcome.
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (SummarizeOutbox(*store_)->delivered == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  d.Stop();
  EXPECT_EQ(SummarizeOutbox(*store_)->delivered, 1);
}

// The gRPC deliverer against a real server: method, payload, key and token arrive.
TEST(GrpcDelivererTest, SendsPayloadKeyAndServiceTokenAndMapsStatus) {
  struct Seen {
    absl::Mutex mu;
    std::string method, payload, key, auth;
  } seen;
  class Handler : public grpc::CallbackGenericService {
   public:
    explicit Handler(Seen* s) : seen_(s) {}
    grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
      class R : public grpc::ServerGenericBidiReactor {
       public:
        R(grpc::GenericCallbackServerContext* ctx, Seen* seen) : ctx_(ctx), seen_(seen) {
          StartRead(&req_);
        }
        void OnReadDone(bool ok) override {
          if (!ok) return;
          std::vector<grpc::Slice> slices;
          (void)req_.Dump(&slices);
          std::string body;
          for (auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
          {
            absl::MutexLock lock(&seen_->mu);
            seen_->method = ctx_->method();
            seen_->payload = body;
            auto md = ctx_->client_metadata();
            auto k = md.find("idempotency-key");
            if (k != md.end()) seen_->key = std::string(k->second.data(), k->second.size());
            auto a = md.find("authorization");
            if (a != md.end()) seen_->auth = std::string(a->second.data(), a->second.size());
          }
          if (body == "refuse") {
            Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no open order"));
            return;
          }
          grpc::Slice empty("");
          resp_ = grpc::ByteBuffer(&empty, 1);
          StartWriteAndFinish(&resp_, grpc::WriteOptions(), grpc::Status::OK);
        }
        void OnDone() override { delete this; }

       private:
        grpc::GenericCallbackServerContext* ctx_;
        Seen* seen_;
        grpc::ByteBuffer req_, resp_;
      };
      return new R(ctx, seen_);
    }

   private:
    Seen* seen_;
  } handler(&seen);
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterCallbackGenericService(&handler);
  auto server = b.BuildAndStart();
  ASSERT_NE(server, nullptr);

  FakeClock clock(absl::Now());
  auto signer = TokenSigner::Create("outbox-test-key-0123456789abcdefghijklmn");
  ServiceTokenSource tokens(signer->get(), &clock, "svc-compulsory_isolation");
  GrpcDeliverer deliverer({{"community_detox", absl::StrCat("127.0.0.1:", port)}}, &tokens,
                          PlaintextChannelSecurity());
  absl::Status s = deliverer.Deliver(
      {"community_detox", "/pathway.detox.v1.CommunityDetox/Close", "payload-bytes", "k-1"},
      absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(s.ok()) << s;
  {
    absl::MutexLock lock(&seen.mu);
    EXPECT_EQ(seen.method, "/pathway.detox.v1.CommunityDetox/Close");
    EXPECT_EQ(seen.payload, "payload-bytes");
    EXPECT_EQ(seen.key, "k-1");
    EXPECT_EQ(seen.auth.rfind("Bearer ", 0), 0u);
  }
  EXPECT_EQ(deliverer.Deliver({"community_detox", "/m", "refuse", "k-2"},
                              absl::Now() + absl::Seconds(10))
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(deliverer.Deliver({"nowhere", "/m", "p", "k-3"}, absl::Now() + absl::Seconds(10))
                .code(),
            absl::StatusCode::kFailedPrecondition);
  server->Shutdown();
  // A receiver that is down is retryable.
  EXPECT_EQ(deliverer.Deliver({"community_detox", "/m", "p", "k-4"},
                              absl::Now() + absl::Seconds(2))
                .code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace pathway
