// The channel a Pathway service uses to call another (a peer), from the address
// it was configured with (--registry_addr and the like).
//
//   auto stub = registry::v1::Registry::NewStub(
//       PeerChannel(options.registry_address, runtime.peer_security()));
//
// The address is any gRPC target: "127.0.0.1:50051", a list of replicas
// "ipv4:127.0.0.1:50051,127.0.0.1:50151", or a name that resolves to every
// replica ("dns:///registry.pathway.svc.cluster.local:50051", a Kubernetes
// headless Service). Calls are spread over every address that answers (gRPC's
// round_robin policy), so one replica going away moves its share to the others
// instead of failing until a reconnect, and no replica takes all the load.
// Channels connect lazily: a peer that is down costs nothing until it is called.
#ifndef PATHWAY_COMMON_CLIENT_PEER_CHANNEL_H_
#define PATHWAY_COMMON_CLIENT_PEER_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/tls/tls.h"

namespace pathway {

// `security`: the calling service's TLS (its certificate as the client's, the CA
// that verifies the peer), or plaintext where the deployment asked for it.
std::shared_ptr<grpc::Channel> PeerChannel(const std::string& target,
                                           const ChannelSecurity& security);

}  // namespace pathway

#endif  // PATHWAY_COMMON_CLIENT_PEER_CHANNEL_H_
