#include "services/registry/registry_server.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "common/auth/token.h"
#include "common/client/peer_channel.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"
#include "services/registry/person_search.h"
#include "services/placement/labor_exchange_index.h"

namespace pathway {
namespace registry {
absl::StatusOr<std::unique_ptr<RegistryServer>> RegistryServer::Start(
    const Options& options, RuntimeOverrides overrides,
    std::unique_ptr<ProgramStatusSource> source) {
  RETURN_IF_ERROR(options.config.Validate());
  if (options.sync_retention < absl::Hours(24)) {
    return absl::InvalidArgumentError("sync_retention must be at least one day");
  }
  if (options.pii_key_file.empty()) {
    return absl::InvalidArgumentError("pii_key_file is required");
  }
  std::unique_ptr<RegistryServer> s(new RegistryServer());
  // The same key-file rules as the token key: >= 32 bytes, never logged.
  ASSIGN_OR_RETURN(std::string master_key, LoadKeyFile(options.pii_key_file));
  ASSIGN_OR_RETURN(s->cipher_, PiiCipher::Create(master_key));
  // The labor exchange index key comes from the token key, as in placement
  // (services/placement/labor_exchange_index.h).
  ASSIGN_OR_RETURN(std::string token_key, LoadKeyFile(options.server.token_key_file));
  s->logic_ = std::make_unique<RegistryLogic>(s->cipher_.get(), options.config,
                                              DeriveLaborExchangeKey(token_key));
  ASSIGN_OR_RETURN(s->runtime_, ServiceRuntime::Open(options.server, RegistryLogic::Migrations(),
                                                     std::move(overrides)));
  // Cases registered before the name and phone indexes existed get them now, before
  // any search is served.
  ASSIGN_OR_RETURN(int64_t indexed, BackfillPersonSearchIndexes(s->runtime_->store(), *s->logic_));
  if (indexed > 0) log::Info("registry_search_index_backfill", {{"cases", indexed}});
  if (source != nullptr) {
    s->source_ = std::move(source);
  } else {
    const ServerOptions& o = options.server;
    // Channels connect lazily; a peer that is down costs nothing until asked.
    auto Channel = [&s](const std::string& address) {
      return PeerChannel(address, s->runtime_->peer_security());
    };
    GrpcProgramStatusSource::Stubs stubs{
        detox::v1::CommunityDetox::NewStub(Channel(o.detox_address)),
        isolation::v1::CompulsoryIsolation::NewStub(Channel(o.isolation_address)),
        rehab::v1::CommunityRehab::NewStub(Channel(o.rehab_address)),
        placement::v1::Placement::NewStub(Channel(o.placement_address))};
    s->source_ = std::make_unique<GrpcProgramStatusSource>(
        std::move(stubs), &s->runtime_->service_tokens(), o.peer_timeout);
  }
  s->view_ = std::make_unique<StatusView>(&s->runtime_->cache(), s->source_.get());
  s->visits_ = std::make_unique<VisitLogic>(s->logic_.get(), s->cipher_.get());
  s->sync_ = std::make_unique<CaseSync>(s->logic_.get(), CaseSync::DeriveCursorKey(*s->cipher_),
                                        options.sync_retention);
  // The change log loses entries no resumable cursor needs: now and daily.
  ASSIGN_OR_RETURN(
      s->prune_task_, s->runtime_->StartStatusRefresh([server = s.get()](absl::Time now) {
        absl::StatusOr<int64_t> pruned;
        absl::Status st = server->runtime_->store().Write([&](Transaction& tx) -> absl::Status {
          pruned = server->sync_->Prune(tx, now);
          return pruned.status();
        });
        if (!st.ok()) return absl::StatusOr<int64_t>(st);
        return pruned;
      }));
  s->service_ = std::make_unique<RegistryService>(s->runtime_.get(), s->logic_.get(),
                                                  s->view_.get(), s->visits_.get(),
                                                  s->sync_.get());
  ASSIGN_OR_RETURN(s->grpc_server_,
                   GrpcServer::Start(options.server, s->runtime_.get(),
                                     {{v1::Registry::service_full_name(), s->service_.get()}}));
  return s;
}

}  // namespace registry
}  // namespace pathway
