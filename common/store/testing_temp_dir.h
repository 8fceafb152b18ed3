// A fresh temporary directory for one test, removed with everything in it when
// the object goes away. Tests of the store, audit and idempotency libraries use
// it so each test works on its own real SQLite file.
//
//   ScopedTempDir dir;
//   options.path = dir.File("store.db");
//
// Not thread-safe to destroy while files in it are in use.
#ifndef PATHWAY_COMMON_STORE_TESTING_TEMP_DIR_H_
#define PATHWAY_COMMON_STORE_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace pathway {

class ScopedTempDir {
 public:
  ScopedTempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "pathway_test_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = pattern;
  }
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_STORE_TESTING_TEMP_DIR_H_
