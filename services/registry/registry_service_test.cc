// The registry over real gRPC (loopback TCP) with a real redis-server and real
// databases (SQLite files, or PostgreSQL when the test run asks for it): registration, duplicates, jurisdiction, masking per role, idempotent
// retries, and the status view from the cache, from the owning services with Redis
// stopped, and with a service down too.
#include "services/registry/registry_service.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/codec/proto_date.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/program_status/program_status.h"
#include "common/program_status/program_status_rpc.h"
#include "common/store/open_store.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/registry/registry_server.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/service_database.h"

namespace pathway {
namespace registry {
namespace {

constexpr char kTokenKey[] = "registry-service-test-token-key-0123456789";
constexpr char kPiiKey[] = "registry-service-test-pii-key-0123456789ab";

// Serves GetProgramStatus for one programme from a store, as the real programme
// services do: the registry's fallback target.
template <typename Base, Programme kProgramme>
class StatusOnly final : public Base {
 public:
  explicit StatusOnly(ServiceRuntime* rt) : rt_(rt) {}
  grpc::ServerUnaryReactor* GetProgramStatus(grpc::CallbackServerContext* ctx,
                                             const common::v1::GetProgramStatusRequest* req,
                                             common::v1::ProgramStatus* resp) override {
    return ServeGetProgramStatus(*rt_, kProgramme, ctx, req, resp);
  }

 private:
  ServiceRuntime* rt_;
};

class RegistryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = test::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    std::ofstream(dir_.path() + "/token.key") << kTokenKey;
    std::ofstream(dir_.path() + "/pii.key") << kPiiKey;

    // The programme side: one server answering for all four programmes, each from
    // its own database as the real services do.
    ServerOptions p = Base("programmes");
    for (const char* name : {"detox", "isolation", "rehab", "placement"}) {
      ServerOptions o = Base(name);
      auto rt = ServiceRuntime::Open(o, ProgramStatusMigrations());
      ASSERT_TRUE(rt.ok()) << rt.status();
      runtimes_.push_back(*std::move(rt));
    }
    programmes_rt_ = runtimes_[0].get();
    detox_ = std::make_unique<StatusOnly<detox::v1::CommunityDetox::CallbackService,
                                         Programme::kCommunityDetox>>(runtimes_[0].get());
    isolation_ = std::make_unique<StatusOnly<isolation::v1::CompulsoryIsolation::CallbackService,
                                             Programme::kCompulsoryIsolation>>(runtimes_[1].get());
    rehab_ = std::make_unique<StatusOnly<rehab::v1::CommunityRehab::CallbackService,
                                         Programme::kCommunityRehab>>(runtimes_[2].get());
    placement_ = std::make_unique<StatusOnly<placement::v1::Placement::CallbackService,
                                             Programme::kPlacement>>(runtimes_[3].get());
    auto ps = GrpcServer::Start(p, runtimes_[0].get(),
                                {{"pathway.detox.v1.CommunityDetox", detox_.get()},
                                 {"pathway.isolation.v1.CompulsoryIsolation", isolation_.get()},
                                 {"pathway.rehab.v1.CommunityRehab", rehab_.get()},
                                 {"pathway.placement.v1.Placement", placement_.get()}});
    ASSERT_TRUE(ps.ok()) << ps.status();
    programmes_ = *std::move(ps);

    RegistryServer::Options r;
    r.server = Base("registry");
    std::string at = absl::StrCat("127.0.0.1:", programmes_->port());
    r.server.detox_address = r.server.isolation_address = r.server.rehab_address =
        r.server.placement_address = at;
    r.pii_key_file = dir_.path() + "/pii.key";
    auto server = RegistryServer::Start(r);
    ASSERT_TRUE(server.ok()) << server.status();
    registry_ = *std::move(server);
    stub_ = v1::Registry::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", registry_->port()), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (registry_) registry_->Shutdown();
    if (programmes_) programmes_->Shutdown();
  }

