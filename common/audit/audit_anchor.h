// Anchors of the audit chain outside the service's database: an append-only
// text file, <data_dir>/<service>.audit-anchor, one line per anchor:
//
//   a1 <seq> <hash hex> <at_us> <mac hex>
//
// where mac = HMAC-SHA-256(key, "pathway.audit.anchor.v1" || u64be(seq) || hash ||
// u64be(at_us)). Each line is written with O_APPEND and followed by fsync, so a
// line the caller was told about survives a crash. A last line without its
// newline (a crash while writing) is ignored; any other line that does not parse
// or whose mac does not verify makes the file DATA_LOSS, naming the line.
//
// Someone who can write the database but has no key can neither re-hash the
// chain up to an anchored entry nor forge an anchor: removing the newest rows
// shows as an anchor beyond the end of the chain (audit_log.h,
// AuditChainVerifier).
//
//   ASSIGN_OR_RETURN(auto file, AuditAnchorFile::Open(path, key));
//   RETURN_IF_ERROR(file->Append({head.seq, head.hash, clock.Now()}));
//   ASSIGN_OR_RETURN(std::vector<AuditAnchor> anchors, ReadAuditAnchors(path, key));
//
// Thread-safe.
#ifndef PATHWAY_COMMON_AUDIT_AUDIT_ANCHOR_H_
#define PATHWAY_COMMON_AUDIT_AUDIT_ANCHOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/audit/audit_log.h"

namespace pathway {

// The anchor file of a service: <data_dir>/<service_name>.audit-anchor.
std::string AuditAnchorPath(absl::string_view data_dir, absl::string_view service_name);

class AuditAnchorFile {
 public:
  // Opens (creating with mode 0600 if missing) `path` for appending, and fsyncs
  // its directory when it was created. INVALID_ARGUMENT for a short key.
  static absl::StatusOr<std::unique_ptr<AuditAnchorFile>> Open(const std::string& path,
                                                               std::string key);
  ~AuditAnchorFile();
  AuditAnchorFile(const AuditAnchorFile&) = delete;
  AuditAnchorFile& operator=(const AuditAnchorFile&) = delete;

  // Appends one line and fsyncs; OK once it is durable. An anchor equal to the
  // last one appended (same seq) is skipped.
  absl::Status Append(const AuditAnchor& anchor);

  const std::string& path() const { return path_; }

 private:
  AuditAnchorFile(std::string path, std::string key, int fd)
      : path_(std::move(path)), key_(std::move(key)), fd_(fd) {}

  const std::string path_;
  std::string key_;
  const int fd_;
  absl::Mutex mu_;
  int64_t last_seq_ ABSL_GUARDED_BY(mu_) = -1;
};

// The anchors in `path`, in file order. NOT_FOUND if the file does not exist;
// DATA_LOSS "anchor file line N ..." for a line that does not parse or verify.
absl::StatusOr<std::vector<AuditAnchor>> ReadAuditAnchors(const std::string& path,
                                                          absl::string_view key);

// One anchor line with its newline, as Append writes it.
std::string FormatAuditAnchor(const AuditAnchor& anchor, absl::string_view key);

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUDIT_AUDIT_ANCHOR_H_
