// pathway_seed: fills running Pathway services with synthetic cases through their
// real RPCs (so every row is written by the services' own logic: validation,
// encryption, audit rows, idempotency records, outbox hand-offs, status
// publication), and writes the list of cases for pathway_bench.
//
//   pathway_seed --cases=100000 --token_key_file=data/dev-token.key
//       --registry_addr=127.0.0.1:50051 ... --out=cases.tsv     (one command line)
//
// Every person gets a synthetic resident ID number (GenerateSyntheticResidentId:
// valid check character, never a real person) and a case id minted by the registry.
// The programme mix, by case number modulo 100:
//   0-57   community detox (SD): ordered, reported; 4 in 5 with an agreement
//   58-61  SD and a Sunshine job seeker (placement RegisterSeeker)
//   62-63  SD, seeker, and placed with an employer (CreatePlacement)
//   64-83  community rehabilitation (SK): ordered, reported
//   84-91  compulsory isolation (QZ): decided
//   92-99  registered only (found, no measure yet)
// Each county's cases are spread over kTownshipsPerCounty townships (bench_support.h).
// Every date lies in the past (found 60 to 760 days ago, reported within the 15-day
// window), so the SD orders accept drug tests dated in the last 4 weeks.
//
// Each write carries an idempotency key "<tag>-<case number>-<step>": rerunning the
// same command (e.g. after an interruption, with --first) replays instead of
// duplicating. Output lines: "<case id>\t<kind>\t<division>" (bench_support.h).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/client/bearer_context.h"
#include "common/client/peer_error.h"
#include "common/ids/resident_id.h"
#include "pathway/detox/v1/detox.grpc.pb.h"
#include "pathway/isolation/v1/isolation.grpc.pb.h"
#include "pathway/placement/v1/placement.grpc.pb.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "pathway/rehab/v1/rehab.grpc.pb.h"
#include "services/placement/credit_code.h"
#include "tools/bench/bench_support.h"

ABSL_FLAG(int64_t, cases, 10000, "cases to generate");
ABSL_FLAG(int64_t, first, 0, "number of the first case (to continue an interrupted run)");
ABSL_FLAG(int, threads, 48, "concurrent cases in flight");
ABSL_FLAG(std::string, tag, "seed", "prefix of the idempotency keys");
ABSL_FLAG(std::string, token_key_file, "", "the deployment's token signing key");
ABSL_FLAG(std::string, registry_addr, "127.0.0.1:50051", "");
ABSL_FLAG(std::string, detox_addr, "127.0.0.1:50052", "");
ABSL_FLAG(std::string, isolation_addr, "127.0.0.1:50053", "");
ABSL_FLAG(std::string, rehab_addr, "127.0.0.1:50054", "");
ABSL_FLAG(std::string, placement_addr, "127.0.0.1:50055", "");
ABSL_FLAG(std::string, out, "cases.tsv", "case list to write (appended to with --first > 0)");
ABSL_FLAG(int, progress_every, 10000, "print a progress line every this many cases");
ABSL_FLAG(int64_t, max_seconds, 0,
          "stop taking new cases after this long (0: no limit); rerun with --first to go on");

namespace pathway {
namespace bench {
namespace {

constexpr char kJurisdiction[] = "52";  // Guizhou: every synthetic division lies in it
constexpr int kMaxAttempts = 5;

struct Tokens {
  std::string police;
  std::string caseworker;
};

struct Stubs {
  std::unique_ptr<registry::v1::Registry::Stub> registry;
  std::unique_ptr<detox::v1::CommunityDetox::Stub> detox;
  std::unique_ptr<isolation::v1::CompulsoryIsolation::Stub> isolation;
  std::unique_ptr<rehab::v1::CommunityRehab::Stub> rehab;
  std::unique_ptr<placement::v1::Placement::Stub> placement;
};

CaseKind KindOf(int64_t n) {
  const int m = static_cast<int>(n % 100);
  if (m < 58) return CaseKind::kDetox;
  if (m < 62) return CaseKind::kSeeker;
  if (m < 64) return CaseKind::kPlaced;
  if (m < 84) return CaseKind::kRehab;
  if (m < 92) return CaseKind::kIsolation;
  return CaseKind::kRegistered;
}

// Sends one write with a bearer token and an idempotency key, retrying what may
// succeed on a retry (the key makes the retry replay, never duplicate).
grpc::Status Send(const std::string& token, const std::string& key,
                  const std::function<grpc::Status(grpc::ClientContext*)>& rpc) {
  grpc::Status s;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (attempt > 0) absl::SleepFor(absl::Milliseconds(100) * attempt);
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, token, absl::Seconds(30));
    ctx.AddMetadata("idempotency-key", key);
    s = rpc(&ctx);
    if (!IsTransientPeerError(s.error_code())) return s;
  }
  return s;
}

class Seeder {
 public:
  Seeder(Tokens tokens, std::string employer_code)
      : tokens_(std::move(tokens)),
        employer_code_(std::move(employer_code)),
        tag_(absl::GetFlag(FLAGS_tag)),
        today_(Today()) {}

