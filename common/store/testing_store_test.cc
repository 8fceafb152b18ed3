#include "common/store/testing_store.h"

#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status/status_macros.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(OpenTestStoreTest, EachEngineGivesAFreshWorkingStore) {
  for (const char* engine : {"sqlite", "postgres"}) {
    ASSERT_EQ(setenv("PATHWAY_TEST_DATABASE", engine, 1), 0);
    EXPECT_EQ(TestDatabaseEngine(), engine);
    for (int round = 0; round < 2; ++round) {
      absl::StatusOr<std::unique_ptr<Store>> store =
          OpenTestStore({{"t", 1, "CREATE TABLE t(k TEXT PRIMARY KEY)", ""}});
      ASSERT_TRUE(store.ok()) << engine << ": " << store.status();
      // Fresh each time: the same key inserts again.
      absl::Status s = (*store)->Write([](Transaction& tx) {
        return tx.Exec("INSERT INTO t(k) VALUES(?)", {std::string("a")});
      });
      EXPECT_TRUE(s.ok()) << engine << ": " << s;
      int64_t n = 0;
      s = (*store)->Read([&](ReadTransaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT COUNT(*) FROM t"));
        n = rows.at(0).GetInt(0);
        return absl::OkStatus();
      });
      EXPECT_TRUE(s.ok()) << s;
      EXPECT_EQ(n, 1);
    }
  }
  unsetenv("PATHWAY_TEST_DATABASE");
  EXPECT_EQ(TestDatabaseEngine(), "sqlite");
}

}  // namespace
}  // namespace pathway
