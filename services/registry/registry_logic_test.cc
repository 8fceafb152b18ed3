#include "services/registry/registry_logic.h"

#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/legal_time/legal_time.h"
#include "common/program_status/program_status.h"
#include "common/status/status_macros.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/placement/labor_exchange_index.h"
#include "services/registry/worklist_tables.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/service_database.h"

namespace pathway {
namespace registry {
namespace {

constexpr char kKey[] = "registry-logic-test-pii-key-0123456789abcdef";

// Noon in China on the given day.
absl::Time At(int y, int m, int d) { return test::ChinaNoon(y, m, d); }

common::v1::Date Date(int y, int m, int d) { return test::D(y, m, d); }

using test::MakeCaller;

class RegistryLogicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenRegistryStore());
    cipher_ = *PiiCipher::Create(kKey);
    logic_ = std::make_unique<RegistryLogic>(cipher_.get(), RegistryConfig{});
  }

  // Opens (again) the one database of the test, on the engine the run asks for.
  void OpenRegistryStore() {
    store_.reset();
    OpenStoreOptions o;
    o.default_sqlite_path = dir_.path() + "/registry.db";
    auto store = OpenStore(database_, RegistryLogic::Migrations(), nullptr, o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  v1::RegisterPersonRequest Person(const std::string& county, int seq, int birth_year = 1990) {
    v1::RegisterPersonRequest r;
    r.set_resident_id_number(
        GenerateSyntheticResidentId(county, absl::CivilDay(birth_year, 3, 7), seq));
    r.set_name(absl::StrCat("测试人员", seq));
    r.set_household_division(county);
    r.set_phone("13800000000");
    r.set_residence_address("测试路1号");
    r.add_drug_types("methamphetamine");
    r.set_route_of_use(v1::ROUTE_OF_USE_SMOKING);
    *r.mutable_found_on() = Date(2026, 1, 10);
    return r;
  }

  absl::StatusOr<CaseRecord> Register(const Caller& caller, const v1::RegisterPersonRequest& r,
                                      absl::Time now = At(2026, 2, 1)) {
    absl::StatusOr<CaseRecord> out;
    absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
      out = logic_->Register(tx, caller, r, now);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  template <typename Fn>
  absl::StatusOr<CaseRecord> Change(Fn fn) {
    absl::StatusOr<CaseRecord> out;
    absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
      out = fn(tx);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  absl::StatusOr<CaseRecord> Visible(const Caller& caller, const std::string& id, absl::Time now) {
    absl::StatusOr<CaseRecord> out;
    absl::Status scope_visible;
    absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
      out = logic_->LoadVisible(tx, caller, id, legal_time::ToCivilDay(now));
      // The status reads' path (LoadScope, no decryption) must agree every time.
      absl::StatusOr<CaseRecord> scope =
          logic_->LoadScopeVisible(tx, caller, id, legal_time::ToCivilDay(now));
      scope_visible = scope.status();
      if (scope.ok()) {
        EXPECT_TRUE(scope->name.empty()) << "not decrypted";
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    EXPECT_EQ(scope_visible, out.status()) << "LoadScope and LoadVisible disagree";
    return out;
  }

  absl::StatusOr<CaseRecord> Report(const std::string& id, v1::ReportEventRequest::Kind kind,
                                    common::v1::Date day, const std::string& source,
                                    absl::Time now, common::v1::Program program =
                                                        common::v1::PROGRAM_COMMUNITY_DETOX) {
    v1::ReportEventRequest r;
    r.set_case_id(id);
    r.set_kind(kind);
    r.set_program(program);
    *r.mutable_occurred_on() = day;
    r.set_source_event_id(source);
    return Change([&](Transaction& tx) { return logic_->ReportEvent(tx, service_, r, now); });
  }

  ScopedTempDir dir_;
  const std::string database_ = TestDatabaseUriOrDie("registry");
  std::unique_ptr<Store> store_;
  std::unique_ptr<PiiCipher> cipher_;
  std::unique_ptr<RegistryLogic> logic_;
  const Caller caseworker_ = MakeCaller(Role::kCaseworker, "520102");
  const Caller police_ = MakeCaller(Role::kPolice, "520102");
  const Caller service_ = MakeCaller(Role::kService, "*");
};

TEST_F(RegistryLogicTest, MintsDurableSequentialCaseIdsWithValidCheckCharacters) {
  auto a = Register(caseworker_, Person("520102", 11));
  auto b = Register(caseworker_, Person("520102", 13));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  auto ida = CaseId::Parse(a->case_id);
  auto idb = CaseId::Parse(b->case_id);
  ASSERT_TRUE(ida.ok() && idb.ok());
  EXPECT_EQ(ida->division().code(), "520102");
  EXPECT_EQ(ida->year(), 2026);
  EXPECT_EQ(ida->sequence(), 1);
  EXPECT_EQ(idb->sequence(), 2);
  // Another county has its own counter; a new year starts again at 1.
  auto other = Register(MakeCaller(Role::kCaseworker, "530102"), Person("530102", 15));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(CaseId::Parse(other->case_id)->sequence(), 1);
  auto next_year = Register(caseworker_, Person("520102", 17), At(2027, 1, 3));
  ASSERT_TRUE(next_year.ok());
  EXPECT_EQ(next_year->case_id.substr(0, 19), "520102-2027-0000001");

  // The sequence survives a restart (it lives in the database, never Redis).
  ASSERT_NO_FATAL_FAILURE(OpenRegistryStore());
  auto c = Register(caseworker_, Person("520102", 19));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(CaseId::Parse(c->case_id)->sequence(), 3);
}

TEST_F(RegistryLogicTest, SamePersonNeverGetsASecondCase) {
  v1::RegisterPersonRequest p = Person("520102", 21);
  auto first = Register(caseworker_, p);
  ASSERT_TRUE(first.ok());
  // Lower-case x or another county: still the same person.
  auto again = Register(caseworker_, p);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find(first->case_id), std::string::npos)
      << "a caller covering the case learns its id";
  v1::RegisterPersonRequest elsewhere = p;
  elsewhere.set_household_division("530102");
  auto outside = Register(MakeCaller(Role::kPolice, "530102"), elsewhere);
  EXPECT_EQ(outside.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(outside.status().message().find(first->case_id), std::string::npos)
      << "a caller outside the case's jurisdiction does not";
  EXPECT_EQ(outside.status().message().find(p.resident_id_number()), std::string::npos);
}

TEST_F(RegistryLogicTest, LowerCaseXIsTheSamePerson) {
  // Find a synthetic number whose check character is X.
  std::string id;
  for (int seq = 1; seq < 200 && id.empty(); ++seq) {
    std::string candidate = GenerateSyntheticResidentId("520102", absl::CivilDay(1988, 5, 4), seq);
    if (candidate.back() == 'X') id = candidate;
  }
  ASSERT_FALSE(id.empty());
  v1::RegisterPersonRequest p = Person("520102", 1);
  p.set_resident_id_number(id);
  ASSERT_TRUE(Register(caseworker_, p).ok());
  id.back() = 'x';
  p.set_resident_id_number(id);
  EXPECT_EQ(Register(caseworker_, p).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(RegistryLogicTest, RejectsBadInputWithoutEchoingPersonalData) {
  v1::RegisterPersonRequest p = Person("520102", 23);
  std::string bad = p.resident_id_number();
  bad.back() = bad.back() == '0' ? '1' : '0';
  p.set_resident_id_number(bad);
  auto s = Register(caseworker_, p).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().find(bad.substr(0, 17)), std::string::npos) << s;

  struct Case {
    const char* what;
    std::function<void(v1::RegisterPersonRequest*)> mutate;
    absl::StatusCode code;
  };
  std::vector<Case> cases = {
      {"no name", [](auto* r) { r->clear_name(); }, absl::StatusCode::kInvalidArgument},
      {"bad division", [](auto* r) { r->set_household_division("52010"); },
       absl::StatusCode::kInvalidArgument},
      {"no drug types", [](auto* r) { r->clear_drug_types(); }, absl::StatusCode::kInvalidArgument},
      {"found in future", [](auto* r) { *r->mutable_found_on() = Date(2026, 3, 1); },
       absl::StatusCode::kInvalidArgument},
      {"31 April", [](auto* r) { *r->mutable_found_on() = Date(2025, 4, 31); },
       absl::StatusCode::kInvalidArgument},
      {"unknown grade", [](auto* r) { r->set_risk_grade("extreme"); },
       absl::StatusCode::kInvalidArgument},
      {"outside jurisdiction", [](auto* r) { r->set_household_division("530102"); },
       absl::StatusCode::kPermissionDenied},
      {"registering elsewhere", [](auto* r) { r->set_registering_division("530102"); },
       absl::StatusCode::kPermissionDenied},
  };
  for (const Case& c : cases) {
    v1::RegisterPersonRequest r = Person("520102", 25);
    c.mutate(&r);
    EXPECT_EQ(Register(caseworker_, r).status().code(), c.code) << c.what;
  }
}

TEST_F(RegistryLogicTest, PersonalFieldsAreNeverStoredInTheClear) {
  v1::RegisterPersonRequest p = Person("520102", 27);
  auto c = Register(caseworker_, p);
  ASSERT_TRUE(c.ok()) << c.status();
  // Every value of every table, on either engine.
  absl::StatusOr<DatabaseLocation> location = ParseDatabase(database_, "unused.db");
  ASSERT_TRUE(location.ok()) << location.status();
  absl::StatusOr<std::string> values = test::AllStoredValues(*store_, location->engine);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_NE(values->find(c->case_id), std::string::npos) << "the scan reads the tables";
  std::string bytes = *values;
  if (location->engine == DatabaseLocation::Engine::kSqlite) {
    // And on SQLite every byte of the file and its WAL, deleted rows included.
    store_.reset();  // checkpoint the WAL into the file on close
    for (const char* suffix : {"/registry.db", "/registry.db-wal"}) {
      std::ifstream in(dir_.path() + suffix, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      bytes += ss.str();
    }
  }
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(p.resident_id_number()), std::string::npos);
  EXPECT_EQ(bytes.find(p.name()), std::string::npos);
  EXPECT_EQ(bytes.find(p.phone()), std::string::npos);
  EXPECT_EQ(bytes.find(p.residence_address()), std::string::npos);
}

TEST_F(RegistryLogicTest, BothHouseholdAndResidencePlacesSeeTheCaseNobodyElse) {
  v1::RegisterPersonRequest p = Person("520102", 29);
  p.set_residence_division("520103");
  auto c = Register(caseworker_, p);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(Visible(MakeCaller(Role::kCaseworker, "520103"), c->case_id, At(2026, 2, 2)).ok());
  EXPECT_TRUE(Visible(MakeCaller(Role::kPolice, "5201"), c->case_id, At(2026, 2, 2)).ok());
  auto outside = Visible(MakeCaller(Role::kCaseworker, "530102"), c->case_id, At(2026, 2, 2));
  auto missing =
      Visible(caseworker_, CaseId::Mint("520102", 2026, 999)->ToString(), At(2026, 2, 2));
  EXPECT_EQ(outside.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(outside.status(), missing.status()) << "identical answers";
}

TEST_F(RegistryLogicTest, GradeChangesNeedAReasonAndKeepHistory) {
  auto c = Register(caseworker_, Person("520102", 31));
  ASSERT_TRUE(c.ok());
  v1::SetRiskGradeRequest g;
  g.set_case_id(c->case_id);
  g.set_risk_grade("high");
  auto no_reason = Change([&](Transaction& tx) {
    return logic_->SetRiskGrade(tx, police_, g, At(2026, 2, 3));
  });
  EXPECT_EQ(no_reason.status().code(), absl::StatusCode::kInvalidArgument);
  g.set_reason("positive test after reporting");
  *g.mutable_effective_on() = Date(2026, 2, 2);
  auto graded = Change([&](Transaction& tx) {
    return logic_->SetRiskGrade(tx, police_, g, At(2026, 2, 3));
  });
  ASSERT_TRUE(graded.ok()) << graded.status();
  EXPECT_EQ(graded->risk_grade, "high");
  g.set_risk_grade("severe");
  EXPECT_EQ(Change([&](Transaction& tx) {
              return logic_->SetRiskGrade(tx, police_, g, At(2026, 2, 3));
            }).status().code(),
            absl::StatusCode::kInvalidArgument);

  std::vector<v1::RiskGradeChange> history;
  ASSERT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(history, logic_->GradeHistory(tx, c->case_id));
    return absl::OkStatus();
  }).ok());
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].risk_grade(), "medium");
  EXPECT_EQ(history[1].risk_grade(), "high");
  EXPECT_EQ(history[1].previous_grade(), "medium");
  EXPECT_EQ(history[1].actor(), "u1");
  EXPECT_EQ(history[1].effective_on().day(), 2);
}

TEST_F(RegistryLogicTest, MeasuresAndFindingsMoveTheClockAndSealing) {
  auto c = Register(caseworker_, Person("520102", 33));
  ASSERT_TRUE(c.ok());
  using K = v1::ReportEventRequest;
  ASSERT_TRUE(Report(c->case_id, K::KIND_MEASURE_STARTED, Date(2026, 1, 20), "sd-1-open",
                     At(2026, 2, 5)).ok());
  auto open = Report(c->case_id, K::KIND_POSITIVE_TEST, Date(2026, 2, 4), "sd-1-test-3",
                     At(2026, 2, 5));
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->open_measures, 1);
  EXPECT_FALSE(AbstinenceMilestone(*open).has_value());
  // Re-sent reports change nothing.
  auto resent = Report(c->case_id, K::KIND_POSITIVE_TEST, Date(2026, 2, 4), "sd-1-test-3",
                       At(2026, 2, 6));
  EXPECT_EQ(resent->version, open->version);

  auto ended = Report(c->case_id, K::KIND_MEASURE_ENDED, Date(2029, 1, 19), "sd-1-close",
                      At(2029, 1, 25));
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->open_measures, 0);
  EXPECT_EQ(AbstinenceMilestone(*ended), absl::CivilDay(2032, 1, 19));

