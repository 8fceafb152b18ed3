// The behaviour every StatusCache implementation must have, as a gtest typed
// test suite (test-only header). An implementation's test instantiates it
// with an environment type that makes fresh, empty caches:
//
//   class MyEnv {
//    public:
//     absl::Status SetUp();                        // once per test
//     std::unique_ptr<StatusCache> NewCache();     // empty, usable cache
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StatusCacheContractTest,
//                                  ::testing::Types<MyEnv>);
//
// Ownership: each test owns its environment and cache. The suite itself calls
// the cache from several threads in the concurrency test.
#ifndef PATHWAY_COMMON_CACHE_STATUS_CACHE_CONTRACT_H_
#define PATHWAY_COMMON_CACHE_STATUS_CACHE_CONTRACT_H_

#include <algorithm>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/cache/status_cache.h"
#include "gtest/gtest.h"

namespace pathway {

// Lets gtest print statuses in failure messages.
inline void PrintTo(const ProgrammeStatus& s, std::ostream* os) {
  *os << "{" << EncodeProgrammeStatus(s) << "}";
}

namespace contract_internal {

inline ProgrammeStatus MakeStatus(int64_t version,
                                  const std::string& state = "ACTIVE") {
  ProgrammeStatus s;
  s.state = state;
  s.version = version;
  s.began = absl::CivilDay(2026, 1, 10);
  s.next_deadline_kind = "REPORT";
  s.next_deadline = absl::CivilDay(2026, 2, 1);
  s.written_at = absl::FromUnixMillis(1768003200123 + version % 1000);
  return s;
}

}  // namespace contract_internal

template <typename Env>
class StatusCacheContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = env_.SetUp();
    ASSERT_TRUE(s.ok()) << s;
    cache_ = env_.NewCache();
    ASSERT_NE(cache_, nullptr);
  }

  StatusCache& cache() { return *cache_; }

  Env env_;
  std::unique_ptr<StatusCache> cache_;
};

TYPED_TEST_SUITE_P(StatusCacheContractTest);

TYPED_TEST_P(StatusCacheContractTest, PutGetRoundTripsAllFields) {
  using contract_internal::MakeStatus;
  ProgrammeStatus full = MakeStatus(7);
  ProgrammeStatus minimal;
  minimal.state = "DISCHARGED_2";
  minimal.version = 1;
  minimal.written_at = absl::FromUnixMillis(1);

  absl::StatusOr<bool> put =
      this->cache().Put("C-2026-0001", Programme::kCommunityRehab, full);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_TRUE(*put);
  put = this->cache().Put("C-2026-0001", Programme::kPlacement, minimal);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_TRUE(*put);

  absl::StatusOr<CaseStatusEntries> got = this->cache().Get("C-2026-0001");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(got->at(Programme::kCommunityRehab), full);
  EXPECT_EQ(got->at(Programme::kPlacement), minimal);
  EXPECT_FALSE(got->at(Programme::kPlacement).began.has_value());
  EXPECT_FALSE(got->at(Programme::kPlacement).next_deadline.has_value());
}

TYPED_TEST_P(StatusCacheContractTest, GetOfUnknownCaseIsEmpty) {
  absl::StatusOr<CaseStatusEntries> got = this->cache().Get("nobody");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->empty());
}

TYPED_TEST_P(StatusCacheContractTest, WrittenAtKeptToTheMillisecond) {
  ProgrammeStatus s = contract_internal::MakeStatus(1);
  s.written_at = absl::FromUnixMillis(1768003200123) + absl::Microseconds(456);
  ASSERT_TRUE(this->cache().Put("c1", Programme::kCommunityDetox, s).ok());
  absl::StatusOr<CaseStatusEntries> got = this->cache().Get("c1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->at(Programme::kCommunityDetox).written_at,
            absl::FromUnixMillis(1768003200123));
}

