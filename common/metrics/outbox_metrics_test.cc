#include "common/metrics/outbox_metrics.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/outbox/outbox.h"
#include "common/status/status_macros.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

// A permanent refusal: the dispatcher parks the row.
class RefusingDeliverer final : public Deliverer {
 public:
  absl::Status Deliver(const OutboxMessage&, absl::Time) override {
    return absl::InvalidArgumentError("refused");
  }
};

std::map<std::string, double> Values(const OutboxMetrics& metrics) {
  std::map<std::string, double> values;
  for (const auto& family : metrics.Collect()) {
    EXPECT_EQ(family.type, prometheus::MetricType::Gauge) << family.name;
    EXPECT_EQ(family.metric.size(), 1u) << family.name;
    EXPECT_TRUE(family.metric[0].label.empty()) << family.name;
    values[family.name] = family.metric[0].gauge.value;
  }
  return values;
}

class OutboxMetricsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(const std::string& name, std::vector<Migration> migrations) {
    OpenStoreOptions where;
    where.default_sqlite_path = dir_.path() + "/" + name + ".db";
    auto store = OpenStore(TestDatabaseUriOrDie(name), std::move(migrations), nullptr, where);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  absl::Status Enqueue(Store& store, const std::string& key) {
    return store.Write([&](Transaction& tx) {
      return EnqueueHandoff(tx, {"registry", "/pathway.registry.v1.Registry/ReportEvent",
                                 "payload", key},
                            clock_.Now());
    });
  }

  ScopedTempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1795000000)};
};

TEST_F(OutboxMetricsTest, PendingParkedAndTheOldestPendingAgeAsScraped) {
  std::unique_ptr<Store> store = Open("outbox_metrics", OutboxMigrations());
  ASSERT_NE(store, nullptr);
  OutboxMetrics metrics(store.get(), &clock_);
  std::map<std::string, double> v = Values(metrics);
  EXPECT_EQ(v["pathway_outbox_pending_rows"], 0);
  EXPECT_EQ(v["pathway_outbox_parked_rows"], 0);
  EXPECT_EQ(v.at("pathway_outbox_oldest_pending_age_seconds"), 0);

  ASSERT_TRUE(Enqueue(*store, "metrics-1").ok());
  clock_.Advance(absl::Seconds(30));
  v = Values(metrics);
  EXPECT_EQ(v["pathway_outbox_pending_rows"], 1);
  EXPECT_EQ(v["pathway_outbox_oldest_pending_age_seconds"], 30);

  // The receiver refuses it for good: parked, and nothing is pending.
  RefusingDeliverer refusing;
  OutboxDispatcher dispatcher(store.get(), &refusing, &clock_, OutboxDispatcher::Options());
  ASSERT_TRUE(dispatcher.RunOnce().ok());
  v = Values(metrics);
  EXPECT_EQ(v["pathway_outbox_parked_rows"], 1);
  EXPECT_EQ(v["pathway_outbox_pending_rows"], 0);
  EXPECT_EQ(v["pathway_outbox_oldest_pending_age_seconds"], 0);

  ASSERT_TRUE(Enqueue(*store, "metrics-2").ok());
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Enqueue(*store, "metrics-3").ok());
  clock_.Advance(absl::Seconds(7));
  v = Values(metrics);
  EXPECT_EQ(v["pathway_outbox_pending_rows"], 2);
  EXPECT_EQ(v["pathway_outbox_parked_rows"], 1);
  EXPECT_EQ(v["pathway_outbox_oldest_pending_age_seconds"], 12);
}

TEST_F(OutboxMetricsTest, AServiceWithoutAnOutboxExposesNone) {
  std::unique_ptr<Store> store =
      Open("no_outbox", {{"decisions", 1, "CREATE TABLE decisions (id TEXT PRIMARY KEY)"}});
  ASSERT_NE(store, nullptr);
  OutboxMetrics metrics(store.get(), &clock_);
  EXPECT_TRUE(metrics.Collect().empty());
}

}  // namespace
}  // namespace pathway
