// A service whose PostgreSQL server goes away under load: every write answers
// within its deadline (UNAVAILABLE or DEADLINE_EXCEEDED, never a hang or a crash),
// and once the server is back the same runtime writes again by itself.
#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/server/mutation.h"
#include "common/server/service_runtime.h"
#include "common/status/status_macros.h"
#include "common/store/testing_postgres.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "pathway/common/v1/common.pb.h"

namespace pathway {
namespace {

class DatabaseOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A server of this test's own: it is stopped and started again.
    auto pg = test::TestingPostgres::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = *std::move(pg);
    ASSERT_TRUE(pg_->CreateDatabase("outage").ok());
    ServerOptions o;
    o.service_name = "outage_test";
    o.data_dir = dir_.path();
    o.database = pg_->Uri("outage");
    o.token_key_file = dir_.path() + "/key";
    o.tls.plaintext = true;  // a test server on loopback
    std::ofstream(o.token_key_file) << "0123456789abcdef0123456789abcdef-test-key";
    RuntimeOverrides overrides;
    overrides.cache = std::make_unique<InMemoryStatusCache>();
    auto rt = ServiceRuntime::Open(
        o, {{"outage_test", 1, "CREATE TABLE notes (n BIGINT NOT NULL)"}}, std::move(overrides));
    ASSERT_TRUE(rt.ok()) << rt.status();
    runtime_ = *std::move(rt);
    caller_.claims.subject = "caseworker-7";
    caller_.claims.role = Role::kCaseworker;
    caller_.claims.jurisdiction = "520102";
  }

  // One keyless write with a 2 s deadline, as a handler would run it.
  absl::Status AddNote(int64_t n) {
    common::v1::GetProgramStatusRequest request;
    common::v1::ProgramStatus response;
    return RunMutation(*runtime_,
                       {&caller_, "/test.Notes/Add", std::nullopt, &request,
                        absl::Now() + absl::Seconds(2)},
                       &response, [&](Transaction& tx, std::string*) {
                         return tx.Exec("INSERT INTO notes VALUES(?)", {n});
                       });
  }

  ScopedTempDir dir_;
  std::unique_ptr<test::TestingPostgres> pg_;
  std::unique_ptr<ServiceRuntime> runtime_;
  Caller caller_;
};

TEST_F(DatabaseOutageTest, WritesAnswerWithinTheirDeadlineAndRecoverWhenTheServerReturns) {
  ASSERT_TRUE(AddNote(0).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, unavailable{0}, late{0}, other{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int64_t i = 1; !stop.load(); ++i) {
        const absl::Time start = absl::Now();
        absl::Status s = AddNote(t * 1000000 + i);
        // The 2 s deadline, plus what a store call may take to notice it.
        if (absl::Now() - start > absl::Seconds(4)) ++late;
        if (s.ok()) {
          ++ok;
        } else if (s.code() == absl::StatusCode::kUnavailable ||
                   s.code() == absl::StatusCode::kDeadlineExceeded) {
          ++unavailable;
        } else {
          ++other;
          ADD_FAILURE() << s;
        }
      }
    });
  }
  // Under load: the server goes away while writes are in flight.
  while (ok.load() < 20) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_TRUE(pg_->Stop().ok());
  const int unavailable_before = unavailable.load();
  while (unavailable.load() < unavailable_before + 8) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_TRUE(pg_->StartAgain().ok());
  // The same runtime writes again by itself once the server is back.
  const int ok_after_restart = ok.load();
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (ok.load() < ok_after_restart + 20 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  stop = true;
  for (auto& w : writers) w.join();
  EXPECT_GE(ok.load(), ok_after_restart + 20) << "no recovery after the server came back";
  EXPECT_GE(unavailable.load(), 8);
  EXPECT_EQ(late.load(), 0) << "a write outlived its deadline";
  EXPECT_EQ(other.load(), 0);
}

}  // namespace
}  // namespace pathway
