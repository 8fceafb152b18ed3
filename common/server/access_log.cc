#include "common/server/access_log.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/log/log.h"
#include "common/status/grpc_status.h"

namespace pathway {
namespace {

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
                  {"code", GrpcCodeName(status.error_code())},
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
