// Visit records over a real store (a SQLite file, or PostgreSQL when the run asks):
// recording and listing, validation, corrections, the next visit due, who may record
// and read, and what is kept at rest.
#include "services/registry/visits.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/caller.h"
#include "common/codec/date_text.h"
#include "common/codec/proto_date.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/legal_time/legal_time.h"
#include "common/status/status_macros.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/registry/testing_registry_store.h"
#include "services/registry/visit_tables.h"
#include "services/registry/worklist.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/service_database.h"

namespace pathway {
namespace registry {
namespace {

// Synthetic notes: what a caseworker might write, and what must never be stored.
constexpr char kNotes[] = "测试记录：走访合成对象，情绪稳定，已谈就业意向。";
constexpr char kPlace[] = "测试社区活动室";

absl::Time At(int y, int m, int d) { return test::ChinaNoon(y, m, d); }
absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

using test::MakeCaller;

// The rule behind visit_next_due, without a store.
TEST(NextVisitDueTest, NewestCurrentPlanUnlessAlreadyMet) {
  auto v = [](int64_t id, absl::CivilDay on, std::optional<absl::CivilDay> next,
              int64_t corrects = 0) {
    return VisitDatesRow{id, on, next, corrects};
  };
  EXPECT_EQ(NextVisitDue({}), std::nullopt);
  EXPECT_EQ(NextVisitDue({v(1, Day(2026, 2, 1), std::nullopt)}), std::nullopt);
  EXPECT_EQ(NextVisitDue({v(1, Day(2026, 2, 1), Day(2026, 3, 1))}), Day(2026, 3, 1));
  // A later plan replaces an earlier one; a contact in between without a plan
  // leaves the plan standing.
  EXPECT_EQ(NextVisitDue(
                {v(1, Day(2026, 2, 1), Day(2026, 3, 1)), v(2, Day(2026, 2, 10), Day(2026, 2, 20))}),
            Day(2026, 2, 20));
  EXPECT_EQ(
      NextVisitDue({v(1, Day(2026, 2, 1), Day(2026, 3, 1)), v(2, Day(2026, 2, 10), std::nullopt)}),
      Day(2026, 3, 1));
  // Newest by visit date, not by recording order: a late entry for an older visit
  // does not replace the current plan.
  EXPECT_EQ(NextVisitDue(
                {v(1, Day(2026, 2, 10), Day(2026, 3, 10)), v(2, Day(2026, 2, 1), Day(2026, 2, 5))}),
            Day(2026, 3, 10));
  // The planned visit took place (on or after the date) and planned none.
  EXPECT_EQ(
      NextVisitDue({v(1, Day(2026, 2, 1), Day(2026, 3, 1)), v(2, Day(2026, 3, 1), std::nullopt)}),
      std::nullopt);
  // A superseded entry counts for nothing; its correction does.
  EXPECT_EQ(NextVisitDue({v(1, Day(2026, 2, 1), Day(2026, 3, 1)),
                          v(2, Day(2026, 2, 1), Day(2026, 4, 1), 1)}),
            Day(2026, 4, 1));
  EXPECT_EQ(NextVisitDue(
                {v(1, Day(2026, 2, 1), Day(2026, 3, 1)), v(2, Day(2026, 2, 1), std::nullopt, 1)}),
            std::nullopt);
}

class VisitsTest : public RegistryStoreTest {
 protected:
  void SetUp() override {
    RegistryStoreTest::SetUp();
    if (HasFatalFailure()) return;
    visits_ = std::make_unique<VisitLogic>(logic_.get(), cipher_.get());

    // A case of township 520102003 (Guiyang, Nanming), found on 2026-01-10.
    v1::RegisterPersonRequest r = Person(11);
    r.set_township("520102003");
    ASSERT_NO_FATAL_FAILURE(
        Register(MakeCaller(Role::kCaseworker, "520102", "cw-county"), r, &case_id_));
  }

