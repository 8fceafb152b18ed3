#include "common/store/schema_migrations.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace pathway {

absl::StatusOr<MigrationPlan> PlanMigrations(const std::vector<Migration>& migrations) {
  MigrationPlan plan;
  for (const Migration& m : migrations) {
    if (m.component.empty() || m.version < 1) {
      return absl::InvalidArgumentError("migration needs a component and a version >= 1");
    }
    auto& list = plan.by_component[m.component];
    if (list.empty()) plan.components.push_back(m.component);
    for (const Migration* other : list) {
      if (other->version == m.version) {
        return absl::InvalidArgumentError(
            absl::StrCat("duplicate migration ", m.component, " v", m.version));
      }
    }
    list.push_back(&m);
  }
  for (auto& [component, list] : plan.by_component) {
    std::sort(list.begin(), list.end(),
              [](const Migration* a, const Migration* b) { return a->version < b->version; });
  }
  return plan;
}

absl::Status ApplyMigrationPlan(const MigrationPlan& plan, const MigrationEngine& engine,
                                const Clock& clock, Transaction& tx) {
  RETURN_IF_ERROR(engine.exec_script(engine.create_table_sql));
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT component, version FROM schema_migrations", {}));
  std::set<std::pair<std::string, int64_t>> applied;
  std::map<std::string, int64_t> db_max;
  for (const Row& row : rows) {
    applied.emplace(row.GetString(0), row.GetInt(1));
    int64_t& max = db_max[row.GetString(0)];
    max = std::max(max, row.GetInt(1));
  }
  for (const auto& [component, version] : db_max) {
    auto it = plan.by_component.find(component);
    const int64_t known = it == plan.by_component.end() ? 0 : it->second.back()->version;
    if (version > known) {
      log::Error("store_schema_newer",
                 {{"component", component}, {"db_version", version}, {"binary_version", known}});
      return absl::FailedPreconditionError("database schema is newer than this binary");
    }
  }
  const int64_t now_us = absl::ToUnixMicros(clock.Now());
  for (const std::string& component : plan.components) {
    for (const Migration* m : plan.by_component.at(component)) {
      if (applied.count({m->component, m->version}) > 0) continue;
      absl::Status s = engine.exec_script(engine.step_sql(*m));
      if (!s.ok()) {
        log::Error("store_migration_failed",
                   {{"component", m->component}, {"version", m->version}});
        if (engine.keep_transient_step_failures &&
            (absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s))) {
          return s;
        }
        return absl::InternalError(
            absl::StrCat("migration ", m->component, " v", m->version, " failed"));
      }
      RETURN_IF_ERROR(tx.Exec(
          "INSERT INTO schema_migrations(component, version, applied_at_us) VALUES(?, ?, ?)",
          {m->component, static_cast<int64_t>(m->version), now_us}));
      log::Info("store_migration_applied", {{"component", m->component}, {"version", m->version}});
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, int64_t>> ReadSchemaVersions(ReadTransaction& tx) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   tx.Query("SELECT component, MAX(version) FROM schema_migrations"
                            " GROUP BY component",
                            {}));
  std::map<std::string, int64_t> versions;
  for (const Row& row : rows) versions[row.GetString(0)] = row.GetInt(1);
  return versions;
}

std::map<std::string, int64_t> NewestSchemaVersions(const std::vector<Migration>& migrations) {
  std::map<std::string, int64_t> versions;
  for (const Migration& m : migrations) {
    int64_t& v = versions[m.component];
    v = std::max(v, static_cast<int64_t>(m.version));
  }
  return versions;
}

}  // namespace pathway
