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

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
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

// A Store that counts the Writes made through it, whatever the engine below
// (for tests that check how writes are grouped). Owns `base`; thread-safe.
class CountingStore final : public Store {
 public:
  explicit CountingStore(std::unique_ptr<Store> base) : base_(std::move(base)) {}

  absl::Status Write(const std::function<absl::Status(Transaction&)>& fn,
                     absl::Time deadline = absl::InfiniteFuture()) override {
    ++writes_;
    absl::Status s = base_->Write(fn, deadline);
    if (s.ok()) ++commits_;
    return s;
  }
  absl::Status Read(const std::function<absl::Status(ReadTransaction&)>& fn) override {
    return base_->Read(fn);
  }

  int64_t writes() const { return writes_.load(); }   // Write calls
  int64_t commits() const { return commits_.load(); }  // Writes that returned OK

 private:
  std::unique_ptr<Store> base_;
  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> commits_{0};
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_STORE_TESTING_STORE_H_
