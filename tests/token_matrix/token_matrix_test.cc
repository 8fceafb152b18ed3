// Every kind of bad credential, against one read and one write RPC of each of the
// five services, over the real binaries: mutual TLS on every port (certificates from
// deploy/local/dev-tls.sh) and a development identity provider (a JWKS file of
// JwtIssuer key pairs, looked at on every call: --jwks_reread_interval_ms=0).
//
// The matrix is two tables crossed: Rpcs() (what is called, by whom, on which case)
// and Faults() (what is wrong with the credential, and the exact code and message every
// RPC must answer). Each row says how to make its credential for any RPC from that
// RPC's rightful principal, so a new fault is one row and a new RPC is one entry.
//
// Beside the matrix: keys rotated in and out of the JWKS file while the services
// run, and service identity bound to the peer certificate (a service token counts
// only from the certificate of a service allowed to call, and only for itself).
#include <grpcpp/grpcpp.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/jurisdiction.h"
#include "common/auth/jwt_issuer.h"
#include "common/auth/service_identity.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/ids/case_id.h"
#include "common/ids/resident_id.h"
#include "common/store/testing_store.h"
#include "common/tls/tls.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "pathway/detox/v1/detox.grpc.pb.h"
#include "pathway/isolation/v1/isolation.grpc.pb.h"
#include "pathway/placement/v1/placement.grpc.pb.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "pathway/rehab/v1/rehab.grpc.pb.h"
#include "tests/system/child_process.h"
#include "tests/testing/dev_pki.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/redis_server.h"

