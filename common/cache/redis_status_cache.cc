#include "common/cache/redis_status_cache.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/cache/scoped_sigpipe_block.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

// The only message callers see for any Redis trouble (STYLE.md rule 5).
constexpr absl::string_view kUnavailable = "status cache unavailable";

// Versions are compared as canonical decimal strings (length, then
// lexicographically), never as Lua numbers: those are doubles and would lose
// precision above 2^53. A cached value whose version cannot be read is
// treated as corrupt and overwritten.
//
// KEYS[1] = case hash; ARGV = field, version, encoded value, ttl in ms (0:
// none)
constexpr absl::string_view kPutScript = R"lua(
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local v = string.match(cur, '^([1-9]%d*)|')
  if v and #v <= 19 then
    local new = ARGV[2]
    if #v > #new or (#v == #new and v >= new) then return 0 end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
local ttl = tonumber(ARGV[4])
if ttl and ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
)lua";

// Removes the field if its version is <= max_version, or if it is corrupt.
// KEYS[1] = case hash; ARGV = field, max_version
constexpr absl::string_view kRemoveScript = R"lua(
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local v = string.match(cur, '^([1-9]%d*)|')
if v and #v <= 19 then
  local max = ARGV[2]
  if #v > #max or (#v == #max and v > max) then return 0 end
end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
)lua";

// Error replies that mean the server cannot serve us at all (as opposed to
// a problem with one key); they mark the cache unhealthy.
constexpr absl::string_view kServerDownErrors[] = {
    "LOADING", "BUSY", "NOAUTH", "NOPERM", "WRONGPASS", "MASTERDOWN"};

std::string Sha1Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(),
                 nullptr) != 1) {
    return "";  // EVALSHA then fails with NOSCRIPT and EVAL is used.
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

// Escapes glob metacharacters so the prefix matches itself in SCAN MATCH.
std::string GlobPattern(absl::string_view prefix) {
  std::string pattern;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
      pattern.push_back('\\');
    }
    pattern.push_back(c);
  }
  pattern.push_back('*');
  return pattern;
}

absl::string_view ReplyText(const redisReply& reply) {
  if (reply.str == nullptr) return absl::string_view();
  return absl::string_view(reply.str, reply.len);
}

bool IsError(const redisReply& reply, absl::string_view code) {
  return reply.type == REDIS_REPLY_ERROR &&
         absl::StartsWith(ReplyText(reply), code);
}

absl::Status CheckDuration(absl::Duration d, absl::string_view name,
                           bool allow_zero, absl::Duration max) {
  if (d < absl::ZeroDuration() || (!allow_zero && d == absl::ZeroDuration()) ||
      d > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be ", allow_zero ? ">= 0" : "> 0",
                     " and at most ", absl::FormatDuration(max)));
  }
  return absl::OkStatus();
}

absl::Status ValidateOptions(const RedisCacheOptions& o) {
  if (o.host.empty()) return absl::InvalidArgumentError("host is required");
  if (o.port < 1 || o.port > 65535) {
    return absl::InvalidArgumentError("port must be 1 to 65535");
  }
  if (o.pool_size < 1 || o.pool_size > 1024) {
    return absl::InvalidArgumentError("pool_size must be 1 to 1024");
  }
  RETURN_IF_ERROR(CheckDuration(o.connect_timeout, "connect_timeout",
                                /*allow_zero=*/false, absl::Minutes(1)));
  RETURN_IF_ERROR(CheckDuration(o.command_timeout, "command_timeout",
                                /*allow_zero=*/false, absl::Minutes(1)));
  RETURN_IF_ERROR(CheckDuration(o.reconnect_backoff, "reconnect_backoff",
                                /*allow_zero=*/true, absl::Hours(1)));
  RETURN_IF_ERROR(CheckDuration(o.entry_ttl, "entry_ttl", /*allow_zero=*/true,
                                absl::Hours(24 * 365 * 10)));
  if (o.entry_ttl > absl::ZeroDuration() &&
      o.entry_ttl < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("entry_ttl must be 0 or >= 1ms");
  }
  bool prefix_ok = !o.key_prefix.empty() && o.key_prefix.size() <= 64;
  for (char c : o.key_prefix) {
    if (!absl::ascii_isgraph(c)) prefix_ok = false;
  }
  if (!prefix_ok) {
    return absl::InvalidArgumentError(
        "key_prefix must be 1 to 64 printable ASCII characters, no spaces");
  }
  return absl::OkStatus();
}

}  // namespace

