// The unified social credit code (统一社会信用代码, GB 32100-2015) that keys employers
// and placement bases, validated with its check character.
//
//   18 characters from the 31-character code table "0123456789ABCDEFGHJKLMNPQRTUWXY"
//   (digits and upper-case letters without I, O, Z, S, V):
//     1     registration authority (e.g. 9 = market regulation)
//     2     entity type (e.g. 1 = enterprise)
//     3-8   administrative division code (GB/T 2260)
//     9-17  organization code body (GB 11714)
//     18    check character: weights 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28 over
//           the first 17 characters' table values; check = 31 - (sum mod 31), 31 -> 0,
//           written with the same table.
//
//   absl::Status s = ValidateCreditCode(request.credit_code());   // INVALID_ARGUMENT
//   std::string code = GenerateSyntheticCreditCode("520102", 42);   // tests only
//
// Only the shape and the check character are validated: the organization code's own
// GB 11714 check and the division code's existence are not (retired divisions stay on
// codes forever). Messages never echo the code. Stateless functions; thread-safe.
#ifndef PATHWAY_SERVICES_PLACEMENT_CREDIT_CODE_H_
#define PATHWAY_SERVICES_PLACEMENT_CREDIT_CODE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pathway {
namespace placement {

inline constexpr int kCreditCodeLength = 18;

// The check character for the first 17 characters of a code. INVALID_ARGUMENT if
// `first17` is not 17 characters of the code table.
absl::StatusOr<char> CreditCodeCheckChar(absl::string_view first17);

// OK for a well-formed code with the right check character; INVALID_ARGUMENT naming
// the problem (length, character set, division digits, check character) otherwise.
// `field` names the request field in the message.
absl::Status ValidateCreditCode(absl::string_view code,
                                absl::string_view field = "credit_code");

// A valid code for synthetic test data: "91" + `division` (6 digits) + "MA" + the
// 7-digit `sequence` (0..9,999,999) + its check character. Never a real entity's code
// by intent; for tests and benchmarks only.
std::string GenerateSyntheticCreditCode(absl::string_view division, int64_t sequence);

}  // namespace placement
}  // namespace pathway

#endif  // PATHWAY_SERVICES_PLACEMENT_CREDIT_CODE_H_
