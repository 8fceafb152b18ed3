#include "common/audit/audit_log.h"

#include <openssl/evp.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace pathway {

namespace {

constexpr size_t kHashSize = 32;
constexpr int64_t kVerifyChunk = 10000;
constexpr int kMaxListLimit = 1000;
constexpr int kDefaultListLimit = 100;
constexpr absl::Duration kInitialBackoff = absl::Milliseconds(50);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
constexpr int kStopAttempts = 3;

constexpr char kColumns[] = "seq, at_us, subject, role, action, case_id, outcome, prev_hash, hash";

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

void PutField(std::string* out, absl::string_view s) {
  const uint32_t len = static_cast<uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((len >> shift) & 0xff));
  out->append(s.data(), s.size());
}

// SHA-256(prev_hash || canonical encoding of the row); see audit_log.h.
absl::StatusOr<std::string> ChainHash(absl::string_view prev_hash, int64_t seq, int64_t at_us,
                                      const AuditEntry& e) {
  std::string data(prev_hash);
  data += "pathway.audit.v1";
  PutU64(&data, static_cast<uint64_t>(seq));
  PutU64(&data, static_cast<uint64_t>(at_us));
  for (const std::string* field : {&e.subject, &e.role, &e.action, &e.case_id, &e.outcome}) {
    PutField(&data, *field);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &md_len, EVP_sha256(), nullptr) != 1 ||
      md_len != kHashSize) {
    log::Error("audit_hash_failed");
    return absl::InternalError("internal audit error");
  }
  return std::string(reinterpret_cast<const char*>(md), md_len);
}

AuditRow ToAuditRow(const Row& row) {
  AuditRow r;
  r.seq = row.GetInt(0);
  r.entry.at = absl::FromUnixMicros(row.GetInt(1));
  r.entry.subject = row.GetString(2);
  r.entry.role = row.GetString(3);
  r.entry.action = row.GetString(4);
  r.entry.case_id = row.GetString(5);
  r.entry.outcome = row.GetString(6);
  r.prev_hash = row.GetString(7);
  r.hash = row.GetString(8);
  return r;
}

}  // namespace

std::vector<Migration> AuditMigrations() {
  return {
      {"audit", 1,
       "CREATE TABLE audit_log("
       "  seq INTEGER PRIMARY KEY,"
       "  at_us INTEGER NOT NULL,"
       "  subject TEXT NOT NULL,"
       "  role TEXT NOT NULL,"
       "  action TEXT NOT NULL,"
       "  case_id TEXT NOT NULL,"
       "  outcome TEXT NOT NULL,"
       "  prev_hash BLOB NOT NULL,"
       "  hash BLOB NOT NULL);"
       "CREATE INDEX audit_log_by_case ON audit_log(case_id, seq);"
       "CREATE INDEX audit_log_by_subject ON audit_log(subject, seq);"
       "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
       "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
       "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
       "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"},
  };
}

std::string AuditOutcome(const absl::Status& status) {
  return absl::StatusCodeToString(status.code());
}

absl::Status AppendAudit(Transaction& tx, const AuditEntry& e) {
  return AppendAudits(tx, {&e, 1});
}

absl::Status AppendAudits(Transaction& tx, absl::Span<const AuditEntry> entries) {
  if (entries.empty()) return absl::OkStatus();
  // The chain head is read once; the rows of one call chain on in memory.
  ASSIGN_OR_RETURN(std::vector<Row> head,
                   tx.Query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
  int64_t seq = 0;
  std::string prev_hash(kHashSize, '\0');
  if (!head.empty()) {
    seq = head[0].GetInt(0);
    prev_hash = head[0].GetString(1);
  }
  for (const AuditEntry& e : entries) {
    ++seq;
    const int64_t at_us = absl::ToUnixMicros(e.at);
    ASSIGN_OR_RETURN(std::string hash, ChainHash(prev_hash, seq, at_us, e));
    RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO audit_log(seq, at_us, subject, role, action, case_id, outcome, prev_hash,"
        " hash) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {seq, at_us, e.subject, e.role, e.action, e.case_id, e.outcome, Blob{prev_hash},
         Blob{hash}}));
    prev_hash = std::move(hash);
  }
  return absl::OkStatus();
}