  v1::RegisterPersonRequest Person(int seq) {
    v1::RegisterPersonRequest r;
    r.set_resident_id_number(GenerateSyntheticResidentId("520102", Day(1990, 3, 7), seq));
    r.set_name(absl::StrCat("测试人员", seq));
    r.set_household_division("520102");
    r.add_drug_types("methamphetamine");
    r.set_route_of_use(v1::ROUTE_OF_USE_SMOKING);
    *r.mutable_found_on() = test::D(2026, 1, 10);
    return r;
  }

  void Register(const Caller& caller, const v1::RegisterPersonRequest& r, std::string* id) {
    absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(CaseRecord c, logic_->Register(tx, caller, r, At(2026, 2, 1)));
      *id = c.case_id;
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }

  v1::RecordVisitRequest Visit(absl::CivilDay on, std::optional<absl::CivilDay> next = {},
                               const std::string& case_id = "") {
    v1::RecordVisitRequest r;
    r.set_case_id(case_id.empty() ? case_id_ : case_id);
    ToProtoDate(on, r.mutable_visited_on());
    r.set_kind(v1::VISIT_KIND_HOME_VISIT);
    r.set_place(kPlace);
    r.set_notes(kNotes);
    if (next.has_value()) ToProtoDate(*next, r.mutable_next_visit_on());
    return r;
  }

  absl::StatusOr<v1::Visit> Record(const Caller& caller, const v1::RecordVisitRequest& r,
                                   absl::Time now = At(2026, 3, 1)) {
    absl::StatusOr<v1::Visit> out;
    absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
      out = visits_->Record(tx, caller, r, now);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  absl::StatusOr<VisitLogic::Page> List(const Caller& caller, const std::string& case_id,
                                        int page_size = 0, const std::string& token = "") {
    v1::ListVisitsRequest r;
    r.set_case_id(case_id);
    r.mutable_page()->set_page_size(page_size);
    r.mutable_page()->set_page_token(token);
    absl::StatusOr<VisitLogic::Page> out;
    absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
      out = visits_->List(tx, caller, r, Day(2026, 3, 1));
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  std::optional<absl::CivilDay> NextDue(const std::string& case_id) {
    std::optional<absl::CivilDay> due;
    absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(due, LoadNextVisitDue(tx, case_id));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return due;
  }

  // Rows of `visits` for the case, read straight from the table.
  int64_t StoredVisits(const std::string& case_id) {
    int64_t n = -1;
    absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(n, CountVisits(tx, case_id));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return n;
  }

  std::unique_ptr<VisitLogic> visits_;
  std::string case_id_;
  const Caller township_cw_ = MakeCaller(Role::kCaseworker, "520102003", "cw-town");
  const Caller county_cw_ = MakeCaller(Role::kCaseworker, "520102", "cw-county");
  const Caller police_ = MakeCaller(Role::kPolice, "520102", "police-1");
  const Caller auditor_ = MakeCaller(Role::kAuditor, "52", "auditor-1");
  const Caller admin_ = MakeCaller(Role::kAdmin, "*", "admin-1");
};

TEST_F(VisitsTest, RecordsAndListsNewestFirstWithPagesAndTotal) {
  auto first = Record(township_cw_, Visit(Day(2026, 2, 3), Day(2026, 2, 17)));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->case_id(), case_id_);
  EXPECT_EQ(first->visit_id(), 1);
  EXPECT_EQ(first->recorded_by(), "cw-town");
  EXPECT_EQ(first->recorder_role(), "caseworker");
  EXPECT_EQ(first->recorded_at().seconds(), absl::ToUnixSeconds(At(2026, 3, 1)));
  // The reply leaves the text out: the caller has just sent it.
  EXPECT_TRUE(first->text_withheld());
  EXPECT_TRUE(first->notes().empty());
  EXPECT_TRUE(first->place().empty());

  v1::RecordVisitRequest talk = Visit(Day(2026, 2, 20), Day(2026, 3, 6));
  talk.set_kind(v1::VISIT_KIND_PSYCHOLOGICAL_SUPPORT);
  talk.clear_place();
  ASSERT_TRUE(Record(county_cw_, talk).ok());
  v1::RecordVisitRequest call = Visit(Day(2026, 2, 10));
  call.set_kind(v1::VISIT_KIND_PHONE_CALL);
  ASSERT_TRUE(Record(police_, call).ok());

  auto page = List(township_cw_, case_id_, 2);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->total, 3);
  ASSERT_EQ(page->visits.size(), 2u);
  // Newest by visit date: 02-20 (visit 2), 02-10 (visit 3); then 02-03 (visit 1).
  EXPECT_EQ(page->visits[0].visit_id(), 2);
  EXPECT_EQ(page->visits[0].kind(), v1::VISIT_KIND_PSYCHOLOGICAL_SUPPORT);
  EXPECT_EQ(page->visits[0].notes(), kNotes);
  EXPECT_TRUE(page->visits[0].place().empty());
  EXPECT_FALSE(page->visits[0].text_withheld());
  EXPECT_EQ(DayOf(page->visits[0].next_visit_on()), Day(2026, 3, 6));
  EXPECT_EQ(page->visits[1].visit_id(), 3);
  EXPECT_EQ(page->visits[1].recorder_role(), "police");
  EXPECT_FALSE(page->visits[1].has_next_visit_on());
  ASSERT_FALSE(page->next_page_token.empty());
  auto rest = List(township_cw_, case_id_, 2, page->next_page_token);
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->visits.size(), 1u);
  EXPECT_EQ(rest->visits[0].visit_id(), 1);
  EXPECT_EQ(rest->visits[0].place(), kPlace);
  EXPECT_EQ(rest->visits[0].notes(), kNotes);
  EXPECT_EQ(rest->total, 3);
  EXPECT_TRUE(rest->next_page_token.empty());
  EXPECT_EQ(List(township_cw_, case_id_, 2, "not-a-token").status().code(),
            absl::StatusCode::kInvalidArgument);

