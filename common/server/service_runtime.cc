#include "common/server/service_runtime.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/cache/redis_status_cache.h"
#include "common/idempotency/idempotency.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"
#include "common/store/sqlite_store.h"

namespace pathway {
namespace {

absl::Status EnsureDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat("cannot create data directory ", dir));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceRuntime>> ServiceRuntime::Open(
    const ServerOptions& options, std::vector<Migration> service_migrations,
    RuntimeOverrides overrides) {
  RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<ServiceRuntime> rt(new ServiceRuntime());
  rt->options_ = options;
  rt->clock_ = overrides.clock != nullptr ? overrides.clock : &rt->real_clock_;

  RETURN_IF_ERROR(EnsureDirectory(options.data_dir));
  SqliteStoreOptions store_options;
  store_options.path = options.DatabasePath();
  store_options.migrations = AuditMigrations();
  for (Migration& m : IdempotencyMigrations()) store_options.migrations.push_back(std::move(m));
  for (Migration& m : service_migrations) store_options.migrations.push_back(std::move(m));
  ASSIGN_OR_RETURN(rt->store_, SqliteStore::Open(store_options));

  if (overrides.cache != nullptr) {
    rt->cache_ = std::move(overrides.cache);
  } else {
    ASSIGN_OR_RETURN(rt->cache_, RedisStatusCache::Create(options.redis));
  }

  ASSIGN_OR_RETURN(std::string key, LoadKeyFile(options.token_key_file));
  ASSIGN_OR_RETURN(rt->verifier_, TokenVerifier::Create(key, rt->clock_));
  rt->authorizer_ = std::make_unique<Authorizer>(rt->verifier_.get());
  ASSIGN_OR_RETURN(rt->signer_, TokenSigner::Create(std::move(key)));
  rt->service_tokens_ = std::make_unique<ServiceTokenSource>(
      rt->signer_.get(), rt->clock_, absl::StrCat("svc-", options.service_name));
  if (overrides.registry != nullptr) {
    rt->registry_ = std::move(overrides.registry);
  } else {
    // Channels connect lazily: a registry that is down costs nothing until used.
    rt->registry_ = std::make_unique<GrpcRegistryClient>(
        registry::v1::Registry::NewStub(
            grpc::CreateChannel(options.registry_address, grpc::InsecureChannelCredentials())),
        rt->service_tokens_.get(), options.peer_timeout);
  }
  rt->read_audit_ = std::make_unique<AuditBuffer>(rt->store_.get(), AuditBuffer::Options());
  rt->handlers_ = std::make_unique<HandlerPool>(options.handler_threads,
                                                options.max_queued);
  if (std::optional<Programme> programme = ProgrammeOfService(options.service_name)) {
    StatusRepublisher::Options ro;
    ro.interval = options.status_republish_interval;
    rt->republisher_ = std::make_unique<StatusRepublisher>(rt->store_.get(), rt->cache_.get(),
                                                           *programme, ro);
    rt->republisher_->Start();  // rows left unpublished by an earlier run go out now
  }
  return rt;
}

std::optional<Programme> ProgrammeOfService(absl::string_view service_name) {
  if (service_name == "community_detox") return Programme::kCommunityDetox;
  if (service_name == "compulsory_isolation") return Programme::kCompulsoryIsolation;
  if (service_name == "community_rehab") return Programme::kCommunityRehab;
  if (service_name == "placement") return Programme::kPlacement;
  return std::nullopt;
}

ServiceRuntime::~ServiceRuntime() {
  // Handlers still queued use everything else; the audit buffer flushes into the
  // store, so it goes before the store.
  republisher_.reset();
  handlers_.reset();
  read_audit_.reset();
}

}  // namespace pathway
