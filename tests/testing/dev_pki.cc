#include "tests/testing/dev_pki.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace pathway {
namespace test {

absl::StatusOr<DevPki> MakeDevPki(const std::string& dir, const std::vector<std::string>& names) {
  // Names and directories come from the tests themselves: plain words and mkdtemp paths.
  std::string cmd = absl::StrCat("bash '", PATHWAY_DEV_TLS_SCRIPT, "' '", dir, "'");
  for (const std::string& n : names) absl::StrAppend(&cmd, " '", n, "'");
  if (std::system(cmd.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("dev-tls.sh failed for ", dir));
  }
  return DevPki{dir};
}

}  // namespace test
}  // namespace pathway