  // Police and auditors read the text; an admin gets the entries without it.
  for (const Caller& reader : {police_, auditor_}) {
    auto seen = List(reader, case_id_);
    ASSERT_TRUE(seen.ok()) << seen.status();
    ASSERT_EQ(seen->visits.size(), 3u);
    EXPECT_EQ(seen->visits[2].notes(), kNotes);
  }
  auto admin = List(admin_, case_id_);
  ASSERT_TRUE(admin.ok()) << admin.status();
  ASSERT_EQ(admin->visits.size(), 3u);
  for (const v1::Visit& v : admin->visits) {
    EXPECT_TRUE(v.text_withheld());
    EXPECT_TRUE(v.notes().empty());
    EXPECT_TRUE(v.place().empty());
  }
  EXPECT_EQ(NextDue(case_id_), Day(2026, 3, 6));
}

TEST_F(VisitsTest, BadRequestsAreInvalidArgumentAndWriteNothing) {
  std::vector<std::pair<std::string, v1::RecordVisitRequest>> bad;
  auto with = [&](const std::string& what, const std::function<void(v1::RecordVisitRequest*)>& f) {
    v1::RecordVisitRequest r = Visit(Day(2026, 2, 3), Day(2026, 2, 17));
    f(&r);
    bad.emplace_back(what, r);
  };
  with("no date", [](v1::RecordVisitRequest* r) { r->clear_visited_on(); });
  with("partial date", [](v1::RecordVisitRequest* r) { r->mutable_visited_on()->set_day(0); });
  with("future",
       [](v1::RecordVisitRequest* r) { ToProtoDate(Day(2026, 3, 2), r->mutable_visited_on()); });
  with("before registration",
       [](v1::RecordVisitRequest* r) { ToProtoDate(Day(2026, 1, 9), r->mutable_visited_on()); });
  with("no kind", [](v1::RecordVisitRequest* r) { r->set_kind(v1::VISIT_KIND_UNSPECIFIED); });
  with("unknown kind",
       [](v1::RecordVisitRequest* r) { r->set_kind(static_cast<v1::VisitKind>(99)); });
  with("no notes", [](v1::RecordVisitRequest* r) { r->clear_notes(); });
  with("blank notes", [](v1::RecordVisitRequest* r) { r->set_notes(" \n\t "); });
  with("long notes", [](v1::RecordVisitRequest* r) {
    std::string s;
    for (int i = 0; i < kMaxVisitNotesChars + 1; ++i) s += "访";
    r->set_notes(s);
  });
  with("control character", [](v1::RecordVisitRequest* r) { r->set_notes("测试\x01记录"); });
  with("long place", [](v1::RecordVisitRequest* r) { r->set_place(std::string(201, 'a')); });
  with("line break in place", [](v1::RecordVisitRequest* r) { r->set_place("测试\n地点"); });
  with("next not after",
       [](v1::RecordVisitRequest* r) { ToProtoDate(Day(2026, 2, 3), r->mutable_next_visit_on()); });
  with("next too far",
       [](v1::RecordVisitRequest* r) { ToProtoDate(Day(2027, 2, 5), r->mutable_next_visit_on()); });
  with("negative correction", [](v1::RecordVisitRequest* r) { r->set_corrects_visit_id(-1); });
  with("malformed case id", [](v1::RecordVisitRequest* r) { r->set_case_id("520102-2026-1"); });
  for (const auto& [what, r] : bad) {
    auto out = Record(township_cw_, r);
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument)
        << what << ": " << out.status();
    // The message names the field, never the text.
    EXPECT_EQ(out.status().message().find("测试"), std::string::npos) << what;
  }
  // 4,000 characters of three bytes each is within the limit.
  v1::RecordVisitRequest longest = Visit(Day(2026, 2, 3));
  std::string s;
  for (int i = 0; i < kMaxVisitNotesChars; ++i) s += "访";
  longest.set_notes(s);
  EXPECT_EQ(StoredVisits(case_id_), 0);
  EXPECT_EQ(NextDue(case_id_), std::nullopt);
  EXPECT_TRUE(Record(township_cw_, longest).ok());
  EXPECT_EQ(StoredVisits(case_id_), 1);
}

TEST_F(VisitsTest, CorrectionsSupersedeAndMoveTheNextVisitDue) {
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 3), Day(2026, 2, 17))).ok());
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 10))).ok());  // a contact, no plan
  EXPECT_EQ(NextDue(case_id_), Day(2026, 2, 17));

  // The first entry had the wrong plan: corrected, it names the new date.
  v1::RecordVisitRequest fix = Visit(Day(2026, 2, 3), Day(2026, 2, 24));
  fix.set_corrects_visit_id(1);
  auto corrected = Record(township_cw_, fix);
  ASSERT_TRUE(corrected.ok()) << corrected.status();
  EXPECT_EQ(corrected->visit_id(), 3);
  EXPECT_EQ(corrected->corrects_visit_id(), 1);
  EXPECT_EQ(NextDue(case_id_), Day(2026, 2, 24));

  auto page = List(township_cw_, case_id_);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->visits.size(), 3u);
  EXPECT_EQ(page->total, 3);
  // 02-10 (2), then 02-03 twice, the correction (3) before the corrected (1).
  EXPECT_EQ(page->visits[0].visit_id(), 2);
  EXPECT_EQ(page->visits[0].superseded_by(), 0);
  EXPECT_EQ(page->visits[1].visit_id(), 3);
  EXPECT_EQ(page->visits[1].corrects_visit_id(), 1);
  EXPECT_EQ(page->visits[1].superseded_by(), 0);
  EXPECT_EQ(page->visits[2].visit_id(), 1);
  EXPECT_EQ(page->visits[2].superseded_by(), 3);
  EXPECT_EQ(page->visits[2].notes(), kNotes) << "the corrected entry is kept as it was";

  // A visit is corrected once; the correction itself may be corrected, here to
  // withdraw the plan.
  auto twice = Record(township_cw_, fix);
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition) << twice.status();
  v1::RecordVisitRequest missing = fix;
  missing.set_corrects_visit_id(42);
  EXPECT_EQ(Record(township_cw_, missing).status().code(), absl::StatusCode::kNotFound);
  v1::RecordVisitRequest withdraw = Visit(Day(2026, 2, 3));
  withdraw.set_corrects_visit_id(3);
  ASSERT_TRUE(Record(township_cw_, withdraw).ok());
  EXPECT_EQ(NextDue(case_id_), std::nullopt);
  EXPECT_EQ(StoredVisits(case_id_), 4);

  // A visit of another case cannot be corrected through this one.
  std::string other;
  ASSERT_NO_FATAL_FAILURE(Register(county_cw_, Person(13), &other));
  v1::RecordVisitRequest across = Visit(Day(2026, 2, 3), {}, other);
  across.set_corrects_visit_id(2);
  EXPECT_EQ(Record(county_cw_, across).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(StoredVisits(other), 0);

  // A newer plan, then the planned visit taking place without a new plan.
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 20), Day(2026, 2, 27))).ok());
  EXPECT_EQ(NextDue(case_id_), Day(2026, 2, 27));
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 27))).ok());
  EXPECT_EQ(NextDue(case_id_), std::nullopt);
}

