// libFuzzer target: the community detox / rehabilitation engine (禁毒法 Art 48 runs both
// on it). The input is a script of writes on three cases, each with fuzzed days around
// the clock, fuzzed kinds and ids, by police or a caseworker of the executing county,
// applied to a real SQLite store while the clock only moves forward. Nothing may crash;
// an accepted write's order must read back and evaluate at any later day.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/ids/case_id.h"
#include "common/program_status/program_status.h"
#include "common/store/sqlite_store.h"
#include "services/supervision/supervision.h"

namespace pathway::supervision {
namespace {

struct World {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<SupervisionEngine> detox;
  std::unique_ptr<SupervisionEngine> rehab;
  Caller police;
  Caller caseworker;
  absl::CivilDay today{2026, 3, 1};
};

World* Make() {
  auto* w = new World();
  const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string path = std::string(base) + "/pathway-supervision-fuzz-" + std::to_string(getpid());
  unlink(path.c_str());
  SqliteStoreOptions o;
  o.path = path;
  o.migrations = ProgramStatusMigrations();
  for (Migration& m : SupervisionMigrations()) o.migrations.push_back(std::move(m));
  w->store = *SqliteStore::Open(o);
  w->detox = std::make_unique<SupervisionEngine>(CommunityDetoxPolicy());
  w->rehab = std::make_unique<SupervisionEngine>(CommunityRehabPolicy());
  w->police.claims = {"fuzz-police", Role::kPolice, "5201", {}, {}, ""};
  w->caseworker.claims = {"fuzz-cw", Role::kCaseworker, "520102", {}, {}, ""};
  return w;
}

}  // namespace
}  // namespace pathway::supervision

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pathway::supervision;  // NOLINT: a fuzz entry point
  static World* w = Make();
  FuzzedDataProvider in(data, size);
  const SupervisionEngine& engine = in.ConsumeBool() ? *w->detox : *w->rehab;
  for (int step = 0; step < 16 && in.remaining_bytes() > 0; ++step) {
    w->today += in.ConsumeIntegralInRange<int>(0, 40);
    const absl::Time now = absl::FromCivil(
        absl::CivilSecond(w->today.year(), w->today.month(), w->today.day(), 12, 0, 0),
        absl::FixedTimeZone(8 * 3600));
    // A day near today: mostly in the past (recorded after the fact), sometimes ahead.
    auto day = [&] { return w->today - in.ConsumeIntegralInRange<int>(-3, 400); };
    const std::string case_id =
        pathway::CaseId::Mint("520102", 2026, 1 + in.ConsumeIntegralInRange<int>(0, 2))->ToString();
    const pathway::Caller& cw = in.ConsumeBool() ? w->caseworker : w->police;
    const int op = in.ConsumeIntegralInRange<int>(0, 14);
    absl::StatusOr<WriteResult> result = absl::UnknownError("no write");
    absl::Status s = w->store->Write([&](pathway::Transaction& tx) -> absl::Status {
      switch (op) {
        case 0: {
          OpenOrderInput o;
          o.case_id = case_id;
          o.division = in.ConsumeBool() ? "520102" : in.ConsumeRandomLengthString(8);
          o.place = in.ConsumeRandomLengthString(16);
          o.decision_number = in.ConsumeRandomLengthString(16);
          o.decision_date = day();
          o.received_on = day();
          o.term_months = in.ConsumeIntegralInRange<int>(-1, 40);
          o.credited_days = in.ConsumeIntegralInRange<int>(-1, 1200);
          result = engine.OpenOrder(tx, w->police, o, now);
          break;
        }
        case 1: result = engine.RecordReport(tx, cw, case_id, day(), now); break;
        case 2:
          result = engine.SignAgreement(tx, cw, case_id, day(), in.ConsumeRandomLengthString(8), now);
          break;
        case 3:
          result = engine.ChangeExecutionPlace(tx, cw, case_id, in.ConsumeBool() ? "520103" : "520102",
                                               in.ConsumeRandomLengthString(8), day(), now);
          break;
        case 4: {
          TestInput t;
          t.tested_on = day();
          t.specimen = static_cast<Specimen>(in.ConsumeIntegralInRange<int>(0, 3));
          t.result = static_cast<TestResult>(in.ConsumeIntegralInRange<int>(0, 3));
          t.unannounced = in.ConsumeBool();
          result = engine.RecordTest(tx, cw, case_id, t, now);
          break;
        }
        case 5:
          result = engine.ConfirmMissedTest(tx, cw, case_id, in.ConsumeIntegralInRange<int64_t>(0, 9),
                                            in.ConsumeBool(), day(), now);
          break;
        case 6: {
          LeaveInput l;
          l.reported_on = day();
          l.start = day();
          l.end = day();
          l.destination = in.ConsumeRandomLengthString(8);
          result = engine.RecordLeave(tx, cw, case_id, l, now);
          break;
        }
        case 7: {
          std::optional<absl::CivilDay> back;
          if (in.ConsumeBool()) back = day();
          result = engine.RecordAbsence(tx, cw, case_id, day(), back, now);
          break;
        }
        case 8:
          result = engine.RecordReturn(tx, cw, case_id, in.ConsumeIntegralInRange<int64_t>(0, 9),
                                       day(), now);
          break;
        case 9:
          result = engine.RecordPoliceReport(tx, cw, case_id, in.ConsumeRandomLengthString(24),
                                             day(), now);
          break;
        case 10:
          result = engine.Suspend(tx, cw, case_id,
                                  static_cast<SuspensionReason>(in.ConsumeIntegralInRange<int>(0, 1)),
                                  day(), now);
          break;
        case 11: result = engine.Resume(tx, cw, case_id, day(), now); break;
        case 12:
          result = engine.Terminate(tx, w->police, case_id,
                                    static_cast<TerminationReason>(in.ConsumeIntegralInRange<int>(0, 3)),
                                    in.ConsumeRandomLengthString(8), day(), now);
          break;
        default:
          result = engine.RecordDischarge(tx, w->police, case_id, in.ConsumeRandomLengthString(8),
                                          day(), now);
          break;
      }
      return result.status();
    });
    if (!s.ok()) continue;
    // An accepted change reads back, and evaluates at a later day.
    absl::Status r = w->store->Read([&](pathway::ReadTransaction& tx) -> absl::Status {
      absl::StatusOr<Order> o = engine.GetOrder(tx, w->police, case_id, w->today + 1000);
      return o.status();
    });
    if (!r.ok()) std::abort();
  }
  return 0;
}
