#include "common/server/mutation.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>

#include "common/audit/audit_log.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/auth/role.h"
#include "common/clock/clock.h"
#include "common/idempotency/idempotency.h"
#include "common/status/status_macros.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "pathway/common/v1/common.pb.h"

namespace pathway {
namespace {

constexpr char kCaseId[] = "520102-2026-0000042-2";

class MutationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.service_name = "mutation_test";
    o.data_dir = dir_.path();
    o.database = TestDatabaseUriOrDie("mutation");
    o.token_key_file = dir_.path() + "/key";
    o.tls.plaintext = true;  // a test server on loopback
    std::ofstream(o.token_key_file) << "0123456789abcdef0123456789abcdef-test-key";
    RuntimeOverrides overrides;
    overrides.clock = &clock_;
    overrides.cache = std::make_unique<InMemoryStatusCache>();
    auto rt = ServiceRuntime::Open(
        o, {{"mutation_test", 1, "CREATE TABLE notes (case_id TEXT NOT NULL, text TEXT NOT NULL)"}},
        std::move(overrides));
    ASSERT_TRUE(rt.ok()) << rt.status();
    runtime_ = *std::move(rt);
    caller_.claims.subject = "caseworker-7";
    caller_.claims.role = Role::kCaseworker;
    caller_.claims.jurisdiction = "520102";
  }

  // A stand-in mutating RPC: inserts a note and answers with the row count.
  absl::Status AddNote(const std::optional<std::string>& key, const std::string& text,
                       common::v1::ProgramStatus* response, int* runs,
                       absl::Time deadline = absl::InfiniteFuture()) {
    common::v1::GetProgramStatusRequest request;  // any message serves as the request
    request.set_case_id(text);
    return RunMutation(*runtime_, {&caller_, "/test.Notes/Add", key, &request, deadline},
                       response,
                       [&](Transaction& tx, std::string* audit_case_id) -> absl::Status {
                         ++*runs;
                         *audit_case_id = kCaseId;
                         if (text.empty()) return absl::InvalidArgumentError("text is empty");
                         RETURN_IF_ERROR(tx.Exec("INSERT INTO notes VALUES(?, ?)", {kCaseId, text}));
                         ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM notes"));
                         response->set_version(rows[0].GetInt(0));
                         return absl::OkStatus();
                       });
  }

