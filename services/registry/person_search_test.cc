// Finding a person (person_search.h) on a real store, SQLite or PostgreSQL as the run
// asks: each criterion, spelling variants, the township and beyond-township rules,
// the cap, out of scope answering as absent, duplicates flagged, the audit's criteria
// kinds, and the backfill of rows written before the indexes existed.
#include "services/registry/person_search.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/legal_time/legal_time.h"
#include "common/status/status_macros.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/registry/registry_tables.h"
#include "tests/testing/fixtures.h"

namespace pathway {
namespace registry {
namespace {

constexpr char kKey[] = "person-search-test-pii-key-0123456789abcdef";
constexpr char kCounty[] = "520102";
constexpr char kTownship[] = "520102003";
constexpr char kNeighbour[] = "520102004";  // another township of the same county
constexpr char kOtherCounty[] = "530102";

const absl::CivilDay kBirth(1990, 3, 7);
const absl::CivilDay kToday(2026, 3, 1);

using test::MakeCaller;

std::vector<std::string> CaseIds(const PersonSearchResult& r) {
  std::vector<std::string> ids;
  for (const PersonSearchResult::Hit& h : r.hits) ids.push_back(h.record.case_id);
  return ids;
}

class PersonSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cipher_ = *PiiCipher::Create(kKey);
    logic_ = std::make_unique<RegistryLogic>(cipher_.get(), RegistryConfig{});
    ASSERT_NO_FATAL_FAILURE(Open(RegistryLogic::Migrations(), database_));
  }

