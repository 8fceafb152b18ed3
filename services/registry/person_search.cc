#include "services/registry/person_search.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/case_scope.h"
#include "common/auth/jurisdiction.h"
#include "common/codec/proto_date.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/status/status_macros.h"
#include "services/registry/search_keys.h"
#include "services/registry/search_tables.h"

namespace pathway {
namespace registry {
namespace {

// Candidate rows read per query while counting what the caller may see.
constexpr int kCandidateBatch = 500;

absl::Status ValidateCriterionText(absl::string_view value, absl::string_view field,
                                   size_t max_len) {
  if (value.size() > max_len) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is longer than ", max_len, " bytes"));
  }
  for (unsigned char ch : value) {
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(field, " contains control characters"));
    }
  }
  return absl::OkStatus();
}

std::string EncodeToken(int64_t created_us, absl::string_view case_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(created_us, "|", case_id));
}

bool DecodeToken(absl::string_view token, int64_t* created_us, std::string* case_id) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return false;
  std::pair<std::string, std::string> parts = absl::StrSplit(raw, absl::MaxSplits('|', 1));
  if (!absl::SimpleAtoi(parts.first, created_us) || parts.second.empty()) return false;
  *case_id = parts.second;
  return true;
}

// (created_us, case_id) strictly after the token's position in newest-first order.
bool After(int64_t created_us, const std::string& case_id, int64_t token_us,
           const std::string& token_id) {
  return created_us < token_us || (created_us == token_us && case_id < token_id);
}

// The fields CheckVisible reads, as RegistryLogic::LoadScope fills them.
CaseRecord ScopeRecord(const CaseScopeRow& row) {
  CaseRecord c;
  c.case_id = row.case_id;
  c.household_division = row.household_division;
  c.residence_division = row.residence_division;
  c.abstinence_anchor = row.abstinence_anchor;
  c.open_measures = static_cast<int>(row.open_measures);
  c.township = row.township;
  c.assigned_caseworker = row.assigned_caseworker;
  return c;
}

}  // namespace

std::string SearchCriteriaKinds(const v1::SearchPersonsRequest& r) {
  std::vector<absl::string_view> kinds;
  if (!r.name().empty()) kinds.push_back("name");
  if (!r.phone().empty()) kinds.push_back("phone");
  if (!r.resident_id_number().empty()) kinds.push_back("resident_id_number");
  if (!r.case_id().empty()) kinds.push_back("case_id");
  if (!r.risk_grade().empty()) kinds.push_back("risk_grade");
  if (r.control_status() != v1::CONTROL_STATUS_UNSPECIFIED) kinds.push_back("control_status");
  if (IsDateSet(r.birth_date())) kinds.push_back("birth_date");
  return absl::StrJoin(kinds, ",");
}

