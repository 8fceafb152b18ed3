#include "common/server/server_flags.h"

#include <cstdlib>
#include <mutex>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/auth/secret_file.h"

// Empty string / -1 mean "not given": the environment or the default applies.
ABSL_FLAG(std::string, host, "", "Interface to listen on [PATHWAY_HOST, default 127.0.0.1]");
ABSL_FLAG(int, port, -1, "Port to listen on, 0 for any free port [PATHWAY_PORT]");
ABSL_FLAG(int, metrics_port, -1,
          "Port of the Prometheus endpoint (plain HTTP, /metrics) on --host; 0: none "
          "[PATHWAY_METRICS_PORT, default 0]");
ABSL_FLAG(std::string, data_dir, "", "Directory of the SQLite database [PATHWAY_DATA_DIR, default ./data]");
ABSL_FLAG(std::string, database, "",
          "sqlite:<path> or postgresql://user@host[,host2]/db?target_session_attrs=read-write "
          "[PATHWAY_DATABASE, default sqlite:<data_dir>/<service>.db]");
ABSL_FLAG(std::string, database_password_file, "",
          "PostgreSQL password file, libpq format [PATHWAY_DATABASE_PASSWORD_FILE]");
ABSL_FLAG(std::string, redis_host, "", "Redis host [PATHWAY_REDIS_HOST, default 127.0.0.1]");
ABSL_FLAG(int, redis_port, -1, "Redis port [PATHWAY_REDIS_PORT, default 6379]");
ABSL_FLAG(int, redis_timeout_ms, -1,
          "Redis connect and command timeout in ms [PATHWAY_REDIS_TIMEOUT_MS, default 200]");
ABSL_FLAG(std::string, redis_password_file, "",
          "File holding the Redis password [PATHWAY_REDIS_PASSWORD_FILE]");
ABSL_FLAG(std::string, token_key_file, "",
          "File holding the token signing key [PATHWAY_TOKEN_KEY_FILE, required]");
ABSL_FLAG(std::string, audit_key_file, "",
          "File holding the audit chain key [PATHWAY_AUDIT_KEY_FILE, default: derived from the "
          "token key]");
ABSL_FLAG(int, audit_anchor_interval_s, -1,
          "Seconds between anchors of the audit chain head [PATHWAY_AUDIT_ANCHOR_INTERVAL_S, "
          "default 5]");
ABSL_FLAG(int, audit_verify_interval_s, -1,
          "Seconds between verifications of the whole audit chain "
          "[PATHWAY_AUDIT_VERIFY_INTERVAL_S, default 3600]");
ABSL_FLAG(int, status_refresh_hour, -1,
          "Hour (0-23, China Standard Time) of the daily refresh of statuses that change "
          "with time alone [PATHWAY_STATUS_REFRESH_HOUR, default 1]");
ABSL_FLAG(int, drain_timeout_s, -1,
          "Seconds in-flight RPCs get to finish on shutdown [PATHWAY_DRAIN_TIMEOUT_S, default 10]");
ABSL_FLAG(std::string, registry_addr, "", "Case registry address [PATHWAY_REGISTRY_ADDR]");
ABSL_FLAG(std::string, detox_addr, "", "Community detox address [PATHWAY_DETOX_ADDR]");
ABSL_FLAG(std::string, isolation_addr, "", "Compulsory isolation address [PATHWAY_ISOLATION_ADDR]");
ABSL_FLAG(std::string, rehab_addr, "", "Community rehabilitation address [PATHWAY_REHAB_ADDR]");
ABSL_FLAG(std::string, placement_addr, "", "Sunshine placement address [PATHWAY_PLACEMENT_ADDR]");
ABSL_FLAG(int, peer_timeout_ms, -1,
          "Deadline of each call to another service [PATHWAY_PEER_TIMEOUT_MS, default 2000]");
ABSL_FLAG(int, handler_threads, -1,
          "Handlers that may wait at once, e.g. for a commit [PATHWAY_HANDLER_THREADS, default 64]");
ABSL_FLAG(int, max_queued, -1,
          "Calls that may wait for a handler before more are refused with RESOURCE_EXHAUSTED "
          "[PATHWAY_MAX_QUEUED, default 128]");
