#include "common/store/store.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_replace.h"

namespace pathway {

namespace {

const std::string& EmptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}

}  // namespace

Migration EngineMigration(std::string component, int version, absl::string_view ddl) {
  // The tokens of store.h, with their SQLite and PostgreSQL spellings.
  static constexpr struct {
    const char* token;
    const char* sqlite;
    const char* postgresql;
  } kTokens[] = {
      {"{BLOB}", "BLOB", "BYTEA"},
      {"{AUTO_ID}", "INTEGER PRIMARY KEY", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"},
      {"{AUTO_ID_NEVER_REUSED}", "INTEGER PRIMARY KEY AUTOINCREMENT",
       "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"},
      {"{BIGINT_KEY}", "INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY"},
  };
  std::vector<std::pair<absl::string_view, absl::string_view>> sqlite;
  std::vector<std::pair<absl::string_view, absl::string_view>> postgresql;
  for (const auto& t : kTokens) {
    sqlite.emplace_back(t.token, t.sqlite);
    postgresql.emplace_back(t.token, t.postgresql);
  }
  return Migration(std::move(component), version, absl::StrReplaceAll(ddl, sqlite),
                   absl::StrReplaceAll(ddl, postgresql));
}

const Value& Row::Get(int col) const {
  if (col < 0 || col >= size()) {
    std::fprintf(stderr, "pathway::Row: column %d out of range [0, %d)\n", col, size());
    std::abort();
  }
  return values_[static_cast<size_t>(col)];
}

bool Row::IsNull(int col) const { return std::holds_alternative<std::monostate>(Get(col)); }

int64_t Row::GetInt(int col) const {
  const Value& v = Get(col);
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i;
  if (const double* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return 0;
}

double Row::GetDouble(int col) const {
  const Value& v = Get(col);
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const int64_t* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return 0;
}

const std::string& Row::GetString(int col) const {
  const Value& v = Get(col);
  if (const std::string* s = std::get_if<std::string>(&v)) return *s;
  if (const Blob* b = std::get_if<Blob>(&v)) return b->bytes;
  return EmptyString();
}

}  // namespace pathway
