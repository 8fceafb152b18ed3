// Keys for finding a person by name or phone without storing either in the clear:
// the text is normalised so that the spellings one person is met with compare equal,
// then turned into a keyed blind index (HMAC through PiiCipher::BlindIndex) with a
// per-field domain, so the same string as a name, a phone or an ID number gives three
// unrelated index values.
//
//   NormalizeNameForIndex("测试 ・ 合成")  == "测试·合成"
//   NormalizePhoneForIndex("+86 138-0000-0000") == "13800000000"
//   std::string key = NameIndex(cipher, request.name());  // 32 bytes, for the store
//
// The normalisation functions are plain (no key, no store); the index functions need
// the cipher (not owned). Thread-safe.
#ifndef PATHWAY_SERVICES_REGISTRY_SEARCH_KEYS_H_
#define PATHWAY_SERVICES_REGISTRY_SEARCH_KEYS_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/crypto/pii_cipher.h"

namespace pathway {
namespace registry {

// A name as it is indexed: full-width ASCII letters, digits and signs (U+FF01..U+FF5E)
// as their half-width forms; every whitespace character removed (ASCII, U+00A0,
// U+1680, U+2000..U+200B, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF); the middle
// dots written between the parts of minority names (U+00B7, U+2022, U+2027, U+30FB,
// U+FF65) as U+00B7. Bytes that are not UTF-8 are kept as they are.
std::string NormalizeNameForIndex(absl::string_view name);

// A phone number as it is indexed: its digits only (full-width digits as ASCII),
// without a leading country prefix: "0086", "+86", or a bare "86" when at least 10
// digits follow (a domestic number starts with 0 or 1, or is a short local number, so
// it never loses digits this way). Empty if there are no digits.
std::string NormalizePhoneForIndex(absl::string_view phone);

// The blind indexes (32 bytes) of the normalised name and phone. PhoneIndex is
// nullopt for a phone without digits, which is never indexed.
std::string NameIndex(const PiiCipher& cipher, absl::string_view name);
std::optional<std::string> PhoneIndex(const PiiCipher& cipher, absl::string_view phone);

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_SEARCH_KEYS_H_
