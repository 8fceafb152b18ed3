// libFuzzer target: the resident ID number parser never crashes, never puts any part
// of the input in its error message, and masks what it accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/time/civil_time.h"
#include "common/ids/resident_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<pathway::ResidentId> id =
      pathway::ResidentId::Parse(text, absl::CivilDay(2026, 12, 7));
  if (!id.ok()) {
    // Privacy: an error never echoes the number (six digits or more of it).
    const std::string message(id.status().message());
    if (text.size() >= 6 && message.find(text.substr(0, 6)) != std::string::npos &&
        text.find_first_not_of("0123456789") > 5) {
      std::abort();
    }
    return 0;
  }
  const std::string masked = id->Masked();
  if (masked.size() != 18 || masked.substr(6, 11) != std::string(11, '*')) std::abort();
  return 0;
}