  // Generates case `n`; the case id and kind on success.
  absl::StatusOr<CaseLine> One(Stubs& st, int64_t n) {
    const std::vector<std::string>& divisions = SyntheticDivisions();
    CaseLine line;
    line.kind = KindOf(n);
    line.division = divisions[n % divisions.size()];
    // Unique per person for n < 16 * 16000 * 999: division, birth day, sequence.
    const absl::CivilDay birth =
        absl::CivilDay(1962, 1, 1) + static_cast<int>((n / 16) % 16000);
    const int sequence = 1 + static_cast<int>((n / (16 * 16000)) % 999);
    const absl::CivilDay found = today_ - static_cast<int>(60 + n % 700);
    auto key = [&](absl::string_view step) { return absl::StrCat(tag_, "-", n, "-", step); };
    auto fail = [&](absl::string_view step, const grpc::Status& s) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          absl::StrCat(step, ": ", s.error_message()));
    };

    registry::v1::RegisterPersonRequest reg;
    reg.set_resident_id_number(GenerateSyntheticResidentId(line.division, birth, sequence));
    reg.set_name("测试人员");
    reg.set_household_division(line.division);
    reg.set_registering_division(line.division);
    // "001".."020" after the county code.
    const std::string township_no = absl::StrCat(1001 + (n / 16) % kTownshipsPerCounty).substr(1);
    reg.set_township(absl::StrCat(line.division, township_no));
    reg.add_drug_types(n % 3 == 0 ? "heroin" : "methamphetamine");
    reg.set_route_of_use(registry::v1::ROUTE_OF_USE_SMOKING);
    ToProtoDate(found, reg.mutable_found_on());
    registry::v1::Case registered;
    grpc::Status s = Send(tokens_.police, key("register"), [&](grpc::ClientContext* ctx) {
      return st.registry->RegisterPerson(ctx, reg, &registered);
    });
    if (!s.ok()) return fail("RegisterPerson", s);
    line.case_id = registered.case_id();

