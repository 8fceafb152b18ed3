// Caller: the verified identity an RPC runs as, and the one rule for records
// outside the caller's jurisdiction (DESIGN.md §6). Free of gRPC types, so
// services' logic code can take a `const Caller&`; guard.h produces Callers
// from a call's metadata.
//
//   absl::StatusOr<CaseRecord> GetCase(const Caller& caller, CaseId id) {
//     absl::StatusOr<CaseRecord> record = store_->Get(id);
//     if (absl::IsNotFound(record.status())) return CaseNotFound();
//     RETURN_IF_ERROR(record.status());
//     RETURN_IF_ERROR(CheckInJurisdiction(caller, record->division_code));
//     ...
//   }
//
// A case outside the caller's jurisdiction must look EXACTLY like one that
// does not exist, so that ids cannot be probed: same code, same message, no
// detail in either. Handlers must answer both paths with CaseNotFound (or
// CheckInJurisdiction, which returns it), never with PERMISSION_DENIED or a
// message of their own. For other kinds of record pass a fixed noun as `what`
// ("placement"), never an id or anything from the request.
//
// Caller is a plain value; the functions are thread-safe.
#ifndef PATHWAY_COMMON_AUTH_CALLER_H_
#define PATHWAY_COMMON_AUTH_CALLER_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/auth/role.h"
#include "common/auth/token.h"

namespace pathway {

struct Caller {
  Claims claims;
  // The call's request id (common/trace/request_id.h), for its audit entries;
  // empty when the call came without the server's request id interceptor.
  std::string request_id;

  // The user id (opaque; not personal data, but still keep it out of
  // operational logs: it belongs in the audit trail).
  const std::string& subject() const { return claims.subject; }
  Role role() const { return claims.role; }
  const std::string& jurisdiction() const { return claims.jurisdiction; }
  // The employer's unified social credit code; empty for other roles.
  const std::string& organization() const { return claims.organization; }
  // True if `division_code` (6 digits) is inside the caller's jurisdiction.
  // Fails closed on a malformed code.
  bool Covers(absl::string_view division_code) const;
};

// PERMISSION_DENIED ("role <name> may not call this method") unless `caller`
// holds one of `allowed`. An empty list denies every role.
absl::Status CheckRole(const Caller& caller, std::initializer_list<Role> allowed);

// The single NOT_FOUND status, "<what> not found", for a record that does not
// exist AND for one outside the caller's jurisdiction.
absl::Status CaseNotFound(absl::string_view what = "case");

// OK if `caller` covers `division_code`; otherwise CaseNotFound(what).
absl::Status CheckInJurisdiction(const Caller& caller, absl::string_view division_code,
                                 absl::string_view what = "case");

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_CALLER_H_
