#include "common/audit/audit_log.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/audit/audit_tables.h"
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

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

void PutField(std::string* out, absl::string_view s) {
  const uint32_t len = static_cast<uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((len >> shift) & 0xff));
  out->append(s.data(), s.size());
}

// The chain hash of a row; see audit_log.h. `key` empty: chain 1 (SHA-256),
// otherwise chain 2 (HMAC-SHA-256).
absl::StatusOr<std::string> ChainHash(absl::string_view key, absl::string_view prev_hash,
                                      int64_t seq, int64_t at_us, const AuditEntry& e) {
  std::string data(prev_hash);
  data += key.empty() ? "pathway.audit.v1" : "pathway.audit.v2";
  PutU64(&data, static_cast<uint64_t>(seq));
  PutU64(&data, static_cast<uint64_t>(at_us));
  for (const std::string* field : {&e.subject, &e.role, &e.action, &e.case_id, &e.outcome}) {
    PutField(&data, *field);
  }
  // Only when present, so rows from before request ids hash as they always did
  // (the argument is in audit_log.h).
  if (!e.request_id.empty()) PutField(&data, e.request_id);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  bool ok;
  if (key.empty()) {
    ok = EVP_Digest(data.data(), data.size(), md, &md_len, EVP_sha256(), nullptr) == 1;
  } else {
    ok = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), md,
              &md_len) != nullptr;
  }
  if (!ok || md_len != kHashSize) {
    log::Error("audit_hash_failed");
    return absl::InternalError("internal audit error");
  }
  return std::string(reinterpret_cast<const char*>(md), md_len);
}

// A Write's transaction with the audit key beside it.
class KeyedTransaction final : public Transaction, public AuditKeySource {
 public:
  KeyedTransaction(Transaction& base, absl::string_view key) : base_(base), key_(key) {}
  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         const std::vector<Value>& params) override {
    return base_.Query(sql, params);
  }
  absl::Status QueryEach(absl::string_view sql, const std::vector<Value>& params,
                         const std::function<bool(const Row&)>& fn) override {
    return base_.QueryEach(sql, params, fn);
  }
  absl::Status Exec(absl::string_view sql, const std::vector<Value>& params) override {
    return base_.Exec(sql, params);
  }
  int64_t LastInsertId() const override { return base_.LastInsertId(); }
  int64_t ChangedRows() const override { return base_.ChangedRows(); }
  absl::string_view audit_key() const override { return key_; }

 private:
  Transaction& base_;
  absl::string_view key_;
};

}  // namespace

std::string AuditOutcome(const absl::Status& status) {
  return absl::StatusCodeToString(status.code());
}

absl::Status AppendAudit(Transaction& tx, const AuditEntry& e) {
  return AppendAudits(tx, {&e, 1});
}