void RedisStatusCache::ReplyDeleter::operator()(redisReply* reply) const {
  freeReplyObject(reply);
}

absl::StatusOr<std::unique_ptr<RedisStatusCache>> RedisStatusCache::Create(
    const RedisCacheOptions& options, const Clock* clock) {
  RETURN_IF_ERROR(ValidateOptions(options));
  return std::unique_ptr<RedisStatusCache>(
      new RedisStatusCache(options, clock));
}

RedisStatusCache::RedisStatusCache(const RedisCacheOptions& options,
                                   const Clock* clock)
    : options_(options),
      owned_clock_(clock == nullptr ? std::make_unique<RealClock>() : nullptr),
      clock_(clock == nullptr ? owned_clock_.get() : clock),
      put_sha_(Sha1Hex(kPutScript)),
      remove_sha_(Sha1Hex(kRemoveScript)),
      scan_pattern_(GlobPattern(options.key_prefix)) {}

RedisStatusCache::~RedisStatusCache() {
  absl::MutexLock lock(&mu_);
  for (Connection& c : idle_) redisFree(c.context);
  idle_.clear();
}

bool RedisStatusCache::Healthy() const { return healthy_.load(); }

RedisStatusCache::Stats RedisStatusCache::GetStats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

std::string RedisStatusCache::Key(absl::string_view case_id) const {
  return absl::StrCat(options_.key_prefix, case_id);
}

// ---------------------------------------------------------------------------
// Health and errors.

void RedisStatusCache::MarkHealthy() {
  if (!healthy_.exchange(true)) {
    log::Info("status_cache_healthy",
              {{"host", options_.host}, {"port", options_.port}});
  }
}

void RedisStatusCache::MarkUnhealthy(absl::string_view op,
                                     absl::string_view reason) {
  if (healthy_.exchange(false)) {
    log::Warning("status_cache_unhealthy", {{"op", op},
                                            {"reason", reason},
                                            {"host", options_.host},
                                            {"port", options_.port}});
  } else {
    log::Debug("status_cache_failure", {{"op", op}, {"reason", reason}});
  }
}

absl::Status RedisStatusCache::ReplyFailure(absl::string_view op,
                                            const redisReply* reply) {
  {
    absl::MutexLock lock(&mu_);
    ++stats_.command_failures;
  }
  if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
    // Redis error texts name the problem, never a stored value.
    log::Warning("status_cache_error_reply",
                 {{"op", op}, {"error", ReplyText(*reply).substr(0, 160)}});
  } else {
    log::Warning("status_cache_unexpected_reply",
                 {{"op", op}, {"type", reply == nullptr ? -1 : reply->type}});
  }
  return absl::UnavailableError(kUnavailable);
}

// ---------------------------------------------------------------------------
// Connection pool.

absl::StatusOr<redisContext*> RedisStatusCache::Connect() {
  redisContext* c =
      redisConnectWithTimeout(options_.host.c_str(), options_.port,
                              absl::ToTimeval(options_.connect_timeout));
  if (c == nullptr) return absl::UnavailableError("cannot allocate context");
  if (c->err != 0) {
    absl::Status s = absl::UnavailableError(c->errstr);
    redisFree(c);
    return s;
  }
  if (redisSetTimeout(c, absl::ToTimeval(options_.command_timeout)) !=
      REDIS_OK) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("cannot set socket timeout: ", c->errstr));
    redisFree(c);
    return s;
  }
  if (!options_.password.empty()) {
    const char* argv[] = {"AUTH", options_.password.data()};
    const size_t lengths[] = {4, options_.password.size()};
    Reply reply(
        static_cast<redisReply*>(redisCommandArgv(c, 2, argv, lengths)));
    absl::Status s;
    if (reply == nullptr) {
      s = absl::UnavailableError(absl::StrCat("AUTH: ", c->errstr));
    } else if (reply->type != REDIS_REPLY_STATUS) {
      s = absl::UnavailableError("AUTH rejected");  // Never log the password.
    }
    if (!s.ok()) {
      redisFree(c);
      return s;
    }
  }
  return c;
}