ABSL_FLAG(int, max_concurrent_streams, -1,
          "Calls one client connection may have open at once; more wait in the client "
          "[PATHWAY_MAX_CONCURRENT_STREAMS, default 256]");
ABSL_FLAG(int, memory_quota_mb, -1,
          "Memory gRPC may use for connections and calls [PATHWAY_MEMORY_QUOTA_MB, default 128]");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain of this service, presented on its port and to its peers "
          "[PATHWAY_TLS_CERT_FILE]");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of that certificate [PATHWAY_TLS_KEY_FILE]");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA certificates that verify peers, and clients with --tls_require_client_cert "
          "[PATHWAY_TLS_CA_FILE]");
ABSL_FLAG(bool, tls_require_client_cert, false,
          "Mutual TLS: refuse clients without a certificate from --tls_ca_file "
          "[PATHWAY_TLS_REQUIRE_CLIENT_CERT=1]");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name checked in peers' certificates instead of the host of their address "
          "[PATHWAY_TLS_SERVER_NAME]");
ABSL_FLAG(bool, plaintext, false,
          "No TLS on the port or to peers: development on one host only [PATHWAY_PLAINTEXT=1]");
ABSL_FLAG(std::string, jwks_file, "",
          "The identity provider's public keys (JWKS), re-read when it changes; set: people's "
          "tokens are the provider's ES256/RS256 JWTs [PATHWAY_JWKS_FILE]");
ABSL_FLAG(std::string, token_issuer, "", "Expected iss of provider tokens [PATHWAY_TOKEN_ISSUER]");
ABSL_FLAG(std::string, token_audience, "",
          "Expected aud of provider tokens [PATHWAY_TOKEN_AUDIENCE, default pathway]");
ABSL_FLAG(std::string, token_subject_claim, "",
          "Claim holding the user id [PATHWAY_TOKEN_SUBJECT_CLAIM, default sub]");
ABSL_FLAG(std::string, token_role_claim, "",
          "Claim holding the Pathway role [PATHWAY_TOKEN_ROLE_CLAIM, default pathway_role]");
ABSL_FLAG(std::string, token_jurisdiction_claim, "",
          "Claim holding the jurisdiction [PATHWAY_TOKEN_JURISDICTION_CLAIM, default pathway_jur]");
ABSL_FLAG(std::string, token_organization_claim, "",
          "Claim holding an employer's credit code [PATHWAY_TOKEN_ORGANIZATION_CLAIM, default "
          "pathway_org]");
ABSL_FLAG(int, token_max_lifetime_s, -1,
          "Longest accepted exp - iat of a provider token [PATHWAY_TOKEN_MAX_LIFETIME_S, "
          "default 43200]");
ABSL_FLAG(int, jwks_reread_interval_ms, -1,
          "How often the JWKS file is looked at for a change, and the least time between two "
          "re-reads for an unknown kid; 0: every call [PATHWAY_JWKS_REREAD_INTERVAL_MS, default "
          "1000]");
ABSL_FLAG(std::string, service_callers, "",
          "Peer services (certificate CNs) whose service tokens are accepted, comma-separated, "
          "or none; enforced only with --tls_require_client_cert [PATHWAY_SERVICE_CALLERS, "
          "default: the services that call this one]");
ABSL_FLAG(std::string, log_level, "", "debug, info, warning or error [PATHWAY_LOG_LEVEL, default info]");

