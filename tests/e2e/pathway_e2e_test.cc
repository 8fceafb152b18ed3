// One synthetic person's whole pathway over the real binaries, real Redis and real
// databases (SQLite files, or PostgreSQL when the test run asks for it). The binaries run on the real clock, so every event carries an effective
// date in the past (DESIGN.md §3: caseworkers record after the fact), far enough
// back that the three-year abstinence milestone has passed by today:
//
//   registered -> SD ordered -> three refused tests -> serious-violation alert ->
//   isolation decided (SD closed by hand-off) -> early release after one year ->
//   SK opened by hand-off -> Sunshine placement with retention checkpoints ->
//   SK discharged -> three years later the case is sealed.
//
// At each step the registry's status view is checked. Then Redis is flushed and the
// reconciler restores every entry and reports what it repaired.
//
// Every port speaks mutual TLS, as in a deployment: each service presents its own
// certificate on its port and to its peers, and refuses a client without a
// certificate from the deployment's CA (made by deploy/local/dev-tls.sh); the test's
// own client, the reconciler and every hand-off between services go over it.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/ids/resident_id.h"
#include "common/store/testing_store.h"
#include "common/tls/tls.h"
#include "gtest/gtest.h"
#include "pathway/detox/v1/detox.grpc.pb.h"
#include "pathway/isolation/v1/isolation.grpc.pb.h"
#include "pathway/placement/v1/placement.grpc.pb.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "pathway/rehab/v1/rehab.grpc.pb.h"
#include "services/placement/credit_code.h"
#include "tests/system/child_process.h"
#include "tests/testing/dev_pki.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/redis_server.h"