absl::StatusOr<RedisStatusCache::Connection> RedisStatusCache::Acquire(
    bool* reused) {
  *reused = false;
  uint64_t generation = 0;
  bool exhausted = false;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + options_.command_timeout;
    while (idle_.empty() && open_ >= options_.pool_size) {
      if (pool_cv_.WaitWithDeadline(&mu_, deadline) && idle_.empty() &&
          open_ >= options_.pool_size) {
        exhausted = true;
        break;
      }
    }
    if (!exhausted) {
      if (!idle_.empty()) {
        Connection connection = idle_.back();
        idle_.pop_back();
        *reused = true;
        return connection;
      }
      if (clock_->Now() < next_connect_allowed_) {
        ++stats_.fast_failures;
        return absl::UnavailableError(kUnavailable);
      }
      ++open_;
      ++stats_.connect_attempts;
      generation = generation_;
    }
  }
  if (exhausted) {
    // Busy, not broken: health is unchanged.
    log::Warning("status_cache_pool_exhausted",
                 {{"pool_size", options_.pool_size}});
    return absl::UnavailableError(kUnavailable);
  }

  absl::StatusOr<redisContext*> context = Connect();
  if (!context.ok()) {
    {
      absl::MutexLock lock(&mu_);
      --open_;
      ++stats_.connect_failures;
      next_connect_allowed_ = clock_->Now() + options_.reconnect_backoff;
      pool_cv_.Signal();
    }
    MarkUnhealthy("connect", context.status().message());
    return absl::UnavailableError(kUnavailable);
  }
  return Connection{*context, generation};
}

void RedisStatusCache::Release(Connection connection) {
  absl::MutexLock lock(&mu_);
  if (connection.generation == generation_) {
    idle_.push_back(connection);
  } else {
    redisFree(connection.context);
    --open_;
  }
  pool_cv_.Signal();
}

void RedisStatusCache::Discard(Connection connection, bool broken) {
  std::vector<Connection> dropped;
  {
    absl::MutexLock lock(&mu_);
    // Whatever broke this connection (server gone, restarted, hung) most
    // likely broke the idle ones too: drop them, and those in use now are
    // dropped when released.
    ++generation_;
    dropped.swap(idle_);
    open_ -= static_cast<int>(dropped.size()) + 1;
    if (broken) {
      next_connect_allowed_ = clock_->Now() + options_.reconnect_backoff;
    }
    pool_cv_.SignalAll();
  }
  redisFree(connection.context);
  for (Connection& c : dropped) redisFree(c.context);
}

// ---------------------------------------------------------------------------
// Commands.

absl::StatusOr<std::vector<RedisStatusCache::Reply>> RedisStatusCache::Run(
    const std::vector<Command>& commands, absl::string_view op) {
  for (int attempt = 0;; ++attempt) {
    ScopedSigpipeBlock no_sigpipe;
    bool reused = false;
    ASSIGN_OR_RETURN(Connection connection, Acquire(&reused));
    redisContext* c = connection.context;

    bool ok = true;
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const Command& command : commands) {
      argv.clear();
      lengths.clear();
      for (const std::string& arg : command) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
      }
      if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(),
                                 lengths.data()) != REDIS_OK) {
        ok = false;
        break;
      }
    }
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (size_t i = 0; ok && i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
        ok = false;
        break;
      }
      replies.emplace_back(static_cast<redisReply*>(raw));
    }
    const int saved_errno = errno;

    if (ok) {
      Release(connection);
      absl::string_view down_error;
      for (const Reply& reply : replies) {
        for (absl::string_view code : kServerDownErrors) {
          if (IsError(*reply, code)) down_error = code;
        }
      }
      if (down_error.empty()) {
        MarkHealthy();
      } else {
        MarkUnhealthy(op, down_error);
      }
      return replies;
    }

    // The connection is unusable (I/O error, timeout, EOF, protocol error).
    const bool closed_by_server =
        c->err == REDIS_ERR_EOF ||
        (c->err == REDIS_ERR_IO &&
         (saved_errno == ECONNRESET || saved_errno == EPIPE));
    const bool retry = attempt == 0 && reused && closed_by_server;
    const std::string reason =
        c->err != 0 ? std::string(c->errstr) : std::string("append failed");
    Discard(connection, /*broken=*/!retry);
    if (retry) {
      log::Debug("status_cache_stale_connection", {{"op", op}});
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      ++stats_.command_failures;
    }
    MarkUnhealthy(op, reason);
    return absl::UnavailableError(kUnavailable);
  }
}