TYPED_TEST_P(StatusCacheContractTest, StaleVersionIgnored) {
  using contract_internal::MakeStatus;
  ASSERT_TRUE(*this->cache().Put("c1", Programme::kCommunityDetox,
                                 MakeStatus(5, "ACTIVE")));
  absl::StatusOr<bool> put =
      this->cache().Put("c1", Programme::kCommunityDetox, MakeStatus(4, "OLD"));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_FALSE(*put);
  absl::StatusOr<CaseStatusEntries> got = this->cache().Get("c1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->at(Programme::kCommunityDetox), MakeStatus(5, "ACTIVE"));
}

TYPED_TEST_P(StatusCacheContractTest, EqualVersionIgnored) {
  using contract_internal::MakeStatus;
  ASSERT_TRUE(*this->cache().Put("c1", Programme::kCommunityDetox,
                                 MakeStatus(5, "ACTIVE")));
  absl::StatusOr<bool> put = this->cache().Put("c1", Programme::kCommunityDetox,
                                               MakeStatus(5, "DIFFERENT"));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_FALSE(*put);
  EXPECT_EQ(this->cache().Get("c1")->at(Programme::kCommunityDetox).state,
            "ACTIVE");
}

TYPED_TEST_P(StatusCacheContractTest, OutOfOrderWritesNeverRollBack) {
  using contract_internal::MakeStatus;
  const int64_t order[] = {3, 1, 9, 2, 8, 10, 4, 7, 5, 6};
  int64_t max_seen = 0;
  for (int64_t v : order) {
    absl::StatusOr<bool> put =
        this->cache().Put("c1", Programme::kCompulsoryIsolation,
                          MakeStatus(v, absl::StrCat("S", v)));
    ASSERT_TRUE(put.ok()) << put.status();
    EXPECT_EQ(*put, v > max_seen) << "version " << v;
    max_seen = std::max(max_seen, v);
    EXPECT_EQ(
        this->cache().Get("c1")->at(Programme::kCompulsoryIsolation).version,
        max_seen);
  }
  EXPECT_EQ(this->cache().Get("c1")->at(Programme::kCompulsoryIsolation).state,
            "S10");
}

TYPED_TEST_P(StatusCacheContractTest, VersionsCompareAsIntegersNotStrings) {
  using contract_internal::MakeStatus;
  ASSERT_TRUE(*this->cache().Put("c1", Programme::kPlacement, MakeStatus(9)));
  EXPECT_TRUE(*this->cache().Put("c1", Programme::kPlacement, MakeStatus(10)));
  EXPECT_FALSE(*this->cache().Put("c1", Programme::kPlacement, MakeStatus(9)));
  // Beyond 2^53, where doubles lose precision.
  const int64_t big = 9007199254740993;  // 2^53 + 1
  EXPECT_TRUE(*this->cache().Put("c1", Programme::kPlacement, MakeStatus(big)));
  EXPECT_FALSE(
      *this->cache().Put("c1", Programme::kPlacement, MakeStatus(big - 1)));
  EXPECT_TRUE(
      *this->cache().Put("c1", Programme::kPlacement, MakeStatus(big + 1)));
  EXPECT_EQ(this->cache().Get("c1")->at(Programme::kPlacement).version,
            big + 1);
}

TYPED_TEST_P(StatusCacheContractTest, ProgrammesAreIndependent) {
  using contract_internal::MakeStatus;
  ASSERT_TRUE(
      *this->cache().Put("c1", Programme::kCommunityDetox, MakeStatus(100)));
  // A lower version for another programme is not stale.
  EXPECT_TRUE(
      *this->cache().Put("c1", Programme::kCommunityRehab, MakeStatus(1)));
  EXPECT_EQ(this->cache().Get("c1")->size(), 2u);
}

TYPED_TEST_P(StatusCacheContractTest, GetManyKeepsOrderAndReportsMissing) {
  using contract_internal::MakeStatus;
  ASSERT_TRUE(
      *this->cache().Put("a", Programme::kCommunityDetox, MakeStatus(1)));
  ASSERT_TRUE(
      *this->cache().Put("c", Programme::kCommunityRehab, MakeStatus(2)));
  ASSERT_TRUE(*this->cache().Put("c", Programme::kPlacement, MakeStatus(3)));

  absl::StatusOr<std::vector<CaseStatusEntries>> got =
      this->cache().GetMany({"c", "missing", "a", "c"});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 4u);
  EXPECT_EQ((*got)[0].size(), 2u);
  EXPECT_EQ((*got)[0].at(Programme::kPlacement), MakeStatus(3));
  EXPECT_TRUE((*got)[1].empty());
  ASSERT_EQ((*got)[2].size(), 1u);
  EXPECT_EQ((*got)[2].at(Programme::kCommunityDetox), MakeStatus(1));
  EXPECT_EQ((*got)[3], (*got)[0]);

  absl::StatusOr<std::vector<CaseStatusEntries>> none =
      this->cache().GetMany({});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TYPED_TEST_P(StatusCacheContractTest, GetManyLimitsAndValidates) {
  std::vector<std::string> ids(StatusCache::kMaxGetManyCases);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = absl::StrCat("case-", i);
  absl::StatusOr<std::vector<CaseStatusEntries>> got =
      this->cache().GetMany(ids);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), ids.size());

  ids.push_back("one-too-many");
  EXPECT_EQ(this->cache().GetMany(ids).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->cache().GetMany({"ok", "not ok"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST_P(StatusCacheContractTest, RemoveRespectsMaxVersion) {
  using contract_internal::MakeStatus;
  ASSERT_TRUE(
      *this->cache().Put("c1", Programme::kCommunityDetox, MakeStatus(5)));
  ASSERT_TRUE(*this->cache().Put("c1", Programme::kPlacement, MakeStatus(2)));

  absl::StatusOr<bool> removed =
      this->cache().Remove("c1", Programme::kCommunityDetox, 4);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_FALSE(*removed);  // A newer write survives.
  EXPECT_EQ(this->cache().Get("c1")->size(), 2u);

  removed = this->cache().Remove("c1", Programme::kCommunityDetox, 5);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(*removed);
  absl::StatusOr<CaseStatusEntries> got = this->cache().Get("c1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->count(Programme::kCommunityDetox), 0u);
  EXPECT_EQ(got->count(Programme::kPlacement), 1u);

  // Nothing there.
  EXPECT_FALSE(*this->cache().Remove("c1", Programme::kCommunityDetox, 99));
  EXPECT_FALSE(*this->cache().Remove("nobody", Programme::kPlacement, 99));

  // Removing the last entry removes the case.
  EXPECT_TRUE(*this->cache().Remove("c1", Programme::kPlacement, 100));
  EXPECT_TRUE(this->cache().Get("c1")->empty());

  EXPECT_EQ(
      this->cache().Remove("c1", Programme::kPlacement, -1).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TYPED_TEST_P(StatusCacheContractTest, RemovedEntryCanBeWrittenAgain) {
  using contract_internal::MakeStatus;
  ASSERT_TRUE(
      *this->cache().Put("c1", Programme::kCommunityDetox, MakeStatus(5)));
  ASSERT_TRUE(*this->cache().Remove("c1", Programme::kCommunityDetox, 5));
  EXPECT_TRUE(
      *this->cache().Put("c1", Programme::kCommunityDetox, MakeStatus(3)));
}

TYPED_TEST_P(StatusCacheContractTest, ScanFindsAllWrittenCases) {
  using contract_internal::MakeStatus;
  std::set<std::string> written;
  for (int i = 0; i < 250; ++i) {
    const std::string id = absl::StrCat("case-", i);
    ASSERT_TRUE(
        *this->cache().Put(id, Programme::kCommunityRehab, MakeStatus(1)));
    written.insert(id);
  }
  std::set<std::string> seen;
  std::string cursor = "0";
  int pages = 0;
  do {
    absl::StatusOr<StatusCache::ScanPage> page = this->cache().Scan(cursor, 20);
    ASSERT_TRUE(page.ok()) << page.status();
    seen.insert(page->case_ids.begin(), page->case_ids.end());
    cursor = page->next_cursor;
    ASSERT_LT(++pages, 10000) << "scan does not terminate";
  } while (cursor != "0");
  EXPECT_EQ(seen, written);
  EXPECT_GT(pages, 1);

  EXPECT_EQ(this->cache().Scan("0", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->cache().Scan("not a cursor", 10).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST_P(StatusCacheContractTest, ScanOfEmptyCacheEnds) {
  absl::StatusOr<StatusCache::ScanPage> page = this->cache().Scan("0", 100);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->case_ids.empty());
  EXPECT_EQ(page->next_cursor, "0");
}

TYPED_TEST_P(StatusCacheContractTest, BadCaseIdRejected) {
  const ProgrammeStatus s = contract_internal::MakeStatus(1);
  const std::string too_long(StatusCache::kMaxCaseIdLength + 1, 'a');
  for (const std::string& bad :
       {std::string(""), std::string("a b"), std::string("a:b"),
        std::string("a*"), std::string("x\r\nFLUSHALL"), std::string("é"),
        std::string("a\0b", 3), too_long}) {
    EXPECT_EQ(this->cache().Put(bad, Programme::kPlacement, s).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(this->cache().Get(bad).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(
        this->cache().Remove(bad, Programme::kPlacement, 1).status().code(),
        absl::StatusCode::kInvalidArgument);
  }
  const std::string longest(StatusCache::kMaxCaseIdLength, 'a');
  EXPECT_TRUE(this->cache().Put(longest, Programme::kPlacement, s).ok());
  EXPECT_TRUE(this->cache().Put("Az09-", Programme::kPlacement, s).ok());
}

TYPED_TEST_P(StatusCacheContractTest, BadStatusRejected) {
  using contract_internal::MakeStatus;
  std::vector<ProgrammeStatus> bad;
  bad.push_back(MakeStatus(1, ""));
  bad.push_back(MakeStatus(1, "active"));
  bad.push_back(MakeStatus(1, "A|B"));
  bad.push_back(
      MakeStatus(1, std::string(StatusCache::kMaxCodeLength + 1, 'A')));
  bad.push_back(MakeStatus(0));
  bad.push_back(MakeStatus(-3));
  ProgrammeStatus s = MakeStatus(1);
  s.next_deadline_kind = "report";
  bad.push_back(s);
  s = MakeStatus(1);
  s.next_deadline.reset();  // Kind without a deadline.
  bad.push_back(s);
  s = MakeStatus(1);
  s.began = absl::CivilDay(10000, 1, 1);
  bad.push_back(s);
  s = MakeStatus(1);
  s.written_at = absl::InfiniteFuture();
  bad.push_back(s);
  for (const ProgrammeStatus& b : bad) {
    EXPECT_EQ(this->cache().Put("c1", Programme::kPlacement, b).status().code(),
              absl::StatusCode::kInvalidArgument)
        << ::testing::PrintToString(b);
  }
  EXPECT_TRUE(this->cache().Get("c1")->empty());
}

TYPED_TEST_P(StatusCacheContractTest, ConcurrentWritersLeaveTheMaximum) {
  constexpr int kThreads = 4;
  constexpr int kWritesPerThread = 50;
  std::vector<std::thread> threads;
  std::vector<int> errors(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &errors] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        // Thread t writes t+1, t+1+kThreads, ...: interleaved across threads.
        const int64_t version = 1 + t + static_cast<int64_t>(i) * kThreads;
        ProgrammeStatus s =
            contract_internal::MakeStatus(version, absl::StrCat("V", version));
        if (!this->cache().Put("shared", Programme::kCommunityRehab, s).ok()) {
          ++errors[t];
        }
        if (!this->cache().Get("shared").ok()) ++errors[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int e : errors) EXPECT_EQ(e, 0);
  const int64_t max_version = kThreads * kWritesPerThread;
  absl::StatusOr<CaseStatusEntries> got = this->cache().Get("shared");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->at(Programme::kCommunityRehab).version, max_version);
  EXPECT_EQ(got->at(Programme::kCommunityRehab).state,
            absl::StrCat("V", max_version));
}

TYPED_TEST_P(StatusCacheContractTest, PutManyAppliesTheVersionRulePerEntry) {
  using contract_internal::MakeStatus;
  ASSERT_TRUE(
      *this->cache().Put("c1", Programme::kCommunityDetox, MakeStatus(5, "OLD")));
  ASSERT_TRUE(
      *this->cache().Put("c2", Programme::kCommunityDetox, MakeStatus(5, "KEEP")));
  std::vector<StatusCache::PutEntry> batch = {
      {"c1", Programme::kCommunityDetox, MakeStatus(6, "NEW")},   // newer
      {"c2", Programme::kCommunityDetox, MakeStatus(4, "STALE")}, // older
      {"c2", Programme::kCommunityDetox, MakeStatus(5, "EQUAL")}, // equal
      {"c3", Programme::kPlacement, MakeStatus(1, "FIRST")},      // missing
      // The same entry twice in one batch: applied in order.
      {"c3", Programme::kPlacement, MakeStatus(3, "THIRD")},
      {"c3", Programme::kPlacement, MakeStatus(2, "SECOND")},
      {"c3", Programme::kCommunityRehab, MakeStatus(1, "OTHER")},
  };
  absl::StatusOr<std::vector<bool>> written = this->cache().PutMany(batch);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written,
            (std::vector<bool>{true, false, false, true, true, false, true}));
  EXPECT_EQ(this->cache().Get("c1")->at(Programme::kCommunityDetox),
            MakeStatus(6, "NEW"));
  EXPECT_EQ(this->cache().Get("c2")->at(Programme::kCommunityDetox),
            MakeStatus(5, "KEEP"));
  absl::StatusOr<CaseStatusEntries> c3 = this->cache().Get("c3");
  ASSERT_TRUE(c3.ok()) << c3.status();
  ASSERT_EQ(c3->size(), 2u);
  EXPECT_EQ(c3->at(Programme::kPlacement), MakeStatus(3, "THIRD"));
  EXPECT_EQ(c3->at(Programme::kCommunityRehab), MakeStatus(1, "OTHER"));

  absl::StatusOr<std::vector<bool>> none = this->cache().PutMany({});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TYPED_TEST_P(StatusCacheContractTest, PutManyOfTheMaximumIsWrittenWhole) {
  using contract_internal::MakeStatus;
  std::vector<StatusCache::PutEntry> batch;
  std::vector<std::string> ids;
  for (int i = 0; i < StatusCache::kMaxWriteManyEntries; ++i) {
    ids.push_back(absl::StrCat("case-", i));
    batch.push_back({ids.back(), Programme::kCommunityRehab, MakeStatus(i + 1)});
  }
  absl::StatusOr<std::vector<bool>> written = this->cache().PutMany(batch);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, std::vector<bool>(batch.size(), true));
  absl::StatusOr<std::vector<CaseStatusEntries>> got =
      this->cache().GetMany(ids);
  ASSERT_TRUE(got.ok()) << got.status();
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ((*got)[i].size(), 1u) << i;
    EXPECT_EQ((*got)[i].at(Programme::kCommunityRehab), batch[i].status) << i;
  }
}

TYPED_TEST_P(StatusCacheContractTest, PutManyValidatesBeforeWritingAnything) {
  using contract_internal::MakeStatus;
  std::vector<StatusCache::PutEntry> batch = {
      {"good", Programme::kPlacement, MakeStatus(1)},
      {"bad id", Programme::kPlacement, MakeStatus(1)}};
  absl::StatusOr<std::vector<bool>> written = this->cache().PutMany(batch);
  EXPECT_EQ(written.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(written.status().message().find("entries[1]"),
            absl::string_view::npos)
      << written.status();
  batch[1] = {"other", Programme::kPlacement, MakeStatus(0)};  // bad version
  EXPECT_EQ(this->cache().PutMany(batch).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(this->cache().Get("good")->empty());

  std::vector<StatusCache::PutEntry> too_many(
      StatusCache::kMaxWriteManyEntries + 1,
      StatusCache::PutEntry{"c1", Programme::kPlacement, MakeStatus(1)});
  EXPECT_EQ(this->cache().PutMany(too_many).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(this->cache().Get("c1")->empty());
}

TYPED_TEST_P(StatusCacheContractTest, RemoveManyRespectsMaxVersionPerEntry) {
  using contract_internal::MakeStatus;
  ASSERT_TRUE(*this->cache().Put("c1", Programme::kCommunityDetox, MakeStatus(5)));
  ASSERT_TRUE(*this->cache().Put("c1", Programme::kPlacement, MakeStatus(2)));
  ASSERT_TRUE(*this->cache().Put("c2", Programme::kCommunityRehab, MakeStatus(9)));
  std::vector<StatusCache::RemoveEntry> batch = {
      {"c1", Programme::kCommunityDetox, 4},  // a newer write survives
      {"c1", Programme::kPlacement, 2},       // at its version: removed
      {"c2", Programme::kCommunityRehab, 10}, // above it: removed
      {"c2", Programme::kCommunityRehab, 10}, // already gone
      {"nobody", Programme::kPlacement, 1},
  };
  absl::StatusOr<std::vector<bool>> removed = this->cache().RemoveMany(batch);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, (std::vector<bool>{false, true, true, false, false}));
  absl::StatusOr<CaseStatusEntries> c1 = this->cache().Get("c1");
  ASSERT_TRUE(c1.ok());
  ASSERT_EQ(c1->size(), 1u);
  EXPECT_EQ(c1->at(Programme::kCommunityDetox).version, 5);
  EXPECT_TRUE(this->cache().Get("c2")->empty());

  EXPECT_TRUE(this->cache().RemoveMany({})->empty());
  EXPECT_EQ(this->cache()
                .RemoveMany({{"c1", Programme::kCommunityDetox, 9},
                             {"c1", Programme::kCommunityDetox, -1}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->cache().Get("c1")->size(), 1u);  // nothing removed
  std::vector<StatusCache::RemoveEntry> too_many(
      StatusCache::kMaxWriteManyEntries + 1,
      StatusCache::RemoveEntry{"c1", Programme::kCommunityDetox, 9});
  EXPECT_EQ(this->cache().RemoveMany(too_many).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->cache().Get("c1")->size(), 1u);
}

TYPED_TEST_P(StatusCacheContractTest, PingWhenReachable) {
  EXPECT_TRUE(this->cache().Ping().ok());
  EXPECT_TRUE(this->cache().Healthy());
}

REGISTER_TYPED_TEST_SUITE_P(
    StatusCacheContractTest, PutGetRoundTripsAllFields, GetOfUnknownCaseIsEmpty,
    WrittenAtKeptToTheMillisecond, StaleVersionIgnored, EqualVersionIgnored,
    OutOfOrderWritesNeverRollBack, VersionsCompareAsIntegersNotStrings,
    ProgrammesAreIndependent, GetManyKeepsOrderAndReportsMissing,
    GetManyLimitsAndValidates, RemoveRespectsMaxVersion,
    RemovedEntryCanBeWrittenAgain, ScanFindsAllWrittenCases,
    ScanOfEmptyCacheEnds, BadCaseIdRejected, BadStatusRejected,
    ConcurrentWritersLeaveTheMaximum, PutManyAppliesTheVersionRulePerEntry,
    PutManyOfTheMaximumIsWrittenWhole, PutManyValidatesBeforeWritingAnything,
    RemoveManyRespectsMaxVersionPerEntry, PingWhenReachable);

}  // namespace pathway

#endif  // PATHWAY_COMMON_CACHE_STATUS_CACHE_CONTRACT_H_
