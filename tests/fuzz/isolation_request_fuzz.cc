// libFuzzer target: the compulsory isolation service's request validation and rules.
// The first byte picks a write and the caller (the deciding police or facility staff),
// the second moves the day forward, the rest is parsed as the write's request and
// applied to a real SQLite store with two configured facilities. Nothing may crash, and
// a decision that a write accepted must read back.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/legal_time/legal_time.h"
#include "common/store/sqlite_store.h"
#include "services/compulsory_isolation/compulsory_isolation_logic.h"

namespace pathway::isolation {
namespace {

struct World {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<IsolationLogic> logic;
  Caller police;
  Caller staff;
};

World* Make() {
  auto* w = new World();
  const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string path = std::string(base) + "/pathway-isolation-fuzz-" + std::to_string(getpid());
  unlink(path.c_str());
  SqliteStoreOptions o;
  o.path = path;
  o.migrations = IsolationLogic::Migrations();
  w->store = *SqliteStore::Open(o);
  IsolationOptions options;
  options.facilities = {{"gy-police", v1::FACILITY_KIND_POLICE, "520102", "police facility"},
                        {"gz-judicial", v1::FACILITY_KIND_JUDICIAL, "520113", "judicial facility"}};
  w->logic = std::make_unique<IsolationLogic>(options);
  for (Caller* c : {&w->police, &w->staff}) {
    c->claims.subject = "fuzz";
    c->claims.jurisdiction = "52";
  }
  w->police.claims.role = Role::kPolice;
  w->staff.claims.role = Role::kFacilityStaff;
  return w;
}

template <typename Req, typename Fn>
void Apply(World& w, const uint8_t* data, size_t size, absl::Time now, Fn fn) {
  Req req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return;
  v1::Decision out;
  absl::Status s = w.store->Write([&](Transaction& tx) -> absl::Status {
    Effects effects;
    return fn(tx, req, &out, &effects);
  });
  if (!s.ok()) return;
  // An accepted change reads back as the decision it answered with.
  v1::Decision read;
  absl::Status r = w.store->Read([&](ReadTransaction& tx) -> absl::Status {
    return w.logic->GetDecision(tx, w.police, out.case_id(), legal_time::ToCivilDay(now), &read);
  });
  if (!r.ok() || read.case_id() != out.case_id()) std::abort();
}

}  // namespace
}  // namespace pathway::isolation

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pathway::isolation;  // NOLINT: a fuzz entry point
  static World* w = Make();
  static absl::Time now = absl::FromCivil(absl::CivilSecond(2026, 3, 1, 12, 0, 0),
                                          absl::FixedTimeZone(8 * 3600));
  if (size < 2) return 0;
  now += absl::Hours(24) * (data[1] % 8);  // time only moves forward, as a clock does
  const uint8_t* body = data + 2;
  const size_t n = size - 2;
  const pathway::Caller& c = (data[0] & 0x80) ? w->staff : w->police;
  const IsolationLogic& l = *w->logic;
  switch (data[0] % 13) {
    case 0:
      Apply<v1::DecideRequest>(*w, body, n, now, [&](auto& tx, const auto& r, auto* o, auto* e) {
        pathway::registry::v1::CaseFacts facts;
        facts.set_case_id(r.case_id());
        return l.Decide(tx, c, now, r, facts, std::nullopt, o, e);
      });
      break;
#define PATHWAY_FUZZ_WRITE(N, Req, Method)                                                   \
  case N:                                                                                    \
    Apply<v1::Req>(*w, body, n, now, [&](auto& tx, const auto& r, auto* o, auto* e) {        \
      return l.Method(tx, c, now, r, o, e);                                                  \
    });                                                                                      \
    break;
    PATHWAY_FUZZ_WRITE(1, RecordNoticeRequest, RecordNotice)
    PATHWAY_FUZZ_WRITE(2, AdmitRequest, Admit)
    PATHWAY_FUZZ_WRITE(3, TransferRequest, Transfer)
    PATHWAY_FUZZ_WRITE(4, BeginAbsenceRequest, BeginAbsence)
    PATHWAY_FUZZ_WRITE(5, EndAbsenceRequest, EndAbsence)
    PATHWAY_FUZZ_WRITE(6, RecordAssessmentRequest, RecordAssessment)
    PATHWAY_FUZZ_WRITE(7, ProposeEarlyReleaseRequest, ProposeEarlyRelease)
    PATHWAY_FUZZ_WRITE(8, ProposeExtensionRequest, ProposeExtension)
    PATHWAY_FUZZ_WRITE(9, ProposeConversionRequest, ProposeConversion)
    PATHWAY_FUZZ_WRITE(10, DecideProposalRequest, DecideProposal)
    PATHWAY_FUZZ_WRITE(11, RecordReleaseNoticeRequest, RecordReleaseNotice)
    PATHWAY_FUZZ_WRITE(12, ReleaseRequest, Release)
#undef PATHWAY_FUZZ_WRITE
    default:
      break;
  }
  return 0;
}
