#include "common/store/schema_migrations.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/store/testing_store.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

std::vector<std::string> Order(const MigrationPlan& plan) {
  std::vector<std::string> out;
  for (const std::string& component : plan.components) {
    for (const Migration* m : plan.by_component.at(component)) {
      out.push_back(absl::StrCat(m->component, " v", m->version));
    }
  }
  return out;
}

TEST(PlanMigrationsTest, ComponentsByFirstAppearanceVersionsAscending) {
  const std::vector<Migration> migrations = {
      {"b", 2, "b2"}, {"a", 1, "a1"}, {"b", 1, "b1"}, {"a", 3, "a3"}, {"c", 1, "c1"}};
  absl::StatusOr<MigrationPlan> plan = PlanMigrations(migrations);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Order(*plan), (std::vector<std::string>{"b v1", "b v2", "a v1", "a v3", "c v1"}));
}

TEST(PlanMigrationsTest, RefusesUnnamedUnnumberedAndDuplicateSteps) {
  for (const std::vector<Migration>& bad : std::vector<std::vector<Migration>>{
           {{"", 1, "x"}}, {{"a", 0, "x"}}, {{"a", -1, "x"}}}) {
    absl::StatusOr<MigrationPlan> plan = PlanMigrations(bad);
    EXPECT_EQ(plan.status(),
              absl::InvalidArgumentError("migration needs a component and a version >= 1"));
  }
  absl::StatusOr<MigrationPlan> plan =
      PlanMigrations({{"a", 1, "x"}, {"b", 1, "y"}, {"a", 1, "z"}});
  EXPECT_EQ(plan.status(), absl::InvalidArgumentError("duplicate migration a v1"));
}

// ApplyMigrationPlan inside a Write of a test store (either engine), with
// one-statement steps run through the transaction.
class ApplyMigrationPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Store>> store = OpenTestStore({}, &clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // Applies `migrations`; `fail` makes every step fail with that status.
  absl::Status Apply(const std::vector<Migration>& migrations, bool keep_transient = false,
                     absl::Status fail = absl::OkStatus()) {
    ASSIGN_OR_RETURN(MigrationPlan plan, PlanMigrations(migrations));
    return store_->Write([&](Transaction& tx) -> absl::Status {
      ran_.clear();
      MigrationEngine engine;
      // The store made schema_migrations already; this must leave it be.
      engine.create_table_sql =
          "CREATE TABLE IF NOT EXISTS schema_migrations(component TEXT NOT NULL, "
          "version BIGINT NOT NULL, applied_at_us BIGINT NOT NULL, "
          "PRIMARY KEY(component, version))";
      engine.step_sql = [](const Migration& m) -> const std::string& { return m.sql; };
      engine.exec_script = [&](const std::string& sql) -> absl::Status {
        if (sql != engine.create_table_sql) {
          ran_.push_back(sql);
          if (!fail.ok()) return fail;
        }
        return tx.Exec(sql);
      };
      engine.keep_transient_step_failures = keep_transient;
      return ApplyMigrationPlan(plan, engine, clock_, tx);
    });
  }

  // (component, version, applied_at_us) recorded, in order.
  std::vector<std::string> Recorded() {
    std::vector<std::string> out;
    absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<Row> rows,
                       tx.Query("SELECT component, version, applied_at_us FROM schema_migrations"
                                " ORDER BY component, version"));
      for (const Row& r : rows) {
        out.push_back(absl::StrCat(r.GetString(0), " v", r.GetInt(1), " at ", r.GetInt(2)));
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  FakeClock clock_{absl::FromUnixMicros(1000)};
  std::unique_ptr<Store> store_;
  std::vector<std::string> ran_;  // step texts run by the last Apply
};

TEST_F(ApplyMigrationPlanTest, RunsPendingStepsInOrderAndRecordsThem) {
  ASSERT_TRUE(
      Apply({{"t", 2, "CREATE TABLE t2(k TEXT)"}, {"t", 1, "CREATE TABLE t1(k TEXT)"}}).ok());
  EXPECT_EQ(ran_, (std::vector<std::string>{"CREATE TABLE t1(k TEXT)", "CREATE TABLE t2(k TEXT)"}));
  EXPECT_EQ(Recorded(), (std::vector<std::string>{"t v1 at 1000", "t v2 at 1000"}));

  // Only the new step runs again, stamped with the clock's time.
  clock_.Set(absl::FromUnixMicros(2000));
  ASSERT_TRUE(Apply({{"t", 1, "CREATE TABLE t1(k TEXT)"},
                     {"t", 2, "CREATE TABLE t2(k TEXT)"},
                     {"t", 3, "CREATE TABLE t3(k TEXT)"}})
                  .ok());
  EXPECT_EQ(ran_, (std::vector<std::string>{"CREATE TABLE t3(k TEXT)"}));
  EXPECT_EQ(Recorded(),
            (std::vector<std::string>{"t v1 at 1000", "t v2 at 1000", "t v3 at 2000"}));
}

TEST_F(ApplyMigrationPlanTest, RefusesASchemaNewerThanThePlan) {
  ASSERT_TRUE(
      Apply({{"t", 1, "CREATE TABLE t1(k TEXT)"}, {"t", 2, "CREATE TABLE t2(k TEXT)"}}).ok());
  EXPECT_EQ(Apply({{"t", 1, "CREATE TABLE t1(k TEXT)"}}),
            absl::FailedPreconditionError("database schema is newer than this binary"));
  // A component the plan does not know at all counts as version 0.
  EXPECT_EQ(Apply({{"u", 1, "CREATE TABLE u1(k TEXT)"}}),
            absl::FailedPreconditionError("database schema is newer than this binary"));
  EXPECT_TRUE(ran_.empty());
}

TEST_F(ApplyMigrationPlanTest, AFailedStepIsInternalUnlessTransientFailuresAreKept) {
  const std::vector<Migration> steps = {{"t", 1, "CREATE TABLE t1(k TEXT)"}};
  const absl::Status internal = absl::InternalError("migration t v1 failed");
  EXPECT_EQ(Apply(steps, false, absl::UnavailableError("gone")), internal);
  EXPECT_EQ(Apply(steps, false, absl::DeadlineExceededError("late")), internal);
  EXPECT_EQ(Apply(steps, true, absl::UnavailableError("gone")), absl::UnavailableError("gone"));
  EXPECT_EQ(Apply(steps, true, absl::DeadlineExceededError("late")),
            absl::DeadlineExceededError("late"));
  EXPECT_EQ(Apply(steps, true, absl::NotFoundError("other")), internal);
  // Nothing was recorded by the failed attempts.
  EXPECT_TRUE(Recorded().empty());
}

}  // namespace
}  // namespace pathway
