#include "tools/reconcile/case_key_set.h"

namespace pathway {
namespace reconcile {
namespace {

// Reads `n` decimal digits at s[pos]; false on a non-digit.
bool Digits(absl::string_view s, size_t pos, int n, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<uint64_t> PackCaseId(absl::string_view s) {
  // 6 digits, '-', 4 digits, '-', 7 digits, '-', [0-9X]: 21 characters.
  if (s.size() != 21 || s[6] != '-' || s[11] != '-' || s[19] != '-') return std::nullopt;
  uint64_t division = 0, year = 0, seq = 0;
  if (!Digits(s, 0, 6, &division) || !Digits(s, 7, 4, &year) || !Digits(s, 12, 7, &seq)) {
    return std::nullopt;
  }
  uint64_t check = 0;
  if (s[20] == 'X') {
    check = 10;
  } else if (s[20] >= '0' && s[20] <= '9') {
    check = static_cast<uint64_t>(s[20] - '0');
  } else {
    return std::nullopt;
  }
  // division < 2^20, year < 2^14, seq < 2^24, check < 2^4: 62 bits.
  return (division << 42) | (year << 28) | (seq << 4) | check;
}

void CaseKeySet::Insert(absl::string_view case_id) {
  if (std::optional<uint64_t> packed = PackCaseId(case_id)) {
    packed_.insert(*packed);
  } else {
    other_.emplace(case_id);
  }
}

bool CaseKeySet::Contains(absl::string_view case_id) const {
  if (std::optional<uint64_t> packed = PackCaseId(case_id)) return packed_.contains(*packed);
  return other_.contains(case_id);
}

void CaseKeySet::Clear() {
  packed_.clear();
  other_.clear();
}

}  // namespace reconcile
}  // namespace pathway
