// The programmes of the pathway that own a case's status, and their names.
//
//   absl::string_view field = ProgrammeField(Programme::kCommunityRehab);     // "rehab"
//   std::optional<Programme> p = ProgrammeOfService("compulsory_isolation");  // isolation
//
// Each programme has two names, both fixed: its field in the status cache (a Redis
// hash field, also the "program" of log lines and reconciliation reports) and the
// name of the service that owns it (ServerOptions::service_name, hand-off targets,
// reconciler targets). The wire enum pathway.common.v1.Program is in
// proto_programme.h. Thread-safe: plain functions.
#ifndef PATHWAY_COMMON_CODEC_PROGRAMME_H_
#define PATHWAY_COMMON_CODEC_PROGRAMME_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace pathway {

enum class Programme {
  kCommunityDetox,
  kCompulsoryIsolation,
  kCommunityRehab,
  kPlacement,
};

inline constexpr Programme kAllProgrammes[] = {
    Programme::kCommunityDetox, Programme::kCompulsoryIsolation,
    Programme::kCommunityRehab, Programme::kPlacement};

// The status cache field of `p`: "detox", "isolation", "rehab" or "placement".
absl::string_view ProgrammeField(Programme p);
// The inverse of ProgrammeField; false (and *p untouched) for an unknown name.
bool ParseProgrammeField(absl::string_view field, Programme* p);

// The service that owns `p`: "community_detox", "compulsory_isolation",
// "community_rehab" or "placement".
absl::string_view ProgrammeService(Programme p);
// The programme a service owns; nullopt for every other name (the registry owns none).
std::optional<Programme> ProgrammeOfService(absl::string_view service_name);

}  // namespace pathway

#endif  // PATHWAY_COMMON_CODEC_PROGRAMME_H_
