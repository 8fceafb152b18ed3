#include "common/auth/service_identity.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/auth/role.h"

namespace pathway {

bool IsServiceName(absl::string_view name) {
  return std::find(std::begin(kServiceNames), std::end(kServiceNames), name) !=
         std::end(kServiceNames);
}

std::string ServiceSubject(absl::string_view service_name) {
  return absl::StrCat("svc-", service_name);
}

std::vector<std::string> DefaultServiceCallers(absl::string_view service_name) {
  if (service_name == "registry") {
    return {"community_detox", "compulsory_isolation", "community_rehab", "placement"};
  }
  if (service_name == "community_detox" || service_name == "community_rehab" ||
      service_name == "placement") {
    return {"registry", "compulsory_isolation"};
  }
  if (service_name == "compulsory_isolation") return {"registry"};
  return {};
}

absl::Status CheckServicePeer(absl::string_view peer_common_name, const Claims& claims,
                              absl::Span<const std::string> allowed_callers) {
  if (claims.role != Role::kService) return absl::OkStatus();
  const bool allowed =
      !peer_common_name.empty() && std::find(allowed_callers.begin(), allowed_callers.end(),
                                             peer_common_name) != allowed_callers.end();
  if (!allowed || claims.subject != ServiceSubject(peer_common_name)) {
    return absl::UnauthenticatedError(kServicePeerRefused);
  }
  return absl::OkStatus();
}

}  // namespace pathway
