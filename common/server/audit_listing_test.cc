// Reading the audit trail without gRPC: the checks of a request, the page
// token, paging, and what an auditor of each jurisdiction sees, over a real
// store (SQLite, or PostgreSQL with PATHWAY_TEST_DATABASE=postgres).
#include "common/server/audit_listing.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ids/case_id.h"
#include "common/status/status_macros.h"
#include "common/store/testing_store.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

using common::v1::ListAuditEntriesRequest;
using common::v1::ListAuditEntriesResponse;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

Caller Auditor(const std::string &jurisdiction) {
  Caller c;
  c.claims.subject = "auditor-1";
  c.claims.role = Role::kAuditor;
  c.claims.jurisdiction = jurisdiction;
  return c;
}

class AuditListingTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto store = OpenTestStore(AuditMigrations());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    guiyang_ = CaseId::Mint("520102", 2026, 1)->ToString();
    kunming_ = CaseId::Mint("530102", 2026, 2)->ToString();
    // 12 entries by cw-1 on the Guiyang case (one a second), 3 by cw-2 on the
    // Kunming case, 2 by cw-1 without a case.
    std::vector<AuditEntry> entries;
    for (int i = 0; i < 12; ++i) {
      entries.push_back({kT0 + absl::Seconds(i), "cw-1", "caseworker",
                         "/pathway.detox.v1.CommunityDetox/GetOrder", guiyang_,
                         "OK", absl::StrCat("req-", i)});
    }
    for (int i = 0; i < 3; ++i) {
      entries.push_back({kT0 + absl::Seconds(i), "cw-2", "caseworker",
                         "/pathway.detox.v1.CommunityDetox/GetOrder", kunming_,
                         "OK", ""});
    }
    for (int i = 0; i < 2; ++i) {
      entries.push_back({kT0 + absl::Seconds(20 + i), "cw-1", "caseworker",
                         "/pathway.detox.v1.CommunityDetox/ListDue", "", "OK",
                         "list"});
    }
    ASSERT_TRUE(
        store_
            ->Write([&](Transaction &tx) { return AppendAudits(tx, entries); })
            .ok());
  }

  ListAuditEntriesResponse
  Read(const Caller &caller, const ListAuditEntriesRequest &req,
       absl::StatusCode expected = absl::StatusCode::kOk,
       std::string *audited_case = nullptr) {
    ListAuditEntriesResponse resp;
    absl::Status s = ReadAuditEntries(*store_, "community_detox", caller, req,
                                      &resp, audited_case);
    EXPECT_EQ(s.code(), expected) << s;
    return resp;
  }

  // Every entry of `req` as `caller` sees it, page by page; the pages' count in
  // `pages`. Checks that every page's total_size is the number of entries of all
  // pages (so never an entry the caller may not see).
  std::vector<common::v1::AuditTrailEntry>
  ReadAll(const Caller &caller, ListAuditEntriesRequest req, int *pages) {
    std::vector<common::v1::AuditTrailEntry> out;
    std::vector<int64_t> totals;
    *pages = 0;
    for (int guard = 0; guard < 100; ++guard) {
      ListAuditEntriesResponse resp = Read(caller, req);
      ++*pages;
      totals.push_back(resp.total_size());
      out.insert(out.end(), resp.entries().begin(), resp.entries().end());
      if (resp.next_page_token().empty())
        break;
      req.set_page_token(resp.next_page_token());
    }
    for (int64_t t : totals)
      EXPECT_EQ(t, static_cast<int64_t>(out.size()));
    return out;
  }

  std::unique_ptr<Store> store_;
  std::string guiyang_;
  std::string kunming_;
};

