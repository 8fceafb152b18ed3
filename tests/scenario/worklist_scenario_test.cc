// A township caseworker's day across the five real services (in process, real gRPC,
// a real redis-server, real databases): cases in two townships of one county with
// items due in every programme; each township's worklist holds exactly its items, in
// due-date order, with the right totals, and the same answer comes with the Redis
// cache warm, flushed and stopped, as does ListCases filtered by programme state.
#include <cstdlib>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/codec/date_text.h"
#include "common/codec/proto_date.h"
#include "services/placement/credit_code.h"
#include "tests/scenario/pathway_stack.h"

namespace pathway {
namespace {

using common::v1::Program;
using test::D;

class WorklistScenarioTest : public test::PathwayStackTest {
 protected:
  std::string RegisterIn(const std::string& township, int seq) {
    registry::v1::RegisterPersonRequest r;
    r.set_resident_id_number(
        GenerateSyntheticResidentId("520102", absl::CivilDay(1991, 5, 9), seq));
    r.set_name("工作清单测试");
    r.set_household_division("520102");
    r.add_drug_types("methamphetamine");
    *r.mutable_found_on() = D(2026, 1, 5);
    r.set_township(township);
    registry::v1::Case c;
    grpc::Status s = registry_stub_->RegisterPerson(Ctx(Role::kPolice).get(), r, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c.case_id();
  }

  std::unique_ptr<grpc::ClientContext> As(Role role, const std::string& jurisdiction,
                                          const std::string& subject) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    PrepareBearerContext(ctx.get(), Token(role, jurisdiction, subject), absl::Seconds(20));
    return ctx;
  }

