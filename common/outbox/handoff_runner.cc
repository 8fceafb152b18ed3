#include "common/outbox/handoff_runner.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/log/log.h"

namespace pathway {

absl::StatusOr<CrashAt> ParseCrashAt(absl::string_view text) {
  CrashAt out;
  if (text.empty()) return out;
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  if (parts.size() > 2) return absl::InvalidArgumentError("crash point: <point>[:<n>]");
  if (parts[0] == "after_commit") {
    out.point = CrashPoint::kAfterCommit;
  } else if (parts[0] == "after_ack") {
    out.point = CrashPoint::kAfterAck;
  } else if (parts[0] == "after_apply") {
    out.point = CrashPoint::kAfterApply;
  } else {
    return absl::InvalidArgumentError("crash point must be after_commit, after_ack or after_apply");
  }
  if (parts.size() == 2 && (!absl::SimpleAtoi(parts[1], &out.nth) || out.nth < 1)) {
    return absl::InvalidArgumentError("crash point count must be a number >= 1");
  }
  return out;
}

absl::Status EnqueueRegistryEvent(Transaction& tx, const registry::v1::ReportEventRequest& event,
                                  absl::Time now) {
  // The same event already queued stays as it is.
  return EnqueueHandoffOnce(tx,
                            {kRegistryTarget, kRegistryReportEventMethod,
                             event.SerializeAsString(), event.source_event_id()},
                            now)
      .status();
}

std::map<std::string, std::string> HandoffTargets(const ServerOptions& o) {
  return {{"registry", o.registry_address},
          {"community_detox", o.detox_address},
          {"compulsory_isolation", o.isolation_address},
          {"community_rehab", o.rehab_address},
          {"placement", o.placement_address}};
}

std::unique_ptr<HandoffRunner> HandoffRunner::Create(ServiceRuntime* runtime, Options options) {
  std::unique_ptr<HandoffRunner> r(new HandoffRunner());
  r->crash_ = options.crash;
  r->background_ = options.background;
  Deliverer* deliverer = options.deliverer;
  if (deliverer == nullptr) {
    r->deliverer_ = std::make_unique<GrpcDeliverer>(HandoffTargets(runtime->options()),
                                                    &runtime->service_tokens(),
                                                    runtime->peer_security());
    deliverer = r->deliverer_.get();
  }
  if (r->crash_.point == CrashPoint::kAfterAck) {
    HandoffRunner* self = r.get();
    options.dispatcher.after_ack = [self] { self->MaybeCrash(CrashPoint::kAfterAck); };
  }
  r->dispatcher_ = std::make_unique<OutboxDispatcher>(&runtime->store(), deliverer,
                                                      &runtime->clock(), options.dispatcher);
  return r;
}

HandoffRunner::~HandoffRunner() { Stop(); }

void HandoffRunner::Start() {
  if (background_) dispatcher_->Start();
}

void HandoffRunner::Stop() {
  if (dispatcher_ != nullptr) dispatcher_->Stop();
}

void HandoffRunner::Committed() {
  MaybeCrash(CrashPoint::kAfterCommit);
  dispatcher_->Notify();
}

void HandoffRunner::Applied() { MaybeCrash(CrashPoint::kAfterApply); }

void HandoffRunner::MaybeCrash(CrashPoint point) {
  if (crash_.point != point) return;
  if (reached_.fetch_add(1) + 1 != crash_.nth) return;
  const char* name = point == CrashPoint::kAfterCommit ? "after_commit"
                     : point == CrashPoint::kAfterAck  ? "after_ack"
                                                       : "after_apply";
  log::Warning("test_crash", {{"point", name}, {"nth", crash_.nth}});
  _exit(137);  // as abrupt as SIGKILL: no destructors, no flush of anything unsynced
}

}  // namespace pathway
