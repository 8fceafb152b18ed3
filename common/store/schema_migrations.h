// Applying migrations (store.h's Migration) to a database: the engine-neutral
// part that SqliteStore and PgStore share, written against Transaction.
//
//   ASSIGN_OR_RETURN(MigrationPlan plan, PlanMigrations(options.migrations));
//   ... begin the engine's migration transaction, as `tx` ...
//   MigrationEngine engine;
//   engine.create_table_sql = "CREATE TABLE IF NOT EXISTS schema_migrations(...)";
//   engine.step_sql = [](const Migration& m) -> const std::string& { return m.sql; };
//   engine.exec_script = [&](const std::string& sql) { return RunScript(sql); };
//   absl::Status s = ApplyMigrationPlan(plan, engine, clock, tx);
//   ... commit if s is OK, else roll back ...
//
// The bookkeeping table is schema_migrations(component, version,
// applied_at_us), one row per step applied, primary key (component, version).
// Steps are applied each component's versions ascending, components in the
// order they first appear in the migrations given. A database holding a
// version of a component newer than the newest given for it (a component not
// given at all counts as version 0) is refused with FAILED_PRECONDITION
// ("database schema is newer than this binary"): an old binary never runs
// against a schema it does not know.
//
// Used only by the stores (common/store); services give their migrations to
// OpenStore. Not thread-safe by itself: it runs inside the caller's
// transaction.
#ifndef PATHWAY_COMMON_STORE_SCHEMA_MIGRATIONS_H_
#define PATHWAY_COMMON_STORE_SCHEMA_MIGRATIONS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock/clock.h"
#include "common/store/store.h"

namespace pathway {

// Migrations checked and put in the order they are applied. Points into the
// vector it was planned from, which must outlive it.
struct MigrationPlan {
  // Components in the order they first appear.
  std::vector<std::string> components;
  // Each component's steps, versions ascending.
  std::map<std::string, std::vector<const Migration*>> by_component;
};

// INVALID_ARGUMENT for a migration without a component or with a version
// below 1 ("migration needs a component and a version >= 1"), or for two with
// the same component and version ("duplicate migration <component> v<N>").
absl::StatusOr<MigrationPlan> PlanMigrations(const std::vector<Migration>& migrations);

// What applying a plan needs from an engine.
struct MigrationEngine {
  // Creates schema_migrations if it does not exist, in the engine's types.
  std::string create_table_sql;
  // The text of a step this engine runs (Migration::sql, or its
  // postgresql_sql).
  std::function<const std::string&(const Migration&)> step_sql;
  // Runs DDL of one or more statements inside the migration transaction.
  std::function<absl::Status(const std::string&)> exec_script;
  // Whether a step failing with UNAVAILABLE or DEADLINE_EXCEEDED (the server
  // went away, the deadline passed) returns that status, so the caller may
  // retry; otherwise every failed step is INTERNAL
  // ("migration <component> v<N> failed").
  bool keep_transient_step_failures = false;
};

// Inside the caller's transaction `tx`: creates schema_migrations if missing,
// refuses a schema newer than the plan (see above), then runs each step not
// yet recorded and records it, stamped with `clock`'s time. The caller
// commits when this returns OK and rolls back otherwise.
absl::Status ApplyMigrationPlan(const MigrationPlan& plan, const MigrationEngine& engine,
                                const Clock& clock, Transaction& tx);

// The newest version of each component recorded in the database's
// schema_migrations (empty when the table holds none).
absl::StatusOr<std::map<std::string, int64_t>> ReadSchemaVersions(ReadTransaction& tx);

// The newest version of each component among `migrations`: what a binary knows.
std::map<std::string, int64_t> NewestSchemaVersions(const std::vector<Migration>& migrations);

}  // namespace pathway

#endif  // PATHWAY_COMMON_STORE_SCHEMA_MIGRATIONS_H_