  // The whole worklist of a caller, page by page, as (case, program, key, due) with
  // the total the first page announced.
  using Entry = std::tuple<std::string, int, std::string, std::string>;
  std::vector<Entry> Worklist(Role role, const std::string& jurisdiction,
                              const std::string& subject, int64_t* total) {
    std::vector<Entry> out;
    registry::v1::GetWorklistRequest req;
    req.mutable_page()->set_page_size(2);
    for (int pages = 0; pages < 50; ++pages) {
      registry::v1::GetWorklistResponse page;
      grpc::Status s = registry_stub_->GetWorklist(As(role, jurisdiction, subject).get(), req, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      if (pages == 0) *total = page.page().total_size();
      for (const auto& i : page.items()) {
        out.emplace_back(i.case_id(), i.program(), i.item().key(),
                         DayText(DayOf(i.item().due())));
      }
      if (page.page().next_page_token().empty()) break;
      req.mutable_page()->set_page_token(page.page().next_page_token());
    }
    return out;
  }

  std::vector<std::string> ListByState(Program program, const std::string& state) {
    registry::v1::ListCasesRequest req;
    req.set_program(program);
    req.set_program_state(state);
    registry::v1::ListCasesResponse resp;
    grpc::Status s = registry_stub_->ListCases(Ctx(Role::kCaseworker).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const auto& c : resp.cases()) ids.push_back(c.case_id());
    return ids;
  }
};

TEST_F(WorklistScenarioTest, EachTownshipsWorklistIsItsOwnWithTheCacheWarmFlushedOrDown) {
  const std::string a_detox = RegisterIn("520102003", 201);
  const std::string a_isolation = RegisterIn("520102003", 203);
  const std::string b_rehab = RegisterIn("520102004", 205);
  Today(2026, 1, 10);

  // Township A: a community detox order awaiting its report; an isolation decision.
  detox::v1::OpenOrderRequest sd;
  sd.set_case_id(a_detox);
  sd.set_division("520102");
  sd.set_place("520102003");
  sd.set_decision_number("WL-SD-1");
  *sd.mutable_decision_date() = D(2026, 1, 8);
  *sd.mutable_received_on() = D(2026, 1, 10);
  detox::v1::Order order;
  ASSERT_TRUE(detox_stub_->OpenOrder(Ctx(Role::kPolice).get(), sd, &order).ok());
  isolation::v1::DecideRequest qz;
  qz.set_case_id(a_isolation);
  qz.set_decision_number("WL-QZ-1");
  qz.set_deciding_division("520102");
  *qz.mutable_decided_on() = D(2026, 1, 10);
  *qz.mutable_served_on() = D(2026, 1, 10);
  qz.set_ground(isolation::v1::GROUND_REFUSED_COMMUNITY_DETOX);
  isolation::v1::Decision decision;
  grpc::Status s = isolation_stub_->Decide(Ctx(Role::kPolice).get(), qz, &decision);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // Township B: community rehabilitation, reported; then a Sunshine placement.
  rehab::v1::OpenOrderRequest sk;
  sk.set_case_id(b_rehab);
  sk.set_division("520102");
  sk.set_place("520102004");
  sk.set_decision_number("WL-SK-1");
  *sk.mutable_decision_date() = D(2026, 1, 8);
  *sk.mutable_received_on() = D(2026, 1, 10);
  sk.set_term_months(12);
  rehab::v1::Order rehab_order;
  s = rehab_stub_->OpenOrder(Ctx(Role::kPolice).get(), sk, &rehab_order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  rehab::v1::RecordReportRequest report;
  report.set_case_id(b_rehab);
  *report.mutable_reported_on() = D(2026, 1, 10);
  s = rehab_stub_->RecordReport(Ctx(Role::kCaseworker).get(), report, &rehab_order);
  ASSERT_TRUE(s.ok()) << s.error_message();

  auto placement = placement::v1::Placement::NewStub(Channel(4));
  const std::string credit = placement::GenerateSyntheticCreditCode("520102", 9);
  placement::v1::UpsertEmployerRequest employer;
  employer.mutable_employer()->set_credit_code(credit);
  employer.mutable_employer()->set_name("Synthetic Sunshine enterprise");
  employer.mutable_employer()->set_kind(placement::v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  employer.mutable_employer()->set_division("520102");
  employer.mutable_employer()->set_capacity(20);
  employer.mutable_employer()->set_contact_name("Contact");
  placement::v1::Employer e;
  s = placement->UpsertEmployer(Ctx(Role::kCaseworker).get(), employer, &e);
  ASSERT_TRUE(s.ok()) << s.error_message();
  placement::v1::RegisterSeekerRequest seeker_req;
  seeker_req.set_case_id(b_rehab);
  seeker_req.set_division("520102");
  *seeker_req.mutable_consent()->mutable_given_on() = D(2026, 1, 10);
  seeker_req.mutable_consent()->add_scopes(placement::v1::CONSENT_SCOPE_PLACEMENT);
  placement::v1::Seeker seeker;
  s = placement->RegisterSeeker(Ctx(Role::kCaseworker).get(), seeker_req, &seeker);
  ASSERT_TRUE(s.ok()) << s.error_message();
  placement::v1::CreatePlacementRequest place;
  place.set_case_id(b_rehab);
  place.set_employer_credit_code(credit);
  place.set_mode(placement::v1::PLACEMENT_MODE_CONCENTRATED);
  *place.mutable_contract_start() = D(2026, 1, 10);
  *place.mutable_contract_end() = D(2027, 1, 9);
  placement::v1::PlacementRecord p;
  s = placement->CreatePlacement(Ctx(Role::kCaseworker).get(), place, &p);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // Ten days on, the first retention check (a month after the contract began) is
  // inside the worklist's 30-day horizon. What each programme service says is due,
  // from its own records: the worklists must hold exactly these, split by township
  // and role.
  Today(2026, 1, 20);
  detox::v1::ListDueRequest sd_due_req;
  detox::v1::ListDueResponse sd_due;
  ASSERT_TRUE(detox_stub_->ListDue(Ctx(Role::kPolice).get(), sd_due_req, &sd_due).ok());
  ASSERT_GE(sd_due.items_size(), 1);
  rehab::v1::ListDueRequest sk_due_req;
  rehab::v1::ListDueResponse sk_due;
  ASSERT_TRUE(rehab_stub_->ListDue(Ctx(Role::kPolice).get(), sk_due_req, &sk_due).ok());
  isolation::v1::ListDueRequest qz_due_req;
  isolation::v1::ListDueResponse qz_due;
  ASSERT_TRUE(isolation_stub_->ListDue(Ctx(Role::kPolice).get(), qz_due_req, &qz_due).ok());
  ASSERT_GE(qz_due.items_size(), 1);
  placement::v1::ListDueRetentionChecksRequest pl_due_req;
  *pl_due_req.mutable_as_of() = D(2026, 2, 10);
  placement::v1::ListDueRetentionChecksResponse pl_due;
  ASSERT_TRUE(
      placement->ListDueRetentionChecks(Ctx(Role::kCaseworker).get(), pl_due_req, &pl_due).ok());
  ASSERT_EQ(pl_due.checks_size(), 1);

  std::multiset<std::string> want_a_caseworker, want_a_police, want_b;
  for (const auto& i : sd_due.items()) {
    want_a_caseworker.insert(a_detox + "/SD/" + i.alert().kind());
    want_a_police.insert(a_detox + "/SD/" + i.alert().kind());
  }
  for (const auto& i : qz_due.items()) {
    want_a_police.insert(a_isolation + "/QZ/" + i.kind());
  }
  for (const auto& i : sk_due.items()) want_b.insert(b_rehab + "/SK/" + i.alert().kind());
  want_b.insert(b_rehab + "/PL/RETENTION_CHECK");

  // The worklist's view in the same shape, with its order and totals checked.
  auto kinds_of = [&](Role role, const std::string& township, const std::string& subject,
                      std::vector<Entry>* raw) {
    int64_t total = -1;
    *raw = Worklist(role, township, subject, &total);
    EXPECT_EQ(total, static_cast<int64_t>(raw->size()));
    for (size_t i = 1; i < raw->size(); ++i) {
      EXPECT_LE(std::get<3>((*raw)[i - 1]), std::get<3>((*raw)[i])) << "due-date order";
    }
    std::multiset<std::string> kinds;
    for (const Entry& entry : *raw) {
      const int program = std::get<1>(entry);
      const char* code = program == Program::PROGRAM_COMMUNITY_DETOX        ? "SD"
                         : program == Program::PROGRAM_COMMUNITY_REHAB      ? "SK"
                         : program == Program::PROGRAM_COMPULSORY_ISOLATION ? "QZ"
                                                                            : "PL";
      // Keys are "KIND" or "KIND:detail".
      std::string key = std::get<2>(entry);
      kinds.insert(std::get<0>(entry) + "/" + code + "/" + key.substr(0, key.find(':')));
    }
    return kinds;
  };
  std::vector<Entry> a_cw, a_police, b_cw;
  // The index is fed after each commit; wait for the last write to reach it.
  ASSERT_TRUE(Eventually([&] {
    return kinds_of(Role::kCaseworker, "520102004", "cw-b", &b_cw) == want_b;
  })) << "township B's worklist";
  ASSERT_TRUE(Eventually([&] {
    return kinds_of(Role::kPolice, "520102003", "police-a", &a_police) == want_a_police;
  })) << "township A's police worklist";
  EXPECT_EQ(kinds_of(Role::kCaseworker, "520102003", "cw-a", &a_cw), want_a_caseworker)
      << "a caseworker's list has no isolation items";
  const std::vector<std::string> active_rehab =
      ListByState(Program::PROGRAM_COMMUNITY_REHAB, "ACTIVE");
  EXPECT_EQ(active_rehab, std::vector<std::string>{b_rehab});
  EXPECT_EQ(ListByState(Program::PROGRAM_COMMUNITY_DETOX, "AWAITING_REPORT"),
            std::vector<std::string>{a_detox});

  // The same answers with the cache flushed, then with Redis stopped.
  auto same_answers = [&](const char* when) {
    std::vector<Entry> again;
    kinds_of(Role::kCaseworker, "520102003", "cw-a", &again);
    EXPECT_EQ(again, a_cw) << when;
    kinds_of(Role::kPolice, "520102003", "police-a", &again);
    EXPECT_EQ(again, a_police) << when;
    kinds_of(Role::kCaseworker, "520102004", "cw-b", &again);
    EXPECT_EQ(again, b_cw) << when;
    EXPECT_EQ(ListByState(Program::PROGRAM_COMMUNITY_REHAB, "ACTIVE"), active_rehab) << when;
    EXPECT_EQ(ListByState(Program::PROGRAM_COMMUNITY_DETOX, "AWAITING_REPORT"),
              std::vector<std::string>{a_detox})
        << when;
  };
  const std::string flush = absl::StrCat("redis-cli -p ", redis_->port(), " FLUSHALL > /dev/null");
  ASSERT_EQ(std::system(flush.c_str()), 0);
  same_answers("after FLUSHALL");
  ASSERT_TRUE(redis_->Stop().ok());
  same_answers("with Redis stopped");
}

}  // namespace
}  // namespace pathway
