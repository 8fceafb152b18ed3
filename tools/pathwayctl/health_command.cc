#include "tools/pathwayctl/health_command.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tools/pathwayctl/command_common.h"

namespace pathway {
namespace pathwayctl {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr absl::string_view kUsage =
    "usage: pathwayctl health --addr HOST:PORT [--service NAME] [--wait DURATION]\n"
    "                         [--timeout DURATION]\n"
    "\n"
    "  --addr      the server, e.g. 127.0.0.1:50051\n"
    "  --service   health name: \"\" (default, the whole server), a service's full name,\n"
    "              or pathway.status_cache (is Redis reachable)\n"
    "  --wait      keep watching until SERVING or this long has passed, e.g. 30s\n"
    "  --timeout   deadline of a single check without --wait (default 5s)\n";

std::chrono::system_clock::time_point ToChrono(absl::Time t) {
  return std::chrono::system_clock::from_time_t(0) +
         std::chrono::microseconds(absl::ToUnixMicros(t));
}

// Follows the Watch stream until SERVING or the deadline. wait_for_ready makes each
// attempt wait for the server to come up instead of failing fast, so no sleeps.
HealthCheckResponse::ServingStatus WatchUntilServing(Health::Stub& stub, const std::string& name,
                                                     absl::Time deadline, std::string* error) {
  HealthCheckResponse::ServingStatus last = HealthCheckResponse::UNKNOWN;
  while (absl::Now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(ToChrono(deadline));
    ctx.set_wait_for_ready(true);
    HealthCheckRequest req;
    req.set_service(name);
    auto reader = stub.Watch(&ctx, req);
    HealthCheckResponse resp;
    while (reader->Read(&resp)) {
      last = resp.status();
      if (last == HealthCheckResponse::SERVING) {
        ctx.TryCancel();
        reader->Finish();
        return last;
      }
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) *error = s.error_message();
    if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) break;
  }
  return last;
}

}  // namespace

absl::string_view HealthUsage() { return kUsage; }

int RunHealthCommand(absl::Span<const std::string> args, const TlsOptions& tls, std::ostream& out,
                     std::ostream& err) {
  std::string addr, service;
  absl::Duration wait = absl::ZeroDuration(), timeout = absl::Seconds(5);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out << kUsage;
      return 0;
    }
    if (i + 1 >= args.size()) {
      err << "pathwayctl health: " << a << " needs a value\n" << kUsage;
      return 2;
    }
    const std::string& v = args[++i];
    if (a == "--addr") {
      addr = v;
    } else if (a == "--service") {
      service = v;
    } else if (a == "--wait" || a == "--timeout") {
      absl::Duration d;
      if (!absl::ParseDuration(v, &d) || d <= absl::ZeroDuration() || d > absl::Hours(1)) {
        err << "pathwayctl health: " << a << " must be a duration like 30s (at most 1h)\n";
        return 2;
      }
      (a == "--wait" ? wait : timeout) = d;
    } else {
      err << "pathwayctl health: unknown flag " << a << "\n" << kUsage;
      return 2;
    }
  }
  if (addr.empty()) {
    err << "pathwayctl health: --addr is required\n" << kUsage;
    return 2;
  }
  std::shared_ptr<grpc::Channel> channel = OpenChannel(addr, tls, err);
  if (channel == nullptr) return 2;
  auto stub = Health::NewStub(channel);
  HealthCheckResponse::ServingStatus status = HealthCheckResponse::UNKNOWN;
  std::string error;
  if (wait > absl::ZeroDuration()) {
    status = WatchUntilServing(*stub, service, absl::Now() + wait, &error);
  } else {
    grpc::ClientContext ctx;
    ctx.set_deadline(ToChrono(absl::Now() + timeout));
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::Status s = stub->Check(&ctx, req, &resp);
    if (!s.ok()) {
      err << "pathwayctl health: " << addr << ": " << s.error_message() << "\n";
      return 1;
    }
    status = resp.status();
  }
  out << HealthCheckResponse::ServingStatus_Name(status) << "\n";
  if (status != HealthCheckResponse::SERVING && !error.empty()) {
    err << "pathwayctl health: " << addr << ": " << error << "\n";
  }
  return status == HealthCheckResponse::SERVING ? 0 : 1;
}

}  // namespace pathwayctl
}  // namespace pathway
