// CaseKeySet: the set of case ids one programme service owns, kept compactly in
// memory while the reconciler streams the services, so the cache can then be scanned
// for entries nobody owns. A case id of the canonical form
// "DDDDDD-YYYY-SSSSSSS-C" (DESIGN.md §2) is packed into 64 bits (about 16 bytes
// an entry in the hash set: a million cases take ~16 MB); anything else is kept as a
// string.
//
//   CaseKeySet owned;
//   owned.Insert("520102-2026-0000042-2");
//   owned.Contains("520102-2026-0000042-2");  // true
//
// Not thread-safe; one owner.
#ifndef PATHWAY_TOOLS_RECONCILE_CASE_KEY_SET_H_
#define PATHWAY_TOOLS_RECONCILE_CASE_KEY_SET_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace pathway {
namespace reconcile {

// The 64-bit packing of a canonical case id, or nullopt for any other string.
// Injective over canonical ids (digits and the check character are kept whole).
std::optional<uint64_t> PackCaseId(absl::string_view case_id);

class CaseKeySet {
 public:
  void Insert(absl::string_view case_id);
  bool Contains(absl::string_view case_id) const;
  size_t size() const { return packed_.size() + other_.size(); }
  void Clear();

 private:
  absl::flat_hash_set<uint64_t> packed_;
  absl::flat_hash_set<std::string> other_;
};

}  // namespace reconcile
}  // namespace pathway

#endif  // PATHWAY_TOOLS_RECONCILE_CASE_KEY_SET_H_
