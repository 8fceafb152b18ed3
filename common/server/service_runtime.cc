#include "common/server/service_runtime.h"

#include <grpcpp/grpcpp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/jurisdiction.h"
#include "common/auth/provider_verifier.h"
#include "common/auth/service_identity.h"
#include "common/cache/redis_status_cache.h"
#include "common/client/peer_channel.h"
#include "common/codec/programme.h"
#include "common/idempotency/idempotency.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"
#include "common/store/open_store.h"

namespace pathway {
namespace {

absl::Status EnsureDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat("cannot create data directory ", dir));
}

// The audit key when none is configured: HMAC-SHA-256(token key, label), so it is
// never the token key itself and never in the database.
std::string DeriveAuditKey(absl::string_view token_key) {
  static constexpr char kLabel[] = "pathway.audit.key.v1";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  HMAC(EVP_sha256(), token_key.data(), static_cast<int>(token_key.size()),
       reinterpret_cast<const unsigned char*>(kLabel), sizeof(kLabel) - 1, md, &md_len);
  std::string key(reinterpret_cast<const char*>(md), md_len);
  OPENSSL_cleanse(md, sizeof(md));
  return key;
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
  std::vector<Migration> migrations = AuditMigrations();
  for (Migration& m : IdempotencyMigrations()) migrations.push_back(std::move(m));
  for (Migration& m : service_migrations) migrations.push_back(std::move(m));
  OpenStoreOptions store_options;
  store_options.default_sqlite_path = options.DatabasePath();
  store_options.password_file = options.database_password_file;
  // One connection per handler thread that may wait on the store, bounded.
  store_options.pool_size = std::clamp(options.handler_threads / 4, 4, 32);
  // The store keeps the real clock: Write deadlines come from gRPC, in wall time,
  // whatever clock the service's rules run on.
  ASSIGN_OR_RETURN(rt->engine_store_, OpenStore(options.database, std::move(migrations),
                                                /*clock=*/nullptr, store_options));
  rt->sqlite_store_ = dynamic_cast<SqliteStore*>(rt->engine_store_.get());

  if (overrides.cache != nullptr) {
    rt->cache_ = std::move(overrides.cache);
  } else {
    ASSIGN_OR_RETURN(rt->cache_, RedisStatusCache::Create(options.redis));
  }

  ASSIGN_OR_RETURN(std::string key, LoadKeyFile(options.token_key_file));
  if (!options.audit_key_file.empty()) {
    ASSIGN_OR_RETURN(rt->audit_key_, LoadKeyFile(options.audit_key_file));
  } else {
    log::Warning("audit_key_derived_from_token_key", {{"service", options.service_name}});
    rt->audit_key_ = DeriveAuditKey(key);
  }
  ASSIGN_OR_RETURN(rt->store_, KeyedAuditStore::Create(rt->engine_store_.get(), rt->audit_key_));
  {
    // A lost anchor file is noticed only if keyed rows were there before this start.
    ASSIGN_OR_RETURN(AuditHead head, ReadAuditHead(*rt->store_));
    const bool keyed_before = head.chain == kAuditChainKeyed;
    const std::string anchor_path = options.AuditAnchorPath();
    rt->audit_anchor_file_lost_ = keyed_before && ::access(anchor_path.c_str(), F_OK) != 0;
    RETURN_IF_ERROR(StartKeyedAuditChain(*rt->store_, rt->clock_->Now()));
    ASSIGN_OR_RETURN(rt->audit_anchors_, AuditAnchorFile::Open(anchor_path, rt->audit_key_));
    RETURN_IF_ERROR(rt->AnchorAudit());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<TokenVerifier> shared_key, TokenVerifier::Create(key, rt->clock_));
  if (options.identity_provider.jwks_file.empty()) {
    rt->verifier_ = std::move(shared_key);
  } else {
    ASSIGN_OR_RETURN(std::unique_ptr<JwksVerifier> provider,
                     JwksVerifier::Create(options.identity_provider, rt->clock_));
    rt->verifier_ =
        std::make_unique<ProviderTokenVerifier>(std::move(provider), std::move(shared_key));
  }
  // Service tokens count only from the allowed peers' certificates, under mutual TLS
  // (common/auth/service_identity.h).
  rt->authorizer_ = std::make_unique<Authorizer>(
      rt->verifier_.get(),
      ServicePeerBinding{options.BindsServiceIdentity(), options.ServiceCallers()});
  if (!options.BindsServiceIdentity() && !options.tls.plaintext) {
    log::Warning("service_identity_not_bound", {{"service", options.service_name},
                                                {"reason", "no client certificates required"}});
  }
  ASSIGN_OR_RETURN(rt->signer_, TokenSigner::Create(std::move(key)));
  rt->service_tokens_ = std::make_unique<ServiceTokenSource>(
      rt->signer_.get(), rt->clock_, ServiceSubject(options.service_name));
  ASSIGN_OR_RETURN(rt->peer_security_, MakeChannelSecurity(options.tls));
  if (overrides.registry != nullptr) {
    rt->registry_ = std::move(overrides.registry);
  } else {
    // Channels connect lazily: a registry that is down costs nothing until used.
    rt->registry_ = std::make_unique<GrpcRegistryClient>(
        registry::v1::Registry::NewStub(
            PeerChannel(options.registry_address, rt->peer_security_)),
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
    StatusRepublisher::Options io;
    io.interval = options.status_republish_interval;
    io.batch_size = 500;  // registry.proto ReportProgramStatuses' limit
    RegistryClient* registry = rt->registry_.get();
    rt->registry_indexer_ = std::make_unique<StatusRepublisher>(
        rt->store_.get(), StatusSink::kRegistryIndex,
        [registry, programme = *programme](const std::vector<ProgramStatusRecord>& batch,
                                           std::vector<PublishedVersion>* landed) {
          return SendStatusesToRegistry(*registry, programme, batch, landed);
        },
        io);
    rt->registry_indexer_->Start();  // a database from before the index fills it now
  }
  return rt;
}

ServiceRuntime::~ServiceRuntime() {
  // Handlers still queued use everything else; the audit buffer flushes into the
  // store, so it goes before the store.
  registry_indexer_.reset();
  republisher_.reset();
  handlers_.reset();
  read_audit_.reset();
  if (store_ != nullptr && audit_anchors_ != nullptr) {
    if (absl::Status s = AnchorAudit(); !s.ok()) {
      log::Error("audit_anchor_failed", {{"service", options_.service_name}});
    }
  }
  OPENSSL_cleanse(audit_key_.data(), audit_key_.size());
}

absl::Status ServiceRuntime::AnchorAudit() {
  ASSIGN_OR_RETURN(AuditHead head, ReadAuditHead(*store_));
  if (head.seq == 0) return absl::OkStatus();
  return audit_anchors_->Append(AuditAnchor{head.seq, head.hash, clock_->Now()});
}

absl::Status ServiceRuntime::VerifyAudit(AuditVerifyReport* report) {
  absl::StatusOr<std::vector<AuditAnchor>> anchors =
      ReadAuditAnchors(audit_anchors_->path(), audit_key_);
  if (!anchors.ok()) {
    if (report != nullptr) *report = AuditVerifyReport{};
    log::Error("audit_anchor_file_broken", {{"service", options_.service_name},
                                            {"error", anchors.status().message()}});
    return absl::DataLossError(anchors.status().message());
  }
  absl::Status s = VerifyAuditChain(*store_, audit_key_, *std::move(anchors), report);
  if (s.ok() && audit_anchor_file_lost_) {
    log::Error("audit_anchor_file_lost", {{"service", options_.service_name}});
    return absl::DataLossError("the audit anchor file was missing at start");
  }
  return s;
}

absl::StatusOr<std::unique_ptr<DailyTask>> ServiceRuntime::StartStatusRefresh(
    DailyTask::Work refresh) const {
  DailyTask::Options o;
  o.name = absl::StrCat(options_.service_name, "_status_refresh");
  o.hour = options_.status_refresh_hour;
  o.check_interval = options_.status_refresh_check_interval;
  return DailyTask::Start(clock_, std::move(o), std::move(refresh));
}

Caller ServiceRuntime::SchedulerCaller() const {
  Caller caller;
  caller.claims.subject = absl::StrCat("scheduler:", options_.service_name);
  caller.claims.role = Role::kBatch;
  caller.claims.jurisdiction = std::string(kNationalJurisdiction);
  return caller;
}

}  // namespace pathway
