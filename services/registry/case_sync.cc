#include "services/registry/case_sync.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/jurisdiction.h"
#include "common/codec/date_text.h"
#include "common/legal_time/legal_time.h"
#include "common/status/status_macros.h"
#include "services/registry/change_log_tables.h"
#include "services/registry/registry_rules.h"

namespace pathway {
namespace registry {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 500;
constexpr int64_t kScanBatch = 1000;
// A page stops after this many log entries, so one call never walks a province's
// history; the cursor then continues after the last entry read.
constexpr int64_t kMaxScannedPerPage = 10000;
constexpr char kCursorKeyLabel[] = "pathway.registry.sync-cursor-key.v1";
constexpr char kCursorVersion[] = "v1";

absl::Status ResyncRequired() { return absl::FailedPreconditionError(kResyncRequired); }

absl::Status BadCursor() { return absl::InvalidArgumentError("cursor is not valid"); }

// The county prefix a caller's cases lie under (either division); "" for all.
std::string DivisionPrefix(const Caller& caller) {
  if (caller.jurisdiction() == "*") return "";
  if (IsTownshipJurisdiction(caller.jurisdiction())) return caller.jurisdiction().substr(0, 6);
  return caller.jurisdiction();
}

CaseRecord ScopeRecord(absl::string_view case_id, const std::string& household,
                       const std::string& residence, const std::string& township,
                       const std::string& caseworker, absl::CivilDay anchor,
                       int64_t open_measures) {
  CaseRecord c;
  c.case_id = std::string(case_id);
  c.household_division = household;
  c.residence_division = residence;
  c.township = township;
  c.assigned_caseworker = caseworker;
  c.abstinence_anchor = anchor;
  c.open_measures = static_cast<int>(open_measures);
  return c;
}

// The day a state of the case began: it was current from then on.
absl::CivilDay DayOf(int64_t us) { return legal_time::ToCivilDay(absl::FromUnixMicros(us)); }

}  // namespace

CaseSync::CaseSync(const RegistryLogic* logic, std::string cursor_key, absl::Duration retention)
    : logic_(logic), key_(std::move(cursor_key)), retention_(retention) {}

std::string CaseSync::DeriveCursorKey(const PiiCipher& cipher) {
  return cipher.BlindIndex(kCursorKeyLabel);
}

std::string CaseSync::Mac(absl::string_view data) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string CaseSync::ScopeFingerprint(const Caller& caller) const {
  std::string scope =
      absl::StrCat("scope", std::string(1, '\0'), caller.subject(), std::string(1, '\0'),
                   RoleName(caller.role()), std::string(1, '\0'), caller.jurisdiction(),
                   std::string(1, '\0'), caller.organization());
  return absl::BytesToHexString(Mac(scope).substr(0, 12));
}

std::string CaseSync::EncodeCursor(const Cursor& c) const {
  std::string payload = absl::StrCat(kCursorVersion, "|", c.seq, "|", DayText(c.day), "|", c.scope);
  std::string mac = absl::BytesToHexString(Mac(payload).substr(0, 16));
  return absl::WebSafeBase64Escape(absl::StrCat(payload, "|", mac));
}

absl::StatusOr<CaseSync::Cursor> CaseSync::DecodeCursor(absl::string_view token) const {
  std::string raw;
  if (token.size() > 512 || !absl::WebSafeBase64Unescape(token, &raw)) return BadCursor();
  const size_t bar = raw.rfind('|');
  if (bar == std::string::npos) return BadCursor();
  const std::string payload = raw.substr(0, bar);
  const std::string want = absl::BytesToHexString(Mac(payload).substr(0, 16));
  const std::string got = raw.substr(bar + 1);
  if (got.size() != want.size() || CRYPTO_memcmp(got.data(), want.data(), want.size()) != 0) {
    return BadCursor();
  }
  std::vector<std::string> parts = absl::StrSplit(payload, '|');
  Cursor c;
  std::optional<absl::CivilDay> day;
  if (parts.size() != 4 || parts[0] != kCursorVersion || !absl::SimpleAtoi(parts[1], &c.seq) ||
      c.seq < 0 || !(day = ParseDayText(parts[2])).has_value()) {
    return BadCursor();
  }
  c.day = *day;
  c.scope = parts[3];
  return c;
}

absl::StatusOr<int64_t> CaseSync::Prune(Transaction& tx, absl::Time now) const {
  return PruneCaseChanges(tx, absl::ToUnixMicros(now - retention_ - absl::Hours(24)));
}

absl::Status CaseSync::Sync(ReadTransaction& tx, const Caller& caller,
                            const v1::SyncCasesRequest& request, absl::Time now,
                            v1::SyncCasesResponse* out) const {
  out->Clear();
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size is negative");
  const size_t page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  const absl::CivilDay today = legal_time::ToCivilDay(now);
  const std::string scope = ScopeFingerprint(caller);
  ASSIGN_OR_RETURN(ChangeLogCounter counter, ReadChangeLogCounter(tx));

  Cursor from{0, today, scope};
  if (!request.cursor().empty()) {
    ASSIGN_OR_RETURN(from, DecodeCursor(request.cursor()));
    // Another scope would see other cases: what the copy holds is not its business.
    if (from.scope != scope) return ResyncRequired();
    const int64_t retention_days = retention_ / absl::Hours(24);
    if (from.day > today || from.day < today - retention_days) return ResyncRequired();
    // The database is older than the cursor (restored from a backup).
    if (from.seq > counter.last_seq) return ResyncRequired();
    // Entries the copy may need were pruned: every state the copy holds was read on
    // the cursor's day or later, so entries recorded before that day are not needed.
    if (counter.pruned_before_us > 0 && DayOf(counter.pruned_before_us) >= from.day) {
      return ResyncRequired();
    }
  }
  // At seq 0 the copy is empty: it holds nothing to remove.
  const bool holds_nothing = from.seq == 0;
  const std::string prefix = DivisionPrefix(caller);

  // The cases of this page: in order of their first entry after the cursor.
  std::vector<std::string> ids;
  std::set<std::string> seen;
  int64_t last_used = from.seq;
  int64_t scanned = 0;
  bool has_more = false;
  for (bool done = false; !done;) {
    ASSIGN_OR_RETURN(std::vector<CaseChangeRef> batch,
                     ScanCaseChanges(tx, last_used, prefix, kScanBatch));
    for (const CaseChangeRef& ref : batch) {
      if (seen.count(ref.case_id) == 0) {
        if (ids.size() == page_size) {
          has_more = true;
          done = true;
          break;
        }
        seen.insert(ref.case_id);
        ids.push_back(ref.case_id);
      }
      last_used = ref.seq;
      if (++scanned >= kMaxScannedPerPage) {
        has_more = true;
        done = true;
        break;
      }
    }
    if (static_cast<int64_t>(batch.size()) < kScanBatch) done = true;
  }

  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(std::optional<CaseRecord> c, logic_->Load(tx, id));
    if (c.has_value() && logic_->CheckVisible(caller, *c, today).ok()) {
      logic_->ToProto(*c, caller, today, out->add_changes()->mutable_upsert());
      continue;
    }
    if (holds_nothing) continue;
    // The copy may hold the current state (sent by an earlier page, since sealed by
    // time) or any state an entry after the cursor replaced.
    bool held =
        c.has_value() &&
        logic_
            ->CheckVisible(caller, *c, std::max(from.day, DayOf(absl::ToUnixMicros(c->updated_at))))
            .ok();
    if (!held) {
      ASSIGN_OR_RETURN(std::vector<PriorScopeRow> priors, PriorScopesAfter(tx, id, from.seq));
      for (const PriorScopeRow& p : priors) {
        CaseRecord before =
            ScopeRecord(id, p.household_division, p.residence_division, p.township,
                        p.assigned_caseworker, p.abstinence_anchor, p.open_measures);
        if (logic_->CheckVisible(caller, before, std::max(from.day, DayOf(p.since_us))).ok()) {
          held = true;
          break;
        }
      }
    }
    if (held) out->add_changes()->set_removed_case_id(id);
  }