namespace pathway {
namespace {

constexpr char kKey[] = "e2e-test-token-key-0123456789abcdefghijklmno";

using test::D;

std::string Token(Role role, const std::string& jurisdiction, const std::string& org = "") {
  Claims c;
  c.subject = absl::StrCat("e2e-", RoleName(role));
  c.role = role;
  c.jurisdiction = jurisdiction;
  c.organization = org;
  c.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  c.expires_at = c.issued_at + absl::Hours(1);
  return *(*TokenSigner::Create(kKey))->Sign(c);
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  PrepareBearerContext(ctx.get(), token, absl::Seconds(20));
  return ctx;
}

// Effects that travel through an outbox arrive a moment later: poll with a deadline.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

class PathwayE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = test::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    char tmpl[] = "/tmp/pathway-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/token.key") << kKey;
    std::ofstream(dir_ + "/pii.key") << "e2e-test-pii-key-0123456789abcdefghijklmnop";
    const char* names[] = {"registry", "community_detox", "compulsory_isolation",
                           "community_rehab", "placement"};
    const char* binaries[] = {PATHWAY_REGISTRY_BIN, PATHWAY_DETOX_BIN, PATHWAY_ISOLATION_BIN,
                              PATHWAY_REHAB_BIN, PATHWAY_PLACEMENT_BIN};
    for (int i = 0; i < 5; ++i) ports_.push_back(*test::PickUnusedLoopbackPort());
    std::vector<std::string> certificates(names, names + 5);
    certificates.push_back("client");
    auto pki = test::MakeDevPki(dir_ + "/tls", certificates);
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *pki;
    for (int i = 0; i < 5; ++i) {
      std::vector<std::string> argv = {
          binaries[i], absl::StrCat("--port=", ports_[i]), "--data_dir=" + dir_,
          "--database=" + TestDatabaseUriOrDie(names[i]),
          absl::StrCat("--redis_port=", redis_->port()), "--token_key_file=" + dir_ + "/token.key",
          "--drain_timeout_s=2", "--registry_addr=" + Addr(0), "--detox_addr=" + Addr(1),
          "--isolation_addr=" + Addr(2), "--rehab_addr=" + Addr(3), "--placement_addr=" + Addr(4)};
      if (i == 0) argv.push_back("--pii_key_file=" + dir_ + "/pii.key");
      for (const std::string& tls :
           {"--tls_cert_file=" + pki_.Cert(names[i]), "--tls_key_file=" + pki_.Key(names[i]),
            "--tls_ca_file=" + pki_.CaFile(), std::string("--tls_require_client_cert")}) {
        argv.push_back(tls);
      }
      auto p = test::ChildProcess::Start(argv);
      ASSERT_TRUE(p.ok()) << p.status();
      processes_.push_back(*std::move(p));
    }
    for (auto& p : processes_) {
      ASSERT_TRUE(p->WaitForOutput("event=server_started", absl::Seconds(60)).has_value())
          << p->Output();
    }
    TlsOptions client;
    client.ca_file = pki_.CaFile();
    client.cert_file = pki_.Cert("client");
    client.key_file = pki_.Key("client");
    auto security = MakeChannelSecurity(client);
    ASSERT_TRUE(security.ok()) << security.status();
    // Without a client certificate, or in plaintext, no server even answers.
    TlsOptions no_cert = client;
    no_cert.cert_file.clear();
    no_cert.key_file.clear();
    for (const ChannelSecurity& refused : {*MakeChannelSecurity(no_cert), PlaintextChannelSecurity()}) {
      for (int i = 0; i < 5; ++i) {
        auto stub = registry::v1::Registry::NewStub(SecureChannel(Addr(i), refused));
        registry::v1::GetCaseRequest req;
        req.set_case_id("520102-2026-0000001-9");
        registry::v1::Case c;
        EXPECT_EQ(stub->GetCase(Ctx(Token(Role::kAdmin, "*")).get(), req, &c).error_code(),
                  grpc::StatusCode::UNAVAILABLE);
      }
    }
    auto ch = [&](int i) { return SecureChannel(Addr(i), *security); };
    registry_ = registry::v1::Registry::NewStub(ch(0));
    detox_ = detox::v1::CommunityDetox::NewStub(ch(1));
    isolation_ = isolation::v1::CompulsoryIsolation::NewStub(ch(2));
    rehab_ = rehab::v1::CommunityRehab::NewStub(ch(3));
    placement_ = placement::v1::Placement::NewStub(ch(4));
  }

  void TearDown() override {
    for (auto& p : processes_) p->Signal(SIGTERM);
    for (auto& p : processes_) {
      int status = p->Wait(absl::Seconds(30));
      EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << p->Output();
    }
    processes_.clear();
    std::string cmd = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }

  std::string Addr(int i) const { return absl::StrCat("127.0.0.1:", ports_[i]); }

  // The registry's view of one programme ("" when absent), as `token` sees it.
  std::string View(common::v1::Program program, const std::string& token) {
    grpc::Status s;
    std::string state = TryView(program, token, &s);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return state;
  }
  // The same without asserting, for polling while a hand-off is in flight.
  std::string TryView(common::v1::Program program, const std::string& token,
                      grpc::Status* status) {
    registry::v1::GetCaseStatusRequest req;
    req.set_case_id(case_id_);
    registry::v1::CaseStatus st;
    *status = registry_->GetCaseStatus(Ctx(token).get(), req, &st);
    for (const auto& v : st.programs()) {
      if (v.status().program() == program) return v.status().state();
    }
    return "";
  }

  std::unique_ptr<test::RedisServer> redis_;
  std::string dir_;
  test::DevPki pki_;
  std::vector<int> ports_;
  std::vector<std::unique_ptr<test::ChildProcess>> processes_;
  std::unique_ptr<registry::v1::Registry::Stub> registry_;
  std::unique_ptr<detox::v1::CommunityDetox::Stub> detox_;
  std::unique_ptr<isolation::v1::CompulsoryIsolation::Stub> isolation_;
  std::unique_ptr<rehab::v1::CommunityRehab::Stub> rehab_;
  std::unique_ptr<placement::v1::Placement::Stub> placement_;
  std::string case_id_;
};

