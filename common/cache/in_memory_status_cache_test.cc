#include "common/cache/in_memory_status_cache.h"

#include <memory>

#include "common/cache/status_cache_contract.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

class InMemoryEnv {
 public:
  absl::Status SetUp() { return absl::OkStatus(); }
  std::unique_ptr<StatusCache> NewCache() {
    return std::make_unique<InMemoryStatusCache>();
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(InMemory, StatusCacheContractTest,
                               ::testing::Types<InMemoryEnv>);

TEST(InMemoryStatusCacheTest, SetUnavailableFailsEveryCallAndKeepsEntries) {
  InMemoryStatusCache cache;
  const ProgrammeStatus s = contract_internal::MakeStatus(1);
  ASSERT_TRUE(*cache.Put("c1", Programme::kPlacement, s));
  EXPECT_TRUE(cache.Healthy());

  cache.SetUnavailable(true);
  EXPECT_FALSE(cache.Healthy());
  const absl::StatusCode kUnavailable = absl::StatusCode::kUnavailable;
  EXPECT_EQ(
      cache.Put("c1", Programme::kPlacement, contract_internal::MakeStatus(2))
          .status()
          .code(),
      kUnavailable);
  EXPECT_EQ(cache.Get("c1").status().code(), kUnavailable);
  EXPECT_EQ(cache.GetMany({"c1"}).status().code(), kUnavailable);
  EXPECT_EQ(cache.Remove("c1", Programme::kPlacement, 9).status().code(),
            kUnavailable);
  EXPECT_EQ(cache.Scan("0", 10).status().code(), kUnavailable);
  EXPECT_EQ(cache.Ping().code(), kUnavailable);
  // Bad arguments are still reported as such.
  EXPECT_EQ(cache.Get("bad id").status().code(),
            absl::StatusCode::kInvalidArgument);

  cache.SetUnavailable(false);
  EXPECT_TRUE(cache.Healthy());
  EXPECT_TRUE(cache.Ping().ok());
  absl::StatusOr<CaseStatusEntries> got = cache.Get("c1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->at(Programme::kPlacement), s);  // The failed Put did nothing.
  EXPECT_EQ(cache.size(), 1u);
}

TEST(InMemoryStatusCacheTest, ScanSurvivesRemovalsBetweenPages) {
  InMemoryStatusCache cache;
  for (const char* id : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(*cache.Put(id, Programme::kPlacement,
                           contract_internal::MakeStatus(1)));
  }
  absl::StatusOr<StatusCache::ScanPage> page = cache.Scan("0", 2);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->case_ids, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(*cache.Remove("a", Programme::kPlacement, 1));
  page = cache.Scan(page->next_cursor, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->case_ids, (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_EQ(page->next_cursor, "0");
}

}  // namespace
}  // namespace pathway
