// A service's database as a test sees it from outside the service, on either
// engine: to count or change rows beside a running service binary (or after it
// stopped), and to check what is kept at rest.
//
//   ASSIGN_OR_RETURN(test::ServiceDatabase db,
//                    test::OpenServiceDatabase(database_uri, dir + "/registry.db"));
//   int64_t n = 0;
//   absl::Status s = db.store->Read([&](ReadTransaction& tx) -> absl::Status {
//     ASSIGN_OR_RETURN(std::vector<Row> rows,
//                      tx.Query("SELECT COUNT(*) FROM audit_log WHERE case_id = ?", {id}));
//     n = rows[0].GetInt(0);
//     return absl::OkStatus();
//   });
//
// OpenServiceDatabase opens the same kind of Store the service uses, but
// migrates nothing: it accepts the schema exactly as the service left it,
// whatever the service's migrations were. SQLite allows this reader beside the
// service's own writer; PostgreSQL serialises the two as it does replicas.
//
// Test-only. The returned Store is thread-safe as any Store.
#ifndef PATHWAY_TESTS_TESTING_SERVICE_DATABASE_H_
#define PATHWAY_TESTS_TESTING_SERVICE_DATABASE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/store/open_store.h"
#include "common/store/store.h"

namespace pathway {
namespace test {

struct ServiceDatabase {
  DatabaseLocation location;
  std::unique_ptr<Store> store;
};

// `database` is the service's ServerOptions::database (its --database flag);
// `sqlite_path` its SQLite file, used when `database` is empty. The database
// must already hold the service's schema.
absl::StatusOr<ServiceDatabase> OpenServiceDatabase(const std::string& database,
                                                    const std::string& sqlite_path);

// Every text and bytes value of every table of `store`, each followed by a
// '\0': what anyone reading the database sees, for tests that check that no
// personal data is kept in the clear. `engine` says how to list the tables.
absl::StatusOr<std::string> AllStoredValues(Store& store, DatabaseLocation::Engine engine);

}  // namespace test
}  // namespace pathway

#endif  // PATHWAY_TESTS_TESTING_SERVICE_DATABASE_H_
