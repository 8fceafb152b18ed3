#include "common/server/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/metrics/outbox_metrics.h"
#include "common/metrics/server_metrics.h"
#include "common/server/access_log.h"
#include "common/server/audit_interceptor.h"
#include "common/status/status_macros.h"
#include "common/trace/request_id_interceptor.h"

namespace pathway {

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const ServerOptions& options, ServiceRuntime* runtime,
    std::vector<RegisteredService> services) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  std::unique_ptr<GrpcServer> gs(new GrpcServer());
  gs->options_ = options;
  gs->runtime_ = runtime;

  // Both are process-wide switches read when a builder is created (STYLE.md: reflection
  // needs the explicit init on Debian's gRPC).
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   MakeServerCredentials(options.tls));
  if (options.metrics_port != 0) {
    ASSIGN_OR_RETURN(gs->metrics_,
                     ServerMetrics::Start(options.listen_host, options.metrics_port));
    gs->outbox_metrics_ = std::make_shared<OutboxMetrics>(&runtime->store(), &runtime->clock());
    gs->metrics_->AddCollectable(gs->outbox_metrics_);
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.ListenAddress(), credentials, &gs->port_);
  // gRPC sets SO_REUSEPORT by default: a second instance on the same port would
  // silently share the traffic (and its own stale database). Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_timeout)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Clients may ping as often as every 10 s without being disconnected for abuse.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // Bounded memory under any offered load (server_options.h).
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  grpc::ResourceQuota quota(absl::StrCat("pathway-", options.service_name));
  quota.Resize(static_cast<size_t>(options.memory_quota_mb) << 20);
  builder.SetResourceQuota(quota);
  gs->operations_ = std::make_unique<OperationsService>(runtime);
  builder.RegisterService(gs->operations_.get());
  gs->health_names_.push_back(common::v1::Operations::service_full_name());
  for (const RegisteredService& s : services) {
    builder.RegisterService(s.service);
    gs->health_names_.push_back(s.name);
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  // Every call gets its request id before any handler reads it (for the audit trail)
  // and sends it back in its initial metadata.
  creators.push_back(NewRequestIdInterceptorFactory());
  // First, so the access log sees (and times) the answer as it leaves.
  creators.push_back(NewAuditDurabilityInterceptorFactory(&runtime->read_audit()));
  creators.push_back(NewAccessLogInterceptorFactory(&runtime->verifier()));
  // Beside the access log, so its latency is the caller's too.
  if (gs->metrics_ != nullptr) creators.push_back(gs->metrics_->grpc().NewInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(creators));

  gs->server_ = builder.BuildAndStart();
  if (gs->server_ == nullptr || gs->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.ListenAddress()));
  }
  grpc::HealthCheckServiceInterface* health = gs->server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  for (const std::string& name : gs->health_names_) health->SetServingStatus(name, true);
  // Unknown until the first probe; the probe runs at once.
  health->SetServingStatus(kStatusCacheHealthName, false);
  health->SetServingStatus(kAuditHealthName, false);  // until the first verification
  gs->monitor_ = std::thread([raw = gs.get()] { raw->MonitorCache(); });
  gs->audit_monitor_ = std::thread([raw = gs.get()] { raw->MonitorAudit(); });

  log::Info("server_started", {{"service", options.service_name},
                               {"address", absl::StrCat(options.listen_host, ":", gs->port_)}});
  if (gs->metrics_ != nullptr) {
    log::Info("metrics_serving",
              {{"service", options.service_name},
               {"address", absl::StrCat(options.listen_host, ":", gs->metrics_->port())}});
  }
  return gs;
}

void GrpcServer::MonitorCache() {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  bool reported = false;
  bool first = true;
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.Unlock();
    // Ping honours the cache's own connect and command timeouts, so a hung Redis
    // delays only this thread, never an RPC.
    bool healthy = runtime_->cache().Ping().ok();
    mu_.Lock();
    if (stopping_) break;
    if (first || healthy != reported) {
      health->SetServingStatus(kStatusCacheHealthName, healthy);
      if (healthy) {
        log::Info("status_cache_up", {{"service", options_.service_name}});
        // Statuses written while it was away are owed to it: send them now.
        runtime_->StatusCacheAnswered();
      } else {
        log::Warning("status_cache_down", {{"service", options_.service_name}});
      }
      reported = healthy;
      first = false;
    }
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.cache_probe_interval);
  }
}

void GrpcServer::MonitorAudit() {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  absl::Time next_verify = absl::Now();
  absl::Time next_anchor = absl::Now() + options_.audit_anchor_interval;
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    const absl::Time now = absl::Now();
    if (now >= next_verify) {
      mu_.Unlock();
      AuditVerifyReport report;
      const absl::Status s = runtime_->VerifyAudit(&report);
      if (s.ok()) {
        log::Info("audit_verified", {{"service", options_.service_name},
                                     {"rows", report.rows_checked},
                                     {"anchors", report.anchors_checked}});
      } else {
        // The chain failure itself is logged by the verifier, with the seq.
        log::Error("audit_verify_failed", {{"service", options_.service_name},
                                           {"code", absl::StatusCodeToString(s.code())},
                                           {"seq", report.first_bad_seq}});
      }
      mu_.Lock();
      if (stopping_) break;
      health->SetServingStatus(kAuditHealthName, s.ok());
      next_verify = absl::Now() + options_.audit_verify_interval;
    }
    if (now >= next_anchor) {
      mu_.Unlock();
      absl::Status s = runtime_->AnchorAudit();
      if (!s.ok()) log::Error("audit_anchor_failed", {{"service", options_.service_name}});
      mu_.Lock();
      next_anchor = absl::Now() + options_.audit_anchor_interval;
    }
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), std::min(next_verify, next_anchor));
  }
}

void GrpcServer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    stopping_ = true;
  }
  if (monitor_.joinable()) monitor_.join();
  if (audit_monitor_.joinable()) audit_monitor_.join();
  if (server_ == nullptr) return;  // never started (e.g. the port was taken)
  log::Info("server_draining", {{"service", options_.service_name}});
  // Every name, "" included, goes NOT_SERVING so load balancers stop sending work.
  server_->GetHealthCheckService()->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(absl::ToInt64Milliseconds(options_.drain_timeout)));
  server_->Wait();
  if (absl::Status flushed = runtime_->read_audit().Flush(); !flushed.ok()) {
    log::Error("audit_flush_failed", {{"service", options_.service_name},
                                      {"error", flushed.ToString()}});
  }
  if (absl::Status anchored = runtime_->AnchorAudit(); !anchored.ok()) {
    log::Error("audit_anchor_failed", {{"service", options_.service_name}});
  }
  log::Info("server_stopped", {{"service", options_.service_name}});
}

GrpcServer::~GrpcServer() { Shutdown(); }

}  // namespace pathway
