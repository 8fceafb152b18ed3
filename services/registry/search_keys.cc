#include "services/registry/search_keys.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace pathway {
namespace registry {
namespace {

// Domains of the blind indexes. Each holds a NUL byte, which no normalised ID number
// (the unprefixed input of the ID number's index) can contain, so no name or phone
// index can equal an ID number's, nor a name's a phone's.
constexpr absl::string_view kNameDomain("pathway.registry.name\0", 22);
constexpr absl::string_view kPhoneDomain("pathway.registry.phone\0", 23);

// The next code point of `s` from `*pos`, advancing `*pos`; for a byte that does not
// start a well-formed UTF-8 sequence, that byte alone with `*valid` false.
uint32_t NextCodePoint(absl::string_view s, size_t* pos, bool* valid) {
  const auto b0 = static_cast<unsigned char>(s[*pos]);
  *valid = true;
  int len = 0;
  uint32_t cp = 0;
  if (b0 < 0x80) {
    ++*pos;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  }
  if (len == 0 || *pos + len > s.size()) {
    *valid = false;
    ++*pos;
    return b0;
  }
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[*pos + i]);
    if ((b & 0xC0) != 0x80) {
      *valid = false;
      ++*pos;
      return b0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *pos += len;
  return cp;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsSpace(uint32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

bool IsMiddleDot(uint32_t cp) {
  return cp == 0x00B7 || cp == 0x2022 || cp == 0x2027 || cp == 0x30FB || cp == 0xFF65;
}

// Full-width ASCII forms (U+FF01..U+FF5E) as ASCII; anything else unchanged.
uint32_t HalfWidth(uint32_t cp) { return cp >= 0xFF01 && cp <= 0xFF5E ? cp - 0xFEE0 : cp; }

}  // namespace

std::string NormalizeNameForIndex(absl::string_view name) {
  std::string out;
  out.reserve(name.size());
  size_t pos = 0;
  while (pos < name.size()) {
    const size_t start = pos;
    bool valid = true;
    const uint32_t cp = HalfWidth(NextCodePoint(name, &pos, &valid));
    if (!valid) {
      out.append(name.data() + start, pos - start);
    } else if (IsSpace(cp)) {
      continue;
    } else if (IsMiddleDot(cp)) {
      AppendUtf8(0x00B7, &out);
    } else {
      AppendUtf8(cp, &out);
    }
  }
  return out;
}

std::string NormalizePhoneForIndex(absl::string_view phone) {
  std::string digits;
  bool plus = false;  // the number is written "+<country code> ..."
  size_t pos = 0;
  while (pos < phone.size()) {
    bool valid = true;
    const uint32_t cp = HalfWidth(NextCodePoint(phone, &pos, &valid));
    if (!valid) continue;
    if (cp == '+' && digits.empty()) plus = true;
    if (cp >= '0' && cp <= '9') digits.push_back(static_cast<char>(cp));
  }
  absl::string_view d(digits);
  if (d.substr(0, 4) == "0086") {
    d.remove_prefix(4);
  } else if (d.substr(0, 2) == "86" && (plus || d.size() >= 12)) {
    d.remove_prefix(2);
  }
  return std::string(d);
}

std::string NameIndex(const PiiCipher& cipher, absl::string_view name) {
  return cipher.BlindIndex(absl::StrCat(kNameDomain, NormalizeNameForIndex(name)));
}

std::optional<std::string> PhoneIndex(const PiiCipher& cipher, absl::string_view phone) {
  const std::string normalized = NormalizePhoneForIndex(phone);
  if (normalized.empty()) return std::nullopt;
  return cipher.BlindIndex(absl::StrCat(kPhoneDomain, normalized));
}

}  // namespace registry
}  // namespace pathway
