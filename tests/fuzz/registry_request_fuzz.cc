// libFuzzer target: the registry's request validation and rules. The first byte picks a
// write (register, risk grade, jurisdiction, status, event), the rest is parsed as its
// request message and applied to a real SQLite store for a police caller of Guizhou.
// Nothing may crash, and a refused write must leave the store as it was (the
// transaction is rolled back): the count of cases changes only on a successful register.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/crypto/pii_cipher.h"
#include "common/store/sqlite_store.h"
#include "services/registry/registry_logic.h"

namespace pathway::registry {
namespace {

struct World {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<PiiCipher> cipher;
  std::unique_ptr<RegistryLogic> logic;
  Caller police;
};

World* Make() {
  auto* w = new World();
  // A fresh file per process, in memory-backed /dev/shm where there is one.
  const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string path = std::string(base) + "/pathway-registry-fuzz-" + std::to_string(getpid());
  unlink(path.c_str());
  SqliteStoreOptions o;
  o.path = path;
  o.migrations = RegistryLogic::Migrations();
  w->store = *SqliteStore::Open(o);
  w->cipher = *PiiCipher::Create("fuzz-pii-key-0123456789abcdefghijklmnopqrstu");
  w->logic = std::make_unique<RegistryLogic>(w->cipher.get(), RegistryConfig{});
  w->police.claims.subject = "fuzz";
  w->police.claims.role = Role::kPolice;
  w->police.claims.jurisdiction = "52";
  return w;
}

int64_t CountCases(World& w) {
  int64_t n = -1;
  (void)w.store->Read([&](ReadTransaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<Row>> rows = tx.Query("SELECT COUNT(*) FROM cases", {});
    if (rows.ok()) n = (*rows)[0].GetInt(0);
    return rows.status();
  });
  return n;
}

template <typename Req, typename Fn>
void Apply(World& w, const uint8_t* data, size_t size, bool registers, Fn fn) {
  Req req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return;
  const int64_t before = CountCases(w);
  bool ok = false;
  absl::Status s = w.store->Write([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<CaseRecord> r = fn(tx, req);
    ok = r.ok();
    return r.status();
  });
  const int64_t after = CountCases(w);
  if (!s.ok() && after != before) std::abort();           // a refusal wrote something
  if (s.ok() && after != before + (registers ? 1 : 0)) std::abort();
  (void)ok;
}

}  // namespace
}  // namespace pathway::registry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pathway::registry;  // NOLINT: a fuzz entry point
  static World* w = Make();
  if (size == 0) return 0;
  const absl::Time now = absl::FromCivil(absl::CivilSecond(2026, 12, 7, 12, 0, 0),
                                         absl::FixedTimeZone(8 * 3600));
  const uint8_t* body = data + 1;
  const size_t n = size - 1;
  const pathway::Caller& c = w->police;
  switch (data[0] % 5) {
    case 0:
      Apply<v1::RegisterPersonRequest>(*w, body, n, true, [&](auto& tx, const auto& r) {
        return w->logic->Register(tx, c, r, now);
      });
      break;
    case 1:
      Apply<v1::SetRiskGradeRequest>(*w, body, n, false, [&](auto& tx, const auto& r) {
        return w->logic->SetRiskGrade(tx, c, r, now);
      });
      break;
    case 2:
      Apply<v1::ChangeJurisdictionRequest>(*w, body, n, false, [&](auto& tx, const auto& r) {
        return w->logic->ChangeJurisdiction(tx, c, r, now);
      });
      break;
    case 3:
      Apply<v1::SetStatusRequest>(*w, body, n, false, [&](auto& tx, const auto& r) {
        return w->logic->SetStatus(tx, c, r, now);
      });
      break;
    default:
      Apply<v1::ReportEventRequest>(*w, body, n, false, [&](auto& tx, const auto& r) {
        return w->logic->ReportEvent(tx, c, r, now);
      });
      break;
  }
  return 0;
}
