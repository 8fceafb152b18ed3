// A server interceptor that holds every answer until the read audits recorded
// before it are durable (DESIGN.md §6: every read is audited; a read must not be
// answered and then lost with its audit in a crash).
//
// Handlers record a read's entry with runtime.read_audit().Record(...) before they
// finish the call, on whatever thread. When the call's response or status is about
// to be sent, the interceptor takes the buffer's newest ticket and lets the batch
// go on only once every entry up to it is committed: the answer waits for the one
// group commit its entry is in, which concurrent reads share, and no gRPC thread
// blocks meanwhile (the batch proceeds from the buffer's thread). Calls whose
// entries were already written proceed at once. Health and reflection record
// nothing and are never held.
//
// If the audit cannot be written, a held status becomes UNAVAILABLE ("the read
// could not be audited") and a held response message is replaced by an empty one.
//
// Thread-safe. `audit` is not owned and must outlive every server built with the
// factory.
#ifndef PATHWAY_COMMON_SERVER_AUDIT_INTERCEPTOR_H_
#define PATHWAY_COMMON_SERVER_AUDIT_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "common/audit/audit_log.h"

namespace pathway {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewAuditDurabilityInterceptorFactory(AuditBuffer* audit);

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_AUDIT_INTERCEPTOR_H_