  ServerOptions Base(const std::string& name) {
    ServerOptions o;
    o.service_name = name;
    o.data_dir = dir_.path();
    o.database = Database(name);
    o.token_key_file = dir_.path() + "/token.key";
    o.tls.plaintext = true;  // a test server on loopback
    o.redis.port = redis_->port();
    o.cache_probe_interval = absl::Milliseconds(100);
    o.peer_timeout = absl::Seconds(2);
    o.drain_timeout = absl::Seconds(1);
    return o;
  }

  std::string Token(Role role, const std::string& jurisdiction, const std::string& subject) {
    Claims c;
    c.subject = subject;
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.issued_at = absl::Now();
    c.expires_at = absl::Now() + absl::Hours(1);
    return *(*TokenSigner::Create(kTokenKey))->Sign(c);
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, const std::string& key = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    PrepareBearerContext(ctx.get(), token, absl::Seconds(20));
    if (!key.empty()) ctx->AddMetadata("idempotency-key", key);
    return ctx;
  }

  v1::RegisterPersonRequest Person(const std::string& county, int seq) {
    v1::RegisterPersonRequest r;
    r.set_resident_id_number(GenerateSyntheticResidentId(county, absl::CivilDay(1991, 8, 17), seq));
    r.set_name("测试人员");
    r.set_household_division(county);
    r.add_drug_types("heroin");
    r.set_route_of_use(v1::ROUTE_OF_USE_INJECTION);
    absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));
    ToProtoDate(today, r.mutable_found_on());
    return r;
  }

  grpc::Status Register(const std::string& token, const v1::RegisterPersonRequest& r,
                        v1::Case* out, const std::string& key = "") {
    return stub_->RegisterPerson(Ctx(token, key).get(), r, out);
  }

  // Follows the registry's health Watch until the status cache shows `want`.
  bool WatchCache(grpc::health::v1::HealthCheckResponse::ServingStatus want) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(kStatusCacheHealthName);
    auto reader = grpc::health::v1::Health::NewStub(
                      grpc::CreateChannel(absl::StrCat("127.0.0.1:", registry_->port()),
                                          grpc::InsecureChannelCredentials()))
                      ->Watch(&ctx, req);
    grpc::health::v1::HealthCheckResponse resp;
    while (reader->Read(&resp)) {
      if (resp.status() == want) {
        ctx.TryCancel();
        reader->Finish();
        return true;
      }
    }
    reader->Finish();
    return false;
  }

  grpc::Status Status(const std::string& token, const std::string& case_id, v1::CaseStatus* out) {
    v1::GetCaseStatusRequest req;
    req.set_case_id(case_id);
    return stub_->GetCaseStatus(Ctx(token).get(), req, out);
  }

  // The database setting of service `name`: one database per service, the same
  // one again whenever the service is started.
  std::string Database(const std::string& name) {
    auto it = databases_.find(name);
    if (it == databases_.end()) it = databases_.emplace(name, TestDatabaseUriOrDie(name)).first;
    return it->second;
  }

  // What a programme service does after a commit: the durable record, then the cache.
  void SeedDetox(const std::string& case_id, const std::string& state) {
    ProgramStatusRecord r;
    r.case_id = case_id;
    r.division = "520102";
    r.state = state;
    r.began = absl::CivilDay(2026, 3, 2);
    ASSERT_TRUE(programmes_rt_->store()
                    .Write([&](Transaction& tx) {
                      return SaveProgramStatus(tx, absl::Now(), &r);
                    })
                    .ok());
    PublishProgramStatus(programmes_rt_->cache(), Programme::kCommunityDetox, r);
  }

  ScopedTempDir dir_;
  std::map<std::string, std::string> databases_;  // service name -> its database setting
  std::unique_ptr<test::RedisServer> redis_;
  std::vector<std::unique_ptr<ServiceRuntime>> runtimes_;  // detox, isolation, rehab, placement
  ServiceRuntime* programmes_rt_ = nullptr;                 // the detox one
  std::unique_ptr<grpc::Service> detox_, isolation_, rehab_, placement_;
  std::unique_ptr<GrpcServer> programmes_;
  std::unique_ptr<RegistryServer> registry_;
  std::unique_ptr<v1::Registry::Stub> stub_;
};

