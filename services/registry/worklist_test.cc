// The worklist and the programme index over a real store (SQLite, or PostgreSQL with
// PATHWAY_TEST_DATABASE=postgres): whose items a caller gets, in what order, with what
// totals, and that nobody else's ever show.
#include "services/registry/worklist.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/auth/service_identity.h"
#include "common/codec/programme.h"
#include "common/codec/proto_date.h"
#include "common/codec/proto_programme.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/legal_time/legal_time.h"
#include "common/status/status_macros.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/registry/testing_registry_store.h"
#include "services/registry/registry_logic.h"
#include "services/registry/registry_rules.h"
#include "services/registry/worklist_tables.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/service_database.h"

namespace pathway {
namespace registry {
namespace {

using common::v1::Program;

using test::MakeCaller;

common::v1::WorkItem Item(const std::string& kind, const std::string& key, absl::CivilDay due,
                          bool open = true, bool deadline = true) {
  common::v1::WorkItem w;
  w.set_kind(kind);
  w.set_key(key);
  ToProtoDate(due, w.mutable_due());
  w.set_open(open);
  w.set_deadline(deadline);
  w.set_legal_basis("戒毒条例 Art 20");
  return w;
}

class WorklistTest : public RegistryStoreTest {
 protected:
  // Registers a person of `county` into `township` (empty: none).
  std::string Register(const std::string& county, const std::string& township, int seq) {
    v1::RegisterPersonRequest r;
    r.set_resident_id_number(
        GenerateSyntheticResidentId(county, absl::CivilDay(1990, 3, 7), seq));
    r.set_name("测试人员");
    r.set_household_division(county);
    r.add_drug_types("methamphetamine");
    r.set_route_of_use(v1::ROUTE_OF_USE_SMOKING);
    *r.mutable_found_on() = test::D(2026, 1, 10);
    r.set_township(township);
    std::string id;
    EXPECT_TRUE(store_->Write([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(CaseRecord c, logic_->Register(tx, MakeCaller(Role::kPolice, county, "p"),
                                                      r, test::ChinaNoon(2026, 2, 1)));
      id = c.case_id;
      return absl::OkStatus();
    }).ok());
    return id;
  }

  absl::StatusOr<v1::ReportProgramStatusesResponse> Report(
      Program program, const std::string& case_id, int64_t version,
      std::vector<common::v1::WorkItem> items, const std::string& division = "520102",
      const std::string& state = "ACTIVE") {
    v1::ReportProgramStatusesRequest r;
    r.set_program(program);
    v1::ProgramStatusReport* e = r.add_entries();
    e->set_case_id(case_id);
    e->set_state(state);
    e->set_version(version);
    e->set_division(division);
    for (auto& i : items) *e->add_items() = i;
    const std::string service(ProgrammeService(*FromProtoProgram(program)));
    RETURN_IF_ERROR(
        CheckProgramStatusReport(MakeCaller(Role::kService, "*", ServiceSubject(service)), r));
    absl::StatusOr<v1::ReportProgramStatusesResponse> out;
    RETURN_IF_ERROR(store_->Write([&](Transaction& tx) -> absl::Status {
      out = ApplyProgramStatusReport(tx, r, test::ChinaNoon(2026, 3, 1));
      return out.status();
    }));
    return out;
  }

  // Every page of the caller's worklist, fetched `page_size` at a time.
  std::vector<v1::WorklistItem> All(const Caller& caller, v1::GetWorklistRequest r,
                                    int page_size, int64_t* total = nullptr) {
    std::vector<v1::WorklistItem> out;
    r.mutable_page()->set_page_size(page_size);
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<v1::GetWorklistResponse> page;
      EXPECT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
        page = ReadWorklist(tx, caller, r, today_);
        return absl::OkStatus();
      }).ok());
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      if (total != nullptr) *total = page->page().total_size();
      for (const auto& i : page->items()) out.push_back(i);
      if (page->page().next_page_token().empty()) break;
      r.mutable_page()->set_page_token(page->page().next_page_token());
    }
    return out;
  }

  static std::vector<std::string> Keys(const std::vector<v1::WorklistItem>& items) {
    std::vector<std::string> out;
    for (const auto& i : items) out.push_back(absl::StrCat(i.case_id(), "/", i.item().key()));
    return out;
  }

  const absl::CivilDay today_{2026, 3, 10};
};

