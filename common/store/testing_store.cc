#include "common/store/testing_store.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/store/pg_store.h"
#include "common/store/sqlite_store.h"
#include "common/store/testing_postgres.h"
#include "common/store/testing_temp_dir.h"

namespace pathway {

namespace {

// A store together with the temporary directory its file lives in.
class OwningStore final : public Store {
 public:
  OwningStore(std::unique_ptr<ScopedTempDir> dir, std::unique_ptr<Store> store)
      : dir_(std::move(dir)), store_(std::move(store)) {}

  absl::Status Write(const std::function<absl::Status(Transaction&)>& fn,
                     absl::Time deadline) override {
    return store_->Write(fn, deadline);
  }
  absl::Status Read(const std::function<absl::Status(ReadTransaction&)>& fn) override {
    return store_->Read(fn);
  }

 private:
  std::unique_ptr<ScopedTempDir> dir_;  // destroyed after the store
  std::unique_ptr<Store> store_;
};

}  // namespace

std::string TestDatabaseEngine() {
  const char* engine = std::getenv("PATHWAY_TEST_DATABASE");
  if (engine != nullptr && std::string(engine) == "postgres") return "postgres";
  return "sqlite";
}

absl::StatusOr<std::string> TestDatabaseUri(const std::string& label) {
  if (TestDatabaseEngine() != "postgres") return std::string();
  ASSIGN_OR_RETURN(test::TestingPostgres * server, test::TestingPostgres::Shared());
  static std::atomic<int> next{0};
  const std::string name = absl::StrCat("s_", label, "_", getpid(), "_", next++);
  RETURN_IF_ERROR(server->CreateDatabase(name).status());
  return server->Uri(name);
}

std::string TestDatabaseUriOrDie(const std::string& label) {
  absl::StatusOr<std::string> uri = TestDatabaseUri(label);
  if (!uri.ok()) {
    std::fprintf(stderr, "test database: %s\n", uri.status().ToString().c_str());
    std::abort();
  }
  return *uri;
}

absl::StatusOr<std::unique_ptr<Store>> OpenTestStore(std::vector<Migration> migrations,
                                                     const Clock* clock) {
  if (TestDatabaseEngine() == "postgres") {
    ASSIGN_OR_RETURN(test::TestingPostgres * server, test::TestingPostgres::Shared());
    static std::atomic<int> next{0};
    ASSIGN_OR_RETURN(std::string conninfo,
                     server->CreateDatabase(absl::StrCat("t_", getpid(), "_", next++)));
    PgStoreOptions options;
    options.conninfo = conninfo;
    options.migrations = std::move(migrations);
    options.clock = clock;
    options.pool_size = 16;
    ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(options));
    return std::unique_ptr<Store>(std::move(store));
  }
  auto dir = std::make_unique<ScopedTempDir>();
  SqliteStoreOptions options;
  options.path = dir->File("store.db");
  options.migrations = std::move(migrations);
  options.clock = clock;
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(options));
  return std::unique_ptr<Store>(new OwningStore(std::move(dir), std::move(store)));
}

}  // namespace pathway
