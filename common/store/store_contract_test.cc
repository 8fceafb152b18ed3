// The store contract (store_contract.h) on both engines: SqliteStore on a file
// in a temporary directory, PgStore on a fresh database of a real PostgreSQL
// 15 server (testing_postgres.h).
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/store/pg_store.h"
#include "common/store/sqlite_store.h"
#include "common/store/store_contract.h"
#include "common/store/testing_postgres.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

class SqliteEnv {
 public:
  absl::Status SetUp() { return absl::OkStatus(); }
  absl::StatusOr<std::unique_ptr<Store>> Open(std::vector<Migration> migrations,
                                              const Clock* clock) {
    SqliteStoreOptions options;
    options.path = dir_.File("store.db");
    options.migrations = std::move(migrations);
    options.clock = clock;
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(options));
    return std::unique_ptr<Store>(std::move(store));
  }

 private:
  ScopedTempDir dir_;
};

class PostgresEnv {
 public:
  absl::Status SetUp() {
    ASSIGN_OR_RETURN(test::TestingPostgres * server, test::TestingPostgres::Shared());
    static std::atomic<int> next{0};
    ASSIGN_OR_RETURN(conninfo_, server->CreateDatabase(absl::StrCat("contract_", next++)));
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<Store>> Open(std::vector<Migration> migrations,
                                              const Clock* clock) {
    PgStoreOptions options;
    options.conninfo = conninfo_;
    options.migrations = std::move(migrations);
    options.clock = clock;
    options.pool_size = 16;
    ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(options));
    return std::unique_ptr<Store>(std::move(store));
  }

 private:
  std::string conninfo_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreContractTest, ::testing::Types<SqliteEnv>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreContractTest, ::testing::Types<PostgresEnv>);

}  // namespace
}  // namespace pathway