TEST_F(WorklistTest, EachTownshipGetsExactlyItsItemsInDueOrderWithTotals) {
  const std::string a1 = Register("520102", "520102003", 11);
  const std::string a2 = Register("520102", "520102003", 13);
  const std::string b1 = Register("520102", "520102004", 15);
  const std::string other = Register("530102", "530102001", 17);
  const absl::CivilDay d = today_;
  ASSERT_TRUE(Report(Program::PROGRAM_COMMUNITY_DETOX, a1, 1,
                     {Item("TEST", "TEST:3", d - 2), Item("REPORT", "REPORT", d + 5)}).ok());
  ASSERT_TRUE(Report(Program::PROGRAM_COMMUNITY_REHAB, a2, 1, {Item("TEST", "TEST:1", d)}).ok());
  ASSERT_TRUE(Report(Program::PROGRAM_PLACEMENT, a2, 1,
                     {Item("RETENTION_CHECK", "RETENTION_CHECK", d + 1)}).ok());
  ASSERT_TRUE(Report(Program::PROGRAM_COMPULSORY_ISOLATION, a1, 1,
                     {Item("ASSESSMENT_INTAKE", "ASSESSMENT_INTAKE", d + 3)}).ok());
  ASSERT_TRUE(Report(Program::PROGRAM_COMMUNITY_DETOX, b1, 1,
                     {Item("TEST", "TEST:1", d - 1), Item("TERM_END", "TERM_END", d + 400, false)})
                  .ok());
  ASSERT_TRUE(Report(Program::PROGRAM_COMMUNITY_DETOX, other, 1, {Item("TEST", "TEST:1", d)},
                     "530102").ok());

  const Caller cw_a = MakeCaller(Role::kCaseworker, "520102003", "cw-a");
  const Caller cw_b = MakeCaller(Role::kCaseworker, "520102004", "cw-b");
  int64_t total = 0;
  std::vector<v1::WorklistItem> a_items = All(cw_a, {}, 2, &total);
  // Isolation is not a caseworker's; the other township's and county's never show.
  EXPECT_EQ(Keys(a_items), (std::vector<std::string>{a1 + "/TEST:3", a2 + "/TEST:1",
                                                      a2 + "/RETENTION_CHECK", a1 + "/REPORT"}));
  EXPECT_EQ(total, 4);
  ASSERT_EQ(a_items.size(), 4u);
  EXPECT_TRUE(a_items[0].overdue());
  EXPECT_EQ(DayOf(a_items[0].overdue_since()), d - 1);
  EXPECT_FALSE(a_items[1].overdue()) << "due all of its last day";
  EXPECT_EQ(a_items[2].program(), Program::PROGRAM_PLACEMENT);
  EXPECT_EQ(a_items[0].township(), "520102003");
  EXPECT_EQ(Keys(All(cw_a, {}, 100)), Keys(a_items)) << "paging changes nothing";

  std::vector<v1::WorklistItem> b_items = All(cw_b, {}, 10, &total);
  EXPECT_EQ(Keys(b_items), std::vector<std::string>{b1 + "/TEST:1"})
      << "the term's end is upcoming, and beyond the 30-day horizon";
  EXPECT_EQ(total, 1);
  v1::GetWorklistRequest upcoming;
  upcoming.set_include_upcoming(true);
  *upcoming.mutable_due_to() = test::D(2027, 12, 31);
  EXPECT_EQ(All(cw_b, upcoming, 10).size(), 2u);

  // Police of the township also get the isolation items; facility staff only those.
  EXPECT_EQ(All(MakeCaller(Role::kPolice, "520102003", "p-a"), {}, 10).size(), 4u)
      << "no placement items for police; isolation instead";
  std::vector<v1::WorklistItem> facility =
      All(MakeCaller(Role::kFacilityStaff, "520102", "f"), {}, 10);
  EXPECT_EQ(Keys(facility), std::vector<std::string>{a1 + "/ASSESSMENT_INTAKE"});
  // A county caseworker sees the county's, both townships.
  EXPECT_EQ(All(MakeCaller(Role::kCaseworker, "520102", "cw-county"), {}, 3).size(), 5u);

  // Filters: programme, kind, overdue only, date range.
  v1::GetWorklistRequest rehab_only;
  rehab_only.add_programs(Program::PROGRAM_COMMUNITY_REHAB);
  EXPECT_EQ(Keys(All(cw_a, rehab_only, 10)), std::vector<std::string>{a2 + "/TEST:1"});
  v1::GetWorklistRequest overdue;
  overdue.set_overdue_only(true);
  EXPECT_EQ(Keys(All(cw_a, overdue, 10)), std::vector<std::string>{a1 + "/TEST:3"});
  v1::GetWorklistRequest kinds;
  kinds.add_kinds("REPORT");
  EXPECT_EQ(Keys(All(cw_a, kinds, 10)), std::vector<std::string>{a1 + "/REPORT"});
  v1::GetWorklistRequest range;
  *range.mutable_due_from() = ToProtoDate(d);
  *range.mutable_due_to() = ToProtoDate(d + 1);
  EXPECT_EQ(All(cw_a, range, 10, &total).size(), 2u);
  EXPECT_EQ(total, 2);
  // Answered as of another day: what was due becomes overdue.
  v1::GetWorklistRequest later;
  *later.mutable_as_of() = ToProtoDate(d + 2);
  std::vector<v1::WorklistItem> later_items = All(cw_a, later, 10);
  ASSERT_EQ(later_items.size(), 4u);
  EXPECT_TRUE(later_items[1].overdue());
  EXPECT_EQ(DayOf(later_items[1].overdue_since()), d + 1);
}