absl::StatusOr<RedisStatusCache::Reply> RedisStatusCache::RunScript(
    absl::string_view script, const std::string& sha,
    const std::vector<std::string>& keys_and_args, absl::string_view op) {
  Command command = {"EVALSHA", sha, "1"};
  command.insert(command.end(), keys_and_args.begin(), keys_and_args.end());
  ASSIGN_OR_RETURN(std::vector<Reply> replies, Run({command}, op));
  if (IsError(*replies[0], "NOSCRIPT")) {
    // First use on this server (or it restarted): EVAL also caches it.
    command[0] = "EVAL";
    command[1] = std::string(script);
    ASSIGN_OR_RETURN(replies, Run({command}, op));
  }
  return std::move(replies[0]);
}

absl::StatusOr<std::vector<RedisStatusCache::Reply>>
RedisStatusCache::RunScriptMany(
    absl::string_view script, const std::string& sha,
    const std::vector<std::vector<std::string>>& keys_and_args,
    absl::string_view op) {
  std::vector<Command> commands;
  commands.reserve(keys_and_args.size());
  for (const std::vector<std::string>& args : keys_and_args) {
    Command command = {"EVALSHA", sha, "1"};
    command.insert(command.end(), args.begin(), args.end());
    commands.push_back(std::move(command));
  }
  ASSIGN_OR_RETURN(std::vector<Reply> replies, Run(commands, op));
  // Scripts not loaded (first use on this server, or it restarted): the
  // refused entries did nothing, so EVAL them (which also caches the script).
  std::vector<size_t> again;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (IsError(*replies[i], "NOSCRIPT")) again.push_back(i);
  }
  if (!again.empty()) {
    std::vector<Command> retry;
    retry.reserve(again.size());
    for (size_t i : again) {
      Command command = std::move(commands[i]);
      command[0] = "EVAL";
      command[1] = std::string(script);
      retry.push_back(std::move(command));
    }
    ASSIGN_OR_RETURN(std::vector<Reply> retried, Run(retry, op));
    for (size_t k = 0; k < again.size(); ++k) {
      replies[again[k]] = std::move(retried[k]);
    }
  }
  return replies;
}

int64_t RedisStatusCache::TtlMillis() const {
  if (options_.entry_ttl <= absl::ZeroDuration()) return 0;
  return std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.entry_ttl));
}

CaseStatusEntries RedisStatusCache::DecodeEntries(
    const redisReply& reply) const {
  CaseStatusEntries entries;
  for (size_t i = 0; i + 1 < reply.elements; i += 2) {
    const redisReply* field = reply.element[i];
    const redisReply* value = reply.element[i + 1];
    if (field == nullptr || value == nullptr ||
        field->type != REDIS_REPLY_STRING ||
        value->type != REDIS_REPLY_STRING) {
      log::Warning("status_cache_corrupt_entry", {{"reason", "reply type"}});
      continue;
    }
    Programme programme;
    if (!ParseProgrammeField(ReplyText(*field), &programme)) {
      // Not ours (or corrupt): the field name is not logged, it could be
      // anything.
      log::Warning("status_cache_corrupt_entry", {{"reason", "unknown field"}});
      continue;
    }
    std::optional<ProgrammeStatus> status =
        DecodeProgrammeStatus(ReplyText(*value));
    if (!status.has_value()) {
      // The value is not logged: it could hold anything.
      log::Warning(
          "status_cache_corrupt_entry",
          {{"reason", "bad value"}, {"programme", ProgrammeField(programme)}});
      continue;
    }
    entries[programme] = *std::move(status);
  }
  return entries;
}

