#include "services/compulsory_isolation/compulsory_isolation_rules.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/codec/proto_date.h"
#include "common/ids/division_code.h"
#include "common/legal_time/legal_time.h"

namespace pathway {
namespace isolation {

namespace lt = legal_time;
using absl::CivilDay;

// ---- Term arithmetic -------------------------------------------------------------------

CivilDay IsolationTermLastDay(CivilDay decided_on, int extension_months, int excluded_days) {
  return lt::TermLastDay(decided_on, kTermMonths + extension_months, excluded_days);
}

CivilDay EarlyReleaseEligibleFrom(CivilDay decided_on, int excluded_days) {
  return lt::ServedThrough(decided_on, kEarlyReleaseAfterMonths, excluded_days) + 1;
}

CivilDay TrainingEligibleFrom(CivilDay term_last_day) {
  // TermLastDay(d, 12) never decreases as d grows; start safely before the answer.
  CivilDay d = term_last_day - 370;
  while (lt::TermLastDay(d, 12) <= term_last_day) ++d;
  return d;
}

int EscapeExcludedDays(CivilDay escaped_on, CivilDay recaptured_on) {
  return static_cast<int>(lt::DaysBetween(escaped_on, recaptured_on));
}

TransferWindow PoliceStageTransferWindow(CivilDay admitted_on, int max_months) {
  return {lt::ServedThrough(admitted_on, kPoliceStageMinMonths) + 1,
          lt::ServedThrough(admitted_on, max_months) + 1};
}

CivilDay FirstDayAged(CivilDay birth, int years) {
  // TermLastDay(birth, 12 * years) is the day before the birthday (a 29 February birth
  // has its birthday on 1 March in common years); the age counts from the day after.
  return lt::TermLastDay(birth, 12 * years) + 2;
}

absl::Status CheckIsolationApplies(bool pregnant,
                                   const std::optional<CivilDay>& nursing_infant_birth,
                                   CivilDay decided_on) {
  // 禁毒法 Art 39: 怀孕或者正在哺乳自己不满一周岁婴儿的妇女吸毒成瘾的，不适用强制隔离戒毒.
  if (pregnant) {
    return absl::FailedPreconditionError(
        "compulsory isolation does not apply to a pregnant woman (禁毒法 Art 39)");
  }
  if (nursing_infant_birth.has_value() && decided_on < FirstDayAged(*nursing_infant_birth, 1)) {
    return absl::FailedPreconditionError(
        "compulsory isolation does not apply to a woman nursing her own infant under one year "
        "(禁毒法 Art 39)");
  }
  return absl::OkStatus();
}

bool CommunityRehabRunningOn(const std::optional<common::v1::ProgramStatus>& sk,
                             CivilDay decided_on) {
  if (!sk.has_value()) return false;
  const std::string& state = sk->state();
  const CivilDay began = DayOf(sk->began());
  if (state == "AWAITING_REPORT" || state == "ACTIVE" || state == "SUSPENDED") return true;
  // `began` is the day after the term's last day.
  if (state == "EXPIRED_AWAITING_DISCHARGE") return decided_on < began;
  // `began` is the day the order was closed.
  if (state == "TERMINATED" || state == "DISCHARGED") return decided_on <= began;
  return true;
}

// ---- Configuration ---------------------------------------------------------------------

absl::Status IsolationOptions::Validate() const {
  std::set<std::string> ids;
  for (const FacilityConfig& f : facilities) {
    if (f.id.empty()) return absl::InvalidArgumentError("facilities: empty id");
    if (!ids.insert(f.id).second) {
      return absl::InvalidArgumentError(absl::StrCat("facilities: duplicate id ", f.id));
    }
    if (f.kind != v1::FACILITY_KIND_POLICE && f.kind != v1::FACILITY_KIND_JUDICIAL) {
      return absl::InvalidArgumentError(absl::StrCat("facilities: ", f.id, " has no kind"));
    }
    if (!ValidateDivisionCode(f.division).ok()) {
      return absl::InvalidArgumentError(absl::StrCat("facilities: ", f.id, " has a bad division"));
    }
  }
  if (police_stage_max_months < kPoliceStageDefaultMaxMonths ||
      police_stage_max_months > kPoliceStageAbsoluteMaxMonths) {
    return absl::InvalidArgumentError(
        "police_stage_max_months must be 6..12 (戒毒条例 Art 27)");
  }
  if (intake_assessment_days < 0 || pre_expiry_assessment_days < 0) {
    return absl::InvalidArgumentError("assessment days must not be negative");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FacilityConfig>> ParseFacilities(absl::string_view text) {
  std::vector<FacilityConfig> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(',', 3));
    if (parts.size() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("facilities line ", line_no, ": want id,kind,division,name"));
    }
    FacilityConfig f;
    f.id = std::string(absl::StripAsciiWhitespace(parts[0]));
    std::string kind = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[1]));
    if (kind == "police") {
      f.kind = v1::FACILITY_KIND_POLICE;
    } else if (kind == "judicial") {
      f.kind = v1::FACILITY_KIND_JUDICIAL;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("facilities line ", line_no, ": kind must be police or judicial"));
    }
    f.division = std::string(absl::StripAsciiWhitespace(parts[2]));
    f.name = std::string(absl::StripAsciiWhitespace(parts[3]));
    out.push_back(std::move(f));
  }
  return out;
}

