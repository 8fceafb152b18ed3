// Opens a service's Store from one configuration string, choosing the engine:
//
//   ""                          SQLite at OpenStoreOptions::default_sqlite_path
//   "sqlite:/var/lib/pathway/registry.db"        SqliteStore on that file
//   "postgresql://pathway@db1,db2/registry?target_session_attrs=read-write"
//   "postgres://..."            PgStore on that database (one per service)
//
//   OpenStoreOptions extra;
//   extra.default_sqlite_path = data_dir + "/registry.db";
//   extra.password_file = flags.database_password_file;  // PostgreSQL only
//   ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
//                    OpenStore(flags.database, RegistryMigrations(), &clock, extra));
//
// A PostgreSQL URI must not carry a password; give a password file instead
// (libpq's format host:port:database:user:password, mode 0600). Errors are
// those of SqliteStore::Open and PgStore::Open, plus INVALID_ARGUMENT for a
// string naming neither engine (the message never repeats the string, which
// could hold a secret).
#ifndef PATHWAY_COMMON_STORE_OPEN_STORE_H_
#define PATHWAY_COMMON_STORE_OPEN_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock/clock.h"
#include "common/store/store.h"

namespace pathway {

struct OpenStoreOptions {
  // The SQLite file used when the database string is empty.
  std::string default_sqlite_path;
  // PostgreSQL password file (libpq passfile); empty means libpq's default.
  std::string password_file;
  // PostgreSQL connections (PgStoreOptions::pool_size).
  int pool_size = 8;
};

// Which engine a database string names, and where.
struct DatabaseLocation {
  enum class Engine { kSqlite, kPostgres };
  Engine engine = Engine::kSqlite;
  std::string sqlite_path;  // kSqlite
  std::string conninfo;     // kPostgres: the URI as given
};

// Parses a database string as described above. INVALID_ARGUMENT when it names
// neither engine, or SQLite with an empty path and no default.
absl::StatusOr<DatabaseLocation> ParseDatabase(absl::string_view database,
                                               absl::string_view default_sqlite_path);

// Opens the store `database` names and applies `migrations`. `clock` is not
// owned and must outlive the store; null means the real clock.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& database,
                                                 std::vector<Migration> migrations,
                                                 const Clock* clock,
                                                 const OpenStoreOptions& options = {});

}  // namespace pathway

#endif  // PATHWAY_COMMON_STORE_OPEN_STORE_H_
