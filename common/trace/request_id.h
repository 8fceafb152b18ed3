// The request id: one short token that names one RPC in the audit trail, in the
// answer's metadata and in whatever the client logs, so an entry can be matched
// to the call that made it (DESIGN.md §6: who, what, which case, when,
// outcome).
//
// A client may choose it: metadata "x-request-id" with at most 64 characters of
// [A-Za-z0-9._-]. Anything else (too long, another character, empty, sent
// twice) is replaced by a fresh id and never echoed, so a header cannot smuggle
// text into the audit trail or the logs. Without a usable one the server makes
// a random id: 128 random bits as 32 lowercase hex digits (an id, not a secret:
// absl::BitGen, seeded from the operating system).
//
//   CallTrace trace = AcceptCallTrace(client_value);  // nullopt when not sent
//   // trace.request_id is well formed: store it, send it back
//
// CallTrace is what a call carries for tracing; today only the request id,
// later also a W3C traceparent. Plain values and functions; thread-safe.
#ifndef PATHWAY_COMMON_TRACE_REQUEST_ID_H_
#define PATHWAY_COMMON_TRACE_REQUEST_ID_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace pathway {

// The metadata key, in requests and in the response's initial metadata.
inline constexpr char kRequestIdHeader[] = "x-request-id";
inline constexpr size_t kMaxRequestIdLength = 64;

// True for 1 to kMaxRequestIdLength characters of [A-Za-z0-9._-].
bool IsWellFormedRequestId(absl::string_view id);

// 128 random bits as 32 lowercase hex digits.
std::string NewRequestId();

// What one call carries for tracing.
struct CallTrace {
  std::string request_id; // always well formed
};

// The trace of a call whose client sent `client_request_id` (nullopt: no
// header): the client's id when well formed, otherwise one from `make_id`.
CallTrace
AcceptCallTrace(std::optional<absl::string_view> client_request_id,
                const std::function<std::string()> &make_id = NewRequestId);

} // namespace pathway

#endif // PATHWAY_COMMON_TRACE_REQUEST_ID_H_
