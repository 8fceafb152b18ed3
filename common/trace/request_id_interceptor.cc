#include "common/trace/request_id_interceptor.h"

#include <iterator>
#include <map>
#include <optional>

#include "absl/strings/string_view.h"
#include "common/trace/request_id.h"

namespace pathway {
namespace {

using grpc::experimental::InterceptionHookPoints;

const grpc::string_ref kHeaderRef(kRequestIdHeader);

class RequestIdInterceptor final : public grpc::experimental::Interceptor {
public:
  void
  Intercept(grpc::experimental::InterceptorBatchMethods *methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      std::multimap<grpc::string_ref, grpc::string_ref> *md =
          methods->GetRecvInitialMetadata();
      std::optional<absl::string_view> sent;
      if (md != nullptr) {
        auto range = md->equal_range(kHeaderRef);
        // Exactly one header, or none counts: two are as good as a malformed
        // one.
        if (range.first != range.second &&
            std::next(range.first) == range.second) {
          sent = absl::string_view(range.first->second.data(),
                                   range.first->second.size());
        } else if (range.first != range.second) {
          sent = absl::string_view();
        }
        trace_ = AcceptCallTrace(sent);
        md->erase(range.first, range.second);
        // The map holds references: the id lives in this interceptor, which
        // lives as long as the call's context.
        md->emplace(kHeaderRef, grpc::string_ref(trace_.request_id));
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      if (trace_.request_id.empty())
        trace_ = AcceptCallTrace(std::nullopt);
      std::multimap<std::string, std::string> *md =
          methods->GetSendInitialMetadata();
      if (md != nullptr)
        md->emplace(kRequestIdHeader, trace_.request_id);
    }
    methods->Proceed();
  }

private:
  CallTrace trace_;
};

class RequestIdInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
public:
  grpc::experimental::Interceptor *
  CreateServerInterceptor(grpc::experimental::ServerRpcInfo *) override {
    return new RequestIdInterceptor();
  }
};

} // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRequestIdInterceptorFactory() {
  return std::make_unique<RequestIdInterceptorFactory>();
}

std::string RequestIdOf(const grpc::ServerContextBase &ctx) {
  const auto &md = ctx.client_metadata();
  auto range = md.equal_range(kHeaderRef);
  if (range.first == range.second || std::next(range.first) != range.second)
    return "";
  absl::string_view id(range.first->second.data(), range.first->second.size());
  return IsWellFormedRequestId(id) ? std::string(id) : std::string();
}

} // namespace pathway
