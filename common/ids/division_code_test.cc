#include "common/ids/division_code.h"

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

TEST(DivisionCodeTest, AcceptsWellFormedCodes) {
  // Current codes, a province-level code, and codes outside today's table
  // (retired or never seen): only the shape is checked.
  for (absl::string_view code : {"520102", "110105", "340524", "440524",
                                 "110000", "820000", "990000", "522200"}) {
    EXPECT_TRUE(ValidateDivisionCode(code).ok()) << code;
    EXPECT_TRUE(DivisionCode::Parse(code).ok()) << code;
  }
}

TEST(DivisionCodeTest, RejectsMalformedCodes) {
  for (absl::string_view code :
       {"", "000000", "52010", "5201021", "52010a", "52-102", " 52010",
        "520102 ", "５２０１０２", "+52010"}) {
    absl::Status status = ValidateDivisionCode(code);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << code;
    EXPECT_EQ(DivisionCode::Parse(code).status().code(),
              absl::StatusCode::kInvalidArgument)
        << code;
    if (!code.empty()) {
      EXPECT_EQ(status.message().find(code), absl::string_view::npos)
          << status.message();
    }
  }
}

TEST(DivisionCodeTest, Prefixes) {
  absl::StatusOr<DivisionCode> code = DivisionCode::Parse("520102");
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(code->code(), "520102");
  EXPECT_EQ(code->province(), "52");
  EXPECT_EQ(code->city(), "5201");
  EXPECT_EQ(code->county(), "520102");
}

TEST(DivisionCodeTest, IsWithin) {
  absl::StatusOr<DivisionCode> code = DivisionCode::Parse("520102");
  ASSERT_TRUE(code.ok());
  EXPECT_TRUE(code->IsWithin("52"));
  EXPECT_TRUE(code->IsWithin("5201"));
  EXPECT_TRUE(code->IsWithin("520102"));
  EXPECT_FALSE(code->IsWithin("53"));
  EXPECT_FALSE(code->IsWithin("5202"));
  EXPECT_FALSE(code->IsWithin("520103"));
  // Only province, city and county prefixes are jurisdictions.
  EXPECT_FALSE(code->IsWithin(""));
  EXPECT_FALSE(code->IsWithin("5"));
  EXPECT_FALSE(code->IsWithin("520"));
  EXPECT_FALSE(code->IsWithin("52010"));
  EXPECT_FALSE(code->IsWithin("5201020"));
}

TEST(DivisionCodeTest, ComparesAndHashes) {
  DivisionCode a = *DivisionCode::Parse("520102");
  DivisionCode b = *DivisionCode::Parse("520102");
  DivisionCode c = *DivisionCode::Parse("520103");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_LT(a, c);
  absl::flat_hash_set<DivisionCode> set = {a, b, c};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace pathway