namespace pathway {
namespace {

std::string StringSetting(const std::string& flag, const char* env, const std::string& dflt) {
  if (!flag.empty()) return flag;
  const char* v = std::getenv(env);
  if (v != nullptr && *v != '\0') return v;
  return dflt;
}

absl::StatusOr<int> IntSetting(int flag, const char* flag_name, const char* env, int dflt) {
  if (flag >= 0) return flag;
  const char* v = std::getenv(env);
  if (v == nullptr || *v == '\0') return dflt;
  int parsed;
  if (!absl::SimpleAtoi(v, &parsed) || parsed < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment variable ", env, " (for --", flag_name,
                     ") is not a non-negative integer"));
  }
  return parsed;
}

// A boolean flag, or its environment variable set to 1/true/yes when the flag is off.
absl::StatusOr<bool> BoolSetting(bool flag, const char* flag_name, const char* env) {
  if (flag) return true;
  const char* v = std::getenv(env);
  if (v == nullptr || *v == '\0') return false;
  bool parsed;
  if (!absl::SimpleAtob(v, &parsed)) {
    return absl::InvalidArgumentError(absl::StrCat("environment variable ", env, " (for --",
                                                   flag_name, ") is not a boolean"));
  }
  return parsed;
}

}  // namespace

absl::StatusOr<ServerOptions> ServerOptionsFromFlagsAndEnv(absl::string_view service_name,
                                                           int default_port, int argc,
                                                           char** argv) {
  // abseil aborts on a second call; tests parse several times in one process.
  static std::once_flag usage_once;
  std::call_once(usage_once, [&] {
    absl::SetProgramUsageMessage(
        absl::StrCat("Pathway ", service_name, " service. Flags override PATHWAY_* variables."));
    // --help lists the flags of this file and of the service's own sources (abseil's
    // default matches only a file named after the binary, which lists nothing here).
    absl::FlagsUsageConfig usage;
    usage.contains_help_flags = [](absl::string_view file) {
      return absl::StrContains(file, "common/server/server_flags") ||
             absl::StrContains(file, "services/");
    };
    usage.contains_helpshort_flags = usage.contains_help_flags;
    absl::SetFlagsUsageConfig(usage);
  });
  absl::ParseCommandLine(argc, argv);

  ServerOptions o;
  o.service_name = std::string(service_name);
  o.listen_host = StringSetting(absl::GetFlag(FLAGS_host), "PATHWAY_HOST", "127.0.0.1");
  auto port = IntSetting(absl::GetFlag(FLAGS_port), "port", "PATHWAY_PORT", default_port);
  if (!port.ok()) return port.status();
  o.port = *port;
  auto metrics_port =
      IntSetting(absl::GetFlag(FLAGS_metrics_port), "metrics_port", "PATHWAY_METRICS_PORT", 0);
  if (!metrics_port.ok()) return metrics_port.status();
  o.metrics_port = *metrics_port;
  o.data_dir = StringSetting(absl::GetFlag(FLAGS_data_dir), "PATHWAY_DATA_DIR", "./data");
  o.database = StringSetting(absl::GetFlag(FLAGS_database), "PATHWAY_DATABASE", "");
  o.database_password_file = StringSetting(absl::GetFlag(FLAGS_database_password_file),
                                           "PATHWAY_DATABASE_PASSWORD_FILE", "");
  o.redis.host = StringSetting(absl::GetFlag(FLAGS_redis_host), "PATHWAY_REDIS_HOST", "127.0.0.1");
  auto redis_port =
      IntSetting(absl::GetFlag(FLAGS_redis_port), "redis_port", "PATHWAY_REDIS_PORT", 6379);
  if (!redis_port.ok()) return redis_port.status();
  o.redis.port = *redis_port;
  auto timeout_ms = IntSetting(absl::GetFlag(FLAGS_redis_timeout_ms), "redis_timeout_ms",
                               "PATHWAY_REDIS_TIMEOUT_MS", 200);
  if (!timeout_ms.ok()) return timeout_ms.status();
  if (*timeout_ms == 0) return absl::InvalidArgumentError("redis timeout must be positive");
  o.redis.connect_timeout = absl::Milliseconds(*timeout_ms);
  o.redis.command_timeout = absl::Milliseconds(*timeout_ms);
  std::string password_file = StringSetting(absl::GetFlag(FLAGS_redis_password_file),
                                            "PATHWAY_REDIS_PASSWORD_FILE", "");
  if (!password_file.empty()) {
    auto password = ReadPasswordFile(password_file, "Redis password file");
    if (!password.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--redis_password_file: ", password.status().message()));
    }
    o.redis.password = *password;
  }
  o.token_key_file =
      StringSetting(absl::GetFlag(FLAGS_token_key_file), "PATHWAY_TOKEN_KEY_FILE", "");
  o.audit_key_file =
      StringSetting(absl::GetFlag(FLAGS_audit_key_file), "PATHWAY_AUDIT_KEY_FILE", "");
  auto anchor_s = IntSetting(absl::GetFlag(FLAGS_audit_anchor_interval_s),
                             "audit_anchor_interval_s", "PATHWAY_AUDIT_ANCHOR_INTERVAL_S", 5);
  if (!anchor_s.ok()) return anchor_s.status();
  o.audit_anchor_interval = absl::Seconds(*anchor_s);
  auto verify_s = IntSetting(absl::GetFlag(FLAGS_audit_verify_interval_s),
                             "audit_verify_interval_s", "PATHWAY_AUDIT_VERIFY_INTERVAL_S", 3600);
  if (!verify_s.ok()) return verify_s.status();
  o.audit_verify_interval = absl::Seconds(*verify_s);
  auto refresh_hour = IntSetting(absl::GetFlag(FLAGS_status_refresh_hour), "status_refresh_hour",
                                 "PATHWAY_STATUS_REFRESH_HOUR", 1);
  if (!refresh_hour.ok()) return refresh_hour.status();
  o.status_refresh_hour = *refresh_hour;
  auto drain = IntSetting(absl::GetFlag(FLAGS_drain_timeout_s), "drain_timeout_s",
                          "PATHWAY_DRAIN_TIMEOUT_S", 10);
  if (!drain.ok()) return drain.status();
  o.drain_timeout = absl::Seconds(*drain);
  o.registry_address = StringSetting(absl::GetFlag(FLAGS_registry_addr), "PATHWAY_REGISTRY_ADDR",
                                     o.registry_address);
  o.detox_address =
      StringSetting(absl::GetFlag(FLAGS_detox_addr), "PATHWAY_DETOX_ADDR", o.detox_address);
  o.isolation_address = StringSetting(absl::GetFlag(FLAGS_isolation_addr),
                                      "PATHWAY_ISOLATION_ADDR", o.isolation_address);
  o.rehab_address =
      StringSetting(absl::GetFlag(FLAGS_rehab_addr), "PATHWAY_REHAB_ADDR", o.rehab_address);
  o.placement_address = StringSetting(absl::GetFlag(FLAGS_placement_addr),
                                      "PATHWAY_PLACEMENT_ADDR", o.placement_address);
  auto peer_ms = IntSetting(absl::GetFlag(FLAGS_peer_timeout_ms), "peer_timeout_ms",
                            "PATHWAY_PEER_TIMEOUT_MS", 2000);
  if (!peer_ms.ok()) return peer_ms.status();
  if (*peer_ms == 0) return absl::InvalidArgumentError("peer timeout must be positive");
  o.peer_timeout = absl::Milliseconds(*peer_ms);
  auto handlers = IntSetting(absl::GetFlag(FLAGS_handler_threads), "handler_threads",
                             "PATHWAY_HANDLER_THREADS", 64);
  if (!handlers.ok()) return handlers.status();
  o.handler_threads = *handlers;
  auto queued = IntSetting(absl::GetFlag(FLAGS_max_queued), "max_queued", "PATHWAY_MAX_QUEUED",
                           o.max_queued);
  if (!queued.ok()) return queued.status();
  o.max_queued = *queued;
  auto streams = IntSetting(absl::GetFlag(FLAGS_max_concurrent_streams), "max_concurrent_streams",
                            "PATHWAY_MAX_CONCURRENT_STREAMS", o.max_concurrent_streams);
  if (!streams.ok()) return streams.status();
  o.max_concurrent_streams = *streams;
  auto quota = IntSetting(absl::GetFlag(FLAGS_memory_quota_mb), "memory_quota_mb",
                          "PATHWAY_MEMORY_QUOTA_MB", o.memory_quota_mb);
  if (!quota.ok()) return quota.status();
  o.memory_quota_mb = *quota;
  o.tls.cert_file = StringSetting(absl::GetFlag(FLAGS_tls_cert_file), "PATHWAY_TLS_CERT_FILE", "");
  o.tls.key_file = StringSetting(absl::GetFlag(FLAGS_tls_key_file), "PATHWAY_TLS_KEY_FILE", "");
  o.tls.ca_file = StringSetting(absl::GetFlag(FLAGS_tls_ca_file), "PATHWAY_TLS_CA_FILE", "");
  o.tls.server_name =
      StringSetting(absl::GetFlag(FLAGS_tls_server_name), "PATHWAY_TLS_SERVER_NAME", "");
  auto mutual = BoolSetting(absl::GetFlag(FLAGS_tls_require_client_cert),
                            "tls_require_client_cert", "PATHWAY_TLS_REQUIRE_CLIENT_CERT");
  if (!mutual.ok()) return mutual.status();
  o.tls.require_client_cert = *mutual;
  auto plaintext = BoolSetting(absl::GetFlag(FLAGS_plaintext), "plaintext", "PATHWAY_PLAINTEXT");
  if (!plaintext.ok()) return plaintext.status();
  o.tls.plaintext = *plaintext;
  JwksVerifierOptions& idp = o.identity_provider;
  idp.jwks_file = StringSetting(absl::GetFlag(FLAGS_jwks_file), "PATHWAY_JWKS_FILE", "");
  idp.issuer = StringSetting(absl::GetFlag(FLAGS_token_issuer), "PATHWAY_TOKEN_ISSUER", "");
  idp.audience =
      StringSetting(absl::GetFlag(FLAGS_token_audience), "PATHWAY_TOKEN_AUDIENCE", "pathway");
  JwtClaimNames& names = idp.claim_names;
  names.subject_claim = StringSetting(absl::GetFlag(FLAGS_token_subject_claim),
                                      "PATHWAY_TOKEN_SUBJECT_CLAIM", names.subject_claim);
  names.role_claim = StringSetting(absl::GetFlag(FLAGS_token_role_claim),
                                   "PATHWAY_TOKEN_ROLE_CLAIM", names.role_claim);
  names.jurisdiction_claim = StringSetting(absl::GetFlag(FLAGS_token_jurisdiction_claim),
                                           "PATHWAY_TOKEN_JURISDICTION_CLAIM",
                                           names.jurisdiction_claim);
  names.organization_claim = StringSetting(absl::GetFlag(FLAGS_token_organization_claim),
                                           "PATHWAY_TOKEN_ORGANIZATION_CLAIM",
                                           names.organization_claim);
  auto lifetime = IntSetting(absl::GetFlag(FLAGS_token_max_lifetime_s), "token_max_lifetime_s",
                             "PATHWAY_TOKEN_MAX_LIFETIME_S", 12 * 3600);
  if (!lifetime.ok()) return lifetime.status();
  idp.max_lifetime = absl::Seconds(*lifetime);
  auto reread_ms = IntSetting(absl::GetFlag(FLAGS_jwks_reread_interval_ms),
                              "jwks_reread_interval_ms", "PATHWAY_JWKS_REREAD_INTERVAL_MS", 1000);
  if (!reread_ms.ok()) return reread_ms.status();
  idp.check_interval = absl::Milliseconds(*reread_ms);
  idp.unknown_kid_reread_interval = absl::Milliseconds(*reread_ms);
  std::string callers =
      StringSetting(absl::GetFlag(FLAGS_service_callers), "PATHWAY_SERVICE_CALLERS", "");
  if (callers == "none") {
    o.service_callers.emplace();
  } else if (!callers.empty()) {
    o.service_callers.emplace();
    for (absl::string_view name : absl::StrSplit(callers, ',', absl::SkipWhitespace())) {
      o.service_callers->push_back(std::string(absl::StripAsciiWhitespace(name)));
    }
  }
  std::string level = StringSetting(absl::GetFlag(FLAGS_log_level), "PATHWAY_LOG_LEVEL", "info");
  if (!log::ParseLevel(level, &o.log_level)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown log level \"", level, "\""));
  }
  absl::Status valid = o.Validate();
  if (!valid.ok()) return valid;
  return o;
}

}  // namespace pathway
