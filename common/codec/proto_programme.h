// Programme (programme.h) and the wire enum pathway.common.v1.Program.
//
//   status.set_program(ToProtoProgram(Programme::kPlacement));
//   std::optional<Programme> p = FromProtoProgram(view.status().program());
//   if (!p.has_value()) return absl::InvalidArgumentError("program is not a known value");
//
// Thread-safe: plain functions.
#ifndef PATHWAY_COMMON_CODEC_PROTO_PROGRAMME_H_
#define PATHWAY_COMMON_CODEC_PROTO_PROGRAMME_H_

#include <optional>

#include "common/codec/programme.h"
#include "pathway/common/v1/common.pb.h"

namespace pathway {

common::v1::Program ToProtoProgram(Programme programme);
// nullopt for PROGRAM_UNSPECIFIED and any value this build does not know.
std::optional<Programme> FromProtoProgram(common::v1::Program program);

}  // namespace pathway

#endif  // PATHWAY_COMMON_CODEC_PROTO_PROGRAMME_H_