absl::Status VerifyAuditChain(Store& store, int64_t* rows_checked) {
  std::string prev_hash(kHashSize, '\0');
  int64_t last_seq = 0;
  int64_t checked = 0;
  int64_t bad_seq = 0;
  absl::Status hash_error;
  const std::string sql =
      absl::StrCat("SELECT ", kColumns, " FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?");
  for (;;) {
    int64_t in_chunk = 0;
    // Chunks keep each read short; the rows are append-only, so the chain
    // carries over from one chunk to the next.
    RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) {
      return tx.QueryEach(sql, {last_seq, kVerifyChunk}, [&](const Row& row) {
        ++in_chunk;
        AuditRow r = ToAuditRow(row);
        absl::StatusOr<std::string> hash =
            ChainHash(r.prev_hash, r.seq, absl::ToUnixMicros(r.entry.at), r.entry);
        if (!hash.ok()) {
          hash_error = hash.status();
          return false;
        }
        if (r.seq != last_seq + 1 || r.prev_hash != prev_hash || *hash != r.hash) {
          bad_seq = r.seq;
          return false;
        }
        prev_hash = std::move(r.hash);
        last_seq = r.seq;
        ++checked;
        return true;
      });
    }));
    if (!hash_error.ok() || bad_seq != 0 || in_chunk < kVerifyChunk) break;
  }
  if (rows_checked != nullptr) *rows_checked = checked;
  RETURN_IF_ERROR(hash_error);
  if (bad_seq != 0) {
    log::Error("audit_chain_broken", {{"seq", bad_seq}, {"rows_intact", checked}});
    return absl::DataLossError(absl::StrCat("audit chain broken at seq ", bad_seq));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AuditRow>> ListAudit(Store& store, const AuditFilter& filter) {
  if (filter.limit < 0) return absl::InvalidArgumentError("limit must not be negative");
  if (filter.after_seq < 0) return absl::InvalidArgumentError("after_seq must not be negative");
  const int64_t limit = filter.limit == 0 ? kDefaultListLimit : std::min(filter.limit, kMaxListLimit);
  std::string sql = absl::StrCat("SELECT ", kColumns, " FROM audit_log WHERE seq > ?");
  std::vector<Value> params = {filter.after_seq};
  if (!filter.case_id.empty()) {
    sql += " AND case_id = ?";
    params.push_back(filter.case_id);
  }
  if (!filter.subject.empty()) {
    sql += " AND subject = ?";
    params.push_back(filter.subject);
  }
  sql += " ORDER BY seq LIMIT ?";
  params.push_back(limit);
  std::vector<AuditRow> out;
  RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) {
    return tx.QueryEach(sql, params, [&out](const Row& row) {
      out.push_back(ToAuditRow(row));
      return true;
    });
  }));
  return out;
}

AuditBuffer::AuditBuffer(Store* store, AuditBufferOptions options)
    : store_(store), options_([&options] {
        AuditBufferOptions o = options;
        o.max_batch = std::max<size_t>(o.max_batch, 1);
        o.max_pending = std::max<size_t>(o.max_pending, 1);
        return o;
      }()) {
  thread_ = std::thread([this] { Run(); });
}

AuditBuffer::~AuditBuffer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void AuditBuffer::Record(AuditEntry entry) {
  absl::MutexLock lock(&mu_);
  ++stats_.recorded;
  if (pending_.size() >= options_.max_pending) {
    ++stats_.waits;
    auto has_room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return pending_.size() < options_.max_pending;
    };
    mu_.Await(absl::Condition(&has_room));
  }
  if (pending_.empty()) oldest_pending_ = absl::Now();
  pending_.push_back(std::move(entry));
}

absl::Status AuditBuffer::Flush() {
  absl::MutexLock lock(&mu_);
  const int64_t target = stats_.recorded;
  const int64_t failures_at_start = stats_.failures;
  flush_target_ = std::max(flush_target_, target);
  auto done = [this, target, failures_at_start]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return processed_ >= target || stats_.failures > failures_at_start;
  };
  mu_.Await(absl::Condition(&done));
  if (processed_ >= target) return absl::OkStatus();
  return last_error_;
}

AuditBuffer::Stats AuditBuffer::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void AuditBuffer::Run() {
  const size_t threshold = std::min(options_.max_batch, options_.max_pending);
  absl::Duration backoff = kInitialBackoff;
  int stop_attempts = 0;
  mu_.Lock();
  for (;;) {
    auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || !pending_.empty();
    };
    mu_.Await(absl::Condition(&has_work));
    if (pending_.empty()) break;  // stopping, and nothing left
    auto due = [this, threshold]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || flush_target_ > processed_ || pending_.size() >= threshold;
    };
    mu_.AwaitWithDeadline(absl::Condition(&due), oldest_pending_ + options_.flush_interval);

    const size_t n = std::min(pending_.size(), options_.max_batch);
    std::vector<AuditEntry> group(std::make_move_iterator(pending_.begin()),
                                  std::make_move_iterator(pending_.begin() + static_cast<std::ptrdiff_t>(n)));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
    mu_.Unlock();
    absl::Status status = store_->Write([&group](Transaction& tx) -> absl::Status {
      return AppendAudits(tx, group);
    });
    mu_.Lock();

    if (status.ok()) {
      processed_ += static_cast<int64_t>(n);
      stats_.written += static_cast<int64_t>(n);
      ++stats_.store_writes;
      backoff = kInitialBackoff;
      stop_attempts = 0;
      continue;
    }
    ++stats_.failures;
    last_error_ = status;
    log::Error("audit_flush_failed",
               {{"code", absl::StatusCodeToString(status.code())}, {"entries", n}});
    if (stopping_ && ++stop_attempts >= kStopAttempts) {
      const size_t lost = n + pending_.size();
      log::Error("audit_entries_dropped", {{"entries", lost}});
      stats_.dropped += static_cast<int64_t>(lost);
      processed_ += static_cast<int64_t>(lost);
      pending_.clear();
      break;
    }
    // Keep the group, in order, ahead of later entries; retry after a pause.
    for (auto it = group.rbegin(); it != group.rend(); ++it) pending_.push_front(std::move(*it));
    if (!stopping_) {
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&stop), backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }
  mu_.Unlock();
}

}  // namespace pathway