TEST_F(AuditListingTest, CaseEntriesOldestFirstWithEveryField) {
  ListAuditEntriesRequest req;
  req.set_case_id(guiyang_);
  std::string audited;
  ListAuditEntriesResponse resp =
      Read(Auditor("52"), req, absl::StatusCode::kOk, &audited);
  EXPECT_EQ(audited, guiyang_);
  EXPECT_EQ(resp.service(), "community_detox");
  ASSERT_EQ(resp.entries_size(), 12);
  EXPECT_TRUE(resp.next_page_token().empty());
  const common::v1::AuditTrailEntry &e = resp.entries(3);
  EXPECT_EQ(e.seq(), 4);
  EXPECT_EQ(e.service(), "community_detox");
  EXPECT_EQ(e.at().seconds(), 1'800'000'003);
  EXPECT_EQ(e.subject(), "cw-1");
  EXPECT_EQ(e.role(), "caseworker");
  EXPECT_EQ(e.action(), "/pathway.detox.v1.CommunityDetox/GetOrder");
  EXPECT_EQ(e.case_id(), guiyang_);
  EXPECT_EQ(e.outcome(), "OK");
  EXPECT_EQ(e.request_id(), "req-3");
  for (int i = 1; i < resp.entries_size(); ++i) {
    EXPECT_LT(resp.entries(i - 1).at().seconds(),
              resp.entries(i).at().seconds());
  }
}

TEST_F(AuditListingTest, TimeRangeIsFromInclusiveToExclusive) {
  ListAuditEntriesRequest req;
  req.set_case_id(guiyang_);
  req.mutable_from()->set_seconds(1'800'000'002);
  req.mutable_to()->set_seconds(1'800'000'005);
  ListAuditEntriesResponse resp = Read(Auditor("*"), req);
  ASSERT_EQ(resp.entries_size(), 3);
  EXPECT_EQ(resp.entries(0).request_id(), "req-2");
  EXPECT_EQ(resp.entries(2).request_id(), "req-4");
  // A `to` a nanosecond past an entry's microsecond still includes it.
  req.mutable_to()->set_nanos(1);
  EXPECT_EQ(Read(Auditor("*"), req).entries_size(), 4);
}

TEST_F(AuditListingTest,
       PagesCoverEverythingOnceAndTokensAreBoundToTheirQuery) {
  ListAuditEntriesRequest req;
  req.set_case_id(guiyang_);
  req.set_page_size(5);
  int pages = 0;
  std::vector<common::v1::AuditTrailEntry> all =
      ReadAll(Auditor("520102"), req, &pages);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(Read(Auditor("520102"), req).total_size(), 12);
  ASSERT_EQ(all.size(), 12u);
  std::set<int64_t> seqs;
  for (const auto &e : all)
    seqs.insert(e.seq());
  EXPECT_EQ(seqs.size(), 12u);

  ListAuditEntriesResponse first = Read(Auditor("520102"), req);
  ASSERT_FALSE(first.next_page_token().empty());
  // The same token with another case, another range, or altered: refused.
  ListAuditEntriesRequest other = req;
  other.set_page_token(first.next_page_token());
  other.set_case_id(kunming_);
  Read(Auditor("*"), other, absl::StatusCode::kInvalidArgument);
  other = req;
  other.set_page_token(first.next_page_token());
  other.mutable_from()->set_seconds(1);
  Read(Auditor("*"), other, absl::StatusCode::kInvalidArgument);
  // (Its position is not secret: a token changed there only moves within the
  // same query. Its version and its binding to the query are checked.)
  std::string tampered = first.next_page_token();
  tampered.back() = tampered.back() == 'A' ? 'Q' : 'A';
  std::string other_version = first.next_page_token();
  other_version[0] = other_version[0] == 'A' ? 'B' : 'A';
  for (const std::string &bad :
       {tampered, other_version, std::string("garbage!"), std::string("AAAA"),
        first.next_page_token() + "=", std::string(200, 'A')}) {
    other = req;
    other.set_page_token(bad);
    Read(Auditor("*"), other, absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(AuditListingTest, PageSizeDefaultsAndLimits) {
  ListAuditEntriesRequest req;
  req.set_subject("cw-1");
  req.set_page_size(1000000); // clamped, not refused
  EXPECT_EQ(Read(Auditor("*"), req).entries_size(), 14);
  req.set_page_size(-1);
  Read(Auditor("*"), req, absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditListingTest, RequestsThatAreRefused) {
  ListAuditEntriesRequest neither;
  Read(Auditor("*"), neither, absl::StatusCode::kInvalidArgument);
  ListAuditEntriesRequest both;
  both.set_case_id(guiyang_);
  both.set_subject("cw-1");
  Read(Auditor("*"), both, absl::StatusCode::kInvalidArgument);
  ListAuditEntriesRequest bad_case;
  bad_case.set_case_id("520102-2026-0000001-Y");
  Read(Auditor("*"), bad_case, absl::StatusCode::kInvalidArgument);
  ListAuditEntriesRequest long_subject;
  long_subject.set_subject(std::string(257, 'u'));
  Read(Auditor("*"), long_subject, absl::StatusCode::kInvalidArgument);
  ListAuditEntriesRequest backwards;
  backwards.set_case_id(guiyang_);
  backwards.mutable_from()->set_seconds(10);
  backwards.mutable_to()->set_seconds(9);
  Read(Auditor("*"), backwards, absl::StatusCode::kInvalidArgument);
  ListAuditEntriesRequest bad_time;
  bad_time.set_case_id(guiyang_);
  bad_time.mutable_from()->set_nanos(-1);
  Read(Auditor("*"), bad_time, absl::StatusCode::kInvalidArgument);
  bad_time.mutable_from()->set_nanos(0);
  bad_time.mutable_to()->set_seconds(int64_t{1} << 50);
  Read(Auditor("*"), bad_time, absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditListingTest, AnAuditorSeesCasesOfTheirJurisdictionOnly) {
  ListAuditEntriesRequest req;
  req.set_case_id(guiyang_);
  for (const std::string &j : {std::string("*"), std::string("52"),
                               std::string("5201"), std::string("520102")}) {
    EXPECT_EQ(Read(Auditor(j), req).entries_size(), 12) << j;
  }
  // Outside: exactly like a case without entries, and not recorded as seen.
  ListAuditEntriesRequest none;
  none.set_case_id(CaseId::Mint("520102", 2026, 99)->ToString());
  const std::string empty_page = Read(Auditor("52"), none).SerializeAsString();
  for (const std::string &j :
       {std::string("53"), std::string("5202"), std::string("520103"),
        std::string("5"), std::string("52010299")}) {
    std::string audited = "unchanged";
    ListAuditEntriesResponse outside =
        Read(Auditor(j), req, absl::StatusCode::kOk, &audited);
    EXPECT_EQ(outside.SerializeAsString(), empty_page) << j;
    EXPECT_EQ(audited, "") << j;
  }
}

TEST_F(AuditListingTest,
       AUsersEntriesAreNarrowedToTheJurisdictionAndCaselessOnesAreNational) {
  ListAuditEntriesRequest req;
  req.set_subject("cw-1");
  int pages = 0;
  EXPECT_EQ(ReadAll(Auditor("*"), req, &pages).size(),
            14u); // with the two without a case
  std::vector<common::v1::AuditTrailEntry> seen =
      ReadAll(Auditor("5201"), req, &pages);
  EXPECT_EQ(seen.size(), 12u);
  for (const auto &e : seen)
    EXPECT_EQ(e.case_id(), guiyang_);
  EXPECT_TRUE(ReadAll(Auditor("53"), req, &pages).empty());
  // The total of a user's entries counts only the jurisdiction's: 12 of 14.
  EXPECT_EQ(Read(Auditor("5201"), req).total_size(), 12);
  EXPECT_EQ(Read(Auditor("53"), req).total_size(), 0);
  req.set_subject("cw-2");
  EXPECT_TRUE(ReadAll(Auditor("52"), req, &pages).empty());
  EXPECT_EQ(ReadAll(Auditor("530102"), req, &pages).size(), 3u);
  req.set_subject("nobody");
  EXPECT_TRUE(ReadAll(Auditor("*"), req, &pages).empty());
}

TEST(AuditCasePrefixTest, TheRule) {
  const std::string guiyang = "520102-2026-0000001-0";
  EXPECT_EQ(AuditCasePrefix(Auditor("*"), guiyang), "");
  EXPECT_EQ(AuditCasePrefix(Auditor("*"), ""), "");
  EXPECT_EQ(AuditCasePrefix(Auditor("52"), guiyang), "52");
  EXPECT_EQ(AuditCasePrefix(Auditor("52"), ""), "52");
  EXPECT_EQ(AuditCasePrefix(Auditor("53"), guiyang), std::nullopt);
  EXPECT_EQ(AuditCasePrefix(Auditor("5x"), ""), std::nullopt);
  EXPECT_EQ(AuditCasePrefix(Auditor(""), ""), std::nullopt);
}

} // namespace
} // namespace pathway
