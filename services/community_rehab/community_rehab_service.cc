#include "services/community_rehab/community_rehab_service.h"

#include <string>

#include "common/ids/case_id.h"
#include "common/status/grpc_status.h"

namespace pathway::supervision {

// The one instantiation of the shared adapter for pathway.rehab.v1.
template class SupervisionService<rehab::RehabApi>;

}  // namespace pathway::supervision

namespace pathway::rehab {

grpc::ServerUnaryReactor* CommunityRehabService::OpenFromRelease(
    grpc::CallbackServerContext* ctx, const v1::OpenFromReleaseRequest* req, v1::Order* resp) {
  // Authorised first (in WriteAfter): the registry is asked only for a caller that
  // may open, and on the handler pool, never on gRPC's threads.
  return WriteAfter(
      ctx, "OpenFromRelease", {Role::kService, Role::kAdmin}, req->case_id(), req, resp,
      [this, req](const CaseId& id, const CaseScope*) -> absl::StatusOr<WriteFn> {
        // DESIGN.md §2: the registry must have issued the case; it also knows the
        // residence county, where SK is executed by default (戒毒条例 Art 37).
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
          // 禁毒法 Art 48; 戒毒条例 Art 38: the SK decision is made and received at
          // release, and the 15-day report window counts from it.
          ASSIGN_OR_RETURN(absl::CivilDay released_on,
                           RequiredDate(req->released_on(), "released_on"));
          in.decision_date = released_on;
          in.received_on = released_on;
          in.term_months = req->term_months();
          bool opened = false;
          return engine().OpenFromRelease(tx, caller, in, now, &opened);
        });
      },
      /*received_handoff=*/true);
}

}  // namespace pathway::rehab
