#include "common/cache/status_cache.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

constexpr int kEncodedFields = 6;
constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;

bool IsCode(absl::string_view code, size_t min_len) {
  if (code.size() < min_len ||
      code.size() > static_cast<size_t>(StatusCache::kMaxCodeLength)) {
    return false;
  }
  for (char c : code) {
    if (!(absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_')) {
      return false;
    }
  }
  return true;
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool DayInRange(const absl::CivilDay& day) {
  return day.year() >= kMinYear && day.year() <= kMaxYear;
}

absl::Time MinWrittenAt() {
  return absl::FromCivil(absl::CivilSecond(kMinYear, 1, 1, 0, 0, 0),
                         absl::UTCTimeZone());
}
absl::Time EndWrittenAt() {
  return absl::FromCivil(absl::CivilSecond(kMaxYear + 1, 1, 1, 0, 0, 0),
                         absl::UTCTimeZone());
}

std::string EncodeDay(const std::optional<absl::CivilDay>& day) {
  if (!day.has_value()) return "";
  return absl::StrFormat("%04d%02d%02d", static_cast<int>(day->year()),
                         day->month(), day->day());
}

// Parses "" (nullopt) or a valid "YYYYMMDD"; false if malformed.
bool DecodeDay(absl::string_view text, std::optional<absl::CivilDay>* day) {
  if (text.empty()) {
    day->reset();
    return true;
  }
  if (text.size() != 8 || !AllDigits(text)) return false;
  int y = 0, m = 0, d = 0;
  if (!absl::SimpleAtoi(text.substr(0, 4), &y) ||
      !absl::SimpleAtoi(text.substr(4, 2), &m) ||
      !absl::SimpleAtoi(text.substr(6, 2), &d)) {
    return false;
  }
  const absl::CivilDay parsed(y, m, d);
  // CivilDay normalises (e.g. Feb 30 -> Mar 2); reject anything it changed.
  if (parsed.year() != y || parsed.month() != m || parsed.day() != d) {
    return false;
  }
  *day = parsed;
  return true;
}

// A canonical positive version: digits, no leading zero, fits int64.
bool DecodeVersion(absl::string_view text, int64_t* version) {
  if (!AllDigits(text) || text[0] == '0' || text.size() > 19) return false;
  return absl::SimpleAtoi(text, version) && *version > 0;
}

}  // namespace

bool operator==(const ProgrammeStatus& a, const ProgrammeStatus& b) {
  return a.state == b.state && a.version == b.version && a.began == b.began &&
         a.next_deadline_kind == b.next_deadline_kind &&
         a.next_deadline == b.next_deadline && a.written_at == b.written_at;
}

absl::Status ValidateCaseId(absl::string_view case_id) {
  bool ok =
      !case_id.empty() &&
      case_id.size() <= static_cast<size_t>(StatusCache::kMaxCaseIdLength);
  for (char c : case_id) {
    if (!(absl::ascii_isalnum(c) || c == '-')) ok = false;
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("case id must be 1 to ", StatusCache::kMaxCaseIdLength,
                     " characters of [0-9A-Za-z-]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateProgrammeStatus(const ProgrammeStatus& status) {
  if (!IsCode(status.state, 1)) {
    return absl::InvalidArgumentError(absl::StrCat("state must be 1 to ",
                                                   StatusCache::kMaxCodeLength,
                                                   " characters of [A-Z0-9_]"));
  }
  if (status.version <= 0) {
    return absl::InvalidArgumentError("version must be positive");
  }
  if (!IsCode(status.next_deadline_kind, 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("next_deadline_kind must be at most ",
                     StatusCache::kMaxCodeLength, " characters of [A-Z0-9_]"));
  }
  if (!status.next_deadline_kind.empty() && !status.next_deadline.has_value()) {
    return absl::InvalidArgumentError(
        "next_deadline_kind must be empty when there is no next_deadline");
  }
  if (status.began.has_value() && !DayInRange(*status.began)) {
    return absl::InvalidArgumentError("began must be in years 1 to 9999");
  }
  if (status.next_deadline.has_value() && !DayInRange(*status.next_deadline)) {
    return absl::InvalidArgumentError(
        "next_deadline must be in years 1 to 9999");
  }
  if (status.written_at < MinWrittenAt() ||
      status.written_at >= EndWrittenAt()) {
    return absl::InvalidArgumentError("written_at must be in years 1 to 9999");
  }
  return absl::OkStatus();
}

std::string EncodeProgrammeStatus(const ProgrammeStatus& status) {
  return absl::StrCat(status.version, "|", status.state, "|",
                      EncodeDay(status.began), "|", status.next_deadline_kind,
                      "|", EncodeDay(status.next_deadline), "|",
                      absl::ToUnixMillis(status.written_at));
}

std::optional<ProgrammeStatus> DecodeProgrammeStatus(absl::string_view value) {
  const std::vector<absl::string_view> parts = absl::StrSplit(value, '|');
  if (parts.size() != kEncodedFields) return std::nullopt;
  ProgrammeStatus status;
  if (!DecodeVersion(parts[0], &status.version)) return std::nullopt;
  status.state = std::string(parts[1]);
  if (!DecodeDay(parts[2], &status.began)) return std::nullopt;
  status.next_deadline_kind = std::string(parts[3]);
  if (!DecodeDay(parts[4], &status.next_deadline)) return std::nullopt;
  absl::string_view millis_text = parts[5];
  const bool negative = absl::ConsumePrefix(&millis_text, "-");
  if (!AllDigits(millis_text)) return std::nullopt;
  int64_t millis = 0;
  if (!absl::SimpleAtoi(millis_text, &millis)) return std::nullopt;
  status.written_at = absl::FromUnixMillis(negative ? -millis : millis);
  if (!ValidateProgrammeStatus(status).ok()) return std::nullopt;
  return status;
}

absl::Status ValidatePutMany(const std::vector<StatusCache::PutEntry>& entries) {
  if (entries.size() > static_cast<size_t>(StatusCache::kMaxWriteManyEntries)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", StatusCache::kMaxWriteManyEntries, " entries per call"));
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::Status s = ValidateCaseId(entries[i].case_id);
    if (s.ok()) s = ValidateProgrammeStatus(entries[i].status);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entries[", i, "]: ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRemoveMany(
    const std::vector<StatusCache::RemoveEntry>& entries) {
  if (entries.size() > static_cast<size_t>(StatusCache::kMaxWriteManyEntries)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", StatusCache::kMaxWriteManyEntries, " entries per call"));
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::Status s = ValidateCaseId(entries[i].case_id);
    if (s.ok() && entries[i].max_version < 0) {
      s = absl::InvalidArgumentError("max_version must not be negative");
    }
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entries[", i, "]: ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<bool>> StatusCache::PutMany(
    const std::vector<PutEntry>& entries) {
  RETURN_IF_ERROR(ValidatePutMany(entries));
  std::vector<bool> written;
  written.reserve(entries.size());
  for (const PutEntry& e : entries) {
    ASSIGN_OR_RETURN(bool w, Put(e.case_id, e.programme, e.status));
    written.push_back(w);
  }
  return written;
}

absl::StatusOr<std::vector<bool>> StatusCache::RemoveMany(
    const std::vector<RemoveEntry>& entries) {
  RETURN_IF_ERROR(ValidateRemoveMany(entries));
  std::vector<bool> removed;
  removed.reserve(entries.size());
  for (const RemoveEntry& e : entries) {
    ASSIGN_OR_RETURN(bool r, Remove(e.case_id, e.programme, e.max_version));
    removed.push_back(r);
  }
  return removed;
}

}  // namespace pathway
