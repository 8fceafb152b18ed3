#include "common/crypto/pii_cipher.h"

#include <string>

#include "gtest/gtest.h"

namespace pathway {
namespace {

constexpr char kKey[] = "pii-test-master-key-0123456789abcdefghijkl";
constexpr char kId[] = "52010219900307123X";  // synthetic

TEST(PiiCipherTest, RoundTripsAndNeverShowsThePlaintext) {
  auto c = PiiCipher::Create(kKey);
  ASSERT_TRUE(c.ok());
  auto sealed = (*c)->Encrypt(kId, "520102-2026-0000042-2/resident_id");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find(kId), std::string::npos);
  auto plain = (*c)->Decrypt(*sealed, "520102-2026-0000042-2/resident_id");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, kId);
  // Random nonces: the same value encrypts differently each time.
  EXPECT_NE(*(*c)->Encrypt(kId, "a"), *(*c)->Encrypt(kId, "a"));
  EXPECT_EQ(*(*c)->Decrypt(*(*c)->Encrypt("", "a"), "a"), "");
}

TEST(PiiCipherTest, DetectsTamperingMovingAndWrongKeys) {
  auto c = PiiCipher::Create(kKey);
  auto other = PiiCipher::Create("another-master-key-0123456789abcdefghijkl");
  ASSERT_TRUE(c.ok() && other.ok());
  std::string sealed = *(*c)->Encrypt(kId, "case-a/resident_id");
  EXPECT_EQ((*c)->Decrypt(sealed, "case-b/resident_id").status().code(),
            absl::StatusCode::kDataLoss)
      << "moved to another row";
  EXPECT_EQ((*other)->Decrypt(sealed, "case-a/resident_id").status().code(),
            absl::StatusCode::kDataLoss);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE((*c)->Decrypt(bad, "case-a/resident_id").ok()) << "byte " << i;
  }
  EXPECT_FALSE((*c)->Decrypt("short", "x").ok());
}

TEST(PiiCipherTest, BlindIndexIsDeterministicAndKeyed) {
  auto c = PiiCipher::Create(kKey);
  auto other = PiiCipher::Create("another-master-key-0123456789abcdefghijkl");
  EXPECT_EQ((*c)->BlindIndex(kId), (*c)->BlindIndex(kId));
  EXPECT_EQ((*c)->BlindIndex(kId).size(), 32u);
  EXPECT_NE((*c)->BlindIndex(kId), (*c)->BlindIndex("520102199003071246"));
  EXPECT_NE((*c)->BlindIndex(kId), (*other)->BlindIndex(kId));
}

TEST(PiiCipherTest, RejectsShortKeys) {
  EXPECT_EQ(PiiCipher::Create("short").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pathway
