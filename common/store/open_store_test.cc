#include "common/store/open_store.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/status/status_macros.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

using Engine = DatabaseLocation::Engine;

TEST(ParseDatabaseTest, EmptyMeansTheDefaultSqliteFile) {
  absl::StatusOr<DatabaseLocation> l = ParseDatabase("", "/data/registry.db");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->engine, Engine::kSqlite);
  EXPECT_EQ(l->sqlite_path, "/data/registry.db");
  EXPECT_EQ(ParseDatabase("", "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseDatabaseTest, SqlitePrefixNamesAFile) {
  absl::StatusOr<DatabaseLocation> l = ParseDatabase("sqlite:/var/lib/pathway/sd.db", "/d.db");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->engine, Engine::kSqlite);
  EXPECT_EQ(l->sqlite_path, "/var/lib/pathway/sd.db");
  l = ParseDatabase("sqlite:relative/sk.db", "");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->sqlite_path, "relative/sk.db");
  EXPECT_EQ(ParseDatabase("sqlite:", "/d.db").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseDatabaseTest, PostgresUrisSelectPostgres) {
  for (const char* uri :
       {"postgresql://pathway@db1,db2/registry?target_session_attrs=read-write",
        "postgres://pathway@localhost:5433/placement", "postgresql:///registry"}) {
    absl::StatusOr<DatabaseLocation> l = ParseDatabase(uri, "/d.db");
    ASSERT_TRUE(l.ok()) << uri << ": " << l.status();
    EXPECT_EQ(l->engine, Engine::kPostgres) << uri;
    EXPECT_EQ(l->conninfo, uri);
  }
}

TEST(ParseDatabaseTest, AnythingElseIsRefusedWithoutRepeatingIt) {
  for (const char* bad : {"/var/lib/pathway/registry.db", "mysql://u:secret@h/db",
                          "host=db dbname=registry", "SQLITE:/x.db", "postgresql:/x"}) {
    absl::StatusOr<DatabaseLocation> l = ParseDatabase(bad, "/d.db");
    EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_FALSE(absl::StrContains(l.status().message(), bad));
  }
}

TEST(OpenStoreTest, OpensSqliteAndRefusesAPasswordInAUri) {
  ScopedTempDir dir;
  OpenStoreOptions options;
  options.default_sqlite_path = dir.File("default.db");
  absl::StatusOr<std::unique_ptr<Store>> store =
      OpenStore("", {{"t", 1, "CREATE TABLE t(k TEXT PRIMARY KEY)", ""}}, nullptr, options);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::Status s = (*store)->Write([](Transaction& tx) {
    return tx.Exec("INSERT INTO t(k) VALUES(?)", {std::string("a")});
  });
  EXPECT_TRUE(s.ok()) << s;
  store = OpenStore("sqlite:" + dir.File("named.db"), {}, nullptr, options);
  EXPECT_TRUE(store.ok()) << store.status();

  store = OpenStore("postgresql://u:hunter2@localhost/db", {}, nullptr, options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(absl::StrContains(store.status().message(), "hunter2"));
}

}  // namespace
}  // namespace pathway
