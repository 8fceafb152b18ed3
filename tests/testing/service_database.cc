#include "tests/testing/service_database.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdlib>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace test {
namespace {

// The (component, version) steps recorded in the database's schema_migrations,
// read without a Store (a Store insists on knowing every migration it finds).
absl::StatusOr<std::vector<Migration>> AppliedMigrations(const DatabaseLocation& location) {
  std::vector<Migration> applied;
  const char* kSql = "SELECT component, version FROM schema_migrations ORDER BY component, version";
  if (location.engine == DatabaseLocation::Engine::kSqlite) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(location.sqlite_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    absl::Status status;
    sqlite3_stmt* stmt = nullptr;
    if (rc == SQLITE_OK) {
      sqlite3_busy_timeout(db, 5000);
      rc = sqlite3_prepare_v2(db, kSql, -1, &stmt, nullptr);
    }
    if (rc == SQLITE_OK) {
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        Migration m;
        m.component = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        m.version = static_cast<int>(sqlite3_column_int64(stmt, 1));
        applied.push_back(std::move(m));
      }
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
      status = absl::UnavailableError(
          absl::StrCat("reading schema_migrations: ", db != nullptr ? sqlite3_errmsg(db) : "no handle"));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    RETURN_IF_ERROR(status);
  } else {
    PGconn* conn = PQconnectdb(location.conninfo.c_str());
    absl::Status status;
    if (PQstatus(conn) != CONNECTION_OK) {
      status = absl::UnavailableError(absl::StrCat("connecting: ", PQerrorMessage(conn)));
    } else {
      PGresult* r = PQexec(conn, kSql);
      if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        status = absl::UnavailableError(
            absl::StrCat("reading schema_migrations: ", PQresultErrorMessage(r)));
      } else {
        for (int i = 0; i < PQntuples(r); ++i) {
          Migration m;
          m.component = PQgetvalue(r, i, 0);
          m.version = std::atoi(PQgetvalue(r, i, 1));
          applied.push_back(std::move(m));
        }
      }
      PQclear(r);
    }
    PQfinish(conn);
    RETURN_IF_ERROR(status);
  }
  if (applied.empty()) return absl::FailedPreconditionError("the database holds no schema");
  // Already applied, so never run: the store only checks that it knows them.
  for (Migration& m : applied) m.sql = "SELECT 1";
  return applied;
}

}  // namespace

absl::StatusOr<ServiceDatabase> OpenServiceDatabase(const std::string& database,
                                                    const std::string& sqlite_path) {
  ServiceDatabase db;
  ASSIGN_OR_RETURN(db.location, ParseDatabase(database, sqlite_path));
  ASSIGN_OR_RETURN(std::vector<Migration> applied, AppliedMigrations(db.location));
  OpenStoreOptions options;
  options.default_sqlite_path = sqlite_path;
  options.pool_size = 2;
  ASSIGN_OR_RETURN(db.store, OpenStore(database, std::move(applied), /*clock=*/nullptr, options));
  return db;
}

absl::StatusOr<std::string> AllStoredValues(Store& store, DatabaseLocation::Engine engine) {
  std::string all;
  absl::Status s = store.Read([&](ReadTransaction& tx) -> absl::Status {
    all.clear();
    const char* tables_sql =
        engine == DatabaseLocation::Engine::kSqlite
            ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            : "SELECT table_name FROM information_schema.tables "
              "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
              "ORDER BY table_name";
    ASSIGN_OR_RETURN(std::vector<Row> tables, tx.Query(tables_sql));
    for (const Row& table : tables) {
      const std::string quoted =
          absl::StrCat("\"", absl::StrReplaceAll(table.GetString(0), {{"\"", "\"\""}}), "\"");
      RETURN_IF_ERROR(tx.QueryEach(absl::StrCat("SELECT * FROM ", quoted), {},
                                   [&](const Row& row) {
                                     for (const Value& v : row.values()) {
                                       if (std::holds_alternative<std::string>(v)) {
                                         all += std::get<std::string>(v);
                                         all.push_back('\0');
                                       } else if (std::holds_alternative<Blob>(v)) {
                                         all += std::get<Blob>(v).bytes;
                                         all.push_back('\0');
                                       }
                                     }
                                     return true;
                                   }));
    }
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  return all;
}

}  // namespace test
}  // namespace pathway
