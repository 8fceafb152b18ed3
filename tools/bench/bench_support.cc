#include "tools/bench/bench_support.h"

#include <chrono>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth/token.h"
#include "common/legal_time/legal_time.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace bench {
namespace {

constexpr std::pair<CaseKind, absl::string_view> kKindNames[] = {
    {CaseKind::kRegistered, "reg"}, {CaseKind::kDetox, "sd"},
    {CaseKind::kSeeker, "sd_seeker"}, {CaseKind::kPlaced, "sd_placed"},
    {CaseKind::kRehab, "sk"},       {CaseKind::kIsolation, "qz"}};

}  // namespace

absl::string_view CaseKindName(CaseKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "reg";
}

bool ParseCaseKind(absl::string_view name, CaseKind* kind) {
  for (const auto& [k, n] : kKindNames) {
    if (n == name) {
      *kind = k;
      return true;
    }
  }
  return false;
}

bool InDetox(CaseKind kind) {
  return kind == CaseKind::kDetox || kind == CaseKind::kSeeker || kind == CaseKind::kPlaced;
}

absl::StatusOr<std::vector<CaseLine>> ReadCaseFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read case file ", path));
  std::vector<CaseLine> cases;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    std::vector<std::string> parts = absl::StrSplit(line, '\t');
    CaseLine c;
    if (parts.size() != 3 || !ParseCaseKind(parts[1], &c.kind)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": malformed line"));
    }
    c.case_id = std::move(parts[0]);
    c.division = std::move(parts[2]);
    cases.push_back(std::move(c));
  }
  return cases;
}

absl::StatusOr<std::string> MintToken(const std::string& key_file, Role role,
                                      const std::string& jurisdiction,
                                      const std::string& subject) {
  ASSIGN_OR_RETURN(std::string key, LoadKeyFile(key_file));
  ASSIGN_OR_RETURN(std::unique_ptr<TokenSigner> signer, TokenSigner::Create(std::move(key)));
  Claims c;
  c.subject = subject;
  c.role = role;
  c.jurisdiction = jurisdiction;
  c.issued_at = absl::Now() - absl::Minutes(1);
  c.expires_at = c.issued_at + absl::Hours(24);
  return signer->Sign(c);
}

std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(const std::string& address, int n) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < std::max(1, n); ++i) {
    grpc::ChannelArguments args;
    // Without these, channels to one address share one connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("pathway.bench.channel", i);
    args.SetMaxReceiveMessageSize(64 << 20);
    channels.push_back(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }
  return channels;
}

bool WaitConnected(const std::vector<std::shared_ptr<grpc::Channel>>& channels, int seconds) {
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(seconds);
  for (const auto& ch : channels) {
    if (!ch->WaitForConnected(deadline)) return false;
  }
  return true;
}

const std::vector<std::string>& SyntheticDivisions() {
  static const std::vector<std::string>* const kDivisions = new std::vector<std::string>{
      "520102", "520103", "520111", "520112", "520113", "520115", "520121", "520123",
      "520181", "520302", "520303", "520402", "520502", "520602", "522301", "522601"};
  return *kDivisions;
}

absl::CivilDay Today() { return legal_time::ToCivilDay(absl::Now()); }

}  // namespace bench
}  // namespace pathway