  // Sealed from the day after: a caseworker no longer sees it, police still do.
  EXPECT_TRUE(Visible(caseworker_, c->case_id, At(2032, 1, 19)).ok());
  EXPECT_EQ(Visible(caseworker_, c->case_id, At(2032, 1, 20)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Visible(police_, c->case_id, At(2032, 1, 20)).ok());

  // A new finding resets the clock and unseals.
  auto relapse = Report(c->case_id, K::KIND_DRUG_USE, Date(2032, 6, 1), "police-1",
                        At(2032, 6, 2));
  ASSERT_TRUE(relapse.ok());
  EXPECT_EQ(AbstinenceMilestone(*relapse), absl::CivilDay(2035, 6, 1));
  EXPECT_TRUE(Visible(caseworker_, c->case_id, At(2032, 6, 2)).ok());
  // Dates in the future of the clock are refused.
  EXPECT_EQ(Report(c->case_id, K::KIND_DRUG_USE, Date(2032, 6, 9), "police-2", At(2032, 6, 2))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryLogicTest, CaseFactsCarryTheLaborExchangeIndexPlacementComputes) {
  // Without a key (older configuration) the index stays empty.
  auto c = Register(caseworker_, Person("520102", 41));
  ASSERT_TRUE(c.ok());
  v1::CaseFacts facts;
  logic_->ToFacts(*c, absl::CivilDay(2026, 2, 1), &facts);
  EXPECT_TRUE(facts.labor_exchange_index().empty());

  // With the key derived from the token key, exactly what placement computes for a
  // labor bureau registration of the same person (services/placement/labor_exchange_index.h).
  const std::string token_key = "registry-logic-test-token-key-0123456789abcdef";
  RegistryLogic keyed(cipher_.get(), RegistryConfig{}, DeriveLaborExchangeKey(token_key));
  keyed.ToFacts(*c, absl::CivilDay(2026, 2, 1), &facts);
  ASSERT_EQ(facts.labor_exchange_index().size(), kLaborExchangeIndexBytes);
  absl::StatusOr<ResidentId> id = ResidentId::Parse(Person("520102", 41).resident_id_number(),
                                                    absl::CivilDay(2026, 2, 1));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(facts.labor_exchange_index(),
            LaborExchangeIndex(DeriveLaborExchangeKey(token_key), id->normalized()));
  EXPECT_NE(facts.labor_exchange_index(),
            LaborExchangeIndex(DeriveLaborExchangeKey(token_key + "x"), id->normalized()));
  // Another person, another index.
  auto other = Register(caseworker_, Person("520102", 42));
  ASSERT_TRUE(other.ok());
  v1::CaseFacts other_facts;
  keyed.ToFacts(*other, absl::CivilDay(2026, 2, 1), &other_facts);
  EXPECT_NE(other_facts.labor_exchange_index(), facts.labor_exchange_index());

  // Three years after the finding without relapse the case is sealed (戒毒条例 Art 7)
  // and no longer shared: no index.
  auto loaded = Visible(police_, c->case_id, At(2029, 6, 1));
  ASSERT_TRUE(loaded.ok());
  keyed.ToFacts(*loaded, absl::CivilDay(2029, 6, 1), &facts);
  EXPECT_TRUE(facts.sealed());
  EXPECT_TRUE(facts.labor_exchange_index().empty());
}

TEST_F(RegistryLogicTest, DeceasedIsFinal) {
  auto c = Register(caseworker_, Person("520102", 35));
  v1::SetStatusRequest s;
  s.set_case_id(c->case_id);
  s.set_life_status(v1::LIFE_STATUS_DECEASED);
  *s.mutable_effective_on() = Date(2026, 1, 30);
  ASSERT_TRUE(Change([&](Transaction& tx) {
                return logic_->SetStatus(tx, police_, s, At(2026, 2, 1));
              }).ok());
  s.set_life_status(v1::LIFE_STATUS_NORMAL);
  EXPECT_EQ(Change([&](Transaction& tx) {
              return logic_->SetStatus(tx, police_, s, At(2026, 2, 1));
            }).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Effective dates before registration are refused.
  v1::SetStatusRequest early;
  early.set_case_id(c->case_id);
  early.set_control_status(v1::CONTROL_STATUS_LOST_CONTACT);
  *early.mutable_effective_on() = Date(2025, 12, 1);
  auto c2 = Register(caseworker_, Person("520102", 37));
  early.set_case_id(c2->case_id);
  EXPECT_EQ(Change([&](Transaction& tx) {
              return logic_->SetStatus(tx, police_, early, At(2026, 2, 1));
            }).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryLogicTest, ListsPageByPageInsideTheJurisdictionWithFilters) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(Register(caseworker_, Person("520102", 41 + 2 * i),
                         At(2026, 2, 1) + absl::Minutes(i)).ok());
  }
  ASSERT_TRUE(Register(MakeCaller(Role::kCaseworker, "530102"), Person("530102", 61)).ok());
  auto list = [&](v1::ListCasesRequest r, const Caller& caller) {
    absl::StatusOr<RegistryLogic::ListPage> page;
    EXPECT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
      page = logic_->List(tx, caller, r, absl::CivilDay(2026, 2, 2));
      return absl::OkStatus();
    }).ok());
    return page;
  };
  v1::ListCasesRequest r;
  r.mutable_page()->set_page_size(3);
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = list(r, caseworker_);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const CaseRecord& c : page->cases) seen.push_back(c.case_id);
    if (page->next_page_token.empty()) break;
    r.mutable_page()->set_page_token(page->next_page_token);
  }
  ASSERT_EQ(seen.size(), 7u) << "the other county's case never shows";
  EXPECT_EQ(CaseId::Parse(seen.front())->sequence(), 7) << "newest first";
  EXPECT_EQ(CaseId::Parse(seen.back())->sequence(), 1);

  // Programme-state filter, read from the programme index the services keep.
  auto report = [&](const std::string& id, const std::string& state, int64_t version) {
    ProgrammeReport report_row{id, common::v1::PROGRAM_COMMUNITY_DETOX, state, version, "520102", {}};
    return store_->Write([&](Transaction& tx) -> absl::Status {
      return ApplyProgrammeReport(tx, report_row, At(2026, 2, 2)).status();
    });
  };
  ASSERT_TRUE(report(seen[2], "ACTIVE", 1).ok());
  ASSERT_TRUE(report(seen[4], "SUSPENDED", 1).ok());
  v1::ListCasesRequest by_state;
  by_state.set_program(common::v1::PROGRAM_COMMUNITY_DETOX);
  by_state.set_program_state("ACTIVE");
  auto filtered = list(by_state, caseworker_);
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ(filtered->cases.size(), 1u);
  EXPECT_EQ(filtered->cases[0].case_id, seen[2]);
  EXPECT_EQ(filtered->total_bound, 1);
  by_state.clear_program_state();
  EXPECT_EQ(list(by_state, caseworker_)->cases.size(), 2u) << "any state of the programme";
  // A later version replaces the state; an older one changes nothing.
  ASSERT_TRUE(report(seen[2], "DISCHARGED", 3).ok());
  ASSERT_TRUE(report(seen[2], "ACTIVE", 2).ok());
  by_state.set_program_state("ACTIVE");
  EXPECT_TRUE(list(by_state, caseworker_)->cases.empty());
  v1::ListCasesRequest state_alone;
  state_alone.set_program_state("ACTIVE");
  EXPECT_EQ(list(state_alone, caseworker_).status().code(), absl::StatusCode::kInvalidArgument);

  v1::ListCasesRequest bad;
  bad.mutable_page()->set_page_token("not-a-token!");
  EXPECT_EQ(list(bad, caseworker_).status().code(), absl::StatusCode::kInvalidArgument);
  auto national = list(v1::ListCasesRequest(), MakeCaller(Role::kAuditor, "*"));
  EXPECT_EQ(national->cases.size(), 8u);
}

