// Secrets read from files: token keys, private keys, passwords. Pathway takes
// a secret only from a file (never a flag or the environment, which show up in
// process listings), and reads every such file the same way:
//
//   ASSIGN_OR_RETURN(std::string pem,
//                    ReadSecretFile(options.private_key_file, "private key file", 64 * 1024));
//   ...
//   WipeSecret(&pem);
//
// Errors name the file and what it is for, never its content. Thread-safe.
#ifndef PATHWAY_COMMON_AUTH_SECRET_FILE_H_
#define PATHWAY_COMMON_AUTH_SECRET_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pathway {

// The whole content of the regular file at `path`, at most `max_bytes`.
// `what` names the file in messages ("key file", "JWKS file").
// INVALID_ARGUMENT if `path` is empty, NOT_FOUND if the file does not exist,
// PERMISSION_DENIED if it may not be read, FAILED_PRECONDITION if it is not a
// regular file or holds more than `max_bytes`, INTERNAL on another error. A
// refused content is wiped from memory before the call returns.
absl::StatusOr<std::string> ReadSecretFile(absl::string_view path, absl::string_view what,
                                           size_t max_bytes);

// A password from the file at `path` (say, Redis's): the content without its
// trailing whitespace (the final newline an editor adds), at most 4 KiB.
// Errors as ReadSecretFile's, plus FAILED_PRECONDITION for a file that holds
// no password (an empty password would silently mean "no AUTH").
absl::StatusOr<std::string> ReadPasswordFile(absl::string_view path, absl::string_view what);

// Overwrites the bytes of `s` (so a secret does not linger in freed memory).
void WipeSecret(std::string* s);

}  // namespace pathway

#endif  // PATHWAY_COMMON_AUTH_SECRET_FILE_H_
