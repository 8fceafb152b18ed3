// CSV for pathwayctl's bulk exchange (RFC 4180, written here rather than taken from a
// package: Debian's libcsv would be a new system dependency for ~200 lines, and this
// reader also reports where each record starts). A streaming reader that holds one
// record at a time, so a file of a million rows is read in constant memory, and the
// writer's quoting.
//
//   std::ifstream file(path, std::ios::binary);
//   CsvReader reader(&file);
//   CsvRecord record;
//   while (reader.Next(&record)) {
//     if (!record.error.empty()) ...  // malformed quoting: report record.row
//     Use(record.fields);
//   }
//   if (!reader.status().ok()) ...    // the file could not be read
//
// Reading rules: fields are separated by commas; records end with LF, CRLF or a lone CR;
// a field in double quotes may hold commas, quotes (doubled: "") and line breaks; a
// UTF-8 byte order mark at the very start is skipped; fields are not trimmed. A quote
// inside an unquoted field, text after a closing quote and a quote never closed are
// per-record errors (the record is still returned with what could be read, and
// reading continues with the next record). A field longer than kMaxCsvFieldBytes is an
// error too, and its excess is not kept. An empty line is a record with one empty
// field (IsBlank).
//
// Not thread-safe; `in` is not owned and must outlive the reader.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_CSV_H_
#define PATHWAY_TOOLS_PATHWAYCTL_CSV_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace pathway {
namespace pathwayctl {

inline constexpr size_t kMaxCsvFieldBytes = 64 * 1024;

struct CsvRecord {
  std::vector<std::string> fields;
  // 1-based position of the record in the file, the header being row 1 (a spreadsheet's
  // row number), and the physical line it starts on (differs once a quoted field spans
  // lines).
  int64_t row = 0;
  int64_t line = 0;
  // Non-empty when the record is malformed (what was wrong, never the content).
  std::string error;

  // An empty line.
  bool IsBlank() const { return fields.size() == 1 && fields[0].empty() && error.empty(); }
};

class CsvReader {
 public:
  explicit CsvReader(std::istream* in);

  // Reads the next record into *record; false at the end of the input or when the
  // input cannot be read (then status() says so).
  bool Next(CsvRecord* record);
  absl::Status status() const { return status_; }

 private:
  static constexpr int kEof = -1;
  int Get();
  int Peek();
  void Append(std::string* field, char c, CsvRecord* record);

  std::istream* in_;  // not owned
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool at_start_ = true;
  int64_t row_ = 0;
  int64_t line_ = 1;
  absl::Status status_;
};

// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or values past
// U+10FFFF).
bool IsValidUtf8(absl::string_view text);

// One field as CSV: quoted when it holds a comma, quote, CR or LF or starts or ends with
// a space; quotes doubled.
std::string CsvField(absl::string_view value);
// Writes one record terminated by "\n".
void WriteCsvRow(std::ostream& out, const std::vector<std::string>& fields);

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_CSV_H_