TEST_F(RegistryLogicTest, TownshipsSeeTheirOwnCasesAndTheCaseworkersTheirs) {
  const Caller township_a = MakeCaller(Role::kCaseworker, "520102003", "cw-a");
  const Caller township_b = MakeCaller(Role::kCaseworker, "520102004", "cw-b");
  const absl::Time now = At(2026, 2, 1);
  // A township caseworker registers into its own township, for its county.
  auto own = Register(township_a, Person("520102", 71));
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->township, "520102003");
  EXPECT_EQ(own->registering_division, "520102");
  v1::RegisterPersonRequest elsewhere = Person("520102", 73);
  elsewhere.set_township("520102004");
  EXPECT_EQ(Register(township_a, elsewhere).status().code(), absl::StatusCode::kPermissionDenied);
  // The county registers into any of its townships; one outside both places is refused.
  auto b_case = Register(caseworker_, elsewhere);
  ASSERT_TRUE(b_case.ok()) << b_case.status();
  v1::RegisterPersonRequest far = Person("520102", 75);
  far.set_township("530102001");
  EXPECT_EQ(Register(caseworker_, far).status().code(), absl::StatusCode::kInvalidArgument);
  auto unassigned = Register(caseworker_, Person("520102", 77));
  ASSERT_TRUE(unassigned.ok());

  // Each township sees its own case; the other's answers exactly like a missing one.
  EXPECT_TRUE(Visible(township_a, own->case_id, now).ok());
  EXPECT_EQ(Visible(township_a, b_case->case_id, now).status(), CaseNotFound());
  EXPECT_EQ(Visible(township_a, unassigned->case_id, now).status(), CaseNotFound());
  EXPECT_TRUE(Visible(township_b, b_case->case_id, now).ok());

  // The county assigns township B's case to a caseworker of township A by name.
  v1::AssignCaseRequest assign;
  assign.set_case_id(b_case->case_id);
  assign.set_township("520102004");
  assign.set_caseworker("cw-a");
  assign.set_reason("covering for leave");
  auto assigned =
      Change([&](Transaction& tx) { return logic_->Assign(tx, caseworker_, assign, now); });
  ASSERT_TRUE(assigned.ok()) << assigned.status();
  EXPECT_EQ(assigned->assigned_caseworker, "cw-a");
  EXPECT_TRUE(Visible(township_a, b_case->case_id, now).ok()) << "assigned to them";
  EXPECT_EQ(Visible(MakeCaller(Role::kCaseworker, "520102003", "cw-x"), b_case->case_id, now)
                .status(),
            CaseNotFound())
      << "the rest of township A does not see it";
  EXPECT_EQ(Visible(MakeCaller(Role::kCaseworker, "530102001", "cw-a"), b_case->case_id, now)
                .status(),
            CaseNotFound())
      << "the same user id in another county does not either";

  // A township reassigns within itself only; a reason is required.
  v1::AssignCaseRequest away = assign;
  away.set_township("520102003");
  EXPECT_EQ(Change([&](Transaction& tx) { return logic_->Assign(tx, township_b, away, now); })
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  v1::AssignCaseRequest no_reason = assign;
  no_reason.set_caseworker("cw-b");
  no_reason.clear_reason();
  EXPECT_EQ(
      Change([&](Transaction& tx) { return logic_->Assign(tx, township_b, no_reason, now); })
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  v1::AssignCaseRequest back = no_reason;
  back.set_reason("back from leave");
  ASSERT_TRUE(
      Change([&](Transaction& tx) { return logic_->Assign(tx, township_b, back, now); }).ok());
  EXPECT_EQ(Visible(township_a, b_case->case_id, now).status(), CaseNotFound());

  // Lists: a township's are its own cases and those assigned to its caseworkers by name.
  auto list_ids = [&](const Caller& caller, v1::ListCasesRequest r) {
    std::vector<std::string> ids;
    EXPECT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(RegistryLogic::ListPage page,
                       logic_->List(tx, caller, r, absl::CivilDay(2026, 2, 2)));
      for (const CaseRecord& c : page.cases) ids.push_back(c.case_id);
      return absl::OkStatus();
    }).ok());
    return ids;
  };
  EXPECT_EQ(list_ids(township_a, {}), std::vector<std::string>{own->case_id});
  EXPECT_EQ(list_ids(township_b, {}), std::vector<std::string>{b_case->case_id});
  v1::ListCasesRequest mine;
  mine.set_assigned_to_me(true);
  EXPECT_EQ(list_ids(MakeCaller(Role::kCaseworker, "520102004", "cw-b"), mine),
            std::vector<std::string>{b_case->case_id});
  EXPECT_TRUE(list_ids(township_a, mine).empty());
  v1::ListCasesRequest by_township;
  by_township.set_township("520102003");
  EXPECT_EQ(list_ids(caseworker_, by_township), std::vector<std::string>{own->case_id});
  EXPECT_EQ(list_ids(caseworker_, {}).size(), 3u) << "the county sees every township";

  // The history says who assigned what, when and why.
  absl::StatusOr<std::vector<v1::CaseAssignment>> history;
  ASSERT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
    history = logic_->Assignments(tx, b_case->case_id);
    return absl::OkStatus();
  }).ok());
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].reason(), "registered");
  EXPECT_EQ((*history)[1].caseworker(), "cw-a");
  EXPECT_EQ((*history)[1].actor(), "u1");
  EXPECT_EQ((*history)[1].actor_role(), "caseworker");
  EXPECT_EQ((*history)[2].previous_caseworker(), "cw-a");
  EXPECT_EQ((*history)[2].caseworker(), "cw-b");
  EXPECT_EQ((*history)[2].actor(), "cw-b");

  // Moving both places out of the county ends the assignment, on the record.
  v1::ChangeJurisdictionRequest move;
  move.set_case_id(b_case->case_id);
  move.set_new_household_division("530102");
  move.set_new_residence_division("530102");
  *move.mutable_effective_on() = Date(2026, 1, 31);
  move.set_reason("moved");
  auto moved = Change(
      [&](Transaction& tx) { return logic_->ChangeJurisdiction(tx, police_, move, now); });
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_TRUE(moved->township.empty());
  EXPECT_TRUE(moved->assigned_caseworker.empty());
  EXPECT_EQ(Visible(township_b, b_case->case_id, now).status(), CaseNotFound());
}