TEST_F(VisitsTest, NextVisitsDueForManyCases) {
  std::string second, third;
  ASSERT_NO_FATAL_FAILURE(Register(county_cw_, Person(13), &second));
  ASSERT_NO_FATAL_FAILURE(Register(county_cw_, Person(15), &third));
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 3), Day(2026, 3, 3))).ok());
  ASSERT_TRUE(Record(county_cw_, Visit(Day(2026, 2, 3), Day(2026, 2, 28), second)).ok());
  ASSERT_TRUE(Record(county_cw_, Visit(Day(2026, 2, 3), {}, third)).ok());
  std::vector<NextVisitDueRow> due;
  std::vector<std::string> ids = {case_id_, second, third, case_id_,
                                  CaseId::Mint("520102", 2026, 9999)->ToString()};
  for (int i = 0; i < 600; ++i) ids.push_back(CaseId::Mint("520103", 2026, i + 1)->ToString());
  absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(due, LoadNextVisitsDue(tx, ids));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].case_id, second);
  EXPECT_EQ(due[0].next_visit_on, Day(2026, 2, 28));
  EXPECT_EQ(due[1].case_id, case_id_);
  EXPECT_EQ(due[1].next_visit_on, Day(2026, 3, 3));
}

// The next visit is on the worklist of whoever works the case, and moves with
// corrections and later visits.
TEST_F(VisitsTest, TheNextVisitIsAWorklistItem) {
  auto worklist = [&](const Caller& caller) {
    std::vector<std::string> out;
    v1::GetWorklistRequest r;
    *r.mutable_as_of() = test::D(2026, 3, 1);
    EXPECT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(v1::GetWorklistResponse page,
                       ReadWorklist(tx, caller, r, Day(2026, 3, 1)));
      for (const auto& i : page.items()) {
        out.push_back(absl::StrCat(i.case_id(), " ", i.item().kind(), " ",
                                   DayText(DayOf(i.item().due())), i.overdue() ? " overdue" : ""));
      }
      return absl::OkStatus();
    }).ok());
    return out;
  };
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 3), Day(2026, 2, 17))).ok());
  EXPECT_EQ(worklist(township_cw_),
            std::vector<std::string>{case_id_ + " VISIT 2026-02-17 overdue"});
  EXPECT_EQ(worklist(MakeCaller(Role::kCaseworker, "520102004", "cw-other")),
            std::vector<std::string>{}) << "another township's caseworker";
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 20), Day(2026, 3, 5))).ok());
  EXPECT_EQ(worklist(township_cw_), std::vector<std::string>{case_id_ + " VISIT 2026-03-05"});
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 27))).ok());  // no new plan
  EXPECT_EQ(worklist(township_cw_), std::vector<std::string>{case_id_ + " VISIT 2026-03-05"});
  EXPECT_EQ(worklist(county_cw_), worklist(township_cw_)) << "the county works it too";
}

