// The change feed over a real store (SQLite file, or PostgreSQL when the run asks):
// a copy synced from empty, then a thousand changes (updates in scope, new cases, a
// transfer out, a case moved in, a case sealed by the passage of time, cases of
// another county that must never show), resumed with large and small pages while
// writes go on between pages, ends equal to the server's view; cursors of another
// scope or too old answer the resync code, altered ones INVALID_ARGUMENT.
#include "services/registry/case_sync.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock/clock.h"
#include "common/ids/resident_id.h"
#include "common/legal_time/legal_time.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/registry/testing_registry_store.h"
#include "services/registry/change_log_tables.h"
#include "tests/testing/fixtures.h"

namespace pathway {
namespace registry {
namespace {


using test::MakeCaller;

// An offline copy as an app keeps it: case id -> version, and the cursor.
struct Copy {
  std::map<std::string, int64_t> cases;
  std::string cursor;
  std::set<std::string> mentioned;  // every id any change named
  int pages = 0;
};

class CaseSyncTest : public RegistryStoreTest {
 protected:
  void SetUp() override {
    RegistryStoreTest::SetUp();
    if (HasFatalFailure()) return;
    sync_ = std::make_unique<CaseSync>(logic_.get(), CaseSync::DeriveCursorKey(*cipher_));
  }

  v1::RegisterPersonRequest Person(const std::string& county, absl::CivilDay found_on) {
    v1::RegisterPersonRequest r;
    r.set_resident_id_number(
        GenerateSyntheticResidentId(county, absl::CivilDay(1990, 3, 7), ++people_));
    r.set_name(absl::StrCat("测试人员", people_));
    r.set_household_division(county);
    r.add_drug_types("methamphetamine");
    r.set_route_of_use(v1::ROUTE_OF_USE_SMOKING);
    r.mutable_found_on()->set_year(static_cast<int32_t>(found_on.year()));
    r.mutable_found_on()->set_month(found_on.month());
    r.mutable_found_on()->set_day(found_on.day());
    return r;
  }