TEST_F(RegistryLogicTest, MasksFieldsPerRole) {
  v1::RegisterPersonRequest p = Person("520102", 71);
  auto c = Register(caseworker_, p);
  ASSERT_TRUE(c.ok());
  absl::CivilDay today(2026, 2, 2);
  v1::Case as_police, as_caseworker, as_auditor;
  logic_->ToProto(*c, police_, today, &as_police);
  logic_->ToProto(*c, caseworker_, today, &as_caseworker);
  logic_->ToProto(*c, MakeCaller(Role::kAuditor, "52"), today, &as_auditor);
  EXPECT_EQ(as_police.person().resident_id_number(), p.resident_id_number());
  EXPECT_NE(as_caseworker.person().resident_id_number(), p.resident_id_number());
  EXPECT_EQ(as_caseworker.person().resident_id_number().substr(0, 6), "520102");
  EXPECT_NE(as_caseworker.person().resident_id_number().find('*'), std::string::npos);
  EXPECT_EQ(as_caseworker.person().name(), p.name()) << "the caseworker works with the person";
  EXPECT_TRUE(as_auditor.person().name().empty()) << "an auditor does not need the name";
  EXPECT_TRUE(as_auditor.person().phone().empty());
  EXPECT_EQ(as_police.abstinence_milestone().year(), 2029);
}

}  // namespace
}  // namespace registry
}  // namespace pathway
