#include "tools/pathwayctl/csv.h"

#include "absl/strings/str_cat.h"

namespace pathway {
namespace pathwayctl {

CsvReader::CsvReader(std::istream* in) : in_(in), buffer_(1 << 16) {}

int CsvReader::Peek() {
  if (pos_ == end_) {
    if (!status_.ok() || !in_->good()) return kEof;
    in_->read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    end_ = static_cast<size_t>(in_->gcount());
    pos_ = 0;
    if (in_->bad()) status_ = absl::DataLossError("the file cannot be read");
    if (end_ == 0) return kEof;
  }
  return static_cast<unsigned char>(buffer_[pos_]);
}

int CsvReader::Get() {
  int c = Peek();
  if (c != kEof) ++pos_;
  return c;
}

void CsvReader::Append(std::string* field, char c, CsvRecord* record) {
  if (field->size() < kMaxCsvFieldBytes) {
    field->push_back(c);
  } else if (record->error.empty()) {
    record->error = absl::StrCat("a field is longer than ", kMaxCsvFieldBytes, " bytes");
  }
}

bool CsvReader::Next(CsvRecord* record) {
  record->fields.clear();
  record->error.clear();
  if (at_start_) {
    at_start_ = false;
    // A UTF-8 byte order mark (EF BB BF), as spreadsheet programs write.
    if (Peek() == 0xEF) {
      std::string bom;
      while (bom.size() < 3 && (Peek() == 0xEF || Peek() == 0xBB || Peek() == 0xBF)) {
        bom.push_back(static_cast<char>(Get()));
      }
      if (bom != "\xEF\xBB\xBF") {
        // Not a BOM after all: the bytes belong to the first field.
        record->fields.emplace_back(bom);
      }
    }
  }
  if (record->fields.empty() && Peek() == kEof) return false;
  record->row = ++row_;
  record->line = line_;
  if (record->fields.empty()) record->fields.emplace_back();
  auto end_of_line = [&](int c) {
    // c is '\n' or '\r'; a CRLF pair is one line end.
    if (c == '\r' && Peek() == '\n') Get();
    ++line_;
  };
  while (true) {
    std::string* field = &record->fields.back();
    int c = Get();
    if (c == '"' && field->empty()) {
      // Quoted field.
      bool closed = false;
      while (true) {
        c = Get();
        if (c == kEof) break;
        if (c == '"') {
          if (Peek() == '"') {
            Get();
            Append(field, '"', record);
            continue;
          }
          closed = true;
          break;
        }
        if (c == '\n' || (c == '\r' && Peek() != '\n')) ++line_;
        Append(field, static_cast<char>(c), record);
      }
      if (!closed) {
        if (record->error.empty()) record->error = "a quoted field is never closed";
        return true;
      }
      c = Get();
      if (c != ',' && c != '\n' && c != '\r' && c != kEof) {
        if (record->error.empty()) record->error = "text after a closing quote";
        // Keep the rest of the field as text, up to the next separator.
        while (c != ',' && c != '\n' && c != '\r' && c != kEof) {
          Append(field, static_cast<char>(c), record);
          c = Get();
        }
      }
    } else {
      while (c != ',' && c != '\n' && c != '\r' && c != kEof) {
        if (c == '"' && record->error.empty()) record->error = "a quote inside an unquoted field";
        Append(field, static_cast<char>(c), record);
        c = Get();
      }
    }
    if (c == ',') {
      record->fields.emplace_back();
      continue;
    }
    if (c == '\n' || c == '\r') end_of_line(c);
    return true;
  }
}

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string CsvField(absl::string_view value) {
  bool quote = !value.empty() && (value.front() == ' ' || value.back() == ' ');
  for (char c : value) {
    if (c == ',' || c == '"' || c == '\r' || c == '\n') quote = true;
  }
  if (!quote) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void WriteCsvRow(std::ostream& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out << ',';
    out << CsvField(fields[i]);
  }
  out << '\n';
}

}  // namespace pathwayctl
}  // namespace pathway
