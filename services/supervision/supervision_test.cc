// Table tests of the supervision rules (戒毒条例 Art 14-24, 37-40; 禁毒法 Art 38, 48) on a
// real store (SQLite, or PostgreSQL when the test run asks for it), with explicit dates.
#include "services/supervision/supervision.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ids/case_id.h"
#include "common/store/testing_store.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures.h"

namespace pathway::supervision {
namespace {

using absl::CivilDay;

// Noon in China on `d`.
absl::Time At(CivilDay d) {
  return absl::FromCivil(absl::CivilSecond(d.year(), d.month(), d.day(), 12, 0, 0),
                         absl::FixedTimeZone(8 * 3600));
}

using test::MakeCaller;

std::optional<DueItem> Find(const Order& o, absl::string_view kind) {
  for (const DueItem& d : o.due) {
    if (d.kind == kind) return d;
  }
  return std::nullopt;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(CommunityDetoxPolicy()); }

  void Open(ProgramPolicy policy) {
    ASSERT_TRUE(ValidatePolicy(policy).ok());
    engine_ = std::make_unique<SupervisionEngine>(std::move(policy));
    store_.reset();
    std::vector<Migration> migrations = ProgramStatusMigrations();
    for (Migration& m : SupervisionMigrations()) migrations.push_back(m);
    auto store = OpenTestStore(std::move(migrations));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::string Case(int seq) { return CaseId::Mint("520102", 2026, seq)->ToString(); }

  template <typename Fn>
  absl::StatusOr<WriteResult> W(Fn fn) {
    absl::StatusOr<WriteResult> out = absl::UnknownError("not run");
    absl::Status s = store_->Write([&](Transaction& tx) -> absl::Status {
      out = fn(tx);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  absl::StatusOr<WriteResult> OpenOrder(const std::string& case_id, CivilDay received,
                                        int term = 0, CivilDay today = CivilDay()) {
    OpenOrderInput in;
    in.case_id = case_id;
    in.division = "520102";
    in.place = "520102001";
    in.decision_number = "TEST-DECISION-1";
    in.decision_date = received - 2;
    in.received_on = received;
    in.term_months = term;
    if (today == CivilDay()) today = received;
    return W([&](Transaction& tx) { return engine_->OpenOrder(tx, police_, in, At(today)); });
  }

  absl::StatusOr<WriteResult> Report(const std::string& c, CivilDay on, CivilDay today) {
    return W([&](Transaction& tx) { return engine_->RecordReport(tx, cw_, c, on, At(today)); });
  }

  // An order received on `received` and reported the same day.
  std::string Reported(int seq, CivilDay received, int term = 0) {
    std::string c = Case(seq);
    EXPECT_TRUE(OpenOrder(c, received, term).ok());
    EXPECT_TRUE(Report(c, received, received).ok());
    return c;
  }

  absl::StatusOr<WriteResult> Test(const std::string& c, CivilDay on, TestResult r,
                                   int64_t* id = nullptr, CivilDay today = CivilDay()) {
    TestInput in;
    in.tested_on = on;
    in.result = r;
    if (today == CivilDay()) today = on;
    return W([&](Transaction& tx) { return engine_->RecordTest(tx, cw_, c, in, At(today), id); });
  }

  absl::StatusOr<WriteResult> Absent(const std::string& c, CivilDay left,
                                     std::optional<CivilDay> back, CivilDay today) {
    return W([&](Transaction& tx) {
      return engine_->RecordAbsence(tx, cw_, c, left, back, At(today));
    });
  }

  Order Get(const std::string& c, CivilDay as_of) {
    Order out;
    absl::Status s = store_->Read([&](ReadTransaction& tx) -> absl::Status {
      absl::StatusOr<Order> o = engine_->GetOrder(tx, cw_, c, as_of);
      if (!o.ok()) return o.status();
      out = *std::move(o);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  std::unique_ptr<SupervisionEngine> engine_;
  std::unique_ptr<Store> store_;
  Caller police_ = MakeCaller(Role::kPolice, "5201", "police-1");
  Caller cw_ = MakeCaller(Role::kCaseworker, "520102", "cw-1");
};

// ---- reporting (戒毒条例 Art 14, 38) ----

TEST_F(EngineTest, ReportWindowIsFifteenDaysFromReceipt) {
  auto r = OpenOrder(Case(1), CivilDay(2026, 1, 10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->order.state, kStateAwaitingReport);
  EXPECT_EQ(r->order.current_place().report_deadline, CivilDay(2026, 1, 25));
  EXPECT_EQ(r->status.state, "AWAITING_REPORT");
  EXPECT_EQ(r->status.deadline_kind, "REPORT");
  EXPECT_EQ(r->status.deadline, CivilDay(2026, 1, 25));
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].kind, RegistryEvent::Kind::kMeasureStarted);

  struct Row {
    CivilDay as_of;
    bool overdue;
    bool refusal;  // SD: a no-show is deemed refusal
  };
  const Row rows[] = {{CivilDay(2026, 1, 24), false, false},
                      {CivilDay(2026, 1, 25), false, false},
                      {CivilDay(2026, 1, 26), true, true},
                      {CivilDay(2026, 3, 1), true, true}};
  for (const Row& row : rows) {
    Order o = Get(Case(1), row.as_of);
    std::optional<DueItem> report = Find(o, kDueReport);
    ASSERT_TRUE(report.has_value()) << row.as_of;
    EXPECT_EQ(report->overdue, row.overdue) << row.as_of;
    EXPECT_EQ(Find(o, kDueNoShowRefusal) .has_value(), row.refusal) << row.as_of;
  }
}

TEST_F(EngineTest, ReportOnDayFifteenIsOnTimeDaySixteenIsRefusalForDetox) {
  struct Row {
    CivilDay reported;
    bool refusal;
  };
  const Row rows[] = {{CivilDay(2026, 1, 10), false},
                      {CivilDay(2026, 1, 25), false},
                      {CivilDay(2026, 1, 26), true}};
  int seq = 10;
  for (const Row& row : rows) {
    std::string c = Case(++seq);
    ASSERT_TRUE(OpenOrder(c, CivilDay(2026, 1, 10)).ok());
    auto r = Report(c, row.reported, row.reported);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->order.state, kStateActive);
    EXPECT_EQ(r->order.term_start, row.reported);
    EXPECT_FALSE(Find(r->order, kDueReport).has_value());
    EXPECT_EQ(Find(r->order, kDueNoShowRefusal) .has_value(), row.refusal) << row.reported;
  }
}

TEST_F(EngineTest, RehabNoShowIsOverdueButNotRefusal) {
  Open(CommunityRehabPolicy());
  ASSERT_TRUE(OpenOrder(Case(1), CivilDay(2026, 1, 10), 24).ok());
  Order o = Get(Case(1), CivilDay(2026, 1, 26));
  ASSERT_TRUE(Find(o, kDueReport).has_value());
  EXPECT_TRUE(Find(o, kDueReport)->overdue);
  EXPECT_EQ(Find(o, kDueReport)->legal_basis, "戒毒条例 Art 38");
  EXPECT_FALSE(Find(o, kDueNoShowRefusal).has_value());
}

TEST_F(EngineTest, HolidayCalendarMovesTheReportDeadline) {
  ProgramPolicy p = CommunityDetoxPolicy();
  p.calendar = std::make_shared<legal_time::ConfiguredHolidayCalendar>(
      std::vector<absl::CivilDay>{}, std::vector<absl::CivilDay>{});
  Open(p);
  // The 15th day after 10 Jan 2026 is Sunday 25 Jan: moved to Monday 26 Jan.
  auto r = OpenOrder(Case(1), CivilDay(2026, 1, 10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->order.current_place().report_deadline, CivilDay(2026, 1, 26));
}

TEST_F(EngineTest, OpenOrderValidation) {
  // One open order per case per service.
  ASSERT_TRUE(OpenOrder(Case(1), CivilDay(2026, 1, 10)).ok());
  EXPECT_EQ(OpenOrder(Case(1), CivilDay(2026, 1, 12)).status().code(),
            absl::StatusCode::kAlreadyExists);
  // SD's term is fixed at 3 years (Art 14).
  EXPECT_EQ(OpenOrder(Case(2), CivilDay(2026, 1, 10), 24).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(OpenOrder(Case(3), CivilDay(2026, 1, 10), 36).ok());
  // Receipt in the future of the clock.
  EXPECT_EQ(OpenOrder(Case(4), CivilDay(2026, 1, 10), 0, CivilDay(2026, 1, 9)).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Outside the caller's jurisdiction: NOT_FOUND as for a missing case.
  OpenOrderInput in;
  in.case_id = Case(5);
  in.division = "530102";
  in.place = "x";
  in.decision_number = "n";
  in.decision_date = in.received_on = CivilDay(2026, 1, 10);
  EXPECT_EQ(W([&](Transaction& tx) {
              return engine_->OpenOrder(tx, police_, in, At(CivilDay(2026, 1, 10)));
            }).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(EngineTest, RehabTermIsSetPerCaseAtMostThreeYears) {
  Open(CommunityRehabPolicy());
  struct Row {
    int months;
    absl::StatusCode code;
  };
  const Row rows[] = {{0, absl::StatusCode::kInvalidArgument},
                      {1, absl::StatusCode::kOk},
                      {36, absl::StatusCode::kOk},
                      {37, absl::StatusCode::kInvalidArgument}};
  int seq = 0;
  for (const Row& row : rows) {
    EXPECT_EQ(OpenOrder(Case(++seq), CivilDay(2026, 1, 10), row.months).status().code(), row.code)
        << row.months;
  }
}

// ---- term arithmetic ----

TEST_F(EngineTest, DetoxTermIsThreeYearsFromTheReportDate) {
  std::string c = Case(1);
  ASSERT_TRUE(OpenOrder(c, CivilDay(2026, 1, 20)).ok());
  auto r = Report(c, CivilDay(2026, 2, 1), CivilDay(2026, 2, 1));
  ASSERT_TRUE(r.ok());
  // 自2026年2月1日起至2029年1月31日止.
  EXPECT_EQ(r->order.term_last_day, CivilDay(2029, 1, 31));
  EXPECT_EQ(Get(c, CivilDay(2029, 1, 31)).state, kStateActive);
  Order expired = Get(c, CivilDay(2029, 2, 1));
  EXPECT_EQ(expired.state, kStateExpired);
  std::optional<DueItem> notice = Find(expired, kDueDischargeNotice);
  ASSERT_TRUE(notice.has_value());
  EXPECT_EQ(notice->due, CivilDay(2029, 2, 7));  // Art 23, 40: within 7 days
  EXPECT_FALSE(notice->overdue);
  EXPECT_TRUE(Find(Get(c, CivilDay(2029, 2, 8)), kDueDischargeNotice)->overdue);
}

TEST_F(EngineTest, RehabTermFromLeapDay) {
  Open(CommunityRehabPolicy());
  std::string c = Case(1);
  ASSERT_TRUE(OpenOrder(c, CivilDay(2024, 2, 20), 12, CivilDay(2024, 2, 20)).ok());
  auto r = Report(c, CivilDay(2024, 2, 29), CivilDay(2024, 2, 29));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->order.term_last_day, CivilDay(2025, 2, 28));
}

TEST_F(EngineTest, ChangeOfPlaceOpensANewWindowAndAgreementTermRunsOn) {
  std::string c = Reported(1, CivilDay(2026, 2, 1));
  ASSERT_TRUE(W([&](Transaction& tx) {
                return engine_->SignAgreement(tx, cw_, c, CivilDay(2026, 2, 1), "A-1",
                                              At(CivilDay(2026, 2, 1)));
              }).ok());
  auto r = W([&](Transaction& tx) {
    return engine_->ChangeExecutionPlace(tx, cw_, c, "520103", "520103002", CivilDay(2026, 6, 1),
                                         At(CivilDay(2026, 6, 1)));
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->order.places.size(), 2u);
  EXPECT_EQ(r->status.division, "520103");
  std::optional<DueItem> report = Find(r->order, kDueReport);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->due, CivilDay(2026, 6, 16));  // Art 22: a new 15-day window
  EXPECT_EQ(report->legal_basis, "戒毒条例 Art 22");
  EXPECT_EQ(r->order.term_last_day, CivilDay(2029, 1, 31));  // runs on without a break
  // The file moved: the old county no longer acts on it (it may still see it as a place
  // of 双向管控; the service decides that from the registry).
  Caller old_county = cw_;
  Caller new_county = MakeCaller(Role::kCaseworker, "520103", "cw-2");
  EXPECT_EQ(W([&](Transaction& tx) {
              return engine_->RecordReport(tx, old_county, c, CivilDay(2026, 6, 10),
                                           At(CivilDay(2026, 6, 10)));
            }).status().code(),
            absl::StatusCode::kPermissionDenied);
  // An agreement before reporting at the new place is refused (Art 15).
  EXPECT_EQ(W([&](Transaction& tx) {
              return engine_->SignAgreement(tx, new_county, c, CivilDay(2026, 6, 10), "A-2",
                                            At(CivilDay(2026, 6, 10)));
            }).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto reported = W([&](Transaction& tx) {
    return engine_->RecordReport(tx, new_county, c, CivilDay(2026, 6, 16), At(CivilDay(2026, 6, 16)));
  });
  ASSERT_TRUE(reported.ok());
  EXPECT_EQ(reported->order.term_start, CivilDay(2026, 2, 1));
  EXPECT_EQ(reported->order.term_last_day, CivilDay(2029, 1, 31));
  std::optional<DueItem> agreement = Find(reported->order, kDueAgreement);
  ASSERT_TRUE(agreement.has_value());
  EXPECT_EQ(agreement->due, CivilDay(2026, 6, 23));
  EXPECT_FALSE(Find(reported->order, kDueNoShowRefusal).has_value());
}

TEST_F(EngineTest, SuspensionPausesTheClockWhenPolicySaysSo) {
  struct Row {
    bool pauses;
    CivilDay last_day;
  };
  const Row rows[] = {{true, CivilDay(2029, 2, 10)}, {false, CivilDay(2029, 1, 31)}};
  for (const Row& row : rows) {
    ProgramPolicy p = CommunityDetoxPolicy();
    p.suspension_pauses_clock = row.pauses;
    Open(p);
    std::string c = Reported(1, CivilDay(2026, 2, 1));
    auto s = W([&](Transaction& tx) {
      return engine_->Suspend(tx, police_, c, SuspensionReason::kDetention, CivilDay(2026, 3, 1),
                              At(CivilDay(2026, 3, 2)));
    });
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->order.state, kStateSuspended);
    EXPECT_EQ(s->status.state, "SUSPENDED");
    EXPECT_FALSE(Find(s->order, kDueTest).has_value()) << "no tests while held";
    // No test while suspended (Art 24).
    EXPECT_EQ(Test(c, CivilDay(2026, 3, 5), TestResult::kNegative, nullptr, CivilDay(2026, 3, 6))
                  .status()
                  .code(),
              absl::StatusCode::kFailedPrecondition);
    auto r = W([&](Transaction& tx) {
      return engine_->Resume(tx, police_, c, CivilDay(2026, 3, 11), At(CivilDay(2026, 3, 11)));
    });
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->order.state, kStateActive);
    EXPECT_EQ(r->order.term_last_day, row.last_day) << row.pauses;
    EXPECT_EQ(r->order.excluded_days, row.pauses ? 10 : 0);
  }
}

// 戒毒条例 Art 24: a person detained inside the 15-day report window cannot report;
// no refusal is alleged while detained, and the window runs on after release.
TEST_F(EngineTest, DetentionInsideTheReportWindowSuspendsIt) {
  const std::string c = Case(7);
  ASSERT_TRUE(OpenOrder(c, CivilDay(2026, 3, 1)).ok());  // window to 2026-03-16
  ASSERT_TRUE(W([&](Transaction& tx) {
                return engine_->Suspend(tx, police_, c, SuspensionReason::kDetention,
                                        CivilDay(2026, 3, 5), At(CivilDay(2026, 3, 5)));
              }).ok());
  // Long past the original window, still detained: nothing is overdue.
  Order detained = Get(c, CivilDay(2026, 4, 20));
  EXPECT_FALSE(Find(detained, kDueNoShowRefusal).has_value());
  EXPECT_FALSE(Find(detained, kDueReport).has_value());
  ASSERT_TRUE(W([&](Transaction& tx) {
                return engine_->Resume(tx, police_, c, CivilDay(2026, 4, 4),
                                       At(CivilDay(2026, 4, 4)));
              }).ok());
  // Released on 4 April: 15 days from then, to the end of 19 April.
  Order back = Get(c, CivilDay(2026, 4, 10));
  ASSERT_TRUE(Find(back, kDueReport).has_value());
  EXPECT_EQ(Find(back, kDueReport)->due, CivilDay(2026, 4, 19));
  EXPECT_FALSE(Find(back, kDueNoShowRefusal).has_value());
  EXPECT_FALSE(Find(Get(c, CivilDay(2026, 4, 19)), kDueNoShowRefusal).has_value());
  EXPECT_TRUE(Find(Get(c, CivilDay(2026, 4, 20)), kDueNoShowRefusal).has_value());
}

// Every legal basis a due item cites, against the articles of the law's text
// (shared/reference/domain-notes.md): one row per programme and kind. The walk below
// raises each kind at least once and fails on a kind the table does not know.
TEST_F(EngineTest, DueItemsCiteTheRightArticles) {
  const std::map<std::pair<Programme, std::string>, std::string> table = {
      // Report within 15 days of the decision (SD Art 14, SK Art 38).
      {{Programme::kCommunityDetox, kDueReport}, "戒毒条例 Art 14"},
      {{Programme::kCommunityRehab, kDueReport}, "戒毒条例 Art 38"},
      // An SD no-show is deemed refusal (Art 14), reported to police (Art 21), a ground
      // for isolation (禁毒法 Art 38).
      {{Programme::kCommunityDetox, kDueNoShowRefusal}, "戒毒条例 Art 14, 21; 禁毒法 Art 38"},
      // The agreement promptly after reporting (SD Art 16; SK Art 38: report and sign).
      {{Programme::kCommunityDetox, kDueAgreement}, "戒毒条例 Art 16"},
      {{Programme::kCommunityRehab, kDueAgreement}, "戒毒条例 Art 38"},
      // Periodic tests as police require (Art 19), on the regional schedule.
      {{Programme::kCommunityDetox, kDueTest}, "戒毒条例 Art 19 (regional schedule)"},
      {{Programme::kCommunityRehab, kDueTest}, "戒毒条例 Art 19 (regional schedule)"},
      // The term: SD 3 years (Art 14); SK at most 3 years (禁毒法 Art 48).
      {{Programme::kCommunityDetox, kDueTermEnd}, "戒毒条例 Art 14"},
      {{Programme::kCommunityRehab, kDueTermEnd}, "禁毒法 Art 48"},
      // Police notify the township of the discharge within 7 days (Art 23, 40).
      {{Programme::kCommunityDetox, kDueDischargeNotice}, "戒毒条例 Art 23, 40"},
      {{Programme::kCommunityRehab, kDueDischargeNotice}, "戒毒条例 Art 23, 40"},
  };
  std::set<std::pair<Programme, std::string>> seen;
  for (const ProgramPolicy& policy : {CommunityDetoxPolicy(), CommunityRehabPolicy()}) {
    Open(policy);
    const std::string late = Case(8);
    ASSERT_TRUE(OpenOrder(late, CivilDay(2026, 3, 1), policy.fixed_term ? 0 : 12).ok());
    const std::string reported = Case(9);
    ASSERT_TRUE(OpenOrder(reported, CivilDay(2026, 3, 1), policy.fixed_term ? 0 : 12).ok());
    ASSERT_TRUE(Report(reported, CivilDay(2026, 3, 2), CivilDay(2026, 3, 2)).ok());
    for (const auto& [c, as_of] : std::vector<std::pair<std::string, CivilDay>>{
             {late, CivilDay(2026, 3, 10)},
             {late, CivilDay(2026, 4, 1)},
             {reported, CivilDay(2026, 3, 3)},
             {reported, CivilDay(2030, 1, 1)}}) {
      for (const DueItem& d : Get(c, as_of).due) {
        auto row = table.find({policy.programme, d.kind});
        ASSERT_NE(row, table.end()) << "no article on record for " << d.kind;
        EXPECT_EQ(d.legal_basis, row->second) << d.kind;
        seen.insert({policy.programme, d.kind});
      }
    }
  }
  for (const auto& [kind, basis] : table) {
    EXPECT_EQ(seen.count(kind), 1u) << "never raised: " << kind.second << " (" << basis << ")";
  }
}

TEST_F(EngineTest, SuspensionAndChangeOfPlaceTogether) {
  std::string c = Reported(1, CivilDay(2026, 2, 1));
  ASSERT_TRUE(W([&](Transaction& tx) {
                return engine_->Suspend(tx, police_, c, SuspensionReason::kArrest,
                                        CivilDay(2027, 1, 1), At(CivilDay(2027, 1, 1)));
              }).ok());
  EXPECT_EQ(W([&](Transaction& tx) {
              return engine_->ChangeExecutionPlace(tx, cw_, c, "520103", "p",
                                                   CivilDay(2027, 1, 5), At(CivilDay(2027, 1, 5)));
            }).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(W([&](Transaction& tx) {
                return engine_->Resume(tx, police_, c, CivilDay(2027, 1, 31),
                                       At(CivilDay(2027, 1, 31)));
              }).ok());
  auto r = W([&](Transaction& tx) {
    return engine_->ChangeExecutionPlace(tx, cw_, c, "520103", "p", CivilDay(2027, 2, 1),
                                         At(CivilDay(2027, 2, 1)));
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->order.term_last_day, CivilDay(2029, 3, 2));  // 30 paused days
}

// ---- drug tests ----

TEST_F(EngineTest, TestScheduleFollowsThePhases) {
  std::string c = Reported(1, CivilDay(2026, 3, 15));
  struct Row {
    CivilDay as_of;
    CivilDay due;  // end of the current period
  };
  const Row rows[] = {
      {CivilDay(2026, 3, 15), CivilDay(2026, 4, 14)},  // year 1: monthly
      {CivilDay(2026, 4, 14), CivilDay(2026, 4, 14)},
      {CivilDay(2026, 4, 15), CivilDay(2026, 5, 14)},
      {CivilDay(2027, 3, 15), CivilDay(2027, 5, 14)},  // year 2: every 2 months
      {CivilDay(2028, 3, 15), CivilDay(2028, 6, 14)},  // year 3: quarterly
      {CivilDay(2028, 12, 15), CivilDay(2029, 3, 14)},
  };
  for (const Row& row : rows) {
    std::optional<DueItem> t = Find(Get(c, row.as_of), kDueTest);
    ASSERT_TRUE(t.has_value()) << row.as_of;
    EXPECT_EQ(t->due, row.due) << row.as_of;
    EXPECT_TRUE(t->open);
  }
  // A test in the period satisfies it: the next period is upcoming, not yet open.
  ASSERT_TRUE(Test(c, CivilDay(2026, 3, 20), TestResult::kNegative).ok());
  std::optional<DueItem> next = Find(Get(c, CivilDay(2026, 3, 21)), kDueTest);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->due, CivilDay(2026, 5, 14));
  EXPECT_FALSE(next->open);
  // A period that ended without a test is a gap.
  EXPECT_EQ(Get(c, CivilDay(2026, 5, 15)).schedule_gaps, 1);
}

TEST_F(EngineTest, TestScheduleFromLeapDay) {
  std::string c = Reported(1, CivilDay(2024, 2, 29));
  std::optional<DueItem> t = Find(Get(c, CivilDay(2024, 3, 1)), kDueTest);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->due, CivilDay(2024, 3, 28));
}

TEST_F(EngineTest, TestDatesAreCheckedAgainstHistory) {
  std::string c = Case(1);
  ASSERT_TRUE(OpenOrder(c, CivilDay(2026, 1, 10)).ok());
  // No test before reporting.
  EXPECT_EQ(Test(c, CivilDay(2026, 1, 12), TestResult::kNegative).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Report(c, CivilDay(2026, 1, 15), CivilDay(2026, 1, 15)).ok());
  EXPECT_EQ(Test(c, CivilDay(2026, 1, 14), TestResult::kNegative, nullptr, CivilDay(2026, 1, 20))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Test(c, CivilDay(2026, 1, 21), TestResult::kNegative, nullptr, CivilDay(2026, 1, 20))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Test(c, CivilDay(2026, 1, 15), TestResult::kNegative).ok());
}

TEST_F(EngineTest, RecordTestAnswersWhatAFreshReadShows) {
  // RecordTest builds its answer from the order it loaded plus the new test; a
  // fresh read must show the same, whatever the order the tests arrive in.
  std::string c = Reported(1, CivilDay(2026, 1, 10));
  const CivilDay today(2026, 3, 20);
  const std::pair<CivilDay, TestResult> tests[] = {
      {CivilDay(2026, 2, 20), TestResult::kNegative}, {CivilDay(2026, 1, 20), TestResult::kRefused},
      {CivilDay(2026, 2, 20), TestResult::kMissed},   {CivilDay(2026, 3, 1), TestResult::kPositive},
      {CivilDay(2026, 1, 12), TestResult::kRefused},  {CivilDay(2026, 3, 19), TestResult::kRefused},
  };
  for (const auto& [on, result] : tests) {
    absl::StatusOr<WriteResult> w = Test(c, on, result, nullptr, today);
    ASSERT_TRUE(w.ok()) << w.status();
    Order fresh = Get(c, today);
    const Order& o = w->order;
    ASSERT_EQ(o.tests.size(), fresh.tests.size());
    for (size_t i = 0; i < o.tests.size(); ++i) {
      EXPECT_EQ(o.tests[i].test_id, fresh.tests[i].test_id) << i;
      EXPECT_EQ(o.tests[i].tested_on, fresh.tests[i].tested_on) << i;
      EXPECT_EQ(o.tests[i].result, fresh.tests[i].result) << i;
    }
    EXPECT_EQ(o.state, fresh.state);
    EXPECT_EQ(o.state_since, fresh.state_since);
    EXPECT_EQ(o.evaded_or_refused_tests, fresh.evaded_or_refused_tests);
    EXPECT_EQ(o.schedule_gaps, fresh.schedule_gaps);
    ASSERT_EQ(o.due.size(), fresh.due.size());
    for (size_t i = 0; i < o.due.size(); ++i) {
      EXPECT_EQ(o.due[i].key, fresh.due[i].key) << i;
      EXPECT_EQ(o.due[i].due, fresh.due[i].due) << i;
    }
    EXPECT_EQ(w->status.state, fresh.state);
  }
  EXPECT_EQ(Get(c, today).evaded_or_refused_tests, 3);
}

TEST_F(EngineTest, SeriousViolationAtThreeRefusedOrEvadedTests) {
  // Art 20: 3 or more evaded or refused tests; a missed test counts only once confirmed.
  struct Row {
    std::vector<TestResult> results;
    int confirm_missed;  // how many missed tests a caseworker confirms as evaded
    int count;
    bool alert;
  };
  const Row rows[] = {
      {{TestResult::kRefused, TestResult::kRefused}, 0, 2, false},
      {{TestResult::kRefused, TestResult::kRefused, TestResult::kRefused}, 0, 3, true},
      {{TestResult::kRefused, TestResult::kRefused, TestResult::kMissed}, 0, 2, false},
      {{TestResult::kRefused, TestResult::kRefused, TestResult::kMissed}, 1, 3, true},
      {{TestResult::kMissed, TestResult::kMissed, TestResult::kMissed, TestResult::kNegative}, 2, 2,
       false},
  };
  int seq = 0;
  for (const Row& row : rows) {
    std::string c = Reported(++seq, CivilDay(2026, 1, 10));
    CivilDay day(2026, 1, 10);
    std::vector<int64_t> missed;
    for (TestResult r : row.results) {
      day += 7;
      int64_t id = 0;
      ASSERT_TRUE(Test(c, day, r, &id).ok());
      if (r == TestResult::kMissed) missed.push_back(id);
    }
    for (int i = 0; i < row.confirm_missed; ++i) {
      ASSERT_TRUE(W([&](Transaction& tx) {
                    return engine_->ConfirmMissedTest(tx, cw_, c, missed[i], true, day, At(day));
                  }).ok());
    }
    Order o = Get(c, day);
    EXPECT_EQ(o.evaded_or_refused_tests, row.count) << seq;
    std::optional<DueItem> alert = Find(o, kDueSeriousViolation);
    EXPECT_EQ(alert .has_value(), row.alert) << seq;
    if (alert .has_value()) {
      EXPECT_EQ(alert->key, "SERIOUS_VIOLATION_REPORT:TESTS");
      EXPECT_EQ(alert->due, day + 1);
    }
    // Unconfirmed missed tests wait for review.
    EXPECT_EQ(Find(o, kDueMissedTestReview) .has_value(),
              static_cast<int>(missed.size()) > row.confirm_missed)
        << seq;
  }
}

TEST_F(EngineTest, ExcusedMissedTestIsNotEvasion) {
  std::string c = Reported(1, CivilDay(2026, 1, 10));
  int64_t id = 0;
  ASSERT_TRUE(Test(c, CivilDay(2026, 1, 20), TestResult::kMissed, &id).ok());
  auto r = W([&](Transaction& tx) {
    return engine_->ConfirmMissedTest(tx, cw_, c, id, false, CivilDay(2026, 1, 21),
                                      At(CivilDay(2026, 1, 21)));
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->order.evaded_or_refused_tests, 0);
  EXPECT_FALSE(Find(r->order, kDueMissedTestReview).has_value());
  EXPECT_EQ(W([&](Transaction& tx) {
              return engine_->ConfirmMissedTest(tx, cw_, c, id, true, CivilDay(2026, 1, 21),
                                                At(CivilDay(2026, 1, 21)));
            }).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(EngineTest, PositiveTestRaisesAnAlertAndARegistryEvent) {
  std::string c = Reported(1, CivilDay(2026, 1, 10));
  int64_t id = 0;
  auto r = Test(c, CivilDay(2026, 1, 20), TestResult::kPositive, &id);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].kind, RegistryEvent::Kind::kPositiveTest);
  EXPECT_EQ(r->events[0].occurred_on, CivilDay(2026, 1, 20));
  EXPECT_EQ(r->events[0].source_event_id, absl::StrCat("sd-test-", id));
  std::optional<DueItem> alert = Find(r->order, kDuePositiveTest);
  ASSERT_TRUE(alert.has_value());
  // Reported to police (Art 21): the alert is acknowledged.
  auto ack = W([&](Transaction& tx) {
    return engine_->RecordPoliceReport(tx, cw_, c, alert->key, CivilDay(2026, 1, 20),
                                       At(CivilDay(2026, 1, 20)));
  });
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_FALSE(Find(ack->order, kDuePositiveTest).has_value());
  EXPECT_EQ(W([&](Transaction& tx) {
              return engine_->RecordPoliceReport(tx, cw_, c, "TEST:2026-01-10",
                                                 CivilDay(2026, 1, 20), At(CivilDay(2026, 1, 20)));
            }).status().code(),
            absl::StatusCode::kNotFound);
}

// ---- leave and absence (Art 19, 20) ----

TEST_F(EngineTest, LeaveOfThreeDaysNeedsAWrittenReportFirst) {
  std::string c = Reported(1, CivilDay(2026, 1, 10));
  struct Row {
    CivilDay reported, start, end;
    absl::StatusCode code;
  };
  const Row rows[] = {
      {CivilDay(2026, 2, 1), CivilDay(2026, 2, 2), CivilDay(2026, 2, 4), absl::StatusCode::kOk},
      {CivilDay(2026, 2, 3), CivilDay(2026, 2, 2), CivilDay(2026, 2, 4),
       absl::StatusCode::kFailedPrecondition},
      {CivilDay(2026, 2, 3), CivilDay(2026, 2, 2), CivilDay(2026, 2, 3), absl::StatusCode::kOk},
      {CivilDay(2026, 2, 1), CivilDay(2026, 2, 4), CivilDay(2026, 2, 2),
       absl::StatusCode::kInvalidArgument},
  };
  for (const Row& row : rows) {
    LeaveInput in{row.reported, row.start, row.end, "530102"};
    EXPECT_EQ(W([&](Transaction& tx) {
                return engine_->RecordLeave(tx, cw_, c, in, At(CivilDay(2026, 2, 3)));
              }).status().code(),
              row.code)
        << row.start << ".." << row.end;
  }
  EXPECT_EQ(Get(c, CivilDay(2026, 2, 5)).leaves.size(), 2u);
}

TEST_F(EngineTest, DaysAwayCountAcrossAbsences) {
  // Art 20: more than 30 days away in total; 30 is not a violation, 31 is.
  struct Row {
    int first_days, second_days;
    int64_t total;
    bool alert;
  };
  const Row rows[] = {{10, 20, 30, false}, {10, 21, 31, true}, {0, 31, 31, true}};
  int seq = 0;
  for (const Row& row : rows) {
    std::string c = Reported(++seq, CivilDay(2026, 1, 10));
    CivilDay left(2026, 2, 1);
    ASSERT_TRUE(Absent(c, left, left + row.first_days, CivilDay(2026, 6, 1)).ok());
    CivilDay left2(2026, 4, 1);
    ASSERT_TRUE(Absent(c, left2, left2 + row.second_days, CivilDay(2026, 6, 1)).ok());
    Order o = Get(c, CivilDay(2026, 6, 1));
    EXPECT_EQ(o.days_away, row.total);
    EXPECT_EQ(o.unauthorised_departures, 2);
    std::optional<DueItem> alert = Find(o, kDueSeriousViolation);
    EXPECT_EQ(alert .has_value(), row.alert) << seq;
    if (alert .has_value()) {
      EXPECT_EQ(alert->key, "SERIOUS_VIOLATION_REPORT:DAYS_AWAY");
      // The total first exceeds 30 on the 31st day away.
      EXPECT_EQ(alert->due, left2 + (31 - row.first_days) + 1);
    }
  }
}

TEST_F(EngineTest, OpenAbsenceGrowsWithTime) {
  std::string c = Reported(1, CivilDay(2026, 1, 10));
  auto r = Absent(c, CivilDay(2026, 3, 1), std::nullopt, CivilDay(2026, 3, 5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Get(c, CivilDay(2026, 3, 31)).days_away, 30);
  EXPECT_FALSE(Find(Get(c, CivilDay(2026, 3, 31)), kDueSeriousViolation).has_value());
  EXPECT_TRUE(Find(Get(c, CivilDay(2026, 4, 1)), kDueSeriousViolation).has_value());
  // Overlapping absences are refused; the return closes it.
  EXPECT_EQ(Absent(c, CivilDay(2026, 3, 3), CivilDay(2026, 3, 4), CivilDay(2026, 3, 5))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto back = W([&](Transaction& tx) {
    return engine_->RecordReturn(tx, cw_, c, r->order.absences[0].absence_id,
                                 CivilDay(2026, 3, 10), At(CivilDay(2026, 3, 10)));
  });
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Get(c, CivilDay(2026, 6, 1)).days_away, 9);
}

TEST_F(EngineTest, ThreeUnauthorisedDeparturesAreASeriousViolation) {
  std::string c = Reported(1, CivilDay(2026, 1, 10));
  ASSERT_TRUE(Absent(c, CivilDay(2026, 2, 1), CivilDay(2026, 2, 2), CivilDay(2026, 6, 1)).ok());
  ASSERT_TRUE(Absent(c, CivilDay(2026, 3, 1), CivilDay(2026, 3, 2), CivilDay(2026, 6, 1)).ok());
  EXPECT_FALSE(Find(Get(c, CivilDay(2026, 6, 1)), kDueSeriousViolation).has_value());
  ASSERT_TRUE(Absent(c, CivilDay(2026, 4, 1), CivilDay(2026, 4, 2), CivilDay(2026, 6, 1)).ok());
  std::optional<DueItem> alert = Find(Get(c, CivilDay(2026, 6, 1)), kDueSeriousViolation);
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->key, "SERIOUS_VIOLATION_REPORT:DEPARTURES");
  EXPECT_EQ(alert->due, CivilDay(2026, 4, 2));
  EXPECT_TRUE(alert->overdue);
}

// ---- termination and discharge ----

TEST_F(EngineTest, DischargeOnlyFromThePoliceNoticeAtTermEnd) {
  std::string c = Reported(1, CivilDay(2026, 2, 1));
  auto early = W([&](Transaction& tx) {
    return engine_->RecordDischarge(tx, police_, c, "N-1", CivilDay(2029, 1, 30),
                                    At(CivilDay(2029, 1, 30)));
  });
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  // The term's last day is still served (戒毒条例 Art 23, 40): discharge from the day after.
  auto last_day = W([&](Transaction& tx) {
    return engine_->RecordDischarge(tx, police_, c, "N-1", CivilDay(2029, 1, 31),
                                    At(CivilDay(2029, 1, 31)));
  });
  EXPECT_EQ(last_day.status().code(), absl::StatusCode::kFailedPrecondition);
  auto ok = W([&](Transaction& tx) {
    return engine_->RecordDischarge(tx, police_, c, "N-1", CivilDay(2029, 2, 1),
                                    At(CivilDay(2029, 2, 3)));
  });
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->order.state, kStateDischarged);
  EXPECT_EQ(ok->status.state, "DISCHARGED");
  EXPECT_TRUE(ok->status.deadline_kind.empty());
  ASSERT_EQ(ok->events.size(), 1u);
  EXPECT_EQ(ok->events[0].kind, RegistryEvent::Kind::kMeasureEnded);
  EXPECT_EQ(Report(c, CivilDay(2029, 2, 3), CivilDay(2029, 2, 3)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A new order may follow once the old one is closed.
  EXPECT_TRUE(OpenOrder(c, CivilDay(2029, 3, 1)).ok());
}

// 戒毒条例 Art 31: a conversion from isolation opens SD with the days served credited:
// the term still runs from the report date (Art 14) and ends that many days earlier;
// a repeat of the same decision is answered unchanged; only SD takes a credit.
TEST_F(EngineTest, ConversionCreditShortensTheTermFromTheReportDate) {
  const Caller service = MakeCaller(Role::kService, "*", "svc-compulsory_isolation");
  OpenOrderInput in;
  in.case_id = Case(60);
  in.division = "520102";
  in.place = "520102";
  in.decision_number = "TEST-CONVERSION-1";
  in.decision_date = CivilDay(2026, 7, 5);
  in.received_on = CivilDay(2026, 7, 5);
  in.credited_days = 112;
  bool opened = false;
  auto open = [&](const OpenOrderInput& input) {
    return W([&](Transaction& tx) {
      return engine_->OpenFromConversion(tx, service, input, At(CivilDay(2026, 7, 5)), &opened);
    });
  };
  absl::StatusOr<WriteResult> r = open(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(opened);
  EXPECT_EQ(r->order.credited_days, 112);
  EXPECT_EQ(r->order.state, kStateAwaitingReport);
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].occurred_on, CivilDay(2026, 7, 5));  // the isolation's last day
  r = open(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(opened) << "the same decision is answered as it stands";
  r = Report(in.case_id, CivilDay(2026, 7, 10), CivilDay(2026, 7, 10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->order.term_last_day, CivilDay(2029, 7, 9) - 112);
  // The credit never runs the term out before the report day.
  in.case_id = Case(61);
  in.credited_days = kMaxCreditedDays;
  ASSERT_TRUE(open(in).ok());
  r = Report(in.case_id, CivilDay(2026, 7, 10), CivilDay(2026, 7, 10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->order.term_last_day, CivilDay(2026, 7, 10));
  in.case_id = Case(62);
  in.credited_days = -1;
  EXPECT_EQ(open(in).status().code(), absl::StatusCode::kInvalidArgument);
  in.credited_days = kMaxCreditedDays + 1;
  EXPECT_EQ(open(in).status().code(), absl::StatusCode::kInvalidArgument);
  // Community rehabilitation is never a conversion's target, and takes no credit.
  Open(CommunityRehabPolicy());
  in.credited_days = 0;
  in.term_months = 12;
  EXPECT_EQ(open(in).status().code(), absl::StatusCode::kInvalidArgument);
  in.credited_days = 10;
  EXPECT_EQ(OpenOrder(Case(63), CivilDay(2026, 7, 5), 12).status().code(),
            absl::StatusCode::kOk);
  EXPECT_EQ(W([&](Transaction& tx) {
              return engine_->OpenOrder(tx, police_, in, At(CivilDay(2026, 7, 5)));
            }).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, TerminationClosesTheOrder) {
  std::string c = Reported(1, CivilDay(2026, 2, 1));
  auto r = W([&](Transaction& tx) {
    return engine_->Terminate(tx, police_, c, TerminationReason::kIsolation, "QZ-1",
                              CivilDay(2026, 5, 1), At(CivilDay(2026, 5, 2)));
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->order.state, kStateTerminated);
  EXPECT_EQ(r->order.close_reason, "ISOLATION");
  EXPECT_TRUE(r->order.due.empty());
  EXPECT_EQ(r->status.began, CivilDay(2026, 5, 1));
}

// ---- ListDue, status ----

TEST_F(EngineTest, ListDueIsSortedPagedAndScoped) {
  // Three orders in 520102 and one in 520103, received on different days.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(OpenOrder(Case(i + 1), CivilDay(2026, 1, 10 - i)).ok());
  OpenOrderInput in;
  in.case_id = Case(9);
  in.division = "520103";
  in.place = "p";
  in.decision_number = "n";
  in.decision_date = in.received_on = CivilDay(2026, 1, 1);
  ASSERT_TRUE(W([&](Transaction& tx) {
                return engine_->OpenOrder(tx, police_, in, At(CivilDay(2026, 1, 1)));
              }).ok());
  std::vector<DueItem> all;
  std::string token;
  int pages = 0;
  do {
    ListDueQuery q;
    q.as_of = CivilDay(2026, 1, 24);
    q.page_size = 1;
    q.page_token = token;
    DuePage page;
    ASSERT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
                  auto p = engine_->ListDue(tx, cw_, q);
                  if (!p.ok()) return p.status();
                  page = *std::move(p);
                  return absl::OkStatus();
                }).ok());
    for (DueItem& d : page.items) all.push_back(d);
    // Every page carries the exact total of all pages; 520103's items are not in it.
    EXPECT_EQ(page.total_size, 4);
    token = page.next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  // 520103 is outside the caseworker's county. Case 3's window closed on 23 Jan, so
  // its no-show is deemed refusal, to be reported to police by 25 Jan.
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].case_id, Case(3));
  EXPECT_EQ(all[0].kind, kDueReport);
  EXPECT_EQ(all[0].due, CivilDay(2026, 1, 23));
  EXPECT_TRUE(all[0].overdue);
  EXPECT_EQ(all[1].case_id, Case(2));
  EXPECT_EQ(all[1].due, CivilDay(2026, 1, 24));
  EXPECT_FALSE(all[1].overdue);
  EXPECT_EQ(all[2].case_id, Case(1));
  EXPECT_EQ(all[2].due, CivilDay(2026, 1, 25));
  EXPECT_EQ(all[3].case_id, Case(3));
  EXPECT_EQ(all[3].kind, kDueNoShowRefusal);
  EXPECT_EQ(pages, 4);
  // A bad token is INVALID_ARGUMENT.
  ListDueQuery bad;
  bad.as_of = CivilDay(2026, 1, 24);
  bad.page_token = "!!";
  EXPECT_EQ(store_->Read([&](ReadTransaction& tx) { return engine_->ListDue(tx, cw_, bad).status(); })
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, StatusIsSavedWithEveryChangeAndRefreshedOnExpiry) {
  std::string c = Reported(1, CivilDay(2026, 2, 1));
  std::optional<ProgramStatusRecord> stored;
  auto load = [&]() {
    ASSERT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
                  auto s = LoadProgramStatus(tx, c);
                  if (!s.ok()) return s.status();
                  stored = *s;
                  return absl::OkStatus();
                }).ok());
  };
  load();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->state, "ACTIVE");
  EXPECT_EQ(stored->version, 2);
  EXPECT_EQ(stored->began, CivilDay(2026, 2, 1));
  EXPECT_EQ(stored->deadline_kind, "AGREEMENT");
  // Time passes without a write: RefreshStatuses records the expiry.
  std::vector<ProgramStatusRecord> changed;
  ASSERT_TRUE(store_->Write([&](Transaction& tx) -> absl::Status {
                auto r = engine_->RefreshStatuses(tx, police_, At(CivilDay(2029, 2, 1)));
                if (!r.ok()) return r.status();
                changed = *r;
                return absl::OkStatus();
              }).ok());
  ASSERT_EQ(changed.size(), 1u);
  load();
  EXPECT_EQ(stored->state, "EXPIRED_AWAITING_DISCHARGE");
  EXPECT_EQ(stored->deadline_kind, "AGREEMENT");  // still unsigned: the earliest item
  // A second refresh changes nothing.
  ASSERT_TRUE(store_->Write([&](Transaction& tx) -> absl::Status {
                auto r = engine_->RefreshStatuses(tx, police_, At(CivilDay(2029, 2, 1)));
                if (!r.ok()) return r.status();
                changed = *r;
                return absl::OkStatus();
              }).ok());
  EXPECT_TRUE(changed.empty());
}

TEST_F(EngineTest, ListOrdersPagesWithinTheJurisdiction) {
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(OpenOrder(Case(i), CivilDay(2026, 1, 10)).ok());
  ASSERT_TRUE(W([&](Transaction& tx) {
                return engine_->Terminate(tx, police_, Case(2), TerminationReason::kImprisonment,
                                          "J-1", CivilDay(2026, 1, 12), At(CivilDay(2026, 1, 12)));
              }).ok());
  auto list = [&](const Caller& caller, OrderFilter f) {
    OrderPage page;
    EXPECT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
                  auto p = engine_->ListOrders(tx, caller, f, CivilDay(2026, 1, 12));
                  if (!p.ok()) return p.status();
                  page = *std::move(p);
                  return absl::OkStatus();
                }).ok());
    return page;
  };
  // An order of another county, which no count of 520102 includes.
  OpenOrderInput far;
  far.case_id = Case(9);
  far.division = "520103";
  far.place = "p";
  far.decision_number = "n";
  far.decision_date = far.received_on = CivilDay(2026, 1, 10);
  ASSERT_TRUE(W([&](Transaction& tx) {
                return engine_->OpenOrder(tx, police_, far, At(CivilDay(2026, 1, 10)));
              }).ok());
  OrderFilter f;
  f.page_size = 1;
  OrderPage first = list(cw_, f);
  // The open orders of the county over all pages (a bound: the state filter comes after).
  EXPECT_EQ(first.total_bound, 2);
  ASSERT_EQ(first.orders.size(), 1u);
  EXPECT_EQ(first.orders[0].case_id, Case(1));
  ASSERT_FALSE(first.next_page_token.empty());
  f.page_token = first.next_page_token;
  OrderPage second = list(cw_, f);
  ASSERT_EQ(second.orders.size(), 1u);
  EXPECT_EQ(second.orders[0].case_id, Case(3));  // the closed order is left out
  EXPECT_TRUE(second.next_page_token.empty());
  EXPECT_EQ(second.total_bound, 2);
  // With a state filter the count stays the county's orders: an upper bound.
  OrderFilter terminated_only = f;
  terminated_only.page_token.clear();
  terminated_only.include_closed = true;
  terminated_only.state = kStateTerminated;
  EXPECT_EQ(list(cw_, terminated_only).total_bound, 3);
  EXPECT_EQ(list(MakeCaller(Role::kCaseworker, "*", "cw-n"), OrderFilter{}).total_bound, 3);
  OrderFilter closed;
  closed.include_closed = true;
  closed.state = kStateTerminated;
  OrderPage terminated = list(cw_, closed);
  ASSERT_EQ(terminated.orders.size(), 1u);
  EXPECT_EQ(terminated.orders[0].close_reason, "IMPRISONMENT");
  EXPECT_TRUE(list(MakeCaller(Role::kCaseworker, "530102", "cw-9"), OrderFilter{}).orders.empty());
}

}  // namespace
}  // namespace pathway::supervision
