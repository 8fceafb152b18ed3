#include "services/supervision/supervision_service.h"

#include "pathway/registry/v1/registry.pb.h"

namespace pathway::supervision {

void DueItemToAlert(const DueItem& item, Programme programme, common::v1::Alert* out) {
  out->set_case_id(item.case_id);
  out->set_program(ToProtoProgram(programme));
  out->set_kind(item.kind);
  ToProtoDate(item.due, out->mutable_due());
  out->set_overdue(item.overdue);
  out->set_legal_basis(item.legal_basis);
}

registry::v1::ReportEventRequest RegistryEventRequest(const RegistryEvent& e,
                                                      Programme programme) {
  registry::v1::ReportEventRequest req;
  req.set_case_id(e.case_id);
  switch (e.kind) {
    case RegistryEvent::Kind::kPositiveTest:
      req.set_kind(registry::v1::ReportEventRequest::KIND_POSITIVE_TEST);
      break;
    case RegistryEvent::Kind::kMeasureStarted:
      req.set_kind(registry::v1::ReportEventRequest::KIND_MEASURE_STARTED);
      req.set_program(ToProtoProgram(programme));
      break;
    case RegistryEvent::Kind::kMeasureEnded:
      req.set_kind(registry::v1::ReportEventRequest::KIND_MEASURE_ENDED);
      req.set_program(ToProtoProgram(programme));
      break;
  }
  ToProtoDate(e.occurred_on, req.mutable_occurred_on());
  req.set_source_event_id(e.source_event_id);
  return req;
}

absl::Status EnqueueRegistryEvents(Transaction& tx, Programme programme,
                                   const std::vector<RegistryEvent>& events, absl::Time now) {
  for (const RegistryEvent& e : events) {
    RETURN_IF_ERROR(EnqueueRegistryEvent(tx, RegistryEventRequest(e, programme), now));
  }
  return absl::OkStatus();
}

}  // namespace pathway::supervision