absl::Status AppendAudits(Transaction& tx, absl::Span<const AuditEntry> entries) {
  if (entries.empty()) return absl::OkStatus();
  const auto* key_source = dynamic_cast<const AuditKeySource*>(&tx);
  const absl::string_view key = key_source != nullptr ? key_source->audit_key() : "";
  const int chain = key.empty() ? kAuditChainUnkeyed : kAuditChainKeyed;
  // The chain head is read once; the rows of one call chain on in memory.
  ASSIGN_OR_RETURN(std::optional<audit_tables::AuditLink> link, audit_tables::ReadAuditLink(tx));
  AuditRow row;
  row.hash.assign(kHashSize, '\0');
  if (link.has_value()) {
    row.seq = link->seq;
    row.hash = std::move(link->hash);
  }
  row.chain = chain;
  for (const AuditEntry& e : entries) {
    ++row.seq;
    row.entry = e;
    row.prev_hash = std::move(row.hash);
    ASSIGN_OR_RETURN(row.hash, ChainHash(key, row.prev_hash, row.seq,
                                         absl::ToUnixMicros(e.at), e));
    RETURN_IF_ERROR(audit_tables::InsertAuditRow(tx, row));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<KeyedAuditStore>> KeyedAuditStore::Create(Store* base,
                                                                          std::string key) {
  if (key.size() < kMinAuditKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the audit key needs at least ", kMinAuditKeyBytes, " bytes"));
  }
  return std::unique_ptr<KeyedAuditStore>(new KeyedAuditStore(base, std::move(key)));
}

KeyedAuditStore::~KeyedAuditStore() { std::fill(key_.begin(), key_.end(), '\0'); }

absl::Status KeyedAuditStore::Write(const std::function<absl::Status(Transaction&)>& fn,
                                    absl::Time deadline) {
  return base_->Write(
      [this, &fn](Transaction& tx) {
        KeyedTransaction keyed(tx, key_);
        return fn(keyed);
      },
      deadline);
}

absl::Status KeyedAuditStore::Read(const std::function<absl::Status(ReadTransaction&)>& fn) {
  return base_->Read(fn);
}

absl::Status StartKeyedAuditChain(Store& store, absl::Time now) {
  if (dynamic_cast<KeyedAuditStore*>(&store) == nullptr) {
    return absl::FailedPreconditionError("the keyed audit chain needs a KeyedAuditStore");
  }
  bool started = false;
  absl::Status s = store.Write([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<int> newest, audit_tables::ReadNewestAuditChain(tx));
    if (!newest.has_value() || *newest != kAuditChainUnkeyed) return absl::OkStatus();
    started = true;
    return AppendAudit(tx, AuditEntry{now, "pathway", "service", kAuditKeyedChainStart, "", "OK"});
  });
  if (s.ok() && started) log::Info("audit_keyed_chain_started");
  return s;
}

absl::StatusOr<AuditHead> ReadAuditHead(Store& store) {
  AuditHead head;
  head.hash.assign(kHashSize, '\0');
  absl::Status s = store.Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<AuditHead> newest, audit_tables::ReadAuditHead(tx));
    if (newest.has_value()) head = std::move(*newest);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return head;
}

absl::StatusOr<AuditHead> ReadAuditHead(ReadTransaction& tx) {
  AuditHead head;
  head.hash.assign(kHashSize, '\0');
  ASSIGN_OR_RETURN(std::optional<AuditHead> newest, audit_tables::ReadAuditHead(tx));
  if (newest.has_value()) head = std::move(*newest);
  return head;
}

AuditChainVerifier::AuditChainVerifier(std::string key, std::vector<AuditAnchor> anchors)
    : key_(std::move(key)), prev_hash_(kHashSize, '\0') {
  report_.head.hash = prev_hash_;
  for (AuditAnchor& a : anchors) anchors_[a.seq] = std::move(a.hash);
}

bool AuditChainVerifier::Break(int64_t seq, std::string problem) {
  broken_ = true;
  report_.first_bad_seq = seq;
  report_.problem = std::move(problem);
  return false;
}

bool AuditChainVerifier::Add(const AuditRow& r) {
  if (broken_) return false;
  const int64_t expected = report_.head.seq + 1;
  if (r.seq != expected) {
    return Break(expected, absl::StrCat("entry missing (the next row found is seq ", r.seq, ")"));
  }
  if (r.prev_hash != prev_hash_) return Break(r.seq, "does not link to the entry before it");
  if (r.chain == kAuditChainKeyed) {
    if (report_.keyed_from_seq == 0) report_.keyed_from_seq = r.seq;
    if (!key_.empty()) {
      absl::StatusOr<std::string> hash =
          ChainHash(key_, r.prev_hash, r.seq, absl::ToUnixMicros(r.entry.at), r.entry);
      if (!hash.ok()) return Break(r.seq, "hash could not be computed");
      if (*hash != r.hash) return Break(r.seq, "keyed hash does not match the entry");
    }
  } else if (r.chain == kAuditChainUnkeyed) {
    if (report_.keyed_from_seq != 0) {
      return Break(r.seq, "unkeyed entry after the keyed chain started");
    }
    absl::StatusOr<std::string> hash =
        ChainHash("", r.prev_hash, r.seq, absl::ToUnixMicros(r.entry.at), r.entry);
    if (!hash.ok()) return Break(r.seq, "hash could not be computed");
    if (*hash != r.hash) return Break(r.seq, "hash does not match the entry");
  } else {
    return Break(r.seq, absl::StrCat("unknown chain version ", r.chain));
  }
  if (auto it = anchors_.find(r.seq); it != anchors_.end()) {
    if (it->second != r.hash) return Break(r.seq, "differs from its anchor");
    ++report_.anchors_checked;
  }
  prev_hash_ = r.hash;
  report_.head.seq = r.seq;
  report_.head.hash = r.hash;
  report_.head.chain = r.chain;
  ++report_.rows_checked;
  return true;
}

