#include "services/registry/visits.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/case_scope.h"
#include "common/codec/date_text.h"
#include "common/codec/proto_date.h"
#include "common/ids/case_id.h"
#include "common/legal_time/legal_time.h"
#include "common/status/status_macros.h"
#include "services/registry/registry_rules.h"
#include "services/registry/visit_tables.h"
#include "services/registry/worklist_tables.h"

namespace pathway {
namespace registry {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 200;

bool Holds(std::initializer_list<Role> roles, Role role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

// Free text a caller wrote: at most `max_chars` code points (proto3 strings are valid
// UTF-8), no control characters but, where `multiline`, line breaks and tabs. The
// messages name the field, never its text.
absl::Status ValidateFreeText(absl::string_view text, absl::string_view field, int max_chars,
                              bool required, bool multiline) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    if (required) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
    if (!text.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is blank"));
    return absl::OkStatus();
  }
  int chars = 0;
  for (unsigned char ch : text) {
    if ((ch & 0xC0) != 0x80) ++chars;  // not a continuation byte
    const bool line = ch == '\n' || ch == '\r' || ch == '\t';
    if ((ch < 0x20 && !(multiline && line)) || ch == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(field, " contains control characters"));
    }
  }
  if (chars > max_chars) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is longer than ", max_chars, " characters"));
  }
  return absl::OkStatus();
}

// The division that works the case and so records its visits: the county of the
// township it is assigned to; while unassigned, its residence county (where the
// person lives and is visited; the residence defaults to the household place).
std::string WorkingCounty(const CaseRecord& c) {
  if (c.township.size() >= 6) return c.township.substr(0, 6);
  return c.residence_division.empty() ? c.household_division : c.residence_division;
}

std::string Aad(absl::string_view case_id, int64_t visit_id, absl::string_view field) {
  return absl::StrCat(case_id, "/visit/", visit_id, "/", field);
}

std::string EncodePageToken(absl::CivilDay day, int64_t visit_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(DayText(day), "|", visit_id));
}

bool DecodePageToken(absl::string_view token, absl::CivilDay* day, int64_t* visit_id) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return false;
  std::pair<std::string, std::string> parts = absl::StrSplit(raw, absl::MaxSplits('|', 1));
  std::optional<absl::CivilDay> parsed = ParseDayText(parts.first);
  if (!parsed.has_value() || !absl::SimpleAtoi(parts.second, visit_id) || *visit_id <= 0) {
    return false;
  }
  *day = *parsed;
  return true;
}

}  // namespace

bool SeesVisitText(Role role) {
  return role == Role::kCaseworker || role == Role::kPolice || role == Role::kAuditor;
}

std::optional<absl::CivilDay> NextVisitDue(const std::vector<VisitDatesRow>& visits) {
  std::set<int64_t> superseded;
  for (const VisitDatesRow& v : visits) {
    if (v.corrects_visit_id != 0) superseded.insert(v.corrects_visit_id);
  }
  const VisitDatesRow* newest = nullptr;  // the newest current entry naming a date
  for (const VisitDatesRow& v : visits) {
    if (superseded.count(v.visit_id) > 0 || !v.next_visit_on.has_value()) continue;
    if (newest == nullptr || v.visited_on > newest->visited_on ||
        (v.visited_on == newest->visited_on && v.visit_id > newest->visit_id)) {
      newest = &v;
    }
  }
  if (newest == nullptr) return std::nullopt;
  for (const VisitDatesRow& v : visits) {
    if (superseded.count(v.visit_id) == 0 && v.visited_on >= *newest->next_visit_on) {
      return std::nullopt;  // the planned visit took place
    }
  }
  return newest->next_visit_on;
}

VisitLogic::VisitLogic(const RegistryLogic* cases, const PiiCipher* cipher)
    : cases_(cases), cipher_(cipher) {}