TEST_F(WorklistTest, AssignedCaseworkersGetTheirCasesAndReportsFollowVersions) {
  const std::string a1 = Register("520102", "520102003", 21);
  ASSERT_TRUE(Report(Program::PROGRAM_COMMUNITY_DETOX, a1, 2, {Item("TEST", "TEST:1", today_)})
                  .ok());
  // A repeat or an older version changes nothing; a newer one replaces the items.
  auto stale = Report(Program::PROGRAM_COMMUNITY_DETOX, a1, 1, {});
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->stale(), 1);
  const Caller cw_a = MakeCaller(Role::kCaseworker, "520102003", "cw-a");
  EXPECT_EQ(All(cw_a, {}, 10).size(), 1u);
  auto newer = Report(Program::PROGRAM_COMMUNITY_DETOX, a1, 3, {}, "520102", "DISCHARGED");
  ASSERT_TRUE(newer.ok());
  EXPECT_EQ(newer->applied(), 1);
  EXPECT_TRUE(All(cw_a, {}, 10).empty());

  // A case the registry never issued is skipped, not stored.
  auto never = Report(Program::PROGRAM_COMMUNITY_DETOX,
                      CaseId::Mint("520102", 2026, 99999)->ToString(), 1,
                      {Item("TEST", "TEST:1", today_)});
  ASSERT_TRUE(never.ok()) << never.status();
  EXPECT_EQ(never->skipped(), 1);

  // Assigned by name to a caseworker of the other township: theirs, not the township's.
  const std::string b1 = Register("520102", "520102004", 23);
  ASSERT_TRUE(store_->Write([&](Transaction& tx) -> absl::Status {
    v1::AssignCaseRequest assign;
    assign.set_case_id(b1);
    assign.set_township("520102004");
    assign.set_caseworker("cw-a");
    assign.set_reason("covering");
    return logic_->Assign(tx, MakeCaller(Role::kCaseworker, "520102", "lead"), assign,
                          test::ChinaNoon(2026, 3, 1))
        .status();
  }).ok());
  ASSERT_TRUE(Report(Program::PROGRAM_COMMUNITY_DETOX, b1, 1, {Item("TEST", "TEST:9", today_)})
                  .ok());
  EXPECT_EQ(Keys(All(cw_a, {}, 10)), std::vector<std::string>{b1 + "/TEST:9"});
  EXPECT_EQ(Keys(All(MakeCaller(Role::kCaseworker, "520102004", "cw-b"), {}, 10)),
            std::vector<std::string>{b1 + "/TEST:9"});
}