absl::Status AuditChainVerifier::Finish(AuditVerifyReport* report) {
  if (!broken_ && !anchors_.empty() && anchors_.rbegin()->first > report_.head.seq) {
    Break(report_.head.seq + 1,
          absl::StrCat("entry missing: the chain ends at seq ", report_.head.seq,
                       " but was anchored at seq ", anchors_.rbegin()->first));
  }
  if (report != nullptr) *report = report_;
  if (!broken_) return absl::OkStatus();
  log::Error("audit_chain_broken", {{"seq", report_.first_bad_seq},
                                    {"rows_intact", report_.rows_checked},
                                    {"problem", report_.problem}});
  return absl::DataLossError(
      absl::StrCat("audit chain broken at seq ", report_.first_bad_seq, ": ", report_.problem));
}

namespace {

absl::Status FeedFromStore(Store& store, AuditChainVerifier& verifier) {
  int64_t last_seq = 0;
  bool stop = false;
  for (;;) {
    int64_t in_chunk = 0;
    // Chunks keep each read short; the rows are append-only, so the chain
    // carries over from one chunk to the next.
    RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) {
      return audit_tables::ScanAuditRows(tx, last_seq, kVerifyChunk, [&](const AuditRow& r) {
        ++in_chunk;
        last_seq = r.seq;
        if (!verifier.Add(r)) {
          stop = true;
          return false;
        }
        return true;
      });
    }));
    if (stop || in_chunk < kVerifyChunk) return absl::OkStatus();
  }
}

}  // namespace

absl::Status VerifyAuditChain(Store& store, absl::string_view key,
                              std::vector<AuditAnchor> anchors, AuditVerifyReport* report) {
  AuditChainVerifier verifier{std::string(key), std::move(anchors)};
  RETURN_IF_ERROR(FeedFromStore(store, verifier));
  return verifier.Finish(report);
}

absl::Status VerifyAuditChain(Store& store, int64_t* rows_checked) {
  AuditChainVerifier verifier{"", {}};
  RETURN_IF_ERROR(FeedFromStore(store, verifier));
  AuditVerifyReport report;
  absl::Status s = verifier.Finish(&report);
  if (rows_checked != nullptr) *rows_checked = report.rows_checked;
  if (s.ok()) return s;
  return absl::DataLossError(absl::StrCat("audit chain broken at seq ", report.first_bad_seq));
}

absl::Status VerifyAuditDatabaseFile(const std::string& path, absl::string_view key,
                                     std::vector<AuditAnchor> anchors, AuditVerifyReport* report) {
  AuditChainVerifier verifier{std::string(key), std::move(anchors)};
  RETURN_IF_ERROR(audit_tables::ScanAuditDatabaseFile(
      path, [&verifier](const AuditRow& r) { return verifier.Add(r); }));
  return verifier.Finish(report);
}

absl::StatusOr<std::vector<AuditRow>> ListAudit(Store& store, const AuditFilter& filter) {
  if (filter.limit < 0) return absl::InvalidArgumentError("limit must not be negative");
  if (filter.after_seq < 0) return absl::InvalidArgumentError("after_seq must not be negative");
  const int64_t limit = filter.limit == 0 ? kDefaultListLimit : std::min(filter.limit, kMaxListLimit);
  std::vector<AuditRow> out;
  RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) {
    return audit_tables::ScanMatchingAuditRows(tx, filter.after_seq, filter.case_id,
                                               filter.subject, limit, [&out](const AuditRow& r) {
                                                 out.push_back(r);
                                                 return true;
                                               });
  }));
  return out;
}

