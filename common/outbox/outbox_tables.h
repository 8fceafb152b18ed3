// The outbox table: its schema and every statement the hand-offs run, as typed
// rows. The only SQL of common/outbox; which row is sent when, the backoff and the
// retry-or-park decision are the dispatcher's (outbox.h).
//
//   ASSIGN_OR_RETURN(std::vector<OutboxRow> due,
//                    outbox_tables::ListDueHandoffs(tx, now_us, batch));
//   ASSIGN_OR_RETURN(bool claimed, outbox_tables::ClaimHandoff(tx, id, now_us, until_us));
//
// Every statement is portable SQL (common/store/store.h). Times are microseconds
// since the epoch, as the columns hold them; the payload is bytes. Internal to the
// outbox library. Stateless; thread-safe as the transactions passed in are.
#ifndef PATHWAY_COMMON_OUTBOX_OUTBOX_TABLES_H_
#define PATHWAY_COMMON_OUTBOX_OUTBOX_TABLES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/outbox/outbox.h"
#include "common/store/store.h"

namespace pathway::outbox_tables {

// (The schema is OutboxMigrations(), declared in outbox.h and defined with these
// functions.)

// Adds a pending row due at `now_us`. ALREADY_EXISTS if the key is taken.
absl::Status InsertHandoff(Transaction& tx, const OutboxMessage& message, int64_t now_us);
// As InsertHandoff, but a taken key leaves that row as it is: true if the row was
// added, false if the key was there already.
absl::StatusOr<bool> InsertHandoffOnce(Transaction& tx, const OutboxMessage& message,
                                       int64_t now_us);

// True when the store's migration bookkeeping (schema_migrations) has run a step
// of component "outbox".
absl::StatusOr<bool> HasOutboxMigrations(ReadTransaction& tx);

// Row counts by state and the creation time of the oldest pending row.
absl::StatusOr<OutboxSummary> ReadOutboxSummary(ReadTransaction& tx);

// The highest row id (0 when empty) and the number of rows.
absl::StatusOr<OutboxHighWater> ReadOutboxHighWater(ReadTransaction& tx);

// The ids of the parked rows to `target` (empty: any target), ascending.
absl::StatusOr<std::vector<int64_t>> ListParkedIds(ReadTransaction& tx,
                                                   absl::string_view target);
// True if row `id` is parked and goes to `target` (empty: any target).
absl::StatusOr<bool> IsParked(ReadTransaction& tx, int64_t id, absl::string_view target);
// Puts row `id` back to pending with no attempts, due at `now_us`; the last error
// stays.
absl::Status RequeueHandoff(Transaction& tx, int64_t id, int64_t now_us);

// Up to `limit` rows, by id, that are parked or pending since before
// `created_before_us`.
absl::StatusOr<std::vector<OutboxRow>> ListStuckHandoffRows(ReadTransaction& tx,
                                                           int64_t created_before_us,
                                                           int64_t limit);

// Up to `limit` pending rows, by id, due and unclaimed at `now_us`, with no earlier
// pending row to the same target still waiting out its backoff.
absl::StatusOr<std::vector<OutboxRow>> ListDueHandoffs(ReadTransaction& tx, int64_t now_us,
                                                       int64_t limit);

// Claims row `id` until `until_us`: true if it was pending, due and unclaimed at
// `now_us` and the oldest pending row of its target; false (nothing written)
// otherwise.
absl::StatusOr<bool> ClaimHandoff(Transaction& tx, int64_t id, int64_t now_us,
                                  int64_t until_us);

// Row `id` acknowledged at `now_us`: delivered, one more attempt, no error, no claim.
absl::Status MarkHandoffDelivered(Transaction& tx, int64_t id, int64_t now_us);
// Row `id` failed and is tried again: `attempts` so far, due at `next_attempt_us`,
// with the failure's code name and message; no claim.
absl::Status MarkHandoffRetry(Transaction& tx, int64_t id, int attempts,
                              int64_t next_attempt_us, absl::string_view error_code,
                              absl::string_view error_message);
// Row `id` refused for good: parked, one more attempt, with the refusal's code name
// and message; no claim.
absl::Status MarkHandoffParked(Transaction& tx, int64_t id, absl::string_view error_code,
                               absl::string_view error_message);

}  // namespace pathway::outbox_tables

#endif  // PATHWAY_COMMON_OUTBOX_OUTBOX_TABLES_H_
