#include "common/ids/division_code.h"

#include <string>

#include "absl/status/status.h"
#include "common/status/status_macros.h"

namespace pathway {

absl::Status ValidateDivisionCode(absl::string_view code) {
  if (code.size() != 6) {
    return absl::InvalidArgumentError(
        "division code: must be exactly 6 digits");
  }
  for (char c : code) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError("division code: must be digits only");
    }
  }
  if (code == "000000") {
    return absl::InvalidArgumentError("division code: must not be all zeros");
  }
  return absl::OkStatus();
}

absl::StatusOr<DivisionCode> DivisionCode::Parse(absl::string_view code) {
  RETURN_IF_ERROR(ValidateDivisionCode(code));
  return DivisionCode(std::string(code));
}

bool DivisionCode::IsWithin(absl::string_view prefix) const {
  if (prefix.size() != 2 && prefix.size() != 4 && prefix.size() != 6) {
    return false;
  }
  return absl::string_view(code_).substr(0, prefix.size()) == prefix;
}

}  // namespace pathway