absl::StatusOr<PersonSearchResult> SearchPersons(ReadTransaction& tx, const RegistryLogic& logic,
                                                 const Caller& caller,
                                                 const v1::SearchPersonsRequest& r,
                                                 absl::CivilDay today) {
  if (SearchCriteriaKinds(r).empty()) {
    return absl::InvalidArgumentError(
        "give at least one criterion: name, phone, resident_id_number, case_id, risk_grade, "
        "control_status or birth_date");
  }
  const PiiCipher& cipher = logic.cipher();
  PersonSearchQuery q;
  if (!r.name().empty()) {
    RETURN_IF_ERROR(ValidateCriterionText(r.name(), "name", 64 * 4));
    if (NormalizeNameForIndex(r.name()).empty()) {
      return absl::InvalidArgumentError("name holds only spaces");
    }
    q.name_index = NameIndex(cipher, r.name());
  }
  if (!r.phone().empty()) {
    RETURN_IF_ERROR(ValidateCriterionText(r.phone(), "phone", 64));
    std::optional<std::string> phone = PhoneIndex(cipher, r.phone());
    if (!phone.has_value()) return absl::InvalidArgumentError("phone holds no digits");
    q.phone_index = *std::move(phone);
  }
  if (!r.resident_id_number().empty()) {
    absl::StatusOr<ResidentId> id = ResidentId::Parse(r.resident_id_number(), today);
    if (!id.ok()) return id.status();  // the message never contains the number
    q.id_index = cipher.BlindIndex(id->normalized());
  }
  if (!r.case_id().empty()) {
    ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(r.case_id()));
    q.case_id = id.ToString();
  }
  if (!r.risk_grade().empty()) {
    const std::vector<std::string>& grades = logic.config().risk_grades;
    if (std::find(grades.begin(), grades.end(), r.risk_grade()) == grades.end()) {
      return absl::InvalidArgumentError("risk_grade is not in the configured scheme");
    }
    q.risk_grade = r.risk_grade();
  }
  if (!v1::ControlStatus_IsValid(r.control_status())) {
    return absl::InvalidArgumentError("control_status is not a known value");
  }
  q.control_status = r.control_status();
  ASSIGN_OR_RETURN(q.birth_date, OptionalDate(r.birth_date(), "birth_date"));

  int page_size = r.page().page_size() <= 0 ? kSearchDefaultPageSize
                                            : std::min(r.page().page_size(), kSearchMaxPageSize);
  int64_t token_us = INT64_MAX;
  std::string token_id = "~";  // sorts after every case id
  if (!r.page().page_token().empty() && !DecodeToken(r.page().page_token(), &token_us, &token_id)) {
    return absl::InvalidArgumentError("page_token is not valid");
  }

  // Whose cases: a township caller's own, or (beyond) the whole of the caller's
  // jurisdiction, a township caller's being its county.
  const bool township_caller = IsTownshipJurisdiction(caller.jurisdiction());
  const bool beyond = !township_caller || r.beyond_own_township();
  if (beyond && q.id_index.empty() && (q.name_index.empty() || !q.birth_date.has_value())) {
    return absl::InvalidArgumentError(
        "a search beyond your own township must single a person out: give the full "
        "resident_id_number, or name together with birth_date");
  }
  const Caller view = township_caller && beyond ? CountyView(caller) : caller;
  q.jurisdiction_prefix = view.jurisdiction() == kNationalJurisdiction ? "" : view.jurisdiction();
  if (township_caller && !beyond) {
    q.jurisdiction_prefix = caller.jurisdiction().substr(0, 6);
    q.scope_township = caller.jurisdiction();
    q.scope_caseworker = caller.subject();
  }
  const int cap = beyond ? kMaxHitsBeyondOwnTownship : kMaxCountedHits;

  // Every match the caller may see, newest first, up to one past the cap. Candidates
  // are read in batches after the last one seen, scope fields only.
  struct Match {
    int64_t created_us;
    std::string case_id;
  };
  std::vector<Match> matches;
  int64_t last_us = INT64_MAX;
  std::string last_id = "~";
  while (static_cast<int>(matches.size()) <= cap) {
    q.after_us = last_us;
    q.after_case_id = last_id;
    q.limit = kCandidateBatch;
    ASSIGN_OR_RETURN(std::vector<PersonSearchCandidate> rows, FindPersonSearchCandidates(tx, q));
    for (const PersonSearchCandidate& row : rows) {
      last_us = row.created_us;
      last_id = row.scope.case_id;
      if (!logic.CheckVisible(view, ScopeRecord(row.scope), today).ok()) continue;
      matches.push_back({row.created_us, row.scope.case_id});
      if (static_cast<int>(matches.size()) > cap) break;
    }
    if (static_cast<int>(rows.size()) < kCandidateBatch) break;
  }
  PersonSearchResult result;
  result.total_size_capped = static_cast<int>(matches.size()) > cap;
  if (result.total_size_capped) matches.resize(cap);
  result.total_size = static_cast<int>(matches.size());

  // The page: the counted matches after the token.
  auto it = std::find_if(matches.begin(), matches.end(), [&](const Match& m) {
    return After(m.created_us, m.case_id, token_us, token_id);
  });
  for (; it != matches.end() && static_cast<int>(result.hits.size()) < page_size; ++it) {
    ASSIGN_OR_RETURN(std::optional<CaseRecord> c, logic.Load(tx, it->case_id));
    if (!c.has_value()) return absl::InternalError("a matched case could not be read");
    ASSIGN_OR_RETURN(bool duplicate, HasPossibleDuplicate(tx, it->case_id));
    result.hits.push_back({*std::move(c), duplicate});
  }
  if (it != matches.end() && !result.hits.empty()) {
    const CaseRecord& last = result.hits.back().record;
    result.next_page_token = EncodeToken(last.created_us, last.case_id);
  }
  return result;
}

absl::StatusOr<int64_t> BackfillPersonSearchIndexes(Store& store, const RegistryLogic& logic,
                                                    int batch_size) {
  if (batch_size <= 0) return absl::InvalidArgumentError("batch_size must be positive");
  std::string after;
  int64_t indexed = 0;
  for (;;) {
    size_t fetched = 0;
    int64_t written = 0;
    std::string last = after;
    RETURN_IF_ERROR(store.Write([&](Transaction& tx) -> absl::Status {
      written = 0;
      ASSIGN_OR_RETURN(std::vector<std::string> ids,
                       CaseIdsWithoutNameIndex(tx, after, batch_size));
      fetched = ids.size();
      last = ids.empty() ? after : ids.back();
      for (const std::string& id : ids) {
        ASSIGN_OR_RETURN(std::optional<CaseRecord> c, logic.Load(tx, id));
        if (!c.has_value()) continue;
        RETURN_IF_ERROR(SetPersonSearchIndexes(tx, id, NameIndex(logic.cipher(), c->name),
                                               PhoneIndex(logic.cipher(), c->phone)));
        ++written;
      }
      return absl::OkStatus();
    }));
    indexed += written;
    after = last;
    if (static_cast<int>(fetched) < batch_size) break;
  }
  return indexed;
}

}  // namespace registry
}  // namespace pathway
