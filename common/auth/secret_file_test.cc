#include "common/auth/secret_file.h"

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

std::string WriteTempFile(absl::string_view name, absl::string_view contents) {
  std::string path = absl::StrCat(::testing::TempDir(), "/secret_file_test_", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return path;
}

TEST(ReadSecretFileTest, ReturnsTheWholeContentUpToTheLimit) {
  const std::string content = std::string("-----BEGIN\0\n", 12) + std::string(100, 'k') + "\n";
  absl::StatusOr<std::string> read =
      ReadSecretFile(WriteTempFile("exact", content), "key file", content.size());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, content);
}

TEST(ReadSecretFileTest, LargerFileIsRefusedWithoutShowingIt) {
  const std::string path = WriteTempFile("large", std::string(65, 'S'));
  absl::Status status = ReadSecretFile(path, "key file", 64).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(status.message(), path)) << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "SSS")) << status;
}

TEST(ReadSecretFileTest, MissingEmptyPathAndDirectoryAreRefused) {
  const std::string missing = absl::StrCat(::testing::TempDir(), "/no_such_secret_file");
  absl::Status status = ReadSecretFile(missing, "JWKS file", 64).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), absl::StrCat("JWKS file ", missing, " does not exist"));
  EXPECT_EQ(ReadSecretFile("", "key file", 64).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadSecretFile(::testing::TempDir(), "key file", 64).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ReadPasswordFileTest, DropsTrailingWhitespaceOnly) {
  absl::StatusOr<std::string> password =
      ReadPasswordFile(WriteTempFile("pw", " pass word\t\n\r\n"), "Redis password file");
  ASSERT_TRUE(password.ok()) << password.status();
  EXPECT_EQ(*password, " pass word");
}

TEST(ReadPasswordFileTest, EmptyFileIsRefused) {
  for (const char* content : {"", "\n", " \t\n"}) {
    const std::string path = WriteTempFile("pw_empty", content);
    absl::Status status = ReadPasswordFile(path, "Redis password file").status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(status.message(), absl::StrCat("Redis password file ", path, " holds no password"));
  }
  EXPECT_EQ(ReadPasswordFile(WriteTempFile("pw_huge", std::string(5000, 'p')), "password file")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace pathway