TEST_F(VisitsTest, OutOfScopeIsNotFoundAsIfMissingAndOtherRolesAreRefused) {
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 3))).ok());
  const std::string missing = CaseId::Mint("520102", 2026, 9999)->ToString();
  auto absent = Record(township_cw_, Visit(Day(2026, 2, 3), {}, missing));
  ASSERT_EQ(absent.status().code(), absl::StatusCode::kNotFound);
  auto absent_list = List(township_cw_, missing);
  ASSERT_EQ(absent_list.status().code(), absl::StatusCode::kNotFound);

  for (const Caller& outsider : {MakeCaller(Role::kCaseworker, "520102004", "cw-other-town"),
                                 MakeCaller(Role::kCaseworker, "530102", "cw-other-county"),
                                 MakeCaller(Role::kPolice, "530102", "police-other")}) {
    SCOPED_TRACE(outsider.jurisdiction());
    auto w = Record(outsider, Visit(Day(2026, 2, 3)));
    EXPECT_EQ(w.status(), absent.status());
    auto r = List(outsider, case_id_);
    EXPECT_EQ(r.status(), absent_list.status());
  }
  for (Role role :
       {Role::kFacilityStaff, Role::kLaborBureau, Role::kEmployer, Role::kBatch, Role::kService}) {
    const Caller c = MakeCaller(role, "520102", "someone");
    EXPECT_EQ(Record(c, Visit(Day(2026, 2, 3))).status().code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(List(c, case_id_).status().code(), absl::StatusCode::kPermissionDenied);
  }
  // Auditors and admins read but do not record.
  for (const Caller& c : {auditor_, admin_}) {
    EXPECT_EQ(Record(c, Visit(Day(2026, 2, 3))).status().code(),
              absl::StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(StoredVisits(case_id_), 1);
}

// 双向管控: the household county sees the case and its visits; the county it lives in
// works it (and, once assigned, the township's county).
TEST_F(VisitsTest, TheOtherSideSeesButDoesNotRecord) {
  v1::RegisterPersonRequest r = Person(17);
  r.set_residence_division("520103");
  r.set_registering_division("520102");
  std::string id;
  ASSERT_NO_FATAL_FAILURE(Register(MakeCaller(Role::kPolice, "52", "police-city"), r, &id));
  const Caller household = MakeCaller(Role::kCaseworker, "520102", "cw-household");
  const Caller residence = MakeCaller(Role::kCaseworker, "520103", "cw-residence");
  auto refused = Record(household, Visit(Day(2026, 2, 3), {}, id));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  ASSERT_TRUE(Record(residence, Visit(Day(2026, 2, 3), {}, id)).ok());
  auto seen = List(household, id);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->total, 1);

  // Assigned to a township of the household county, the case is worked from there.
  v1::AssignCaseRequest assign;
  assign.set_case_id(id);
  assign.set_township("520102005");
  assign.set_caseworker("cw-assigned");
  assign.set_reason("测试原因");
  absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
    return logic_->Assign(tx, household, assign, At(2026, 2, 5)).status();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(Record(household, Visit(Day(2026, 2, 6), {}, id)).ok());
  EXPECT_EQ(Record(residence, Visit(Day(2026, 2, 6), {}, id)).status().code(),
            absl::StatusCode::kPermissionDenied);
  // The caseworker it is assigned to by name, on a token of another township of the
  // county, records too.
  EXPECT_TRUE(Record(MakeCaller(Role::kCaseworker, "520102009", "cw-assigned"),
                     Visit(Day(2026, 2, 7), {}, id))
                  .ok());
}

// A sealed case (戒毒条例 Art 7) is hidden from caseworkers as if absent, readable by
// police, auditors and admins, and closed to new entries.
TEST_F(VisitsTest, SealedCases) {
  ASSERT_TRUE(Record(county_cw_, Visit(Day(2026, 2, 3))).ok());
  // The anchor is 2026-01-10: three years on, the case is sealed.
  const absl::Time later = At(2029, 6, 1);
  auto hidden = Record(county_cw_, Visit(Day(2029, 5, 1)), later);
  auto missing =
      Record(county_cw_, Visit(Day(2029, 5, 1), {}, CaseId::Mint("520102", 2026, 9999)->ToString()),
             later);
  EXPECT_EQ(hidden.status(), missing.status());
  EXPECT_EQ(hidden.status().code(), absl::StatusCode::kNotFound);
  auto closed = Record(police_, Visit(Day(2029, 5, 1)), later);
  EXPECT_EQ(closed.status().code(), absl::StatusCode::kFailedPrecondition) << closed.status();

  v1::ListVisitsRequest r;
  r.set_case_id(case_id_);
  for (const Caller& c : {county_cw_, police_, auditor_}) {
    absl::StatusOr<VisitLogic::Page> page;
    ASSERT_TRUE(store_
                    ->Read([&](ReadTransaction& tx) -> absl::Status {
                      page = visits_->List(tx, c, r, legal_time::ToCivilDay(later));
                      return absl::OkStatus();
                    })
                    .ok());
    if (c.role() == Role::kCaseworker) {
      EXPECT_EQ(page.status().code(), absl::StatusCode::kNotFound);
    } else {
      ASSERT_TRUE(page.ok()) << page.status();
      EXPECT_EQ(page->total, 1);
    }
  }
}

// Place and notes are ciphertext bound to their case, visit and field: nothing of the
// text in any column, and a ciphertext moved to another row does not decrypt.
TEST_F(VisitsTest, NoPlaintextAtRestAndCiphertextsAreBound) {
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 3), Day(2026, 2, 17))).ok());
  ASSERT_TRUE(Record(township_cw_, Visit(Day(2026, 2, 4))).ok());
  absl::StatusOr<test::ServiceDatabase> db =
      test::OpenServiceDatabase(database_, dir_.path() + "/registry.db");
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<std::string> values = test::AllStoredValues(*db->store, db->location.engine);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_NE(values->find(case_id_), std::string::npos) << "the scan reads the tables";
  for (const std::string& text : {std::string(kNotes), std::string(kPlace), std::string("测试记录"),
                                  std::string("测试社区")}) {
    EXPECT_EQ(values->find(text), std::string::npos) << "plaintext at rest";
  }
  // The raw row: ciphertext, not text.
  std::string notes_cipher;
  ASSERT_TRUE(store_
                  ->Read([&](ReadTransaction& tx) -> absl::Status {
                    ASSIGN_OR_RETURN(std::optional<VisitRow> row, LoadVisit(tx, case_id_, 1));
                    if (!row.has_value()) return absl::NotFoundError("no visit 1");
                    notes_cipher = row->notes_cipher;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(notes_cipher.find(kNotes), std::string::npos);
  EXPECT_GT(notes_cipher.size(), std::string(kNotes).size());

  // Visit 1's notes copied into visit 2's row: refused on reading, not shown.
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> absl::Status {
                    return tx.Exec(
                        "UPDATE visits SET notes_cipher = ? WHERE case_id = ? AND visit_id = 2",
                        {Blob{notes_cipher}, case_id_});
                  })
                  .ok());
  auto page = List(township_cw_, case_id_);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kDataLoss) << page.status();
}

}  // namespace
}  // namespace registry
}  // namespace pathway
