// Which service a service credential speaks for, and the rule that binds it to
// the certificate of the connection it arrives on (DESIGN.md §6: services call
// each other with their own identity).
//
// A service token (role service, ServiceTokenSource) is signed with the
// deployment's shared token key, so whoever holds that key could mint one. Under
// mutual TLS the key alone is therefore not enough: a service token is accepted
// only on a connection whose verified client certificate names a peer service
// (its CN is the service's name, as deploy/local/dev-tls.sh makes them) that is
// in the receiving service's list of allowed callers, and only if the token's
// subject names that same service ("svc-<name>").
//
//   // the CN of the call's verified client certificate, e.g. "compulsory_isolation"
//   RETURN_IF_ERROR(CheckServicePeer(peer_cn, caller.claims, allowed_callers));
//
// Without mutual TLS there is no verified peer, and a service token is accepted on
// the key alone: a deployment must use mutual TLS for service identity to hold.
//
// Pure functions over values; thread-safe.
#ifndef PATHWAY_COMMON_AUTH_SERVICE_IDENTITY_H_
#define PATHWAY_COMMON_AUTH_SERVICE_IDENTITY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/auth/token.h"

namespace pathway {

// The names of Pathway's services, in the order of their development ports.
inline constexpr absl::string_view kServiceNames[] = {
    "registry", "community_detox", "compulsory_isolation", "community_rehab", "placement"};

// True if `name` is one of kServiceNames.
bool IsServiceName(absl::string_view name);

// The subject of the tokens service `service_name` presents: "svc-<service_name>".
std::string ServiceSubject(absl::string_view service_name);

// The services that call `service_name` with a service token in the code as it
// is (empty for a name that is not a service's):
//   registry              <- community_detox, compulsory_isolation, community_rehab,
//                            placement (case scope and facts, status view,
//                            abstinence-clock events)
//   community_detox       <- registry (programme status for the status view),
//                            compulsory_isolation (SD closed for isolation, SD opened
//                            on conversion)
//   compulsory_isolation  <- registry (programme status)
//   community_rehab       <- registry (programme status), compulsory_isolation (SK
//                            status at a decision, SK closed for isolation, SK
//                            opened on release)
//   placement             <- registry (programme status), compulsory_isolation
//                            (seeker suspended and resumed)
// The reconciler and pathwayctl are clients, not services: they present the
// batch, admin or other person roles, never a service token.
std::vector<std::string> DefaultServiceCallers(absl::string_view service_name);

// The one refusal for a service token that the connection does not back. Fixed:
// it says nothing of the request, the token or the certificate.
inline constexpr char kServicePeerRefused[] = "service credential not accepted from this peer";

// OK if `claims` is not a service's, or if `peer_common_name` (the CN of the
// call's verified client certificate; empty when there is none) is in
// `allowed_callers` and `claims.subject` is ServiceSubject(peer_common_name).
// UNAUTHENTICATED with kServicePeerRefused otherwise.
absl::Status CheckServicePeer(absl::string_view peer_common_name, const Claims& claims,
                              absl::Span<const std::string> allowed_callers);

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_SERVICE_IDENTITY_H_