  // Opens (again) the one database of the test with `migrations`.
  void Open(const std::vector<Migration>& migrations, const std::string& database,
            const std::string& file = "registry.db") {
    store_.reset();
    OpenStoreOptions o;
    o.default_sqlite_path = dir_.path() + "/" + file;
    auto store = OpenStore(database, migrations, nullptr, o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // A synthetic person of `county`, assigned to `township`.
  v1::RegisterPersonRequest Person(const std::string& county, const std::string& township, int seq,
                                   const std::string& name, absl::CivilDay birth = kBirth) {
    v1::RegisterPersonRequest r;
    r.set_resident_id_number(GenerateSyntheticResidentId(county, birth, seq));
    r.set_name(name);
    r.set_phone(absl::StrCat("1380000", 1000 + seq));
    r.set_household_division(county);
    r.set_township(township);
    r.add_drug_types("methamphetamine");
    r.set_route_of_use(v1::ROUTE_OF_USE_SMOKING);
    *r.mutable_found_on() = test::D(2026, 1, 10);
    return r;
  }

  // Registered by the county's police; each a second after the one before.
  std::string Register(const v1::RegisterPersonRequest& r) {
    const Caller police = MakeCaller(Role::kPolice, r.household_division(), "police-1");
    std::string id;
    absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(
          CaseRecord c,
          logic_->Register(tx, police, r, test::ChinaNoon(2026, 2, 1) + absl::Seconds(++clock_)));
      id = c.case_id;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return id;
  }

  absl::StatusOr<PersonSearchResult> Search(const Caller& caller,
                                            const v1::SearchPersonsRequest& r) {
    absl::StatusOr<PersonSearchResult> out;
    absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
      out = SearchPersons(tx, *logic_, caller, r, kToday);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  // The case ids a search finds (failing the test on an error).
  std::vector<std::string> Found(const Caller& caller, const v1::SearchPersonsRequest& r) {
    absl::StatusOr<PersonSearchResult> found = Search(caller, r);
    EXPECT_TRUE(found.ok()) << found.status();
    if (!found.ok()) return {};
    EXPECT_EQ(found->total_size, static_cast<int>(found->hits.size()));
    return CaseIds(*found);
  }

  static v1::SearchPersonsRequest ByName(const std::string& name) {
    v1::SearchPersonsRequest r;
    r.set_name(name);
    return r;
  }
  static v1::SearchPersonsRequest ByNameAndBirth(const std::string& name,
                                                 absl::CivilDay birth = kBirth) {
    v1::SearchPersonsRequest r = ByName(name);
    *r.mutable_birth_date() = test::D(static_cast<int>(birth.year()), birth.month(), birth.day());
    return r;
  }

  ScopedTempDir dir_;
  const std::string database_ = TestDatabaseUriOrDie("registry_search");
  std::unique_ptr<Store> store_;
  std::unique_ptr<PiiCipher> cipher_;
  std::unique_ptr<RegistryLogic> logic_;
  int clock_ = 0;
  const Caller township_ = MakeCaller(Role::kCaseworker, kTownship, "cw-township");
  const Caller county_ = MakeCaller(Role::kCaseworker, kCounty, "cw-county");
};

TEST_F(PersonSearchTest, FindsByEachCriterion) {
  v1::RegisterPersonRequest a = Person(kCounty, kTownship, 11, "测试·甲");
  a.set_risk_grade("high");
  const std::string a_id = Register(a);
  const std::string b_id =
      Register(Person(kCounty, kTownship, 13, "测试乙", absl::CivilDay(1991, 5, 2)));
  const std::string c_id = Register(Person(kCounty, kNeighbour, 15, "测试·甲"));
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> absl::Status {
                    v1::SetStatusRequest s;
                    s.set_case_id(b_id);
                    s.set_control_status(v1::CONTROL_STATUS_LOST_CONTACT);
                    *s.mutable_effective_on() = test::D(2026, 2, 2);
                    s.set_reason("not met at the agreed visit");
                    return logic_
                        ->SetStatus(tx, MakeCaller(Role::kPolice, kCounty, "p"), s,
                                    test::ChinaNoon(2026, 2, 3))
                        .status();
                  })
                  .ok());

  const std::vector<std::string> only_a = {a_id};
  EXPECT_EQ(Found(township_, ByName("测试·甲")), only_a) << "not the neighbour's namesake";
  v1::SearchPersonsRequest r;
  r.set_phone(a.phone());
  EXPECT_EQ(Found(township_, r), only_a);
  r = {};
  r.set_resident_id_number(a.resident_id_number());
  EXPECT_EQ(Found(township_, r), only_a);
  r = {};
  r.set_case_id(a_id);
  EXPECT_EQ(Found(township_, r), only_a);
  r = {};
  r.set_risk_grade("high");
  EXPECT_EQ(Found(township_, r), only_a);
  r = {};
  r.set_control_status(v1::CONTROL_STATUS_LOST_CONTACT);
  EXPECT_EQ(Found(township_, r), std::vector<std::string>{b_id});
  r = {};
  *r.mutable_birth_date() = test::D(1990, 3, 7);
  EXPECT_EQ(Found(township_, r), only_a);
  // Criteria combine: all must match.
  r = ByName("测试·甲");
  r.set_risk_grade("medium");
  EXPECT_TRUE(Found(township_, r).empty());
  // Newest first.
  r = {};
  r.set_control_status(v1::CONTROL_STATUS_IN_CONTROL);
  EXPECT_EQ(Found(township_, r), only_a);
  EXPECT_EQ(Found(county_, ByNameAndBirth("测试·甲")), (std::vector<std::string>{c_id, a_id}));

  // The answer holds the decrypted case for ToProto.
  absl::StatusOr<PersonSearchResult> found = Search(township_, ByName("测试·甲"));
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->hits.size(), 1u);
  EXPECT_EQ(found->hits[0].record.name, "测试·甲");
  EXPECT_EQ(found->hits[0].record.resident_id, a.resident_id_number());
}

TEST_F(PersonSearchTest, SpellingVariantsFindTheSamePerson) {
  v1::RegisterPersonRequest p = Person(kCounty, kTownship, 21, "测试·合成Ａ");
  p.set_phone("138 0000 2121");
  const std::string id = Register(p);
  const std::vector<std::string> only = {id};
  for (const char* name : {"测试·合成Ａ", "测试・合成A", "测试 • 合成 Ａ", "测试\xE3\x80\x80‧合成A",
                           " 测试\xC2\xB7合成A "}) {
    EXPECT_EQ(Found(township_, ByName(name)), only) << name;
  }
  for (const char* phone : {"13800002121", "+86 138 0000 2121", "0086-138-0000-2121",
                            "8613800002121", "１３８００００２１２１"}) {
    v1::SearchPersonsRequest r;
    r.set_phone(phone);
    EXPECT_EQ(Found(township_, r), only) << phone;
  }
  EXPECT_TRUE(Found(township_, ByName("测试合成A")).empty()) << "the dot is part of the name";
}

TEST_F(PersonSearchTest, BeyondTheOwnTownshipOnlyWhatSinglesAPersonOut) {
  v1::RegisterPersonRequest own = Person(kCounty, kTownship, 31, "测试丙");
  v1::RegisterPersonRequest neighbour = Person(kCounty, kNeighbour, 33, "测试丁");
  const std::string own_id = Register(own);
  const std::string neighbour_id = Register(neighbour);

  // Nothing at all.
  absl::StatusOr<PersonSearchResult> none = Search(township_, v1::SearchPersonsRequest());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);

