// The per-deployment policy of community detox and community rehabilitation, read
// from a plain text file at start (DESIGN.md §3: what the law leaves to the region is
// configuration, never code). The shipped defaults are deploy/config/supervision.policy.
//
//   # comment
//   suspension_pauses_clock = true        # 戒毒条例 Art 24 is silent; regional policy
//   test_phases = 12:12, 12:6, 12:4       # months:tests per phase, in order
//   agreement_within_days = 7
//   police_report_days = 1
//   missed_review_days = 7
//   holiday = 2027-01-01                  # 民法典 Art 203: deadlines move off these
//   working_weekend_day = 2027-02-14      # 调休: a weekend day that is worked
//
// Every key is optional (an absent key keeps the programme's default); an unknown key,
// a repeated single-valued key or a malformed value is refused with INVALID_ARGUMENT
// naming the line, and the result must pass ValidatePolicy, so a bad file stops the
// server at start instead of misleading a caseworker later.
//
// Plain functions; thread-safe.
#ifndef PATHWAY_SERVICES_SUPERVISION_POLICY_FILE_H_
#define PATHWAY_SERVICES_SUPERVISION_POLICY_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/supervision/supervision_rules.h"

namespace pathway::supervision {

// `base` with the settings of `text` applied (the holiday calendar replaced when the
// text names any holiday or working weekend day).
absl::StatusOr<ProgramPolicy> ApplyPolicyText(absl::string_view text, ProgramPolicy base);

// ApplyPolicyText over the file at `path`; NOT_FOUND / INVALID_ARGUMENT naming the path.
absl::StatusOr<ProgramPolicy> LoadPolicyFile(const std::string& path, ProgramPolicy base);

// The servers' setting: `flag_value` (--policy_file) or else the environment variable
// PATHWAY_POLICY_FILE names the file; neither leaves `base` as it is.
absl::StatusOr<ProgramPolicy> PolicyFromSetting(const std::string& flag_value,
                                                ProgramPolicy base);

}  // namespace pathway::supervision

#endif  // PATHWAY_SERVICES_SUPERVISION_POLICY_FILE_H_