// The "Done when".
TEST_F(RegistryServiceTest, CaseworkerRegistersSeesStatusAndNotOtherCounties) {
  std::string cw = Token(Role::kCaseworker, "520102", "cw-520102");
  v1::Case c;
  grpc::Status s = Register(cw, Person("520102", 101), &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto id = CaseId::Parse(c.case_id());
  ASSERT_TRUE(id.ok()) << "the check character verifies";
  EXPECT_EQ(id->division().code(), "520102");

  SeedDetox(c.case_id(), "AWAITING_REPORT");
  v1::CaseStatus st;
  ASSERT_TRUE(Status(cw, c.case_id(), &st).ok());
  ASSERT_EQ(st.programs_size(), 1);
  EXPECT_EQ(st.programs(0).status().program(), common::v1::PROGRAM_COMMUNITY_DETOX);
  EXPECT_EQ(st.programs(0).status().state(), "AWAITING_REPORT");
  EXPECT_EQ(st.programs(0).freshness(), common::v1::FRESHNESS_CACHE);

  v1::Case other;
  ASSERT_TRUE(Register(Token(Role::kCaseworker, "530102", "cw-530102"), Person("530102", 103),
                       &other)
                  .ok());
  grpc::Status outside = Status(cw, other.case_id(), &st);
  grpc::Status missing = Status(cw, CaseId::Mint("520102", 2026, 9999)->ToString(), &st);
  EXPECT_EQ(outside.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(outside.error_message(), missing.error_message());
  v1::GetCaseRequest get;
  get.set_case_id(other.case_id());
  v1::Case seen;
  EXPECT_EQ(stub_->GetCase(Ctx(cw).get(), get, &seen).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(RegistryServiceTest, DuplicatesAndIdempotentRetries) {
  std::string police = Token(Role::kPolice, "520102", "police-1");
  v1::RegisterPersonRequest p = Person("520102", 105);
  v1::Case first, retry, dup;
  ASSERT_TRUE(Register(police, p, &first, "app-retry-1").ok());
  // A retry on a bad network replays the first answer instead of ALREADY_EXISTS.
  ASSERT_TRUE(Register(police, p, &retry, "app-retry-1").ok());
  EXPECT_EQ(retry.case_id(), first.case_id());
  grpc::Status again = Register(police, p, &dup);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(again.error_message().find(first.case_id()), std::string::npos);
  v1::RegisterPersonRequest changed = p;
  changed.set_phone("13900000000");
  grpc::Status reused = Register(police, changed, &dup, "app-retry-1");
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(reused.error_message().find("idempotency-key"), std::string::npos)
      << "not the duplicate-person answer: " << reused.error_message();
}

// Every byte of every file under `dir` (databases, WAL, anything else).
std::string AllBytesUnder(const std::string& dir) {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    all.push_back('\0');
  }
  return all;
}

// The replay store keeps no personal data, and a repeat answers only as the caller
// now asking may see the case: masked for another role, NOT_FOUND outside its
// jurisdiction, refused for another request under the same key.
TEST_F(RegistryServiceTest, IdempotentReplaysKeepNoPersonalDataAndAnswerAsTheCallerMaySee) {
  const std::string subject = "officer-9";
  std::string police = Token(Role::kPolice, "520102", subject);
  std::vector<v1::RegisterPersonRequest> people;
  std::vector<v1::Case> cases;
  for (int i = 0; i < 3; ++i) {
    v1::RegisterPersonRequest p = Person("520102", 201 + 2 * i);
    p.set_name(absl::StrCat("测试赵钱孙", i));
    p.set_phone(absl::StrCat("1390000123", i));
    p.set_residence_address(absl::StrCat("测试市测试区合成路", 40 + i, "号"));
    v1::Case c;
    grpc::Status s = Register(police, p, &c, absl::StrCat("reg-", i));
    ASSERT_TRUE(s.ok()) << s.error_message();
    people.push_back(p);
    cases.push_back(c);
  }
  const v1::RegisterPersonRequest& p = people[0];

  // The same caller retrying: the answer as police see it.
  v1::Case replay;
  ASSERT_TRUE(Register(police, p, &replay, "reg-0").ok());
  EXPECT_EQ(replay.case_id(), cases[0].case_id());
  EXPECT_EQ(replay.person().resident_id_number(), p.resident_id_number());
  EXPECT_EQ(replay.person().name(), p.name());

  // The same user id with a caseworker token: masked as GetCase masks it.
  v1::Case as_caseworker;
  grpc::Status s = Register(Token(Role::kCaseworker, "520102", subject), p, &as_caseworker, "reg-0");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(as_caseworker.case_id(), cases[0].case_id());
  EXPECT_NE(as_caseworker.person().resident_id_number(), p.resident_id_number());
  EXPECT_EQ(as_caseworker.person().resident_id_number().find(p.resident_id_number().substr(6, 8)),
            std::string::npos);

  // An admin sees neither the full number nor the contacts.
  v1::Case as_admin;
  ASSERT_TRUE(Register(Token(Role::kAdmin, "*", subject), p, &as_admin, "reg-0").ok());
  EXPECT_NE(as_admin.person().resident_id_number(), p.resident_id_number());
  EXPECT_TRUE(as_admin.person().name().empty());
  EXPECT_TRUE(as_admin.person().phone().empty());
  EXPECT_TRUE(as_admin.person().residence_address().empty());

  // The same user id with a token of another province: as if there were no case.
  v1::Case elsewhere;
  grpc::Status outside = Register(Token(Role::kPolice, "53", subject), p, &elsewhere, "reg-0");
  EXPECT_EQ(outside.error_code(), grpc::StatusCode::NOT_FOUND) << outside.error_message();
  EXPECT_TRUE(elsewhere.person().resident_id_number().empty());
  v1::GetCaseRequest get;
  get.set_case_id(CaseId::Mint("520102", 2026, 9997)->ToString());
  v1::Case none;
  grpc::Status missing = stub_->GetCase(Ctx(police).get(), get, &none);
  EXPECT_EQ(outside.error_message(), missing.error_message());

  // The same key with another person: refused, and that person is not registered.
  v1::RegisterPersonRequest other = Person("520102", 251);
  v1::Case refused;
  grpc::Status reused = Register(police, other, &refused, "reg-0");
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::ALREADY_EXISTS) << reused.error_message();
  EXPECT_NE(reused.error_message().find("idempotency-key"), std::string::npos);
  v1::FindCaseByIdNumberRequest find;
  find.set_resident_id_number(other.resident_id_number());
  v1::Case found;
  EXPECT_EQ(stub_->FindCaseByIdNumber(Ctx(police).get(), find, &found).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Nothing personal in any file of the data directory, nor in any value of any
  // table of any service's database, while running and after.
  auto expect_nothing_personal = [&](const std::string& when) {
    std::string bytes = AllBytesUnder(dir_.path());
    ASSERT_FALSE(bytes.empty());
    for (const char* name : {"registry", "detox", "isolation", "rehab", "placement"}) {
      absl::StatusOr<test::ServiceDatabase> db =
          test::OpenServiceDatabase(Database(name), absl::StrCat(dir_.path(), "/", name, ".db"));
      ASSERT_TRUE(db.ok()) << name << ": " << db.status();
      absl::StatusOr<std::string> values = test::AllStoredValues(*db->store, db->location.engine);
      ASSERT_TRUE(values.ok()) << name << ": " << values.status();
      if (std::string(name) == "registry") {
        EXPECT_NE(values->find(cases[0].case_id()), std::string::npos) << "the scan reads the tables";
      }
      bytes += *values;
    }
    for (const v1::RegisterPersonRequest& person : people) {
      for (const std::string& value : {person.resident_id_number(), person.name(), person.phone(),
                                       person.residence_address()}) {
        EXPECT_EQ(bytes.find(value), std::string::npos) << when << ": a personal value on disk";
      }
    }
  };
  expect_nothing_personal("running");
  registry_->Shutdown();
  registry_.reset();
  expect_nothing_personal("stopped");
}

TEST_F(RegistryServiceTest, FieldsAreMaskedPerRoleAndLaborGetsNothing) {
  v1::RegisterPersonRequest p = Person("520102", 107);
  v1::Case c;
  ASSERT_TRUE(Register(Token(Role::kPolice, "520102", "police-1"), p, &c).ok());
  v1::GetCaseRequest get;
  get.set_case_id(c.case_id());
  v1::Case as_police, as_caseworker, as_labor;
  ASSERT_TRUE(stub_->GetCase(Ctx(Token(Role::kPolice, "5201", "p2")).get(), get, &as_police).ok());
  ASSERT_TRUE(
      stub_->GetCase(Ctx(Token(Role::kCaseworker, "520102", "c1")).get(), get, &as_caseworker).ok());
  EXPECT_EQ(as_police.person().resident_id_number(), p.resident_id_number());
  EXPECT_NE(as_caseworker.person().resident_id_number(), p.resident_id_number());
  EXPECT_EQ(as_caseworker.person().resident_id_number().find(p.resident_id_number().substr(6, 8)),
            std::string::npos)
      << "the birth date part is masked";
  EXPECT_EQ(stub_->GetCase(Ctx(Token(Role::kLaborBureau, "52", "lb")).get(), get, &as_labor)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  v1::FindCaseByIdNumberRequest find;
  find.set_resident_id_number(p.resident_id_number());
  v1::Case found;
  ASSERT_TRUE(
      stub_->FindCaseByIdNumber(Ctx(Token(Role::kPolice, "52", "p3")).get(), find, &found).ok());
  EXPECT_EQ(found.case_id(), c.case_id());
  EXPECT_EQ(stub_->FindCaseByIdNumber(Ctx(Token(Role::kPolice, "53", "p4")).get(), find, &found)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(RegistryServiceTest, StatusViewFallsBackToTheServicesWithRedisStoppedAndRefills) {
  std::string cw = Token(Role::kCaseworker, "520102", "cw-1");
  v1::Case c;
  ASSERT_TRUE(Register(cw, Person("520102", 109), &c).ok());
  SeedDetox(c.case_id(), "ACTIVE");

  ASSERT_TRUE(redis_->Stop().ok());
  ASSERT_TRUE(WatchCache(grpc::health::v1::HealthCheckResponse::NOT_SERVING));
  v1::CaseStatus st;
  ASSERT_TRUE(Status(cw, c.case_id(), &st).ok()) << "Redis down changes only latency";
  ASSERT_EQ(st.programs_size(), 1);
  EXPECT_EQ(st.programs(0).status().state(), "ACTIVE");
  EXPECT_EQ(st.programs(0).freshness(), common::v1::FRESHNESS_SERVICE);

  // Redis returns empty. Once the registry's own health shows the cache back, the
  // first read misses, falls back and refills; the next one hits.
  ASSERT_TRUE(redis_->Restart().ok());
  ASSERT_TRUE(WatchCache(grpc::health::v1::HealthCheckResponse::SERVING));
  ASSERT_TRUE(Status(cw, c.case_id(), &st).ok());
  ASSERT_EQ(st.programs_size(), 1) << st.DebugString();
  EXPECT_EQ(st.programs(0).freshness(), common::v1::FRESHNESS_SERVICE);
  ASSERT_TRUE(Status(cw, c.case_id(), &st).ok());
  ASSERT_EQ(st.programs_size(), 1) << st.DebugString();
  EXPECT_EQ(st.programs(0).freshness(), common::v1::FRESHNESS_CACHE);
  EXPECT_EQ(st.programs(0).status().version(), 1);
}

TEST_F(RegistryServiceTest, ServiceDownWithRedisDownIsReportedUnavailableInTime) {
  std::string cw = Token(Role::kCaseworker, "520102", "cw-1");
  v1::Case c;
  ASSERT_TRUE(Register(cw, Person("520102", 111), &c).ok());
  ASSERT_TRUE(redis_->Stop().ok());
  programmes_->Shutdown();
  v1::CaseStatus st;
  absl::Time start = absl::Now();
  ASSERT_TRUE(Status(cw, c.case_id(), &st).ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(10)) << "every peer call has a deadline";
  ASSERT_EQ(st.programs_size(), 4);
  for (const auto& v : st.programs()) {
    EXPECT_EQ(v.freshness(), common::v1::FRESHNESS_UNAVAILABLE);
  }
}

TEST_F(RegistryServiceTest, BatchStatusHidesWhatTheCallerMayNotSee) {
  std::string cw = Token(Role::kCaseworker, "520102", "cw-1");
  v1::Case mine, theirs;
  ASSERT_TRUE(Register(cw, Person("520102", 113), &mine).ok());
  ASSERT_TRUE(Register(Token(Role::kPolice, "530102", "p"), Person("530102", 115), &theirs).ok());
  SeedDetox(mine.case_id(), "ACTIVE");
  v1::BatchGetCaseStatusRequest req;
  req.add_case_ids(mine.case_id());
  req.add_case_ids(theirs.case_id());
  req.add_case_ids(CaseId::Mint("520102", 2026, 9998)->ToString());
  v1::BatchGetCaseStatusResponse resp;
  ASSERT_TRUE(stub_->BatchGetCaseStatus(Ctx(cw).get(), req, &resp).ok());
  ASSERT_EQ(resp.statuses_size(), 3);
  EXPECT_TRUE(resp.statuses(0).found());
  EXPECT_EQ(resp.statuses(0).programs(0).status().state(), "ACTIVE");
  EXPECT_FALSE(resp.statuses(1).found());
  EXPECT_EQ(resp.statuses(1).programs_size(), 0);
  EXPECT_FALSE(resp.statuses(2).found());

  req.add_case_ids("520102-2026-0000001-0");  // wrong check character
  grpc::Status bad = stub_->BatchGetCaseStatus(Ctx(cw).get(), req, &resp);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("case_ids[3]"), std::string::npos) << bad.error_message();
}


// A required date sent as {0, 0, 0} is refused naming the field, never taken as today;
// an optional one may be absent but not partial.
TEST_F(RegistryServiceTest, ZeroOrPartialDatesAreRefused) {
  std::string police = Token(Role::kPolice, "520102", "police-1");
  v1::Case c;
  ASSERT_TRUE(Register(police, Person("520102", 117), &c).ok());
  auto expect_invalid = [](const grpc::Status& s, const std::string& field) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_NE(s.error_message().find(field), std::string::npos) << s.error_message();
  };
  v1::Case out;

  v1::SetStatusRequest status;
  status.set_case_id(c.case_id());
  status.set_control_status(v1::CONTROL_STATUS_LOST_CONTACT);
  status.mutable_effective_on();  // present, all zero
  expect_invalid(stub_->SetStatus(Ctx(police).get(), status, &out), "effective_on");
  status.mutable_effective_on()->set_year(2026);  // partial
  expect_invalid(stub_->SetStatus(Ctx(police).get(), status, &out), "effective_on");
  status.clear_effective_on();
  expect_invalid(stub_->SetStatus(Ctx(police).get(), status, &out), "effective_on");

  v1::ChangeJurisdictionRequest move;
  move.set_case_id(c.case_id());
  move.set_new_residence_division("520103");
  move.mutable_effective_on();
  expect_invalid(stub_->ChangeJurisdiction(Ctx(police).get(), move, &out), "effective_on");

  v1::RegisterPersonRequest p = Person("520102", 119);
  p.mutable_found_on()->set_year(0);
  p.mutable_found_on()->set_month(0);
  p.mutable_found_on()->set_day(0);
  expect_invalid(Register(police, p, &out), "found_on");
  p.mutable_found_on()->set_year(2026);  // month and day 0
  expect_invalid(Register(police, p, &out), "found_on");

  v1::SetRiskGradeRequest grade;
  grade.set_case_id(c.case_id());
  grade.set_risk_grade("high");
  grade.set_reason("relapse risk");
  grade.mutable_effective_on()->set_year(2026);  // optional, but partial
  expect_invalid(stub_->SetRiskGrade(Ctx(police).get(), grade, &out), "effective_on");
  grade.clear_effective_on();  // absent: today
  grpc::Status graded = stub_->SetRiskGrade(Ctx(police).get(), grade, &out);
  ASSERT_TRUE(graded.ok()) << graded.error_message();
  EXPECT_EQ(out.risk_grade(), "high");

  // Nothing above changed the case's status.
  v1::GetCaseRequest get;
  get.set_case_id(c.case_id());
  ASSERT_TRUE(stub_->GetCase(Ctx(police).get(), get, &out).ok());
  EXPECT_EQ(out.control_status(), v1::CONTROL_STATUS_IN_CONTROL);
}

}  // namespace
// 戒毒条例 Art 7: a back-filled record whose only finding is over three years old is
// sealed the moment it is written. A caseworker is told so before anything is written;
// police register it and keep seeing it.
TEST_F(RegistryServiceTest, BackFilledRecordsAreSealedConsistently) {
  v1::RegisterPersonRequest p = Person("520102", 111);
  absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));
  p.mutable_found_on()->set_year(static_cast<int>(today.year()) - 4);
  v1::Case c;
  grpc::Status s = Register(Token(Role::kCaseworker, "520102", "cw-1"), p, &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("sealed"), std::string::npos);

  std::string police = Token(Role::kPolice, "520102", "police-1");
  s = Register(police, p, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(c.sealed());
  v1::GetCaseRequest get;
  get.set_case_id(c.case_id());
  v1::Case seen;
  EXPECT_TRUE(stub_->GetCase(Ctx(police).get(), get, &seen).ok());
  // A caseworker who tries again learns nothing of the sealed case, not even its id.
  grpc::Status again = Register(Token(Role::kCaseworker, "520102", "cw-1"), p, &seen);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  p.mutable_found_on()->set_year(static_cast<int>(today.year()));
  again = Register(Token(Role::kCaseworker, "520102", "cw-1"), p, &seen);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(again.error_message().find(c.case_id()), std::string::npos);
}

// The registry's abstinence facts agree with the programme services: police report
// findings, never a measure's start or end; an end dated before the start is refused.
TEST_F(RegistryServiceTest, MeasuresAreReportedOnlyByTheirService) {
  v1::Case c;
  ASSERT_TRUE(Register(Token(Role::kPolice, "520102", "police-1"), Person("520102", 113), &c).ok());
  auto event = [&](const std::string& token, v1::ReportEventRequest::Kind kind,
                   const common::v1::Date& on, const std::string& source) {
    v1::ReportEventRequest r;
    r.set_case_id(c.case_id());
    r.set_kind(kind);
    r.set_program(common::v1::PROGRAM_COMMUNITY_DETOX);
    *r.mutable_occurred_on() = on;
    r.set_source_event_id(source);
    v1::ReportEventResponse out;
    return stub_->ReportEvent(Ctx(token).get(), r, &out);
  };
  const std::string police = Token(Role::kPolice, "520102", "police-1");
  const std::string service = Token(Role::kService, "*", "svc-community_detox");
  const common::v1::Date found = Person("520102", 113).found_on();
  EXPECT_EQ(event(police, v1::ReportEventRequest::KIND_MEASURE_ENDED, found, "p-1").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(event(service, v1::ReportEventRequest::KIND_MEASURE_STARTED, found, "sd-1").ok());
  common::v1::Date before = found;
  before.set_year(found.year() - 1);
  EXPECT_EQ(event(service, v1::ReportEventRequest::KIND_MEASURE_ENDED, before, "sd-2").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(event(police, v1::ReportEventRequest::KIND_DRUG_USE, found, "p-2").ok());
  // Police of another county learn nothing, whatever they send.
  grpc::Status outside = event(Token(Role::kPolice, "530102", "police-2"),
                               v1::ReportEventRequest::KIND_UNSPECIFIED, found, "p-3");
  EXPECT_EQ(outside.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(outside.error_message(), "case not found");
}

// SearchPersons over gRPC: a township caseworker finds its person by a variant
// spelling and gets the case exactly as ListCases shows it; a county search must
// single a person out; other roles are refused; the audit trail holds the criteria
// kinds and the hits, never the values searched for.
TEST_F(RegistryServiceTest, SearchPersonsAnswersAsListCasesAndAuditsNoPersonalData) {
  std::string police = Token(Role::kPolice, "520102", "police-s");
  v1::RegisterPersonRequest p = Person("520102", 301);
  p.set_name("测试·搜索");
  p.set_phone("13800003010");
  p.set_township("520102003");
  v1::Case registered;
  grpc::Status s = Register(police, p, &registered);
  ASSERT_TRUE(s.ok()) << s.error_message();

  const std::string subject = "cw-search";
  std::string township = Token(Role::kCaseworker, "520102003", subject);
  v1::SearchPersonsRequest by_name;
  by_name.set_name("测试 ・ 搜索");
  v1::SearchPersonsResponse found;
  s = stub_->SearchPersons(Ctx(township).get(), by_name, &found);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(found.hits_size(), 1);
  EXPECT_EQ(found.page().total_size(), 1);
  EXPECT_FALSE(found.page().total_size_is_bound());
  EXPECT_FALSE(found.hits(0).possible_duplicate());
  v1::ListCasesResponse listed;
  ASSERT_TRUE(stub_->ListCases(Ctx(township).get(), v1::ListCasesRequest(), &listed).ok());
  ASSERT_EQ(listed.cases_size(), 1);
  EXPECT_EQ(found.hits(0).record().SerializeAsString(), listed.cases(0).SerializeAsString());
  EXPECT_NE(found.hits(0).record().person().resident_id_number(), p.resident_id_number())
      << "masked for a caseworker";

  // The county must single the person out; facility staff may not search.
  std::string county = Token(Role::kCaseworker, "520102", "cw-county-s");
  s = stub_->SearchPersons(Ctx(county).get(), by_name, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::SearchPersonsRequest by_id;
  by_id.set_resident_id_number(p.resident_id_number());
  s = stub_->SearchPersons(Ctx(Token(Role::kFacilityStaff, "520102", "staff")).get(), by_id,
                           &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  found.Clear();
  s = stub_->SearchPersons(Ctx(county).get(), by_id, &found);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(found.hits_size(), 1);
  EXPECT_EQ(found.hits(0).record().case_id(), registered.case_id());

  ASSERT_TRUE(registry_->runtime().read_audit().Flush().ok());
  AuditFilter f;
  f.subject = subject;
  f.limit = 1000;
  auto rows = ListAudit(registry_->runtime().store(), f);
  ASSERT_TRUE(rows.ok()) << rows.status();
  const std::string method = "/pathway.registry.v1.Registry/SearchPersons";
  bool summary = false, read = false;
  for (const AuditRow& r : *rows) {
    for (const std::string& field : {r.entry.action, r.entry.case_id, r.entry.outcome}) {
      for (const std::string& value :
           {p.name(), by_name.name(), std::string("搜索"), p.phone(), p.resident_id_number()}) {
        EXPECT_EQ(field.find(value), std::string::npos) << field;
      }
    }
    if (r.entry.action == method + "?criteria=name&hits=1" && r.entry.case_id.empty()) {
      summary = true;
    }
    if (r.entry.action == method && r.entry.case_id == registered.case_id()) read = true;
  }
  EXPECT_TRUE(summary) << "the search, with its criteria kinds and hits";
  EXPECT_TRUE(read) << "the case returned, as read";
}

}  // namespace registry
}  // namespace pathway
