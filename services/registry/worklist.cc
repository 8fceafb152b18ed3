#include "services/registry/worklist.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/case_scope.h"
#include "common/auth/jurisdiction.h"
#include "common/auth/service_identity.h"
#include "common/codec/date_text.h"
#include "common/codec/programme.h"
#include "common/codec/proto_date.h"
#include "common/codec/proto_programme.h"
#include "common/ids/case_id.h"
#include "common/ids/division_code.h"
#include "common/program_status/program_status.h"
#include "common/status/status_macros.h"
#include "services/registry/registry_rules.h"
#include "services/registry/registry_tables.h"
#include "services/registry/worklist_tables.h"

namespace pathway {
namespace registry {
namespace {

using common::v1::Program;

// The page token: the last item's (due, case id, program, key).
std::string EncodeToken(const WorkRow& last) {
  return absl::WebSafeBase64Escape(absl::StrCat(DayText(last.item.due), "|", last.case_id, "|",
                                                last.program, "|", last.item.key));
}

absl::StatusOr<WorkQuery::After> DecodeToken(absl::string_view token) {
  std::string raw;
  const absl::Status bad = absl::InvalidArgumentError("page_token is not valid");
  if (!absl::WebSafeBase64Unescape(token, &raw)) return bad;
  std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits('|', 3));
  if (parts.size() != 4) return bad;
  std::optional<absl::CivilDay> due = ParseDayText(parts[0]);
  WorkQuery::After after;
  if (!due.has_value() || !absl::SimpleAtoi(parts[2], &after.program)) return bad;
  after.due = *due;
  after.case_id = parts[1];
  after.key = parts[3];
  return after;
}

bool IsKindCode(absl::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
         });
}

// The case's scope from the row's case columns, by the registry's one rule (ScopeOf).
CaseScope ScopeOfRow(const WorkRow& w, absl::CivilDay today) {
  CaseRecord c;  // only the fields ScopeOf reads
  c.case_id = w.case_id;
  c.household_division = w.household_division;
  c.residence_division = w.residence_division;
  c.township = w.township;
  c.assigned_caseworker = w.assigned_caseworker;
  c.open_measures = static_cast<int>(w.open_measures);
  c.abstinence_anchor = w.abstinence_anchor;
  return ScopeOf(c, today);
}

}  // namespace

std::vector<int64_t> WorklistProgramsOf(Role role) {
  const int64_t sd = Program::PROGRAM_COMMUNITY_DETOX;
  const int64_t qz = Program::PROGRAM_COMPULSORY_ISOLATION;
  const int64_t sk = Program::PROGRAM_COMMUNITY_REHAB;
  const int64_t placement = Program::PROGRAM_PLACEMENT;
  switch (role) {
    case Role::kCaseworker:
      return {kCaseworkProgram, sd, sk, placement};
    case Role::kPolice:
      return {kCaseworkProgram, sd, qz, sk};
    case Role::kFacilityStaff:
      return {qz};
    default:
      return {};
  }
}

