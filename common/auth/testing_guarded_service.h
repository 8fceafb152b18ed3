// A one-method generic gRPC service for the guard's tests over real gRPC: every call
// to any method is authorised by `authorize` and answered with the caller's subject,
// or with the refusal's status.
//
//   GuardedService service([&](const grpc::ServerContextBase& ctx) {
//     return authorizer.Authorize(ctx, {Role::kCaseworker, Role::kPolice});
//   });
//   builder.RegisterCallbackGenericService(&service);
#ifndef PATHWAY_COMMON_AUTH_TESTING_GUARDED_SERVICE_H_
#define PATHWAY_COMMON_AUTH_TESTING_GUARDED_SERVICE_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <utility>

#include "absl/status/statusor.h"
#include "common/auth/caller.h"
#include "common/status/grpc_status.h"

namespace pathway::test {

class GuardedService final : public grpc::CallbackGenericService {
 public:
  using AuthorizeFn = std::function<absl::StatusOr<Caller>(const grpc::ServerContextBase&)>;
  explicit GuardedService(AuthorizeFn authorize) : authorize_(std::move(authorize)) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new Reactor(authorize_(*ctx));
  }

 private:
  class Reactor final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Reactor(absl::StatusOr<Caller> caller) {
      if (!caller.ok()) {
        Finish(ToGrpcStatus(caller.status()));
        return;
      }
      grpc::Slice slice(caller->subject());
      response_ = grpc::ByteBuffer(&slice, 1);
      StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INTERNAL, "no request"));
        return;
      }
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
  };

  const AuthorizeFn authorize_;
};

}  // namespace pathway::test

#endif  // PATHWAY_COMMON_AUTH_TESTING_GUARDED_SERVICE_H_
