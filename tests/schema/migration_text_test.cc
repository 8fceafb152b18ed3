// A shipped migration never changes: an existing database has run it and will
// never run it again, so a new binary must create exactly the schema it did.
// This test holds the DDL of every migration step of every component, as each
// engine runs it, against the texts kept in tests/schema/golden/<component>.sql.
//
// Whitespace is not significant to either engine: the texts compare with each
// run of it between two words as one space and any other dropped (so the
// golden files may put each statement on its own line); everything else must
// match character for character.
//
// A new migration step is appended to its component's golden file once, by
// running this test with PATHWAY_SCHEMA_GOLDEN_APPEND=1 (steps already there
// are never rewritten), and reviewed like any other change.
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/audit/audit_log.h"
#include "common/idempotency/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/program_status/program_status.h"
#include "common/store/store.h"
#include "gtest/gtest.h"
#include "services/compulsory_isolation/compulsory_isolation_tables.h"
#include "services/placement/placement_tables.h"
#include "services/registry/registry_tables.h"
#include "services/supervision/supervision_tables.h"

namespace pathway {
namespace {

struct Component {
  std::string name;
  std::vector<Migration> migrations;
};

std::vector<Component> AllComponents() {
  return {
      {"audit", AuditMigrations()},
      {"idempotency", IdempotencyMigrations()},
      {"outbox", OutboxMigrations()},
      {"program_status", ProgramStatusMigrations()},
      {"registry", registry::RegistryTableMigrations()},
      {"compulsory_isolation", isolation::IsolationTableMigrations()},
      {"placement", placement::PlacementTableMigrations()},
      {"supervision", supervision::SupervisionMigrations()},
  };
}

// The text each engine runs for a step.
std::vector<std::pair<std::string, std::string>> EngineTexts(const Migration& m) {
  return {{"sqlite", m.sql},
          {"postgresql", m.postgresql_sql.empty() ? m.sql : m.postgresql_sql}};
}

std::string Header(const std::string& component, int version, const std::string& engine) {
  return absl::StrCat("-- ", component, " v", version, " ", engine);
}

bool IsWordChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The text as compared: a run of whitespace between two word characters is one
// space, any other whitespace goes (neither engine reads it).
std::string Canonical(absl::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty() && IsWordChar(out.back()) && IsWordChar(c)) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// The text as kept in a golden file: runs of whitespace become one space, and
// each statement starts a line.
std::string ForGoldenFile(absl::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty() && out.back() != '\n') out.push_back(' ');
    space = false;
    out.push_back(c);
    if (c == ';') out.push_back('\n');
  }
  if (out.empty() || out.back() != '\n') out.push_back('\n');
  return out;
}

std::string GoldenPath(const std::string& component) {
  return absl::StrCat(PATHWAY_SCHEMA_GOLDEN_DIR, "/", component, ".sql");
}

// The golden file's steps by header line. A missing file has none.
std::map<std::string, std::string> ReadGolden(const std::string& component) {
  std::map<std::string, std::string> steps;
  std::ifstream in(GoldenPath(component));
  if (!in) return steps;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string prefix = absl::StrCat("-- ", component, " v");
  std::string* current = nullptr;
  for (absl::string_view line : absl::StrSplit(buffer.str(), '\n')) {
    if (absl::StartsWith(line, prefix)) {
      current = &steps[std::string(line)];
      continue;
    }
    if (current != nullptr) absl::StrAppend(current, line, "\n");
  }
  return steps;
}

bool AppendRequested() {
  const char* v = std::getenv("PATHWAY_SCHEMA_GOLDEN_APPEND");
  return v != nullptr && std::string(v) == "1";
}

TEST(MigrationTextTest, EveryStepOnEveryEngineIsTheShippedText) {
  for (const Component& c : AllComponents()) {
    SCOPED_TRACE(c.name);
    ASSERT_FALSE(c.migrations.empty());
    std::map<std::string, std::string> golden = ReadGolden(c.name);
    std::string appended;
    for (const Migration& m : c.migrations) {
      EXPECT_EQ(m.component, c.name);
      for (const auto& [engine, text] : EngineTexts(m)) {
        const std::string header = Header(m.component, m.version, engine);
        auto it = golden.find(header);
        if (it == golden.end()) {
          if (AppendRequested()) {
            absl::StrAppend(&appended, header, "\n", ForGoldenFile(text));
          } else {
            ADD_FAILURE() << "no golden text for '" << header << "' in " << GoldenPath(c.name)
                          << " (run with PATHWAY_SCHEMA_GOLDEN_APPEND=1 to add a new step)";
          }
          continue;
        }
        EXPECT_EQ(Canonical(text), Canonical(it->second)) << header;
        golden.erase(it);
      }
    }
    // A shipped step is never removed.
    for (const auto& [header, text] : golden) {
      ADD_FAILURE() << "'" << header << "' is in the golden file but no longer a migration";
    }
    if (!appended.empty()) {
      std::ofstream out(GoldenPath(c.name), std::ios::app);
      out << appended;
      ASSERT_TRUE(out.good()) << GoldenPath(c.name);
    }
  }
}

// The golden texts are more than whitespace: a step without SQL would match
// an empty golden text.
TEST(MigrationTextTest, EveryStepHasDdlForBothEngines) {
  for (const Component& c : AllComponents()) {
    for (const Migration& m : c.migrations) {
      for (const auto& [engine, text] : EngineTexts(m)) {
        EXPECT_FALSE(Canonical(text).empty()) << Header(m.component, m.version, engine);
        // An engine token left unreplaced would only fail when the step runs.
        EXPECT_FALSE(absl::StrContains(text, "{")) << Header(m.component, m.version, engine);
      }
    }
  }
}

}  // namespace
}  // namespace pathway
