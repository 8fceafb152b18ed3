// RedisStatusCache: the StatusCache over Redis (hiredis 0.14), as DESIGN.md §4
// describes: one hash per case ("<key_prefix><case_id>"), one field per
// programme, a version-checked write in one Lua script, and reads in one round
// trip.
//
//   RedisCacheOptions options;
//   options.host = "redis.pathway.svc";
//   absl::StatusOr<std::unique_ptr<RedisStatusCache>> cache =
//       RedisStatusCache::Create(options);   // succeeds even if Redis is down
//   if (!cache.ok()) return cache.status();  // only bad options fail
//
// Redis being down, slow or hung must cost callers next to nothing:
//  - Connections are made lazily and pooled (at most pool_size). Waiting for a
//    free connection is bounded by command_timeout, then UNAVAILABLE.
//  - Every connect is bounded by connect_timeout and every command by
//    command_timeout (socket timeouts), so a hung Redis cannot hang a caller.
//  - A connection that saw an error is discarded, never reused. When the error
//    was a failed connect or a broken/timed-out connection, the idle pool is
//    dropped too and no new connection is tried until reconnect_backoff has
//    passed: meanwhile calls fail at once with UNAVAILABLE.
//  - An idle connection the server closed (restart, idle timeout) is retried
//    once on a fresh connection, so a Redis restart is not seen by callers.
//  - Callers get a generic "status cache unavailable"; details are logged,
//    once per transition between healthy and unhealthy (debug otherwise).
// SIGPIPE from writing to a dead server is blocked and discarded on the
// calling thread; the process's signal dispositions are not changed.
//
// Ownership: the cache owns its connections. `clock` passed to Create is not
// owned and must outlive the cache (nullptr: the real clock); it times only
// the reconnect backoff. Do not destroy the cache while calls are in flight.
// Thread safety: thread-safe; all methods may be called concurrently.
#ifndef PATHWAY_COMMON_CACHE_REDIS_STATUS_CACHE_H_
#define PATHWAY_COMMON_CACHE_REDIS_STATUS_CACHE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/cache/status_cache.h"
#include "common/clock/clock.h"

struct redisContext;
struct redisReply;

namespace pathway {

struct RedisCacheOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // Maximum connections held open (1 to 1024).
  int pool_size = 8;
  // Bound on each TCP connect (> 0, at most 1 minute).
  absl::Duration connect_timeout = absl::Milliseconds(200);
  // Bound on each socket read/write, and on waiting for a pooled connection
  // (> 0, at most 1 minute).
  absl::Duration command_timeout = absl::Milliseconds(200);
  // After a failure, no new connection is tried for this long (>= 0).
  absl::Duration reconnect_backoff = absl::Milliseconds(500);
  // Expiry set on a case's hash at every accepted write; zero for none.
  // Millisecond precision.
  absl::Duration entry_ttl = absl::Hours(24 * 30);
  // Prefix of every key (1 to 64 printable ASCII characters, no spaces).
  std::string key_prefix = "pathway:case:";
  // When non-empty, sent with AUTH on every new connection.
  std::string password;
};

class RedisStatusCache final : public StatusCache {
 public:
  // Counters for metrics and tests; monotonic.
  struct Stats {
    int64_t connect_attempts = 0;
    int64_t connect_failures = 0;
    // Calls that failed after reaching for Redis (I/O error, timeout, error
    // reply), not counting fast failures.
    int64_t command_failures = 0;
    // Calls failed at once because of reconnect_backoff.
    int64_t fast_failures = 0;
  };

  // Validates `options` (INVALID_ARGUMENT if bad) and returns a cache that
  // connects lazily: it does not contact Redis. `clock`: see the file comment.
  static absl::StatusOr<std::unique_ptr<RedisStatusCache>> Create(
      const RedisCacheOptions& options, const Clock* clock = nullptr);

  RedisStatusCache(const RedisStatusCache&) = delete;
  RedisStatusCache& operator=(const RedisStatusCache&) = delete;
  ~RedisStatusCache() override;

  absl::StatusOr<bool> Put(absl::string_view case_id, Programme programme,
                           const ProgrammeStatus& status) override;
  absl::StatusOr<CaseStatusEntries> Get(absl::string_view case_id) override;
  absl::StatusOr<std::vector<CaseStatusEntries>> GetMany(
      const std::vector<std::string>& case_ids) override;
  absl::StatusOr<bool> Remove(absl::string_view case_id, Programme programme,
                              int64_t max_version) override;
  absl::StatusOr<ScanPage> Scan(absl::string_view cursor, int count) override;
  // One pipelined round trip of EVALSHA (the same scripts as Put / Remove) on
  // one connection; each entry is atomic on its own, the batch is not.
  absl::StatusOr<std::vector<bool>> PutMany(
      const std::vector<PutEntry>& entries) override;
  absl::StatusOr<std::vector<bool>> RemoveMany(
      const std::vector<RemoveEntry>& entries) override;
  absl::Status Ping() override;
  bool Healthy() const override;

  Stats GetStats() const;

 private:
  struct ReplyDeleter {
    void operator()(redisReply* reply) const;
  };
  using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
  using Command = std::vector<std::string>;

  struct Connection {
    redisContext* context = nullptr;
    uint64_t generation = 0;
  };

  RedisStatusCache(const RedisCacheOptions& options, const Clock* clock);

  // Sends `commands` pipelined on one pooled connection and reads one reply
  // each. Error replies are returned as replies; connection-level failures
  // as UNAVAILABLE (after the retry and backoff rules above).
  absl::StatusOr<std::vector<Reply>> Run(const std::vector<Command>& commands,
                                         absl::string_view op);
  // Runs a script with EVALSHA, then EVAL if the server answers NOSCRIPT.
  absl::StatusOr<Reply> RunScript(absl::string_view script,
                                  const std::string& sha,
                                  const std::vector<std::string>& keys_and_args,
                                  absl::string_view op);

  // RunScript for many invocations, pipelined; entries answered NOSCRIPT are
  // sent again with EVAL. One reply per invocation, in order.
  absl::StatusOr<std::vector<Reply>> RunScriptMany(
      absl::string_view script, const std::string& sha,
      const std::vector<std::vector<std::string>>& keys_and_args,
      absl::string_view op);
  // The TTL argument of the put script, in milliseconds (0: none).
  int64_t TtlMillis() const;

  // Pool. Acquire sets *reused to whether the connection came from the pool.
  absl::StatusOr<Connection> Acquire(bool* reused);
  absl::StatusOr<redisContext*> Connect();
  void Release(Connection connection);
  void Discard(Connection connection, bool broken);

  // Health bookkeeping and the generic errors returned to callers.
  void MarkHealthy();
  void MarkUnhealthy(absl::string_view op, absl::string_view reason);
  absl::Status ReplyFailure(absl::string_view op, const redisReply* reply);

  std::string Key(absl::string_view case_id) const;
  // Decodes an HGETALL reply; corrupt entries are skipped and logged.
  CaseStatusEntries DecodeEntries(const redisReply& reply) const;

  const RedisCacheOptions options_;
  std::unique_ptr<Clock> owned_clock_;
  const Clock* clock_;
  const std::string put_sha_;
  const std::string remove_sha_;
  const std::string scan_pattern_;

  std::atomic<bool> healthy_{true};

  mutable absl::Mutex mu_;
  absl::CondVar pool_cv_;
  std::vector<Connection> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + in use + connecting
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time next_connect_allowed_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_CACHE_REDIS_STATUS_CACHE_H_
