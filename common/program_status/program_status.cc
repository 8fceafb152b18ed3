#include "common/program_status/program_status.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/codec/proto_date.h"
#include "common/codec/proto_programme.h"
#include "common/ids/division_code.h"
#include "common/log/log.h"
#include "common/program_status/program_status_tables.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

bool IsStateCode(absl::string_view s, bool allow_empty) {
  if (s.empty()) return allow_empty;
  if (s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool IsPlainText(absl::string_view s) {
  return s.find_first_of("\t\n\r") == absl::string_view::npos;
}

}  // namespace

absl::string_view StatusSinkName(StatusSink sink) {
  return sink == StatusSink::kCache ? "cache" : "registry_index";
}

absl::Status ValidateDueItem(const DueItemRecord& i) {
  if (!IsStateCode(i.kind, false)) {
    return absl::InvalidArgumentError("due item: kind must be [A-Z0-9_]+");
  }
  if (i.key.empty() || i.key.size() > 128 || !IsPlainText(i.key)) {
    return absl::InvalidArgumentError("due item: key must be 1..128 characters on one line");
  }
  if (i.legal_basis.size() > 200 || !IsPlainText(i.legal_basis)) {
    return absl::InvalidArgumentError("due item: legal_basis must be at most 200 bytes on one line");
  }
  return absl::OkStatus();
}

bool SameStatus(const ProgramStatusRecord& a, const ProgramStatusRecord& b) {
  return a.state == b.state && a.division == b.division && a.began == b.began &&
         a.deadline_kind == b.deadline_kind && a.deadline == b.deadline &&
         a.due_items == b.due_items;
}

absl::Status SaveProgramStatus(Transaction& tx, absl::Time now, ProgramStatusRecord* r) {
  if (r->case_id.empty()) return absl::InvalidArgumentError("program status: empty case id");
  RETURN_IF_ERROR(ValidateDivisionCode(r->division));
  if (!IsStateCode(r->state, false) || !IsStateCode(r->deadline_kind, true)) {
    return absl::InvalidArgumentError("program status: state codes must be [A-Z0-9_]+");
  }
  if (r->deadline_kind.empty() != !r->deadline.has_value()) {
    return absl::InvalidArgumentError("program status: deadline kind and date go together");
  }
  if (r->due_items.size() > static_cast<size_t>(kMaxDueItems)) {
    // The earliest are the ones that matter; an order with more open items than
    // this is itself the alert.
    std::sort(r->due_items.begin(), r->due_items.end(),
              [](const DueItemRecord& a, const DueItemRecord& b) { return a.due < b.due; });
    r->due_items.resize(kMaxDueItems);
  }
  for (const DueItemRecord& i : r->due_items) RETURN_IF_ERROR(ValidateDueItem(i));
  ASSIGN_OR_RETURN(std::optional<int64_t> stored,
                   program_status_tables::ReadStatusVersion(tx, r->case_id));
  r->version = stored.has_value() ? *stored + 1 : 1;
  r->updated_at = now;
  return program_status_tables::UpsertStatus(tx, *r);
}

absl::StatusOr<std::optional<ProgramStatusRecord>> LoadProgramStatus(ReadTransaction& tx,
                                                                     absl::string_view case_id) {
  return program_status_tables::FindStatus(tx, case_id);
}

absl::StatusOr<std::vector<ProgramStatusRecord>> LoadUnsentProgramStatuses(
    ReadTransaction& tx, StatusSink sink, absl::string_view after_case_id, int limit) {
  if (limit < 1) return absl::InvalidArgumentError("program status: limit must be >= 1");
  return program_status_tables::ListUnsentStatuses(tx, sink, after_case_id,
                                                   static_cast<int64_t>(limit));
}

absl::StatusOr<std::vector<ProgramStatusRecord>> LoadProgramStatusPage(
    ReadTransaction& tx, absl::string_view after_case_id, absl::string_view division_prefix,
    int limit) {
  if (limit < 1) return absl::InvalidArgumentError("program status: limit must be >= 1");
  return program_status_tables::ListStatusPage(tx, after_case_id, division_prefix,
                                               static_cast<int64_t>(limit));
}

absl::StatusOr<int64_t> CountProgramStatusesAfter(ReadTransaction& tx,
                                                 absl::string_view after_case_id,
                                                 absl::string_view division_prefix) {
  return program_status_tables::CountStatuses(tx, after_case_id, division_prefix);
}

absl::Status MarkProgramStatusesSent(Transaction& tx, StatusSink sink,
                                     const std::vector<PublishedVersion>& sent) {
  for (const PublishedVersion& p : sent) {
    RETURN_IF_ERROR(program_status_tables::MarkStatusSent(tx, sink, p.case_id, p.version));
  }
  return absl::OkStatus();
}

ProgrammeStatus ToCacheStatus(const ProgramStatusRecord& r) {
  ProgrammeStatus s;
  s.state = r.state;
  s.version = r.version;
  s.began = r.began;
  s.next_deadline_kind = r.deadline_kind;
  s.next_deadline = r.deadline;
  s.written_at = r.updated_at;
  return s;
}

void PublishProgramStatus(StatusCache& cache, Programme programme,
                          const ProgramStatusRecord& r) {
  absl::StatusOr<bool> put = cache.Put(r.case_id, programme, ToCacheStatus(r));
  if (!put.ok()) {
    // No case id in the log line: the row stays unpublished (version >
    // published_version) and the republisher sends it again, so the line needs
    // only the programme and the error.
    log::Warning("status_publish_failed", {{"program", ProgrammeField(programme)},
                                           {"error", put.status().ToString()}});
  }
}

void ToProto(const ProgramStatusRecord& r, Programme programme, common::v1::ProgramStatus* out) {
  out->set_case_id(r.case_id);
  out->set_program(ToProtoProgram(programme));
  out->set_state(r.state);
  out->set_version(r.version);
  if (r.began.has_value()) ToProtoDate(*r.began, out->mutable_began());
  if (r.deadline.has_value()) {
    out->mutable_next_deadline()->set_kind(r.deadline_kind);
    ToProtoDate(*r.deadline, out->mutable_next_deadline()->mutable_due());
  }
  int64_t us = absl::ToUnixMicros(r.updated_at);
  out->mutable_updated_at()->set_seconds(us / 1000000);
  out->mutable_updated_at()->set_nanos(static_cast<int32_t>((us % 1000000) * 1000));
}

void ToProto(const DueItemRecord& i, common::v1::WorkItem* out) {
  out->set_kind(i.kind);
  out->set_key(i.key);
  ToProtoDate(i.due, out->mutable_due());
  out->set_open(i.open);
  out->set_deadline(i.deadline);
  out->set_legal_basis(i.legal_basis);
}

absl::StatusOr<DueItemRecord> DueItemFromProto(const common::v1::WorkItem& w) {
  ASSIGN_OR_RETURN(absl::CivilDay due, RequiredDate(w.due(), "due"));
  DueItemRecord i{w.kind(), w.key(), due, w.open(), w.deadline(), w.legal_basis()};
  RETURN_IF_ERROR(ValidateDueItem(i));
  return i;
}

}  // namespace pathway
