#include "common/program_status/program_status.h"

#include <memory>

#include "common/cache/in_memory_status_cache.h"
#include "common/status/status_macros.h"
#include "common/store/testing_store.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

constexpr char kCaseId[] = "520102-2026-0000042-2";

class ProgramStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenTestStore(ProgramStatusMigrations());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  ProgramStatusRecord Record(const std::string& state) {
    ProgramStatusRecord r;
    r.case_id = kCaseId;
    r.division = "520102";
    r.state = state;
    r.began = absl::CivilDay(2026, 1, 10);
    r.deadline_kind = "REPORT";
    r.deadline = absl::CivilDay(2026, 1, 25);
    return r;
  }

  absl::Status Save(ProgramStatusRecord* r, absl::Time now) {
    return store_->Write([&](Transaction& tx) { return SaveProgramStatus(tx, now, r); });
  }

  std::optional<ProgramStatusRecord> Load(const std::string& id) {
    std::optional<ProgramStatusRecord> out;
    EXPECT_TRUE(store_
                    ->Read([&](ReadTransaction& tx) -> absl::Status {
                      ASSIGN_OR_RETURN(out, LoadProgramStatus(tx, id));
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }

  std::unique_ptr<Store> store_;
};

TEST_F(ProgramStatusTest, VersionGrowsWithEverySaveAndRoundTrips) {
  absl::Time t0 = absl::FromUnixSeconds(1790000000);
  ProgramStatusRecord r = Record("AWAITING_REPORT");
  ASSERT_TRUE(Save(&r, t0).ok());
  EXPECT_EQ(r.version, 1);
  r = Record("ACTIVE");
  r.deadline_kind.clear();
  r.deadline.reset();
  ASSERT_TRUE(Save(&r, t0 + absl::Hours(1)).ok());
  EXPECT_EQ(r.version, 2);

  auto loaded = Load(kCaseId);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->state, "ACTIVE");
  EXPECT_EQ(loaded->version, 2);
  EXPECT_EQ(loaded->division, "520102");
  EXPECT_EQ(loaded->began, absl::CivilDay(2026, 1, 10));
  EXPECT_FALSE(loaded->deadline.has_value());
  EXPECT_EQ(loaded->updated_at, t0 + absl::Hours(1));
  EXPECT_FALSE(Load("520102-2026-0000043-0").has_value());
}

TEST_F(ProgramStatusTest, RejectsMalformedRecordsAndWritesNothing) {
  ProgramStatusRecord r = Record("active");  // lower case
  EXPECT_EQ(Save(&r, absl::Now()).code(), absl::StatusCode::kInvalidArgument);
  r = Record("ACTIVE");
  r.division = "52";
  EXPECT_EQ(Save(&r, absl::Now()).code(), absl::StatusCode::kInvalidArgument);
  r = Record("ACTIVE");
  r.deadline.reset();  // kind without a date
  EXPECT_EQ(Save(&r, absl::Now()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Load(kCaseId).has_value());
}

TEST_F(ProgramStatusTest, PublishWritesTheCacheAndNeverRollsItBack) {
  InMemoryStatusCache cache;
  ProgramStatusRecord v1 = Record("AWAITING_REPORT");
  ASSERT_TRUE(Save(&v1, absl::FromUnixSeconds(1790000000)).ok());
  ProgramStatusRecord v2 = Record("ACTIVE");
  ASSERT_TRUE(Save(&v2, absl::FromUnixSeconds(1790000100)).ok());
  PublishProgramStatus(cache, Programme::kCommunityDetox, v2);
  PublishProgramStatus(cache, Programme::kCommunityDetox, v1);  // late, out of order
  auto entries = cache.Get(kCaseId);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->count(Programme::kCommunityDetox), 1u);
  EXPECT_EQ(entries->at(Programme::kCommunityDetox).state, "ACTIVE");
  EXPECT_EQ(entries->at(Programme::kCommunityDetox).version, 2);

  // Redis trouble is swallowed: the record is durable, the reconciler repairs.
  cache.SetUnavailable(true);
  PublishProgramStatus(cache, Programme::kCommunityDetox, v2);
}

TEST_F(ProgramStatusTest, ToProtoCarriesEveryField) {
  ProgramStatusRecord r = Record("AWAITING_REPORT");
  ASSERT_TRUE(Save(&r, absl::FromUnixMicros(1790000000123456)).ok());
  common::v1::ProgramStatus p;
  ToProto(r, Programme::kCommunityRehab, &p);
  EXPECT_EQ(p.case_id(), kCaseId);
  EXPECT_EQ(p.program(), common::v1::PROGRAM_COMMUNITY_REHAB);
  EXPECT_EQ(p.state(), "AWAITING_REPORT");
  EXPECT_EQ(p.version(), 1);
  EXPECT_EQ(p.began().day(), 10);
  EXPECT_EQ(p.next_deadline().kind(), "REPORT");
  EXPECT_EQ(p.next_deadline().due().day(), 25);
  EXPECT_EQ(p.updated_at().seconds(), 1790000000);
  EXPECT_EQ(p.updated_at().nanos(), 123456000);
}

}  // namespace
}  // namespace pathway