    const absl::CivilDay decided = found + 2;
    const absl::CivilDay received = decided + 1;
    const absl::CivilDay reported = received + static_cast<int>(n % 10);
    switch (line.kind) {
      case CaseKind::kRegistered:
        break;
      case CaseKind::kDetox:
      case CaseKind::kSeeker:
      case CaseKind::kPlaced: {
        detox::v1::OpenOrderRequest open;
        open.set_case_id(line.case_id);
        open.set_division(line.division);
        open.set_place(absl::StrCat(line.division, "-街道", n % 12));
        open.set_decision_number(absl::StrCat("SD-", n));
        ToProtoDate(decided, open.mutable_decision_date());
        ToProtoDate(received, open.mutable_received_on());
        open.set_term_months(36);
        detox::v1::Order order;
        s = Send(tokens_.police, key("sd-open"), [&](grpc::ClientContext* ctx) {
          return st.detox->OpenOrder(ctx, open, &order);
        });
        if (!s.ok()) return fail("detox OpenOrder", s);
        detox::v1::RecordReportRequest report;
        report.set_case_id(line.case_id);
        ToProtoDate(reported, report.mutable_reported_on());
        s = Send(tokens_.caseworker, key("sd-report"), [&](grpc::ClientContext* ctx) {
          return st.detox->RecordReport(ctx, report, &order);
        });
        if (!s.ok()) return fail("detox RecordReport", s);
        if (n % 5 != 0) {
          detox::v1::SignAgreementRequest agree;
          agree.set_case_id(line.case_id);
          ToProtoDate(reported + 1, agree.mutable_signed_on());
          s = Send(tokens_.caseworker, key("sd-agree"), [&](grpc::ClientContext* ctx) {
            return st.detox->SignAgreement(ctx, agree, &order);
          });
          if (!s.ok()) return fail("detox SignAgreement", s);
        }
        if (line.kind == CaseKind::kDetox) break;
        placement::v1::RegisterSeekerRequest seek;
        seek.set_case_id(line.case_id);
        seek.set_division(line.division);
        ToProtoDate(today_ - 20, seek.mutable_consent()->mutable_given_on());
        seek.mutable_consent()->add_scopes(placement::v1::CONSENT_SCOPE_PLACEMENT);
        seek.add_skills(n % 2 == 0 ? "welding" : "cooking");
        seek.add_preferred_divisions(line.division.substr(0, 4));
        seek.set_min_monthly_wage(2000);
        placement::v1::Seeker seeker;
        s = Send(tokens_.caseworker, key("seeker"), [&](grpc::ClientContext* ctx) {
          return st.placement->RegisterSeeker(ctx, seek, &seeker);
        });
        if (!s.ok()) return fail("placement RegisterSeeker", s);
        if (line.kind == CaseKind::kSeeker) break;
        placement::v1::CreatePlacementRequest place;
        place.set_case_id(line.case_id);
        place.set_employer_credit_code(employer_code_);
        place.set_mode(placement::v1::PLACEMENT_MODE_CONCENTRATED);
        ToProtoDate(today_ - 10, place.mutable_contract_start());
        ToProtoDate(today_ - 10 + 365, place.mutable_contract_end());
        placement::v1::PlacementRecord placed;
        s = Send(tokens_.caseworker, key("placed"), [&](grpc::ClientContext* ctx) {
          return st.placement->CreatePlacement(ctx, place, &placed);
        });
        if (!s.ok()) return fail("placement CreatePlacement", s);
        break;
      }
      case CaseKind::kRehab: {
        rehab::v1::OpenOrderRequest open;
        open.set_case_id(line.case_id);
        open.set_division(line.division);
        open.set_place(absl::StrCat(line.division, "-街道", n % 12));
        open.set_decision_number(absl::StrCat("SK-", n));
        ToProtoDate(decided, open.mutable_decision_date());
        ToProtoDate(received, open.mutable_received_on());
        open.set_term_months(36);
        rehab::v1::Order order;
        s = Send(tokens_.police, key("sk-open"), [&](grpc::ClientContext* ctx) {
          return st.rehab->OpenOrder(ctx, open, &order);
        });
        if (!s.ok()) return fail("rehab OpenOrder", s);
        rehab::v1::RecordReportRequest report;
        report.set_case_id(line.case_id);
        ToProtoDate(reported, report.mutable_reported_on());
        s = Send(tokens_.caseworker, key("sk-report"), [&](grpc::ClientContext* ctx) {
          return st.rehab->RecordReport(ctx, report, &order);
        });
        if (!s.ok()) return fail("rehab RecordReport", s);
        break;
      }
      case CaseKind::kIsolation: {
        isolation::v1::DecideRequest decide;
        decide.set_case_id(line.case_id);
        decide.set_decision_number(absl::StrCat("QZ-", n));
        decide.set_deciding_division(line.division);
        ToProtoDate(decided, decide.mutable_decided_on());
        ToProtoDate(decided, decide.mutable_served_on());
        decide.set_ground(isolation::v1::GROUND_SEVERE_ADDICTION);
        isolation::v1::Decision decision;
        s = Send(tokens_.police, key("qz-decide"), [&](grpc::ClientContext* ctx) {
          return st.isolation->Decide(ctx, decide, &decision);
        });
        if (!s.ok()) return fail("isolation Decide", s);
        break;
      }
    }
    return line;
  }

 private:
  const Tokens tokens_;
  const std::string employer_code_;
  const std::string tag_;
  const absl::CivilDay today_;
};