absl::StatusOr<v1::Visit> VisitLogic::Record(Transaction& tx, const Caller& caller,
                                             const v1::RecordVisitRequest& r,
                                             absl::Time now) const {
  if (!Holds(kVisitRecorders, caller.role())) {
    return absl::PermissionDeniedError("only caseworkers and police record visits");
  }
  const absl::CivilDay today = legal_time::ToCivilDay(now);
  // Scope, then who acts, before any field is looked at: nothing below tells an
  // outsider, or the other side of 双向管控, more than that.
  ASSIGN_OR_RETURN(CaseRecord c, cases_->LoadScopeVisible(tx, caller, r.case_id(), today));
  RETURN_IF_ERROR(CheckExecutesCase(caller, ScopeOf(c, today), WorkingCounty(c),
                                    "the township or county working the case"));
  // Dynamic control has ended and the record is closed (戒毒条例 Art 7).
  if (Sealed(c, today)) return absl::FailedPreconditionError("the case is sealed");
  ASSIGN_OR_RETURN(std::optional<absl::CivilDay> registered_on,
                   LoadCaseRegisteredOn(tx, c.case_id));
  if (!registered_on.has_value()) return CaseNotFound();

  ASSIGN_OR_RETURN(absl::CivilDay visited_on, RequiredDate(r.visited_on(), "visited_on"));
  if (visited_on > today) return absl::InvalidArgumentError("visited_on is in the future");
  if (visited_on < *registered_on) {
    return absl::InvalidArgumentError("visited_on is before the case was registered");
  }
  if (r.kind() == v1::VISIT_KIND_UNSPECIFIED || !v1::VisitKind_IsValid(r.kind())) {
    return absl::InvalidArgumentError("kind is required and must be a known kind");
  }
  RETURN_IF_ERROR(ValidateFreeText(r.notes(), "notes", kMaxVisitNotesChars, true, true));
  RETURN_IF_ERROR(ValidateFreeText(r.place(), "place", kMaxVisitPlaceChars, false, false));
  ASSIGN_OR_RETURN(std::optional<absl::CivilDay> next,
                   OptionalDate(r.next_visit_on(), "next_visit_on"));
  if (next.has_value() && *next <= visited_on) {
    return absl::InvalidArgumentError("next_visit_on must be after visited_on");
  }
  if (next.has_value() && *next - visited_on > kMaxDaysToNextVisit) {
    return absl::InvalidArgumentError("next_visit_on is more than a year after visited_on");
  }
  if (r.corrects_visit_id() < 0) {
    return absl::InvalidArgumentError("corrects_visit_id must be a visit id or 0");
  }
  if (r.corrects_visit_id() != 0) {
    ASSIGN_OR_RETURN(std::optional<VisitRow> corrected,
                     LoadVisit(tx, c.case_id, r.corrects_visit_id()));
    if (!corrected.has_value()) {
      return absl::NotFoundError("corrects_visit_id names no visit of this case");
    }
    if (corrected->superseded_by != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("visit ", corrected->visit_id, " is already corrected by visit ",
                       corrected->superseded_by, "; correct that one instead"));
    }
  }

  ASSIGN_OR_RETURN(int64_t last, LastVisitId(tx, c.case_id));
  VisitRow row;
  row.case_id = c.case_id;
  row.visit_id = last + 1;
  row.visited_on = visited_on;
  row.kind = r.kind();
  ASSIGN_OR_RETURN(row.place_cipher,
                   cipher_->Encrypt(r.place(), Aad(c.case_id, row.visit_id, "place")));
  ASSIGN_OR_RETURN(row.notes_cipher,
                   cipher_->Encrypt(r.notes(), Aad(c.case_id, row.visit_id, "notes")));
  row.next_visit_on = next;
  row.recorded_by = caller.subject();
  row.recorder_role = std::string(RoleName(caller.role()));
  row.recorded_us = absl::ToUnixMicros(now);
  row.corrects_visit_id = r.corrects_visit_id();
  absl::Status inserted = InsertVisit(tx, row);
  if (absl::IsAlreadyExists(inserted)) {
    // A concurrent entry took the id or corrected the same visit first; a retry
    // answers which.
    return absl::AbortedError("a concurrent visit record was written first; retry");
  }
  RETURN_IF_ERROR(inserted);

  ASSIGN_OR_RETURN(std::vector<VisitDatesRow> dates, LoadVisitDates(tx, c.case_id));
  const std::optional<absl::CivilDay> next_due = NextVisitDue(dates);
  RETURN_IF_ERROR(StoreNextVisitDue(tx, c.case_id, next_due));
  // The next visit is a worklist item of the county working the case (worklist.h).
  std::vector<DueItemRecord> items;
  if (next_due.has_value()) {
    items.push_back(DueItemRecord{"VISIT", "VISIT", *next_due, true, true, "帮扶工作计划"});
  }
  RETURN_IF_ERROR(ReplaceWorkItems(tx, c.case_id, kCaseworkProgram, WorkingCounty(c), items));
  return ToProto(row, /*with_text=*/false);
}

