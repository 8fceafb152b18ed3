#include "tools/pathwayctl/import_command.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "pathway/placement/v1/placement.grpc.pb.h"
#include "tools/pathwayctl/command_common.h"
#include "tools/pathwayctl/csv.h"

namespace pathway {
namespace pathwayctl {
namespace {

namespace v1 = placement::v1;

constexpr absl::string_view kUsage =
    "usage: pathwayctl import postings|registrations --addr HOST:PORT --file F.csv\n"
    "           [--validate-only] [--batch 1000] [--errors ERRORS.csv] [--token T]\n"
    "           [--timeout 2h]\n"
    "\n"
    "  --file           the CSV file: UTF-8, a header row, comma-separated; a field with\n"
    "                   commas, quotes or line breaks in double quotes (\"\" for a quote);\n"
    "                   a byte order mark and CRLF line ends are accepted\n"
    "  --validate-only  the server checks every row and writes nothing\n"
    "  --batch          rows per stream message, 1..1000 (default 1000)\n"
    "  --errors         write every refused row to this CSV file, in row order, with the\n"
    "                   columns row,line,record_id,field,reason (row: the record's row in\n"
    "                   the file, the header being row 1; line: the line it starts on);\n"
    "                   default: a summary and the first 20 on stderr\n"
    "  --token          bearer token of a labor bureau or admin (default: $PATHWAY_TOKEN)\n"
    "  --timeout        deadline of the whole upload (default 2h)\n"
    "\n"
    "postings columns (PostingRow in pathway/placement/v1/placement.proto):\n"
    "  record_id*, employer_credit_code, employer_name, title*, division*, wage_min*,\n"
    "  wage_max*, skills (tags separated by ';'), openings*, valid_from*, valid_until*\n"
    "registrations columns (RegistrationRow):\n"
    "  record_id*, kind* (EMPLOYMENT or UNEMPLOYMENT), resident_id_number*,\n"
    "  employer_credit_code, division*, registered_on*\n"
    "(* the column must be in the header. Dates are YYYY-MM-DD, numbers plain integers;\n"
    "empty cells and the rules of each field are checked by the server, row by row.)\n"
    "\n"
    "Exit 0 when every row was accepted, 1 when some rows were refused (or the call\n"
    "failed), 2 for a usage error.\n";

// Errors kept in memory for the report, from the file itself (the server reports at
// most 10,000 of its own).
constexpr size_t kMaxLocalErrors = 10000;
constexpr int kStderrErrors = 20;

// ---------------------------------------------------------------- columns

template <typename RowT>
struct Column {
  const char* name;
  bool required;  // must be in the header
  // Sets the field from a cell; false with *reason when the cell cannot be one.
  bool (*set)(absl::string_view cell, RowT* row, std::string* reason);
};

bool Int32Cell(absl::string_view cell, int32_t* out, std::string* reason) {
  if (cell.empty()) {
    *out = 0;
    return true;
  }
  if (!absl::SimpleAtoi(cell, out)) {
    *reason = "not an integer";
    return false;
  }
  return true;
}

bool DateCell(absl::string_view cell, common::v1::Date* out, std::string* reason) {
  if (cell.empty()) return true;  // unset: the server says it is required
  std::optional<common::v1::Date> d = ParseCsvDate(cell);
  if (!d.has_value()) {
    *reason = "not a date (YYYY-MM-DD)";
    return false;
  }
  *out = *d;
  return true;
}

const std::vector<Column<v1::PostingRow>>& PostingColumns() {
  using R = v1::PostingRow;
  static const auto* columns = new std::vector<Column<R>>{
      {"record_id", true, [](absl::string_view c, R* r, std::string*) {
         r->set_record_id(std::string(c));
         return true;
       }},
      {"employer_credit_code", false, [](absl::string_view c, R* r, std::string*) {
         r->set_employer_credit_code(std::string(c));
         return true;
       }},
      {"employer_name", false, [](absl::string_view c, R* r, std::string*) {
         r->set_employer_name(std::string(c));
         return true;
       }},
      {"title", true, [](absl::string_view c, R* r, std::string*) {
         r->set_title(std::string(c));
         return true;
       }},
      {"division", true, [](absl::string_view c, R* r, std::string*) {
         r->set_division(std::string(c));
         return true;
       }},
      {"wage_min", true, [](absl::string_view c, R* r, std::string* why) {
         int32_t v = 0;
         if (!Int32Cell(c, &v, why)) return false;
         r->set_wage_min(v);
         return true;
       }},
      {"wage_max", true, [](absl::string_view c, R* r, std::string* why) {
         int32_t v = 0;
         if (!Int32Cell(c, &v, why)) return false;
         r->set_wage_max(v);
         return true;
       }},
      {"skills", false, [](absl::string_view c, R* r, std::string*) {
         for (absl::string_view tag : absl::StrSplit(c, ';')) {
           tag = absl::StripAsciiWhitespace(tag);
           if (!tag.empty()) r->add_skills(std::string(tag));
         }
         return true;
       }},
      {"openings", true, [](absl::string_view c, R* r, std::string* why) {
         int32_t v = 0;
         if (!Int32Cell(c, &v, why)) return false;
         r->set_openings(v);
         return true;
       }},
      {"valid_from", true, [](absl::string_view c, R* r, std::string* why) {
         return DateCell(c, r->mutable_valid_from(), why);
       }},
      {"valid_until", true, [](absl::string_view c, R* r, std::string* why) {
         return DateCell(c, r->mutable_valid_until(), why);
       }},
  };
  return *columns;
}

const std::vector<Column<v1::RegistrationRow>>& RegistrationColumns() {
  using R = v1::RegistrationRow;
  static const auto* columns = new std::vector<Column<R>>{
      {"record_id", true, [](absl::string_view c, R* r, std::string*) {
         r->set_record_id(std::string(c));
         return true;
       }},
      {"kind", true, [](absl::string_view c, R* r, std::string* why) {
         std::string k = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(c));
         if (k.empty()) return true;  // the server says it is required
         if (k == "EMPLOYMENT" || k == "REGISTRATION_KIND_EMPLOYMENT" || k == "就业") {
           r->set_kind(v1::REGISTRATION_KIND_EMPLOYMENT);
         } else if (k == "UNEMPLOYMENT" || k == "REGISTRATION_KIND_UNEMPLOYMENT" ||
                    k == "失业") {
           r->set_kind(v1::REGISTRATION_KIND_UNEMPLOYMENT);
         } else {
           *why = "must be EMPLOYMENT or UNEMPLOYMENT";
           return false;
         }
         return true;
       }},
      {"resident_id_number", true, [](absl::string_view c, R* r, std::string*) {
         r->set_resident_id_number(std::string(c));
         return true;
       }},
      {"employer_credit_code", false, [](absl::string_view c, R* r, std::string*) {
         r->set_employer_credit_code(std::string(c));
         return true;
       }},
      {"division", true, [](absl::string_view c, R* r, std::string*) {
         r->set_division(std::string(c));
         return true;
       }},
      {"registered_on", true, [](absl::string_view c, R* r, std::string* why) {
         return DateCell(c, r->mutable_registered_on(), why);
       }},
  };
  return *columns;
}

// The header's columns, in file order.
template <typename RowT>
class Mapper {
 public:
  bool Init(const std::vector<Column<RowT>>& columns, const CsvRecord& header,
            std::string* error) {
    if (!header.error.empty()) {
      *error = absl::StrCat("the header row is malformed: ", header.error);
      return false;
    }
    for (const std::string& raw : header.fields) {
      std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
      const Column<RowT>* found = nullptr;
      for (const Column<RowT>& c : columns) {
        if (name == c.name) found = &c;
      }
      if (found == nullptr) {
        *error = absl::StrCat("unknown column \"", name.size() <= 40 ? name : "", "\"");
        return false;
      }
      for (const Column<RowT>* seen : by_position_) {
        if (seen == found) {
          *error = absl::StrCat("column ", name, " appears twice");
          return false;
        }
      }
      if (found == &columns[0]) record_id_position_ = static_cast<int>(by_position_.size());
      by_position_.push_back(found);
    }
    for (const Column<RowT>& c : columns) {
      if (c.required && std::find(by_position_.begin(), by_position_.end(), &c) ==
                            by_position_.end()) {
        *error = absl::StrCat("the header has no column ", c.name);
        return false;
      }
    }
    return true;
  }

