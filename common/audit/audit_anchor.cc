#include "common/audit/audit_anchor.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log/log.h"

namespace pathway {
namespace {

constexpr char kVersion[] = "a1";

std::string Mac(const AuditAnchor& a, absl::string_view key) {
  std::string data = "pathway.audit.anchor.v1";
  for (uint64_t v : {static_cast<uint64_t>(a.seq)}) {
    for (int shift = 56; shift >= 0; shift -= 8) data.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  data += a.hash;
  const uint64_t at = static_cast<uint64_t>(absl::ToUnixMicros(a.at));
  for (int shift = 56; shift >= 0; shift -= 8) data.push_back(static_cast<char>((at >> shift) & 0xff));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &md_len) ==
      nullptr) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(md), md_len);
}

std::string Hex(absl::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

bool Unhex(absl::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

absl::Status SyncDirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError("cannot open the anchor file's directory");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::UnavailableError("cannot sync the anchor file's directory");
  return absl::OkStatus();
}

}  // namespace

std::string AuditAnchorPath(absl::string_view data_dir, absl::string_view service_name) {
  return absl::StrCat(data_dir, "/", service_name, ".audit-anchor");
}

std::string FormatAuditAnchor(const AuditAnchor& anchor, absl::string_view key) {
  return absl::StrCat(kVersion, " ", anchor.seq, " ", Hex(anchor.hash), " ",
                      absl::ToUnixMicros(anchor.at), " ", Hex(Mac(anchor, key)), "\n");
}

absl::StatusOr<std::unique_ptr<AuditAnchorFile>> AuditAnchorFile::Open(const std::string& path,
                                                                       std::string key) {
  if (key.size() < kMinAuditKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the audit key needs at least ", kMinAuditKeyBytes, " bytes"));
  }
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    log::Error("audit_anchor_open_failed", {{"errno", errno}});
    return absl::UnavailableError("cannot open the audit anchor file");
  }
  if (!existed) {
    if (absl::Status s = SyncDirectoryOf(path); !s.ok()) {
      ::close(fd);
      return s;
    }
  }
  return std::unique_ptr<AuditAnchorFile>(new AuditAnchorFile(path, std::move(key), fd));
}

AuditAnchorFile::~AuditAnchorFile() {
  ::close(fd_);
  OPENSSL_cleanse(key_.data(), key_.size());
}

absl::Status AuditAnchorFile::Append(const AuditAnchor& anchor) {
  absl::MutexLock lock(&mu_);
  if (anchor.seq == last_seq_) return absl::OkStatus();
  const std::string line = FormatAuditAnchor(anchor, key_);
  // One write of a short line with O_APPEND: lines never interleave.
  const ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size()) || ::fsync(fd_) != 0) {
    log::Error("audit_anchor_write_failed", {{"errno", errno}});
    return absl::UnavailableError("cannot write the audit anchor file");
  }
  last_seq_ = anchor.seq;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AuditAnchor>> ReadAuditAnchors(const std::string& path,
                                                          absl::string_view key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no anchor file ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  std::vector<AuditAnchor> out;
  size_t start = 0;
  int line_no = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // torn last line: never acknowledged
    ++line_no;
    const absl::string_view line(text.data() + start, end - start);
    start = end + 1;
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    AuditAnchor a;
    int64_t at_us = 0;
    std::string mac;
    if (f.size() != 5 || f[0] != kVersion || !absl::SimpleAtoi(f[1], &a.seq) ||
        !Unhex(f[2], &a.hash) || a.hash.size() != 32 || !absl::SimpleAtoi(f[3], &at_us) ||
        !Unhex(f[4], &mac)) {
      return absl::DataLossError(absl::StrCat("anchor file line ", line_no, " does not parse"));
    }
    a.at = absl::FromUnixMicros(at_us);
    const std::string want = Mac(a, key);
    if (want.empty() || mac.size() != want.size() ||
        CRYPTO_memcmp(mac.data(), want.data(), want.size()) != 0) {
      return absl::DataLossError(
          absl::StrCat("anchor file line ", line_no, " does not verify with the audit key"));
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace pathway
