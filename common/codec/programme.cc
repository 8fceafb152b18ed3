#include "common/codec/programme.h"

namespace pathway {

absl::string_view ProgrammeField(Programme p) {
  switch (p) {
    case Programme::kCommunityDetox: return "detox";
    case Programme::kCompulsoryIsolation: return "isolation";
    case Programme::kCommunityRehab: return "rehab";
    case Programme::kPlacement: return "placement";
  }
  return "unknown";
}

bool ParseProgrammeField(absl::string_view field, Programme* p) {
  for (Programme candidate : kAllProgrammes) {
    if (ProgrammeField(candidate) == field) {
      *p = candidate;
      return true;
    }
  }
  return false;
}

absl::string_view ProgrammeService(Programme p) {
  switch (p) {
    case Programme::kCommunityDetox: return "community_detox";
    case Programme::kCompulsoryIsolation: return "compulsory_isolation";
    case Programme::kCommunityRehab: return "community_rehab";
    case Programme::kPlacement: return "placement";
  }
  return "unknown";
}

std::optional<Programme> ProgrammeOfService(absl::string_view service_name) {
  for (Programme candidate : kAllProgrammes) {
    if (ProgrammeService(candidate) == service_name) return candidate;
  }
  return std::nullopt;
}

}  // namespace pathway