  // The record id as the file gives it, for the report (empty unless plausible).
  std::string RecordId(const CsvRecord& record) const {
    if (record_id_position_ < 0 || record_id_position_ >= static_cast<int>(record.fields.size())) {
      return "";
    }
    const std::string& id = record.fields[record_id_position_];
    if (id.size() > 64 || !IsValidUtf8(id)) return "";
    return id;
  }

  bool Map(const CsvRecord& record, RowT* row, std::string* field, std::string* reason) const {
    if (!record.error.empty()) {
      *field = "";
      *reason = record.error;
      return false;
    }
    if (record.fields.size() != by_position_.size()) {
      *field = "";
      *reason = absl::StrCat("expected ", by_position_.size(), " fields, found ",
                             record.fields.size());
      return false;
    }
    for (size_t i = 0; i < by_position_.size(); ++i) {
      const Column<RowT>& c = *by_position_[i];
      if (!IsValidUtf8(record.fields[i])) {
        *field = c.name;
        *reason = "not valid UTF-8";
        return false;
      }
      if (!c.set(record.fields[i], row, reason)) {
        *field = c.name;
        return false;
      }
    }
    return true;
  }

 private:
  std::vector<const Column<RowT>*> by_position_;
  int record_id_position_ = -1;
};

// Stream row (1-based, as the server counts) -> the file's row and line. Only the points
// where the offset changes are kept (a row refused locally, a blank line, a record
// spanning lines), so memory stays small for a file of plain rows.
class RowMap {
 public:
  void Add(int64_t stream_row, int64_t file_row, int64_t line) {
    if (!points_.empty()) {
      const Point& p = points_.back();
      int64_t step = stream_row - p.stream_row;
      if (p.file_row + step == file_row && p.line + step == line) return;
    }
    points_.push_back({stream_row, file_row, line});
  }
  std::pair<int64_t, int64_t> Lookup(int64_t stream_row) const {
    auto it = std::upper_bound(points_.begin(), points_.end(), stream_row,
                               [](int64_t r, const Point& p) { return r < p.stream_row; });
    if (it == points_.begin()) return {0, 0};
    --it;
    int64_t step = stream_row - it->stream_row;
    return {it->file_row + step, it->line + step};
  }

