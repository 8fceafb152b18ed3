#include "services/placement/placement_rules.h"

#include "absl/strings/match.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/ids/division_code.h"
#include "common/legal_time/legal_time.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace placement {
namespace {

bool IsIsolationEnded(const std::string& state) {
  for (const char* s : kIsolationEndedStates) {
    if (state == s) return true;
  }
  return false;
}

std::string Basis(Programme p, const ProgrammeStatus& s) {
  return absl::StrCat(ProgrammeField(p), ":", s.state);
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

absl::StatusOr<EligibilityDecision> DecideEligibility(const CaseStatusEntries& entries,
                                                      absl::CivilDay /*as_of*/) {
  EligibilityDecision d;
  auto isolation = entries.find(Programme::kCompulsoryIsolation);
  if (isolation != entries.end() && !IsIsolationEnded(isolation->second.state)) {
    // A person in isolation is not placed; vocational training only, and only in the
    // last year of the term (DESIGN.md §3; the term: 戒毒条例 Art 27, 禁毒法 Art 47).
    const ProgrammeStatus& s = isolation->second;
    if (!absl::EndsWith(s.state, kIsolationTrainingEligibleSuffix)) {
      return absl::FailedPreconditionError(
          "in compulsory isolation with a year or more of the term left: vocational "
          "training only once less than a year remains");
    }
    d.eligibility = v1::ELIGIBILITY_TRAINING_ONLY;
    d.basis = Basis(Programme::kCompulsoryIsolation, s);
    return d;
  }
  for (Programme p : {Programme::kCommunityDetox, Programme::kCommunityRehab}) {
    auto it = entries.find(p);
    if (it != entries.end()) {
      d.eligibility = v1::ELIGIBILITY_PLACEMENT;
      d.basis = Basis(p, it->second);
      return d;
    }
  }
  if (isolation != entries.end()) {  // released or converted
    d.eligibility = v1::ELIGIBILITY_PLACEMENT;
    d.basis = Basis(Programme::kCompulsoryIsolation, isolation->second);
    return d;
  }
  bool any_other = false;
  for (const auto& [p, s] : entries) {
    if (p != Programme::kPlacement) any_other = true;
  }
  if (!any_other) {
    return absl::UnavailableError(
        "the case's programme status is not known yet; retry later");
  }
  return absl::FailedPreconditionError(
      "not in community detox, community rehabilitation or released from isolation");
}

std::vector<Checkpoint> RetentionCheckpoints(absl::CivilDay contract_start) {
  std::vector<Checkpoint> out;
  for (int m : kRetentionMonths) {
    Checkpoint c;
    c.months = m;
    c.due_on = legal_time::DeadlineAfterMonths(contract_start, m);
    c.record_by = legal_time::DeadlineAfterDays(c.due_on, kRetentionRecordWindowDays);
    out.push_back(c);
  }
  return out;
}

bool IsRetentionMonths(int months) {
  for (int m : kRetentionMonths) {
    if (m == months) return true;
  }
  return false;
}

bool ContractOneYearOrMore(absl::CivilDay start, std::optional<absl::CivilDay> end) {
  if (!end.has_value()) return true;
  return *end >= legal_time::TermLastDay(start, 12);
}

MatchScore ScoreMatch(const MatchProfile& seeker, const v1::Posting& posting,
                      v1::EmployerKind employer_kind) {
  MatchScore m;
  // Skills.
  if (posting.skills_size() == 0) {
    m.score += 10;
    m.reasons.push_back("no particular skills required");
  } else {
    std::vector<std::string> hit;
    for (const std::string& s : posting.skills()) {
      if (std::find(seeker.skills.begin(), seeker.skills.end(), s) != seeker.skills.end()) {
        hit.push_back(s);
      }
    }
    m.score += 50 * static_cast<int>(hit.size()) / posting.skills_size();
    if (hit.empty()) {
      m.reasons.push_back(absl::StrCat("skills 0/", posting.skills_size()));
    } else {
      m.reasons.push_back(absl::StrCat("skills ", hit.size(), "/", posting.skills_size(), ": ",
                                       absl::StrJoin(hit, ", ")));
    }
  }
  // Area.
  std::string best;
  for (const std::string& p : seeker.preferred_divisions) {
    if (StartsWith(posting.division(), p) && p.size() > best.size()) best = p;
  }
  if (!best.empty()) {
    m.score += 30;
    m.reasons.push_back(absl::StrCat("in preferred area ", best));
  } else if (posting.division() == seeker.division) {
    m.score += 25;
    m.reasons.push_back("in the seeker's county");
  } else if (seeker.division.size() == 6 &&
             StartsWith(posting.division(), seeker.division.substr(0, 4))) {
    m.score += 15;
    m.reasons.push_back("in the seeker's city");
  } else {
    m.reasons.push_back("outside the preferred areas");
  }
  // Terms.
  if (seeker.min_monthly_wage <= 0) {
    m.score += 10;
    m.reasons.push_back("no wage expectation");
  } else if (posting.wage_max() >= seeker.min_monthly_wage) {
    m.score += 20;
    m.reasons.push_back(absl::StrCat("wage up to ", posting.wage_max(), " meets expectation ",
                                     seeker.min_monthly_wage));
  } else {
    m.score -= 20;
    m.reasons.push_back(absl::StrCat("wage up to ", posting.wage_max(), " below expectation ",
                                     seeker.min_monthly_wage));
  }
  if (employer_kind == v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE) {
    m.score += 10;
    m.reasons.push_back("Sunshine enterprise");
  } else if (employer_kind == v1::EMPLOYER_KIND_PLACEMENT_BASE) {
    m.score += 10;
    m.reasons.push_back("placement base");
  }
  return m;
}

absl::StatusOr<std::vector<std::string>> NormalizeSkills(
    const google::protobuf::RepeatedPtrField<std::string>& skills, int max_count,
    absl::string_view field) {
  if (skills.size() > max_count) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", max_count, " tags"));
  }
  std::vector<std::string> out;
  for (const std::string& raw : skills) {
    std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
    if (s.empty() || s.size() > 32) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": tags are 1..32 bytes"));
    }
    if (s.find(',') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": tags may not contain ','"));
    }
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return out;
}

