#include "services/community_detox/community_detox_service.h"

#include <string>

#include "common/ids/case_id.h"
#include "common/status/grpc_status.h"

namespace pathway::supervision {

// The one instantiation of the shared adapter for pathway.detox.v1.
template class SupervisionService<detox::DetoxApi>;

}  // namespace pathway::supervision

namespace pathway::detox {

grpc::ServerUnaryReactor* CommunityDetoxService::OpenFromConversion(
    grpc::CallbackServerContext* ctx, const v1::OpenFromConversionRequest* req,
    v1::Order* resp) {
  // Authorised first (in WriteAfter): the registry is asked only for a caller that
  // may open, and on the handler pool, never on gRPC's threads.
  return WriteAfter(
      ctx, "OpenFromConversion", {Role::kService, Role::kAdmin}, req->case_id(), req, resp,
      [this, req](const CaseId& id, const CaseScope*) -> absl::StatusOr<WriteFn> {
        // DESIGN.md §2: the registry must have issued the case; it also knows where
        // the person lives: community detox is executed at the household place, or at
        // the residence place where the person has a fixed residence (禁毒法 Art 33);
        // as for SK opened at release, a recorded residence place is taken first.
        ASSIGN_OR_RETURN(auto where, HandoffPlace(id, req->division(), req->place()));
        const std::string division = where.first;
        const std::string place = where.second;
        return WriteFn([this, req, id, division, place](
                           Transaction& tx, const Caller& caller,
                           absl::Time now) -> absl::StatusOr<supervision::WriteResult> {
          supervision::OpenOrderInput in;
          in.case_id = id.ToString();
          in.division = division;
          in.place = place;
          in.decision_number = req->decision_number();
          // 戒毒条例 Art 31: the conversion is decided, and received, on converted_on;
          // the 15-day report window counts from it (Art 14). The same day ends the
          // isolation, so no day falls outside every measure.
          ASSIGN_OR_RETURN(absl::CivilDay converted_on,
                           RequiredDate(req->converted_on(), "converted_on"));
          in.decision_date = converted_on;
          in.received_on = converted_on;
          in.credited_days = req->credited_days();
          bool opened = false;
          return engine().OpenFromConversion(tx, caller, in, now, &opened);
        });
      },
      /*received_handoff=*/true);
}

}  // namespace pathway::detox
