// What every service's handlers need beside their own rules: the clock, the store
// (with the audit and idempotency tables migrated), the status cache, the token
// verifier and authoriser, and the buffer that audits reads.
//
//   ASSIGN_OR_RETURN(auto runtime,
//                    ServiceRuntime::Open(options, RegistryMigrations()));
//   ASSIGN_OR_RETURN(Caller caller, runtime->authorizer().Authorize(ctx, {Role::kPolice}));
//
// Thread-safe: every accessor returns an object that is itself thread-safe.
#ifndef PATHWAY_COMMON_SERVER_SERVICE_RUNTIME_H_
#define PATHWAY_COMMON_SERVER_SERVICE_RUNTIME_H_

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/audit/audit_anchor.h"
#include "common/audit/audit_log.h"
#include "common/auth/guard.h"
#include "common/auth/service_token.h"
#include "common/auth/token.h"
#include "common/cache/status_cache.h"
#include "common/clock/clock.h"
#include "common/program_status/status_republisher.h"
#include "common/server/daily_task.h"
#include "common/registry_client/registry_client.h"
#include "common/server/handler_pool.h"
#include "common/server/server_options.h"
#include "common/store/sqlite_store.h"
#include "common/store/store.h"

namespace pathway {

// Replacements for tests: an injected clock (not owned; must outlive the runtime)
// and a cache (for example InMemoryStatusCache). Unset members use the real thing.
struct RuntimeOverrides {
  const Clock* clock = nullptr;
  std::unique_ptr<StatusCache> cache;
  std::unique_ptr<RegistryClient> registry;  // e.g. FakeRegistryClient
};

class ServiceRuntime {
 public:

  // Creates the data directory if needed, opens <data_dir>/<service>.db with the
  // audit, idempotency and `service_migrations` applied, loads the token key and
  // sets up the Redis cache (which may be down: the service serves regardless).
  // Loads the audit key (options.audit_key_file, or one derived from the token
  // key), starts the keyed audit chain if the database predates it, opens
  // <data_dir>/<service>.audit-anchor and anchors the chain head there.
  static absl::StatusOr<std::unique_ptr<ServiceRuntime>> Open(
      const ServerOptions& options, std::vector<Migration> service_migrations,
      RuntimeOverrides overrides = {});

  ~ServiceRuntime();

  const Clock& clock() const { return *clock_; }
  // Every Write through it appends keyed audit rows (KeyedAuditStore).
  Store& store() { return *store_; }
  // The embedded engine under store(), for backups; nullptr on PostgreSQL.
  SqliteStore* sqlite_store() { return sqlite_store_; }
  StatusCache& cache() { return *cache_; }
  // Shared-key tokens (development), or the identity provider's tokens for people
  // and shared-key tokens for services only (options.identity_provider).
  const BearerVerifier& verifier() const { return *verifier_; }
  const Authorizer& authorizer() const { return *authorizer_; }
  // Audits reads; the server holds each answer until the entries recorded before
  // it are durable (audit_interceptor.h).
  AuditBuffer& read_audit() { return *read_audit_; }
  // Appends the current audit chain head to the anchor file (durable when OK).
  absl::Status AnchorAudit();
  // Verifies the whole audit chain with the key against the anchor file: OK, or
  // DATA_LOSS naming the first broken or missing seq (`report` may be null).
  absl::Status VerifyAudit(AuditVerifyReport* report);
  // How this service reaches its peers: its TLS certificate as the client's, the
  // CA that verifies them (options.tls), or plaintext where asked for.
  const ChannelSecurity& peer_security() const { return peer_security_; }
  // Tokens this service presents to the others (role service).
  const ServiceTokenSource& service_tokens() const { return *service_tokens_; }
  // The case registry, reached at options.registry_address with options.peer_timeout.
  RegistryClient& registry() { return *registry_; }
  const ServerOptions& options() const { return options_; }
  // Where handlers that wait (writes, peer calls) run: see handler_pool.h.
  HandlerPool& handlers() { return *handlers_; }
  // A programme service sends again, in the background, every status that did not
  // reach the cache (status_republisher.h). Call this when Redis answers again so
  // the repair starts at once. No-op for a service without a programme.
  void StatusCacheAnswered() {
    if (republisher_ != nullptr) republisher_->Wake();
  }
  // nullptr for a service without a programme.
  StatusRepublisher* republisher() { return republisher_.get(); }
  // Feeds the registry's programme index and worklist with every saved status
  // (StatusSink::kRegistryIndex); nullptr for a service without a programme.
  StatusRepublisher* registry_indexer() { return registry_indexer_.get(); }

  // After the commit of a status change: writes it into the cache and tells the
  // registry's indexer it has something to send (each catches up on its own if
  // this fails).
  void PublishStatus(Programme programme, const ProgramStatusRecord& record) {
    PublishProgramStatus(*cache_, programme, record);
    if (registry_indexer_ != nullptr) registry_indexer_->Wake();
  }

  // Starts the daily refresh of statuses that change with time alone: `refresh` runs
  // now and then daily at options().status_refresh_hour (daily_task.h), on this
  // runtime's clock. The caller owns the task and destroys it before what `refresh`
  // uses.
  absl::StatusOr<std::unique_ptr<DailyTask>> StartStatusRefresh(DailyTask::Work refresh) const;
  // Who a service's own scheduled work acts as: role batch, national scope, a subject
  // naming the service; what it writes is audited under that name.
  Caller SchedulerCaller() const;

 private:
  ServiceRuntime() = default;

  ServerOptions options_;
  RealClock real_clock_;
  const Clock* clock_ = nullptr;
  std::unique_ptr<Store> engine_store_;  // SQLite or PostgreSQL (open_store.h)
  std::unique_ptr<KeyedAuditStore> store_;  // over engine_store_
  SqliteStore* sqlite_store_ = nullptr;      // engine_store_ when it is SQLite
  std::string audit_key_;
  std::unique_ptr<AuditAnchorFile> audit_anchors_;
  // The anchor file was gone at start although keyed rows existed.
  bool audit_anchor_file_lost_ = false;
  std::unique_ptr<StatusCache> cache_;
  std::unique_ptr<BearerVerifier> verifier_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<ServiceTokenSource> service_tokens_;
  ChannelSecurity peer_security_;
  std::unique_ptr<RegistryClient> registry_;
  std::unique_ptr<AuditBuffer> read_audit_;
  std::unique_ptr<HandlerPool> handlers_;  // uses all of the above: stopped first
  std::unique_ptr<StatusRepublisher> republisher_;  // uses the store and cache
  std::unique_ptr<StatusRepublisher> registry_indexer_;  // uses the store and registry
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_SERVICE_RUNTIME_H_
