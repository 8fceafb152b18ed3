#include "common/client/peer_channel.h"

namespace pathway {

std::shared_ptr<grpc::Channel> PeerChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetLoadBalancingPolicyName("round_robin");
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace pathway