TEST_F(PathwayE2eTest, OnePersonsWholePathway) {
  const std::string police = Token(Role::kPolice, "520102");
  const std::string cw = Token(Role::kCaseworker, "520102");
  const std::string staff = Token(Role::kFacilityStaff, "52");
  const std::string admin = Token(Role::kAdmin, "*");

  // Registered by police (found 1 March 2019).
  registry::v1::RegisterPersonRequest reg;
  reg.set_resident_id_number(GenerateSyntheticResidentId("520102", absl::CivilDay(1989, 9, 9), 17));
  reg.set_name("端到端测试");
  reg.set_household_division("520102");
  reg.add_drug_types("methamphetamine");
  *reg.mutable_found_on() = D(2019, 3, 1);
  registry::v1::Case c;
  grpc::Status s = registry_->RegisterPerson(Ctx(police).get(), reg, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  case_id_ = c.case_id();

  // Community detox ordered; reported; agreement.
  detox::v1::OpenOrderRequest sd;
  sd.set_case_id(case_id_);
  sd.set_division("520102");
  sd.set_place("520102001");
  sd.set_decision_number("E2E-SD-1");
  *sd.mutable_decision_date() = D(2019, 3, 5);
  *sd.mutable_received_on() = D(2019, 3, 6);
  detox::v1::Order order;
  s = detox_->OpenOrder(Ctx(police).get(), sd, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // Found in 2019 with no measure on record, the person counts as abstinent three
  // years by today and the case is sealed from the caseworker (戒毒条例 Art 7) until
  // the order's "measure started" reaches the registry through the outbox.
  EXPECT_EQ(View(common::v1::PROGRAM_COMMUNITY_DETOX, police), "AWAITING_REPORT");
  ASSERT_TRUE(Eventually([&] {
    registry::v1::GetCaseStatusRequest req;
    req.set_case_id(case_id_);
    registry::v1::CaseStatus st;
    return registry_->GetCaseStatus(Ctx(cw).get(), req, &st).ok();
  }));
  detox::v1::RecordReportRequest report;
  report.set_case_id(case_id_);
  *report.mutable_reported_on() = D(2019, 3, 10);
  ASSERT_TRUE(detox_->RecordReport(Ctx(cw).get(), report, &order).ok());
  detox::v1::SignAgreementRequest agreement;
  agreement.set_case_id(case_id_);
  *agreement.mutable_signed_on() = D(2019, 3, 10);
  agreement.set_agreement_number("E2E-AGREEMENT-1");
  ASSERT_TRUE(detox_->SignAgreement(Ctx(cw).get(), agreement, &order).ok());
  // States are as of today: the 3-year term from 10 March 2019 ended in 2022 and
  // awaits the police discharge notice (戒毒条例 Art 23).
  EXPECT_EQ(order.term_last_day().year(), 2022);
  EXPECT_EQ(View(common::v1::PROGRAM_COMMUNITY_DETOX, cw), "EXPIRED_AWAITING_DISCHARGE");

  // Three refused tests: serious violation (戒毒条例 Art 20).
  for (int month : {4, 5, 6}) {
    detox::v1::RecordTestRequest test;
    test.set_case_id(case_id_);
    *test.mutable_tested_on() = D(2019, month, 10);
    test.set_specimen(detox::v1::SPECIMEN_URINE);
    test.set_result(detox::v1::TEST_RESULT_REFUSED);
    s = detox_->RecordTest(Ctx(cw).get(), test, &order);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(order.evaded_or_refused_tests(), 3);
  detox::v1::ListDueRequest due_req;
  due_req.set_kind("SERIOUS_VIOLATION_REPORT");
  *due_req.mutable_as_of() = D(2019, 6, 11);
  detox::v1::ListDueResponse due;
  ASSERT_TRUE(detox_->ListDue(Ctx(police).get(), due_req, &due).ok());
  ASSERT_EQ(due.items_size(), 1);
  EXPECT_EQ(due.items(0).alert().case_id(), case_id_);

  // Isolation decided: the SD order is closed by the hand-off.
  isolation::v1::DecideRequest decide;
  decide.set_case_id(case_id_);
  decide.set_decision_number("E2E-QZ-1");
  decide.set_deciding_division("520102");
  *decide.mutable_decided_on() = D(2019, 6, 20);
  *decide.mutable_served_on() = D(2019, 6, 20);
  decide.set_ground(isolation::v1::GROUND_SERIOUS_VIOLATION);
  isolation::v1::Decision d;
  s = isolation_->Decide(Ctx(police).get(), decide, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(View(common::v1::PROGRAM_COMPULSORY_ISOLATION, cw), "DECIDED");
  grpc::Status polled;
  EXPECT_TRUE(Eventually([&] {
    return TryView(common::v1::PROGRAM_COMMUNITY_DETOX, cw, &polled) == "TERMINATED";
  })) << View(common::v1::PROGRAM_COMMUNITY_DETOX, cw);

  isolation::v1::AdmitRequest admit;
  admit.set_case_id(case_id_);
  admit.set_facility_id("gy-police-1");
  *admit.mutable_admitted_on() = D(2019, 6, 21);
  s = isolation_->Admit(Ctx(staff).get(), admit, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // As of today the 2-year term (to June 2021) has less than a year left.
  EXPECT_EQ(View(common::v1::PROGRAM_COMPULSORY_ISOLATION, cw),
            "IN_POLICE_FACILITY_TRAINING_ELIGIBLE");

  // Early release: refused one day short of a year, approved after (禁毒法 Art 47).
  isolation::v1::RecordAssessmentRequest assess;
  assess.set_case_id(case_id_);
  assess.set_kind(isolation::v1::ASSESSMENT_KIND_ONE_YEAR);
  *assess.mutable_assessed_on() = D(2020, 6, 15);
  assess.set_physiological_detox(isolation::v1::GRADE_PASS);
  assess.set_physical_mental_recovery(isolation::v1::GRADE_PASS);
  assess.set_behaviour(isolation::v1::GRADE_PASS);
  assess.set_social_adaptability(isolation::v1::ADAPTABILITY_GOOD);
  s = isolation_->RecordAssessment(Ctx(staff).get(), assess, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  isolation::v1::ProposeEarlyReleaseRequest propose;
  propose.set_case_id(case_id_);
  *propose.mutable_proposed_on() = D(2020, 6, 19);
  *propose.mutable_release_on() = D(2020, 6, 28);
  propose.set_assessment_id(d.assessments(d.assessments_size() - 1).id());
  EXPECT_EQ(isolation_->ProposeEarlyRelease(Ctx(staff).get(), propose, &d).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  *propose.mutable_proposed_on() = D(2020, 6, 20);
  s = isolation_->ProposeEarlyRelease(Ctx(staff).get(), propose, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  isolation::v1::DecideProposalRequest approve;
  approve.set_case_id(case_id_);
  approve.set_proposal_id(d.proposals(0).id());
  approve.set_approve(true);
  *approve.mutable_decided_on() = D(2020, 6, 22);
  approve.set_decision_number("E2E-QZ-EARLY-1");
  s = isolation_->DecideProposal(Ctx(police).get(), approve, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  isolation::v1::RecordReleaseNoticeRequest notice;
  notice.set_case_id(case_id_);
  *notice.mutable_notified_on() = D(2020, 6, 25);
  ASSERT_TRUE(isolation_->RecordReleaseNotice(Ctx(staff).get(), notice, &d).ok());
  isolation::v1::ReleaseRequest release;
  release.set_case_id(case_id_);
  *release.mutable_released_on() = D(2020, 6, 28);
  release.set_release_certificate_number("E2E-RELEASE-1");
  release.mutable_community_rehab()->set_ordered(true);
  release.mutable_community_rehab()->set_term_months(12);
  release.mutable_community_rehab()->set_decision_number("E2E-SK-1");
  release.mutable_community_rehab()->set_division("520102");
  release.mutable_community_rehab()->set_place("520102001");
  s = isolation_->Release(Ctx(staff).get(), release, &d);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(View(common::v1::PROGRAM_COMPULSORY_ISOLATION, cw), "RELEASED");

  // SK opened by the hand-off (禁毒法 Art 48); reported.
  ASSERT_TRUE(Eventually([&] {
    return TryView(common::v1::PROGRAM_COMMUNITY_REHAB, cw, &polled) == "AWAITING_REPORT";
  }));
  rehab::v1::RecordReportRequest sk_report;
  sk_report.set_case_id(case_id_);
  *sk_report.mutable_reported_on() = D(2020, 7, 1);
  rehab::v1::Order sk;
  s = rehab_->RecordReport(Ctx(cw).get(), sk_report, &sk);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // The 12-month term from 1 July 2020 ended on 30 June 2021: awaiting the notice.
  EXPECT_EQ(View(common::v1::PROGRAM_COMMUNITY_REHAB, cw), "EXPIRED_AWAITING_DISCHARGE");

  // A Sunshine placement with its retention checkpoints.
  const std::string credit = placement::GenerateSyntheticCreditCode("520102", 7);
  placement::v1::UpsertEmployerRequest employer;
  employer.mutable_employer()->set_credit_code(credit);
  employer.mutable_employer()->set_name("Synthetic Sunshine enterprise");
  employer.mutable_employer()->set_kind(placement::v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  employer.mutable_employer()->set_division("520102");
  employer.mutable_employer()->set_capacity(20);
  employer.mutable_employer()->set_contact_name("Contact");
  placement::v1::Employer e;
  s = placement_->UpsertEmployer(Ctx(cw).get(), employer, &e);
  ASSERT_TRUE(s.ok()) << s.error_message();
  placement::v1::RegisterSeekerRequest seeker_req;
  seeker_req.set_case_id(case_id_);
  seeker_req.set_division("520102");
  *seeker_req.mutable_consent()->mutable_given_on() = D(2020, 7, 2);
  seeker_req.mutable_consent()->add_scopes(placement::v1::CONSENT_SCOPE_PLACEMENT);
  placement::v1::Seeker seeker;
  s = placement_->RegisterSeeker(Ctx(cw).get(), seeker_req, &seeker);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(seeker.eligibility(), placement::v1::ELIGIBILITY_PLACEMENT);
  placement::v1::CreatePlacementRequest place;
  place.set_case_id(case_id_);
  place.set_employer_credit_code(credit);
  place.set_mode(placement::v1::PLACEMENT_MODE_CONCENTRATED);
  *place.mutable_contract_start() = D(2020, 7, 10);
  *place.mutable_contract_end() = D(2021, 7, 9);
  placement::v1::PlacementRecord p;
  s = placement_->CreatePlacement(Ctx(cw).get(), place, &p);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(View(common::v1::PROGRAM_PLACEMENT, cw), "PLACED");
  struct Check {
    int months;
    common::v1::Date on;
  };
  for (const Check& ck : {Check{1, D(2020, 8, 10)}, Check{3, D(2020, 10, 10)},
                          Check{6, D(2021, 1, 10)}, Check{12, D(2021, 7, 10)}}) {
    placement::v1::RecordRetentionRequest rr;
    rr.set_placement_id(p.placement_id());
    rr.set_months(ck.months);
    rr.set_outcome(placement::v1::RETENTION_OUTCOME_STILL_EMPLOYED);
    *rr.mutable_checked_on() = ck.on;
    s = placement_->RecordRetention(Ctx(cw).get(), rr, &p);
    ASSERT_TRUE(s.ok()) << ck.months << ": " << s.error_message();
  }

  // SK discharged on the police notice after the term (戒毒条例 Art 40).
  rehab::v1::RecordDischargeRequest discharge;
  discharge.set_case_id(case_id_);
  discharge.set_notice_number("E2E-SK-DISCHARGE-1");
  *discharge.mutable_notice_date() = D(2021, 7, 5);
  s = rehab_->RecordDischarge(Ctx(police).get(), discharge, &sk);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(View(common::v1::PROGRAM_COMMUNITY_REHAB, police), "DISCHARGED");

  // Three years without relapse since the last measure ended (戒毒条例 Art 7): by
  // today the case is sealed. Police still see it; the caseworker no longer does.
  registry::v1::GetCaseRequest get;
  get.set_case_id(case_id_);
  ASSERT_TRUE(Eventually([&] {
    registry::v1::Case now;
    return registry_->GetCase(Ctx(police).get(), get, &now).ok() && now.sealed();
  }));
  registry::v1::Case sealed;
  ASSERT_TRUE(registry_->GetCase(Ctx(police).get(), get, &sealed).ok());
  EXPECT_EQ(sealed.abstinence_milestone().year(), 2024);
  EXPECT_EQ(registry_->GetCase(Ctx(cw).get(), get, &sealed).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Every status this case has reached the cache first: a status still waiting to
  // be published would be sent again by its service after the flush below, and the
  // reconciler would find nothing missing.
  registry::v1::GetCaseStatusRequest before_flush;
  before_flush.set_case_id(case_id_);
  ASSERT_TRUE(Eventually([&] {
    registry::v1::CaseStatus cached;
    if (!registry_->GetCaseStatus(Ctx(police).get(), before_flush, &cached).ok() ||
        cached.programs_size() != 4) {
      return false;
    }
    for (const auto& v : cached.programs()) {
      if (v.freshness() != common::v1::FRESHNESS_CACHE) return false;
    }
    return true;
  }));

  // Redis loses everything; the reconciler restores every entry and says so.
  std::string flush = absl::StrCat("redis-cli -p ", redis_->port(), " FLUSHALL > /dev/null");
  ASSERT_EQ(std::system(flush.c_str()), 0);
  auto reconcile = test::ChildProcess::Start(
      {PATHWAY_RECONCILE_BIN, "--token_key_file=" + dir_ + "/token.key",
       absl::StrCat("--redis_port=", redis_->port()), "--report_dir=" + dir_,
       "--detox_addr=" + Addr(1), "--isolation_addr=" + Addr(2), "--rehab_addr=" + Addr(3),
       "--placement_addr=" + Addr(4)},
      {"PATHWAY_TLS_CA_FILE=" + pki_.CaFile(), "PATHWAY_TLS_CERT_FILE=" + pki_.Cert("client"),
       "PATHWAY_TLS_KEY_FILE=" + pki_.Key("client")});
  ASSERT_TRUE(reconcile.ok());
  int status = (*reconcile)->Wait(absl::Seconds(120));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << (*reconcile)->Output();
  // The four programmes of this case were all missing and are all back.
  std::string out = (*reconcile)->Output();
  registry::v1::GetCaseStatusRequest sreq;
  sreq.set_case_id(case_id_);
  registry::v1::CaseStatus st;
  ASSERT_TRUE(registry_->GetCaseStatus(Ctx(police).get(), sreq, &st).ok());
  ASSERT_EQ(st.programs_size(), 4) << st.DebugString();
  for (const auto& v : st.programs()) {
    EXPECT_EQ(v.freshness(), common::v1::FRESHNESS_CACHE) << v.DebugString();
  }
  std::string report_path;
  {
    std::string cmd = "ls " + dir_ + "/reconcile-*.json > " + dir_ + "/reports.txt";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in(dir_ + "/reports.txt");
    std::getline(in, report_path);
  }
  std::ifstream rin(report_path);
  std::stringstream report_text;
  report_text << rin.rdbuf();
  EXPECT_TRUE(absl::StrContains(report_text.str(), "\"missing\"")) << report_text.str();
}

}  // namespace
}  // namespace pathway