// ---- Decisions as recorded -------------------------------------------------------------

bool InFacility(absl::string_view state) {
  return state == kInPoliceFacility || state == kInJudicialFacility;
}

std::string InFacilityState(const DecisionData& d) {
  return d.transferred_on.has_value() ? kInJudicialFacility : kInPoliceFacility;
}

const AbsenceData* OpenAbsence(const DecisionData& d) {
  for (const AbsenceData& a : d.absences) {
    if (!a.ended_on.has_value()) return &a;
  }
  return nullptr;
}

const AssessmentData* FindAssessment(const DecisionData& d, int64_t id) {
  for (const AssessmentData& a : d.assessments) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

const ProposalData* FindProposal(const DecisionData& d, int64_t id) {
  const ProposalData* found = nullptr;
  for (const ProposalData& p : d.proposals) {
    if (p.id == id) found = &p;
  }
  return found;
}

bool HasProposal(const DecisionData& d, int kind, std::initializer_list<int> statuses) {
  for (const ProposalData& p : d.proposals) {
    if (p.kind != kind) continue;
    for (int s : statuses) {
      if (p.status == s) return true;
    }
  }
  return false;
}

// ---- What a decision owes on a day ------------------------------------------------------

const char* ProposalBasis(int kind) {
  return kind == v1::PROPOSAL_KIND_CONVERSION_TO_COMMUNITY_DETOX ? "戒毒条例 Art 31"
                                                                 : "禁毒法 Art 47; 戒毒条例 Art 33";
}

Derived Derive(const DecisionData& d, const IsolationOptions& o, CivilDay as_of) {
  Derived x;
  bool escaped_ever = false;
  for (const AbsenceData& a : d.absences) {
    if (a.kind != v1::ABSENCE_KIND_ESCAPE) continue;
    escaped_ever = true;
    if (a.ended_on.has_value()) {
      x.excluded_days += EscapeExcludedDays(a.started_on, *a.ended_on);
    } else {
      // 戒毒条例 Art 32: while at large the clock stands still.
      x.paused = true;
      x.excluded_days += std::max(0, EscapeExcludedDays(a.started_on, as_of));
    }
  }
  x.last_day = IsolationTermLastDay(d.decided_on, d.extension_months, x.excluded_days);
  x.early_from = EarlyReleaseEligibleFrom(d.decided_on, x.excluded_days);
  if (escaped_ever) {
    x.barred = true;
    x.bar_reason = "a recaptured escapee cannot be released early (戒毒条例 Art 32)";
  } else if (d.sk_running_at_decision || d.ground == v1::GROUND_COMMUNITY_REHAB_BREACH) {
    // 戒毒条例 Art 38(2), from the facts: the SK order was running when isolation was
    // decided (whatever ground the police wrote), or the decision itself finds the
    // breach (its ground; the only fact kept for decisions recorded before the SK
    // fact was stored).
    x.barred = true;
    x.bar_reason =
        "isolation after refusing or seriously breaching community rehabilitation cannot be "
        "released early (戒毒条例 Art 38)";
  }
  x.scheduled_release = d.early_release_on.value_or(x.last_day);
  x.training_from = TrainingEligibleFrom(x.last_day);
  x.training_eligible = d.open && InFacility(d.state) && as_of >= x.training_from;
  if (d.admitted_on.has_value() && !d.transferred_on.has_value()) {
    x.transfer = PoliceStageTransferWindow(*d.admitted_on, o.police_stage_max_months);
  }
  if (!d.open) return x;

  // 禁毒法 Art 40: family, employer and household police station within 24 hours of
  // service: by the end of the next day.
  for (int r : {v1::NOTICE_RECIPIENT_FAMILY, v1::NOTICE_RECIPIENT_EMPLOYER,
                v1::NOTICE_RECIPIENT_HOUSEHOLD_POLICE_STATION}) {
    bool done = std::any_of(d.notices.begin(), d.notices.end(),
                            [r](const NoticeData& n) { return n.recipient == r; });
    if (done) continue;
    std::string kind = r == v1::NOTICE_RECIPIENT_FAMILY     ? "NOTICE_FAMILY"
                       : r == v1::NOTICE_RECIPIENT_EMPLOYER ? "NOTICE_EMPLOYER"
                                                            : "NOTICE_HOUSEHOLD_POLICE_STATION";
    x.due.push_back({kind, lt::DeadlineAfterDays(d.served_on, 1), "禁毒法 Art 40"});
  }
  for (const ProposalData& p : d.proposals) {
    if (p.status != v1::PROPOSAL_STATUS_PENDING) continue;
    x.due.push_back({"PROPOSAL_DECISION", lt::DeadlineAfterDays(p.proposed_on, kProposalDecisionDays),
                     ProposalBasis(p.kind), p.id});
  }
  if (d.admitted_on.has_value()) {
    // 戒毒条例 Art 27: out of the police facility by the end of its maximum stage.
    if (x.transfer.has_value()) x.due.push_back({"TRANSFER", x.transfer->by, "戒毒条例 Art 27"});
    auto assessed = [&](int kind, CivilDay since) {
      return std::any_of(d.assessments.begin(), d.assessments.end(), [&](const AssessmentData& a) {
        return a.kind == kind && a.assessed_on >= since;
      });
    };
    const char* kAssessmentBasis = "强制隔离戒毒诊断评估办法 (2013)";
    if (!assessed(v1::ASSESSMENT_KIND_INTAKE, *d.admitted_on)) {
      x.due.push_back({"ASSESSMENT_INTAKE",
                       lt::DeadlineAfterDays(*d.admitted_on, o.intake_assessment_days),
                       kAssessmentBasis});
    }
    if (!x.paused) {
      if (!assessed(v1::ASSESSMENT_KIND_ONE_YEAR, *d.admitted_on)) {
        x.due.push_back({"ASSESSMENT_ONE_YEAR", x.early_from, kAssessmentBasis});
      }
      // A pre-expiry assessment made after the last approved extension counts.
      CivilDay since = *d.admitted_on;
      for (const ProposalData& p : d.proposals) {
        if (p.kind == v1::PROPOSAL_KIND_EXTENSION && p.status == v1::PROPOSAL_STATUS_APPROVED &&
            p.decided_on.has_value()) {
          since = std::max(since, *p.decided_on);
        }
      }
      if (!assessed(v1::ASSESSMENT_KIND_PRE_EXPIRY, since)) {
        x.due.push_back({"ASSESSMENT_PRE_EXPIRY", x.last_day - o.pre_expiry_assessment_days,
                         kAssessmentBasis});
      }
      bool early_pending_or_approved =
          std::any_of(d.proposals.begin(), d.proposals.end(), [](const ProposalData& p) {
            return p.kind == v1::PROPOSAL_KIND_EARLY_RELEASE &&
                   (p.status == v1::PROPOSAL_STATUS_PENDING ||
                    p.status == v1::PROPOSAL_STATUS_APPROVED);
          });
      if (!x.barred && !early_pending_or_approved && x.early_from <= x.last_day) {
        x.due.push_back({"EARLY_RELEASE_ELIGIBLE", x.early_from, "禁毒法 Art 47", 0, false});
      }
      // 戒毒条例 Art 34: the deciding body is notified 3 days before release.
      if (!d.release_notice_on.has_value()) {
        x.due.push_back({"RELEASE_NOTICE", x.scheduled_release - kReleaseNoticeDaysBefore,
                         "戒毒条例 Art 34"});
      }
      x.due.push_back({"TERM_EXPIRY", x.scheduled_release, "戒毒条例 Art 27"});
    }
  }
  for (const DueData& item : x.due) {
    if (!item.deadline) continue;
    if (!x.next.has_value() || item.due < x.next->due) x.next = item;
  }
  return x;
}

int ConversionCreditDays(CivilDay decided_on, CivilDay converted_on, int excluded_days) {
  return std::max(0, static_cast<int>(lt::DaysBetween(decided_on, converted_on)) - excluded_days);
}

}  // namespace isolation
}  // namespace pathway
