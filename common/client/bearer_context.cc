#include "common/client/bearer_context.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace pathway {

std::string BearerHeader(absl::string_view token) { return absl::StrCat("Bearer ", token); }

void SetBearerToken(grpc::ClientContext* ctx, absl::string_view token) {
  if (!token.empty()) ctx->AddMetadata("authorization", BearerHeader(token));
}

void PrepareBearerContext(grpc::ClientContext* ctx, absl::string_view token,
                          absl::Duration timeout) {
  PrepareBearerContext(ctx, token, absl::Now() + timeout);
}

void PrepareBearerContext(grpc::ClientContext* ctx, absl::string_view token,
                          absl::Time deadline) {
  ctx->set_deadline(absl::ToChronoTime(deadline));
  SetBearerToken(ctx, token);
}

}  // namespace pathway