absl::StatusOr<bool> RedisStatusCache::Put(absl::string_view case_id,
                                           Programme programme,
                                           const ProgrammeStatus& status) {
  RETURN_IF_ERROR(ValidateCaseId(case_id));
  RETURN_IF_ERROR(ValidateProgrammeStatus(status));
  const int64_t ttl_ms = TtlMillis();
  ASSIGN_OR_RETURN(
      Reply reply,
      RunScript(kPutScript, put_sha_,
                {Key(case_id), std::string(ProgrammeField(programme)),
                 absl::StrCat(status.version), EncodeProgrammeStatus(status),
                 absl::StrCat(ttl_ms)},
                "put"));
  if (reply->type != REDIS_REPLY_INTEGER) {
    return ReplyFailure("put", reply.get());
  }
  return reply->integer == 1;
}

absl::StatusOr<CaseStatusEntries> RedisStatusCache::Get(
    absl::string_view case_id) {
  RETURN_IF_ERROR(ValidateCaseId(case_id));
  ASSIGN_OR_RETURN(std::vector<Reply> replies,
                   Run({{"HGETALL", Key(case_id)}}, "get"));
  const redisReply& reply = *replies[0];
  if (reply.type == REDIS_REPLY_ARRAY) return DecodeEntries(reply);
  if (IsError(reply, "WRONGTYPE")) {
    log::Warning("status_cache_corrupt_entry", {{"reason", "wrong key type"}});
    return CaseStatusEntries();
  }
  return ReplyFailure("get", &reply);
}

absl::StatusOr<std::vector<CaseStatusEntries>> RedisStatusCache::GetMany(
    const std::vector<std::string>& case_ids) {
  if (case_ids.size() > static_cast<size_t>(kMaxGetManyCases)) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxGetManyCases, " case ids per call"));
  }
  for (const std::string& id : case_ids) RETURN_IF_ERROR(ValidateCaseId(id));
  if (case_ids.empty()) return std::vector<CaseStatusEntries>();
  std::vector<Command> commands;
  commands.reserve(case_ids.size());
  for (const std::string& id : case_ids) {
    commands.push_back({"HGETALL", Key(id)});
  }
  ASSIGN_OR_RETURN(std::vector<Reply> replies, Run(commands, "get_many"));
  std::vector<CaseStatusEntries> result;
  result.reserve(replies.size());
  for (const Reply& reply : replies) {
    if (reply->type == REDIS_REPLY_ARRAY) {
      result.push_back(DecodeEntries(*reply));
    } else if (IsError(*reply, "WRONGTYPE")) {
      log::Warning("status_cache_corrupt_entry",
                   {{"reason", "wrong key type"}});
      result.emplace_back();
    } else {
      return ReplyFailure("get_many", reply.get());
    }
  }
  return result;
}

absl::StatusOr<bool> RedisStatusCache::Remove(absl::string_view case_id,
                                              Programme programme,
                                              int64_t max_version) {
  RETURN_IF_ERROR(ValidateCaseId(case_id));
  if (max_version < 0) {
    return absl::InvalidArgumentError("max_version must not be negative");
  }
  ASSIGN_OR_RETURN(
      Reply reply,
      RunScript(kRemoveScript, remove_sha_,
                {Key(case_id), std::string(ProgrammeField(programme)),
                 absl::StrCat(max_version)},
                "remove"));
  if (reply->type != REDIS_REPLY_INTEGER) {
    return ReplyFailure("remove", reply.get());
  }
  return reply->integer == 1;
}

