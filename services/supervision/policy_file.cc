#include "services/supervision/policy_file.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/codec/date_text.h"
#include "common/legal_time/legal_time.h"
#include "common/status/status_macros.h"

namespace pathway::supervision {
namespace {

absl::Status LineError(int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("policy line ", line, ": ", what));
}

absl::StatusOr<bool> ParseBool(absl::string_view v, int line) {
  if (v == "true") return true;
  if (v == "false") return false;
  return LineError(line, "expected true or false");
}

absl::StatusOr<int> ParseDays(absl::string_view v, int line) {
  int n = 0;
  if (!absl::SimpleAtoi(v, &n) || n < 0 || n > 366) {
    return LineError(line, "expected a number of days from 0 to 366");
  }
  return n;
}

absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view v, int line) {
  std::optional<absl::CivilDay> day = ParseDayText(v);
  if (!day.has_value()) return LineError(line, "expected a date as YYYY-MM-DD");
  return *day;
}

absl::StatusOr<std::vector<TestPhase>> ParsePhases(absl::string_view v, int line) {
  std::vector<TestPhase> phases;
  for (absl::string_view part : absl::StrSplit(v, ',')) {
    std::vector<absl::string_view> mt = absl::StrSplit(absl::StripAsciiWhitespace(part), ':');
    TestPhase p;
    if (mt.size() != 2 || !absl::SimpleAtoi(mt[0], &p.months) ||
        !absl::SimpleAtoi(mt[1], &p.min_tests)) {
      return LineError(line, "test_phases: expected months:tests, separated by commas");
    }
    phases.push_back(p);
  }
  return phases;
}

}  // namespace

absl::StatusOr<ProgramPolicy> ApplyPolicyText(absl::string_view text, ProgramPolicy base) {
  std::vector<absl::CivilDay> holidays;
  std::vector<absl::CivilDay> working_weekend_days;
  std::set<std::string> seen;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::string_view line = raw.substr(0, raw.find('#'));
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) return LineError(line_no, "expected key = value");
    std::string key(absl::StripAsciiWhitespace(line.substr(0, eq)));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    const bool repeatable = key == "holiday" || key == "working_weekend_day";
    if (!repeatable && !seen.insert(key).second) {
      return LineError(line_no, absl::StrCat("'", key, "' is set twice"));
    }
    if (key == "suspension_pauses_clock") {
      ASSIGN_OR_RETURN(base.suspension_pauses_clock, ParseBool(value, line_no));
    } else if (key == "test_phases") {
      ASSIGN_OR_RETURN(base.test_phases, ParsePhases(value, line_no));
    } else if (key == "agreement_within_days") {
      ASSIGN_OR_RETURN(base.agreement_within_days, ParseDays(value, line_no));
    } else if (key == "police_report_days") {
      ASSIGN_OR_RETURN(base.police_report_days, ParseDays(value, line_no));
    } else if (key == "missed_review_days") {
      ASSIGN_OR_RETURN(base.missed_review_days, ParseDays(value, line_no));
    } else if (key == "holiday") {
      ASSIGN_OR_RETURN(absl::CivilDay day, ParseDay(value, line_no));
      holidays.push_back(day);
    } else if (key == "working_weekend_day") {
      ASSIGN_OR_RETURN(absl::CivilDay day, ParseDay(value, line_no));
      if (absl::GetWeekday(day) != absl::Weekday::saturday &&
          absl::GetWeekday(day) != absl::Weekday::sunday) {
        return LineError(line_no, "working_weekend_day is not a Saturday or Sunday");
      }
      working_weekend_days.push_back(day);
    } else {
      return LineError(line_no, absl::StrCat("unknown key '", key, "'"));
    }
  }
  if (!holidays.empty() || !working_weekend_days.empty()) {
    base.calendar = std::make_shared<legal_time::ConfiguredHolidayCalendar>(
        std::move(holidays), std::move(working_weekend_days));
  }
  RETURN_IF_ERROR(ValidatePolicy(base));
  return base;
}

absl::StatusOr<ProgramPolicy> LoadPolicyFile(const std::string& path, ProgramPolicy base) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("policy file ", path, " cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<ProgramPolicy> policy = ApplyPolicyText(text.str(), std::move(base));
  if (!policy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", policy.status().message()));
  }
  return policy;
}

absl::StatusOr<ProgramPolicy> PolicyFromSetting(const std::string& flag_value,
                                                ProgramPolicy base) {
  std::string path = flag_value;
  if (path.empty()) {
    const char* env = std::getenv("PATHWAY_POLICY_FILE");
    if (env != nullptr) path = env;
  }
  if (path.empty()) return base;
  return LoadPolicyFile(path, std::move(base));
}

}  // namespace pathway::supervision
