#include "common/server/audit_interceptor.h"

#include <string>

#include "absl/strings/match.h"

namespace pathway {
namespace {

using grpc::experimental::InterceptionHookPoints;

class AuditDurabilityInterceptor final : public grpc::experimental::Interceptor {
 public:
  AuditDurabilityInterceptor(grpc::experimental::ServerRpcInfo* info, AuditBuffer* audit)
      : audit_(audit) {
    const std::string method = info->method() != nullptr ? info->method() : "";
    exempt_ = absl::StartsWith(method, "/grpc.health.") ||
              absl::StartsWith(method, "/grpc.reflection.");
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    const bool sends = methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE) ||
                       methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS);
    if (exempt_ || !sends) {
      methods->Proceed();
      return;
    }
    // Every Record the handler made happened before it sent this batch, so the
    // newest ticket now covers them (and perhaps others' entries of the same group).
    audit_->WhenDurable(audit_->last_ticket(), [methods](absl::Status s) {
      if (!s.ok()) {
        if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
          grpc::ByteBuffer* message = methods->GetSerializedSendMessage();
          if (message != nullptr) {
            grpc::Slice empty;
            *message = grpc::ByteBuffer(&empty, 1);
          }
        }
        if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
          methods->ModifySendStatus(
              grpc::Status(grpc::StatusCode::UNAVAILABLE, "the read could not be audited"));
        }
      }
      methods->Proceed();
    });
  }

 private:
  AuditBuffer* const audit_;
  bool exempt_ = false;
};

class AuditDurabilityInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AuditDurabilityInterceptorFactory(AuditBuffer* audit) : audit_(audit) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AuditDurabilityInterceptor(info, audit_);
  }

 private:
  AuditBuffer* const audit_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewAuditDurabilityInterceptorFactory(AuditBuffer* audit) {
  return std::make_unique<AuditDurabilityInterceptorFactory>(audit);
}

}  // namespace pathway
