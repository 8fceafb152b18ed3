#include "common/server/backup.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/audit/audit_log.h"
#include "common/idempotency/idempotency.h"
#include "common/log/log.h"
#include "common/outbox/outbox.h"
#include "common/status/status_macros.h"
#include "common/store/schema_migrations.h"
#include "google/protobuf/util/json_util.h"

namespace pathway {
namespace {

using common::v1::BackupManifest;

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  int64_t us = absl::ToUnixMicros(t);
  int64_t seconds = us / 1000000;
  int64_t micros = us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(micros * 1000));
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return absl::StrCat(dir, "/", name);
}

// Size and SHA-256 (hex) of the file at `path`.
absl::Status HashFile(const std::string& path, int64_t* bytes, std::string* sha256_hex) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (f == nullptr) return absl::NotFoundError("cannot open the backup file");
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (md == nullptr || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("cannot hash the backup file");
  }
  std::vector<char> buf(1 << 16);
  int64_t total = 0;
  for (;;) {
    const size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0) {
      EVP_DigestUpdate(md.get(), buf.data(), n);
      total += static_cast<int64_t>(n);
    }
    if (n < buf.size()) break;
  }
  if (std::ferror(f.get())) return absl::UnavailableError("cannot read the backup file");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &len);
  *bytes = total;
  *sha256_hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), len));
  return absl::OkStatus();
}

// Writes `content` to the new file `path` (mode 0600) durably.
absl::Status WriteNewFile(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError("backup manifest already exists");
    return absl::UnavailableError("cannot create the backup manifest");
  }
  size_t done = 0;
  bool ok = true;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return absl::UnavailableError("cannot write the backup manifest");
  }
  return absl::OkStatus();
}

void SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string BackupFileName(absl::string_view service) { return absl::StrCat(service, ".db"); }

std::string BackupManifestFileName(absl::string_view service) {
  return absl::StrCat(service, ".manifest.json");
}

absl::Status ValidateBackupDir(const std::string& dir) {
  if (dir.empty() || dir.front() != '/') {
    return absl::InvalidArgumentError("dir: must be an absolute path");
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError("dir: must be an existing directory");
  }
  return absl::OkStatus();
}

absl::StatusOr<BackupManifest> DescribeBackupFile(const std::string& path,
                                                  absl::string_view service,
                                                  absl::Time taken_at) {
  BackupManifest m;
  m.set_service(std::string(service));
  m.set_file(BackupFileName(service));
  absl::Status read = SqliteStore::ReadFile(path, [&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto versions, ReadSchemaVersions(tx));
    m.mutable_schema_versions()->clear();
    for (const auto& [component, version] : versions) {
      (*m.mutable_schema_versions())[component] = version;
    }
    ASSIGN_OR_RETURN(AuditHead head, ReadAuditHead(tx));
    m.set_audit_seq(head.seq);
    m.set_audit_hash(absl::BytesToHexString(head.hash));
    ASSIGN_OR_RETURN(OutboxHighWater outbox, ReadOutboxHighWater(tx));
    m.set_outbox_max_id(outbox.max_id);
    m.set_outbox_rows(outbox.rows);
    ASSIGN_OR_RETURN(IdempotencyHighWater keys, ReadIdempotencyHighWater(tx));
    m.set_idempotency_keys(keys.keys);
    m.clear_idempotency_newest();
    if (keys.keys > 0) {
      SetTimestamp(absl::FromUnixMicros(keys.newest_created_us), m.mutable_idempotency_newest());
    }
    return absl::OkStatus();
  });
  if (!read.ok()) {
    if (absl::IsNotFound(read)) return read;
    return absl::UnavailableError("cannot read the backup file");
  }
  int64_t bytes = 0;
  std::string sha;
  RETURN_IF_ERROR(HashFile(path, &bytes, &sha));
  m.set_bytes(bytes);
  m.set_sha256(sha);
  SetTimestamp(taken_at, m.mutable_taken_at());
  return m;
}