namespace pathway {
namespace {

using grpc::StatusCode;
using test::D;

constexpr char kSharedKey[] = "token-matrix-test-key-0123456789abcdefghijklmn";
constexpr char kIssuer[] = "https://idp.example.gov.cn/realms/pathway";
constexpr char kAudience[] = "pathway";
constexpr char kCounty[] = "520102";       // where every case of the test lives
constexpr char kOtherCounty[] = "520103";  // a county that sees none of them
// Every case is assigned to the first township; its neighbour sees none of them.
constexpr char kCasesTownship[] = "520102003";
constexpr char kOtherTownship[] = "520102004";

// Kids of the served key set: k1 signs the valid tokens; k-old is rotated out and
// k-new rotated in while the services run.
constexpr char kKid[] = "k1";
constexpr char kOldKid[] = "k-old";
constexpr char kNewKid[] = "k-new";

enum Service { kRegistry, kDetox, kIsolation, kRehab, kPlacement, kServiceCount };
const char* const kServiceName[kServiceCount] = {
    "registry", "community_detox", "compulsory_isolation", "community_rehab", "placement"};

// Who presents a credential: a role in a jurisdiction.
struct Principal {
  Role role;
  std::string jurisdiction;
};

int64_t NowSeconds() { return absl::ToUnixSeconds(absl::Now()); }

std::string B64(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

// A provider token's payload, as JwtIssuer::Issue writes it; rows spoil one field.
struct Payload {
  std::string iss = kIssuer;
  std::string aud = kAudience;
  std::string sub;
  std::string role;
  std::string jur;
  int64_t iat = NowSeconds();
  int64_t nbf = iat;
  int64_t exp = iat + 3600;

  explicit Payload(const Principal& who)
      : sub(absl::StrCat("matrix-", RoleName(who.role), "-", who.jurisdiction)),
        role(std::string(RoleName(who.role))),
        jur(who.jurisdiction) {}

  std::string Json() const {
    return absl::StrCat(R"({"iss":")", iss, R"(","aud":")", aud, R"(","sub":")", sub,
                        R"(","pathway_role":")", role, R"(","pathway_jur":")", jur, R"(","iat":)",
                        iat, R"(,"nbf":)", nbf, R"(,"exp":)", exp, "}");
  }
};

// The public key of a PEM private key file, as PEM: what an attacker who read the
// JWKS would try as an HMAC key.
std::string PublicKeyPem(const std::string& private_key_file) {
  FILE* f = std::fopen(private_key_file.c_str(), "r");
  if (f == nullptr) return "";
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (key == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pem;
  if (PEM_write_bio_PUBKEY(bio, key) == 1) {
    BUF_MEM* mem = nullptr;
    BIO_get_mem_ptr(bio, &mem);
    pem.assign(mem->data, mem->length);
  }
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

// Makes every credential the rows present, good and bad.
class Forge {
 public:
  // Key files in `dir`: the served JWKS at `jwks` holds k1 (ES256) and k-old
  // (RS256); k-new and a second key also named k1 have key sets of their own,
  // never served until the rotation.
  static std::unique_ptr<Forge> Create(const std::string& dir, const std::string& jwks) {
    auto f = std::unique_ptr<Forge>(new Forge());
    f->dir_ = dir;
    f->jwks_ = jwks;
    auto key = [&](const std::string& name, const std::string& set, const char* kid,
                   JwtAlgorithm alg) {
      absl::Status s = WriteDevelopmentKeyPair(dir + "/" + name + ".pem", set, kid, alg);
      EXPECT_TRUE(s.ok()) << s;
      return s.ok();
    };
    if (!key("k1", jwks, kKid, JwtAlgorithm::kEs256) ||
        !key("old", jwks, kOldKid, JwtAlgorithm::kRs256) ||
        !key("new", dir + "/new-jwks.json", kNewKid, JwtAlgorithm::kEs256) ||
        !key("wrong", dir + "/wrong-jwks.json", kKid, JwtAlgorithm::kEs256)) {
      return nullptr;
    }
    f->k1_ = f->Issuer("k1", kKid);
    f->unknown_kid_ = f->Issuer("k1", "k-unknown");
    f->wrong_key_ = f->Issuer("wrong", kKid);
    f->old_ = f->Issuer("old", kOldKid);
    f->new_ = f->Issuer("new", kNewKid);
    f->k1_public_pem_ = PublicKeyPem(dir + "/k1.pem");
    EXPECT_NE(f->k1_public_pem_.find("BEGIN PUBLIC KEY"), std::string::npos);
    if (!f->k1_ || !f->unknown_kid_ || !f->wrong_key_ || !f->old_ || !f->new_) return nullptr;
    return f;
  }

  // A valid provider token for `who`, signed with k1.
  std::string Provider(const Principal& who) const { return Sign(*k1_, Payload(who)); }
  // The same with one field of the payload changed by `spoil`.
  std::string Provider(const Principal& who, const std::function<void(Payload&)>& spoil) const {
    Payload p(who);
    spoil(p);
    return Sign(*k1_, p);
  }
  std::string WithUnknownKid(const Principal& who) const {
    return Sign(*unknown_kid_, Payload(who));
  }
  std::string WithWrongKeySameKid(const Principal& who) const {
    return Sign(*wrong_key_, Payload(who));
  }
  std::string WithOldKey(const Principal& who) const { return Sign(*old_, Payload(who)); }
  std::string WithNewKey(const Principal& who) const { return Sign(*new_, Payload(who)); }

  // {"alg":"none"}: no signature at all.
  std::string AlgNone(const Principal& who) const {
    return absl::StrCat(B64(R"({"alg":"none","typ":"JWT","kid":"k1"})"), ".",
                        B64(Payload(who).Json()), ".");
  }
  // HS256 whose HMAC key is k1's public key: the RS/ES-to-HS confusion.
  std::string HmacWithPublicKey(const Principal& who) const {
    std::string input = absl::StrCat(B64(R"({"alg":"HS256","typ":"JWT","kid":"k1"})"), ".",
                                     B64(Payload(who).Json()));
    return absl::StrCat(input, ".", B64(HmacSha256(k1_public_pem_, input)));
  }
  // A valid token whose payload was then raised to national admin.
  std::string Tampered(const Principal& who) const {
    std::string token = Provider(who);
    Payload raised(who);
    raised.role = "admin";
    raised.jur = "*";
    size_t first = token.find('.');
    size_t second = token.find('.', first + 1);
    return absl::StrCat(token.substr(0, first + 1), B64(raised.Json()), token.substr(second));
  }
  // The deployment's own HS256 format, signed with the shared token key.
  static std::string SharedKey(Role role, const std::string& jurisdiction,
                               const std::string& subject) {
    Claims c;
    c.subject = subject;
    c.role = role;
    c.jurisdiction = jurisdiction;
    c.issued_at = absl::FromUnixSeconds(NowSeconds());
    c.expires_at = c.issued_at + absl::Hours(1);
    return *(*TokenSigner::Create(kSharedKey))->Sign(c);
  }
  // A genuine service token of `service`, as ServiceTokenSource makes it.
  static std::string ServiceToken(absl::string_view service) {
    return SharedKey(Role::kService, "*", ServiceSubject(service));
  }

  // Rewrites the served key set by rename: k-old out, k-new in.
  absl::Status Rotate() const {
    google::protobuf::Struct served, added;
    if (!google::protobuf::util::JsonStringToMessage(ReadFile(jwks_), &served).ok() ||
        !google::protobuf::util::JsonStringToMessage(ReadFile(dir_ + "/new-jwks.json"), &added)
             .ok()) {
      return absl::InternalError("cannot parse a key set");
    }
    google::protobuf::ListValue kept;
    for (const auto& k : served.fields().at("keys").list_value().values()) {
      if (k.struct_value().fields().at("kid").string_value() != kOldKid) *kept.add_values() = k;
    }
    for (const auto& k : added.fields().at("keys").list_value().values()) *kept.add_values() = k;
    *(*served.mutable_fields())["keys"].mutable_list_value() = kept;
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(served, &json).ok()) {
      return absl::InternalError("cannot write the key set");
    }
    const std::string tmp = jwks_ + ".tmp";
    std::ofstream(tmp) << json;
    if (std::rename(tmp.c_str(), jwks_.c_str()) != 0) return absl::InternalError("rename");
    return absl::OkStatus();
  }

 private:
  Forge() = default;

  std::unique_ptr<JwtIssuer> Issuer(const std::string& key, const std::string& kid) const {
    JwtIssuerOptions o;
    o.private_key_file = dir_ + "/" + key + ".pem";
    o.kid = kid;
    o.issuer = kIssuer;
    o.audience = kAudience;
    auto issuer = JwtIssuer::Create(o);
    EXPECT_TRUE(issuer.ok()) << issuer.status();
    return issuer.ok() ? *std::move(issuer) : nullptr;
  }
  static std::string Sign(const JwtIssuer& issuer, const Payload& p) {
    auto token = issuer.SignPayload(p.Json());
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string dir_;
  std::string jwks_;
  std::unique_ptr<JwtIssuer> k1_, unknown_kid_, wrong_key_, old_, new_;
  std::string k1_public_pem_;
};

// One connection's stubs to the five services.
struct Stubs {
  std::unique_ptr<registry::v1::Registry::Stub> registry;
  std::unique_ptr<detox::v1::CommunityDetox::Stub> detox;
  std::unique_ptr<isolation::v1::CompulsoryIsolation::Stub> isolation;
  std::unique_ptr<rehab::v1::CommunityRehab::Stub> rehab;
  std::unique_ptr<placement::v1::Placement::Stub> placement;
};

// A call's context: `authorization` is the token (nullopt: no header at all).
std::unique_ptr<grpc::ClientContext> Ctx(const std::optional<std::string>& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (token.has_value()) {
    PrepareBearerContext(ctx.get(), *token, absl::Seconds(20));
  } else {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  }
  return ctx;
}

// The cases the setup opens, one per programme the RPCs need.
struct Cases {
  std::string in_detox;      // registered, SD reported and agreed, a Sunshine seeker
  std::string in_isolation;  // registered, isolation decided and admitted
  std::string in_rehab;      // registered, SK reported and agreed
  std::string missing;       // well formed, never issued
};

// One RPC of the matrix: who may call it, a role that may not, and the call on a
// case. `n` makes every write a new one (a later test date, another course), so
// each accepted write really changes the record.
struct Rpc {
  const char* name;
  Service service;
  Principal rightful;
  Role wrong_role;
  std::string Cases::*case_id;
  std::function<grpc::Status(Stubs&, grpc::ClientContext*, const std::string& case_id, int n)> call;
};

common::v1::Date Day(absl::CivilDay base, int plus) {
  absl::CivilDay d = base + plus;
  return D(static_cast<int>(d.year()), d.month(), d.day());
}

const std::vector<Rpc>& Rpcs() {
  static const auto* rpcs = new std::vector<Rpc>{
      {"registry.GetCase (read)",
       kRegistry,
       {Role::kPolice, kCounty},
       Role::kLaborBureau,
       &Cases::in_detox,
       [](Stubs& s, grpc::ClientContext* ctx, const std::string& id, int) {
         registry::v1::GetCaseRequest r;
         r.set_case_id(id);
         registry::v1::Case out;
         return s.registry->GetCase(ctx, r, &out);
       }},
      {"registry.SetRiskGrade (write)",
       kRegistry,
       {Role::kPolice, kCounty},
       Role::kLaborBureau,
       &Cases::in_detox,
       [](Stubs& s, grpc::ClientContext* ctx, const std::string& id, int n) {
         registry::v1::SetRiskGradeRequest r;
         r.set_case_id(id);
         r.set_risk_grade(n % 2 == 0 ? "high" : "low");
         r.set_reason("token matrix review");
         registry::v1::Case out;
         return s.registry->SetRiskGrade(ctx, r, &out);
       }},
      {"community_detox.GetOrder (read)",
       kDetox,
       {Role::kCaseworker, kCounty},
       Role::kLaborBureau,
       &Cases::in_detox,
       [](Stubs& s, grpc::ClientContext* ctx, const std::string& id, int) {
         detox::v1::GetOrderRequest r;
         r.set_case_id(id);
         detox::v1::Order out;
         return s.detox->GetOrder(ctx, r, &out);
       }},
      {"community_detox.RecordTest (write)",
       kDetox,
       {Role::kCaseworker, kCounty},
       Role::kLaborBureau,
       &Cases::in_detox,
       [](Stubs& s, grpc::ClientContext* ctx, const std::string& id, int n) {
         detox::v1::RecordTestRequest r;
         r.set_case_id(id);
         *r.mutable_tested_on() = Day(absl::CivilDay(2026, 6, 6), n);
         r.set_specimen(detox::v1::SPECIMEN_URINE);
         r.set_result(detox::v1::TEST_RESULT_NEGATIVE);
         detox::v1::Order out;
         return s.detox->RecordTest(ctx, r, &out);
       }},
      {"compulsory_isolation.GetDecision (read)",
       kIsolation,
       {Role::kPolice, kCounty},
       Role::kLaborBureau,
       &Cases::in_isolation,
       [](Stubs& s, grpc::ClientContext* ctx, const std::string& id, int) {
         isolation::v1::GetDecisionRequest r;
         r.set_case_id(id);
         isolation::v1::Decision out;
         return s.isolation->GetDecision(ctx, r, &out);
       }},
      {"compulsory_isolation.RecordAssessment (write)",
       kIsolation,
       {Role::kFacilityStaff, kCounty},
       Role::kLaborBureau,
       &Cases::in_isolation,
       [](Stubs& s, grpc::ClientContext* ctx, const std::string& id, int n) {
         isolation::v1::RecordAssessmentRequest r;
         r.set_case_id(id);
         r.set_kind(isolation::v1::ASSESSMENT_KIND_STAGE);
         *r.mutable_assessed_on() = Day(absl::CivilDay(2026, 9, 3), n);
         r.set_physiological_detox(isolation::v1::GRADE_PASS);
         r.set_physical_mental_recovery(isolation::v1::GRADE_PASS);
         r.set_behaviour(isolation::v1::GRADE_PASS);
         r.set_social_adaptability(isolation::v1::ADAPTABILITY_GOOD);
         isolation::v1::Decision out;
         return s.isolation->RecordAssessment(ctx, r, &out);
       }},
      {"community_rehab.GetOrder (read)",
       kRehab,
       {Role::kCaseworker, kCounty},
       Role::kLaborBureau,
       &Cases::in_rehab,
       [](Stubs& s, grpc::ClientContext* ctx, const std::string& id, int) {
         rehab::v1::GetOrderRequest r;
         r.set_case_id(id);
         rehab::v1::Order out;
         return s.rehab->GetOrder(ctx, r, &out);
       }},
      {"community_rehab.RecordTest (write)",
       kRehab,
       {Role::kCaseworker, kCounty},
       Role::kLaborBureau,
       &Cases::in_rehab,
       [](Stubs& s, grpc::ClientContext* ctx, const std::string& id, int n) {
         rehab::v1::RecordTestRequest r;
         r.set_case_id(id);
         *r.mutable_tested_on() = Day(absl::CivilDay(2026, 6, 6), n);
         r.set_specimen(rehab::v1::SPECIMEN_URINE);
         r.set_result(rehab::v1::TEST_RESULT_NEGATIVE);
         rehab::v1::Order out;
         return s.rehab->RecordTest(ctx, r, &out);
       }},
      {"placement.GetSeeker (read)",
       kPlacement,
       {Role::kCaseworker, kCounty},
       Role::kLaborBureau,
       &Cases::in_detox,
       [](Stubs& s, grpc::ClientContext* ctx, const std::string& id, int) {
         placement::v1::GetSeekerRequest r;
         r.set_case_id(id);
         placement::v1::Seeker out;
         return s.placement->GetSeeker(ctx, r, &out);
       }},
      {"placement.RecordTraining (write)",
       kPlacement,
       {Role::kCaseworker, kCounty},
       Role::kLaborBureau,
       &Cases::in_detox,
       [](Stubs& s, grpc::ClientContext* ctx, const std::string& id, int n) {
         placement::v1::RecordTrainingRequest r;
         r.set_case_id(id);
         r.set_course(absl::StrCat("Welding, group ", n));
         r.set_provider("Synthetic training centre");
         *r.mutable_start_on() = D(2026, 6, 15);
         r.set_outcome(placement::v1::TRAINING_OUTCOME_IN_PROGRESS);
         placement::v1::Training out;
         return s.placement->RecordTraining(ctx, r, &out);
       }},
  };
  return *rpcs;
}

// A fault in a credential, or in who presents it, the code every RPC answers and
// the message (nullptr: not checked, for the accepted rows). `present` makes the
// token for `rpc` (nullopt: no authorization header).
struct Row {
  const char* fault;
  std::function<std::optional<std::string>(const Forge&, const Rpc&)> present;
  StatusCode expected;
  const char* message = nullptr;
  // The RPCs the row applies to (nullptr: all).
  bool (*applies)(const Rpc&) = nullptr;
};
// The message of a row whose answer must read exactly as for a case that was never
// issued: a case outside the caller's jurisdiction looks like one that does not exist.
constexpr char kAsForAMissingCase[] = "(the message of a case never issued)";

const std::vector<Row>& Faults() {
  using P = std::optional<std::string>;
  static const auto* rows = new std::vector<Row>{
      {"valid token (control)",
       [](const Forge& f, const Rpc& r) -> P { return f.Provider(r.rightful); }, StatusCode::OK},
      {"missing token", [](const Forge&, const Rpc&) -> P { return std::nullopt; },
       StatusCode::UNAUTHENTICATED, "missing bearer token"},
      {"malformed token", [](const Forge&, const Rpc&) -> P { return "not-a-jwt"; },
       StatusCode::UNAUTHENTICATED, "malformed token"},
      {"expired",
       [](const Forge& f, const Rpc& r) -> P {
         return f.Provider(r.rightful, [](Payload& p) {
           p.iat = p.nbf = p.iat - 3 * 3600;
           p.exp = p.iat + 3600;
         });
       },
       StatusCode::UNAUTHENTICATED, "token expired"},
      {"not yet valid (nbf)",
       [](const Forge& f, const Rpc& r) -> P {
         return f.Provider(r.rightful, [](Payload& p) {
           p.nbf = p.iat + 3600;
           p.exp = p.iat + 2 * 3600;
         });
       },
       StatusCode::UNAUTHENTICATED, "token not yet valid"},
      {"too long-lived (exp - iat over 12 h)",
       [](const Forge& f, const Rpc& r) -> P {
         return f.Provider(r.rightful, [](Payload& p) { p.exp = p.iat + 13 * 3600; });
       },
       StatusCode::UNAUTHENTICATED, "token lifetime too long"},
      {"wrong issuer",
       [](const Forge& f, const Rpc& r) -> P {
         return f.Provider(r.rightful,
                           [](Payload& p) { p.iss = "https://idp.example.org/realms/other"; });
       },
       StatusCode::UNAUTHENTICATED, "token issuer not accepted"},
      {"wrong audience",
       [](const Forge& f, const Rpc& r) -> P {
         return f.Provider(r.rightful, [](Payload& p) { p.aud = "another-system"; });
       },
       StatusCode::UNAUTHENTICATED, "token audience not accepted"},
      {"unknown kid",
       [](const Forge& f, const Rpc& r) -> P { return f.WithUnknownKid(r.rightful); },
       StatusCode::UNAUTHENTICATED, "unknown signing key"},
      {"alg=none", [](const Forge& f, const Rpc& r) -> P { return f.AlgNone(r.rightful); },
       StatusCode::UNAUTHENTICATED, "token algorithm not allowed"},
      {"HS256 with the shared token key, a person's role",
       [](const Forge&, const Rpc& r) -> P {
         return Forge::SharedKey(r.rightful.role, r.rightful.jurisdiction, "matrix-shared");
       },
       StatusCode::UNAUTHENTICATED, "a person's token must come from the identity provider"},
      {"HS256 keyed with the provider's public key (RS/ES confusion)",
       [](const Forge& f, const Rpc& r) -> P { return f.HmacWithPublicKey(r.rightful); },
       StatusCode::UNAUTHENTICATED, "token algorithm not allowed"},
      {"payload tampered after signing",
       [](const Forge& f, const Rpc& r) -> P { return f.Tampered(r.rightful); },
       StatusCode::UNAUTHENTICATED, "bad token signature"},
      {"signed with a wrong key under the right kid",
       [](const Forge& f, const Rpc& r) -> P { return f.WithWrongKeySameKid(r.rightful); },
       StatusCode::UNAUTHENTICATED, "bad token signature"},
      {"service credential presented by a client",
       [](const Forge&, const Rpc& r) -> P {
         // A real service token of a service allowed to call this one, over the
         // client's certificate: holding the token key does not make one a service.
         return Forge::ServiceToken(DefaultServiceCallers(kServiceName[r.service]).front());
       },
       StatusCode::UNAUTHENTICATED, "service credential not accepted from this peer"},
      {"wrong role",
       [](const Forge& f, const Rpc& r) -> P {
         return f.Provider({r.wrong_role, r.rightful.jurisdiction});
       },
       StatusCode::PERMISSION_DENIED, "role labor_bureau may not call this method"},
      {"wrong county",
       [](const Forge& f, const Rpc& r) -> P {
         return f.Provider({r.rightful.role, kOtherCounty});
       },
       StatusCode::NOT_FOUND, kAsForAMissingCase},
      {"wrong township",
       [](const Forge& f, const Rpc& r) -> P {
         return f.Provider({r.rightful.role, kOtherTownship});
       },
       StatusCode::NOT_FOUND, kAsForAMissingCase,
       // Only caseworkers and police hold a township's scope.
       [](const Rpc& r) { return RoleMayBeTownship(r.rightful.role); }},
  };
  return *rows;
}

// Key rotation: the rows before and after the served key set is rewritten.
const std::vector<Row>& BeforeRotation() {
  using P = std::optional<std::string>;
  static const auto* rows = new std::vector<Row>{
      {"key still served",
       [](const Forge& f, const Rpc& r) -> P { return f.WithOldKey(r.rightful); }, StatusCode::OK},
      {"key not yet served",
       [](const Forge& f, const Rpc& r) -> P { return f.WithNewKey(r.rightful); },
       StatusCode::UNAUTHENTICATED, "unknown signing key"},
  };
  return *rows;
}
const std::vector<Row>& AfterRotation() {
  using P = std::optional<std::string>;
  static const auto* rows = new std::vector<Row>{
      {"key rotated out of the JWKS file",
       [](const Forge& f, const Rpc& r) -> P { return f.WithOldKey(r.rightful); },
       StatusCode::UNAUTHENTICATED, "unknown signing key"},
      {"key rotated in without a restart",
       [](const Forge& f, const Rpc& r) -> P { return f.WithNewKey(r.rightful); }, StatusCode::OK},
      {"unchanged key (control)",
       [](const Forge& f, const Rpc& r) -> P { return f.Provider(r.rightful); }, StatusCode::OK},
  };
  return *rows;
}

// The five binaries, started once for the suite, and the cases they hold.
class TokenMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new Env();
    env_->Start();
  }
  static void TearDownTestSuite() {
    env_->Stop();
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(env_->ready) << "the services did not start"; }

  struct Env {
    std::unique_ptr<test::RedisServer> redis;
    std::string dir;
    test::DevPki pki;
    std::vector<int> ports;
    std::vector<std::unique_ptr<test::ChildProcess>> processes;
    std::unique_ptr<Forge> forge;
    Stubs client;  // over the certificate of a client, not a service
    Cases cases;
    std::map<const Rpc*, int> calls;  // per RPC: the `n` of its next call
    bool ready = false;

    std::string Addr(int i) const { return absl::StrCat("127.0.0.1:", ports[i]); }

    // Stubs over a connection presenting certificate `cert`.
    Stubs Connect(const std::string& cert) const {
      TlsOptions tls;
      tls.ca_file = pki.CaFile();
      tls.cert_file = pki.Cert(cert);
      tls.key_file = pki.Key(cert);
      ChannelSecurity security = *MakeChannelSecurity(tls);
      Stubs s;
      s.registry = registry::v1::Registry::NewStub(SecureChannel(Addr(kRegistry), security));
      s.detox = detox::v1::CommunityDetox::NewStub(SecureChannel(Addr(kDetox), security));
      s.isolation =
          isolation::v1::CompulsoryIsolation::NewStub(SecureChannel(Addr(kIsolation), security));
      s.rehab = rehab::v1::CommunityRehab::NewStub(SecureChannel(Addr(kRehab), security));
      s.placement = placement::v1::Placement::NewStub(SecureChannel(Addr(kPlacement), security));
      return s;
    }

    void Start() {
      auto r = test::RedisServer::Start();
      ASSERT_TRUE(r.ok()) << r.status();
      redis = *std::move(r);
      char tmpl[] = "/tmp/pathway-token-matrix-XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      dir = tmpl;
      std::ofstream(dir + "/token.key") << kSharedKey;
      std::ofstream(dir + "/pii.key") << "token-matrix-pii-key-0123456789abcdefghijklmn";
      const std::string jwks = dir + "/jwks.json";
      forge = Forge::Create(dir, jwks);
      ASSERT_NE(forge, nullptr);
      std::vector<std::string> names(kServiceName, kServiceName + kServiceCount);
      names.push_back("client");
      auto made = test::MakeDevPki(dir + "/tls", names);
      ASSERT_TRUE(made.ok()) << made.status();
      pki = *made;
      const char* binaries[kServiceCount] = {PATHWAY_REGISTRY_BIN, PATHWAY_DETOX_BIN,
                                             PATHWAY_ISOLATION_BIN, PATHWAY_REHAB_BIN,
                                             PATHWAY_PLACEMENT_BIN};
      for (int i = 0; i < kServiceCount; ++i) ports.push_back(*test::PickUnusedLoopbackPort());
      for (int i = 0; i < kServiceCount; ++i) {
        const std::string name = kServiceName[i];
        std::vector<std::string> argv = {
            binaries[i], absl::StrCat("--port=", ports[i]), "--data_dir=" + dir,
            "--database=" + TestDatabaseUriOrDie("matrix_" + name),
            absl::StrCat("--redis_port=", redis->port()), "--token_key_file=" + dir + "/token.key",
            "--drain_timeout_s=2", "--registry_addr=" + Addr(kRegistry),
            "--detox_addr=" + Addr(kDetox), "--isolation_addr=" + Addr(kIsolation),
            "--rehab_addr=" + Addr(kRehab), "--placement_addr=" + Addr(kPlacement),
            // The development identity provider, its key file looked at on every call.
            "--jwks_file=" + jwks, std::string("--token_issuer=") + kIssuer,
            std::string("--token_audience=") + kAudience, "--jwks_reread_interval_ms=0",
            // Mutual TLS, each service with the certificate of its own name.
            "--tls_cert_file=" + pki.Cert(name), "--tls_key_file=" + pki.Key(name),
            "--tls_ca_file=" + pki.CaFile(), "--tls_require_client_cert"};
        if (i == kRegistry) argv.push_back("--pii_key_file=" + dir + "/pii.key");
        auto p = test::ChildProcess::Start(argv);
        ASSERT_TRUE(p.ok()) << p.status();
        processes.push_back(*std::move(p));
      }
      for (auto& p : processes) {
        ASSERT_TRUE(p->WaitForOutput("event=server_started", absl::Seconds(60)).has_value())
            << p->Output();
      }
      client = Connect("client");
      ASSERT_NO_FATAL_FAILURE(OpenCases());
      ready = true;
    }

    void Stop() {
      for (auto& p : processes) p->Signal(SIGTERM);
      for (auto& p : processes) {
        int status = p->Wait(absl::Seconds(30));
        EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << p->Output();
      }
      processes.clear();
      if (!dir.empty()) {
        std::string cmd = "rm -rf '" + dir + "'";
        EXPECT_EQ(std::system(cmd.c_str()), 0);
      }
    }

    // Registers three synthetic people and opens, with valid calls, what each RPC
    // needs: SD reported and agreed plus a Sunshine seeker; isolation decided and
    // admitted; SK reported and agreed.
    void OpenCases() {
      const std::string police = forge->Provider({Role::kPolice, kCounty});
      const std::string cw = forge->Provider({Role::kCaseworker, kCounty});
      const std::string staff = forge->Provider({Role::kFacilityStaff, kCounty});
      auto expect_ok = [](const grpc::Status& s, const char* what) {
        ASSERT_TRUE(s.ok()) << what << ": " << s.error_code() << " " << s.error_message();
      };
      auto register_person = [&](int seq, std::string* case_id) {
        registry::v1::RegisterPersonRequest reg;
        reg.set_resident_id_number(
            GenerateSyntheticResidentId(kCounty, absl::CivilDay(1990, 1, 1 + seq), 31 + seq));
        reg.set_name("令牌矩阵测试");
        reg.set_household_division(kCounty);
        reg.set_township(kCasesTownship);
        reg.add_drug_types("methamphetamine");
        *reg.mutable_found_on() = D(2026, 5, 1);
        registry::v1::Case c;
        ASSERT_NO_FATAL_FAILURE(
            expect_ok(client.registry->RegisterPerson(Ctx(police).get(), reg, &c), "register"));
        *case_id = c.case_id();
      };
      ASSERT_NO_FATAL_FAILURE(register_person(0, &cases.in_detox));
      ASSERT_NO_FATAL_FAILURE(register_person(1, &cases.in_isolation));
      ASSERT_NO_FATAL_FAILURE(register_person(2, &cases.in_rehab));
      cases.missing = CaseId::Mint(kCounty, 2026, 9'999'999)->ToString();

      detox::v1::OpenOrderRequest sd;
      sd.set_case_id(cases.in_detox);
      sd.set_division(kCounty);
      sd.set_place("520102001");
      sd.set_decision_number("TM-SD-1");
      *sd.mutable_decision_date() = D(2026, 6, 1);
      *sd.mutable_received_on() = D(2026, 6, 2);
      detox::v1::Order order;
      ASSERT_NO_FATAL_FAILURE(
          expect_ok(client.detox->OpenOrder(Ctx(police).get(), sd, &order), "SD order"));
      detox::v1::RecordReportRequest sd_report;
      sd_report.set_case_id(cases.in_detox);
      *sd_report.mutable_reported_on() = D(2026, 6, 5);
      ASSERT_NO_FATAL_FAILURE(
          expect_ok(client.detox->RecordReport(Ctx(cw).get(), sd_report, &order), "SD report"));
      detox::v1::SignAgreementRequest sd_agreement;
      sd_agreement.set_case_id(cases.in_detox);
      *sd_agreement.mutable_signed_on() = D(2026, 6, 5);
      sd_agreement.set_agreement_number("TM-SD-AGREEMENT-1");
      ASSERT_NO_FATAL_FAILURE(expect_ok(
          client.detox->SignAgreement(Ctx(cw).get(), sd_agreement, &order), "SD agreement"));

      placement::v1::RegisterSeekerRequest seeker;
      seeker.set_case_id(cases.in_detox);
      seeker.set_division(kCounty);
      *seeker.mutable_consent()->mutable_given_on() = D(2026, 6, 10);
      seeker.mutable_consent()->add_scopes(placement::v1::CONSENT_SCOPE_PLACEMENT);
      placement::v1::Seeker registered;
      ASSERT_NO_FATAL_FAILURE(expect_ok(
          client.placement->RegisterSeeker(Ctx(cw).get(), seeker, &registered), "seeker"));

      isolation::v1::DecideRequest decide;
      decide.set_case_id(cases.in_isolation);
      decide.set_decision_number("TM-QZ-1");
      decide.set_deciding_division(kCounty);
      *decide.mutable_decided_on() = D(2026, 9, 1);
      *decide.mutable_served_on() = D(2026, 9, 1);
      decide.set_ground(isolation::v1::GROUND_SEVERE_ADDICTION);
      isolation::v1::Decision decision;
      ASSERT_NO_FATAL_FAILURE(expect_ok(
          client.isolation->Decide(Ctx(police).get(), decide, &decision), "isolation decided"));
      isolation::v1::AdmitRequest admit;
      admit.set_case_id(cases.in_isolation);
      admit.set_facility_id("gy-police-1");
      *admit.mutable_admitted_on() = D(2026, 9, 2);
      ASSERT_NO_FATAL_FAILURE(
          expect_ok(client.isolation->Admit(Ctx(staff).get(), admit, &decision), "admitted"));

      rehab::v1::OpenOrderRequest sk;
      sk.set_case_id(cases.in_rehab);
      sk.set_division(kCounty);
      sk.set_place("520102001");
      sk.set_decision_number("TM-SK-1");
      *sk.mutable_decision_date() = D(2026, 6, 1);
      *sk.mutable_received_on() = D(2026, 6, 2);
      sk.set_term_months(12);
      rehab::v1::Order sk_order;
      ASSERT_NO_FATAL_FAILURE(
          expect_ok(client.rehab->OpenOrder(Ctx(police).get(), sk, &sk_order), "SK order"));
      rehab::v1::RecordReportRequest sk_report;
      sk_report.set_case_id(cases.in_rehab);
      *sk_report.mutable_reported_on() = D(2026, 6, 5);
      ASSERT_NO_FATAL_FAILURE(
          expect_ok(client.rehab->RecordReport(Ctx(cw).get(), sk_report, &sk_order), "SK report"));
      rehab::v1::SignAgreementRequest sk_agreement;
      sk_agreement.set_case_id(cases.in_rehab);
      *sk_agreement.mutable_signed_on() = D(2026, 6, 5);
      sk_agreement.set_agreement_number("TM-SK-AGREEMENT-1");
      ASSERT_NO_FATAL_FAILURE(expect_ok(
          client.rehab->SignAgreement(Ctx(cw).get(), sk_agreement, &sk_order), "SK agreement"));
    }

    // `rpc` on its case (or on `case_id`) over the client's connection.
    grpc::Status Call(const Rpc& rpc, const std::optional<std::string>& token,
                      const std::string* case_id = nullptr) {
      auto ctx = Ctx(token);
      return rpc.call(client, ctx.get(), case_id != nullptr ? *case_id : cases.*rpc.case_id,
                      calls[&rpc]++);
    }
  };

  // Every row against every RPC, with the exact code and message (for NOT_FOUND,
  // the message a case never issued gets from the same RPC).
  static void RunRows(const std::vector<Row>& rows) {
    for (const Rpc& rpc : Rpcs()) {
      grpc::Status missing =
          env_->Call(rpc, env_->forge->Provider(rpc.rightful), &env_->cases.missing);
      ASSERT_EQ(missing.error_code(), StatusCode::NOT_FOUND)
          << rpc.name << ": " << missing.error_message();
      for (const Row& row : rows) {
        if (row.applies != nullptr && !row.applies(rpc)) continue;
        grpc::Status s = env_->Call(rpc, row.present(*env_->forge, rpc));
        EXPECT_EQ(s.error_code(), row.expected)
            << rpc.name << " / " << row.fault << ": " << s.error_message();
        if (row.message == kAsForAMissingCase) {
          EXPECT_EQ(s.error_message(), missing.error_message())
              << rpc.name << " / " << row.fault << ": not the message of a case never issued";
        } else if (row.message != nullptr) {
          EXPECT_EQ(s.error_message(), row.message) << rpc.name << " / " << row.fault;
        }
      }
    }
  }

  static Env* env_;
};

TokenMatrixTest::Env* TokenMatrixTest::env_ = nullptr;

TEST_F(TokenMatrixTest, EveryFaultAgainstAReadAndAWriteOfEachService) { RunRows(Faults()); }

TEST_F(TokenMatrixTest, KeysRotateInAndOutWithoutARestart) {
  ASSERT_NO_FATAL_FAILURE(RunRows(BeforeRotation()));
  ASSERT_TRUE(env_->forge->Rotate().ok());
  RunRows(AfterRotation());
}

TEST_F(TokenMatrixTest, AServiceTokenCountsOnlyFromThatServicesCertificate) {
  // Per service: an allowed caller over its own certificate is served; a service
  // that does not call this one, or a token naming another service, is not.
  auto ask = [&](Service target, const std::string& cert, const std::string& token) {
    Stubs s = env_->Connect(cert);
    auto ctx = Ctx(token);
    if (target == kRegistry) {
      registry::v1::GetCaseScopesRequest r;
      r.add_case_ids(env_->cases.in_detox);
      registry::v1::GetCaseScopesResponse out;
      return s.registry->GetCaseScopes(ctx.get(), r, &out);
    }
    common::v1::GetProgramStatusRequest r;
    common::v1::ProgramStatus out;
    switch (target) {
      case kDetox:
        r.set_case_id(env_->cases.in_detox);
        return s.detox->GetProgramStatus(ctx.get(), r, &out);
      case kIsolation:
        r.set_case_id(env_->cases.in_isolation);
        return s.isolation->GetProgramStatus(ctx.get(), r, &out);
      case kRehab:
        r.set_case_id(env_->cases.in_rehab);
        return s.rehab->GetProgramStatus(ctx.get(), r, &out);
      default:
        r.set_case_id(env_->cases.in_detox);
        return s.placement->GetProgramStatus(ctx.get(), r, &out);
    }
  };
  for (int t = 0; t < kServiceCount; ++t) {
    const Service target = static_cast<Service>(t);
    const std::vector<std::string> callers = DefaultServiceCallers(kServiceName[t]);
    for (const char* peer : kServiceName) {
      const bool allowed = std::find(callers.begin(), callers.end(), peer) != callers.end();
      if (peer == std::string(kServiceName[t])) continue;
      grpc::Status own = ask(target, peer, Forge::ServiceToken(peer));
      EXPECT_EQ(own.error_code(), allowed ? StatusCode::OK : StatusCode::UNAUTHENTICATED)
          << peer << " -> " << kServiceName[t] << ": " << own.error_message();
    }
    // An allowed caller's certificate with another service's token.
    const std::string other = callers.front() == "registry" ? "placement" : "registry";
    grpc::Status borrowed = ask(target, callers.front(), Forge::ServiceToken(other));
    EXPECT_EQ(borrowed.error_code(), StatusCode::UNAUTHENTICATED)
        << callers.front() << " presenting " << other << "'s token to " << kServiceName[t];
    EXPECT_EQ(borrowed.error_message(), kServicePeerRefused);
    // The client's certificate with a genuine token of an allowed caller.
    grpc::Status client = ask(target, "client", Forge::ServiceToken(callers.front()));
    EXPECT_EQ(client.error_code(), StatusCode::UNAUTHENTICATED) << kServiceName[t];
    EXPECT_EQ(client.error_message(), kServicePeerRefused);
  }
}

}  // namespace
}  // namespace pathway
