#include "services/placement/labor_reconcile.h"

#include <algorithm>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/codec/proto_date.h"
#include "common/program_status/program_status.h"
#include "services/placement/placement_rules.h"

namespace pathway {
namespace placement {
namespace {

bool Before(const BureauRecord& a, const BureauRecord& b) {
  return std::tie(a.registered_on, a.record_id) < std::tie(b.registered_on, b.record_id);
}

class Reconciler {
 public:
  Reconciler(const v1::PlacementRecord& p, const std::vector<BureauRecord>& registrations,
             absl::CivilDay as_of)
      : p_(p), employer_(p.employer_credit_code()), as_of_(as_of) {
    for (const BureauRecord& r : registrations) {
      if (r.registered_on <= as_of) regs_.push_back(r);
    }
    std::sort(regs_.begin(), regs_.end(), Before);
    start_ = DayOf(p.contract_start());
    ended_ = p.state() == v1::PLACEMENT_STATE_ENDED && IsDateSet(p.ended_on()) &&
             DayOf(p.ended_on()) <= as_of;
    suspended_ = p.state() == v1::PLACEMENT_STATE_SUSPENDED;
  }

  std::vector<v1::RetentionDiscrepancy> Run() {
    for (const v1::RetentionCheckpoint& cp : p_.checkpoints()) Checkpoint(cp);
    EmployedElsewhere();
    return std::move(rows_);
  }

 private:
  bool WithEmployer(const BureauRecord& r) const {
    return r.kind == v1::REGISTRATION_KIND_EMPLOYMENT && !employer_.empty() &&
           r.employer == employer_;
  }

  // What the bureau showed on `day`: its latest registration on or before it.
  const BureauRecord* LatestOnOrBefore(absl::CivilDay day) const {
    const BureauRecord* latest = nullptr;
    for (const BureauRecord& r : regs_) {
      if (r.registered_on > day) break;
      latest = &r;
    }
    return latest;
  }

  std::string Describe(const BureauRecord& r) const {
    std::string day = DayText(r.registered_on);
    if (r.kind == v1::REGISTRATION_KIND_UNEMPLOYMENT) {
      return absl::StrCat("unemployment registered ", day);
    }
    if (WithEmployer(r)) return absl::StrCat("employment with the employer registered ", day);
    return absl::StrCat("employment with ", r.employer.empty() ? "an employer" : r.employer,
                        " registered ", day);
  }

  v1::RetentionDiscrepancy* Add(v1::DiscrepancyKind kind, const v1::RetentionCheckpoint* cp,
                                v1::RetentionOutcome says,
                                std::optional<absl::CivilDay> checked,
                                const BureauRecord* bureau, std::string explanation) {
    v1::RetentionDiscrepancy& d = rows_.emplace_back();
    d.set_kind(kind);
    d.set_case_id(p_.case_id());
    d.set_placement_id(p_.placement_id());
    d.set_division(p_.division());
    d.set_employer_credit_code(employer_);
    *d.mutable_contract_start() = p_.contract_start();
    if (cp != nullptr) {
      d.set_months(cp->months());
      *d.mutable_due_on() = cp->due_on();
    }
    d.set_placement_says(says);
    if (checked.has_value()) ToProtoDate(*checked, d.mutable_checked_on());
    if (bureau != nullptr) {
      v1::BureauRegistration* b = d.mutable_bureau_says();
      b->set_record_id(bureau->record_id);
      b->set_kind(bureau->kind);
      b->set_employer_credit_code(bureau->employer);
      b->set_division(bureau->division);
      ToProtoDate(bureau->registered_on, b->mutable_registered_on());
    }
    d.set_explanation(std::move(explanation));
    return &d;
  }