  Cursor next{last_used, from.day, scope};
  if (!has_more) {
    // The log is read to its end in this snapshot: skip what lies outside the scope,
    // and account for the days since the cursor's.
    next.seq = std::max(last_used, counter.last_seq);
    if (!holds_nothing && from.day < today) {
      // Sealed on `today` but not on `from.day`: the three-year milestone (the anchor
      // plus 36 months, registry_rules.h) fell in [from.day, today). Searched a week
      // wider on both sides for the month-end rule; the exact test follows.
      const absl::CivilDay lo(from.day.year() - 3, from.day.month(), from.day.day());
      const absl::CivilDay hi(today.year() - 3, today.month(), today.day());
      ASSIGN_OR_RETURN(std::vector<SealingCandidateRow> candidates,
                       SealingCandidates(tx, lo - 7, hi + 7, prefix));
      for (const SealingCandidateRow& row : candidates) {
        if (seen.count(row.case_id) > 0) continue;  // answered above at today's state
        CaseRecord now_scope =
            ScopeRecord(row.case_id, row.household_division, row.residence_division, row.township,
                        row.assigned_caseworker, row.abstinence_anchor, 0);
        const absl::CivilDay held_on = std::max(from.day, DayOf(row.updated_us));
        if (!Sealed(now_scope, today) || Sealed(now_scope, held_on) ||
            !logic_->CheckVisible(caller, now_scope, held_on).ok()) {
          continue;
        }
        if (logic_->CheckVisible(caller, now_scope, today).ok()) {
          ASSIGN_OR_RETURN(std::optional<CaseRecord> c, logic_->Load(tx, row.case_id));
          if (c.has_value()) {
            logic_->ToProto(*c, caller, today, out->add_changes()->mutable_upsert());
          }
        } else {
          out->add_changes()->set_removed_case_id(row.case_id);
        }
      }
    }
    next.day = today;
  }
  out->set_next_cursor(EncodeCursor(next));
  out->set_has_more(has_more);
  return absl::OkStatus();
}

}  // namespace registry
}  // namespace pathway
