// Small helpers shared by the service, scenario and end-to-end tests.
#ifndef PATHWAY_TESTS_TESTING_FIXTURES_H_
#define PATHWAY_TESTS_TESTING_FIXTURES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/auth/role.h"
#include "pathway/common/v1/common.pb.h"

namespace pathway {
namespace test {

// Noon in China (UTC+8) on the given day: a time whose legal day is never in doubt.
absl::Time ChinaNoon(int y, int m, int d);

// A caller as a verified token would make it: `subject` in `role` over `jurisdiction`.
Caller MakeCaller(Role role, const std::string& jurisdiction, const std::string& subject = "u1");

// The wire date y-m-d.
common::v1::Date D(int y, int m, int d);

// A bearer token signed with `key` for `subject` in `role` and `jurisdiction`,
// valid from 2025-01-01 to 2035-01-01 unless told otherwise. Dies on a bad key or
// bad claims: a test's own fixture is wrong then.
std::string SignedToken(absl::string_view key, Role role, const std::string& jurisdiction,
                        const std::string& subject,
                        absl::Time issued_at = absl::FromCivil(absl::CivilDay(2025, 1, 1),
                                                               absl::UTCTimeZone()),
                        absl::Time expires_at = absl::FromCivil(absl::CivilDay(2035, 1, 1),
                                                                absl::UTCTimeZone()),
                        const std::string& organization = "");

}  // namespace test
}  // namespace pathway

#endif  // PATHWAY_TESTS_TESTING_FIXTURES_H_