  void Checkpoint(const v1::RetentionCheckpoint& cp) {
    if (!IsDateSet(cp.due_on())) return;
    const absl::CivilDay due = DayOf(cp.due_on());
    if (due > as_of_) return;  // not yet due on as_of
    v1::RetentionOutcome outcome = cp.outcome();
    std::optional<absl::CivilDay> checked;
    if (IsDateSet(cp.checked_on())) checked = DayOf(cp.checked_on());
    // Recorded after as_of: as of that day it was not recorded yet.
    if (checked.has_value() && *checked > as_of_) {
      outcome = v1::RETENTION_OUTCOME_UNSPECIFIED;
      checked.reset();
    }
    if (outcome == v1::RETENTION_OUTCOME_LAPSED) {
      if (ended_) return;  // the placement had ended: nothing to check
      outcome = v1::RETENTION_OUTCOME_UNSPECIFIED;  // it lapsed only after as_of
    }
    const std::string label = absl::StrCat(cp.months(), "-month checkpoint");
    switch (outcome) {
      case v1::RETENTION_OUTCOME_STILL_EMPLOYED: {
        const absl::CivilDay c = std::min(checked.value_or(due), as_of_);
        // An unemployment registration after the start, not followed by employment with
        // the employer (for self-employment: any employment) up to the check.
        const BureauRecord* unemployed = nullptr;
        for (const BureauRecord& u : regs_) {
          if (u.kind != v1::REGISTRATION_KIND_UNEMPLOYMENT || u.registered_on <= start_ ||
              u.registered_on > c) {
            continue;
          }
          bool employed_again = false;
          for (const BureauRecord& e : regs_) {
            if (e.registered_on < u.registered_on || e.registered_on > c) continue;
            if (WithEmployer(e) ||
                (employer_.empty() && e.kind == v1::REGISTRATION_KIND_EMPLOYMENT)) {
              employed_again = true;
            }
          }
          if (!employed_again) unemployed = &u;
        }
        if (unemployed != nullptr) {
          Add(v1::DISCREPANCY_KIND_RETAINED_BUT_UNEMPLOYED, &cp, outcome, checked, unemployed,
              absl::StrCat("still employed at the ", label, ", but the bureau shows ",
                           Describe(*unemployed)));
          return;
        }
        if (employer_.empty() || as_of_ < start_ + kRegistrationGraceDays) return;
        const absl::CivilDay from = start_ - kRegistrationGraceDays;
        bool registered = false;
        for (const BureauRecord& e : regs_) {
          if (WithEmployer(e) && e.registered_on >= from) registered = true;
        }
        if (!registered) {
          Add(v1::DISCREPANCY_KIND_RETAINED_WITHOUT_EMPLOYMENT_REGISTRATION, &cp, outcome,
              checked, nullptr,
              absl::StrCat("still employed at the ", label,
                           ", but the bureau has no employment with the employer registered "
                           "since ",
                           DayText(from)));
        }
        return;
      }
      case v1::RETENTION_OUTCOME_LEFT: {
        const absl::CivilDay c = checked.value_or(due);
        const BureauRecord* latest =
            LatestOnOrBefore(std::min(c + kRegistrationGraceDays, as_of_));
        if (latest != nullptr && WithEmployer(*latest)) {
          Add(v1::DISCREPANCY_KIND_LEFT_BUT_EMPLOYMENT_REGISTERED, &cp, outcome, checked, latest,
              absl::StrCat("left by the ", label, ", but the bureau's latest registration is ",
                           Describe(*latest)));
        }
        return;
      }
      case v1::RETENTION_OUTCOME_UNSPECIFIED:
        // A suspended placement's checkpoints do not come due; an ended one's after its
        // end never will.
        if (suspended_) return;
        if (ended_ && due > DayOf(p_.ended_on())) return;
        [[fallthrough]];
      case v1::RETENTION_OUTCOME_UNKNOWN: {
        const BureauRecord* latest = LatestOnOrBefore(due);
        if (latest == nullptr || !(WithEmployer(*latest) || latest->registered_on >= start_)) {
          return;
        }
        Add(v1::DISCREPANCY_KIND_UNKNOWN_WITH_BUREAU_EVIDENCE, &cp, outcome, checked, latest,
            absl::StrCat(outcome == v1::RETENTION_OUTCOME_UNKNOWN ? "unknown" : "not recorded",
                         " at the ", label, "; the bureau shows ", Describe(*latest)));
        return;
      }
      default:
        return;
    }
  }

  void EmployedElsewhere() {
    if (employer_.empty()) return;
    const absl::CivilDay end = ended_ ? DayOf(p_.ended_on()) : as_of_;
    for (const BureauRecord& r : regs_) {
      if (r.kind != v1::REGISTRATION_KIND_EMPLOYMENT || r.employer.empty() ||
          r.employer == employer_ || r.registered_on < start_ || r.registered_on > end) {
        continue;
      }
      Add(v1::DISCREPANCY_KIND_EMPLOYED_ELSEWHERE, nullptr, v1::RETENTION_OUTCOME_UNSPECIFIED,
          std::nullopt, &r,
          absl::StrCat("placed with ", employer_, ", but the bureau shows ", Describe(r),
                       " during the placement"));
    }
  }

  const v1::PlacementRecord& p_;
  const std::string employer_;
  const absl::CivilDay as_of_;
  std::vector<BureauRecord> regs_;  // dated on or before as_of, oldest first
  absl::CivilDay start_;
  bool ended_ = false;
  bool suspended_ = false;
  std::vector<v1::RetentionDiscrepancy> rows_;
};

}  // namespace

std::vector<v1::RetentionDiscrepancy> ReconcilePlacement(
    const v1::PlacementRecord& placement, const std::vector<BureauRecord>& registrations,
    absl::CivilDay as_of) {
  if (!IsDateSet(placement.contract_start())) return {};
  if (DayOf(placement.contract_start()) > as_of) return {};
  std::vector<v1::RetentionDiscrepancy> rows = Reconciler(placement, registrations, as_of).Run();
  // Checkpoints in months order, placement-level rows (months 0) last; stable within.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const v1::RetentionDiscrepancy& a, const v1::RetentionDiscrepancy& b) {
                     auto key = [](const v1::RetentionDiscrepancy& d) {
                       return d.months() == 0 ? 1000 : d.months();
                     };
                     return key(a) < key(b);
                   });
  return rows;
}

}  // namespace placement
}  // namespace pathway
