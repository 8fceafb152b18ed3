#include "common/auth/secret_file.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace pathway {

void WipeSecret(std::string* s) {
  if (!s->empty()) explicit_bzero(s->data(), s->size());
}

absl::StatusOr<std::string> ReadSecretFile(absl::string_view path, absl::string_view what,
                                           size_t max_bytes) {
  const std::string p(path);
  if (p.empty()) return absl::InvalidArgumentError(absl::StrCat("no ", what, " given"));
  const int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat(what, " ", p, " does not exist"));
    const std::string reason = absl::StrCat("cannot open ", what, " ", p, ": ", strerror(err));
    if (err == EACCES) return absl::PermissionDeniedError(reason);
    return absl::InternalError(reason);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(what, " ", p, " is not a regular file"));
  }
  // One byte more than allowed tells a file that is too large.
  std::string data(max_bytes + 1, '\0');
  size_t used = 0;
  while (used < data.size()) {
    const ssize_t n = read(fd, data.data() + used, data.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      WipeSecret(&data);
      return absl::InternalError(absl::StrCat("cannot read ", what, " ", p, ": ", strerror(err)));
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  close(fd);
  if (used > max_bytes) {
    WipeSecret(&data);
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", p, " is larger than ", max_bytes, " bytes"));
  }
  std::string content(data.data(), used);
  WipeSecret(&data);
  return content;
}

absl::StatusOr<std::string> ReadPasswordFile(absl::string_view path, absl::string_view what) {
  constexpr size_t kMaxPasswordFileBytes = 4096;
  absl::StatusOr<std::string> content = ReadSecretFile(path, what, kMaxPasswordFileBytes);
  if (!content.ok()) return content.status();
  std::string& password = *content;
  size_t used = password.size();
  while (used > 0 && absl::ascii_isspace(static_cast<unsigned char>(password[used - 1]))) --used;
  explicit_bzero(password.data() + used, password.size() - used);
  password.resize(used);
  if (password.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " holds no password"));
  }
  return content;
}

}  // namespace pathway
