// The normalisation behind the name and phone indexes, without a store; and the
// domain separation of the indexes.
#include "services/registry/search_keys.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace pathway {
namespace registry {
namespace {

TEST(NormalizeNameForIndexTest, FullWidthBecomesHalfWidth) {
  EXPECT_EQ(NormalizeNameForIndex("ＡＢＣ１２３"), "ABC123");
  EXPECT_EQ(NormalizeNameForIndex("测试Ｘ"), "测试X");
  // Letters outside the full-width ASCII block stay as they are.
  EXPECT_EQ(NormalizeNameForIndex("测试员"), "测试员");
}

TEST(NormalizeNameForIndexTest, AllWhitespaceIsRemoved) {
  EXPECT_EQ(NormalizeNameForIndex(" 测 试\t员\n"), "测试员");
  EXPECT_EQ(NormalizeNameForIndex("测\xE3\x80\x80试"), "测试");              // U+3000
  EXPECT_EQ(NormalizeNameForIndex("测\xC2\xA0试\xE2\x80\x8A员"), "测试员");  // U+00A0, U+200A
  EXPECT_EQ(NormalizeNameForIndex("   "), "");
}

TEST(NormalizeNameForIndexTest, MiddleDotsBecomeOne) {
  const std::string canonical = "测试\xC2\xB7合成";  // U+00B7
  for (const char* dot :
       {"\xC2\xB7", "\xE3\x83\xBB", "\xE2\x80\xA2", "\xE2\x80\xA7", "\xEF\xBD\xA5"}) {
    EXPECT_EQ(NormalizeNameForIndex(std::string("测试") + dot + "合成"), canonical) << dot;
    EXPECT_EQ(NormalizeNameForIndex(std::string("测试 ") + dot + "\xE3\x80\x80合成"), canonical)
        << dot;
  }
  // A full stop is not a middle dot.
  EXPECT_NE(NormalizeNameForIndex("测试.合成"), canonical);
}

TEST(NormalizeNameForIndexTest, BytesThatAreNotUtf8AreKept) {
  EXPECT_EQ(NormalizeNameForIndex("a\xFF b"),
            "a\xFF"
            "b");
  EXPECT_EQ(NormalizeNameForIndex("\xE3\x80"), "\xE3\x80");  // a cut-off sequence
}

TEST(NormalizePhoneForIndexTest, DigitsOnlyWithoutTheCountryPrefix) {
  EXPECT_EQ(NormalizePhoneForIndex("13800000000"), "13800000000");
  EXPECT_EQ(NormalizePhoneForIndex("138-0000 0000"), "13800000000");
  EXPECT_EQ(NormalizePhoneForIndex("１３８００００００００"), "13800000000");
  EXPECT_EQ(NormalizePhoneForIndex("+86 138 0000 0000"), "13800000000");
  EXPECT_EQ(NormalizePhoneForIndex("+86-13800000000"), "13800000000");
  EXPECT_EQ(NormalizePhoneForIndex("＋８６　１３８００００００００"), "13800000000");
  EXPECT_EQ(NormalizePhoneForIndex("0086 13800000000"), "13800000000");
  EXPECT_EQ(NormalizePhoneForIndex("8613800000000"), "13800000000");
  EXPECT_EQ(NormalizePhoneForIndex("(0851) 8600 0000"), "085186000000");
  // A short local number that happens to start with 86 keeps its digits.
  EXPECT_EQ(NormalizePhoneForIndex("86000000"), "86000000");
  EXPECT_EQ(NormalizePhoneForIndex("+86"), "");
  EXPECT_EQ(NormalizePhoneForIndex("none"), "");
}

TEST(SearchIndexTest, EqualAfterNormalisationAndSeparatedByField) {
  auto cipher = PiiCipher::Create("search-keys-test-pii-key-0123456789abcdef");
  ASSERT_TRUE(cipher.ok());
  const PiiCipher& c = **cipher;
  EXPECT_EQ(NameIndex(c, "测试 · 合成"), NameIndex(c, "测试・合成"));
  EXPECT_NE(NameIndex(c, "测试合成"), NameIndex(c, "测试合"));
  EXPECT_EQ(NameIndex(c, "测试").size(), 32u);
  EXPECT_EQ(PhoneIndex(c, "+86 138 0000 0000"), PhoneIndex(c, "13800000000"));
  EXPECT_FALSE(PhoneIndex(c, "--").has_value());
  // The same string as a name, a phone and an ID number: three unrelated values.
  const std::string s = "13800000000";
  EXPECT_NE(NameIndex(c, s), *PhoneIndex(c, s));
  EXPECT_NE(NameIndex(c, s), c.BlindIndex(s));
  EXPECT_NE(*PhoneIndex(c, s), c.BlindIndex(s));
  // Nothing of the input is in the index.
  EXPECT_EQ(NameIndex(c, s).find(s), std::string::npos);
}

}  // namespace
}  // namespace registry
}  // namespace pathway
