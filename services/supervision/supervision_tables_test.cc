// The supervision tables on a real store (SQLite, or PostgreSQL when the test run
// asks for it): rows go in and come back as typed
// values, and the statements that may meet an existing row say so without failing
// the transaction.
#include "services/supervision/supervision_tables.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/store/testing_store.h"
#include "common/status/status_macros.h"
#include "gtest/gtest.h"

namespace pathway::supervision {
namespace {

using absl::CivilDay;

class TablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenTestStore(SupervisionMigrations());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  NewOrderRow NewOrder(const std::string& case_id, const std::string& decision) {
    NewOrderRow r;
    r.case_id = case_id;
    r.division = "520102";
    r.decision_number = decision;
    r.decision_date = CivilDay(2026, 1, 8);
    r.received_on = CivilDay(2026, 1, 10);
    r.term_months = 36;
    r.opened_by = "police-1";
    r.created = absl::FromUnixSeconds(1767000000);
    return r;
  }

  static Place First() {
    Place p;
    p.seq = 1;
    p.division = "520102";
    p.place = "520102001";
    p.assigned_on = CivilDay(2026, 1, 10);
    p.report_deadline = CivilDay(2026, 1, 25);
    return p;
  }

  std::unique_ptr<Store> store_;
};

TEST_F(TablesTest, ASecondOpenOrderIsRefusedWithoutFailingTheTransaction) {
  std::optional<int64_t> first, second, after_close;
  absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(first, InsertOrder(tx, NewOrder("case-1", "D-1")));
    ASSIGN_OR_RETURN(second, InsertOrder(tx, NewOrder("case-1", "D-2")));
    // The transaction carries on: the same case may open again once closed.
    RETURN_IF_ERROR(InsertPlace(tx, *first, First()));
    RETURN_IF_ERROR(CloseOrder(tx, *first, "DISCHARGED", CivilDay(2029, 2, 1), "N-1"));
    ASSIGN_OR_RETURN(after_close, InsertOrder(tx, NewOrder("case-1", "D-3")));
    return InsertPlace(tx, *after_close, First());
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(second.has_value());
  ASSERT_TRUE(after_close.has_value());
  EXPECT_GT(*after_close, *first);

  s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<OrderRef> open, FindOpenOrder(tx, "case-1"));
    EXPECT_TRUE(open.has_value());
    if (open.has_value()) {
      EXPECT_EQ(open->order_id, *after_close);
      EXPECT_EQ(open->decision_number, "D-3");
    }
    ASSIGN_OR_RETURN(std::optional<OrderRef> latest, FindLatestOrder(tx, "case-1"));
    EXPECT_TRUE(latest.has_value() && latest->order_id == *after_close);
    ASSIGN_OR_RETURN(std::optional<OrderRef> none, FindLatestOrder(tx, "case-2"));
    EXPECT_FALSE(none.has_value());
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
}