absl::StatusOr<std::vector<AuditRow>> ListAuditByTime(Store& store, const AuditTimeQuery& q,
                                                      int64_t* total) {
  if (q.case_id.empty() == q.subject.empty()) {
    return absl::InvalidArgumentError("give exactly one of case_id and subject");
  }
  if (q.limit < 1 || q.limit > kMaxListLimit + 1) {
    return absl::InvalidArgumentError("limit out of range");
  }
  const size_t p = q.case_prefix.size();
  if (p != 0 && ((p != 2 && p != 4 && p != 6) ||
                 !std::all_of(q.case_prefix.begin(), q.case_prefix.end(),
                              [](char c) { return c >= '0' && c <= '9'; }))) {
    return absl::InvalidArgumentError("case_prefix must be 2, 4 or 6 digits");
  }
  std::vector<AuditRow> out;
  RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) {
    out.clear();
    if (total != nullptr) {
      ASSIGN_OR_RETURN(*total, audit_tables::CountAuditRowsByTime(tx, q));
    }
    return audit_tables::ScanAuditRowsByTime(tx, q, [&out](const AuditRow& r) {
      out.push_back(r);
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

int64_t AuditBuffer::Record(AuditEntry entry) {
  absl::MutexLock lock(&mu_);
  const int64_t ticket = ++stats_.recorded;
  if (pending_.size() >= options_.max_pending) {
    ++stats_.waits;
    auto has_room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return pending_.size() < options_.max_pending;
    };
    mu_.Await(absl::Condition(&has_room));
  }
  if (pending_.empty()) oldest_pending_ = absl::Now();
  pending_.push_back(std::move(entry));
  return ticket;
}

int64_t AuditBuffer::last_ticket() const {
  absl::MutexLock lock(&mu_);
  return stats_.recorded;
}

void AuditBuffer::WhenDurable(int64_t ticket, std::function<void(absl::Status)> done) {
  absl::Status now;
  {
    absl::MutexLock lock(&mu_);
    if (processed_ < ticket) {
      waiters_.emplace(ticket, std::move(done));
      return;
    }
    if (stats_.dropped > 0) now = absl::DataLossError("audit entries were dropped");
  }
  done(now);
}

absl::Status AuditBuffer::WaitDurable(int64_t ticket) {
  absl::Mutex mu;
  bool reported = false;
  absl::Status result;
  WhenDurable(ticket, [&](absl::Status s) {
    absl::MutexLock lock(&mu);
    result = std::move(s);
    reported = true;
  });
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(&reported));
  return result;
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
      return stopping_ || flush_target_ > processed_ || pending_.size() >= threshold ||
             !waiters_.empty();
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
      Notify(waiters_.upper_bound(processed_), absl::OkStatus());
      continue;
    }
    ++stats_.failures;
    last_error_ = status;
    log::Error("audit_flush_failed",
               {{"code", absl::StatusCodeToString(status.code())}, {"entries", n}});
    // Nobody waits through the backoff: the entries stay queued and are retried,
    // but whoever waits now is told (an answer is held no longer than one Write).
    Notify(waiters_.end(), absl::UnavailableError("the audit entry could not be written"));
    if (stopping_ && ++stop_attempts >= kStopAttempts) {
      const size_t lost = n + pending_.size();
      log::Error("audit_entries_dropped", {{"entries", lost}});
      stats_.dropped += static_cast<int64_t>(lost);
      processed_ += static_cast<int64_t>(lost);
      pending_.clear();
      Notify(waiters_.end(), absl::DataLossError("audit entries were dropped"));
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
  Notify(waiters_.end(), absl::DataLossError("audit entries were dropped"));
  mu_.Unlock();
}

void AuditBuffer::Notify(
    std::multimap<int64_t, std::function<void(absl::Status)>>::iterator end,
    const absl::Status& status) {
  if (end == waiters_.begin()) return;
  std::vector<std::function<void(absl::Status)>> ready;
  for (auto it = waiters_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
  waiters_.erase(waiters_.begin(), end);
  // Outside the lock: a callback may record (gRPC may finish a call inline).
  mu_.Unlock();
  for (auto& done : ready) done(status);
  mu_.Lock();
}

}  // namespace pathway
