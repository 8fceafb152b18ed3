// libFuzzer target: the Sunshine placement service's request validation and rules.
// The first byte picks a write and the caller (a caseworker or the labor bureau of
// province 52), the second moves the day forward, the rest is parsed as the write's
// request (or the labor bureau's import row) and applied to a real SQLite store with
// one configured subsidy tier. Nothing may crash; a seeker that a write registered
// must read back, and an import row that validated must be stored.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/auth/case_scope.h"
#include "common/legal_time/legal_time.h"
#include "common/store/sqlite_store.h"
#include "services/placement/placement_logic.h"
#include "services/placement/placement_rules.h"
#include "services/placement/placement_tables.h"

namespace pathway::placement {
namespace {

struct World {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<PlacementLogic> logic;
  Caller caseworker;
  Caller bureau;
};

World* Make() {
  auto* w = new World();
  const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string path = std::string(base) + "/pathway-placement-fuzz-" + std::to_string(getpid());
  unlink(path.c_str());
  SqliteStoreOptions o;
  o.path = path;
  o.migrations = PlacementTableMigrations();
  w->store = *SqliteStore::Open(o);
  auto tiers = ParseSubsidyTiers("BASE_1Y|contract of a year or more, kept 6 months|12|6|150000\n");
  w->logic = std::make_unique<PlacementLogic>(*tiers, std::string(32, 'k'));
  for (Caller* c : {&w->caseworker, &w->bureau}) {
    c->claims.subject = "fuzz";
    c->claims.jurisdiction = "52";
  }
  w->caseworker.claims.role = Role::kCaseworker;
  w->bureau.claims.role = Role::kLaborBureau;
  return w;
}

// The registry's answer for any case: in province 52, not sealed.
CaseScope ScopeOf(const std::string& case_id) {
  CaseScope scope;
  scope.case_id = case_id;
  scope.household_division = "520102";
  scope.residence_division = "520102";
  return scope;
}

EligibilityDecision Eligible() {
  EligibilityDecision e;
  e.eligibility = v1::ELIGIBILITY_PLACEMENT;
  e.basis = "detox:ACTIVE";
  return e;
}

template <typename Req>
bool Parse(const uint8_t* data, size_t size, Req* req) {
  return req->ParseFromArray(data, static_cast<int>(size));
}

void Write(World& w, const std::function<absl::Status(Transaction&)>& fn) {
  (void)w.store->Write(fn);
}

}  // namespace
}  // namespace pathway::placement

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pathway;             // NOLINT: a fuzz entry point
  using namespace pathway::placement;  // NOLINT
  static World* w = Make();
  static absl::Time now = absl::FromCivil(absl::CivilSecond(2026, 3, 1, 12, 0, 0),
                                          absl::FixedTimeZone(8 * 3600));
  if (size < 2) return 0;
  now += absl::Hours(24) * (data[1] % 8);  // time only moves forward, as a clock does
  const absl::CivilDay today = legal_time::ToCivilDay(now);
  const uint8_t* body = data + 2;
  const size_t n = size - 2;
  const Caller& c = (data[0] & 0x80) ? w->bureau : w->caseworker;
  const PlacementLogic& l = *w->logic;
  switch (data[0] % 10) {
    case 0: {
      v1::RegisterSeekerRequest req;
      if (!Parse(body, n, &req) || !l.ValidateRegisterSeeker(c, req, today).ok()) break;
      const CaseScope scope = ScopeOf(req.case_id());
      bool registered = false;
      Write(*w, [&](Transaction& tx) -> absl::Status {
        v1::Seeker out;
        ProgramStatusRecord status;
        absl::Status s = l.RegisterSeeker(tx, c, now, req, scope, Eligible(), "", &out, &status);
        registered = s.ok();
        return s;
      });
      if (registered) {
        v1::Seeker read;
        absl::Status r = w->store->Read([&](ReadTransaction& tx) {
          return l.GetSeeker(tx, w->caseworker, req.case_id(), &scope, &read);
        });
        if (!r.ok() || read.case_id() != req.case_id()) std::abort();
      }
      break;
    }
    case 1: {
      v1::UpdateSeekerRequest req;
      if (!Parse(body, n, &req)) break;
      const CaseScope scope = ScopeOf(req.case_id());
      Write(*w, [&](Transaction& tx) {
        v1::Seeker out;
        return l.UpdateSeeker(tx, c, now, req, &scope, &out);
      });
      break;
    }
    case 2: {
      v1::Employer req;
      if (!Parse(body, n, &req)) break;
      Write(*w, [&](Transaction& tx) {
        v1::Employer out;
        return l.UpsertEmployer(tx, c, now, req, &out);
      });
      break;
    }
    case 3: {
      v1::Posting req;
      if (!Parse(body, n, &req)) break;
      Write(*w, [&](Transaction& tx) {
        v1::Posting out;
        return l.CreatePosting(tx, c, now, req, &out);
      });
      break;
    }
    case 4: {
      v1::PostingRow row;
      PostingRowToWrite valid;
      v1::RowError error;
      if (!Parse(body, n, &row) || !l.ValidatePostingRow(w->bureau, row, today, &valid, &error)) {
        break;
      }
      ImportCounts counts;
      absl::Status s = w->store->Write([&](Transaction& tx) {
        return l.ApplyPostingRows(tx, now, {valid}, &counts);
      });
      if (s.ok() && counts.imported + counts.updated + counts.unchanged != 1) std::abort();
      break;
    }
    case 5: {
      v1::RegistrationRow row;
      RegistrationRowToWrite valid;
      v1::RowError error;
      if (!Parse(body, n, &row) ||
          !l.ValidateRegistrationRow(w->bureau, row, today, &valid, &error)) {
        break;
      }
      ImportCounts counts;
      absl::Status s = w->store->Write([&](Transaction& tx) {
        return l.ApplyRegistrationRows(tx, now, {valid}, &counts);
      });
      if (s.ok() && counts.imported + counts.updated + counts.unchanged != 1) std::abort();
      break;
    }
    case 6: {
      v1::CreatePlacementRequest req;
      if (!Parse(body, n, &req)) break;
      const CaseScope scope = ScopeOf(req.case_id());
      Write(*w, [&](Transaction& tx) {
        v1::PlacementRecord out;
        ProgramStatusRecord status;
        return l.CreatePlacement(tx, c, now, req, &scope, Eligible(), &out, &status);
      });
      break;
    }
    case 7: {
      v1::RecordRetentionRequest req;
      if (!Parse(body, n, &req)) break;
      absl::StatusOr<std::string> case_id = std::string();
      (void)w->store->Read([&](ReadTransaction& tx) -> absl::Status {
        case_id = l.PlacementCaseId(tx, req.placement_id());
        return case_id.status();
      });
      if (!case_id.ok()) break;
      const CaseScope scope = ScopeOf(*case_id);
      Write(*w, [&](Transaction& tx) {
        v1::PlacementRecord out;
        ProgramStatusRecord status;
        return l.RecordRetention(tx, c, now, req, &scope, &out, &status);
      });
      break;
    }
    case 8: {
      v1::FileSubsidyClaimRequest req;
      if (!Parse(body, n, &req)) break;
      Write(*w, [&](Transaction& tx) {
        v1::SubsidyClaim out;
        return l.FileSubsidyClaim(tx, c, now, req, &out);
      });
      break;
    }
    case 9: {
      v1::DecideSubsidyClaimRequest req;
      if (!Parse(body, n, &req)) break;
      Write(*w, [&](Transaction& tx) {
        v1::SubsidyClaim out;
        return l.DecideSubsidyClaim(tx, c, now, req, &out);
      });
      break;
    }
    default:
      break;
  }
  return 0;
}
