// Tests only: a plain HTTP/1.0 GET over a loopback socket, and a free port to ask a
// server to listen on, so metrics tests need no HTTP client library or curl.
//
//   int port = FreeLoopbackPort();
//   ... start the server with --metrics_port=port ...
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

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
// Another process could take it before the caller does; good enough for tests.
int FreeLoopbackPort();

}  // namespace test
}  // namespace pathway

#endif  // PATHWAY_COMMON_METRICS_TESTING_HTTP_H_