absl::StatusOr<std::vector<bool>> RedisStatusCache::PutMany(
    const std::vector<PutEntry>& entries) {
  RETURN_IF_ERROR(ValidatePutMany(entries));
  if (entries.empty()) return std::vector<bool>();
  const std::string ttl_ms = absl::StrCat(TtlMillis());
  std::vector<std::vector<std::string>> args;
  args.reserve(entries.size());
  for (const PutEntry& e : entries) {
    args.push_back({Key(e.case_id), std::string(ProgrammeField(e.programme)),
                    absl::StrCat(e.status.version),
                    EncodeProgrammeStatus(e.status), ttl_ms});
  }
  ASSIGN_OR_RETURN(std::vector<Reply> replies,
                   RunScriptMany(kPutScript, put_sha_, args, "put_many"));
  std::vector<bool> written;
  written.reserve(replies.size());
  for (const Reply& reply : replies) {
    if (reply->type != REDIS_REPLY_INTEGER) {
      return ReplyFailure("put_many", reply.get());
    }
    written.push_back(reply->integer == 1);
  }
  return written;
}

absl::StatusOr<std::vector<bool>> RedisStatusCache::RemoveMany(
    const std::vector<RemoveEntry>& entries) {
  RETURN_IF_ERROR(ValidateRemoveMany(entries));
  if (entries.empty()) return std::vector<bool>();
  std::vector<std::vector<std::string>> args;
  args.reserve(entries.size());
  for (const RemoveEntry& e : entries) {
    args.push_back({Key(e.case_id), std::string(ProgrammeField(e.programme)),
                    absl::StrCat(e.max_version)});
  }
  ASSIGN_OR_RETURN(
      std::vector<Reply> replies,
      RunScriptMany(kRemoveScript, remove_sha_, args, "remove_many"));
  std::vector<bool> removed;
  removed.reserve(replies.size());
  for (const Reply& reply : replies) {
    if (reply->type != REDIS_REPLY_INTEGER) {
      return ReplyFailure("remove_many", reply.get());
    }
    removed.push_back(reply->integer == 1);
  }
  return removed;
}

absl::StatusOr<StatusCache::ScanPage> RedisStatusCache::Scan(
    absl::string_view cursor, int count) {
  bool cursor_ok = !cursor.empty() && cursor.size() <= 20;
  for (char c : cursor) {
    if (!absl::ascii_isdigit(c)) cursor_ok = false;
  }
  if (!cursor_ok) return absl::InvalidArgumentError("bad scan cursor");
  if (count < 1 || count > kMaxScanCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("count must be 1 to ", kMaxScanCount));
  }
  ASSIGN_OR_RETURN(std::vector<Reply> replies,
                   Run({{"SCAN", std::string(cursor), "MATCH", scan_pattern_,
                         "COUNT", absl::StrCat(count)}},
                       "scan"));
  const redisReply& reply = *replies[0];
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2 ||
      reply.element[0]->type != REDIS_REPLY_STRING ||
      reply.element[1]->type != REDIS_REPLY_ARRAY) {
    return ReplyFailure("scan", &reply);
  }
  ScanPage page;
  page.next_cursor = std::string(ReplyText(*reply.element[0]));
  const redisReply& keys = *reply.element[1];
  for (size_t i = 0; i < keys.elements; ++i) {
    if (keys.element[i]->type != REDIS_REPLY_STRING) continue;
    absl::string_view id = ReplyText(*keys.element[i]);
    // MATCH guarantees the prefix; skip keys that are not a case hash.
    if (!absl::ConsumePrefix(&id, options_.key_prefix) ||
        !ValidateCaseId(id).ok()) {
      continue;
    }
    page.case_ids.emplace_back(id);
  }
  return page;
}

absl::Status RedisStatusCache::Ping() {
  ASSIGN_OR_RETURN(std::vector<Reply> replies, Run({{"PING"}}, "ping"));
  const redisReply& reply = *replies[0];
  if (reply.type == REDIS_REPLY_STATUS && ReplyText(reply) == "PONG") {
    return absl::OkStatus();
  }
  return ReplyFailure("ping", &reply);
}

}  // namespace pathway
