#include "common/codec/proto_programme.h"

namespace pathway {

common::v1::Program ToProtoProgram(Programme programme) {
  switch (programme) {
    case Programme::kCommunityDetox: return common::v1::PROGRAM_COMMUNITY_DETOX;
    case Programme::kCompulsoryIsolation: return common::v1::PROGRAM_COMPULSORY_ISOLATION;
    case Programme::kCommunityRehab: return common::v1::PROGRAM_COMMUNITY_REHAB;
    case Programme::kPlacement: return common::v1::PROGRAM_PLACEMENT;
  }
  return common::v1::PROGRAM_UNSPECIFIED;
}

std::optional<Programme> FromProtoProgram(common::v1::Program program) {
  switch (program) {
    case common::v1::PROGRAM_COMMUNITY_DETOX: return Programme::kCommunityDetox;
    case common::v1::PROGRAM_COMPULSORY_ISOLATION: return Programme::kCompulsoryIsolation;
    case common::v1::PROGRAM_COMMUNITY_REHAB: return Programme::kCommunityRehab;
    case common::v1::PROGRAM_PLACEMENT: return Programme::kPlacement;
    default: return std::nullopt;
  }
}

}  // namespace pathway