 private:
  struct Point {
    int64_t stream_row, file_row, line;
  };
  std::vector<Point> points_;
};

struct ReportRow {
  int64_t row = 0;
  int64_t line = 0;
  std::string record_id;
  std::string field;
  std::string reason;
};

struct ImportFlags {
  std::string addr, token, file, errors_path;
  bool validate_only = false;
  int batch = 1000;
  absl::Duration timeout = absl::Hours(2);
};

template <typename Chunk, typename RowT>
int RunImport(absl::string_view what, const ImportFlags& f,
              const std::vector<Column<RowT>>& columns,
              const std::function<std::unique_ptr<grpc::ClientWriter<Chunk>>(
                  grpc::ClientContext*, v1::ImportResult*)>& open,
              bool progress_on, const Clock& clock, std::ostream& err) {
  const std::string prefix = absl::StrCat("pathwayctl import ", what, ": ");
  std::ifstream file(f.file, std::ios::binary);
  if (!file) {
    err << prefix << "cannot open " << f.file << "\n";
    return 2;
  }
  std::ofstream errors_file;
  if (!f.errors_path.empty()) {
    errors_file.open(f.errors_path, std::ios::binary | std::ios::trunc);
    if (!errors_file) {
      err << prefix << "cannot write " << f.errors_path << "\n";
      return 2;
    }
  }
  CsvReader reader(&file);
  CsvRecord record;
  if (!reader.Next(&record)) {
    err << prefix << f.file << " is empty (a header row is required)\n";
    return 2;
  }
  Mapper<RowT> mapper;
  std::string header_error;
  if (!mapper.Init(columns, record, &header_error)) {
    err << prefix << header_error << "\n" << kUsage;
    return 2;
  }

  // The total for the progress line: one quick pass over the file (terminals only).
  int64_t total = -1;
  if (progress_on) {
    std::ifstream count_file(f.file, std::ios::binary);
    CsvReader counter(&count_file);
    CsvRecord r;
    total = 0;
    while (counter.Next(&r)) {
      if (r.row > 1 && !r.IsBlank()) ++total;
    }
  }
  Progress progress(err, progress_on, clock, "rows");

  std::unique_ptr<grpc::ClientContext> ctx = CallContext(f.token, f.timeout);
  v1::ImportResult result;
  std::unique_ptr<grpc::ClientWriter<Chunk>> writer = open(ctx.get(), &result);
  Chunk chunk;
  bool first = true;
  bool stream_ok = true;
  auto send = [&] {
    if (first) chunk.set_validate_only(f.validate_only);
    first = false;
    stream_ok = writer->Write(chunk);
    chunk.Clear();
  };
  int64_t read_rows = 0;
  int64_t sent = 0;
  int64_t local_refused = 0;
  std::vector<ReportRow> local_errors;
  RowMap row_map;
  while (stream_ok && reader.Next(&record)) {
    if (record.IsBlank()) continue;
    ++read_rows;
    RowT row;
    std::string field, reason;
    if (!mapper.Map(record, &row, &field, &reason)) {
      ++local_refused;
      if (local_errors.size() < kMaxLocalErrors) {
        local_errors.push_back({record.row, record.line, mapper.RecordId(record), field, reason});
      }
      continue;
    }
    *chunk.add_rows() = std::move(row);
    row_map.Add(++sent, record.row, record.line);
    if (chunk.rows_size() >= f.batch) {
      send();
      progress.Update(read_rows, total);
    }
  }
  if (stream_ok && (chunk.rows_size() > 0 || first)) send();
  if (!reader.status().ok()) {
    ctx->TryCancel();
    writer->Finish();
    progress.Finish();
    err << prefix << f.file << " could not be read to the end (after row " << record.row
        << "); rows sent before may have been imported: the import is idempotent, re-run it\n";
    return 1;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  progress.Update(read_rows, total);
  progress.Finish();
  if (!status.ok()) {
    err << prefix << StatusText(status) << "\n"
        << prefix << "rows sent before the failure may have been imported; the import is "
        << "idempotent by record_id: re-run it\n";
    return 1;
  }

  // The report: local and server errors merged in file order.
  std::vector<ReportRow> server_errors;
  server_errors.reserve(static_cast<size_t>(result.errors_size()));
  for (const v1::RowError& e : result.errors()) {
    auto [row, line] = row_map.Lookup(e.row());
    server_errors.push_back({row, line, e.record_id(), e.field(), e.reason()});
  }
  std::vector<ReportRow> report;
  report.reserve(local_errors.size() + server_errors.size());
  std::merge(local_errors.begin(), local_errors.end(), server_errors.begin(), server_errors.end(),
             std::back_inserter(report),
             [](const ReportRow& a, const ReportRow& b) { return a.row < b.row; });
  const int64_t refused = local_refused + result.rows_rejected();
  const bool truncated =
      result.errors_truncated() || local_refused > static_cast<int64_t>(local_errors.size());
  if (errors_file.is_open()) {
    WriteCsvRow(errors_file, {"row", "line", "record_id", "field", "reason"});
    for (const ReportRow& r : report) {
      WriteCsvRow(errors_file,
                  {absl::StrCat(r.row), absl::StrCat(r.line), r.record_id, r.field, r.reason});
    }
    errors_file.close();
    if (!errors_file) {
      err << prefix << "cannot write " << f.errors_path << "\n";
      return 1;
    }
  } else {
    for (size_t i = 0; i < report.size() && i < static_cast<size_t>(kStderrErrors); ++i) {
      const ReportRow& r = report[i];
      err << "row " << r.row << " (line " << r.line << ")"
          << (r.record_id.empty() ? "" : absl::StrCat(" record ", r.record_id)) << ": "
          << (r.field.empty() ? "" : absl::StrCat(r.field, ": ")) << r.reason << "\n";
    }
    if (report.size() > static_cast<size_t>(kStderrErrors)) {
      err << "... " << (refused - kStderrErrors) << " more refused rows (use --errors FILE)\n";
    }
  }
  err << prefix << read_rows << " rows read, " << sent << " sent; "
      << (result.validate_only() ? "would import " : "imported ") << result.rows_imported()
      << ", updated " << result.rows_updated() << ", unchanged " << result.rows_unchanged()
      << ", refused " << refused << " (" << local_refused << " unreadable, "
      << result.rows_rejected() << " by the server)"
      << (result.validate_only() ? "; validate only: nothing was written" : "") << "\n";
  if (!f.errors_path.empty()) {
    err << prefix << "refused rows written to " << f.errors_path
        << (truncated ? " (the first 10,000 of each kind)" : "") << "\n";
  } else if (truncated) {
    err << prefix << "only the first 10,000 refused rows of each kind are listed\n";
  }
  return refused > 0 ? 1 : 0;
}

}  // namespace

absl::string_view ImportUsage() { return kUsage; }

int RunImportCommand(absl::Span<const std::string> args, const Environment& env,
                     const Clock& clock, std::ostream& out, std::ostream& err) {
  ParsedFlags flags = ParseFlags(
      args, {"--addr", "--file", "--batch", "--errors", "--token", "--timeout"},
      {"--validate-only"});
  if (flags.help) {
    out << kUsage;
    return 0;
  }
  if (!flags.error.empty()) {
    err << "pathwayctl import: " << flags.error << "\n" << kUsage;
    return 2;
  }
  ImportFlags f;
  f.addr = flags.Get("--addr");
  f.file = flags.Get("--file");
  f.errors_path = flags.Get("--errors");
  f.token = flags.Get("--token", env.token);
  f.validate_only = flags.Has("--validate-only");
  if (flags.values.count("--batch") > 0 &&
      (!absl::SimpleAtoi(flags.Get("--batch"), &f.batch) || f.batch < 1 || f.batch > 1000)) {
    err << "pathwayctl import: --batch must be 1..1000\n";
    return 2;
  }
  if (flags.values.count("--timeout") > 0 &&
      (!absl::ParseDuration(flags.Get("--timeout"), &f.timeout) ||
       f.timeout <= absl::ZeroDuration())) {
    err << "pathwayctl import: --timeout must be a duration like 2h\n";
    return 2;
  }
  if (flags.positional.size() != 1 || f.addr.empty() || f.file.empty()) {
    err << kUsage;
    return 2;
  }
  auto channel = OpenChannel(f.addr, env.tls, err);
  if (channel == nullptr) return 2;
  auto stub = v1::Placement::NewStub(channel);
  const std::string& what = flags.positional[0];
  if (what == "postings") {
    return RunImport<v1::ImportPostingsChunk, v1::PostingRow>(
        what, f, PostingColumns(),
        [&](grpc::ClientContext* ctx, v1::ImportResult* result) {
          return stub->ImportPostings(ctx, result);
        },
        env.stderr_is_terminal, clock, err);
  }
  if (what == "registrations") {
    return RunImport<v1::ImportRegistrationsChunk, v1::RegistrationRow>(
        what, f, RegistrationColumns(),
        [&](grpc::ClientContext* ctx, v1::ImportResult* result) {
          return stub->ImportRegistrations(ctx, result);
        },
        env.stderr_is_terminal, clock, err);
  }
  err << "pathwayctl import: import what? postings or registrations\n" << kUsage;
  return 2;
}

}  // namespace pathwayctl
}  // namespace pathway