TEST_F(TablesTest, AnOrderReadsBackWithItsHistory) {
  int64_t order_id = 0;
  std::vector<int64_t> test_ids;
  absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
    test_ids.clear();  // a Write function may run again
    ASSIGN_OR_RETURN(std::optional<int64_t> id, InsertOrder(tx, NewOrder("case-1", "D-1")));
    order_id = *id;
    RETURN_IF_ERROR(InsertPlace(tx, order_id, First()));
    RETURN_IF_ERROR(SetPlaceReported(tx, order_id, 1, CivilDay(2026, 1, 12)));
    RETURN_IF_ERROR(SetTermStart(tx, order_id, CivilDay(2026, 1, 12)));
    RETURN_IF_ERROR(SetPlaceAgreement(tx, order_id, 1, CivilDay(2026, 1, 13), "A-1"));
    for (CivilDay day : {CivilDay(2026, 2, 1), CivilDay(2026, 1, 20)}) {
      TestInput t;
      t.tested_on = day;
      t.result = TestResult::kMissed;
      t.unannounced = true;
      ASSIGN_OR_RETURN(int64_t test_id, InsertTest(tx, order_id, t, "cw-1"));
      test_ids.push_back(test_id);
    }
    RETURN_IF_ERROR(SetTestReview(tx, test_ids[0], CivilDay(2026, 2, 3), true));
    RETURN_IF_ERROR(InsertAbsence(tx, order_id, CivilDay(2026, 3, 1), std::nullopt));
    RETURN_IF_ERROR(InsertLeave(tx, order_id, LeaveInput{CivilDay(2026, 4, 1), CivilDay(2026, 4, 2),
                                                         CivilDay(2026, 4, 5), "elsewhere"}));
    RETURN_IF_ERROR(InsertSuspension(tx, order_id, SuspensionReason::kArrest,
                                     CivilDay(2026, 5, 1), true));
    RETURN_IF_ERROR(EndOpenSuspensions(tx, order_id, CivilDay(2026, 5, 9)));
    RETURN_IF_ERROR(InsertPoliceReport(tx, order_id, "K-1", CivilDay(2026, 5, 10), "cw-1"));
    return SaveOrderState(tx, order_id, "ACTIVE", CivilDay(2026, 5, 9), "520102");
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(test_ids.size(), 2u);
  EXPECT_LT(test_ids[0], test_ids[1]);

  std::optional<Order> o;
  s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(o, FindOrder(tx, order_id));
    ASSIGN_OR_RETURN(std::optional<Order> missing, FindOrder(tx, order_id + 100));
    EXPECT_FALSE(missing.has_value());
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->case_id, "case-1");
  EXPECT_EQ(o->state, "ACTIVE");
  EXPECT_EQ(o->state_since, CivilDay(2026, 5, 9));
  EXPECT_EQ(o->decision_date, CivilDay(2026, 1, 8));
  EXPECT_EQ(o->term_months, 36);
  EXPECT_EQ(o->term_start, CivilDay(2026, 1, 12));
  EXPECT_FALSE(o->closed);
  EXPECT_FALSE(o->closed_on.has_value());
  ASSERT_EQ(o->places.size(), 1u);
  EXPECT_EQ(o->places[0].reported_on, CivilDay(2026, 1, 12));
  EXPECT_EQ(o->places[0].agreement_number, "A-1");
  // Tests by date: the later insert comes first.
  ASSERT_EQ(o->tests.size(), 2u);
  EXPECT_EQ(o->tests[0].test_id, test_ids[1]);
  EXPECT_EQ(o->tests[1].reviewed_on, CivilDay(2026, 2, 3));
  EXPECT_TRUE(o->tests[1].evaded);
  EXPECT_TRUE(o->tests[1].unannounced);
  EXPECT_EQ(o->tests[1].result, TestResult::kMissed);
  ASSERT_EQ(o->absences.size(), 1u);
  EXPECT_FALSE(o->absences[0].returned_on.has_value());
  ASSERT_EQ(o->leaves.size(), 1u);
  EXPECT_EQ(o->leaves[0].end, CivilDay(2026, 4, 5));
  ASSERT_EQ(o->suspensions.size(), 1u);
  EXPECT_EQ(o->suspensions[0].reason, SuspensionReason::kArrest);
  EXPECT_EQ(o->suspensions[0].resumed_on, CivilDay(2026, 5, 9));
  ASSERT_EQ(o->police_reports.size(), 1u);
  EXPECT_EQ(o->police_reports[0].alert_key, "K-1");
}

TEST(SupervisionMigrationsTest, OnlyTheGeneratedKeysDifferOnPostgreSql) {
  const std::vector<Migration> m = SupervisionMigrations();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].version, 1);
  EXPECT_EQ(m[1].version, 2);
  std::string pg = m[0].postgresql_sql;
  const std::string identity = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
  for (size_t at = pg.find(identity); at != std::string::npos; at = pg.find(identity)) {
    pg.replace(at, identity.size(), "INTEGER PRIMARY KEY");
  }
  EXPECT_EQ(pg, m[0].sql);
  EXPECT_TRUE(m[1].postgresql_sql.empty());  // portable as written
}

}  // namespace
}  // namespace pathway::supervision
