// Status propagation macros, after Arrow's RETURN_NOT_OK: Debian's abseil
// (20220623) ships none.
//
//   absl::Status Load() {
//     RETURN_IF_ERROR(Open());
//     ASSIGN_OR_RETURN(Row row, ReadRow());
//     ...
//   }
#ifndef PATHWAY_COMMON_STATUS_STATUS_MACROS_H_
#define PATHWAY_COMMON_STATUS_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PATHWAY_STATUS_CONCAT_INNER_(a, b) a##b
#define PATHWAY_STATUS_CONCAT_(a, b) PATHWAY_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function
// if it is not OK.
// The variable is named per line so that a RETURN_IF_ERROR inside a lambda passed to
// another RETURN_IF_ERROR does not shadow the outer one (-Wshadow).
#define RETURN_IF_ERROR(expr) \
  PATHWAY_RETURN_IF_ERROR_IMPL_(PATHWAY_STATUS_CONCAT_(pathway_status_, __LINE__), expr)

#define PATHWAY_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                              \
    ::absl::Status status = (expr);                 \
    if (!status.ok()) return status;                \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs`, which may be a declaration.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                      \
  PATHWAY_ASSIGN_OR_RETURN_IMPL_(                                         \
      PATHWAY_STATUS_CONCAT_(pathway_statusor_, __LINE__), lhs, rexpr)

#define PATHWAY_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // PATHWAY_COMMON_STATUS_STATUS_MACROS_H_