  // Registers in one transaction each of `n` people of `county`; returns the ids.
  std::vector<std::string> RegisterMany(const std::string& county, int n,
                                        absl::CivilDay found_on = absl::CivilDay(2026, 1, 10)) {
    Caller police = MakeCaller(Role::kPolice, county, "police-" + county);
    std::vector<std::string> ids;
    absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
      ids.clear();
      for (int i = 0; i < n; ++i) {
        absl::StatusOr<CaseRecord> c =
            logic_->Register(tx, police, Person(county, found_on), clock_.Now());
        if (!c.ok()) return c.status();
        ids.push_back(c->case_id);
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    all_.insert(all_.end(), ids.begin(), ids.end());
    return ids;
  }

  absl::Status Grade(Transaction& tx, const std::string& id, int i) {
    v1::SetRiskGradeRequest r;
    r.set_case_id(id);
    r.set_risk_grade(i % 3 == 0 ? "high" : i % 3 == 1 ? "medium" : "low");
    r.set_reason("review");
    return logic_->SetRiskGrade(tx, admin_, r, clock_.Now()).status();
  }

  absl::Status Move(const std::string& id, const std::string& county) {
    v1::ChangeJurisdictionRequest r;
    r.set_case_id(id);
    r.set_new_household_division(county);
    r.set_new_residence_division(county);
    absl::CivilDay today = legal_time::ToCivilDay(clock_.Now());
    r.mutable_effective_on()->set_year(static_cast<int32_t>(today.year()));
    r.mutable_effective_on()->set_month(today.month());
    r.mutable_effective_on()->set_day(today.day());
    return store_->Write([&](Transaction& tx) {
      return logic_->ChangeJurisdiction(tx, admin_, r, clock_.Now()).status();
    });
  }

  // One page into `copy`.
  absl::StatusOr<bool> Page(Copy* copy, const Caller& caller, int page_size) {
    v1::SyncCasesRequest req;
    req.set_cursor(copy->cursor);
    req.set_page_size(page_size);
    v1::SyncCasesResponse resp;
    absl::Status s = store_->Read(
        [&](ReadTransaction& tx) { return sync_->Sync(tx, caller, req, clock_.Now(), &resp); });
    if (!s.ok()) return s;
    std::set<std::string> in_page;
    for (const v1::CaseChange& ch : resp.changes()) {
      const std::string& id = ch.has_upsert() ? ch.upsert().case_id() : ch.removed_case_id();
      EXPECT_TRUE(in_page.insert(id).second) << "one change per case and page";
      copy->mentioned.insert(id);
      if (ch.has_upsert()) {
        copy->cases[id] = ch.upsert().version();
      } else {
        copy->cases.erase(id);
      }
    }
    EXPECT_FALSE(resp.next_cursor().empty());
    copy->cursor = resp.next_cursor();
    ++copy->pages;
    return resp.has_more();
  }

  void Drain(Copy* copy, const Caller& caller, int page_size) {
    for (int guard = 0; guard < 10000; ++guard) {
      absl::StatusOr<bool> more = Page(copy, caller, page_size);
      ASSERT_TRUE(more.ok()) << more.status();
      if (!*more) return;
    }
    FAIL() << "the feed never ended";
  }

  // What the caller may see now: id -> version.
  std::map<std::string, int64_t> ServerView(const Caller& caller) {
    std::map<std::string, int64_t> view;
    const absl::CivilDay today = legal_time::ToCivilDay(clock_.Now());
    absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
      for (const std::string& id : all_) {
        absl::StatusOr<std::optional<CaseRecord>> c = logic_->Load(tx, id);
        if (!c.ok()) return c.status();
        if (c->has_value() && logic_->CheckVisible(caller, **c, today).ok()) {
          view[id] = (*c)->version;
        }
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return view;
  }

  std::unique_ptr<CaseSync> sync_;
  FakeClock clock_{test::ChinaNoon(2026, 3, 2)};
  Caller admin_ = MakeCaller(Role::kAdmin, "*", "admin-1");
  std::vector<std::string> all_;
  int people_ = 0;
};

TEST_F(CaseSyncTest, ResumedCopyEqualsTheServerViewAfterAThousandChanges) {
  const Caller caseworker = MakeCaller(Role::kCaseworker, "520102", "cw-1");
  const Caller police = MakeCaller(Role::kPolice, "520102", "police-9");
  std::vector<std::string> mine = RegisterMany("520102", 20);
  std::vector<std::string> other = RegisterMany("530102", 10);
  // Found 2023-03-05: three years end 2026-03-05, sealed from 2026-03-06.
  const std::string sealing = RegisterMany("520102", 1, absl::CivilDay(2023, 3, 5))[0];
  const std::string leaving = mine[0];
  const std::string arriving = other[0];

  Copy big, small, officer;
  ASSERT_NO_FATAL_FAILURE(Drain(&big, caseworker, 500));
  ASSERT_NO_FATAL_FAILURE(Drain(&officer, police, 500));
  ASSERT_EQ(big.cases, ServerView(caseworker));
  ASSERT_EQ(big.cases.size(), 21u);
  ASSERT_TRUE(big.cases.count(sealing));

  // A thousand changes over eight days, ten per transaction; the small-page copy
  // takes one page of four between transactions.
  int changes = 0;
  std::vector<std::string> in_scope(mine.begin() + 1, mine.end());
  for (int round = 0; changes < 1000; ++round) {
    if (round % 12 == 11) clock_.Advance(absl::Hours(24));
    if (round == 20) {
      ASSERT_TRUE(Move(leaving, "530102").ok());   // out of the caseworker's county
      ASSERT_TRUE(Move(arriving, "520102").ok());  // and one in
      changes += 2;
      in_scope.push_back(arriving);
    }
    if (round % 10 == 5) {
      for (const std::string& id : RegisterMany("520102", 3)) in_scope.push_back(id);
      RegisterMany("530102", 1);
      changes += 4;
    }
    absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
      for (int i = 0; i < 10; ++i) {
        const int n = round * 10 + i;
        // One in five goes to the other county, never visible to the caseworker.
        const std::string& id =
            n % 5 == 0 ? other[1 + n % (other.size() - 1)] : in_scope[n % in_scope.size()];
        absl::Status g = Grade(tx, id, n);
        if (!g.ok()) return g;
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    changes += 10;
    absl::StatusOr<bool> more = Page(&small, caseworker, 4);
    ASSERT_TRUE(more.ok()) << more.status();
  }
  ASSERT_GE(legal_time::ToCivilDay(clock_.Now()), absl::CivilDay(2026, 3, 6));

  ASSERT_NO_FATAL_FAILURE(Drain(&big, caseworker, 500));
  ASSERT_NO_FATAL_FAILURE(Drain(&small, caseworker, 4));
  ASSERT_NO_FATAL_FAILURE(Drain(&officer, police, 500));
  const std::map<std::string, int64_t> view = ServerView(caseworker);
  EXPECT_EQ(big.cases, view);
  EXPECT_EQ(small.cases, view);
  EXPECT_EQ(officer.cases, ServerView(police));
  EXPECT_FALSE(view.count(leaving));
  EXPECT_FALSE(view.count(sealing)) << "sealed by time: hidden from a caseworker";
  EXPECT_TRUE(view.count(arriving));
  EXPECT_TRUE(officer.cases.count(sealing)) << "police still see a sealed case";
  EXPECT_GT(small.pages, 90);
  // The caseworker's feeds never named a case of the other county, not even to remove it.
  for (const std::string& id : all_) {
    if (id.substr(0, 6) != "530102" || id == arriving) continue;
    EXPECT_FALSE(big.mentioned.count(id)) << id;
    EXPECT_FALSE(small.mentioned.count(id)) << id;
  }
  EXPECT_TRUE(big.mentioned.count(leaving)) << "removed from the copy";
  EXPECT_TRUE(big.mentioned.count(sealing)) << "removed from the copy";

  // A copy synced from empty now gives the same view, in pages of one as well.
  Copy fresh, tiny;
  ASSERT_NO_FATAL_FAILURE(Drain(&fresh, caseworker, 0));
  ASSERT_NO_FATAL_FAILURE(Drain(&tiny, caseworker, 1));
  EXPECT_EQ(fresh.cases, view);
  EXPECT_EQ(tiny.cases, view);
}

TEST_F(CaseSyncTest, CursorsOfAnotherScopeOrTooOldAskForAResyncAndAlteredOnesAreRefused) {
  const Caller caseworker = MakeCaller(Role::kCaseworker, "520102", "cw-1");
  RegisterMany("520102", 3);
  Copy copy;
  ASSERT_NO_FATAL_FAILURE(Drain(&copy, caseworker, 10));
  ASSERT_EQ(copy.cases.size(), 3u);

  // The same user with another jurisdiction (moved to another county's office).
  Copy moved = copy;
  absl::StatusOr<bool> r = Page(&moved, MakeCaller(Role::kCaseworker, "520103", "cw-1"), 10);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), kResyncRequired);
  Copy other_role = copy;
  r = Page(&other_role, MakeCaller(Role::kPolice, "520102", "cw-1"), 10);
  EXPECT_EQ(r.status().message(), kResyncRequired);

  // Altered: one character of the cursor changed, or a cursor made with another key.
  Copy altered = copy;
  altered.cursor[altered.cursor.size() / 2] =
      altered.cursor[altered.cursor.size() / 2] == 'A' ? 'B' : 'A';
  r = Page(&altered, caseworker, 10);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  CaseSync other_key(logic_.get(), std::string(32, 'k'));
  Copy forged = copy;
  forged.cursor =
      other_key.EncodeCursor({0, absl::CivilDay(2026, 3, 2), sync_->ScopeFingerprint(caseworker)});
  r = Page(&forged, caseworker, 10);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  Copy garbage = copy;
  garbage.cursor = "not a cursor";
  EXPECT_EQ(Page(&garbage, caseworker, 10).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Page(&copy, caseworker, -1).status().code(), absl::StatusCode::kInvalidArgument);

  // Thirty days on it still resumes; thirty-one days on it is too old.
  Copy kept = copy;
  clock_.Advance(absl::Hours(24 * 30));
  ASSERT_TRUE(Page(&kept, caseworker, 10).ok());
  clock_.Advance(absl::Hours(24));
  r = Page(&copy, caseworker, 10);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), kResyncRequired);
}

TEST_F(CaseSyncTest, PruningKeepsEachCaseNewestEntryAndRefusesCursorsItOutlived) {
  const Caller caseworker = MakeCaller(Role::kCaseworker, "520102", "cw-1");
  std::vector<std::string> ids = RegisterMany("520102", 4);
  Copy old_copy;
  ASSERT_NO_FATAL_FAILURE(Drain(&old_copy, caseworker, 10));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_->Write([&](Transaction& tx) { return Grade(tx, ids[0], i); }).ok());
  }
  clock_.Advance(absl::Hours(24 * 40));
  absl::StatusOr<int64_t> pruned;
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> absl::Status {
                    pruned = sync_->Prune(tx, clock_.Now());
                    return pruned.status();
                  })
                  .ok());
  EXPECT_EQ(*pruned, 3) << "the three entries superseded by a later one";
  Copy fresh;
  ASSERT_NO_FATAL_FAILURE(Drain(&fresh, caseworker, 2));
  EXPECT_EQ(fresh.cases, ServerView(caseworker));
  EXPECT_EQ(fresh.cases.size(), 4u);
  EXPECT_EQ(Page(&old_copy, caseworker, 10).status().message(), kResyncRequired);
}