  // Its own cases: any criterion; the neighbour's case is not among them.
  EXPECT_EQ(Found(township_, ByName("测试丙")), std::vector<std::string>{own_id});
  EXPECT_TRUE(Found(township_, ByName("测试丁")).empty());
  v1::SearchPersonsRequest grade;
  grade.set_risk_grade("medium");
  EXPECT_EQ(Found(township_, grade), std::vector<std::string>{own_id});

  // Its county: only with the full ID number or name and birth date.
  v1::SearchPersonsRequest wide = ByName("测试丁");
  wide.set_beyond_own_township(true);
  absl::StatusOr<PersonSearchResult> refused = Search(township_, wide);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("resident_id_number"), std::string::npos);
  wide = ByNameAndBirth("测试丁");
  wide.set_beyond_own_township(true);
  EXPECT_EQ(Found(township_, wide), std::vector<std::string>{neighbour_id});
  wide = {};
  wide.set_resident_id_number(neighbour.resident_id_number());
  wide.set_beyond_own_township(true);
  EXPECT_EQ(Found(township_, wide), std::vector<std::string>{neighbour_id});
  grade.set_beyond_own_township(true);
  EXPECT_EQ(Search(township_, grade).status().code(), absl::StatusCode::kInvalidArgument);

  // A county (or wider) caller always searches beyond one township.
  for (const Caller& wider : {county_, MakeCaller(Role::kPolice, "52", "police-province")}) {
    for (v1::SearchPersonsRequest r : {ByName("测试丁"), grade}) {
      r.set_beyond_own_township(false);
      absl::StatusOr<PersonSearchResult> s = Search(wider, r);
      EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << wider.jurisdiction();
    }
    v1::SearchPersonsRequest phone;
    phone.set_phone(own.phone());
    EXPECT_EQ(Search(wider, phone).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Found(wider, ByNameAndBirth("测试丁")), std::vector<std::string>{neighbour_id});
    v1::SearchPersonsRequest by_id;
    by_id.set_resident_id_number(own.resident_id_number());
    EXPECT_EQ(Found(wider, by_id), std::vector<std::string>{own_id});
  }

  // Malformed criteria name the field only.
  v1::SearchPersonsRequest bad;
  bad.set_resident_id_number("520102199003070000");
  absl::StatusOr<PersonSearchResult> s = Search(township_, bad);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message().find("520102199003070000"), std::string::npos);
  bad = {};
  bad.set_phone("no digits");
  EXPECT_EQ(Search(township_, bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.set_risk_grade("extreme");
  EXPECT_EQ(Search(township_, bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = ByName("测试丙");
  bad.mutable_page()->set_page_token("not a token");
  EXPECT_EQ(Search(township_, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PersonSearchTest, BeyondTheTownshipIsCappedAndTheOwnTownshipIsPagedWithItsTotal) {
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    ids.insert(ids.begin(), Register(Person(kCounty, kTownship, 101 + 2 * i, "测试同名")));
  }
  absl::StatusOr<PersonSearchResult> capped = Search(county_, ByNameAndBirth("测试同名"));
  ASSERT_TRUE(capped.ok()) << capped.status();
  EXPECT_EQ(static_cast<int>(capped->hits.size()), kMaxHitsBeyondOwnTownship);
  EXPECT_EQ(capped->total_size, kMaxHitsBeyondOwnTownship);
  EXPECT_TRUE(capped->total_size_capped);
  EXPECT_TRUE(capped->next_page_token.empty()) << "paging ends at the cap";
  EXPECT_EQ(CaseIds(*capped), std::vector<std::string>(ids.begin(), ids.begin() + 10));

  // The township's own search: pages of 5 over all 12, each with the total.
  v1::SearchPersonsRequest r = ByName("测试同名");
  r.mutable_page()->set_page_size(5);
  std::vector<std::string> seen;
  for (int page = 0; page < 3; ++page) {
    absl::StatusOr<PersonSearchResult> p = Search(township_, r);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->total_size, 12);
    EXPECT_FALSE(p->total_size_capped);
    EXPECT_EQ(p->hits.size(), page < 2 ? 5u : 2u);
    for (const std::string& id : CaseIds(*p)) seen.push_back(id);
    EXPECT_EQ(p->next_page_token.empty(), page == 2);
    r.mutable_page()->set_page_token(p->next_page_token);
  }
  EXPECT_EQ(seen, ids);
}

TEST_F(PersonSearchTest, OutOfScopeAnswersExactlyAsNobody) {
  v1::RegisterPersonRequest elsewhere = Person(kOtherCounty, "", 41, "测试戊");
  Register(elsewhere);
  const std::string nobody_id =
      GenerateSyntheticResidentId(kOtherCounty, kBirth, 43);  // never registered

  auto same_answer = [&](const Caller& caller, v1::SearchPersonsRequest matching,
                         v1::SearchPersonsRequest nothing) {
    absl::StatusOr<PersonSearchResult> a = Search(caller, matching);
    absl::StatusOr<PersonSearchResult> b = Search(caller, nothing);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_TRUE(a->hits.empty());
    EXPECT_EQ(a->hits.size(), b->hits.size());
    EXPECT_EQ(a->total_size, b->total_size);
    EXPECT_EQ(a->total_size_capped, b->total_size_capped);
    EXPECT_EQ(a->next_page_token, b->next_page_token);
  };
  v1::SearchPersonsRequest by_id, by_nobody;
  by_id.set_resident_id_number(elsewhere.resident_id_number());
  by_nobody.set_resident_id_number(nobody_id);
  same_answer(county_, by_id, by_nobody);
  same_answer(county_, ByNameAndBirth("测试戊"), ByNameAndBirth("测试无人"));
  by_id.set_beyond_own_township(true);
  by_nobody.set_beyond_own_township(true);
  same_answer(township_, by_id, by_nobody);
  // The other county sees its own person.
  EXPECT_EQ(Found(MakeCaller(Role::kCaseworker, kOtherCounty, "cw-other"), ByNameAndBirth("测试戊"))
                .size(),
            1u);
}

TEST_F(PersonSearchTest, PossibleDuplicatesAreFlaggedNeverMerged) {
  // One name in two spellings, one birth date, two ID numbers: maybe one person twice.
  const std::string first = Register(Person(kCounty, kTownship, 51, "测试·己"));
  const std::string second = Register(Person(kOtherCounty, "", 53, "测试・己"));
  // Same name, another birth date: someone else.
  const std::string other =
      Register(Person(kCounty, kTownship, 55, "测试·己", absl::CivilDay(1992, 8, 1)));

  absl::StatusOr<PersonSearchResult> found = Search(township_, ByName("测试·己"));
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(CaseIds(*found), (std::vector<std::string>{other, first}));
  EXPECT_FALSE(found->hits[0].possible_duplicate);
  // Flagged although the other registration lies in a county the caller cannot see.
  EXPECT_TRUE(found->hits[1].possible_duplicate);
  EXPECT_EQ(found->total_size, 2) << "the other county's case is not counted";
  // Both stay as they were.
  absl::StatusOr<PersonSearchResult> there =
      Search(MakeCaller(Role::kPolice, kOtherCounty, "p2"), ByNameAndBirth("测试·己"));
  ASSERT_TRUE(there.ok());
  ASSERT_EQ(CaseIds(*there), std::vector<std::string>{second});
  EXPECT_TRUE(there->hits[0].possible_duplicate);
}

TEST_F(PersonSearchTest, AuditKindsCarryNoValues) {
  v1::SearchPersonsRequest r = ByNameAndBirth("测试庚");
  r.set_phone("13800009999");
  r.set_resident_id_number(GenerateSyntheticResidentId(kCounty, kBirth, 61));
  r.set_case_id(CaseId::Mint(kCounty, 2026, 7)->ToString());
  r.set_risk_grade("low");
  r.set_control_status(v1::CONTROL_STATUS_IN_CONTROL);
  const std::string kinds = SearchCriteriaKinds(r);
  EXPECT_EQ(kinds, "name,phone,resident_id_number,case_id,risk_grade,control_status,birth_date");
  EXPECT_EQ(SearchCriteriaKinds(ByNameAndBirth("测试庚")), "name,birth_date");
  for (const std::string& value : {std::string("测试庚"), r.phone(), r.resident_id_number(),
                                   r.case_id(), std::string("1990")}) {
    EXPECT_EQ(kinds.find(value), std::string::npos) << value;
  }
}

TEST_F(PersonSearchTest, RowsWrittenBeforeTheIndexesAreBackfilled) {
  // The schema without registry migration 4 (the search indexes), with cases an older
  // binary wrote, in a database of its own. (The later steps stay: today's InsertCase
  // also writes the change log of migration 6.)
  const std::string old_database = TestDatabaseUriOrDie("registry_before_search");
  ASSERT_NO_FATAL_FAILURE(Open(
      [] {
        std::vector<Migration> old;
        for (Migration& m : RegistryLogic::Migrations()) {
          if (m.component != "registry" || m.version != 4) old.push_back(std::move(m));
        }
        return old;
      }(),
      old_database, "old.db"));
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    const std::string case_id = CaseId::Mint(kCounty, 2026, i + 1)->ToString();
    const std::string resident = GenerateSyntheticResidentId(kCounty, kBirth, 71 + 2 * i);
    auto enc = [&](const std::string& v, const char* field) {
      return *cipher_->Encrypt(v, absl::StrCat(case_id, "/", field));
    };
    CaseRow row;
    row.case_id = case_id;
    row.id_cipher = enc(resident, "resident_id");
    row.name_cipher = enc(i < 5 ? "测试·旧" : absl::StrCat("测试旧", i), "name");
    row.phone_cipher = enc(i == 0 ? "" : absl::StrCat("+86 138 0000 70", 10 + i), "phone");
    row.address_cipher = enc("", "address");
    row.birth_date = kBirth;
    row.sex = 1;
    row.household_division = row.residence_division = row.registering_division = kCounty;
    row.drug_types = {"heroin"};
    row.route_of_use = 1;
    row.registered_on = row.abstinence_anchor = absl::CivilDay(2026, 1, 10);
    row.risk_grade = "medium";
    row.control_status = 1;
    row.life_status = 1;
    row.version = 1;
    row.created_us = row.updated_us = 1767225600000000 + i;
    row.township = kTownship;
    ASSERT_TRUE(store_
                    ->Write([&](Transaction& tx) {
                      return InsertCase(tx, row, cipher_->BlindIndex(resident));
                    })
                    .ok());
    ids.insert(ids.begin(), case_id);
  }
  // The new binary: migration 4 adds the columns empty; the backfill fills them in
  // batches smaller than the table.
  ASSERT_NO_FATAL_FAILURE(Open(RegistryLogic::Migrations(), old_database, "old.db"));
  EXPECT_TRUE(Found(township_, ByName("测试·旧")).empty()) << "not indexed yet";
  absl::StatusOr<int64_t> indexed = BackfillPersonSearchIndexes(*store_, *logic_, 2);
  ASSERT_TRUE(indexed.ok()) << indexed.status();
  EXPECT_EQ(*indexed, 7);
  EXPECT_EQ(Found(township_, ByName("测试・旧")),
            std::vector<std::string>(ids.begin() + 2, ids.end()));
  v1::SearchPersonsRequest phone;
  phone.set_phone("13800007013");
  EXPECT_EQ(Found(township_, phone), std::vector<std::string>{ids[3]});
  // Five share name and birth date under different ID numbers.
  absl::StatusOr<PersonSearchResult> found = Search(township_, ByName("测试·旧"));
  ASSERT_TRUE(found.ok());
  for (const PersonSearchResult::Hit& h : found->hits) EXPECT_TRUE(h.possible_duplicate);
  // Nothing is left, so a second run (another replica, the next start) does nothing.
  indexed = BackfillPersonSearchIndexes(*store_, *logic_, 2);
  ASSERT_TRUE(indexed.ok());
  EXPECT_EQ(*indexed, 0);
}

}  // namespace
}  // namespace registry
}  // namespace pathway