absl::Status ValidateDivisionPrefix(absl::string_view prefix, absl::string_view field) {
  if (prefix.size() != 2 && prefix.size() != 4 && prefix.size() != 6) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": 2, 4 or 6 digits"));
  }
  for (char c : prefix) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": 2, 4 or 6 digits"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateText(absl::string_view text, int max_len, bool required,
                          absl::string_view field) {
  if (required && text.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (text.size() > static_cast<size_t>(max_len)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", max_len, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRecordId(absl::string_view id) {
  if (id.empty() || id.size() > 64) {
    return absl::InvalidArgumentError("record_id: 1..64 characters");
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != ':' && c != '-') {
      return absl::InvalidArgumentError("record_id: only [A-Za-z0-9._:-]");
    }
  }
  return absl::OkStatus();
}

bool ContractLastsMonths(absl::CivilDay start, std::optional<absl::CivilDay> end,
                         int min_months) {
  if (min_months <= 0 || !end.has_value()) return true;
  return !(*end < legal_time::TermLastDay(start, min_months));
}

absl::StatusOr<absl::CivilDay> ChangeDate(const common::v1::Date& d, absl::CivilDay today,
                                          const v1::Seeker& s, ChangeDating dating) {
  ASSIGN_OR_RETURN(absl::CivilDay day, RequiredDate(d, "effective_on"));
  if (day > today) {
    if (dating != ChangeDating::kApplyLatestUpToToday) {
      return absl::InvalidArgumentError("effective_on: in the future");
    }
    day = today;
  }
  std::optional<absl::CivilDay> earliest;
  if (IsDateSet(s.registered_on())) earliest = DayOf(s.registered_on());
  if (dating == ChangeDating::kRefuse) {
    if (earliest.has_value() && day < *earliest) {
      return absl::InvalidArgumentError("effective_on: before the seeker was registered");
    }
    return day;
  }
  if (IsDateSet(s.state_since()) && (!earliest.has_value() || DayOf(s.state_since()) > *earliest)) {
    earliest = DayOf(s.state_since());
  }
  if (earliest.has_value() && day < *earliest) day = std::min(*earliest, today);
  return day;
}

std::string SeekerProgramState(const v1::Seeker& s) {
  switch (s.state()) {
    case v1::SEEKER_STATE_PLACED: return "PLACED";
    case v1::SEEKER_STATE_SUSPENDED: return "SUSPENDED";
    case v1::SEEKER_STATE_CLOSED: return "CLOSED";
    default:
      return s.eligibility() == v1::ELIGIBILITY_TRAINING_ONLY ? "TRAINING_ONLY" : "SEEKING";
  }
}

bool QualifiesForTier(const v1::SubsidyTier& tier, absl::CivilDay contract_start,
                      std::optional<absl::CivilDay> contract_end,
                      std::optional<v1::RetentionOutcome> retained) {
  if (!ContractLastsMonths(contract_start, contract_end, tier.min_contract_months())) {
    return false;
  }
  if (tier.retained_months() > 0) {
    return retained.has_value() && *retained == v1::RETENTION_OUTCOME_STILL_EMPLOYED;
  }
  return true;
}

absl::StatusOr<std::vector<v1::SubsidyTier>> ParseSubsidyTiers(absl::string_view text) {
  std::vector<v1::SubsidyTier> tiers;
  std::set<std::string> codes;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '|');
    v1::SubsidyTier t;
    int min_contract = 0, retained = 0;
    int64_t amount = 0;
    if (f.size() != 5 || f[0].empty() || !absl::SimpleAtoi(f[2], &min_contract) ||
        !absl::SimpleAtoi(f[3], &retained) || !absl::SimpleAtoi(f[4], &amount) ||
        min_contract < 0 || amount < 0 || (retained != 0 && !IsRetentionMonths(retained)) ||
        !codes.insert(f[0]).second) {
      return absl::InvalidArgumentError(absl::StrCat("subsidy tiers: line ", line_no,
                                                     " is not a valid tier"));
    }
    t.set_code(f[0]);
    t.set_description(f[1]);
    t.set_min_contract_months(min_contract);
    t.set_retained_months(retained);
    t.set_amount_per_placement_fen(amount);
    tiers.push_back(std::move(t));
  }
  return tiers;
}

}  // namespace placement
}  // namespace pathway
