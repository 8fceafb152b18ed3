// pathwayctl's labor bureau exchange commands against a real placement server in process
// (real gRPC on port 0, a real SQLite file, a FakeClock, a FakeRegistryClient and an
// in-memory status cache; the set-up of services/placement/placement_service_test.cc):
//   - import postings: a CSV file with a BOM, CRLF, quoted commas, quotes and line breaks
//     and a few bad rows (ragged, unparsable, refused by the server) reports exactly those
//     rows with their file row and line numbers and imports the rest; re-running changes
//     nothing; validate-only writes nothing; usage errors exit 2;
//   - import registrations: the ID number never appears in the report;
//   - export outcomes and labor-reconcile produce the expected CSV, the reconciliation
//     paged, backfilling a seeker's labor exchange index, and a labor bureau token gets
//     no case ids and only seekers who consented to sharing with it.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/auth/token.h"
#include "common/cache/in_memory_status_cache.h"
#include "common/client/bearer_context.h"
#include "common/clock/clock.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/program_status/program_status.h"
#include "common/registry_client/registry_client.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "services/placement/credit_code.h"
#include "services/placement/labor_exchange_index.h"
#include "services/placement/placement_server.h"
#include "tests/testing/fixtures.h"
#include "tools/pathwayctl/pathwayctl.h"

namespace pathway {
namespace pathwayctl {
namespace {

using absl::CivilDay;
namespace v1 = placement::v1;

constexpr char kKey[] = "pathwayctl-exchange-test-key-0123456789abcdef";
const absl::TimeZone kChina = absl::FixedTimeZone(8 * 3600);

absl::Time At(CivilDay day) { return absl::FromCivil(absl::CivilSecond(day) + 10 * 3600, kChina); }

using test::D;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

class ExchangeCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_unique<FakeClock>(At(CivilDay(2026, 3, 1)));
    placement::PlacementServer::Options o;
    o.server.service_name = "placement";
    o.server.port = 0;
    o.server.data_dir = dir_.path();
    o.server.database = TestDatabaseUriOrDie("placement");
    o.server.token_key_file = dir_.path() + "/key";
    o.server.tls.plaintext = true;  // a test server on loopback
    WriteFile(o.server.token_key_file, kKey);
    RuntimeOverrides overrides;
    overrides.clock = clock_.get();
    auto cache = std::make_unique<InMemoryStatusCache>();
    cache_ = cache.get();
    overrides.cache = std::move(cache);
    auto registry = std::make_unique<FakeRegistryClient>();
    registry_ = registry.get();
    overrides.registry = std::move(registry);
    auto server = placement::PlacementServer::Start(o, std::move(overrides));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    addr_ = absl::StrCat("127.0.0.1:", server_->port());
    stub_ = v1::Placement::NewStub(
        grpc::CreateChannel(addr_, grpc::InsecureChannelCredentials()));
    employer_ = placement::GenerateSyntheticCreditCode("520102", 1);
    other_ = placement::GenerateSyntheticCreditCode("520102", 2);
  }
  void TearDown() override { server_->Shutdown(); }

  std::string Token(Role role, const std::string& jurisdiction) {
    Claims c;
    c.subject = absl::StrCat("test-", RoleName(role));
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.issued_at = clock_->Now() - absl::Minutes(1);
    c.expires_at = clock_->Now() + absl::Hours(1);
    return *(*TokenSigner::Create(kKey))->Sign(c);
  }
  std::string Bureau() { return Token(Role::kLaborBureau, "5201"); }
  std::string Admin() { return Token(Role::kAdmin, "*"); }
  std::string Caseworker() { return Token(Role::kCaseworker, "520102"); }