absl::Status VisitLogic::CheckStillVisible(ReadTransaction& tx, const Caller& caller,
                                           absl::string_view case_id, absl::CivilDay today) const {
  return cases_->LoadScopeVisible(tx, caller, case_id, today).status();
}

absl::StatusOr<VisitLogic::Page> VisitLogic::List(ReadTransaction& tx, const Caller& caller,
                                                  const v1::ListVisitsRequest& r,
                                                  absl::CivilDay today) const {
  if (!Holds(kVisitReaders, caller.role())) {
    return absl::PermissionDeniedError("this role does not read visit records");
  }
  ASSIGN_OR_RETURN(CaseRecord c, cases_->LoadScopeVisible(tx, caller, r.case_id(), today));
  VisitPageQuery q;
  q.case_id = c.case_id;
  q.limit =
      r.page().page_size() <= 0 ? kDefaultPageSize : std::min(r.page().page_size(), kMaxPageSize);
  if (!r.page().page_token().empty()) {
    absl::CivilDay day;
    if (!DecodePageToken(r.page().page_token(), &day, &q.after_visit_id)) {
      return absl::InvalidArgumentError("page_token is not valid");
    }
    q.after_day = day;
  }
  ASSIGN_OR_RETURN(std::vector<VisitRow> rows, ListVisitRows(tx, q));
  Page page;
  page.case_id = c.case_id;
  ASSIGN_OR_RETURN(page.total, CountVisits(tx, c.case_id));
  const bool with_text = SeesVisitText(caller.role());
  for (const VisitRow& row : rows) {
    ASSIGN_OR_RETURN(v1::Visit v, ToProto(row, with_text));
    page.visits.push_back(std::move(v));
  }
  if (static_cast<int64_t>(rows.size()) == q.limit) {
    page.next_page_token = EncodePageToken(rows.back().visited_on, rows.back().visit_id);
  }
  return page;
}

absl::StatusOr<v1::Visit> VisitLogic::ToProto(const VisitRow& row, bool with_text) const {
  v1::Visit v;
  v.set_case_id(row.case_id);
  v.set_visit_id(row.visit_id);
  ToProtoDate(row.visited_on, v.mutable_visited_on());
  v.set_kind(static_cast<v1::VisitKind>(row.kind));
  if (with_text) {
    ASSIGN_OR_RETURN(std::string place,
                     cipher_->Decrypt(row.place_cipher, Aad(row.case_id, row.visit_id, "place")));
    ASSIGN_OR_RETURN(std::string notes,
                     cipher_->Decrypt(row.notes_cipher, Aad(row.case_id, row.visit_id, "notes")));
    v.set_place(std::move(place));
    v.set_notes(std::move(notes));
  } else {
    v.set_text_withheld(true);
  }
  if (row.next_visit_on.has_value()) ToProtoDate(*row.next_visit_on, v.mutable_next_visit_on());
  v.set_recorded_by(row.recorded_by);
  v.set_recorder_role(row.recorder_role);
  v.mutable_recorded_at()->set_seconds(row.recorded_us / 1000000);
  v.mutable_recorded_at()->set_nanos(static_cast<int32_t>(row.recorded_us % 1000000) * 1000);
  v.set_corrects_visit_id(row.corrects_visit_id);
  v.set_superseded_by(row.superseded_by);
  return v;
}

}  // namespace registry
}  // namespace pathway