absl::StatusOr<common::v1::BackupResponse> TakeSqliteBackup(SqliteStore& store,
                                                            absl::string_view service,
                                                            const std::string& dir,
                                                            absl::Time now) {
  RETURN_IF_ERROR(ValidateBackupDir(dir));
  const std::string path = JoinPath(dir, BackupFileName(service));
  const std::string manifest_path = JoinPath(dir, BackupManifestFileName(service));
  if (::access(manifest_path.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError("dir already holds this service's backup manifest");
  }
  absl::Status copied = store.BackupTo(path);
  if (absl::IsAlreadyExists(copied)) {
    return absl::AlreadyExistsError("dir already holds this service's backup file");
  }
  RETURN_IF_ERROR(copied);
  absl::StatusOr<BackupManifest> manifest = DescribeBackupFile(path, service, now);
  absl::Status written = manifest.status();
  std::string json;
  if (written.ok()) {
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.preserve_proto_field_names = true;
    options.always_print_primitive_fields = true;
    if (!google::protobuf::util::MessageToJsonString(*manifest, &json, options).ok()) {
      written = absl::InternalError("cannot encode the backup manifest");
    }
  }
  if (written.ok()) written = WriteNewFile(manifest_path, json);
  if (!written.ok()) {
    ::unlink(path.c_str());
    log::Error("backup_failed", {{"service", service}, {"error", written.ToString()}});
    if (absl::IsAlreadyExists(written)) return written;
    return absl::UnavailableError("cannot write the backup; retry");
  }
  SyncDirectory(dir);
  log::Info("backup_taken", {{"service", service},
                             {"bytes", manifest->bytes()},
                             {"audit_seq", manifest->audit_seq()}});
  common::v1::BackupResponse response;
  response.set_path(path);
  response.set_manifest_path(manifest_path);
  *response.mutable_manifest() = *std::move(manifest);
  return response;
}

absl::StatusOr<BackupManifest> ReadBackupManifest(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("no manifest at ", path));
  std::string json;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f.get())) > 0) json.append(buf, n);
  BackupManifest m;
  if (!google::protobuf::util::JsonStringToMessage(json, &m).ok()) {
    return absl::DataLossError(absl::StrCat("not a backup manifest: ", path));
  }
  return m;
}

absl::Status CheckBackup(const std::string& dir, absl::string_view service,
                         const std::map<std::string, int64_t>& known_versions) {
  ASSIGN_OR_RETURN(BackupManifest want,
                   ReadBackupManifest(JoinPath(dir, BackupManifestFileName(service))));
  if (want.service() != service) {
    return absl::DataLossError("the manifest names another service");
  }
  const std::string path = JoinPath(dir, want.file().empty() ? BackupFileName(service)
                                                             : want.file());
  int64_t bytes = 0;
  std::string sha;
  RETURN_IF_ERROR(HashFile(path, &bytes, &sha));
  if (bytes != want.bytes() || sha != want.sha256()) {
    return absl::DataLossError("the backup file's size or SHA-256 differs from the manifest");
  }
  absl::StatusOr<BackupManifest> got = DescribeBackupFile(path, service, absl::Now());
  if (!got.ok()) return absl::DataLossError("the backup file cannot be read as a database");
  for (const auto& [component, version] : got->schema_versions()) {
    auto it = known_versions.find(component);
    const int64_t known = it == known_versions.end() ? 0 : it->second;
    if (version > known) {
      return absl::FailedPreconditionError(
          absl::StrCat("schema ", component, " v", version, " is newer than this binary's v",
                       known));
    }
    auto in_manifest = want.schema_versions().find(component);
    if (in_manifest == want.schema_versions().end() || in_manifest->second != version) {
      return absl::DataLossError(
          absl::StrCat("schema ", component, " differs from the manifest"));
    }
  }
  if (got->schema_versions_size() != want.schema_versions_size()) {
    return absl::DataLossError("the schema versions differ from the manifest");
  }
  if (got->audit_seq() != want.audit_seq() || got->audit_hash() != want.audit_hash()) {
    return absl::DataLossError(absl::StrCat("the audit head (seq ", got->audit_seq(),
                                            ") differs from the manifest's (seq ",
                                            want.audit_seq(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace pathway
