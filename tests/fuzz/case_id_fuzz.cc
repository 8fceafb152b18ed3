// libFuzzer target: the case id parser (DESIGN.md §2) never crashes, and whatever it
// accepts prints back to a text it accepts again as the same id.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/ids/case_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<pathway::CaseId> id = pathway::CaseId::Parse(text);
  if (!id.ok()) return 0;
  absl::StatusOr<pathway::CaseId> again = pathway::CaseId::Parse(id->ToString());
  if (!again.ok() || again->ToString() != id->ToString()) std::abort();
  return 0;
}
