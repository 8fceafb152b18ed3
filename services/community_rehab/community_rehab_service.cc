#include "services/community_rehab/community_rehab_service.h"

namespace pathway::supervision {

// The one instantiation of the shared adapter for pathway.rehab.v1.
template class SupervisionService<rehab::RehabApi>;

}  // namespace pathway::supervision