// A registry that predates the log: migration 6 gives every existing case an entry,
// so a copy synced from empty holds them all and later changes follow on.
TEST_F(CaseSyncTest, TheMigrationLogsEveryExistingCase) {
  const Caller caseworker = MakeCaller(Role::kCaseworker, "520102", "cw-1");
  std::vector<std::string> ids = RegisterMany("520102", 5);
  RegisterMany("530102", 2);
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> absl::Status {
                    // Back to the schema before migration 6.
                    for (const char* sql :
                         {"DROP TABLE case_changes", "DROP TABLE case_change_counter",
                          "DROP INDEX cases_abstinence",
                          "DELETE FROM schema_migrations WHERE component = 'registry'"
                          " AND version = 6"}) {
                      absl::Status st = tx.Exec(sql);
                      if (!st.ok()) return st;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  store_.reset();
  ASSERT_NO_FATAL_FAILURE(SetUp());
  Copy copy;
  ASSERT_NO_FATAL_FAILURE(Drain(&copy, caseworker, 2));
  EXPECT_EQ(copy.cases, ServerView(caseworker));
  EXPECT_EQ(copy.cases.size(), 5u);
  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return Grade(tx, ids[2], 0); }).ok());
  ASSERT_NO_FATAL_FAILURE(Drain(&copy, caseworker, 2));
  EXPECT_EQ(copy.cases, ServerView(caseworker));
  EXPECT_EQ(copy.cases[ids[2]], 2);
}

}  // namespace
}  // namespace registry
}  // namespace pathway
