// The configuration every Pathway server binary shares: where it listens, where its
// data lives, how it reaches Redis, the token key, and its limits. One validated
// struct per binary (STYLE.md rule 10); only main fills it, from flags and the
// environment (see server_flags.h).
//
//   ServerOptions options;
//   options.service_name = "registry";
//   options.port = 50051;
//   options.data_dir = "/var/lib/pathway";
//   options.token_key_file = "/etc/pathway/token.key";
//   RETURN_IF_ERROR(options.Validate());
#ifndef PATHWAY_COMMON_SERVER_SERVER_OPTIONS_H_
#define PATHWAY_COMMON_SERVER_SERVER_OPTIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/auth/jwks_verifier.h"
#include "common/cache/redis_status_cache.h"
#include "common/log/log.h"
#include "common/tls/tls.h"

namespace pathway {

struct ServerOptions {
  // Short name of the service ("registry", "community_detox", ...): names the SQLite
  // file and the log lines.
  std::string service_name;
  // Interface to listen on; loopback unless deployed behind a load balancer.
  std::string listen_host = "127.0.0.1";
  // 0 picks a free port (tests); the chosen port is reported after start.
  int port = 0;
  // Port of the Prometheus endpoint (plain HTTP, GET /metrics) on listen_host;
  // 0: no metrics endpoint (common/metrics/server_metrics.h).
  int metrics_port = 0;
  // Directory holding the service's SQLite database, <data_dir>/<service_name>.db,
  // and its audit anchor file.
  std::string data_dir;
  // Which database holds the service's record (common/store/open_store.h): empty
  // or "sqlite:<path>" is the embedded SQLite file (empty: DatabasePath()); a
  // "postgresql://" URI is PostgreSQL, one database per service, which several
  // replicas may share. Never carries a password: see database_password_file.
  std::string database;
  // PostgreSQL password file (libpq's format, mode 0600); empty: libpq's default.
  std::string database_password_file;
  // Transport security of the port and of calls to peers (common/tls/tls.h): the
  // service's certificate serves both, the CA file verifies peers (and clients,
  // with require_client_cert). Plaintext only when set explicitly.
  TlsOptions tls;
  // The status cache. Redis may be down at start: the service serves regardless.
  RedisCacheOptions redis;
  // How often Redis reachability is probed for the health service. When a probe
  // finds Redis answering again, statuses that missed it are sent at once.
  absl::Duration cache_probe_interval = absl::Seconds(1);
  // How often a programme service looks for statuses that did not reach the cache
  // and sends them again (status_republisher.h), besides the wake-up above.
  absl::Duration status_republish_interval = absl::Seconds(1);
  // A programme service re-evaluates the statuses that change with time alone (a
  // term that ends, a window that closes) at start-up and daily at this hour of China
  // Standard Time (common/server/daily_task.h), looking at the clock this often.
  int status_refresh_hour = 1;
  absl::Duration status_refresh_check_interval = absl::Seconds(30);
  // File holding the token signing key (at least 32 bytes). Never compiled in.
  std::string token_key_file;
  // The province's identity provider. Empty jwks_file: every token is an HS256
  // token signed with the token key (development). Set: people's tokens are the
  // provider's ES256/RS256 JWTs checked against its JWKS, and HS256 tokens are
  // accepted only from services (common/auth/provider_verifier.h).
  JwksVerifierOptions identity_provider;
  // The peer services whose service tokens (role service) this service accepts,
  // by the name their certificate carries as CN (common/auth/service_identity.h).
  // Unset: DefaultServiceCallers(service_name), exactly the services that call
  // this one; an empty list accepts no service. The binding holds only under
  // mutual TLS (tls.require_client_cert): there a service token is accepted only
  // on a connection whose verified client certificate is an allowed caller's, and
  // only if the token's subject names that caller. Without mutual TLS (plaintext,
  // or TLS without client certificates) there is no verified peer and a service
  // token is accepted on the shared token key alone: a deployment must use mutual
  // TLS for service identity.
  std::optional<std::vector<std::string>> service_callers;
  // File holding the audit chain key (at least 32 bytes; audit_log.h). Never in
  // the database. Empty: a key derived from the token key (a warning is logged);
  // a deployment gives each service its own.
  std::string audit_key_file;
  // How often the audit chain head is anchored in <data_dir>/<service>.audit-anchor
  // (also once at start and once at shutdown), and how often the whole chain is
  // verified against the key and the anchors (also once at start).
  absl::Duration audit_anchor_interval = absl::Seconds(5);
  absl::Duration audit_verify_interval = absl::Hours(1);
  // On SIGTERM: health goes NOT_SERVING at once, in-flight RPCs get this long to
  // finish, then they are cancelled.
  absl::Duration drain_timeout = absl::Seconds(10);
  // Largest message accepted or sent. Bulk RPCs stream chunks well under it.
  int max_message_bytes = 8 * 1024 * 1024;
  // HTTP/2 keepalive pings on idle connections, so dead peers behind NAT are found.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  log::Level log_level = log::Level::kInfo;

  // Where the other services listen, for service-to-service calls, and the
  // deadline every such call gets: a hung peer never hangs a request.
  std::string registry_address = "127.0.0.1:50051";
  std::string detox_address = "127.0.0.1:50052";
  std::string isolation_address = "127.0.0.1:50053";
  std::string rehab_address = "127.0.0.1:50054";
  std::string placement_address = "127.0.0.1:50055";
  absl::Duration peer_timeout = absl::Seconds(2);
  // Handlers that may wait at once (see handler_pool.h): bounds how many writes
  // can share one group commit.
  int handler_threads = 64;
  // Calls that may wait for a free handler thread; one more is refused at once with
  // RESOURCE_EXHAUSTED (handler_pool.h). Why 128, twice the threads: a queue only
  // adds waiting, never throughput, once every thread is busy. At the measured
  // write rate (about 2,900 commits/s, docs/benchmarks.md) 128 waiting calls drain
  // in ~45 ms, so a full queue still keeps the group commits full; on a slow disk
  // (~114 commits/s at 1,000,000 cases) they drain in ~1.1 s, inside the 2 s
  // deadline services give each other. Deeper queues only turn refusals, which a
  // caller can act on at once, into deadline expiries it learns of too late.
  int max_queued = 128;
  // HTTP/2 streams (calls) one client connection may have open at once; more wait
  // in the client. With the queue above this bounds what the server holds for
  // calls it has not yet answered: gRPC keeps per-call state for every open
  // stream before any handler sees it (that, not the queue, grew to 228 MB under
  // 4,096 concurrent calls on one process).
  int max_concurrent_streams = 256;
  // gRPC's resource quota: the memory its transports may use for buffers and
  // call state; under pressure it stops reading from connections instead of
  // growing.
  int memory_quota_mb = 128;

  // INVALID_ARGUMENT naming the first bad field.
  absl::Status Validate() const;
  // The allowed callers in force: service_callers, or the service's defaults.
  std::vector<std::string> ServiceCallers() const;
  // True if service tokens are bound to the peer certificate (mutual TLS).
  bool BindsServiceIdentity() const { return !tls.plaintext && tls.require_client_cert; }
  // host:port, e.g. "127.0.0.1:50051".
  std::string ListenAddress() const;
  // <data_dir>/<service_name>.db
  std::string DatabasePath() const;
  // <data_dir>/<service_name>.audit-anchor
  std::string AuditAnchorPath() const;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_SERVER_OPTIONS_H_
