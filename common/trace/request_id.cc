#include "common/trace/request_id.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace pathway {

bool IsWellFormedRequestId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength)
    return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string NewRequestId() {
  // Seeded from the operating system's entropy, one generator per thread.
  thread_local absl::BitGen bitgen;
  const uint64_t high = absl::Uniform<uint64_t>(bitgen);
  const uint64_t low = absl::Uniform<uint64_t>(bitgen);
  return absl::StrFormat("%016x%016x", high, low);
}

CallTrace AcceptCallTrace(std::optional<absl::string_view> client_request_id,
                          const std::function<std::string()> &make_id) {
  CallTrace trace;
  if (client_request_id.has_value() &&
      IsWellFormedRequestId(*client_request_id)) {
    trace.request_id = std::string(*client_request_id);
  } else {
    trace.request_id = make_id();
  }
  return trace;
}

} // namespace pathway
