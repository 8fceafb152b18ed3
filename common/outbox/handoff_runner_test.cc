#include "common/outbox/handoff_runner.h"

#include "common/store/testing_store.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(ParseCrashAtTest, AcceptsThePointsAndACount) {
  struct Case {
    const char* text;
    CrashPoint point;
    int nth;
  };
  for (const Case& c : std::vector<Case>{{"", CrashPoint::kNone, 1},
                                         {"after_commit", CrashPoint::kAfterCommit, 1},
                                         {"after_ack:3", CrashPoint::kAfterAck, 3},
                                         {"after_apply:1", CrashPoint::kAfterApply, 1}}) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<CrashAt> got = ParseCrashAt(c.text);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->point, c.point);
    EXPECT_EQ(got->nth, c.nth);
  }
  for (const char* bad : {"after", "after_ack:0", "after_ack:x", "after_ack:1:2"}) {
    EXPECT_EQ(ParseCrashAt(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HandoffTargetsTest, NamesEveryPeerAtItsConfiguredAddress) {
  ServerOptions o;
  o.registry_address = "10.0.0.1:1";
  o.detox_address = "10.0.0.1:2";
  o.isolation_address = "10.0.0.1:3";
  o.rehab_address = "10.0.0.1:4";
  o.placement_address = "10.0.0.1:5";
  std::map<std::string, std::string> t = HandoffTargets(o);
  EXPECT_EQ(t.at("registry"), "10.0.0.1:1");
  EXPECT_EQ(t.at("community_detox"), "10.0.0.1:2");
  EXPECT_EQ(t.at("compulsory_isolation"), "10.0.0.1:3");
  EXPECT_EQ(t.at("community_rehab"), "10.0.0.1:4");
  EXPECT_EQ(t.at("placement"), "10.0.0.1:5");
  EXPECT_EQ(t.size(), 5u);
}

TEST(EnqueueRegistryEventTest, KeyedBySourceEventIdAndEnqueuedOnce) {
  auto store = OpenTestStore(OutboxMigrations());
  ASSERT_TRUE(store.ok()) << store.status();
  registry::v1::ReportEventRequest e;
  e.set_case_id("520102-2026-0000001-X");
  e.set_kind(registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
  e.set_source_event_id("qz-7-started");
  const absl::Time now = absl::FromUnixSeconds(1795000000);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(
        (*store)->Write([&](Transaction& tx) { return EnqueueRegistryEvent(tx, e, now); }).ok());
  }
  auto stuck = ListStuckHandoffs(**store, now + absl::Seconds(1), 10);
  ASSERT_TRUE(stuck.ok());
  ASSERT_EQ(stuck->size(), 1u) << "the same event is queued once";
  EXPECT_EQ((*stuck)[0].message.target, "registry");
  EXPECT_EQ((*stuck)[0].message.method, "/pathway.registry.v1.Registry/ReportEvent");
  EXPECT_EQ((*stuck)[0].message.idempotency_key, "qz-7-started");
  registry::v1::ReportEventRequest sent;
  ASSERT_TRUE(sent.ParseFromString((*stuck)[0].message.payload));
  EXPECT_EQ(sent.source_event_id(), "qz-7-started");
}

}  // namespace
}  // namespace pathway
