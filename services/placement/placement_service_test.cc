// The Sunshine placement service over real gRPC (in process, loopback TCP, port 0) with a
// real store, a FakeClock, a FakeRegistryClient and an in-memory status cache:
//   - the issue's "Done when": a seeker registered with consent, trained, matched and
//     placed with a Sunshine enterprise; retention checkpoints come due on the fake clock;
//   - eligibility from the status view (never from the caller), suspend / resume / close;
//   - privacy per role: every reply to a labor bureau or employer token is scanned for
//     treatment fields; employers see only their own postings and placements;
//   - a labor bureau import of 100,000 postings with bad rows: exactly those rows are
//     reported, the rest imported, and re-sending the batch changes nothing;
//   - the labor bureau reconciliation: the registry's labor exchange index kept at
//     RegisterSeeker and backfilled lazily, no case id or suspension for the bureau.
#include "services/placement/placement_service.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "common/audit/audit_log.h"
#include "common/auth/token.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/client/bearer_context.h"
#include "common/codec/proto_date.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/outbox/outbox.h"
#include "common/registry_client/registry_client.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "gtest/gtest.h"
#include "services/placement/credit_code.h"
#include "services/placement/labor_exchange_index.h"
#include "services/placement/placement_server.h"
#include "services/placement/placement_tables.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/service_database.h"

namespace pathway {
namespace placement {
namespace {

using absl::CivilDay;

constexpr char kKey[] = "placement-service-test-key-0123456789abcdef";
constexpr char kReason[] = "REASON-ISOLATION-DECIDED-BY-POLICE";

const absl::TimeZone kChina = absl::FixedTimeZone(8 * 3600);

absl::Time At(CivilDay day) { return absl::FromCivil(absl::CivilSecond(day) + 10 * 3600, kChina); }

using test::D;

std::string Case(const char* division, int seq) {
  return CaseId::Mint(division, 2026, seq)->ToString();
}

// Every field marked treatment_detail that is set anywhere in `m`, by path.
void FindTreatmentDetail(const google::protobuf::Message& m, const std::string& path,
                         std::vector<std::string>* found) {
  const google::protobuf::Descriptor* d = m.GetDescriptor();
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    std::string p = absl::StrCat(path, ".", f->name());
    if (f->options().GetExtension(v1::treatment_detail)) found->push_back(p);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        FindTreatmentDetail(r->GetRepeatedMessage(m, f, i), p, found);
      }
    } else {
      FindTreatmentDetail(r->GetMessage(m, f), p, found);
    }
  }
  (void)d;
}

// Treatment history in any form: a marked field, a programme name, a state code of a
// treatment programme, the suspension reason.
std::vector<std::string> TreatmentLeaks(const google::protobuf::Message& m) {
  std::vector<std::string> leaks;
  FindTreatmentDetail(m, m.GetDescriptor()->name(), &leaks);
  std::string text = m.DebugString();
  for (const char* word : {kReason, "detox", "isolation", "rehab", "ELIGIBILITY", "TRAINING_ONLY",
                           "IN_FACILITY", "ACTIVE\"", "during_isolation", "state_reason"}) {
    if (absl::StrContains(text, word)) leaks.push_back(absl::StrCat("text contains ", word));
  }
  return leaks;
}

class PlacementServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_unique<FakeClock>(At(CivilDay(2026, 3, 1)));
    PlacementServer::Options o;
    o.server.service_name = "placement";
    o.server.port = 0;
    o.server.data_dir = dir_.path();
    o.server.database = database_;
    o.server.token_key_file = dir_.path() + "/key";
    o.server.tls.plaintext = true;  // a test server on loopback
    std::ofstream(o.server.token_key_file) << kKey;
    auto tiers = ParseSubsidyTiers("BASE_1Y|contract of a year or more, kept 6 months|12|6|150000\n");
    ASSERT_TRUE(tiers.ok());
    o.subsidy_tiers = *tiers;
    RuntimeOverrides overrides;
    overrides.clock = clock_.get();
    auto cache = std::make_unique<InMemoryStatusCache>();
    cache_ = cache.get();
    overrides.cache = std::move(cache);
    auto registry = std::make_unique<FakeRegistryClient>();
    registry_ = registry.get();
    overrides.registry = std::move(registry);
    auto server = PlacementServer::Start(o, std::move(overrides));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    stub_ = v1::Placement::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials(), args));
    sunshine_ = GenerateSyntheticCreditCode("520102", 1);
    other_employer_ = GenerateSyntheticCreditCode("520102", 2);
  }

  void TearDown() override { server_->Shutdown(); }

  std::string Token(Role role, const std::string& jurisdiction, const std::string& subject,
                    const std::string& organization = "") {
    Claims c;
    c.subject = subject;
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.organization = organization;
    c.issued_at = clock_->Now() - absl::Minutes(1);
    c.expires_at = clock_->Now() + absl::Hours(1);
    return *(*TokenSigner::Create(kKey))->Sign(c);
  }
  std::string Caseworker() { return Token(Role::kCaseworker, "520102", "cw-1"); }
  std::string Admin() { return Token(Role::kAdmin, "*", "admin-1"); }
  std::string Service() { return Token(Role::kService, "*", "isolation-svc"); }
  std::string Bureau() { return Token(Role::kLaborBureau, "5201", "lb-1"); }
  std::string Employer(const std::string& code) {
    return Token(Role::kEmployer, "520102", "emp-" + code.substr(10, 8), code);
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, const std::string& key = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    PrepareBearerContext(ctx.get(), token, absl::Seconds(60));
    if (!key.empty()) ctx->AddMetadata("idempotency-key", key);
    return ctx;
  }

  // A case the registry issued, with programme statuses in the status view.
  void AddCase(const std::string& case_id, const CaseStatusEntries& statuses) {
    registry::v1::CaseFacts f;
    f.set_case_id(case_id);
    f.set_household_division(case_id.substr(0, 6));
    f.set_residence_division(case_id.substr(0, 6));
    registry_->AddCase(f);
    for (const auto& [p, s] : statuses) ASSERT_TRUE(cache_->Put(case_id, p, s).ok());
  }
  static ProgrammeStatus Status(const std::string& state, const std::string& kind = "",
                                std::optional<CivilDay> deadline = std::nullopt) {
    ProgrammeStatus s;
    s.state = state;
    s.version = 1;
    s.began = CivilDay(2026, 1, 5);
    s.next_deadline_kind = kind;
    s.next_deadline = deadline;
    s.written_at = absl::FromUnixSeconds(1767225600);
    return s;
  }

  void AddEmployer(const std::string& code, v1::EmployerKind kind) {
    v1::UpsertEmployerRequest req;
    v1::Employer* e = req.mutable_employer();
    e->set_credit_code(code);
    e->set_name(absl::StrCat("Synthetic employer ", code.substr(10, 8)));
    e->set_kind(kind);
    e->set_division("520102");
    e->set_capacity(50);
    e->set_contact_name("Contact");
    v1::Employer out;
    grpc::Status s = stub_->UpsertEmployer(Ctx(Caseworker()).get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Register(const std::string& token, const std::string& case_id, v1::Seeker* out,
                        bool share_with_employers = true) {
    v1::RegisterSeekerRequest req;
    req.set_case_id(case_id);
    req.set_division("520102");
    *req.mutable_consent()->mutable_given_on() = D(2026, 3, 1);
    req.mutable_consent()->add_scopes(v1::CONSENT_SCOPE_PLACEMENT);
    if (share_with_employers) req.mutable_consent()->add_scopes(v1::CONSENT_SCOPE_SHARE_WITH_EMPLOYERS);
    req.add_skills("Welding");
    req.set_education(v1::EDUCATION_JUNIOR_SECONDARY);
    req.add_preferred_divisions("5201");
    req.set_min_monthly_wage(3000);
    return stub_->RegisterSeeker(Ctx(token).get(), req, out);
  }

  grpc::Status Post(const std::string& token, const std::string& employer, v1::Posting* out) {
    v1::CreatePostingRequest req;
    v1::Posting* p = req.mutable_posting();
    p->set_employer_credit_code(employer);
    p->set_title("Welder");
    p->set_division("520102");
    p->set_wage_min(3000);
    p->set_wage_max(4500);
    p->add_skills("welding");
    p->add_skills("safety");
    p->set_openings(2);
    *p->mutable_valid_from() = D(2026, 3, 1);
    *p->mutable_valid_until() = D(2026, 12, 31);
    return stub_->CreatePosting(Ctx(token).get(), req, out);
  }

  grpc::Status Place(const std::string& case_id, const std::string& employer, int64_t posting_id,
                     v1::PlacementRecord* out) {
    v1::CreatePlacementRequest req;
    req.set_case_id(case_id);
    req.set_employer_credit_code(employer);
    req.set_posting_id(posting_id);
    req.set_mode(v1::PLACEMENT_MODE_CONCENTRATED);
    *req.mutable_contract_start() = D(2026, 3, 10);
    *req.mutable_contract_end() = D(2027, 3, 9);
    return stub_->CreatePlacement(Ctx(Caseworker()).get(), req, out);
  }

  v1::ListDueRetentionChecksResponse Due(const std::string& token,
                                         std::optional<CivilDay> as_of = std::nullopt) {
    v1::ListDueRetentionChecksRequest req;
    if (as_of.has_value()) ToProtoDate(*as_of, req.mutable_as_of());
    v1::ListDueRetentionChecksResponse out;
    grpc::Status s = stub_->ListDueRetentionChecks(Ctx(token).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  common::v1::ProgramStatus ProgramStatusOf(const std::string& case_id) {
    common::v1::GetProgramStatusRequest req;
    req.set_case_id(case_id);
    common::v1::ProgramStatus out;
    grpc::Status s = stub_->GetProgramStatus(Ctx(Caseworker()).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // Reads the service's tables through their typed functions (placement_tables.h).
  template <typename T, typename Fn>
  T ReadTables(Fn fn) {
    T out{};
    absl::Status s = server_->runtime().store().Read([&](ReadTransaction& tx) -> absl::Status {
      absl::StatusOr<T> got = fn(tx);
      if (!got.ok()) return got.status();
      out = *std::move(got);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  PlacementTableSizes TableSizes() {
    return ReadTables<PlacementTableSizes>([](ReadTransaction& tx) { return CountTableRows(tx); });
  }

  std::optional<v1::Posting> StoredPosting(int64_t id) {
    return ReadTables<std::optional<v1::Posting>>(
        [&](ReadTransaction& tx) { return LoadPosting(tx, id); });
  }

  std::optional<ImportedPosting> StoredImport(const std::string& record_id) {
    return ReadTables<std::optional<ImportedPosting>>(
        [&](ReadTransaction& tx) { return LoadImportedPosting(tx, record_id); });
  }

  // Audit rows matching `filter` (all pages) for which `keep` holds.
  int64_t CountAudit(AuditFilter filter, const std::function<bool(const AuditEntry&)>& keep) {
    int64_t n = 0;
    filter.limit = 1000;
    while (true) {
      absl::StatusOr<std::vector<AuditRow>> rows = ListAudit(server_->runtime().store(), filter);
      EXPECT_TRUE(rows.ok()) << rows.status();
      if (!rows.ok() || rows->empty()) return n;
      for (const AuditRow& r : *rows) n += keep(r.entry) ? 1 : 0;
      filter.after_seq = rows->back().seq;
    }
  }

  // A seeker placed with the Sunshine enterprise through a posting; returns the placement.
  v1::PlacementRecord PlacedSeeker(const std::string& case_id) {
    AddCase(case_id, {{Programme::kCommunityDetox, Status("ACTIVE")}});
    v1::Seeker seeker;
    EXPECT_TRUE(Register(Caseworker(), case_id, &seeker).ok());
    v1::Posting posting;
    EXPECT_TRUE(Post(Employer(sunshine_), sunshine_, &posting).ok());
    v1::PlacementRecord placement;
    grpc::Status s = Place(case_id, sunshine_, posting.posting_id(), &placement);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return placement;
  }

  ScopedTempDir dir_;
  const std::string database_ = TestDatabaseUriOrDie("placement");
  std::unique_ptr<FakeClock> clock_;
  InMemoryStatusCache* cache_ = nullptr;       // owned by the runtime
  FakeRegistryClient* registry_ = nullptr;     // owned by the runtime
  std::unique_ptr<PlacementServer> server_;
  std::unique_ptr<v1::Placement::Stub> stub_;
  std::string sunshine_;
  std::string other_employer_;
};

// ---------------------------------------------------------------- Done when

TEST_F(PlacementServiceTest, DoneWhenSeekerTrainedMatchedPlacedAndRetentionComesDue) {
  const std::string case_id = Case("520102", 42);
  AddCase(case_id, {{Programme::kCommunityDetox, Status("ACTIVE")}});
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  AddEmployer(other_employer_, v1::EMPLOYER_KIND_ORDINARY);

  // Registered with consent.
  v1::Seeker seeker;
  grpc::Status s = Register(Caseworker(), case_id, &seeker);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(seeker.state(), v1::SEEKER_STATE_SEEKING);
  EXPECT_EQ(seeker.eligibility(), v1::ELIGIBILITY_PLACEMENT);
  EXPECT_EQ(seeker.eligibility_basis(), "detox:ACTIVE");
  EXPECT_EQ(seeker.skills(0), "welding");
  EXPECT_EQ(ProgramStatusOf(case_id).state(), "SEEKING");
  EXPECT_EQ(Register(Caseworker(), case_id, &seeker).error_code(), grpc::StatusCode::ALREADY_EXISTS);

  // Trained.
  v1::RecordTrainingRequest tr;
  tr.set_case_id(case_id);
  tr.set_course("Welding safety");
  tr.set_provider("County vocational school");
  *tr.mutable_start_on() = D(2026, 3, 1);
  *tr.mutable_end_on() = D(2026, 3, 1);
  tr.set_outcome(v1::TRAINING_OUTCOME_COMPLETED);
  tr.set_certificate("CERT-001");
  tr.add_skills_gained("safety");
  v1::Training training;
  s = stub_->RecordTraining(Ctx(Caseworker()).get(), tr, &training);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(training.during_isolation());
  v1::ListTrainingsRequest lt;
  lt.set_case_id(case_id);
  v1::ListTrainingsResponse trainings;
  ASSERT_TRUE(stub_->ListTrainings(Ctx(Caseworker()).get(), lt, &trainings).ok());
  ASSERT_EQ(trainings.trainings_size(), 1);
  EXPECT_EQ(trainings.trainings(0).certificate(), "CERT-001");

  // Postings: the Sunshine enterprise's own and an ordinary employer's.
  v1::Posting welder, other;
  s = Post(Employer(sunshine_), sunshine_, &welder);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(welder.employer_name(), absl::StrCat("Synthetic employer ", sunshine_.substr(10, 8)));
  {
    v1::CreatePostingRequest req;
    v1::Posting* p = req.mutable_posting();
    p->set_employer_credit_code(other_employer_);
    p->set_title("Warehouse clerk");
    p->set_division("520102");
    p->set_wage_min(2000);
    p->set_wage_max(2500);
    p->add_skills("forklift");
    p->set_openings(1);
    *p->mutable_valid_from() = D(2026, 1, 1);
    *p->mutable_valid_until() = D(2026, 12, 31);
    ASSERT_TRUE(stub_->CreatePosting(Ctx(Admin()).get(), req, &other).ok());
  }
  // An employer may not post for another.
  v1::Posting ignored;
  EXPECT_EQ(Post(Employer(sunshine_), other_employer_, &ignored).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Matched: ranked, explainable.
  v1::MatchPostingsRequest mp;
  mp.set_case_id(case_id);
  v1::MatchPostingsResponse matches;
  s = stub_->MatchPostings(Ctx(Caseworker()).get(), mp, &matches);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(matches.matches_size(), 2);
  EXPECT_EQ(matches.matches(0).posting().posting_id(), welder.posting_id());
  EXPECT_GT(matches.matches(0).score(), matches.matches(1).score());
  std::string why;
  for (const std::string& r : matches.matches(0).reasons()) why += r + ";";
  EXPECT_TRUE(absl::StrContains(why, "skills 2/2: welding, safety")) << why;
  EXPECT_TRUE(absl::StrContains(why, "Sunshine enterprise")) << why;
  EXPECT_TRUE(absl::StrContains(why, "in preferred area 5201")) << why;

  v1::MatchSeekersRequest ms;
  ms.set_posting_id(welder.posting_id());
  v1::MatchSeekersResponse seekers;
  s = stub_->MatchSeekers(Ctx(Employer(sunshine_)).get(), ms, &seekers);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(seekers.matches_size(), 1);
  // The employer knows the seeker only by a reference for this posting, which the
  // caseworker sees beside the case id.
  EXPECT_EQ(seekers.matches(0).seeker().case_id(), "");
  const std::string ref = seekers.matches(0).seeker().seeker_ref();
  EXPECT_EQ(ref.size(), 36u) << ref;
  v1::MatchSeekersResponse for_caseworker;
  ASSERT_TRUE(stub_->MatchSeekers(Ctx(Caseworker()).get(), ms, &for_caseworker).ok());
  ASSERT_EQ(for_caseworker.matches_size(), 1);
  EXPECT_EQ(for_caseworker.matches(0).seeker().case_id(), case_id);
  EXPECT_EQ(for_caseworker.matches(0).seeker().seeker_ref(), ref);
  v1::MatchSeekersRequest other_posting;
  other_posting.set_posting_id(other.posting_id());
  ASSERT_TRUE(stub_->MatchSeekers(Ctx(Caseworker()).get(), other_posting, &for_caseworker).ok());
  ASSERT_EQ(for_caseworker.matches_size(), 1);
  EXPECT_NE(for_caseworker.matches(0).seeker().seeker_ref(), ref)
      << "references cannot be linked across postings";

  // Placed with the Sunshine enterprise (idempotent under a key).
  v1::CreatePlacementRequest pr;
  pr.set_case_id(case_id);
  pr.set_employer_credit_code(sunshine_);
  pr.set_posting_id(welder.posting_id());
  pr.set_mode(v1::PLACEMENT_MODE_CONCENTRATED);
  *pr.mutable_contract_start() = D(2026, 3, 10);
  *pr.mutable_contract_end() = D(2027, 3, 9);
  v1::PlacementRecord placement, again;
  s = stub_->CreatePlacement(Ctx(Caseworker(), "place-42").get(), pr, &placement);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(stub_->CreatePlacement(Ctx(Caseworker(), "place-42").get(), pr, &again).ok());
  EXPECT_EQ(again.placement_id(), placement.placement_id());
  EXPECT_EQ(TableSizes().placements, 1);
  EXPECT_TRUE(placement.contract_one_year_or_more());
  EXPECT_EQ(placement.state(), v1::PLACEMENT_STATE_ACTIVE);
  ASSERT_EQ(placement.checkpoints_size(), 4);
  EXPECT_EQ(placement.checkpoints(0).due_on().month(), 4);
  EXPECT_EQ(placement.checkpoints(0).due_on().day(), 10);
  EXPECT_EQ(placement.checkpoints(3).due_on().year(), 2027);
  std::optional<v1::Posting> stored = StoredPosting(welder.posting_id());
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->openings(), 1);

  common::v1::ProgramStatus st = ProgramStatusOf(case_id);
  EXPECT_EQ(st.state(), "PLACED");
  EXPECT_EQ(st.next_deadline().kind(), "RETENTION_CHECK");
  EXPECT_EQ(st.next_deadline().due().month(), 4);
  auto cached = cache_->Get(case_id);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->at(Programme::kPlacement).state, "PLACED");

  // Retention checkpoints come due on the fake clock.
  EXPECT_EQ(Due(Caseworker()).checks_size(), 0);
  clock_->Set(At(CivilDay(2026, 4, 9)));
  EXPECT_EQ(Due(Caseworker()).checks_size(), 0);
  clock_->Set(At(CivilDay(2026, 4, 10)));
  auto due = Due(Caseworker());
  ASSERT_EQ(due.checks_size(), 1);
  EXPECT_EQ(due.checks(0).months(), 1);
  EXPECT_FALSE(due.checks(0).overdue());
  clock_->Set(At(CivilDay(2026, 4, 26)));  // record-by 25 Apr has passed
  due = Due(Employer(sunshine_));
  ASSERT_EQ(due.checks_size(), 1);
  EXPECT_TRUE(due.checks(0).overdue());
  EXPECT_EQ(Due(Employer(other_employer_)).checks_size(), 0);
  // as_of looks ahead without moving the clock: 3, 6 and 12 months are open by then.
  EXPECT_EQ(Due(Caseworker(), CivilDay(2027, 3, 10)).checks_size(), 4);

  // The employer records the 1-month check for its own placement.
  v1::RecordRetentionRequest rr;
  rr.set_placement_id(placement.placement_id());
  rr.set_months(1);
  rr.set_outcome(v1::RETENTION_OUTCOME_STILL_EMPLOYED);
  *rr.mutable_checked_on() = D(2026, 4, 20);
  v1::PlacementRecord after;
  s = stub_->RecordRetention(Ctx(Employer(sunshine_)).get(), rr, &after);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(after.checkpoints(0).outcome(), v1::RETENTION_OUTCOME_STILL_EMPLOYED);
  EXPECT_EQ(stub_->RecordRetention(Ctx(Employer(sunshine_)).get(), rr, &after).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(stub_->RecordRetention(Ctx(Employer(other_employer_)).get(), rr, &after).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Due(Caseworker()).checks_size(), 0);
  st = ProgramStatusOf(case_id);
  EXPECT_EQ(st.next_deadline().due().month(), 6);
  EXPECT_EQ(st.next_deadline().due().day(), 10);

  // 3 and 6 months later: still employed.
  for (auto [months, day] : {std::pair<int, CivilDay>{3, CivilDay(2026, 6, 10)},
                             std::pair<int, CivilDay>{6, CivilDay(2026, 9, 10)}}) {
    clock_->Set(At(day));
    ASSERT_EQ(Due(Caseworker()).checks_size(), 1);
    rr.set_months(months);
    ToProtoDate(day, rr.mutable_checked_on());
    ASSERT_TRUE(stub_->RecordRetention(Ctx(Caseworker()).get(), rr, &after).ok());
  }

  // Metrics, the subsidy claim and the labor bureau's export see the outcome.
  v1::GetOutcomeMetricsRequest mr;
  *mr.mutable_period_start() = D(2026, 1, 1);
  *mr.mutable_period_end() = D(2026, 12, 31);
  v1::OutcomeMetrics metrics;
  ASSERT_TRUE(stub_->GetOutcomeMetrics(Ctx(Bureau()).get(), mr, &metrics).ok());
  EXPECT_EQ(metrics.seekers_registered(), 1);
  EXPECT_EQ(metrics.seekers_placed(), 1);
  EXPECT_DOUBLE_EQ(metrics.placement_rate(), 1.0);
  EXPECT_EQ(metrics.retained_6m(), 1);
  EXPECT_DOUBLE_EQ(metrics.retention_6m(), 1.0);
  EXPECT_EQ(metrics.retained_12m(), 0);
  EXPECT_DOUBLE_EQ(metrics.share_contracts_one_year_or_more(), 1.0);

  v1::FileSubsidyClaimRequest fc;
  fc.set_employer_credit_code(sunshine_);
  fc.set_tier("BASE_1Y");
  *fc.mutable_period_start() = D(2026, 1, 1);
  *fc.mutable_period_end() = D(2026, 6, 30);
  v1::SubsidyClaim claim;
  s = stub_->FileSubsidyClaim(Ctx(Employer(sunshine_)).get(), fc, &claim);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(claim.placement_ids_size(), 1);
  EXPECT_EQ(claim.amount_fen(), 150000);
  EXPECT_EQ(stub_->FileSubsidyClaim(Ctx(Employer(sunshine_)).get(), fc, &claim).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "a placement counts once per tier";
  v1::DecideSubsidyClaimRequest dc;
  dc.set_claim_id(claim.claim_id());
  dc.set_approve(true);
  ASSERT_TRUE(stub_->DecideSubsidyClaim(Ctx(Bureau()).get(), dc, &claim).ok());
  EXPECT_EQ(claim.state(), v1::CLAIM_STATE_APPROVED);
  // The claim is counted exactly, and only inside the jurisdiction.
  for (const auto& [token, want] :
       std::vector<std::pair<std::string, int64_t>>{
           {Bureau(), 1},
           {Employer(sunshine_), 1},
           {Employer(other_employer_), 0},
           {Token(Role::kLaborBureau, "5301", "lb-far"), 0}}) {
    v1::ListSubsidyClaimsResponse claims;
    ASSERT_TRUE(stub_->ListSubsidyClaims(Ctx(token).get(), {}, &claims).ok());
    EXPECT_EQ(claims.claims_size(), want);
    EXPECT_EQ(claims.page().total_size(), want);
    EXPECT_FALSE(claims.page().total_size_is_bound());
  }

  v1::ExportOutcomesRequest er;
  *er.mutable_period_start() = D(2026, 1, 1);
  *er.mutable_period_end() = D(2026, 12, 31);
  auto ctx = Ctx(Bureau());
  auto reader = stub_->ExportOutcomes(ctx.get(), er);
  v1::ExportOutcomesChunk chunk;
  int outcomes = 0;
  while (reader->Read(&chunk)) {
    for (const auto& o : chunk.outcomes()) {
      ++outcomes;
      EXPECT_EQ(o.employer_credit_code(), sunshine_);
      EXPECT_EQ(o.checkpoints(2).outcome(), v1::RETENTION_OUTCOME_STILL_EMPLOYED);
      EXPECT_FALSE(absl::StrContains(o.DebugString(), case_id));
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(outcomes, 1);

  // Every read of the person's data was audited.
  ASSERT_TRUE(server_->runtime().read_audit().Flush().ok());
  AuditFilter f;
  f.case_id = case_id;
  f.limit = 1000;
  auto rows = ListAudit(server_->runtime().store(), f);
  ASSERT_TRUE(rows.ok());
  std::set<std::string> actions;
  for (const auto& r : *rows) actions.insert(r.entry.action);
  for (const char* m : {"RegisterSeeker", "RecordTraining", "ListTrainings", "MatchPostings",
                        "MatchSeekers", "CreatePlacement", "RecordRetention",
                        "ListDueRetentionChecks"}) {
    EXPECT_TRUE(actions.count(absl::StrCat("/pathway.placement.v1.Placement/", m))) << m;
  }
}

TEST_F(PlacementServiceTest, LeavingEndsThePlacementAndTheSeekerSeeksAgain) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  const std::string case_id = Case("520102", 50);
  v1::PlacementRecord p = PlacedSeeker(case_id);
  clock_->Set(At(CivilDay(2026, 6, 12)));
  v1::RecordRetentionRequest rr;
  rr.set_placement_id(p.placement_id());
  rr.set_months(3);
  rr.set_outcome(v1::RETENTION_OUTCOME_LEFT);
  *rr.mutable_checked_on() = D(2026, 6, 11);
  v1::PlacementRecord after;
  ASSERT_TRUE(stub_->RecordRetention(Ctx(Caseworker()).get(), rr, &after).ok());
  EXPECT_EQ(after.state(), v1::PLACEMENT_STATE_ENDED);
  EXPECT_EQ(after.checkpoints(0).outcome(), v1::RETENTION_OUTCOME_UNSPECIFIED);
  EXPECT_EQ(after.checkpoints(1).outcome(), v1::RETENTION_OUTCOME_LEFT);
  EXPECT_EQ(after.checkpoints(2).outcome(), v1::RETENTION_OUTCOME_LAPSED);
  EXPECT_EQ(after.checkpoints(3).outcome(), v1::RETENTION_OUTCOME_LAPSED);
  EXPECT_EQ(Due(Caseworker()).checks_size(), 0) << "an ended placement has nothing due";
  EXPECT_EQ(ProgramStatusOf(case_id).state(), "SEEKING");
  // A check dated more than a week before its checkpoint is refused.
  v1::PlacementRecord q;
  rr.set_months(1);
  *rr.mutable_checked_on() = D(2026, 3, 20);
  EXPECT_EQ(stub_->RecordRetention(Ctx(Caseworker()).get(), rr, &q).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// ---------------------------------------------------------------- eligibility

TEST_F(PlacementServiceTest, EligibilityComesFromTheStatusViewNeverFromTheCaller) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  v1::Seeker seeker;
  // In isolation with more than a year left: nothing.
  const std::string early = Case("520102", 60);
  AddCase(early, {{Programme::kCompulsoryIsolation,
                   Status("IN_JUDICIAL_FACILITY")}});
  EXPECT_EQ(Register(Caseworker(), early, &seeker).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // In isolation with less than a year left: training only, registered by facility staff.
  const std::string late = Case("520102", 61);
  AddCase(late, {{Programme::kCompulsoryIsolation,
                  Status("IN_JUDICIAL_FACILITY_TRAINING_ELIGIBLE")}});
  grpc::Status s = Register(Token(Role::kFacilityStaff, "520102", "fs-1"), late, &seeker);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(seeker.eligibility(), v1::ELIGIBILITY_TRAINING_ONLY);
  EXPECT_EQ(ProgramStatusOf(late).state(), "TRAINING_ONLY");
  v1::RecordTrainingRequest tr;
  tr.set_case_id(late);
  tr.set_course("Cooking");
  tr.set_provider("Facility workshop");
  *tr.mutable_start_on() = D(2026, 3, 1);
  tr.set_outcome(v1::TRAINING_OUTCOME_IN_PROGRESS);
  v1::Training training;
  s = stub_->RecordTraining(Ctx(Token(Role::kFacilityStaff, "520102", "fs-1")).get(), tr, &training);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(training.during_isolation());
  // Never placed while isolated, and not matched either.
  v1::PlacementRecord placement;
  EXPECT_EQ(Place(late, sunshine_, 0, &placement).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::MatchPostingsRequest mp;
  mp.set_case_id(late);
  v1::MatchPostingsResponse mr;
  EXPECT_EQ(stub_->MatchPostings(Ctx(Caseworker()).get(), mp, &mr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Released: the status view now allows placement.
  ProgrammeStatus released = Status("RELEASED");
  released.version = 2;
  ASSERT_TRUE(cache_->Put(late, Programme::kCompulsoryIsolation, released).ok());
  s = Place(late, sunshine_, 0, &placement);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // Nothing in the status view, or the view is down: UNAVAILABLE, never a guess.
  const std::string unknown = Case("520102", 62);
  AddCase(unknown, {});
  EXPECT_EQ(Register(Caseworker(), unknown, &seeker).error_code(), grpc::StatusCode::UNAVAILABLE);
  const std::string detox = Case("520102", 63);
  AddCase(detox, {{Programme::kCommunityDetox, Status("ACTIVE")}});
  cache_->SetUnavailable(true);
  EXPECT_EQ(Register(Caseworker(), detox, &seeker).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "Redis down and the registry's view knows nothing either";
  // With Redis down the registry's view (which asks the owning services) decides.
  const std::string via_registry = Case("520102", 64);
  AddCase(via_registry, {});
  registry::v1::CaseStatus view;
  view.set_case_id(via_registry);
  view.set_found(true);
  registry::v1::ProgramStatusView* entry = view.add_programs();
  entry->mutable_status()->set_program(common::v1::PROGRAM_COMMUNITY_REHAB);
  entry->mutable_status()->set_state("ACTIVE");
  entry->set_freshness(common::v1::FRESHNESS_SERVICE);
  registry_->SetCaseStatus(view);
  grpc::Status fallback = Register(Caseworker(), via_registry, &seeker);
  ASSERT_TRUE(fallback.ok()) << fallback.error_message();
  EXPECT_EQ(seeker.eligibility(), v1::ELIGIBILITY_PLACEMENT);
  cache_->SetUnavailable(false);
  registry_->SetUnavailable(true);
  EXPECT_EQ(Register(Caseworker(), detox, &seeker).error_code(), grpc::StatusCode::UNAVAILABLE);
  registry_->SetUnavailable(false);
  ASSERT_TRUE(Register(Caseworker(), detox, &seeker).ok());

  // A case the registry never issued, and one outside the caller's jurisdiction, look alike.
  grpc::Status never = Register(Caseworker(), Case("520102", 99), &seeker);
  EXPECT_EQ(never.error_code(), grpc::StatusCode::NOT_FOUND);
  v1::GetSeekerRequest gs;
  gs.set_case_id(detox);
  grpc::Status outside =
      stub_->GetSeeker(Ctx(Token(Role::kCaseworker, "530102", "cw-km")).get(), gs, &seeker);
  EXPECT_EQ(outside.error_code(), grpc::StatusCode::NOT_FOUND);
  gs.set_case_id(Case("520102", 98));
  grpc::Status missing = stub_->GetSeeker(Ctx(Caseworker()).get(), gs, &seeker);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(outside.error_message(), missing.error_message());
  gs.set_case_id("520102-2026-0000063-0");
  EXPECT_EQ(stub_->GetSeeker(Ctx(Caseworker()).get(), gs, &seeker).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// ---------------------------------------------------------------- suspend / resume / close

TEST_F(PlacementServiceTest, SuspendResumeAndCloseCarryTheOpenPlacement) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  const std::string case_id = Case("520102", 70);
  v1::PlacementRecord p = PlacedSeeker(case_id);
  clock_->Set(At(CivilDay(2026, 4, 12)));
  ASSERT_EQ(Due(Caseworker()).checks_size(), 1);

  v1::SuspendSeekerRequest sr;
  sr.set_case_id(case_id);
  *sr.mutable_effective_on() = D(2026, 4, 11);
  sr.set_reason(kReason);
  v1::SeekerChange change;
  EXPECT_EQ(stub_->SuspendSeeker(Ctx(Caseworker()).get(), sr, &change).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = stub_->SuspendSeeker(Ctx(Service(), "susp-70").get(), sr, &change);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(change.seeker().state(), v1::SEEKER_STATE_SUSPENDED);
  EXPECT_EQ(change.placement().state(), v1::PLACEMENT_STATE_SUSPENDED);
  EXPECT_EQ(change.seeker().state_reason(), kReason) << "the service role sees why";
  EXPECT_EQ(ProgramStatusOf(case_id).state(), "SUSPENDED");
  EXPECT_EQ(Due(Caseworker()).checks_size(), 0) << "a suspended placement has nothing due";
  // Repeating the hand-off changes nothing.
  ASSERT_TRUE(stub_->SuspendSeeker(Ctx(Service()).get(), sr, &change).ok());
  EXPECT_EQ(ProgramStatusOf(case_id).version(), 3);  // register, place, suspend

  v1::ResumeSeekerRequest rs;
  rs.set_case_id(case_id);
  *rs.mutable_effective_on() = D(2026, 4, 12);
  ASSERT_TRUE(stub_->ResumeSeeker(Ctx(Service()).get(), rs, &change).ok());
  EXPECT_EQ(change.seeker().state(), v1::SEEKER_STATE_PLACED);
  EXPECT_EQ(change.placement().state(), v1::PLACEMENT_STATE_ACTIVE);
  EXPECT_EQ(Due(Caseworker()).checks_size(), 1);

  v1::CloseSeekerRequest cr;
  cr.set_case_id(case_id);
  *cr.mutable_effective_on() = D(2026, 4, 12);
  cr.set_reason("consent withdrawn");
  ASSERT_TRUE(stub_->CloseSeeker(Ctx(Caseworker()).get(), cr, &change).ok());
  EXPECT_EQ(change.seeker().state(), v1::SEEKER_STATE_CLOSED);
  EXPECT_EQ(change.placement().state(), v1::PLACEMENT_STATE_ENDED);
  // The 1-month check fell due before the close and stays unrecorded; the rest lapse.
  EXPECT_EQ(change.placement().checkpoints(0).outcome(), v1::RETENTION_OUTCOME_UNSPECIFIED);
  EXPECT_EQ(change.placement().checkpoints(1).outcome(), v1::RETENTION_OUTCOME_LAPSED);
  EXPECT_EQ(ProgramStatusOf(case_id).state(), "CLOSED");
  // The isolation hand-off finds nothing to resume in a closed seeker: OK, no change.
  ASSERT_TRUE(stub_->ResumeSeeker(Ctx(Service()).get(), rs, &change).ok());
  EXPECT_EQ(change.seeker().state(), v1::SEEKER_STATE_CLOSED);
  // Nor anything to suspend for a person who is not a seeker.
  v1::SuspendSeekerRequest stranger = sr;
  stranger.set_case_id(Case("520102", 77));
  AddCase(stranger.case_id(), {{Programme::kCommunityDetox, Status("ACTIVE")}});
  ASSERT_TRUE(stub_->SuspendSeeker(Ctx(Service()).get(), stranger, &change).ok());
  EXPECT_FALSE(change.has_seeker());
  // An administrator is told the truth.
  EXPECT_EQ(stub_->ResumeSeeker(Ctx(Admin()).get(), rs, &change).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  *sr.mutable_effective_on() = D(2026, 5, 1);  // in the future of the clock
  EXPECT_EQ(stub_->SuspendSeeker(Ctx(Admin()).get(), sr, &change).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A required date sent as {0, 0, 0} is refused naming the field, for a caseworker and
// for a hand-off alike; an optional as_of may be absent but not partial.
TEST_F(PlacementServiceTest, ZeroOrPartialDatesAreRefused) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  const std::string case_id = Case("520102", 71);
  PlacedSeeker(case_id);
  clock_->Set(At(CivilDay(2026, 4, 12)));
  auto expect_invalid = [](const grpc::Status& s, const std::string& field) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_NE(s.error_message().find(field), std::string::npos) << s.error_message();
  };
  v1::SeekerChange change;
  v1::CloseSeekerRequest cr;
  cr.set_case_id(case_id);
  cr.set_reason("consent withdrawn");
  cr.mutable_effective_on();  // present, all zero
  expect_invalid(stub_->CloseSeeker(Ctx(Caseworker()).get(), cr, &change), "effective_on");
  cr.mutable_effective_on()->set_year(2026);  // partial
  expect_invalid(stub_->CloseSeeker(Ctx(Caseworker()).get(), cr, &change), "effective_on");

  v1::SuspendSeekerRequest sr;
  sr.set_case_id(case_id);
  sr.set_reason(kReason);
  sr.mutable_effective_on();
  expect_invalid(stub_->SuspendSeeker(Ctx(Service()).get(), sr, &change), "effective_on");
  EXPECT_EQ(ProgramStatusOf(case_id).state(), "PLACED") << "nothing changed";

  v1::ListDueRetentionChecksRequest due;
  due.mutable_as_of()->set_year(2026);
  due.mutable_as_of()->set_month(4);  // day 0
  v1::ListDueRetentionChecksResponse out;
  expect_invalid(stub_->ListDueRetentionChecks(Ctx(Caseworker()).get(), due, &out), "as_of");
  EXPECT_EQ(Due(Caseworker()).checks_size(), 1) << "absent as_of means today";
}

// ---------------------------------------------------------------- privacy

TEST_F(PlacementServiceTest, LaborBureauAndEmployerRepliesCarryNoTreatmentHistory) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  AddEmployer(other_employer_, v1::EMPLOYER_KIND_ORDINARY);
  // A placed seeker whose placement is suspended with a reason, a matchable seeker and a
  // training during isolation: all the treatment detail the service holds.
  const std::string placed = Case("520102", 80);
  v1::PlacementRecord p = PlacedSeeker(placed);
  const std::string seeking = Case("520102", 81);
  AddCase(seeking, {{Programme::kCommunityRehab, Status("ACTIVE")}});
  v1::Seeker seeker;
  ASSERT_TRUE(Register(Caseworker(), seeking, &seeker).ok());
  v1::SeekerChange change;
  v1::SuspendSeekerRequest sr;
  sr.set_case_id(placed);
  *sr.mutable_effective_on() = D(2026, 3, 1);
  sr.set_reason(kReason);
  ASSERT_TRUE(stub_->SuspendSeeker(Ctx(Admin()).get(), sr, &change).ok());

  // The scanner finds the detail where it belongs (caseworker), so it would find a leak.
  v1::GetSeekerRequest gs;
  gs.set_case_id(placed);
  ASSERT_TRUE(stub_->GetSeeker(Ctx(Caseworker()).get(), gs, &seeker).ok());
  EXPECT_FALSE(TreatmentLeaks(seeker).empty());
  v1::GetPlacementRequest gp;
  gp.set_placement_id(p.placement_id());
  v1::PlacementRecord cw_view;
  ASSERT_TRUE(stub_->GetPlacement(Ctx(Caseworker()).get(), gp, &cw_view).ok());
  EXPECT_EQ(cw_view.state_reason(), kReason);

  struct Outside {
    const char* name;
    std::string token;
  } roles[] = {{"labor_bureau", Bureau()}, {"employer", Employer(sunshine_)}};
  for (const Outside& role : roles) {
    SCOPED_TRACE(role.name);
    std::vector<std::unique_ptr<google::protobuf::Message>> replies;
    grpc::Status last;
    auto keep = [&](grpc::Status st, std::unique_ptr<google::protobuf::Message> m) {
      if (st.ok()) {
        replies.push_back(std::move(m));
      } else {
        ADD_FAILURE() << m->GetDescriptor()->name() << ": " << st.error_code() << " "
                      << st.error_message();
        // A refusal carries no detail either.
        EXPECT_FALSE(absl::StrContains(st.error_message(), kReason));
      }
      return st;
    };
    {
      auto m = std::make_unique<v1::PlacementRecord>();
      grpc::Status st = stub_->GetPlacement(Ctx(role.token).get(), gp, m.get());
      ASSERT_TRUE(st.ok()) << st.error_message();
      EXPECT_EQ(m->state(), v1::PLACEMENT_STATE_ACTIVE) << "a suspension is a treatment fact";
      EXPECT_EQ(m->state_reason(), "");
      EXPECT_EQ(m->case_id(), "");
      keep(st, std::move(m));
    }
    {
      auto m = std::make_unique<v1::ListPlacementsResponse>();
      grpc::Status st = stub_->ListPlacements(Ctx(role.token).get(), {}, m.get());
      EXPECT_EQ(m->placements_size(), 1);
      keep(st, std::move(m));
    }
    {
      v1::GetEmployerRequest r;
      r.set_credit_code(sunshine_);
      auto m = std::make_unique<v1::Employer>();
      last = stub_->GetEmployer(Ctx(role.token).get(), r, m.get());
      keep(last, std::move(m));
      auto l = std::make_unique<v1::ListEmployersResponse>();
      last = stub_->ListEmployers(Ctx(role.token).get(), {}, l.get());
      keep(last, std::move(l));
    }
    {
      auto l = std::make_unique<v1::ListPostingsResponse>();
      grpc::Status st = stub_->ListPostings(Ctx(role.token).get(), {}, l.get());
      ASSERT_TRUE(st.ok());
      ASSERT_GE(l->postings_size(), 1);
      v1::GetPostingRequest r;
      r.set_posting_id(l->postings(0).posting_id());
      auto m = std::make_unique<v1::Posting>();
      last = stub_->GetPosting(Ctx(role.token).get(), r, m.get());
      keep(last, std::move(m));
      keep(st, std::move(l));
    }
    {
      auto m = std::make_unique<v1::ListSubsidyTiersResponse>();
      last = stub_->ListSubsidyTiers(Ctx(role.token).get(), {}, m.get());
      keep(last, std::move(m));
      auto c = std::make_unique<v1::ListSubsidyClaimsResponse>();
      last = stub_->ListSubsidyClaims(Ctx(role.token).get(), {}, c.get());
      keep(last, std::move(c));
    }
    if (std::string(role.name) == "employer") {
      auto d = std::make_unique<v1::ListDueRetentionChecksResponse>();
      last = stub_->ListDueRetentionChecks(Ctx(role.token).get(), {}, d.get());
      keep(last, std::move(d));
      v1::MatchSeekersRequest ms;
      ms.set_posting_id(p.posting_id());
      auto m = std::make_unique<v1::MatchSeekersResponse>();
      grpc::Status st = stub_->MatchSeekers(Ctx(role.token).get(), ms, m.get());
      ASSERT_TRUE(st.ok()) << st.error_message();
      EXPECT_EQ(m->matches_size(), 1);
      keep(st, std::move(m));
    } else {
      v1::GetOutcomeMetricsRequest mr;
      *mr.mutable_period_start() = D(2026, 1, 1);
      *mr.mutable_period_end() = D(2026, 12, 31);
      auto m = std::make_unique<v1::OutcomeMetrics>();
      last = stub_->GetOutcomeMetrics(Ctx(role.token).get(), mr, m.get());
      keep(last, std::move(m));
      v1::ExportOutcomesRequest er;
      *er.mutable_period_start() = D(2026, 1, 1);
      *er.mutable_period_end() = D(2026, 12, 31);
      auto ctx = Ctx(role.token);
      auto reader = stub_->ExportOutcomes(ctx.get(), er);
      auto chunk = std::make_unique<v1::ExportOutcomesChunk>();
      while (reader->Read(chunk.get())) {
        replies.push_back(std::move(chunk));
        chunk = std::make_unique<v1::ExportOutcomesChunk>();
      }
      ASSERT_TRUE(reader->Finish().ok());
    }
    ASSERT_GE(replies.size(), 8u);
    for (const auto& reply : replies) {
      std::vector<std::string> leaks = TreatmentLeaks(*reply);
      EXPECT_TRUE(leaks.empty()) << reply->GetDescriptor()->name() << ": " << leaks[0];
    }

    // Seeker, training and programme reads are not theirs at all.
    v1::Seeker s;
    EXPECT_EQ(stub_->GetSeeker(Ctx(role.token).get(), gs, &s).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::ListSeekersResponse ls;
    EXPECT_EQ(stub_->ListSeekers(Ctx(role.token).get(), {}, &ls).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::ListTrainingsRequest lt;
    lt.set_case_id(placed);
    v1::ListTrainingsResponse trs;
    EXPECT_EQ(stub_->ListTrainings(Ctx(role.token).get(), lt, &trs).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::MatchPostingsRequest mp;
    mp.set_case_id(seeking);
    v1::MatchPostingsResponse mpr;
    EXPECT_EQ(stub_->MatchPostings(Ctx(role.token).get(), mp, &mpr).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    common::v1::GetProgramStatusRequest ps;
    ps.set_case_id(placed);
    common::v1::ProgramStatus pst;
    EXPECT_EQ(stub_->GetProgramStatus(Ctx(role.token).get(), ps, &pst).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
}

TEST_F(PlacementServiceTest, AnEmployerSeesOnlyItsOwnPostingsAndPlacements) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  AddEmployer(other_employer_, v1::EMPLOYER_KIND_ORDINARY);
  v1::PlacementRecord p = PlacedSeeker(Case("520102", 90));
  v1::Posting theirs;
  ASSERT_TRUE(Post(Employer(other_employer_), other_employer_, &theirs).ok());

  const std::string other = Employer(other_employer_);
  v1::GetPlacementRequest gp;
  gp.set_placement_id(p.placement_id());
  v1::PlacementRecord pr;
  EXPECT_EQ(stub_->GetPlacement(Ctx(other).get(), gp, &pr).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListPlacementsResponse lp;
  ASSERT_TRUE(stub_->ListPlacements(Ctx(other).get(), {}, &lp).ok());
  EXPECT_EQ(lp.placements_size(), 0);
  v1::GetPostingRequest gpo;
  gpo.set_posting_id(p.posting_id());
  v1::Posting po;
  EXPECT_EQ(stub_->GetPosting(Ctx(other).get(), gpo, &po).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListPostingsResponse lpo;
  ASSERT_TRUE(stub_->ListPostings(Ctx(other).get(), {}, &lpo).ok());
  ASSERT_EQ(lpo.postings_size(), 1);
  EXPECT_EQ(lpo.postings(0).posting_id(), theirs.posting_id());
  v1::ListEmployersResponse le;
  ASSERT_TRUE(stub_->ListEmployers(Ctx(other).get(), {}, &le).ok());
  ASSERT_EQ(le.employers_size(), 1);
  EXPECT_EQ(le.employers(0).credit_code(), other_employer_);
  v1::MatchSeekersRequest ms;
  ms.set_posting_id(p.posting_id());
  v1::MatchSeekersResponse msr;
  EXPECT_EQ(stub_->MatchSeekers(Ctx(other).get(), ms, &msr).error_code(), grpc::StatusCode::NOT_FOUND);
  // Seekers who did not agree to be shown to employers are not.
  AddCase(Case("520102", 91), {{Programme::kCommunityDetox, Status("ACTIVE")}});
  v1::Seeker s;
  ASSERT_TRUE(Register(Caseworker(), Case("520102", 91), &s, /*share_with_employers=*/false).ok());
  gpo.set_posting_id(theirs.posting_id());
  ms.set_posting_id(theirs.posting_id());
  ASSERT_TRUE(stub_->MatchSeekers(Ctx(other).get(), ms, &msr).ok());
  EXPECT_EQ(msr.matches_size(), 0);
  ASSERT_TRUE(stub_->MatchSeekers(Ctx(Caseworker()).get(), ms, &msr).ok());
  EXPECT_EQ(msr.matches_size(), 1);
}

// ---------------------------------------------------------------- list totals

// Pages through a list two items at a time; returns how many items all pages held and
// sets *page to the first page's PageResponse, checking every page carries the same one.
template <typename Req, typename Resp>
int AllPages(v1::Placement::Stub* stub, grpc::ClientContext* (*ctx)(const std::string&),
             const std::string& token, Req req,
             grpc::Status (v1::Placement::Stub::*call)(grpc::ClientContext*, const Req&, Resp*),
             int (Resp::*size)() const, common::v1::PageResponse* page) {
  int n = 0;
  req.mutable_page()->set_page_size(2);
  for (int i = 0; i < 20; ++i) {
    std::unique_ptr<grpc::ClientContext> c(ctx(token));
    Resp resp;
    grpc::Status s = (stub->*call)(c.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) break;
    n += (resp.*size)();
    if (i == 0) *page = resp.page();
    EXPECT_EQ(resp.page().total_size(), page->total_size());
    EXPECT_EQ(resp.page().total_size_is_bound(), page->total_size_is_bound());
    if (resp.page().next_page_token().empty()) break;
    req.mutable_page()->set_page_token(resp.page().next_page_token());
  }
  return n;
}

grpc::ClientContext* NewContext(const std::string& token) {
  auto* ctx = new grpc::ClientContext();
  PrepareBearerContext(ctx, token, absl::Seconds(60));
  return ctx;
}

TEST_F(PlacementServiceTest, ListTotalsCountEveryPageAndNothingOfAnotherCounty) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  AddEmployer(other_employer_, v1::EMPLOYER_KIND_ORDINARY);
  for (int i = 1; i <= 3; ++i) PlacedSeeker(Case("520102", 100 + i));

  // Another county's employer, posting, seeker and placement.
  const std::string far = Token(Role::kCaseworker, "520103", "cw-far");
  const std::string far_employer = GenerateSyntheticCreditCode("520103", 3);
  {
    v1::UpsertEmployerRequest req;
    v1::Employer* e = req.mutable_employer();
    e->set_credit_code(far_employer);
    e->set_name("Synthetic employer far");
    e->set_kind(v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
    e->set_division("520103");
    e->set_capacity(5);
    e->set_contact_name("Contact");
    v1::Employer out;
    grpc::Status s = stub_->UpsertEmployer(Ctx(far).get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const std::string far_case = Case("520103", 7);
  AddCase(far_case, {{Programme::kCommunityDetox, Status("ACTIVE")}});
  {
    v1::RegisterSeekerRequest req;
    req.set_case_id(far_case);
    req.set_division("520103");
    *req.mutable_consent()->mutable_given_on() = D(2026, 3, 1);
    req.mutable_consent()->add_scopes(v1::CONSENT_SCOPE_PLACEMENT);
    req.add_skills("Welding");
    req.set_education(v1::EDUCATION_JUNIOR_SECONDARY);
    req.set_min_monthly_wage(3000);
    v1::Seeker out;
    grpc::Status s = stub_->RegisterSeeker(Ctx(far).get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  v1::Posting far_posting;
  {
    v1::CreatePostingRequest req;
    v1::Posting* p = req.mutable_posting();
    p->set_employer_credit_code(far_employer);
    p->set_title("Welder");
    p->set_division("520103");
    p->set_wage_min(3000);
    p->set_wage_max(4500);
    p->add_skills("welding");
    p->set_openings(1);
    *p->mutable_valid_from() = D(2026, 3, 1);
    *p->mutable_valid_until() = D(2026, 12, 31);
    grpc::Status s = stub_->CreatePosting(Ctx(far).get(), req, &far_posting);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  {
    v1::CreatePlacementRequest req;
    req.set_case_id(far_case);
    req.set_employer_credit_code(far_employer);
    req.set_posting_id(far_posting.posting_id());
    req.set_mode(v1::PLACEMENT_MODE_CONCENTRATED);
    *req.mutable_contract_start() = D(2026, 3, 10);
    *req.mutable_contract_end() = D(2027, 3, 9);
    v1::PlacementRecord out;
    grpc::Status s = stub_->CreatePlacement(Ctx(far).get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  auto* stub = stub_.get();
  common::v1::PageResponse page;
  // The county's caseworker: 2 employers, 3 seekers, 3 postings, 3 placements.
  const std::string cw = Caseworker();
  EXPECT_EQ(AllPages(stub, NewContext, cw, v1::ListEmployersRequest(),
                     &v1::Placement::Stub::ListEmployers, &v1::ListEmployersResponse::employers_size,
                     &page),
            2);
  EXPECT_EQ(page.total_size(), 2);
  EXPECT_FALSE(page.total_size_is_bound());
  // A wider division prefix narrows within the jurisdiction, never beyond it.
  v1::ListEmployersRequest wide;
  wide.set_division_prefix("5201");
  EXPECT_EQ(AllPages(stub, NewContext, cw, wide, &v1::Placement::Stub::ListEmployers,
                     &v1::ListEmployersResponse::employers_size, &page),
            2);
  EXPECT_EQ(page.total_size(), 2);
  EXPECT_EQ(AllPages(stub, NewContext, cw, v1::ListSeekersRequest(),
                     &v1::Placement::Stub::ListSeekers, &v1::ListSeekersResponse::seekers_size,
                     &page),
            3);
  EXPECT_TRUE(page.total_size_is_bound());
  EXPECT_EQ(page.total_size(), 3);  // nothing sealed: the bound is met
  EXPECT_EQ(AllPages(stub, NewContext, cw, v1::ListPostingsRequest(),
                     &v1::Placement::Stub::ListPostings, &v1::ListPostingsResponse::postings_size,
                     &page),
            3);
  EXPECT_EQ(page.total_size(), 3);
  EXPECT_FALSE(page.total_size_is_bound());
  EXPECT_EQ(AllPages(stub, NewContext, cw, v1::ListPlacementsRequest(),
                     &v1::Placement::Stub::ListPlacements,
                     &v1::ListPlacementsResponse::placements_size, &page),
            3);
  EXPECT_TRUE(page.total_size_is_bound());
  EXPECT_EQ(page.total_size(), 3);
  v1::ListDueRetentionChecksRequest due;
  ToProtoDate(CivilDay(2027, 6, 1), due.mutable_as_of());
  const int checks = AllPages(stub, NewContext, cw, due,
                              &v1::Placement::Stub::ListDueRetentionChecks,
                              &v1::ListDueRetentionChecksResponse::checks_size, &page);
  EXPECT_GT(checks, 3);
  EXPECT_TRUE(page.total_size_is_bound());
  EXPECT_EQ(page.total_size(), checks);
  // The other county's caseworker counts its own only; the nation counts both.
  EXPECT_EQ(AllPages(stub, NewContext, far, v1::ListPostingsRequest(),
                     &v1::Placement::Stub::ListPostings, &v1::ListPostingsResponse::postings_size,
                     &page),
            1);
  EXPECT_EQ(page.total_size(), 1);
  EXPECT_EQ(AllPages(stub, NewContext, far, v1::ListPlacementsRequest(),
                     &v1::Placement::Stub::ListPlacements,
                     &v1::ListPlacementsResponse::placements_size, &page),
            1);
  EXPECT_EQ(page.total_size(), 1);
  EXPECT_EQ(AllPages(stub, NewContext, far, due, &v1::Placement::Stub::ListDueRetentionChecks,
                     &v1::ListDueRetentionChecksResponse::checks_size, &page),
            checks / 3);
  EXPECT_EQ(page.total_size(), checks / 3);
  EXPECT_EQ(AllPages(stub, NewContext, Admin(), v1::ListSeekersRequest(),
                     &v1::Placement::Stub::ListSeekers, &v1::ListSeekersResponse::seekers_size,
                     &page),
            4);
  EXPECT_EQ(page.total_size(), 4);
  EXPECT_EQ(AllPages(stub, NewContext, Admin(), v1::ListEmployersRequest(),
                     &v1::Placement::Stub::ListEmployers, &v1::ListEmployersResponse::employers_size,
                     &page),
            3);
  EXPECT_EQ(page.total_size(), 3);
  // An employer counts its own postings only.
  EXPECT_EQ(AllPages(stub, NewContext, Employer(other_employer_), v1::ListPostingsRequest(),
                     &v1::Placement::Stub::ListPostings, &v1::ListPostingsResponse::postings_size,
                     &page),
            0);
  EXPECT_EQ(page.total_size(), 0);
}

// ---------------------------------------------------------------- labor bureau import

v1::PostingRow Row(int i, const std::string& employer) {
  v1::PostingRow r;
  r.set_record_id(absl::StrCat("LB-2026-", i));
  r.set_employer_credit_code(employer);
  r.set_employer_name("Synthetic employer");
  r.set_title(absl::StrCat("Job ", i));
  r.set_division(i % 2 == 0 ? "520102" : "520103");
  r.set_wage_min(2000 + i % 1000);
  r.set_wage_max(4000 + i % 1000);
  r.add_skills(i % 3 == 0 ? "cooking" : "welding");
  r.set_openings(1 + i % 5);
  *r.mutable_valid_from() = D(2026, 3, 1);
  *r.mutable_valid_until() = D(2026, 9, 30);
  return r;
}

TEST_F(PlacementServiceTest, ImportsHundredThousandPostingsReportingExactlyTheBadRows) {
  constexpr int kRows = 100000;
  // Bad rows (1-based row numbers) and the field each must be reported on.
  const std::map<int, std::string> bad = {{7, "employer_credit_code"},
                                          {12345, "title"},
                                          {50000, "valid_until"},
                                          {77777, "record_id"},
                                          {99999, "division"}};
  auto make = [&](int row) {
    v1::PostingRow r = Row(row, sunshine_);
    switch (row) {
      case 7: r.set_employer_credit_code(sunshine_.substr(0, 17) + (sunshine_[17] == '0' ? "1" : "0")); break;
      case 12345: r.clear_title(); break;
      case 50000: *r.mutable_valid_until() = D(2026, 2, 1); break;
      case 77777: r.set_record_id("bad id with spaces"); break;
      case 99999: r.set_division("530102"); break;  // outside the bureau's 5201
      default: break;
    }
    return r;
  };
  auto send = [&](bool validate_only, const std::function<v1::PostingRow(int)>& row_of,
                  v1::ImportResult* result) {
    auto ctx = Ctx(Bureau());
    auto writer = stub_->ImportPostings(ctx.get(), result);
    v1::ImportPostingsChunk chunk;
    for (int i = 1; i <= kRows; ++i) {
      *chunk.add_rows() = row_of(i);
      if (chunk.rows_size() == kMaxRowsPerChunk || i == kRows) {
        chunk.set_validate_only(validate_only);
        if (!writer->Write(chunk)) break;
        chunk.Clear();
      }
    }
    writer->WritesDone();
    return writer->Finish();
  };

  absl::Time start = absl::Now();
  v1::ImportResult result;
  grpc::Status s = send(false, make, &result);
  absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::printf("imported %d postings in %s\n", kRows, absl::FormatDuration(took).c_str());
  EXPECT_LT(took, absl::Seconds(60)) << "a bulk import takes seconds, not minutes";
  EXPECT_EQ(result.rows_received(), kRows);
  EXPECT_EQ(result.rows_rejected(), static_cast<int64_t>(bad.size()));
  EXPECT_EQ(result.rows_imported(), kRows - static_cast<int64_t>(bad.size()));
  ASSERT_EQ(result.errors_size(), static_cast<int>(bad.size()));
  int i = 0;
  for (const auto& [row, field] : bad) {
    EXPECT_EQ(result.errors(i).row(), row);
    EXPECT_EQ(result.errors(i).field(), field) << result.errors(i).reason();
    EXPECT_FALSE(result.errors(i).reason().empty());
    ++i;
  }
  EXPECT_EQ(TableSizes().postings, kRows - static_cast<int64_t>(bad.size()));
  // Committed in large transactions: one audit row per batch of 5,000, not per row.
  int64_t batches = CountAudit({}, [](const AuditEntry& e) {
    return e.action == "/pathway.placement.v1.Placement/ImportPostings";
  });
  EXPECT_GE(batches, kRows / kImportCommitRows);
  EXPECT_LE(batches, kRows / kImportCommitRows + 2);

  // Re-sending the same batch changes nothing.
  v1::ImportResult again;
  ASSERT_TRUE(send(false, make, &again).ok());
  EXPECT_EQ(again.rows_imported(), 0);
  EXPECT_EQ(again.rows_updated(), 0);
  EXPECT_EQ(again.rows_unchanged(), kRows - static_cast<int64_t>(bad.size()));
  EXPECT_EQ(again.rows_rejected(), static_cast<int64_t>(bad.size()));
  EXPECT_EQ(TableSizes().postings, kRows - static_cast<int64_t>(bad.size()));

  // Validate-only reports what would change and writes nothing.
  v1::ImportResult dry;
  auto changed = [&](int row) {
    v1::PostingRow r = make(row);
    if (row == 10) r.set_openings(99);
    if (row == 99998) r.set_record_id("LB-NEW-1");
    return r;
  };
  ASSERT_TRUE(send(true, changed, &dry).ok());
  EXPECT_TRUE(dry.validate_only());
  EXPECT_EQ(dry.rows_updated(), 1);
  EXPECT_EQ(dry.rows_imported(), 1);
  EXPECT_FALSE(StoredImport("LB-NEW-1").has_value());
  std::optional<ImportedPosting> tenth = StoredImport(make(10).record_id());
  ASSERT_TRUE(tenth.has_value());
  std::optional<v1::Posting> unchanged = StoredPosting(tenth->posting_id);
  ASSERT_TRUE(unchanged.has_value());
  EXPECT_EQ(unchanged->openings(), make(10).openings());
  EXPECT_EQ(TableSizes().postings, kRows - static_cast<int64_t>(bad.size()));
}

// A record id met again in one batch sees what the earlier row left: the same
// content is unchanged, other content replaces it (whether the row was new or stored).
TEST_F(PlacementServiceTest, ARecordRepeatedInOneBatchReadsAsRowByRow) {
  auto import = [&](const std::vector<v1::PostingRow>& rows, v1::ImportResult* result) {
    auto ctx = Ctx(Bureau());
    auto writer = stub_->ImportPostings(ctx.get(), result);
    v1::ImportPostingsChunk chunk;
    for (const v1::PostingRow& r : rows) *chunk.add_rows() = r;
    EXPECT_TRUE(writer->Write(chunk));
    writer->WritesDone();
    return writer->Finish();
  };
  v1::PostingRow stored = Row(1, sunshine_);
  v1::ImportResult first;
  ASSERT_TRUE(import({stored}, &first).ok());
  ASSERT_EQ(first.rows_imported(), 1);

  v1::PostingRow fresh = Row(2, sunshine_);
  v1::PostingRow fresh_changed = fresh;
  fresh_changed.set_openings(7);
  v1::PostingRow stored_changed = stored;
  stored_changed.set_openings(8);
  v1::ImportResult result;
  ASSERT_TRUE(import({fresh, fresh_changed, fresh_changed, stored_changed, stored_changed,
                      Row(3, sunshine_)},
                     &result)
                  .ok());
  EXPECT_EQ(result.rows_imported(), 2);
  EXPECT_EQ(result.rows_updated(), 2);
  EXPECT_EQ(result.rows_unchanged(), 2);
  EXPECT_EQ(TableSizes().postings, 3);
  for (const auto& [record_id, openings] :
       {std::pair<std::string, int>{fresh.record_id(), 7}, {stored.record_id(), 8}}) {
    std::optional<ImportedPosting> found = StoredImport(record_id);
    ASSERT_TRUE(found.has_value()) << record_id;
    std::optional<v1::Posting> posting = StoredPosting(found->posting_id);
    ASSERT_TRUE(posting.has_value()) << record_id;
    EXPECT_EQ(posting->openings(), openings) << record_id;
  }
  // Inserted in the order of the batch.
  EXPECT_LT(StoredImport(fresh.record_id())->posting_id,
            StoredImport(Row(3, sunshine_).record_id())->posting_id);
}

TEST_F(PlacementServiceTest, ImportRefusesOversizedChunksAndOtherRoles) {
  v1::ImportResult result;
  {
    auto ctx = Ctx(Bureau());
    auto writer = stub_->ImportPostings(ctx.get(), &result);
    v1::ImportPostingsChunk chunk;
    for (int i = 1; i <= kMaxRowsPerChunk + 1; ++i) *chunk.add_rows() = Row(i, sunshine_);
    writer->Write(chunk);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    auto ctx = Ctx(Caseworker());
    auto writer = stub_->ImportPostings(ctx.get(), &result);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(TableSizes().postings, 0);
}

TEST_F(PlacementServiceTest, RegistrationsKeepOnlyAKeyedHashOfTheIdNumber) {
  const std::string id = GenerateSyntheticResidentId("520102", CivilDay(1990, 5, 17), 123);
  v1::ImportRegistrationsChunk chunk;
  v1::RegistrationRow* r = chunk.add_rows();
  r->set_record_id("EMP-1");
  r->set_kind(v1::REGISTRATION_KIND_EMPLOYMENT);
  r->set_resident_id_number(id);
  r->set_employer_credit_code(sunshine_);
  r->set_division("520102");
  *r->mutable_registered_on() = D(2026, 2, 1);
  v1::RegistrationRow* bad = chunk.add_rows();
  *bad = *r;
  bad->set_record_id("EMP-2");
  std::string wrong = id.substr(0, 17) + (id[17] == '1' ? "2" : "1");
  bad->set_resident_id_number(wrong);
  v1::RegistrationRow* unemployed = chunk.add_rows();
  *unemployed = *r;
  unemployed->set_record_id("UNEMP-1");
  unemployed->set_kind(v1::REGISTRATION_KIND_UNEMPLOYMENT);
  unemployed->clear_employer_credit_code();

  for (int round = 0; round < 2; ++round) {
    v1::ImportResult result;
    auto ctx = Ctx(Bureau());
    auto writer = stub_->ImportRegistrations(ctx.get(), &result);
    ASSERT_TRUE(writer->Write(chunk));
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(result.rows_imported(), round == 0 ? 2 : 0);
    EXPECT_EQ(result.rows_unchanged(), round == 0 ? 0 : 2);
    ASSERT_EQ(result.errors_size(), 1);
    EXPECT_EQ(result.errors(0).row(), 2);
    EXPECT_EQ(result.errors(0).field(), "resident_id_number");
    EXPECT_FALSE(absl::StrContains(result.DebugString(), wrong.substr(6, 8)));
  }
  EXPECT_EQ(TableSizes().labor_registrations, 2);
  for (const char* record_id : {"EMP-1", "UNEMP-1"}) {
    auto stored = ReadTables<std::optional<RegistrationRowToWrite>>(
        [&](ReadTransaction& tx) { return LoadLaborRegistration(tx, record_id); });
    ASSERT_TRUE(stored.has_value()) << record_id;
    EXPECT_EQ(stored->id_hash.size(), 32u) << record_id;
  }
  // The number is in no value of any table, on either engine.
  absl::StatusOr<DatabaseLocation> location = ParseDatabase(database_, "unused.db");
  ASSERT_TRUE(location.ok()) << location.status();
  absl::StatusOr<std::string> values =
      test::AllStoredValues(server_->runtime().store(), location->engine);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_TRUE(absl::StrContains(*values, "UNEMP-1")) << "the scan reads the tables";
  EXPECT_FALSE(absl::StrContains(*values, id));
  // Nor, on SQLite, anywhere in the database file or its WAL.
  server_->Shutdown();
  if (location->engine != DatabaseLocation::Engine::kSqlite) return;
  std::ifstream db(dir_.path() + "/placement.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
  std::ifstream wal(dir_.path() + "/placement.db-wal", std::ios::binary);
  bytes.append((std::istreambuf_iterator<char>(wal)), std::istreambuf_iterator<char>());
  EXPECT_GT(bytes.size(), 0u);
  EXPECT_FALSE(absl::StrContains(bytes, id));
}

// ---------------------------------------------------------------- reconciliation

TEST_F(PlacementServiceTest, ReconcileMatchesThroughTheRegistryIndexAndKeepsTreatmentFromTheBureau) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  const std::string id_number = GenerateSyntheticResidentId("520102", CivilDay(1991, 2, 3), 7);
  const std::string index =
      LaborExchangeIndex(DeriveLaborExchangeKey(kKey), ResidentId::Parse(id_number, CivilDay(2026, 3, 1))->normalized());
  // The registry gives the index with the case facts; RegisterSeeker keeps it.
  const std::string case_id = Case("520102", 120);
  AddCase(case_id, {{Programme::kCommunityDetox, Status("ACTIVE")}});
  registry::v1::CaseFacts facts;
  facts.set_case_id(case_id);
  facts.set_household_division("520102");
  facts.set_residence_division("520102");
  facts.set_labor_exchange_index(index);
  registry_->AddCase(facts);
  v1::RegisterSeekerRequest req;
  req.set_case_id(case_id);
  req.set_division("520102");
  *req.mutable_consent()->mutable_given_on() = D(2026, 3, 1);
  req.mutable_consent()->add_scopes(v1::CONSENT_SCOPE_PLACEMENT);
  req.mutable_consent()->add_scopes(v1::CONSENT_SCOPE_SHARE_WITH_LABOR_BUREAU);
  v1::Seeker seeker;
  ASSERT_TRUE(stub_->RegisterSeeker(Ctx(Caseworker()).get(), req, &seeker).ok());
  EXPECT_EQ(ReadTables<std::optional<std::string>>(
                [&](ReadTransaction& tx) { return LoadSeekerLaborIndex(tx, case_id); }),
            std::optional<std::string>(index));
  EXPECT_FALSE(absl::StrContains(seeker.DebugString(), index));
  // A second seeker, registered while the registry had no index for it.
  const std::string later = Case("520102", 121);
  AddCase(later, {{Programme::kCommunityDetox, Status("ACTIVE")}});
  v1::Seeker other;
  ASSERT_TRUE(Register(Caseworker(), later, &other).ok());

  v1::PlacementRecord p;
  ASSERT_TRUE(Place(case_id, sunshine_, 0, &p).ok());
  v1::PlacementRecord q;
  ASSERT_TRUE(Place(later, sunshine_, 0, &q).ok());
  clock_->Set(At(CivilDay(2026, 4, 20)));
  v1::RecordRetentionRequest rr;
  rr.set_placement_id(p.placement_id());
  rr.set_months(1);
  rr.set_outcome(v1::RETENTION_OUTCOME_STILL_EMPLOYED);
  *rr.mutable_checked_on() = D(2026, 4, 10);
  ASSERT_TRUE(stub_->RecordRetention(Ctx(Caseworker()).get(), rr, &p).ok());
  // The bureau registered the person as unemployed after the contract start.
  {
    v1::ImportRegistrationsChunk chunk;
    for (const char* rec : {"EMP-120", "UNEMP-120"}) {
      v1::RegistrationRow* r = chunk.add_rows();
      r->set_record_id(rec);
      r->set_kind(rec[0] == 'E' ? v1::REGISTRATION_KIND_EMPLOYMENT
                                : v1::REGISTRATION_KIND_UNEMPLOYMENT);
      r->set_resident_id_number(id_number);
      if (rec[0] == 'E') r->set_employer_credit_code(sunshine_);
      r->set_division("520102");
      *r->mutable_registered_on() = rec[0] == 'E' ? D(2026, 3, 12) : D(2026, 3, 25);
    }
    v1::ImportResult result;
    auto ctx = Ctx(Bureau());
    auto writer = stub_->ImportRegistrations(ctx.get(), &result);
    ASSERT_TRUE(writer->Write(chunk));
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    ASSERT_EQ(result.rows_imported(), 2);
  }
  // Suspended since (isolation): the bureau must not learn it, nor the reason.
  v1::SeekerChange change;
  v1::SuspendSeekerRequest sr;
  sr.set_case_id(case_id);
  *sr.mutable_effective_on() = D(2026, 4, 15);
  sr.set_reason(kReason);
  ASSERT_TRUE(stub_->SuspendSeeker(Ctx(Admin()).get(), sr, &change).ok());

  auto reconcile = [&](const std::string& token, v1::ReconcileRetentionResponse* out,
                       const std::string& page_token = "") {
    v1::ReconcileRetentionRequest r;
    *r.mutable_as_of() = D(2026, 4, 20);
    r.mutable_page()->set_page_token(page_token);
    return stub_->ReconcileRetention(Ctx(token).get(), r, out);
  };
  // The registry is down: the backfill waits, the reconciliation still answers.
  registry_->SetUnavailable(true);
  v1::ReconcileRetentionResponse bureau;
  grpc::Status s = reconcile(Bureau(), &bureau);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(bureau.seekers_backfilled(), 0);
  ASSERT_EQ(bureau.discrepancies_size(), 1);
  const v1::RetentionDiscrepancy& d = bureau.discrepancies(0);
  EXPECT_EQ(d.kind(), v1::DISCREPANCY_KIND_RETAINED_BUT_UNEMPLOYED);
  EXPECT_EQ(d.placement_id(), p.placement_id());
  EXPECT_EQ(d.bureau_says().record_id(), "UNEMP-120");
  EXPECT_TRUE(d.case_id().empty()) << "a case id never reaches a labor bureau token";
  EXPECT_EQ(TreatmentLeaks(bureau), std::vector<std::string>{});
  EXPECT_FALSE(absl::StrContains(bureau.DebugString(), "SUSPENDED"));
  // The second seeker did not consent to sharing with the bureau: not even counted.
  EXPECT_EQ(bureau.placements_examined(), 1);

  // A caseworker sees every placement, with case ids; the unindexed one is counted.
  v1::ReconcileRetentionResponse caseworker;
  ASSERT_TRUE(reconcile(Caseworker(), &caseworker).ok());
  ASSERT_EQ(caseworker.discrepancies_size(), 1);
  EXPECT_EQ(caseworker.discrepancies(0).case_id(), case_id);
  EXPECT_EQ(caseworker.placements_examined(), 2);
  EXPECT_EQ(caseworker.placements_without_index(), 1);
  // Once the registry answers, the missing index is fetched (lazily, once).
  registry::v1::CaseFacts later_facts;
  later_facts.set_case_id(later);
  later_facts.set_household_division("520102");
  later_facts.set_residence_division("520102");
  later_facts.set_labor_exchange_index(std::string(32, '\x01'));
  registry_->AddCase(later_facts);
  registry_->SetUnavailable(false);
  ASSERT_TRUE(reconcile(Caseworker(), &caseworker).ok());
  EXPECT_EQ(caseworker.seekers_backfilled(), 1);
  EXPECT_EQ(caseworker.placements_without_index(), 0);
  ASSERT_TRUE(reconcile(Caseworker(), &caseworker).ok());
  EXPECT_EQ(caseworker.seekers_backfilled(), 0);
  // Every read of the case is audited.
  ASSERT_TRUE(server_->runtime().read_audit().Flush().ok());
  AuditFilter of_case;
  of_case.case_id = case_id;
  EXPECT_GE(CountAudit(of_case,
                       [](const AuditEntry& e) {
                         return e.action == "/pathway.placement.v1.Placement/ReconcileRetention";
                       }),
            3);

  // Roles, dates and page tokens.
  v1::ReconcileRetentionResponse none;
  EXPECT_EQ(reconcile(Employer(sunshine_), &none).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(reconcile(Caseworker(), &none, "%%%").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(reconcile(Caseworker(), &none, absl::WebSafeBase64Escape("12")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ReconcileRetentionRequest future;
  *future.mutable_as_of() = D(2026, 4, 21);
  EXPECT_EQ(stub_->ReconcileRetention(Ctx(Caseworker()).get(), future, &none).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}


// ---------------------------------------------------------------- the privacy firewall

// The case id pattern (DESIGN.md §2), anywhere in a text.
bool HasCaseId(const std::string& text) {
  static const std::regex kCaseId(R"(\d{6}-\d{4}-\d{7}-[0-9X])");
  return std::regex_search(text, kCaseId);
}

// Treatment facts a reply or an error could carry in words.
std::vector<std::string> TreatmentWords(const std::string& text) {
  std::vector<std::string> found;
  for (const char* word : {kReason, "SUSPENDED", "uspend", "isolat", "detox", "rehab", "戒毒",
                           "隔离", "ELIGIBILITY", "TRAINING_ONLY", "treatment"}) {
    if (absl::StrContains(text, word)) found.push_back(word);
  }
  return found;
}

// Calls any unary method of the service with a serialized request (the generic stub, as
// the outbox dispatcher does), so the walk below covers every method by its descriptor.
grpc::Status CallUnary(grpc::GenericStub& stub, const std::string& token,
                       const std::string& method, const google::protobuf::Message& request,
                       google::protobuf::Message* response) {
  grpc::ClientContext ctx;
  PrepareBearerContext(&ctx, token, absl::Seconds(30));
  grpc::Slice slice(request.SerializeAsString());
  grpc::ByteBuffer in(&slice, 1);
  grpc::ByteBuffer out;
  grpc::Status result;
  absl::Notification done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &in, &out, [&](grpc::Status st) {
    result = std::move(st);
    done.Notify();
  });
  done.WaitForNotification();
  if (result.ok()) {
    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(out.Dump(&slices).ok());
    std::string bytes;
    for (const grpc::Slice& sl : slices) {
      bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    }
    EXPECT_TRUE(response->ParseFromString(bytes)) << method;
  }
  return result;
}

TEST_F(PlacementServiceTest, EveryRpcAndStreamKeepsCaseIdsAndTreatmentFromOutsideRoles) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  AddEmployer(other_employer_, v1::EMPLOYER_KIND_ORDINARY);
  // A placement suspended by the isolation hand-off (with a reason), a seeker who is
  // matchable, and a training during isolation: what the firewall must hold back.
  const std::string placed = Case("520102", 140);
  v1::PlacementRecord p = PlacedSeeker(placed);
  const std::string seeking = Case("520102", 141);
  AddCase(seeking, {{Programme::kCommunityRehab, Status("ACTIVE")}});
  v1::Seeker seeker;
  ASSERT_TRUE(Register(Caseworker(), seeking, &seeker).ok());
  const std::string training = Case("520102", 142);
  AddCase(training, {{Programme::kCompulsoryIsolation,
                      Status("IN_JUDICIAL_FACILITY_TRAINING_ELIGIBLE")}});
  ASSERT_TRUE(Register(Token(Role::kFacilityStaff, "520102", "fs-1"), training, &seeker).ok());
  clock_->Set(At(CivilDay(2026, 4, 12)));
  v1::SuspendSeekerRequest sr;
  sr.set_case_id(placed);
  *sr.mutable_effective_on() = D(2026, 4, 11);
  sr.set_reason(kReason);
  v1::SeekerChange change;
  ASSERT_TRUE(stub_->SuspendSeeker(Ctx(Service()).get(), sr, &change).ok());
  ASSERT_EQ(change.placement().state(), v1::PLACEMENT_STATE_SUSPENDED);

  // The employer's own view does not change with the suspension: the placement is
  // active and its checkpoint comes due as scheduled.
  v1::ListDueRetentionChecksResponse due = Due(Employer(sunshine_));
  ASSERT_EQ(due.checks_size(), 1);
  EXPECT_EQ(due.checks(0).placement_id(), p.placement_id());
  EXPECT_EQ(due.checks(0).case_id(), "");
  EXPECT_EQ(Due(Caseworker()).checks_size(), 0) << "the caseworker knows it is suspended";

  // A request for every unary method: a method added to the proto without one here
  // fails the test, so the walk always covers the whole service.
  std::map<std::string, std::function<std::unique_ptr<google::protobuf::Message>()>> requests;
  auto with_case = [](auto request, const std::string& case_id) {
    request.set_case_id(case_id);
    return std::make_unique<decltype(request)>(std::move(request));
  };
  requests["GetProgramStatus"] = [&] {
    return with_case(common::v1::GetProgramStatusRequest(), placed);
  };
  requests["UpsertEmployer"] = [&] {
    auto r = std::make_unique<v1::UpsertEmployerRequest>();
    v1::Employer* e = r->mutable_employer();
    e->set_credit_code(other_employer_);
    e->set_name("Synthetic employer renamed");
    e->set_kind(v1::EMPLOYER_KIND_ORDINARY);
    e->set_division("520102");
    return r;
  };
  requests["GetEmployer"] = [&] {
    auto r = std::make_unique<v1::GetEmployerRequest>();
    r->set_credit_code(sunshine_);
    return r;
  };
  requests["ListEmployers"] = [] { return std::make_unique<v1::ListEmployersRequest>(); };
  requests["RegisterSeeker"] = [&] {
    auto r = with_case(v1::RegisterSeekerRequest(), placed);
    r->set_division("520102");
    *r->mutable_consent()->mutable_given_on() = D(2026, 3, 1);
    r->mutable_consent()->add_scopes(v1::CONSENT_SCOPE_PLACEMENT);
    return r;
  };
  requests["UpdateSeeker"] = [&] { return with_case(v1::UpdateSeekerRequest(), placed); };
  requests["GetSeeker"] = [&] { return with_case(v1::GetSeekerRequest(), placed); };
  requests["ListSeekers"] = [] { return std::make_unique<v1::ListSeekersRequest>(); };
  requests["SuspendSeeker"] = [&] { return std::make_unique<v1::SuspendSeekerRequest>(sr); };
  requests["ResumeSeeker"] = [&] {
    auto r = with_case(v1::ResumeSeekerRequest(), placed);
    *r->mutable_effective_on() = D(2026, 4, 12);
    return r;
  };
  requests["CloseSeeker"] = [&] {
    auto r = with_case(v1::CloseSeekerRequest(), placed);
    *r->mutable_effective_on() = D(2026, 4, 12);
    r->set_reason(kReason);
    return r;
  };
  requests["RecordTraining"] = [&] {
    auto r = with_case(v1::RecordTrainingRequest(), training);
    r->set_course("Cooking");
    r->set_provider("Facility workshop");
    *r->mutable_start_on() = D(2026, 4, 1);
    r->set_outcome(v1::TRAINING_OUTCOME_IN_PROGRESS);
    return r;
  };
  requests["ListTrainings"] = [&] { return with_case(v1::ListTrainingsRequest(), training); };
  requests["CreatePosting"] = [&] {
    auto r = std::make_unique<v1::CreatePostingRequest>();
    v1::Posting* po = r->mutable_posting();
    po->set_employer_credit_code(sunshine_);
    po->set_title("Cook");
    po->set_division("520102");
    po->set_wage_min(3000);
    po->set_wage_max(3500);
    po->set_openings(1);
    *po->mutable_valid_from() = D(2026, 4, 1);
    *po->mutable_valid_until() = D(2026, 12, 31);
    return r;
  };
  requests["GetPosting"] = [&] {
    auto r = std::make_unique<v1::GetPostingRequest>();
    r->set_posting_id(p.posting_id());
    return r;
  };
  requests["ListPostings"] = [] { return std::make_unique<v1::ListPostingsRequest>(); };
  requests["MatchPostings"] = [&] { return with_case(v1::MatchPostingsRequest(), seeking); };
  requests["MatchSeekers"] = [&] {
    auto r = std::make_unique<v1::MatchSeekersRequest>();
    r->set_posting_id(p.posting_id());
    return r;
  };
  requests["CreatePlacement"] = [&] {
    auto r = with_case(v1::CreatePlacementRequest(), seeking);
    r->set_employer_credit_code(sunshine_);
    r->set_mode(v1::PLACEMENT_MODE_DISPERSED);
    *r->mutable_contract_start() = D(2026, 4, 12);
    return r;
  };
  requests["RecordRetention"] = [&] {
    auto r = std::make_unique<v1::RecordRetentionRequest>();
    r->set_placement_id(p.placement_id());
    r->set_months(3);  // not yet within a week of its day: refused, but say nothing
    r->set_outcome(v1::RETENTION_OUTCOME_STILL_EMPLOYED);
    *r->mutable_checked_on() = D(2026, 4, 12);
    return r;
  };
  requests["GetPlacement"] = [&] {
    auto r = std::make_unique<v1::GetPlacementRequest>();
    r->set_placement_id(p.placement_id());
    return r;
  };
  requests["ListPlacements"] = [] { return std::make_unique<v1::ListPlacementsRequest>(); };
  requests["ListDueRetentionChecks"] = [] {
    return std::make_unique<v1::ListDueRetentionChecksRequest>();
  };
  requests["ListSubsidyTiers"] = [] { return std::make_unique<v1::ListSubsidyTiersRequest>(); };
  requests["FileSubsidyClaim"] = [&] {
    auto r = std::make_unique<v1::FileSubsidyClaimRequest>();
    r->set_employer_credit_code(sunshine_);
    r->set_tier("BASE_1Y");
    *r->mutable_period_start() = D(2026, 1, 1);
    *r->mutable_period_end() = D(2026, 3, 31);
    return r;
  };
  requests["DecideSubsidyClaim"] = [] {
    auto r = std::make_unique<v1::DecideSubsidyClaimRequest>();
    r->set_claim_id(1);
    return r;
  };
  requests["ListSubsidyClaims"] = [] { return std::make_unique<v1::ListSubsidyClaimsRequest>(); };
  requests["ReconcileRetention"] = [] { return std::make_unique<v1::ReconcileRetentionRequest>(); };
  requests["GetOutcomeMetrics"] = [] {
    auto r = std::make_unique<v1::GetOutcomeMetricsRequest>();
    *r->mutable_period_start() = D(2026, 1, 1);
    *r->mutable_period_end() = D(2026, 12, 31);
    return r;
  };

  grpc::GenericStub generic(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                grpc::InsecureChannelCredentials()));
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          v1::Placement::service_full_name());
  ASSERT_NE(service, nullptr);

  struct Outside {
    const char* name;
    std::string token;
  } roles[] = {{"labor_bureau", Bureau()}, {"employer", Employer(sunshine_)}};
  for (const Outside& role : roles) {
    SCOPED_TRACE(role.name);
    int answered = 0;
    // Checks one reply or one refusal: no case id, no treatment fact, in any form.
    auto check = [&](const std::string& what, const grpc::Status& st,
                     const google::protobuf::Message* reply) {
      SCOPED_TRACE(what);
      EXPECT_FALSE(HasCaseId(st.error_message())) << st.error_message();
      EXPECT_EQ(TreatmentWords(st.error_message()), std::vector<std::string>{})
          << st.error_message();
      if (!st.ok() || reply == nullptr) return;
      ++answered;
      const std::string text = reply->DebugString();
      EXPECT_FALSE(HasCaseId(text)) << text;
      EXPECT_FALSE(HasCaseId(reply->SerializeAsString()));
      EXPECT_EQ(TreatmentWords(text), std::vector<std::string>{}) << text;
      std::vector<std::string> marked;
      FindTreatmentDetail(*reply, reply->GetDescriptor()->name(), &marked);
      EXPECT_EQ(marked, std::vector<std::string>{});
    };

    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* m = service->method(i);
      if (m->client_streaming() || m->server_streaming()) continue;  // below
      auto it = requests.find(m->name());
      ASSERT_NE(it, requests.end()) << m->name() << " is not walked";
      std::unique_ptr<google::protobuf::Message> request = it->second();
      std::unique_ptr<google::protobuf::Message> reply(
          google::protobuf::MessageFactory::generated_factory()
              ->GetPrototype(m->output_type())
              ->New());
      grpc::Status st =
          CallUnary(generic, role.token, absl::StrCat("/", service->full_name(), "/", m->name()),
                    *request, reply.get());
      check(m->name(), st, reply.get());
    }
    // A case id in a filter is refused without being echoed.
    v1::ListPlacementsRequest by_case;
    by_case.set_case_id(placed);
    v1::ListPlacementsResponse listed;
    grpc::Status st = stub_->ListPlacements(Ctx(role.token).get(), by_case, &listed);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    check("ListPlacements by case", st, nullptr);
    by_case.set_case_id("520102-2026-0000140-0");  // a wrong check character
    st = stub_->ListPlacements(Ctx(role.token).get(), by_case, &listed);
    EXPECT_NE(st.error_code(), grpc::StatusCode::OK);
    check("ListPlacements by a mistyped case", st, nullptr);
    // The state filter tells nothing either.
    v1::ListPlacementsRequest by_state;
    by_state.set_state(v1::PLACEMENT_STATE_SUSPENDED);
    ASSERT_TRUE(stub_->ListPlacements(Ctx(role.token).get(), by_state, &listed).ok());
    EXPECT_EQ(listed.placements_size(), 0);
    by_state.set_state(v1::PLACEMENT_STATE_ACTIVE);
    ASSERT_TRUE(stub_->ListPlacements(Ctx(role.token).get(), by_state, &listed).ok());
    EXPECT_EQ(listed.placements_size(), 1);
    check("ListPlacements ACTIVE", grpc::Status::OK, &listed);

    // The streams: both imports and the export.
    {
      v1::ImportPostingsChunk chunk;
      *chunk.add_rows() = Row(7, sunshine_);
      v1::ImportResult result;
      auto ctx = Ctx(role.token);
      auto writer = stub_->ImportPostings(ctx.get(), &result);
      writer->Write(chunk);
      writer->WritesDone();
      check("ImportPostings", writer->Finish(), &result);
    }
    {
      v1::ImportRegistrationsChunk chunk;
      v1::RegistrationRow* r = chunk.add_rows();
      r->set_record_id("EMP-140");
      r->set_kind(v1::REGISTRATION_KIND_EMPLOYMENT);
      r->set_resident_id_number(GenerateSyntheticResidentId("520102", CivilDay(1990, 1, 1), 3));
      r->set_employer_credit_code(sunshine_);
      r->set_division("520102");
      *r->mutable_registered_on() = D(2026, 3, 12);
      v1::RegistrationRow* bad = chunk.add_rows();
      bad->set_record_id("BAD-140");
      bad->set_kind(v1::REGISTRATION_KIND_UNEMPLOYMENT);
      bad->set_resident_id_number(placed);  // a case id where an ID number belongs
      bad->set_division("520102");
      *bad->mutable_registered_on() = D(2026, 3, 12);
      v1::ImportResult result;
      auto ctx = Ctx(role.token);
      auto writer = stub_->ImportRegistrations(ctx.get(), &result);
      writer->Write(chunk);
      writer->WritesDone();
      check("ImportRegistrations", writer->Finish(), &result);
    }
    {
      v1::ExportOutcomesRequest er;
      *er.mutable_period_start() = D(2026, 1, 1);
      *er.mutable_period_end() = D(2026, 12, 31);
      auto ctx = Ctx(role.token);
      auto reader = stub_->ExportOutcomes(ctx.get(), er);
      v1::ExportOutcomesChunk chunk;
      int outcomes = 0;
      while (reader->Read(&chunk)) {
        outcomes += chunk.outcomes_size();
        for (const auto& o : chunk.outcomes()) EXPECT_EQ(o.state(), v1::PLACEMENT_STATE_ACTIVE);
        check("ExportOutcomes chunk", grpc::Status::OK, &chunk);
      }
      grpc::Status done = reader->Finish();
      check("ExportOutcomes", done, nullptr);
      if (std::string(role.name) == "labor_bureau") {
        ASSERT_TRUE(done.ok()) << done.error_message();
        EXPECT_EQ(outcomes, 1);
      }
    }
    // Enough of the walk was answered for the scan to mean something: reads of
    // employers, postings, placements, tiers, claims and the role's own extras.
    EXPECT_GE(answered, 10);
  }

  // What the walk let through was truly the suspended placement, seen as active.
  v1::GetPlacementRequest gp;
  gp.set_placement_id(p.placement_id());
  v1::PlacementRecord seen;
  ASSERT_TRUE(stub_->GetPlacement(Ctx(Employer(sunshine_)).get(), gp, &seen).ok());
  EXPECT_EQ(seen.state(), v1::PLACEMENT_STATE_ACTIVE);
  EXPECT_EQ(seen.case_id(), "");
  ASSERT_TRUE(stub_->GetPlacement(Ctx(Caseworker()).get(), gp, &seen).ok());
  EXPECT_EQ(seen.state(), v1::PLACEMENT_STATE_SUSPENDED);
  EXPECT_EQ(seen.case_id(), placed);
  // An employment fact from the employer is accepted on it, and tells it nothing.
  v1::RecordRetentionRequest rr;
  rr.set_placement_id(p.placement_id());
  rr.set_months(1);
  rr.set_outcome(v1::RETENTION_OUTCOME_STILL_EMPLOYED);
  *rr.mutable_checked_on() = D(2026, 4, 12);
  grpc::Status recorded = stub_->RecordRetention(Ctx(Employer(sunshine_)).get(), rr, &seen);
  ASSERT_TRUE(recorded.ok()) << recorded.error_message();
  EXPECT_EQ(seen.state(), v1::PLACEMENT_STATE_ACTIVE);
  EXPECT_EQ(seen.checkpoints(0).outcome(), v1::RETENTION_OUTCOME_STILL_EMPLOYED);
}


// ---------------------------------------------------------------- hand-offs dated in the past

TEST_F(PlacementServiceTest, AHandoffDatedBeforeRegistrationIsAppliedNeverParked) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  const std::string case_id = Case("520102", 150);
  v1::PlacementRecord p = PlacedSeeker(case_id);  // registered and placed on 1 March
  clock_->Set(At(CivilDay(2026, 4, 20)));
  ASSERT_EQ(Due(Caseworker()).checks_size(), 1);

  // The sender's side, as the isolation service runs it: an outbox in its own
  // database, the real dispatcher and gRPC deliverer, a service token.
  auto sender = OpenTestStore(OutboxMigrations());
  ASSERT_TRUE(sender.ok()) << sender.status();
  auto signer = TokenSigner::Create(kKey);
  ASSERT_TRUE(signer.ok());
  ServiceTokenSource tokens(signer->get(), clock_.get(), "svc-compulsory_isolation");
  GrpcDeliverer deliverer({{"placement", absl::StrCat("127.0.0.1:", server_->port())}}, &tokens,
                          PlaintextChannelSecurity());
  OutboxDispatcher dispatcher(sender->get(), &deliverer, clock_.get(), {});
  auto enqueue = [&](const char* method, const google::protobuf::Message& request,
                     const std::string& key) {
    ASSERT_TRUE((*sender)->Write([&](Transaction& tx) {
      return EnqueueHandoff(tx,
                            {"placement", absl::StrCat("/pathway.placement.v1.Placement/", method),
                             request.SerializeAsString(), key},
                            clock_->Now());
    }).ok());
  };

  // Isolation decided on 20 February, recorded after the fact: before the seeker was
  // registered. The hand-off is delivered, not parked, and the placement is suspended
  // as of the latest date the seeker's record allows.
  v1::SuspendSeekerRequest suspend;
  suspend.set_case_id(case_id);
  *suspend.mutable_effective_on() = D(2026, 2, 20);
  suspend.set_reason(kReason);
  enqueue("SuspendSeeker", suspend, "qz-decision-150-suspend-placement");
  absl::StatusOr<int> delivered = dispatcher.RunOnce();
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(*delivered, 1);
  EXPECT_EQ(SummarizeOutbox(**sender)->parked, 0);
  v1::GetPlacementRequest gp;
  gp.set_placement_id(p.placement_id());
  v1::PlacementRecord placement;
  ASSERT_TRUE(stub_->GetPlacement(Ctx(Caseworker()).get(), gp, &placement).ok());
  EXPECT_EQ(placement.state(), v1::PLACEMENT_STATE_SUSPENDED);
  v1::GetSeekerRequest gs;
  gs.set_case_id(case_id);
  v1::Seeker seeker;
  ASSERT_TRUE(stub_->GetSeeker(Ctx(Caseworker()).get(), gs, &seeker).ok());
  EXPECT_EQ(seeker.state(), v1::SEEKER_STATE_SUSPENDED);
  EXPECT_EQ(seeker.state_since().month(), 3);
  EXPECT_EQ(seeker.state_since().day(), 1) << "the registration day, the latest it can";
  EXPECT_EQ(ProgramStatusOf(case_id).state(), "SUSPENDED");
  EXPECT_EQ(Due(Caseworker()).checks_size(), 0) << "no retention check for a person in isolation";

  // The release, dated before the registration too: resumed, not parked.
  v1::ResumeSeekerRequest resume;
  resume.set_case_id(case_id);
  *resume.mutable_effective_on() = D(2026, 2, 27);
  enqueue("ResumeSeeker", resume, "qz-decision-150-resume-placement");
  delivered = dispatcher.RunOnce();
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(*delivered, 1);
  EXPECT_EQ(SummarizeOutbox(**sender)->parked, 0);
  ASSERT_TRUE(stub_->GetPlacement(Ctx(Caseworker()).get(), gp, &placement).ok());
  EXPECT_EQ(placement.state(), v1::PLACEMENT_STATE_ACTIVE);
  EXPECT_EQ(ProgramStatusOf(case_id).state(), "PLACED");

  // Another service's clock a little ahead: applied today, not refused.
  *suspend.mutable_effective_on() = D(2026, 4, 21);
  enqueue("SuspendSeeker", suspend, "qz-decision-151-suspend-placement");
  EXPECT_EQ(*dispatcher.RunOnce(), 1);
  ASSERT_TRUE(stub_->GetSeeker(Ctx(Caseworker()).get(), gs, &seeker).ok());
  EXPECT_EQ(seeker.state(), v1::SEEKER_STATE_SUSPENDED);
  EXPECT_EQ(seeker.state_since().day(), 20);
  EXPECT_EQ(SummarizeOutbox(**sender)->parked, 0);

  // A caseworker's close dated before the registration is still bad input.
  v1::CloseSeekerRequest close;
  close.set_case_id(case_id);
  *close.mutable_effective_on() = D(2026, 2, 1);
  close.set_reason("moved away");
  v1::SeekerChange change;
  EXPECT_EQ(stub_->CloseSeeker(Ctx(Caseworker()).get(), close, &change).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}


// ---------------------------------------------------------------- scope (DESIGN.md §6)

TEST_F(PlacementServiceTest, CaseKeyedRpcsFollowTheRegistrysScopeAndOnlyTheExecutingCountyActs) {
  AddEmployer(sunshine_, v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
  // Registered in Zhejiang (household 330102), living in Guiyang (residence 520102),
  // where the township follows the seeker (the seeker's county 520102).
  auto facts_of = [](const std::string& case_id, bool sealed) {
    registry::v1::CaseFacts f;
    f.set_case_id(case_id);
    f.set_household_division("330102");
    f.set_residence_division("520102");
    f.set_sealed(sealed);
    return f;
  };
  const std::string case_id = Case("330102", 160);
  AddCase(case_id, {{Programme::kCommunityDetox, Status("ACTIVE")}});
  registry_->AddCase(facts_of(case_id, false));
  v1::Seeker seeker;
  ASSERT_TRUE(Register(Caseworker(), case_id, &seeker).ok());
  v1::Posting posting;
  ASSERT_TRUE(Post(Employer(sunshine_), sunshine_, &posting).ok());
  v1::PlacementRecord p;
  grpc::Status placed = Place(case_id, sunshine_, posting.posting_id(), &p);
  ASSERT_TRUE(placed.ok()) << placed.error_message();
  const std::string never_issued = Case("330102", 999);

  // Every case-keyed read and write, for one token and one case (or placement).
  struct Answers {
    grpc::Status get_seeker, list_trainings, match_postings, get_placement, update_seeker,
        record_training, create_placement, record_retention, close_seeker;
    int listed_placements = 0;
  };
  auto ask = [&](const std::string& token, const std::string& id, int64_t placement_id) {
    Answers a;
    v1::GetSeekerRequest gs;
    gs.set_case_id(id);
    v1::Seeker s;
    a.get_seeker = stub_->GetSeeker(Ctx(token).get(), gs, &s);
    v1::ListTrainingsRequest lt;
    lt.set_case_id(id);
    v1::ListTrainingsResponse trs;
    a.list_trainings = stub_->ListTrainings(Ctx(token).get(), lt, &trs);
    v1::MatchPostingsRequest mp;
    mp.set_case_id(id);
    v1::MatchPostingsResponse mpr;
    a.match_postings = stub_->MatchPostings(Ctx(token).get(), mp, &mpr);
    v1::GetPlacementRequest gp;
    gp.set_placement_id(placement_id);
    v1::PlacementRecord pr;
    a.get_placement = stub_->GetPlacement(Ctx(token).get(), gp, &pr);
    v1::ListPlacementsRequest lp;
    lp.set_case_id(id);
    v1::ListPlacementsResponse lpr;
    EXPECT_TRUE(stub_->ListPlacements(Ctx(token).get(), lp, &lpr).ok());
    a.listed_placements = lpr.placements_size();
    v1::UpdateSeekerRequest us;
    us.set_case_id(id);
    us.add_skills("welding");
    a.update_seeker = stub_->UpdateSeeker(Ctx(token).get(), us, &s);
    v1::RecordTrainingRequest tr;
    tr.set_case_id(id);
    tr.set_course("Welding safety");
    tr.set_provider("County vocational school");
    *tr.mutable_start_on() = D(2026, 3, 1);
    tr.set_outcome(v1::TRAINING_OUTCOME_IN_PROGRESS);
    v1::Training t;
    a.record_training = stub_->RecordTraining(Ctx(token).get(), tr, &t);
    v1::CreatePlacementRequest cp;
    cp.set_case_id(id);
    cp.set_mode(v1::PLACEMENT_MODE_SELF_EMPLOYMENT);
    *cp.mutable_contract_start() = D(2026, 3, 1);
    a.create_placement = stub_->CreatePlacement(Ctx(token).get(), cp, &pr);
    v1::RecordRetentionRequest rr;
    rr.set_placement_id(placement_id);
    rr.set_months(12);  // far ahead: an allowed caller gets INVALID_ARGUMENT, nothing changes
    rr.set_outcome(v1::RETENTION_OUTCOME_STILL_EMPLOYED);
    *rr.mutable_checked_on() = D(2026, 3, 1);
    a.record_retention = stub_->RecordRetention(Ctx(token).get(), rr, &pr);
    v1::CloseSeekerRequest cs;
    cs.set_case_id(id);
    *cs.mutable_effective_on() = D(2026, 2, 1);  // before registration: refused if allowed
    cs.set_reason("moved away");
    v1::SeekerChange change;
    a.close_seeker = stub_->CloseSeeker(Ctx(token).get(), cs, &change);
    return a;
  };
  auto same = [](const grpc::Status& a, const grpc::Status& b) {
    return a.error_code() == b.error_code() && a.error_message() == b.error_message();
  };
  // What a never-issued case (and an unknown placement) answers: the reference.
  const Answers missing = ask(Caseworker(), never_issued, 987654);
  ASSERT_EQ(missing.get_seeker.error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_EQ(missing.get_seeker.error_message(), "case not found");
  ASSERT_EQ(missing.get_placement.error_code(), grpc::StatusCode::NOT_FOUND);

  // Out of scope: another province, a sibling county. Exactly like a case never issued.
  for (const std::string& token : {Token(Role::kCaseworker, "530102", "cw-km"),
                                   Token(Role::kCaseworker, "520103", "cw-sibling")}) {
    const Answers a = ask(token, case_id, p.placement_id());
    for (auto [got, want] : {std::pair{a.get_seeker, missing.get_seeker},
                             {a.list_trainings, missing.list_trainings},
                             {a.match_postings, missing.match_postings},
                             {a.get_placement, missing.get_placement},
                             {a.update_seeker, missing.update_seeker},
                             {a.record_training, missing.record_training},
                             {a.create_placement, missing.create_placement},
                             {a.record_retention, missing.record_retention},
                             {a.close_seeker, missing.close_seeker}}) {
      EXPECT_TRUE(same(got, want)) << got.error_code() << " " << got.error_message() << " vs "
                                   << want.error_code() << " " << want.error_message();
    }
    EXPECT_EQ(a.listed_placements, 0);
  }
  // Each refused write is still audited, with the case it named.
  ASSERT_TRUE(server_->runtime().read_audit().Flush().ok());
  AuditFilter refused;
  refused.case_id = case_id;
  refused.subject = "cw-km";
  EXPECT_GE(CountAudit(refused, [](const AuditEntry& e) { return e.outcome != "OK"; }), 4);

  // The household place (双向管控) sees the case, its seeker and placement; it does not
  // act: the township that follows the seeker executes.
  {
    const Answers a = ask(Token(Role::kCaseworker, "330102", "cw-zj"), case_id, p.placement_id());
    EXPECT_TRUE(a.get_seeker.ok()) << a.get_seeker.error_message();
    EXPECT_TRUE(a.list_trainings.ok()) << a.list_trainings.error_message();
    EXPECT_TRUE(a.get_placement.ok()) << a.get_placement.error_message();
    EXPECT_EQ(a.listed_placements, 1);
    EXPECT_EQ(a.match_postings.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << "seen, and placed already: " << a.match_postings.error_message();
    for (const grpc::Status& write : {a.update_seeker, a.record_training, a.create_placement,
                                      a.record_retention, a.close_seeker}) {
      EXPECT_EQ(write.error_code(), grpc::StatusCode::PERMISSION_DENIED) << write.error_message();
    }
  }
  // The executing county, and its province above it, see and act.
  for (const std::string& token : {Caseworker(), Token(Role::kCaseworker, "52", "cw-gz")}) {
    const Answers a = ask(token, case_id, p.placement_id());
    EXPECT_TRUE(a.get_seeker.ok()) << a.get_seeker.error_message();
    EXPECT_TRUE(a.update_seeker.ok()) << a.update_seeker.error_message();
    EXPECT_TRUE(a.record_training.ok()) << a.record_training.error_message();
    EXPECT_EQ(a.create_placement.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << a.create_placement.error_message();
    EXPECT_EQ(a.record_retention.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << a.record_retention.error_message();
    EXPECT_EQ(a.close_seeker.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << a.close_seeker.error_message();
  }

  // Registering: only a caller who sees the case, however the county is chosen.
  const std::string second = Case("330102", 161);
  AddCase(second, {{Programme::kCommunityDetox, Status("ACTIVE")}});
  registry_->AddCase(facts_of(second, false));
  v1::RegisterSeekerRequest reg;
  reg.set_case_id(second);
  reg.set_division("530102");
  *reg.mutable_consent()->mutable_given_on() = D(2026, 3, 1);
  reg.mutable_consent()->add_scopes(v1::CONSENT_SCOPE_PLACEMENT);
  grpc::Status far = stub_->RegisterSeeker(Ctx(Token(Role::kCaseworker, "530102", "cw-km")).get(),
                                           reg, &seeker);
  reg.set_case_id(never_issued);
  grpc::Status none = stub_->RegisterSeeker(Ctx(Token(Role::kCaseworker, "530102", "cw-km")).get(),
                                            reg, &seeker);
  EXPECT_EQ(far.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(same(far, none)) << far.error_message() << " vs " << none.error_message();

  // Sealed (戒毒条例 Art 7): sealed in placement too, for every role without a statutory
  // need, the executing township included; auditors still read, hand-offs still apply.
  registry_->AddCase(facts_of(case_id, true));
  {
    const Answers a = ask(Caseworker(), case_id, p.placement_id());
    for (auto [got, want] : {std::pair{a.get_seeker, missing.get_seeker},
                             {a.list_trainings, missing.list_trainings},
                             {a.get_placement, missing.get_placement},
                             {a.update_seeker, missing.update_seeker},
                             {a.record_retention, missing.record_retention},
                             {a.close_seeker, missing.close_seeker}}) {
      EXPECT_TRUE(same(got, want)) << got.error_code() << " " << got.error_message();
    }
    EXPECT_EQ(a.listed_placements, 0);
  }
  v1::GetSeekerRequest gs;
  gs.set_case_id(case_id);
  EXPECT_TRUE(stub_->GetSeeker(Ctx(Token(Role::kAuditor, "*", "aud-1")).get(), gs, &seeker).ok());
  v1::SuspendSeekerRequest sr;
  sr.set_case_id(case_id);
  *sr.mutable_effective_on() = D(2026, 3, 1);
  sr.set_reason(kReason);
  v1::SeekerChange change;
  grpc::Status handoff = stub_->SuspendSeeker(Ctx(Service()).get(), sr, &change);
  ASSERT_TRUE(handoff.ok()) << handoff.error_message();
  EXPECT_EQ(change.seeker().state(), v1::SEEKER_STATE_SUSPENDED);
}

}  // namespace
}  // namespace placement
}  // namespace pathway