absl::StatusOr<v1::GetWorklistResponse> ReadWorklist(ReadTransaction& tx, const Caller& caller,
                                                     const v1::GetWorklistRequest& r,
                                                     absl::CivilDay today) {
  ASSIGN_OR_RETURN(std::optional<absl::CivilDay> as_of_given, OptionalDate(r.as_of(), "as_of"));
  const absl::CivilDay as_of = as_of_given.value_or(today);
  WorkQuery q;
  ASSIGN_OR_RETURN(q.due_from, OptionalDate(r.due_from(), "due_from"));
  ASSIGN_OR_RETURN(std::optional<absl::CivilDay> due_to, OptionalDate(r.due_to(), "due_to"));
  q.due_to = due_to.value_or(as_of + kWorklistDefaultHorizonDays);
  if (q.due_from.has_value() && *q.due_from > q.due_to) {
    return absl::InvalidArgumentError("due_from is after due_to");
  }
  const std::vector<int64_t> allowed = WorklistProgramsOf(caller.role());
  if (r.programs().empty()) {
    q.programs = allowed;
  } else {
    for (int p : r.programs()) {
      if (!common::v1::Program_IsValid(p)) {
        return absl::InvalidArgumentError("programs: not a known programme");
      }
      // A programme outside the role's work is simply not on its list.
      if (std::find(allowed.begin(), allowed.end(), p) != allowed.end() &&
          std::find(q.programs.begin(), q.programs.end(), p) == q.programs.end()) {
        q.programs.push_back(p);
      }
    }
  }
  for (const std::string& k : r.kinds()) {
    if (!IsKindCode(k)) return absl::InvalidArgumentError("kinds: each must be [A-Z0-9_]+");
    q.kinds.push_back(k);
  }
  if (r.overdue_only()) q.due_before = as_of;
  q.include_upcoming = r.include_upcoming();
  if (!MayReadSealed(caller.role())) q.sealed_anchor_limit = SealedAnchorLimit(today);
  const int page_size = r.page().page_size() <= 0
                            ? kWorklistDefaultPageSize
                            : std::min(r.page().page_size(), kWorklistMaxPageSize);
  q.limit = page_size;
  if (!r.page().page_token().empty()) {
    ASSIGN_OR_RETURN(q.after, DecodeToken(r.page().page_token()));
  }
  if (IsTownshipJurisdiction(caller.jurisdiction())) {
    q.township = caller.jurisdiction();
    q.caseworker = caller.subject();
    q.county = caller.jurisdiction().substr(0, 6);
  } else if (caller.jurisdiction() != "*") {
    q.division_prefix = caller.jurisdiction();
  }

  v1::GetWorklistResponse out;
  ToProtoDate(as_of, out.mutable_as_of());
  if (q.programs.empty()) return out;  // nothing this role works, or none asked for
  ASSIGN_OR_RETURN(std::vector<WorkRow> rows, ListWorkRows(tx, q));
  ASSIGN_OR_RETURN(int64_t total, CountWorkRows(tx, q));
  for (const WorkRow& w : rows) {
    // The rule every service applies to a write: the SQL above only narrows.
    const CaseScope scope = ScopeOfRow(w, today);
    if (!CheckCaseVisible(caller, scope, {w.division}).ok() ||
        !CheckExecutesCase(caller, scope, w.division, "the executing county").ok()) {
      --total;
      continue;
    }
    v1::WorklistItem* item = out.add_items();
    item->set_case_id(w.case_id);
    item->set_program(static_cast<Program>(w.program));
    ToProto(w.item, item->mutable_item());
    if (w.item.deadline && as_of > w.item.due) {
      item->set_overdue(true);
      ToProtoDate(w.item.due + 1, item->mutable_overdue_since());
    }
    item->set_division(w.division);
    item->set_township(w.township);
    item->set_assigned_caseworker(w.assigned_caseworker);
  }
  if (static_cast<int>(rows.size()) == page_size) {
    out.mutable_page()->set_next_page_token(EncodeToken(rows.back()));
  }
  out.mutable_page()->set_total_size(std::max<int64_t>(total, 0));
  return out;
}

absl::Status CheckProgramStatusReport(const Caller& caller,
                                      const v1::ReportProgramStatusesRequest& r) {
  const std::optional<Programme> programme = FromProtoProgram(r.program());
  if (!programme.has_value()) return absl::InvalidArgumentError("program is not a known value");
  if (caller.role() != Role::kService ||
      caller.subject() != ServiceSubject(ProgrammeService(*programme))) {
    return absl::PermissionDeniedError("only the service that owns the programme reports it");
  }
  if (r.entries().empty() || r.entries_size() > kMaxReportEntries) {
    return absl::InvalidArgumentError("entries: 1..500 are required");
  }
  for (int i = 0; i < r.entries_size(); ++i) {
    const v1::ProgramStatusReport& e = r.entries(i);
    const std::string at = absl::StrCat("entries[", i, "]: ");
    if (!CaseId::Parse(e.case_id()).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(at, "case_id is not valid"));
    }
    if (!IsKindCode(e.state()) || e.version() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(at, "state or version is not valid"));
    }
    if (!ValidateDivisionCode(e.division()).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(at, "division is not valid"));
    }
    if (e.items_size() > kMaxDueItems) {
      return absl::InvalidArgumentError(absl::StrCat(at, "at most 64 items"));
    }
    for (const common::v1::WorkItem& w : e.items()) {
      absl::StatusOr<DueItemRecord> item = DueItemFromProto(w);
      if (!item.ok()) return absl::InvalidArgumentError(absl::StrCat(at, item.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ReportProgramStatusesResponse> ApplyProgramStatusReport(
    Transaction& tx, const v1::ReportProgramStatusesRequest& r, absl::Time now) {
  v1::ReportProgramStatusesResponse out;
  for (const v1::ProgramStatusReport& e : r.entries()) {
    ASSIGN_OR_RETURN(std::optional<CaseScopeRow> issued, LoadCaseScopeRow(tx, e.case_id()));
    if (!issued.has_value()) {
      out.set_skipped(out.skipped() + 1);
      continue;
    }
    ProgrammeReport report;
    report.case_id = e.case_id();
    report.program = r.program();
    report.state = e.state();
    report.version = e.version();
    report.division = e.division();
    for (const common::v1::WorkItem& w : e.items()) {
      ASSIGN_OR_RETURN(DueItemRecord item, DueItemFromProto(w));
      report.items.push_back(std::move(item));
    }
    ASSIGN_OR_RETURN(ReportOutcome outcome, ApplyProgrammeReport(tx, report, now));
    if (outcome == ReportOutcome::kApplied) {
      out.set_applied(out.applied() + 1);
    } else {
      out.set_stale(out.stale() + 1);
    }
  }
  return out;
}

}  // namespace registry
}  // namespace pathway
