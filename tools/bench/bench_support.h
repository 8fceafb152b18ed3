// Shared pieces of the benchmark tools (tools/bench): tokens minted from the
// deployment's key file, channels, the case list the data generator writes and the
// load generator reads, and synthetic divisions and dates.
//
//   ASSIGN_OR_RETURN(std::string token,
//                    MintToken("/data/dev-token.key", Role::kCaseworker, "52"));
//   std::vector<std::shared_ptr<grpc::Channel>> channels = MakeChannels(addr, 4);
//   ASSIGN_OR_RETURN(std::vector<CaseLine> cases, ReadCaseFile("cases.tsv"));
//
// The case file has one line per generated case: "<case id>\t<kind>\t<division>",
// kind being one of the CaseKind names below. It holds no personal data (case ids
// carry none; DESIGN.md §2). Stateless functions; thread-safe.
#ifndef PATHWAY_TOOLS_BENCH_BENCH_SUPPORT_H_
#define PATHWAY_TOOLS_BENCH_BENCH_SUPPORT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/auth/role.h"
#include "common/codec/proto_date.h"
#include "pathway/common/v1/common.pb.h"

namespace pathway {
namespace bench {

// What the data generator made of a case (the programme mix).
enum class CaseKind {
  kRegistered,  // "reg": registered only, no programme
  kDetox,       // "sd": community detox, reported (most with an agreement)
  kSeeker,      // "sd_seeker": community detox and a Sunshine job seeker
  kPlaced,      // "sd_placed": community detox, seeker, placed with an employer
  kRehab,       // "sk": community rehabilitation, reported
  kIsolation,   // "qz": compulsory isolation decided
};

absl::string_view CaseKindName(CaseKind kind);
bool ParseCaseKind(absl::string_view name, CaseKind* kind);
// True for the kinds with an open community detox order (RecordTest targets).
bool InDetox(CaseKind kind);

// The seed spreads each county's cases over this many townships (9-digit codes
// <county>001..<county>020), case n into township 1 + (n / 16) % 20, so a township
// caseworker's worklist can be measured.
inline constexpr int kTownshipsPerCounty = 20;

struct CaseLine {
  std::string case_id;
  CaseKind kind = CaseKind::kRegistered;
  std::string division;
};

absl::StatusOr<std::vector<CaseLine>> ReadCaseFile(const std::string& path);

// A bearer token for `role` over `jurisdiction`, valid for 24 hours, signed with
// the key in `key_file` (as pathwayctl token does).
absl::StatusOr<std::string> MintToken(const std::string& key_file, Role role,
                                      const std::string& jurisdiction,
                                      const std::string& subject = "bench");

// `n` independent channels (separate TCP connections) to `address`.
std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(const std::string& address, int n);

// Waits until every channel is connected; false after `seconds`.
bool WaitConnected(const std::vector<std::shared_ptr<grpc::Channel>>& channels, int seconds);

// Guizhou counties (GB/T 2260) the synthetic cases are spread over.
const std::vector<std::string>& SyntheticDivisions();

// Today in China Standard Time.
absl::CivilDay Today();

}  // namespace bench
}  // namespace pathway

#endif  // PATHWAY_TOOLS_BENCH_BENCH_SUPPORT_H_