TEST_F(WorklistTest, SealedRecordsAndOtherRolesGetNothing) {
  const std::string a1 = Register("520102", "520102003", 31);
  ASSERT_TRUE(Report(Program::PROGRAM_PLACEMENT, a1, 1,
                     {Item("RETENTION_CHECK", "RETENTION_CHECK", today_)}).ok());
  const Caller cw_a = MakeCaller(Role::kCaseworker, "520102003", "cw-a");
  EXPECT_EQ(All(cw_a, {}, 10).size(), 1u);
  // Three years and a day after the anchor with no open measure, the record is sealed
  // (戒毒条例 Art 7): the item leaves the worklist with the record.
  absl::CivilDay later = legal_time::DeadlineAfterMonths(absl::CivilDay(2026, 1, 10), 36) + 1;
  EXPECT_EQ(SealedAnchorLimit(later), absl::CivilDay(2026, 1, 10));
  v1::GetWorklistResponse page;
  ASSERT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(page, ReadWorklist(tx, cw_a, {}, later));
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(page.items_size(), 0);
  EXPECT_EQ(page.page().total_size(), 0);

  for (Role role : {Role::kLaborBureau, Role::kEmployer, Role::kAuditor, Role::kBatch}) {
    EXPECT_TRUE(All(MakeCaller(role, "520102", "x"), {}, 10).empty());
  }
}

TEST_F(WorklistTest, ReportsAreCheckedBeforeAnythingIsWritten) {
  const std::string a1 = Register("520102", "520102003", 41);
  v1::ReportProgramStatusesRequest r;
  r.set_program(Program::PROGRAM_COMPULSORY_ISOLATION);
  v1::ProgramStatusReport* e = r.add_entries();
  e->set_case_id(a1);
  e->set_state("ACTIVE");
  e->set_version(1);
  e->set_division("520102");
  // Only the service that owns the programme.
  EXPECT_EQ(CheckProgramStatusReport(
                MakeCaller(Role::kService, "*", ServiceSubject("community_detox")), r)
                .code(),
            absl::StatusCode::kPermissionDenied);
  const Caller isolation = MakeCaller(Role::kService, "*", ServiceSubject("compulsory_isolation"));
  EXPECT_TRUE(CheckProgramStatusReport(isolation, r).ok());
  v1::ReportProgramStatusesRequest bad = r;
  *bad.mutable_entries(0)->add_items() = Item("bad kind", "k", today_);
  EXPECT_EQ(CheckProgramStatusReport(isolation, bad).code(), absl::StatusCode::kInvalidArgument);
  bad = r;
  bad.mutable_entries(0)->set_division("52010");
  EXPECT_EQ(CheckProgramStatusReport(isolation, bad).code(), absl::StatusCode::kInvalidArgument);
  bad.clear_entries();
  EXPECT_EQ(CheckProgramStatusReport(isolation, bad).code(), absl::StatusCode::kInvalidArgument);
}

// The worklist must stay fast for a province: a township's list starts from its
// cases, a county's reads its items in due order from the index, and neither walks
// every item (SQLite's plan; PostgreSQL plans by statistics).
TEST_F(WorklistTest, ListsUseTheirIndexes) {
  if (TestDatabaseEngine() != "sqlite") GTEST_SKIP() << "SQLite's query plan";
  WorkQuery township;
  township.township = "520102003";
  township.caseworker = "cw-a";
  township.county = "520102";
  township.programs = {0, 1, 3, 4};
  township.due_to = today_ + 30;
  township.sealed_anchor_limit = SealedAnchorLimit(today_);
  township.limit = 50;
  WorkQuery county = township;
  county.township.clear();
  county.division_prefix = "520102";
  auto plan_of = [&](const WorkQuery& q) {
    std::vector<Value> params;
    const std::string sql = "EXPLAIN QUERY PLAN " + WorkRowsStatement(q, &params);
    std::string plan;
    EXPECT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(sql, params));
      for (const Row& r : rows) plan += r.GetString(3) + "\n";
      return absl::OkStatus();
    }).ok());
    return plan;
  };
  const std::string by_township = plan_of(township);
  EXPECT_TRUE(absl::StrContains(by_township, "INDEX cases_township")) << by_township;
  EXPECT_TRUE(absl::StrContains(by_township, "INDEX cases_assigned")) << by_township;
  EXPECT_TRUE(absl::StrContains(by_township, "SEARCH w USING INDEX sqlite_autoindex_work_items"))
      << by_township;
  const std::string by_county = plan_of(county);
  EXPECT_TRUE(absl::StrContains(by_county, "SEARCH w USING INDEX work_items_division_due"))
      << by_county;
  EXPECT_FALSE(absl::StrContains(by_county, "TEMP B-TREE")) << by_county;  // index order
}

}  // namespace
}  // namespace registry
}  // namespace pathway