  int64_t Notes() {
    int64_t n = -1;
    EXPECT_TRUE(runtime_->store()
                    .Read([&](ReadTransaction& tx) -> absl::Status {
                      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM notes"));
                      n = rows[0].GetInt(0);
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  std::vector<AuditRow> Audit() {
    EXPECT_TRUE(runtime_->read_audit().Flush().ok());
    AuditFilter f;
    f.limit = 1000;
    auto rows = ListAudit(runtime_->store(), f);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<AuditRow>{};
  }

  ScopedTempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1795000000)};
  std::unique_ptr<ServiceRuntime> runtime_;
  Caller caller_;
};

TEST_F(MutationTest, WithoutKeyEveryCallApplies) {
  common::v1::ProgramStatus r;
  int runs = 0;
  ASSERT_TRUE(AddNote(std::nullopt, "a", &r, &runs).ok());
  ASSERT_TRUE(AddNote(std::nullopt, "a", &r, &runs).ok());
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(Notes(), 2);
  EXPECT_EQ(r.version(), 2);
}

// Deadlines are wall-clock (they come from gRPC); the injected clock is not used.
TEST_F(MutationTest, WithoutKeyAWriteThatCouldCommitLateIsNotRun) {
  common::v1::ProgramStatus r;
  int runs = 0;
  // Less than the commit allowance left: it could only commit after the deadline.
  absl::Status s = AddNote(std::nullopt, "a", &r, &runs, absl::Now() + kCommitAllowance / 5);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  s = AddNote(std::nullopt, "b", &r, &runs, absl::Now() - absl::Seconds(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(Notes(), 0);
  // With time to spare, with or without a key, the write commits.
  ASSERT_TRUE(AddNote("late-1", "c", &r, &runs, absl::Now() + absl::Seconds(30)).ok());
  ASSERT_TRUE(AddNote(std::nullopt, "d", &r, &runs, absl::Now() + absl::Seconds(30)).ok());
  EXPECT_EQ(Notes(), 2);
}

TEST_F(MutationTest, RepeatWithSameKeyReplaysFirstResult) {
  common::v1::ProgramStatus first, second;
  int runs = 0;
  ASSERT_TRUE(AddNote("retry-1", "a", &first, &runs).ok());
  ASSERT_TRUE(AddNote("retry-1", "a", &second, &runs).ok());
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(Notes(), 1);
  EXPECT_EQ(second.version(), first.version());
  // A new key is a new request.
  ASSERT_TRUE(AddNote("retry-2", "a", &second, &runs).ok());
  EXPECT_EQ(Notes(), 2);
}

TEST_F(MutationTest, SameKeyDifferentRequestIsRefused) {
  common::v1::ProgramStatus r;
  int runs = 0;
  ASSERT_TRUE(AddNote("k", "a", &r, &runs).ok());
  absl::Status s = AddNote("k", "b", &r, &runs);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("idempotency-key"), absl::string_view::npos) << s;
  EXPECT_EQ(Notes(), 1);
  EXPECT_EQ(runs, 1);
}

// A kept response was shaped by the first caller's authority: the same user under
// another role or jurisdiction is refused, not handed it.
TEST_F(MutationTest, KeptResponseIsNotReplayedUnderAnotherAuthority) {
  common::v1::ProgramStatus r;
  int runs = 0;
  ASSERT_TRUE(AddNote("k", "a", &r, &runs).ok());
  caller_.claims.jurisdiction = "530102";
  EXPECT_EQ(AddNote("k", "a", &r, &runs).code(), absl::StatusCode::kAlreadyExists);
  caller_.claims.jurisdiction = "520102";
  caller_.claims.role = Role::kAdmin;
  EXPECT_EQ(AddNote("k", "a", &r, &runs).code(), absl::StatusCode::kAlreadyExists);
  caller_.claims.role = Role::kCaseworker;
  ASSERT_TRUE(AddNote("k", "a", &r, &runs).ok());
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(Notes(), 1);
}

// With reread, only the case id is kept and a repeat is answered by reading again
// for the caller now asking.
TEST_F(MutationTest, RereadKeepsOnlyTheCaseIdAndAnswersForTheCallerNow) {
  common::v1::GetProgramStatusRequest request;
  request.set_case_id(kCaseId);
  int runs = 0, rereads = 0;
  bool visible = true;
  auto add = [&](common::v1::ProgramStatus* response) {
    Mutation m{&caller_, "/test.Notes/Add", std::string("k"), &request};
    m.reread = [&](ReadTransaction& tx, absl::string_view case_id,
                   google::protobuf::Message* out) -> absl::Status {
      ++rereads;
      if (!visible) return absl::NotFoundError("case not found");
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM notes"));
      auto* status = static_cast<common::v1::ProgramStatus*>(out);
      status->set_case_id(std::string(case_id));
      status->set_state(std::string(RoleName(caller_.role())));
      status->set_version(rows[0].GetInt(0));
      return absl::OkStatus();
    };
    return RunMutation(*runtime_, m, response,
                       [&](Transaction& tx, std::string* audit_case_id) -> absl::Status {
                         ++runs;
                         *audit_case_id = kCaseId;
                         RETURN_IF_ERROR(tx.Exec("INSERT INTO notes VALUES(?, 'secret-note')",
                                                 {std::string(kCaseId)}));
                         response->set_state("secret-note");
                         return absl::OkStatus();
                       });
  };
  common::v1::ProgramStatus first, again;
  ASSERT_TRUE(add(&first).ok());
  EXPECT_EQ(first.state(), "secret-note");
  ASSERT_TRUE(runtime_->store()
                  .Read([&](ReadTransaction& tx) -> absl::Status {
                    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT stored FROM idempotency_keys"));
                    EXPECT_EQ(rows.size(), 1u);
                    EXPECT_EQ(rows[0].GetString(0), kCaseId) << "the case id, not the response";
                    return absl::OkStatus();
                  })
                  .ok());
  caller_.claims.role = Role::kAdmin;  // the same user, another authority
  ASSERT_TRUE(add(&again).ok());
  EXPECT_EQ(again.case_id(), kCaseId);
  EXPECT_EQ(again.state(), "admin") << "answered for the caller now asking";
  EXPECT_EQ(again.version(), 1);
  visible = false;
  EXPECT_EQ(add(&again).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(again.ByteSizeLong(), 0u) << "nothing is answered for a case not seen";
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(rereads, 2);
  EXPECT_EQ(Notes(), 1);
  std::vector<AuditRow> rows = Audit();
  ASSERT_EQ(rows.size(), 3u);
  int replayed = 0, hidden = 0;
  for (const AuditRow& row : rows) {
    if (row.entry.outcome == kReplayedOutcome) {
      ++replayed;
      EXPECT_EQ(row.entry.case_id, kCaseId);
    }
    if (row.entry.outcome == "NOT_FOUND") {
      ++hidden;
      EXPECT_EQ(row.entry.case_id, "") << "a case not seen is not recorded as seen";
    }
  }
  EXPECT_EQ(replayed, 1);
  EXPECT_EQ(hidden, 1);
}

TEST_F(MutationTest, ClientKeysExpireAfterADayHandoffKeysLater) {
  common::v1::ProgramStatus r;
  int runs = 0;
  ASSERT_TRUE(AddNote("k", "a", &r, &runs).ok());
  Caller service;
  service.claims.subject = "svc-isolation";
  service.claims.role = Role::kService;
  service.claims.jurisdiction = "*";
  std::swap(service, caller_);
  ASSERT_TRUE(AddNote("handoff-1", "a", &r, &runs).ok());
  std::swap(service, caller_);
  EXPECT_EQ(runs, 2);

  clock_.Advance(kIdempotencyKeyLifetime);
  ASSERT_TRUE(AddNote("k", "a", &r, &runs).ok());
  EXPECT_EQ(runs, 3) << "an expired key is a new request";
  std::swap(service, caller_);
  ASSERT_TRUE(AddNote("handoff-1", "a", &r, &runs).ok());
  EXPECT_EQ(runs, 3) << "a hand-off key outlives a day";
  clock_.Advance(kHandoffKeyLifetime);
  ASSERT_TRUE(AddNote("handoff-1", "a", &r, &runs).ok());
  EXPECT_EQ(runs, 4);
}

TEST_F(MutationTest, FailedChangeStoresNothingAndRetryRunsAgain) {
  common::v1::ProgramStatus r;
  int runs = 0;
  EXPECT_EQ(AddNote("k", "", &r, &runs).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddNote("k", "", &r, &runs).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(Notes(), 0);
}

TEST_F(MutationTest, AuditsWritesInTheirTransactionAndFailuresAndReplays) {
  common::v1::ProgramStatus r;
  int runs = 0;
  ASSERT_TRUE(AddNote("k", "a", &r, &runs).ok());
  ASSERT_TRUE(AddNote("k", "a", &r, &runs).ok());
  EXPECT_FALSE(AddNote(std::nullopt, "", &r, &runs).ok());
  std::vector<AuditRow> rows = Audit();
  ASSERT_EQ(rows.size(), 3u);
  std::vector<std::string> outcomes;
  for (const AuditRow& row : rows) {
    EXPECT_EQ(row.entry.subject, "caseworker-7");
    EXPECT_EQ(row.entry.role, "caseworker");
    EXPECT_EQ(row.entry.action, "/test.Notes/Add");
    outcomes.push_back(row.entry.outcome);
  }
  EXPECT_EQ(rows[0].entry.case_id, kCaseId);
  EXPECT_EQ(rows[0].entry.outcome, "OK");
  // The replay and the failure go through the buffer; their order between each other
  // follows the flush, so compare as a set.
  std::sort(outcomes.begin(), outcomes.end());
  EXPECT_EQ(outcomes, (std::vector<std::string>{"INVALID_ARGUMENT", "OK", kReplayedOutcome}));
  int64_t checked = 0;
  EXPECT_TRUE(VerifyAuditChain(runtime_->store(), &checked).ok());
  EXPECT_EQ(checked, 3);
}

TEST_F(MutationTest, PassedDeadlineDoesNotRun) {
  common::v1::GetProgramStatusRequest request;
  common::v1::ProgramStatus r;
  int runs = 0;
  absl::Status s = RunMutation(
      *runtime_, {&caller_, "/test.Notes/Add", std::nullopt, &request, absl::Now() - absl::Seconds(1)},
      &r, [&](Transaction&, std::string*) {
        ++runs;
        return absl::OkStatus();
      });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace pathway

namespace pathway {
namespace {

// A kept response is replayed only while the replay check (the caller's scope now)
// allows it; a refused replay answers the check's error and changes nothing.
TEST_F(MutationTest, ReplayAnswersOnlyWhileTheReplayCheckAllows) {
  common::v1::GetProgramStatusRequest request;
  request.set_case_id("a");
  bool visible = true;
  int runs = 0;
  auto add = [&](common::v1::ProgramStatus* response) {
    Mutation m{&caller_, "/test.Notes/Add", std::string("replay-1"), &request,
               absl::InfiniteFuture()};
    m.replay_check = [&](ReadTransaction&) -> absl::Status {
      return visible ? absl::OkStatus() : absl::NotFoundError("case not found");
    };
    return RunMutation(*runtime_, m, response,
                       [&](Transaction& tx, std::string* audit_case_id) -> absl::Status {
                         ++runs;
                         *audit_case_id = kCaseId;
                         RETURN_IF_ERROR(tx.Exec("INSERT INTO notes VALUES(?, ?)", {kCaseId, "a"}));
                         response->set_version(7);
                         return absl::OkStatus();
                       });
  };
  common::v1::ProgramStatus first, again, refused;
  ASSERT_TRUE(add(&first).ok());
  ASSERT_TRUE(add(&again).ok());
  EXPECT_EQ(again.version(), 7);
  visible = false;  // e.g. the case was sealed since
  absl::Status s = add(&refused);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(refused.version(), 0) << "nothing of the kept answer leaks";
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(Notes(), 1);
}

}  // namespace
}  // namespace pathway
