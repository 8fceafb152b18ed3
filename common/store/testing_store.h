// The store a test uses, on the engine the test run asks for (test-only).
//
//   absl::StatusOr<std::unique_ptr<Store>> store =
//       OpenTestStore(RegistryMigrations(), &clock);
//   ASSERT_TRUE(store.ok()) << store.status();
//
// By default a SqliteStore on a file in a fresh temporary directory. With the
// environment variable PATHWAY_TEST_DATABASE=postgres, a PgStore on a fresh,
// empty database of the test binary's shared PostgreSQL server
// (TestingPostgres::Shared), so the same tests run on both engines. The
// returned store owns its temporary directory (removed when it is destroyed);
// a PostgreSQL test database is left to the server, which is removed at exit.
//
// Thread-safe as the Store is; `clock` is not owned and must outlive the store.
#ifndef PATHWAY_COMMON_STORE_TESTING_STORE_H_
#define PATHWAY_COMMON_STORE_TESTING_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock/clock.h"
#include "common/store/store.h"

namespace pathway {

// "postgres" when PATHWAY_TEST_DATABASE asks for it, else "sqlite".
std::string TestDatabaseEngine();

// The --database setting (ServerOptions::database) for a service under test on
// the engine the run asks for: "" (its SQLite file in its data directory), or a
// postgresql:// URI of a fresh database of the shared test server, which
// binaries started by the test reach through its unix socket. `label` (letters,
// digits, '_') only makes the database name readable in the server's log.
absl::StatusOr<std::string> TestDatabaseUri(const std::string& label = "svc");

// TestDatabaseUri for fixtures: prints the error and aborts the test binary if
// the test server cannot be had.
std::string TestDatabaseUriOrDie(const std::string& label = "svc");

absl::StatusOr<std::unique_ptr<Store>> OpenTestStore(std::vector<Migration> migrations,
                                                     const Clock* clock = nullptr);

}  // namespace pathway

#endif  // PATHWAY_COMMON_STORE_TESTING_STORE_H_
