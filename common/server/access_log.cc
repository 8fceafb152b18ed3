#include "common/server/access_log.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/log/log.h"

namespace pathway {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

class AccessLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  AccessLogInterceptor(grpc::experimental::ServerRpcInfo* info, const BearerVerifier* verifier)
      : method_(info->method() != nullptr ? info->method() : "?"),
        verifier_(verifier),
        start_(absl::Now()),
        probe_(absl::StartsWith(method_, "/grpc.health.") ||
               absl::StartsWith(method_, "/grpc.reflection.")) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      caller_ = CallerFrom(methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      double ms = absl::ToDoubleMilliseconds(absl::Now() - start_);
      log::Write(probe_ ? log::Level::kDebug : log::Level::kInfo, "rpc",
                 {{"method", method_},
                  {"code", CodeName(status.error_code())},
                  {"ms", absl::StrFormat("%.3f", ms)},
                  {"caller", caller_}});
    }
    methods->Proceed();
  }

 private:
  std::string CallerFrom(std::multimap<grpc::string_ref, grpc::string_ref>* md) const {
    if (md == nullptr || verifier_ == nullptr) return "-";
    auto it = md->find("authorization");
    if (it == md->end()) return "-";
    absl::string_view value(it->second.data(), it->second.size());
    constexpr absl::string_view kBearer = "bearer ";
    if (value.size() <= kBearer.size() ||
        !absl::EqualsIgnoreCase(value.substr(0, kBearer.size()), kBearer)) {
      return "-";
    }
    auto claims = verifier_->Verify(value.substr(kBearer.size()));
    return claims.ok() ? claims->subject : "-";
  }

  std::string method_;
  const BearerVerifier* verifier_;
  absl::Time start_;
  bool probe_;
  std::string caller_ = "-";
};

class AccessLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AccessLogInterceptorFactory(const BearerVerifier* verifier) : verifier_(verifier) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AccessLogInterceptor(info, verifier_);
  }

 private:
  const BearerVerifier* verifier_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewAccessLogInterceptorFactory(const BearerVerifier* verifier) {
  return std::make_unique<AccessLogInterceptorFactory>(verifier);
}

}  // namespace pathway
