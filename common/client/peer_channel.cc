#include "common/client/peer_channel.h"

namespace pathway {

std::shared_ptr<grpc::Channel> PeerChannel(const std::string& target,
                                           const ChannelSecurity& security) {
  grpc::ChannelArguments args;
  args.SetLoadBalancingPolicyName("round_robin");
  security.Apply(&args);
  return grpc::CreateCustomChannel(target, security.credentials, args);
}

}  // namespace pathway
