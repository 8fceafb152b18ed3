// Tests only: a plain HTTP/1.0 GET over a socket, so metrics tests need no HTTP
// client library or curl.
//
//   absl::StatusOr<std::string> body = HttpGet("127.0.0.1", port, "/metrics");
#ifndef PATHWAY_COMMON_METRICS_TESTING_HTTP_H_
#define PATHWAY_COMMON_METRICS_TESTING_HTTP_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pathway {
namespace test {

// The body of a 200 answer to GET `path` from host:port (an IPv4 address);
// UNAVAILABLE if nothing answers, INTERNAL for any other status line.
absl::StatusOr<std::string> HttpGet(absl::string_view host, int port, absl::string_view path);

}  // namespace test
}  // namespace pathway

#endif  // PATHWAY_COMMON_METRICS_TESTING_HTTP_H_
