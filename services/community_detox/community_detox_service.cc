#include "services/community_detox/community_detox_service.h"

namespace pathway::supervision {

// The one instantiation of the shared adapter for pathway.detox.v1.
template class SupervisionService<detox::DetoxApi>;

}  // namespace pathway::supervision
