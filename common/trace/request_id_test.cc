#include "common/trace/request_id.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(RequestIdTest, WellFormedIds) {
  EXPECT_TRUE(IsWellFormedRequestId("a"));
  EXPECT_TRUE(IsWellFormedRequestId("req-2026.11_20-AbC9"));
  EXPECT_TRUE(IsWellFormedRequestId(std::string(64, 'x')));
}

TEST(RequestIdTest, MalformedIds) {
  EXPECT_FALSE(IsWellFormedRequestId(""));
  EXPECT_FALSE(IsWellFormedRequestId(std::string(65, 'x')));
  for (const char *bad : {"a b", "a\tb", "a\nb", "a/b", "a:b", "a=b", "a;b",
                          "a%20", "é", "a\x7f"}) {
    EXPECT_FALSE(IsWellFormedRequestId(bad)) << bad;
  }
  EXPECT_FALSE(IsWellFormedRequestId(absl::string_view("a\0b", 3)));
}

TEST(RequestIdTest, NewIdsAre128BitHexAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewRequestId();
    ASSERT_EQ(id.size(), 32u);
    for (char c : id)
      EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
    EXPECT_TRUE(IsWellFormedRequestId(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RequestIdTest, AcceptKeepsAWellFormedClientId) {
  auto never = []() -> std::string {
    ADD_FAILURE() << "a well-formed id was replaced";
    return "unused";
  };
  EXPECT_EQ(AcceptCallTrace("client-id-1", never).request_id, "client-id-1");
  const std::string longest(kMaxRequestIdLength, '7');
  EXPECT_EQ(AcceptCallTrace(longest, never).request_id, longest);
}

TEST(RequestIdTest, AcceptReplacesMissingOrMalformedIdsWithoutEchoingThem) {
  auto fresh = [] { return std::string("fresh"); };
  EXPECT_EQ(AcceptCallTrace(std::nullopt, fresh).request_id, "fresh");
  EXPECT_EQ(AcceptCallTrace("", fresh).request_id, "fresh");
  EXPECT_EQ(AcceptCallTrace("has space", fresh).request_id, "fresh");
  EXPECT_EQ(AcceptCallTrace(std::string(65, 'a'), fresh).request_id, "fresh");
  EXPECT_EQ(AcceptCallTrace("x\r\nevent=forged", fresh).request_id, "fresh");
}

TEST(RequestIdTest, DefaultGeneratorMakesANewId) {
  const CallTrace a = AcceptCallTrace(std::nullopt);
  const CallTrace b = AcceptCallTrace("bad id");
  EXPECT_EQ(a.request_id.size(), 32u);
  EXPECT_EQ(b.request_id.size(), 32u);
  EXPECT_NE(a.request_id, b.request_id);
}

} // namespace
} // namespace pathway
