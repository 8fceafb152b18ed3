#include "common/server/server_options.h"

#include "absl/strings/str_cat.h"
#include "common/auth/service_identity.h"

namespace pathway {

absl::Status ServerOptions::Validate() const {
  if (service_name.empty()) return absl::InvalidArgumentError("service_name is empty");
  if (listen_host.empty()) return absl::InvalidArgumentError("listen_host is empty");
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", port, " is out of range 0..65535"));
  }
  if (metrics_port < 0 || metrics_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_port ", metrics_port, " is out of range 0..65535"));
  }
  if (metrics_port != 0 && metrics_port == port) {
    return absl::InvalidArgumentError("metrics_port must differ from port");
  }
  if (data_dir.empty()) return absl::InvalidArgumentError("data_dir is empty");
  if (absl::Status s = ValidateServerTls(tls); !s.ok()) return s;
  if (!identity_provider.jwks_file.empty()) {
    if (absl::Status s = ValidateJwksVerifierOptions(identity_provider); !s.ok()) return s;
  }
  if (token_key_file.empty()) return absl::InvalidArgumentError("token_key_file is empty");
  if (service_callers.has_value()) {
    for (const std::string& caller : *service_callers) {
      if (!IsServiceName(caller)) {
        return absl::InvalidArgumentError(
            absl::StrCat("service_callers: \"", caller, "\" is not a Pathway service"));
      }
    }
  }
  if (redis.port <= 0 || redis.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("redis port ", redis.port, " is out of range"));
  }
  if (cache_probe_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("cache_probe_interval must be positive");
  }
  if (drain_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("drain_timeout must not be negative");
  }
  if (max_message_bytes < 64 * 1024) {
    return absl::InvalidArgumentError("max_message_bytes must be at least 64 KiB");
  }
  if (keepalive_time < absl::Seconds(10) || keepalive_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("keepalive_time must be >= 10s and keepalive_timeout > 0");
  }
  for (const std::string* peer : {&registry_address, &detox_address, &isolation_address,
                                  &rehab_address, &placement_address}) {
    if (peer->empty()) return absl::InvalidArgumentError("a peer service address is empty");
  }
  if (peer_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("peer_timeout must be positive");
  }
  if (audit_anchor_interval <= absl::ZeroDuration() ||
      audit_verify_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("audit anchor and verify intervals must be positive");
  }
  if (status_refresh_hour < 0 || status_refresh_hour > 23) {
    return absl::InvalidArgumentError("status_refresh_hour must be 0 to 23");
  }
  if (status_refresh_check_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("status_refresh_check_interval must be positive");
  }
  if (status_republish_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("status_republish_interval must be positive");
  }
  if (handler_threads < 1 || handler_threads > 1024) {
    return absl::InvalidArgumentError("handler_threads must be 1 to 1024");
  }
  if (max_queued < 1 || max_queued > 1000000) {
    return absl::InvalidArgumentError("max_queued must be 1 to 1000000");
  }
  if (max_concurrent_streams < 1 || max_concurrent_streams > 100000) {
    return absl::InvalidArgumentError("max_concurrent_streams must be 1 to 100000");
  }
  if (memory_quota_mb < 16 || memory_quota_mb > 1048576) {
    return absl::InvalidArgumentError("memory_quota_mb must be 16 to 1048576");
  }
  return absl::OkStatus();
}

std::vector<std::string> ServerOptions::ServiceCallers() const {
  return service_callers.has_value() ? *service_callers : DefaultServiceCallers(service_name);
}

std::string ServerOptions::ListenAddress() const {
  if (listen_host.find(':') != std::string::npos) {  // IPv6 literal
    return absl::StrCat("[", listen_host, "]:", port);
  }
  return absl::StrCat(listen_host, ":", port);
}

std::string ServerOptions::DatabasePath() const {
  return absl::StrCat(data_dir, "/", service_name, ".db");
}

std::string ServerOptions::AuditAnchorPath() const {
  return absl::StrCat(data_dir, "/", service_name, ".audit-anchor");
}

}  // namespace pathway