  // Runs pathwayctl as main would, with $PATHWAY_TOKEN = token.
  int Ctl(const std::vector<std::string>& args, const std::string& token) {
    out_.str("");
    err_.str("");
    Environment env;
    env.token = token;
    RealClock real;
    return pathwayctl::Run(args, env, real, out_, err_);
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    PrepareBearerContext(ctx.get(), token, absl::Seconds(30));
    return ctx;
  }

  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    absl::Status s = server_->runtime().store().Read([&](ReadTransaction& tx) -> absl::Status {
      auto rows = tx.Query(sql);
      if (!rows.ok()) return rows.status();
      n = (*rows)[0].GetInt(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return n;
  }

  std::string Path(const std::string& name) { return dir_.path() + "/" + name; }

  // ---- seeding for export and reconciliation ----

  static std::string IdNumber(int n) {
    return GenerateSyntheticResidentId("520102", CivilDay(1990, 1, 1) + n, 100 + n);
  }
  std::string Index(int n) {
    absl::StatusOr<ResidentId> id = ResidentId::Parse(IdNumber(n), CivilDay(2026, 3, 1));
    EXPECT_TRUE(id.ok());
    return LaborExchangeIndex(DeriveLaborExchangeKey(kKey), id->normalized());
  }

  // A case the registry issued (with the labor exchange index unless told otherwise),
  // in community detox, registered as a seeker and placed with employer_ from 10 Mar 2026.
  int64_t PlacedSeeker(int n, bool share_with_bureau, bool registry_has_index) {
    const std::string case_id = CaseId::Mint("520102", 2026, n)->ToString();
    registry::v1::CaseFacts f;
    f.set_case_id(case_id);
    f.set_household_division("520102");
    f.set_residence_division("520102");
    if (registry_has_index) f.set_labor_exchange_index(Index(n));
    registry_->AddCase(f);
    ProgrammeStatus st;
    st.state = "ACTIVE";
    st.version = 1;
    st.began = CivilDay(2026, 1, 5);
    st.written_at = absl::FromUnixSeconds(1767225600);
    EXPECT_TRUE(cache_->Put(case_id, Programme::kCommunityDetox, st).ok());
    v1::RegisterSeekerRequest req;
    req.set_case_id(case_id);
    req.set_division("520102");
    *req.mutable_consent()->mutable_given_on() = D(2026, 3, 1);
    req.mutable_consent()->add_scopes(v1::CONSENT_SCOPE_PLACEMENT);
    if (share_with_bureau) {
      req.mutable_consent()->add_scopes(v1::CONSENT_SCOPE_SHARE_WITH_LABOR_BUREAU);
    }
    v1::Seeker seeker;
    grpc::Status s = stub_->RegisterSeeker(Ctx(Caseworker()).get(), req, &seeker);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::CreatePlacementRequest pr;
    pr.set_case_id(case_id);
    pr.set_employer_credit_code(employer_);
    pr.set_mode(v1::PLACEMENT_MODE_CONCENTRATED);
    *pr.mutable_contract_start() = D(2026, 3, 10);
    *pr.mutable_contract_end() = D(2027, 3, 9);
    v1::PlacementRecord p;
    s = stub_->CreatePlacement(Ctx(Caseworker()).get(), pr, &p);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return p.placement_id();
  }
  void Retain(int64_t placement, int months, v1::RetentionOutcome outcome,
              common::v1::Date checked) {
    v1::RecordRetentionRequest r;
    r.set_placement_id(placement);
    r.set_months(months);
    r.set_outcome(outcome);
    *r.mutable_checked_on() = checked;
    v1::PlacementRecord out;
    grpc::Status s = stub_->RecordRetention(Ctx(Caseworker()).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  void AddEmployer() {
    v1::UpsertEmployerRequest req;
    v1::Employer* e = req.mutable_employer();
    e->set_credit_code(employer_);
    e->set_name("Synthetic Sunshine enterprise");
    e->set_kind(v1::EMPLOYER_KIND_SUNSHINE_ENTERPRISE);
    e->set_division("520102");
    e->set_capacity(50);
    v1::Employer out;
    grpc::Status s = stub_->UpsertEmployer(Ctx(Caseworker()).get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  ScopedTempDir dir_;
  std::unique_ptr<FakeClock> clock_;
  InMemoryStatusCache* cache_ = nullptr;    // owned by the runtime
  FakeRegistryClient* registry_ = nullptr;  // owned by the runtime
  std::unique_ptr<placement::PlacementServer> server_;
  std::unique_ptr<v1::Placement::Stub> stub_;
  std::string addr_, employer_, other_;
  std::ostringstream out_, err_;
};

// ---------------------------------------------------------------- import postings

std::string PostingsFile(const std::string& employer) {
  const std::string tail = ",2026-03-01,2026-09-30\r\n";
  return "\xEF\xBB\xBF"
         "record_id,employer_credit_code,employer_name,title,division,wage_min,wage_max,"
         "skills,openings,valid_from,valid_until\r\n"
         // row 2: good
         "LB-1," + employer + ",Synthetic Co,Welder,520102,3000,4500,welding;safety,2" + tail +
         // row 3: good, quoted comma and quotes
         "LB-2,,\"Synthetic, Ltd\",\"Cook \"\"head\"\"\",520102,2500,3000,cooking,1" + tail +
         // row 4: ragged (a field missing)
         "LB-3,,Synthetic Co,Cleaner,520102,2000,2500,1" + tail +
         // row 5: not a number
         "LB-4,,Synthetic Co,Driver,520102,abc,4000,,1" + tail +
         // row 6: good, a line break inside the title (two lines)
         "LB-5,,Synthetic Co,\"Warehouse\r\nnight shift\",520103,3000,3500,,3" + tail +
         // row 7 (line 8): refused by the server: valid_until before valid_from
         "LB-6,,Synthetic Co,Porter,520102,2000,2500,,1,2026-03-01,2026-02-01\r\n"
         // row 8 (line 9): refused by the server: outside the bureau's jurisdiction
         "LB-7,,Synthetic Co,Guard,530102,2000,2500,,1" + tail +
         // row 9 (line 10): not a date
         "LB-8,,Synthetic Co,Painter,520102,2000,2500,,1,2026/03/01,2026-09-30\r\n"
         // row 10 (line 11): good
         "LB-9,,Synthetic Co,Gardener,520102,2000,2600,gardening,1" + tail +
         // a blank line at the end
         "\r\n";
}

TEST_F(ExchangeCommandsTest, ImportReportsExactlyTheBadRowsAndImportsTheRest) {
  WriteFile(Path("postings.csv"), PostingsFile(employer_));
  const std::vector<std::string> args = {"import",  "postings", "--addr",   addr_,
                                         "--file",  Path("postings.csv"), "--batch", "2",
                                         "--errors", Path("errors.csv")};
  ASSERT_EQ(Ctl(args, Bureau()), 1) << err_.str();
  EXPECT_EQ(ReadFile(Path("errors.csv")),
            "row,line,record_id,field,reason\n"
            "4,4,LB-3,,\"expected 11 fields, found 10\"\n"
            "5,5,LB-4,wage_min,not an integer\n"
            "7,8,LB-6,valid_until,before valid_from\n"
            "8,9,LB-7,division,outside the caller's jurisdiction\n"
            "9,10,LB-8,valid_from,not a date (YYYY-MM-DD)\n");
  EXPECT_TRUE(absl::StrContains(err_.str(), "9 rows read, 6 sent; imported 4, updated 0, "
                                            "unchanged 0, refused 5 (3 unreadable, 2 by the "
                                            "server)"))
      << err_.str();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM postings"), 4);
  v1::ListPostingsRequest lr;
  v1::ListPostingsResponse postings;
  ASSERT_TRUE(stub_->ListPostings(Ctx(Bureau()).get(), lr, &postings).ok());
  ASSERT_EQ(postings.postings_size(), 4);
  EXPECT_EQ(postings.postings(0).source_record_id(), "LB-1");
  EXPECT_EQ(postings.postings(0).skills_size(), 2);
  EXPECT_EQ(postings.postings(1).employer_name(), "Synthetic, Ltd");
  EXPECT_EQ(postings.postings(1).title(), "Cook \"head\"");
  EXPECT_EQ(postings.postings(2).title(), "Warehouse\r\nnight shift");
  EXPECT_EQ(postings.postings(3).source_record_id(), "LB-9");

  // Re-running changes nothing and reports the same rows.
  ASSERT_EQ(Ctl(args, Bureau()), 1) << err_.str();
  EXPECT_TRUE(absl::StrContains(err_.str(), "imported 0, updated 0, unchanged 4, refused 5"))
      << err_.str();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM postings"), 4);

  // Validate-only: a changed and a new record are counted, nothing is written.
  std::string changed = PostingsFile(employer_);
  changed.replace(changed.find("Gardener,520102,2000,2600"), 25, "Gardener,520102,2000,2700");
  changed += "LB-10,,Synthetic Co,Baker,520102,2000,2500,,1,2026-03-01,2026-09-30\r\n";
  WriteFile(Path("changed.csv"), changed);
  ASSERT_EQ(Ctl({"import", "postings", "--addr", addr_, "--file", Path("changed.csv"),
                 "--validate-only"},
                Bureau()),
            1);
  EXPECT_TRUE(absl::StrContains(err_.str(), "would import 1, updated 1, unchanged 3, refused 5"))
      << err_.str();
  EXPECT_TRUE(absl::StrContains(err_.str(), "validate only: nothing was written"));
  // Without --errors the refused rows are listed on stderr.
  EXPECT_TRUE(absl::StrContains(err_.str(), "row 7 (line 8) record LB-6: valid_until: "))
      << err_.str();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM postings"), 4);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM postings WHERE wage_max = 2700"), 0);

  // A file of good rows only: exit 0, an error file with the header alone.
  WriteFile(Path("good.csv"),
            "title,record_id,division,wage_min,wage_max,openings,valid_from,valid_until\n"
            "Baker,LB-10,520102,2000,2500,1,2026-03-01,2026-09-30\n");
  ASSERT_EQ(Ctl({"import", "postings", "--addr", addr_, "--file", Path("good.csv"), "--errors",
                 Path("none.csv")},
                Bureau()),
            0)
      << err_.str();
  EXPECT_EQ(ReadFile(Path("none.csv")), "row,line,record_id,field,reason\n");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM postings"), 5);
}

TEST_F(ExchangeCommandsTest, ImportUsageErrorsExitTwo) {
  WriteFile(Path("p.csv"), PostingsFile(employer_));
  EXPECT_EQ(Ctl({"import", "postings", "--addr", addr_}, Bureau()), 2);
  EXPECT_EQ(Ctl({"import", "vacancies", "--addr", addr_, "--file", Path("p.csv")}, Bureau()), 2);
  EXPECT_EQ(Ctl({"import", "postings", "--addr", addr_, "--file", Path("p.csv"), "--batch",
                 "1001"},
                Bureau()),
            2);
  EXPECT_EQ(Ctl({"import", "postings", "--addr", addr_, "--file", Path("missing.csv")}, Bureau()),
            2);
  EXPECT_EQ(Ctl({"import", "postings", "--addr", addr_, "--file", Path("p.csv"), "--bogus", "1"},
                Bureau()),
            2);
  WriteFile(Path("unknown.csv"), "record_id,title,colour\n");
  EXPECT_EQ(Ctl({"import", "postings", "--addr", addr_, "--file", Path("unknown.csv")}, Bureau()),
            2);
  EXPECT_TRUE(absl::StrContains(err_.str(), "unknown column \"colour\""));
  WriteFile(Path("short.csv"), "record_id,title\nLB-1,Welder\n");
  EXPECT_EQ(Ctl({"import", "postings", "--addr", addr_, "--file", Path("short.csv")}, Bureau()),
            2);
  EXPECT_TRUE(absl::StrContains(err_.str(), "the header has no column division"));
  // A failed call (wrong role) is 1, not 2.
  EXPECT_EQ(Ctl({"import", "postings", "--addr", addr_, "--file", Path("p.csv")}, Caseworker()),
            1);
  EXPECT_TRUE(absl::StrContains(err_.str(), "PERMISSION_DENIED")) << err_.str();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM postings"), 0);
}

TEST_F(ExchangeCommandsTest, ImportStreamsManyRowsInChunks) {
  constexpr int kRows = 20000;
  {
    std::ofstream f(Path("many.csv"), std::ios::binary);
    f << "record_id,title,division,wage_min,wage_max,openings,valid_from,valid_until\n";
    for (int i = 1; i <= kRows; ++i) {
      f << "LB-" << i << ",Job " << i << "," << (i == 777 ? "999999" : "520102")
        << ",2000,3000,1,2026-03-01,2026-09-30\n";
    }
  }
  absl::Time start = absl::Now();
  ASSERT_EQ(Ctl({"import", "postings", "--addr", addr_, "--file", Path("many.csv"), "--errors",
                 Path("many-errors.csv")},
                Bureau()),
            1)
      << err_.str();
  absl::Duration took = absl::Now() - start;
  std::printf("pathwayctl imported %d rows in %s (%.0f rows/s)\n", kRows,
              absl::FormatDuration(took).c_str(), kRows / absl::ToDoubleSeconds(took));
  EXPECT_EQ(ReadFile(Path("many-errors.csv")),
            "row,line,record_id,field,reason\n"
            "778,778,LB-777,division,outside the caller's jurisdiction\n");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM postings"), kRows - 1);
}

// ---------------------------------------------------------------- registrations

TEST_F(ExchangeCommandsTest, ImportRegistrationsNeverEchoesTheIdNumber) {
  clock_->Set(At(CivilDay(2026, 10, 1)));
  const std::string good = IdNumber(1);
  const std::string bad = good.substr(0, 17) + (good[17] == '1' ? "2" : "1");
  WriteFile(Path("regs.csv"),
            "record_id,kind,resident_id_number,employer_credit_code,division,registered_on\n"
            "R-1,EMPLOYMENT," + good + "," + employer_ + ",520102,2026-03-12\n"
            "R-2,employment," + bad + "," + employer_ + ",520102,2026-03-12\n"
            "R-3,失业," + good + ",,520102,2026-05-20\n"
            "R-4,HIRED," + good + ",,520102,2026-05-20\n");
  ASSERT_EQ(Ctl({"import", "registrations", "--addr", addr_, "--file", Path("regs.csv"),
                 "--errors", Path("regs-errors.csv")},
                Bureau()),
            1);
  EXPECT_EQ(ReadFile(Path("regs-errors.csv")),
            "row,line,record_id,field,reason\n"
            "3,3,R-2,resident_id_number,not a valid ID number\n"
            "5,5,R-4,kind,must be EMPLOYMENT or UNEMPLOYMENT\n");
  EXPECT_FALSE(absl::StrContains(err_.str(), bad.substr(6, 8)));
  EXPECT_FALSE(absl::StrContains(err_.str(), good.substr(6, 8)));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM labor_registrations"), 2);
}

// ---------------------------------------------------------------- export and reconcile

TEST_F(ExchangeCommandsTest, ExportAndLaborReconcileWriteTheExpectedCsv) {
  AddEmployer();
  // A: consented to sharing with the bureau; B: did not; C: consented, but the registry
  // had no index for it at registration (backfilled by the reconciliation).
  const int64_t a = PlacedSeeker(1, true, true);
  const int64_t b = PlacedSeeker(2, false, true);
  const int64_t c = PlacedSeeker(3, true, false);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM seekers WHERE labor_index IS NOT NULL"), 2);
  clock_->Set(At(CivilDay(2026, 10, 1)));
  Retain(a, 1, v1::RETENTION_OUTCOME_STILL_EMPLOYED, D(2026, 4, 10));
  Retain(a, 3, v1::RETENTION_OUTCOME_STILL_EMPLOYED, D(2026, 6, 10));
  Retain(a, 6, v1::RETENTION_OUTCOME_UNKNOWN, D(2026, 9, 10));
  Retain(b, 1, v1::RETENTION_OUTCOME_LEFT, D(2026, 4, 10));
  Retain(c, 1, v1::RETENTION_OUTCOME_STILL_EMPLOYED, D(2026, 4, 10));

  // Export.
  ASSERT_EQ(Ctl({"export", "outcomes", "--addr", addr_, "--from", "2026-03-01", "--to",
                 "2026-03-31", "--out", Path("outcomes.csv"), "--rows-per-message", "2"},
                Bureau()),
            0)
      << err_.str();
  EXPECT_EQ(
      ReadFile(Path("outcomes.csv")),
      absl::StrCat(
          "placement_id,division,employer_credit_code,mode,contract_start,contract_end,"
          "contract_one_year_or_more,state,ended_on,retention_1m_due_on,retention_1m_outcome,"
          "retention_1m_checked_on,retention_3m_due_on,retention_3m_outcome,"
          "retention_3m_checked_on,retention_6m_due_on,retention_6m_outcome,"
          "retention_6m_checked_on,retention_12m_due_on,retention_12m_outcome,"
          "retention_12m_checked_on\n",
          a, ",520102,", employer_, ",CONCENTRATED,2026-03-10,2027-03-09,true,ACTIVE,,",
          "2026-04-10,STILL_EMPLOYED,2026-04-10,2026-06-10,STILL_EMPLOYED,2026-06-10,"
          "2026-09-10,UNKNOWN,2026-09-10,2027-03-10,,\n",
          b, ",520102,", employer_, ",CONCENTRATED,2026-03-10,2027-03-09,true,ENDED,2026-04-10,",
          "2026-04-10,LEFT,2026-04-10,2026-06-10,LAPSED,,2026-09-10,LAPSED,,2027-03-10,LAPSED,\n",
          c, ",520102,", employer_, ",CONCENTRATED,2026-03-10,2027-03-09,true,ACTIVE,,",
          "2026-04-10,STILL_EMPLOYED,2026-04-10,2026-06-10,,,2026-09-10,,,2027-03-10,,\n"));
  EXPECT_FALSE(absl::StrContains(ReadFile(Path("outcomes.csv")), "520102-2026"));
  // A failed export leaves no file behind.
  EXPECT_EQ(Ctl({"export", "outcomes", "--addr", addr_, "--from", "2026-03-31", "--to",
                 "2026-03-01", "--out", Path("bad.csv")},
                Bureau()),
            1);
  EXPECT_FALSE(std::ifstream(Path("bad.csv")).good());
  EXPECT_FALSE(std::ifstream(Path("bad.csv.partial")).good());

  // The bureau's registrations.
  WriteFile(Path("regs.csv"),
            absl::StrCat(
                "record_id,kind,resident_id_number,employer_credit_code,division,registered_on\n",
                "R-A1,EMPLOYMENT,", IdNumber(1), ",", employer_, ",520102,2026-03-12\n",
                "R-A2,UNEMPLOYMENT,", IdNumber(1), ",,520102,2026-05-20\n",
                "R-B1,EMPLOYMENT,", IdNumber(2), ",", employer_, ",520102,2026-03-15\n",
                "R-C1,EMPLOYMENT,", IdNumber(3), ",", other_, ",520102,2026-03-20\n",
                "R-X1,EMPLOYMENT,", IdNumber(9), ",", employer_, ",520102,2026-03-20\n"));
  ASSERT_EQ(Ctl({"import", "registrations", "--addr", addr_, "--file", Path("regs.csv")},
                Bureau()),
            0)
      << err_.str();

  // The registry now has C's index: the first reconciliation fetches it.
  registry::v1::CaseFacts facts;
  facts.set_case_id(CaseId::Mint("520102", 2026, 3)->ToString());
  facts.set_household_division("520102");
  facts.set_residence_division("520102");
  facts.set_labor_exchange_index(Index(3));
  registry_->AddCase(facts);

  const std::string ca = CaseId::Mint("520102", 2026, 1)->ToString();
  const std::string cb = CaseId::Mint("520102", 2026, 2)->ToString();
  const std::string cc = CaseId::Mint("520102", 2026, 3)->ToString();
  const std::string e = employer_;
  const std::string f = other_;
  auto row = [](const std::vector<std::string>& fields) {
    return absl::StrCat(absl::StrJoin(fields, ","), "\n");
  };
  const std::string header =
      "kind,case_id,placement_id,division,employer_credit_code,contract_start,months,due_on,"
      "placement_says,checked_on,bureau_record_id,bureau_kind,bureau_employer_credit_code,"
      "bureau_division,bureau_registered_on,explanation\n";
  auto rows_for = [&](bool bureau) {
    auto id = [&](const std::string& case_id) { return bureau ? std::string() : case_id; };
    std::string out = header;
    out += row({"RETAINED_BUT_UNEMPLOYED", id(ca), absl::StrCat(a), "520102", e, "2026-03-10",
                "3", "2026-06-10", "STILL_EMPLOYED", "2026-06-10", "R-A2", "UNEMPLOYMENT", "",
                "520102", "2026-05-20",
                "\"still employed at the 3-month checkpoint, but the bureau shows unemployment "
                "registered 2026-05-20\""});
    out += row({"UNKNOWN_WITH_BUREAU_EVIDENCE", id(ca), absl::StrCat(a), "520102", e,
                "2026-03-10", "6", "2026-09-10", "UNKNOWN", "2026-09-10", "R-A2", "UNEMPLOYMENT",
                "", "520102", "2026-05-20",
                "unknown at the 6-month checkpoint; the bureau shows unemployment registered "
                "2026-05-20"});
    if (!bureau) {
      out += row({"LEFT_BUT_EMPLOYMENT_REGISTERED", cb, absl::StrCat(b), "520102", e,
                  "2026-03-10", "1", "2026-04-10", "LEFT", "2026-04-10", "R-B1", "EMPLOYMENT", e,
                  "520102", "2026-03-15",
                  "\"left by the 1-month checkpoint, but the bureau's latest registration is "
                  "employment with the employer registered 2026-03-15\""});
    }
    out += row({"RETAINED_WITHOUT_EMPLOYMENT_REGISTRATION", id(cc), absl::StrCat(c), "520102", e,
                "2026-03-10", "1", "2026-04-10", "STILL_EMPLOYED", "2026-04-10", "", "", "", "",
                "",
                "\"still employed at the 1-month checkpoint, but the bureau has no employment "
                "with the employer registered since 2026-02-08\""});
    for (const char* m : {"3", "6"}) {
      out += row({"UNKNOWN_WITH_BUREAU_EVIDENCE", id(cc), absl::StrCat(c), "520102", e,
                  "2026-03-10", m, std::string(m) == "3" ? "2026-06-10" : "2026-09-10",
                  "NOT_RECORDED", "", "R-C1", "EMPLOYMENT", f, "520102", "2026-03-20",
                  absl::StrCat("not recorded at the ", m,
                               "-month checkpoint; the bureau shows employment with ", f,
                               " registered 2026-03-20")});
    }
    out += row({"EMPLOYED_ELSEWHERE", id(cc), absl::StrCat(c), "520102", e, "2026-03-10", "0", "",
                "", "", "R-C1", "EMPLOYMENT", f, "520102", "2026-03-20",
                absl::StrCat("\"placed with ", e, ", but the bureau shows employment with ", f,
                             " registered 2026-03-20 during the placement\"")});
    return out;
  };

  // An operator (admin): every placement, with case ids; pages of 2 rows.
  ASSERT_EQ(Ctl({"labor-reconcile", "--addr", addr_, "--as-of", "2026-10-01", "--out",
                 Path("recon.csv"), "--page-size", "2"},
                Admin()),
            0)
      << err_.str();
  EXPECT_EQ(ReadFile(Path("recon.csv")), rows_for(false));
  EXPECT_TRUE(absl::StrContains(err_.str(), "7 discrepancies; 3 placements examined, 0 without "
                                            "a labor exchange index (not matched); 1 seekers' "
                                            "index fetched from the registry"))
      << err_.str();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM seekers WHERE length(labor_index) = 32"), 3);

  // The labor bureau: no case ids, and nothing of B, who did not consent.
  ASSERT_EQ(Ctl({"labor-reconcile", "--addr", addr_, "--as-of", "2026-10-01"}, Bureau()), 0)
      << err_.str();
  EXPECT_EQ(out_.str(), rows_for(true));
  EXPECT_FALSE(absl::StrContains(out_.str(), "520102-2026"));

  // As of 9 Apr 2026 no checkpoint was due and the unemployment was not registered yet:
  // only C's employment elsewhere (20 Mar) was known.
  ASSERT_EQ(Ctl({"labor-reconcile", "--addr", addr_, "--as-of", "2026-04-09"}, Admin()), 0);
  EXPECT_EQ(out_.str(),
            header + row({"EMPLOYED_ELSEWHERE", cc, absl::StrCat(c), "520102", e, "2026-03-10",
                          "0", "", "", "", "R-C1", "EMPLOYMENT", f, "520102", "2026-03-20",
                          absl::StrCat("\"placed with ", e,
                                       ", but the bureau shows employment with ", f,
                                       " registered 2026-03-20 during the placement\"")}));

  // Usage and failures.
  EXPECT_EQ(Ctl({"labor-reconcile", "--addr", addr_}, Admin()), 2);
  EXPECT_EQ(Ctl({"labor-reconcile", "--addr", addr_, "--as-of", "2027-01-01"}, Admin()), 1);
  EXPECT_TRUE(absl::StrContains(err_.str(), "INVALID_ARGUMENT: as_of: in the future"));
  EXPECT_EQ(Ctl({"labor-reconcile", "--addr", addr_, "--as-of", "2026-10-01"},
                Token(Role::kFacilityStaff, "520102")),
            1);
}

}  // namespace
}  // namespace pathwayctl
}  // namespace pathway