int Main() {
  const std::string key_file = absl::GetFlag(FLAGS_token_key_file);
  Tokens tokens;
  for (auto [role, out] : {std::pair<Role, std::string*>{Role::kPolice, &tokens.police},
                           {Role::kCaseworker, &tokens.caseworker}}) {
    absl::StatusOr<std::string> t = MintToken(key_file, role, kJurisdiction, "seed");
    if (!t.ok()) {
      std::fprintf(stderr, "token: %s\n", t.status().ToString().c_str());
      return 2;
    }
    *out = *t;
  }
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  // A few connections per service, shared by the threads.
  const int kChannels = 4;
  std::vector<Stubs> stubs(kChannels);
  std::vector<std::shared_ptr<grpc::Channel>> all;
  for (int i = 0; i < kChannels; ++i) {
    auto reg = MakeChannels(absl::GetFlag(FLAGS_registry_addr), 1)[0];
    auto sd = MakeChannels(absl::GetFlag(FLAGS_detox_addr), 1)[0];
    auto qz = MakeChannels(absl::GetFlag(FLAGS_isolation_addr), 1)[0];
    auto sk = MakeChannels(absl::GetFlag(FLAGS_rehab_addr), 1)[0];
    auto sp = MakeChannels(absl::GetFlag(FLAGS_placement_addr), 1)[0];
    stubs[i].registry = registry::v1::Registry::NewStub(reg);
    stubs[i].detox = detox::v1::CommunityDetox::NewStub(sd);
    stubs[i].isolation = isolation::v1::CompulsoryIsolation::NewStub(qz);
    stubs[i].rehab = rehab::v1::CommunityRehab::NewStub(sk);
    stubs[i].placement = placement::v1::Placement::NewStub(sp);
    all.insert(all.end(), {reg, sd, qz, sk, sp});
  }
  if (!WaitConnected(all, 30)) {
    std::fprintf(stderr, "cannot connect to every service\n");
    return 2;
  }

  // One Sunshine enterprise that takes the placed seekers.
  const std::string employer_code = placement::GenerateSyntheticCreditCode("520102", 8);
  {
    placement::v1::UpsertEmployerRequest req;
    placement::v1::Employer* e = req.mutable_employer();
    e->set_credit_code(employer_code);
    e->set_name("阳光企业（测试）");
    e->set_kind(placement::v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
    e->set_division("520102");
    e->set_capacity(100000);
    placement::v1::Employer out;
    grpc::Status s = Send(tokens.caseworker, absl::StrCat(absl::GetFlag(FLAGS_tag), "-employer"),
                          [&](grpc::ClientContext* ctx) {
                            return stubs[0].placement->UpsertEmployer(ctx, req, &out);
                          });
    if (!s.ok()) {
      std::fprintf(stderr, "UpsertEmployer: %s\n", s.error_message().c_str());
      return 1;
    }
  }

  const int64_t first = absl::GetFlag(FLAGS_first);
  const int64_t end = first + absl::GetFlag(FLAGS_cases);
  const std::string out_path = absl::GetFlag(FLAGS_out);
  std::ofstream out(out_path, first > 0 ? std::ios::app : std::ios::trunc);
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", out_path.c_str());
    return 2;
  }
  Seeder seeder(tokens, employer_code);
  std::atomic<int64_t> next{first};
  std::atomic<int64_t> done{0};
  std::atomic<int64_t> failed{0};
  absl::Mutex mu;
  const int64_t every = std::max(1, absl::GetFlag(FLAGS_progress_every));
  const absl::Time start = absl::Now();
  const int64_t max_seconds = absl::GetFlag(FLAGS_max_seconds);
  const absl::Time stop_at =
      max_seconds > 0 ? start + absl::Seconds(max_seconds) : absl::InfiniteFuture();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Stubs& st = stubs[t % kChannels];
      for (int64_t n = next.fetch_add(1); n < end && absl::Now() < stop_at;
           n = next.fetch_add(1)) {
        absl::StatusOr<CaseLine> line = seeder.One(st, n);
        absl::MutexLock lock(&mu);
        if (!line.ok()) {
          if (failed.fetch_add(1) < 10) {
            std::fprintf(stderr, "case %lld: %s\n", static_cast<long long>(n),
                         line.status().ToString().c_str());
          }
          continue;
        }
        out << line->case_id << '\t' << CaseKindName(line->kind) << '\t' << line->division
            << '\n';
        const int64_t d = done.fetch_add(1) + 1;
        if (d % every == 0) {
          const double s = absl::ToDoubleSeconds(absl::Now() - start);
          std::printf("seeded %lld cases in %.0f s (%.0f cases/s)\n", static_cast<long long>(d),
                      s, static_cast<double>(d) / s);
          std::fflush(stdout);
        }
      }
    });
  }
  for (std::thread& th : pool) th.join();
  out.close();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("seeded %lld cases (%lld failed) in %.1f s: %.0f cases/s\n",
              static_cast<long long>(done.load()), static_cast<long long>(failed.load()),
              seconds, static_cast<double>(done.load()) / seconds);
  return failed.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace bench
}  // namespace pathway

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return pathway::bench::Main();
}
