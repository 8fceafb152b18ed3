#include "common/store/open_store.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"
#include "common/store/pg_store.h"
#include "common/store/sqlite_store.h"

namespace pathway {

absl::StatusOr<DatabaseLocation> ParseDatabase(absl::string_view database,
                                               absl::string_view default_sqlite_path) {
  DatabaseLocation location;
  if (database.empty()) {
    if (default_sqlite_path.empty()) {
      return absl::InvalidArgumentError("no database given and no default SQLite path");
    }
    location.sqlite_path = std::string(default_sqlite_path);
    return location;
  }
  if (absl::ConsumePrefix(&database, "sqlite:")) {
    if (database.empty()) return absl::InvalidArgumentError("sqlite: needs a file path");
    location.sqlite_path = std::string(database);
    return location;
  }
  if (absl::StartsWith(database, "postgresql://") || absl::StartsWith(database, "postgres://")) {
    location.engine = DatabaseLocation::Engine::kPostgres;
    location.conninfo = std::string(database);
    return location;
  }
  return absl::InvalidArgumentError(
      "database must be empty, sqlite:<path>, or a postgresql:// URI");
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& database,
                                                 std::vector<Migration> migrations,
                                                 const Clock* clock,
                                                 const OpenStoreOptions& options) {
  ASSIGN_OR_RETURN(DatabaseLocation location,
                   ParseDatabase(database, options.default_sqlite_path));
  if (location.engine == DatabaseLocation::Engine::kPostgres) {
    PgStoreOptions pg;
    pg.conninfo = location.conninfo;
    pg.password_file = options.password_file;
    pg.pool_size = options.pool_size;
    pg.migrations = std::move(migrations);
    pg.clock = clock;
    ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(pg));
    return std::unique_ptr<Store>(std::move(store));
  }
  SqliteStoreOptions sqlite;
  sqlite.path = location.sqlite_path;
  sqlite.migrations = std::move(migrations);
  sqlite.clock = clock;
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(sqlite));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace pathway
