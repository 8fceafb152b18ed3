#include "common/metrics/server_metrics.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/metrics/build_info.h"
#include "prometheus/gauge.h"

namespace pathway {

absl::StatusOr<std::unique_ptr<ServerMetrics>> ServerMetrics::Start(absl::string_view host,
                                                                    int port) {
  if (host.empty()) return absl::InvalidArgumentError("metrics host is empty");
  if (port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics port ", port, " is out of range"));
  }
  std::unique_ptr<ServerMetrics> m(new ServerMetrics());
  m->registry_ = std::make_shared<prometheus::Registry>();
  m->process_ = std::make_shared<ProcessMetrics>();
  m->grpc_ = std::make_unique<GrpcServerMetrics>(*m->registry_);
  prometheus::BuildGauge()
      .Name("pathway_build_info")
      .Help("Always 1; the labels say which version and commit the binary was built from.")
      .Register(*m->registry_)
      .Add({{"version", BuildVersion()}, {"commit", BuildCommit()}})
      .Set(1);

  const std::string address = host.find(':') != absl::string_view::npos
                                  ? absl::StrCat("[", host, "]:", port)  // IPv6 literal
                                  : absl::StrCat(host, ":", port);
  // prometheus-cpp reports a port it cannot bind by throwing (from civetweb); this is
  // the one place Pathway meets that, and it becomes a status here.
  try {
    m->exposer_ = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  m->exposer_->RegisterCollectable(m->registry_);
  m->exposer_->RegisterCollectable(m->process_);
  m->port_ = port;
  return m;
}

ServerMetrics::~ServerMetrics() {
  exposer_.reset();  // no scrape runs while the rest goes
}

void ServerMetrics::AddCollectable(const std::weak_ptr<prometheus::Collectable>& collectable) {
  exposer_->RegisterCollectable(collectable);
}

}  // namespace pathway
