// Who sees and who acts, walked over every case-keyed RPC of the four programme services
// (DESIGN.md §6), over real gRPC against the real registry: for each method found in
// the service descriptors, a caller of another province and of a sibling county gets
// exactly the answer of a case that was never issued; the province that contains the
// case acts; the other place of 双向管控 (the residence county) reads but is refused
// every write; and a sealed case answers a caseworker as a case never issued.
//
// Requests are built from the descriptors (case id, dates, enums, divisions filled in),
// so a method added later is walked too; the hand-off methods only services may call
// are listed, so a new one fails the test until it is looked at.
#include <grpcpp/generic/generic_stub.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "common/ids/case_id.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "tests/scenario/pathway_stack.h"

namespace pathway {
namespace {

using test::D;

// Household in Guiyang's Nanming district, living in Hangzhou's Xihu district.
constexpr char kHousehold[] = "520102";
constexpr char kResidence[] = "330106";

// What a caller learns: the status and the response's bytes.
struct Answer {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  std::string body;
  bool operator==(const Answer& o) const {
    return code == o.code && message == o.message && body == o.body;
  }
};

std::ostream& operator<<(std::ostream& os, const Answer& a) {
  return os << a.code << " \"" << a.message << "\" (" << a.body.size() << " bytes)";
}

bool RoleRefused(const Answer& a) {
  return a.code == grpc::StatusCode::PERMISSION_DENIED &&
         absl::StrContains(a.message, "may not call this method");
}

// The service-only hand-off receivers: no person-facing role may call them.
const std::set<std::string>& ServiceOnlyMethods() {
  static const auto* methods = new std::set<std::string>{
      "/pathway.detox.v1.CommunityDetox/CloseForIsolation",
      "/pathway.detox.v1.CommunityDetox/OpenFromConversion",
      "/pathway.rehab.v1.CommunityRehab/CloseForIsolation",
      "/pathway.rehab.v1.CommunityRehab/OpenFromRelease",
      "/pathway.placement.v1.Placement/SuspendSeeker",
      "/pathway.placement.v1.Placement/ResumeSeeker",
  };
  return *methods;
}

class ScopeMatrixTest : public test::PathwayStackTest {
 protected:
  std::string Register(int seq, const std::string& residence,
                       const common::v1::Date& found_on = D(2026, 1, 5),
                       const std::string& township = "") {
    registry::v1::RegisterPersonRequest r;
    r.set_resident_id_number(
        GenerateSyntheticResidentId(kHousehold, absl::CivilDay(1990, 4, 12), seq));
    r.set_name("范围测试");
    r.set_household_division(kHousehold);
    r.set_residence_division(residence);
    r.add_drug_types("methamphetamine");
    *r.mutable_found_on() = found_on;
    r.set_township(township);
    registry::v1::Case c;
    grpc::Status s = registry_stub_->RegisterPerson(Ctx(Role::kPolice, kHousehold).get(), r, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c.case_id();
  }

  void OpenDetox(const std::string& case_id) {
    detox::v1::OpenOrderRequest open;
    open.set_case_id(case_id);
    open.set_division(kHousehold);
    open.set_place("520102001");
    open.set_decision_number("SD-SCOPE-1");
    *open.mutable_decision_date() = D(2026, 1, 10);
    *open.mutable_received_on() = D(2026, 1, 10);
    detox::v1::Order order;
    grpc::Status s = detox_stub_->OpenOrder(Ctx(Role::kPolice, kHousehold).get(), open, &order);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void OpenRehab(const std::string& case_id) {
    rehab::v1::OpenOrderRequest open;
    open.set_case_id(case_id);
    open.set_division(kHousehold);
    open.set_place("520102001");
    open.set_decision_number("SK-SCOPE-1");
    *open.mutable_decision_date() = D(2026, 1, 10);
    *open.mutable_received_on() = D(2026, 1, 10);
    open.set_term_months(12);
    rehab::v1::Order order;
    grpc::Status s = rehab_stub_->OpenOrder(Ctx(Role::kPolice, kHousehold).get(), open, &order);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void RegisterSeeker(const std::string& case_id) {
    placement::v1::RegisterSeekerRequest req;
    req.set_case_id(case_id);
    req.set_division(kHousehold);
    *req.mutable_consent()->mutable_given_on() = D(2026, 1, 20);
    req.mutable_consent()->add_scopes(placement::v1::CONSENT_SCOPE_PLACEMENT);
    placement::v1::Seeker out;
    auto stub = placement::v1::Placement::NewStub(Channel(4));
    grpc::Status s = stub->RegisterSeeker(Ctx(Role::kCaseworker, kHousehold).get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void DecideIsolation(const std::string& case_id) {
    isolation::v1::DecideRequest d;
    d.set_case_id(case_id);
    d.set_decision_number("QZ-SCOPE-1");
    d.set_deciding_division(kHousehold);
    *d.mutable_decided_on() = D(2026, 1, 10);
    *d.mutable_served_on() = D(2026, 1, 10);
    d.set_ground(isolation::v1::GROUND_SEVERE_ADDICTION);
    isolation::v1::Decision out;
    grpc::Status s = isolation_stub_->Decide(Ctx(Role::kPolice, kHousehold).get(), d, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // A request for `method` about `case_id`, every field a handler checks filled with
  // something well formed, so that only scope and roles decide the answer's code.
  static std::string Request(const google::protobuf::MethodDescriptor* method,
                             const std::string& case_id) {
    google::protobuf::DynamicMessageFactory factory;
    std::unique_ptr<google::protobuf::Message> m(
        factory.GetPrototype(method->input_type())->New());
    Fill(m.get(), case_id);
    return m->SerializeAsString();
  }

  static void Fill(google::protobuf::Message* m, const std::string& case_id) {
    using google::protobuf::FieldDescriptor;
    const google::protobuf::Reflection* r = m->GetReflection();
    const google::protobuf::Descriptor* d = m->GetDescriptor();
    if (d->full_name() == "pathway.common.v1.Date") {
      r->SetInt32(m, d->FindFieldByName("year"), 2026);
      r->SetInt32(m, d->FindFieldByName("month"), 1);
      r->SetInt32(m, d->FindFieldByName("day"), 25);
      return;
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->containing_oneof() != nullptr) continue;
      if (f->is_repeated()) {
        // One well-formed entry where a list must name something (consent scopes).
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM && f->enum_type()->value_count() > 1) {
          r->AddEnumValue(m, f, 1);
        }
        continue;
      }
      const std::string& name = f->name();
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          if (name == "case_id") {
            r->SetString(m, f, case_id);
          } else if (absl::EndsWith(name, "division")) {
            r->SetString(m, f, kHousehold);
          } else if (name == "facility_id") {
            r->SetString(m, f, "gy-police");
          } else if (name != "out_of_area_basis" && name != "alert_key") {
            r->SetString(m, f, "T-1");
          }
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          if (f->enum_type()->value_count() > 1) r->SetEnumValue(m, f, 1);
          break;
        case FieldDescriptor::CPPTYPE_INT32:
          r->SetInt32(m, f, name == "term_months" ? 36 : 1);
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          r->SetInt64(m, f, 1);
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (name != "page" && name != "nursing_infant_birth_date") {
            Fill(r->MutableMessage(m, f), case_id);
          }
          break;
        default:
          break;
      }
    }
  }

  Answer Call(const std::string& full_method, const std::string& request, Role role,
              const std::string& jurisdiction, const std::shared_ptr<grpc::Channel>& channel) {
    grpc::GenericStub stub(channel);
    auto ctx = Ctx(role, jurisdiction);
    grpc::Slice slice(request);
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(ctx.get(), full_method, grpc::StubOptions(), &in, &out,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    std::vector<grpc::Slice> slices;
    std::string body;
    if (status.ok() && out.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return Answer{status.error_code(), status.error_message(), body};
  }

  struct Walked {
    std::string full_method;
    const google::protobuf::MethodDescriptor* method;
    std::shared_ptr<grpc::Channel> channel;
    Role role;
  };

  // Every case-keyed method of the three programme services here, with a role that may
  // call it (found by asking as an outsider, which changes nothing).
  std::vector<Walked> CaseMethods(const std::string& probe_case) {
    const std::vector<std::pair<std::string, int>> services = {
        {"pathway.detox.v1.CommunityDetox", 1},
        {"pathway.isolation.v1.CompulsoryIsolation", 2},
        {"pathway.rehab.v1.CommunityRehab", 3},
        {"pathway.placement.v1.Placement", 4}};
    std::vector<Walked> out;
    std::set<std::string> service_only;
    for (const auto& [name, index] : services) {
      const google::protobuf::ServiceDescriptor* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
      EXPECT_NE(service, nullptr) << name;
      if (service == nullptr) continue;
      for (int i = 0; i < service->method_count(); ++i) {
        const google::protobuf::MethodDescriptor* m = service->method(i);
        const google::protobuf::FieldDescriptor* id = m->input_type()->FindFieldByName("case_id");
        if (id == nullptr || id->is_repeated() || m->server_streaming()) continue;
        const std::string full = absl::StrCat("/", name, "/", m->name());
        bool found = false;
        for (Role role : {Role::kCaseworker, Role::kPolice, Role::kFacilityStaff}) {
          Answer a = Call(full, Request(m, probe_case), role, "44", Channel(index));
          if (RoleRefused(a)) continue;
          out.push_back({full, m, Channel(index), role});
          found = true;
          break;
        }
        if (!found) service_only.insert(full);
      }
    }
    EXPECT_EQ(service_only, ServiceOnlyMethods());
    return out;
  }

  static bool IsRead(const Walked& w) {
    for (const char* verb : {"Get", "List", "Match"}) {
      if (absl::StartsWith(w.method->name(), verb)) return true;
    }
    return false;
  }
};

TEST_F(ScopeMatrixTest, EveryCaseMethodAnswersByScope) {
  Today(2026, 2, 1);
  const std::string detox_case = Register(201, kResidence);
  const std::string isolation_case = Register(202, kResidence);
  const std::string rehab_case = Register(203, kResidence);
  OpenDetox(detox_case);
  DecideIsolation(isolation_case);
  OpenRehab(rehab_case);
  RegisterSeeker(rehab_case);
  const std::string never_issued = CaseId::Mint(kHousehold, 2026, 9999999)->ToString();

  auto case_for = [&](const Walked& w) {
    if (absl::StartsWith(w.full_method, "/pathway.detox.")) return detox_case;
    if (absl::StartsWith(w.full_method, "/pathway.isolation.")) return isolation_case;
    return rehab_case;
  };
  std::vector<Walked> methods = CaseMethods(detox_case);
  ASSERT_GE(methods.size(), 30u);

  // Outsiders, and the other place of 双向管控, first: none of them changes anything.
  for (const Walked& w : methods) {
    SCOPED_TRACE(w.full_method);
    const std::string request = Request(w.method, case_for(w));
    const std::string absent = Request(w.method, never_issued);
    for (const std::string outsider : {"44", "520103", "3302", "330102"}) {
      Answer seen = Call(w.full_method, request, w.role, outsider, w.channel);
      Answer missing = Call(w.full_method, absent, w.role, outsider, w.channel);
      // NOT_FOUND, or for a list filtered by the case an empty page: whatever a case
      // never issued gets, byte for byte.
      EXPECT_EQ(seen, missing) << outsider << ": " << seen;
      if (!IsRead(w) || absl::StartsWith(w.method->name(), "Get")) {
        EXPECT_EQ(seen.code, grpc::StatusCode::NOT_FOUND) << outsider << ": " << seen;
      }
    }
    Answer other_side = Call(w.full_method, request, w.role, kResidence, w.channel);
    if (IsRead(w)) {
      EXPECT_EQ(other_side.code, grpc::StatusCode::OK) << other_side;
    } else {
      // Opening a measure needs the caller's own county; acting on one, its executor.
      EXPECT_EQ(other_side.code, grpc::StatusCode::PERMISSION_DENIED) << other_side;
    }
  }
  // The province that contains the case acts (the write may still be refused on its
  // merits, never for scope).
  for (const Walked& w : methods) {
    SCOPED_TRACE(w.full_method);
    Answer a = Call(w.full_method, Request(w.method, case_for(w)), w.role, "52", w.channel);
    EXPECT_NE(a.message, "case not found") << a;
    EXPECT_NE(a.code, grpc::StatusCode::PERMISSION_DENIED) << a;
  }
}

TEST_F(ScopeMatrixTest, ASealedCaseIsSealedInEveryService) {
  Today(2026, 2, 1);
  const std::string sealed = Register(211, kHousehold);
  OpenDetox(sealed);
  RegisterSeeker(sealed);
  detox::v1::TerminateOrderRequest end;
  end.set_case_id(sealed);
  end.set_reason(detox::v1::TERMINATION_REASON_IMPRISONMENT);
  end.set_document_number("TERM-1");
  *end.mutable_effective_on() = D(2026, 1, 20);
  detox::v1::Order order;
  grpc::Status s = detox_stub_->TerminateOrder(Ctx(Role::kPolice, kHousehold).get(), end, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // The measure's end reaches the registry (the milestone is set once no measure is
  // open) before the clock moves: a hand-off in flight across a jump of three years
  // would carry a token of the old day.
  ASSERT_TRUE(Eventually([&] {
    registry::v1::GetCaseRequest req;
    req.set_case_id(sealed);
    registry::v1::Case c;
    return registry_stub_->GetCase(Ctx(Role::kPolice, kHousehold).get(), req, &c).ok() &&
           c.has_abstinence_milestone();
  }));
  // Three years without a finding after the measure ended (戒毒条例 Art 7): sealed.
  Today(2029, 3, 1);
  ASSERT_TRUE(Eventually([&] {
    registry::v1::GetCaseRequest req;
    req.set_case_id(sealed);
    registry::v1::Case c;
    return registry_stub_->GetCase(Ctx(Role::kCaseworker, kHousehold).get(), req, &c)
               .error_code() == grpc::StatusCode::NOT_FOUND;
  }));

  const std::string never_issued = CaseId::Mint(kHousehold, 2026, 9999998)->ToString();
  for (const Walked& w : CaseMethods(sealed)) {
    SCOPED_TRACE(w.full_method);
    if (w.role != Role::kCaseworker && w.role != Role::kFacilityStaff) continue;
    Answer seen = Call(w.full_method, Request(w.method, sealed), w.role, kHousehold, w.channel);
    Answer missing =
        Call(w.full_method, Request(w.method, never_issued), w.role, kHousehold, w.channel);
    EXPECT_EQ(seen, missing) << seen;
  }
  // Lists too: the executing county's caseworker no longer finds the case in them.
  detox::v1::ListOrdersRequest list;
  list.set_include_closed(true);
  detox::v1::ListOrdersResponse orders;
  ASSERT_TRUE(
      detox_stub_->ListOrders(Ctx(Role::kCaseworker, kHousehold).get(), list, &orders).ok());
  for (const auto& o : orders.orders()) EXPECT_NE(o.case_id(), sealed);
  // The sealed order leaves the page, not the count: an upper bound.
  EXPECT_TRUE(orders.page().total_size_is_bound());
  EXPECT_EQ(orders.page().total_size(), orders.orders_size() + 1);
  ASSERT_TRUE(detox_stub_->ListOrders(Ctx(Role::kPolice, kHousehold).get(), list, &orders).ok());
  ASSERT_EQ(orders.orders_size(), 1);
  EXPECT_EQ(orders.page().total_size(), 1);
  EXPECT_EQ(orders.orders(0).case_id(), sealed);
  auto placement = placement::v1::Placement::NewStub(Channel(4));
  placement::v1::ListSeekersRequest seekers_req;
  placement::v1::ListSeekersResponse seekers;
  ASSERT_TRUE(
      placement->ListSeekers(Ctx(Role::kCaseworker, kHousehold).get(), seekers_req, &seekers).ok());
  EXPECT_EQ(seekers.seekers_size(), 0);
  ASSERT_TRUE(placement->ListSeekers(Ctx(Role::kAuditor, "52").get(), seekers_req, &seekers).ok());
  EXPECT_EQ(seekers.seekers_size(), 1);

  // Police keep their statutory need (the record stays theirs).
  detox::v1::GetOrderRequest get;
  get.set_case_id(sealed);
  EXPECT_TRUE(detox_stub_->GetOrder(Ctx(Role::kPolice, kHousehold).get(), get, &order).ok());
  EXPECT_EQ(order.case_id(), sealed);
}

// 禁毒法 Art 38: police who find a person far from home decide isolation on an explicit,
// audited path; without it the case is as absent as one never issued.
TEST_F(ScopeMatrixTest, OutOfAreaDecisionIsExplicit) {
  Today(2026, 2, 1);
  const std::string case_id = Register(221, kResidence);
  isolation::v1::DecideRequest d;
  d.set_case_id(case_id);
  d.set_decision_number("QZ-AWAY-1");
  d.set_deciding_division("440106");
  *d.mutable_decided_on() = D(2026, 1, 20);
  *d.mutable_served_on() = D(2026, 1, 20);
  d.set_ground(isolation::v1::GROUND_SEVERE_ADDICTION);
  isolation::v1::Decision out;
  grpc::Status s = isolation_stub_->Decide(Ctx(Role::kPolice, "440106").get(), d, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "case not found");

  d.set_out_of_area_basis("GZ-FOUND-2026-001");
  s = isolation_stub_->Decide(Ctx(Role::kPolice, "440106").get(), d, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // The deciding police now see their decision.
  isolation::v1::GetDecisionRequest get;
  get.set_case_id(case_id);
  s = isolation_stub_->GetDecision(Ctx(Role::kPolice, "440106").get(), get, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.deciding_division(), "440106");

  // Community detox is executed where the person lives (禁毒法 Art 33).
  const std::string other = Register(222, kResidence);
  detox::v1::OpenOrderRequest open;
  open.set_case_id(other);
  open.set_division("440106");
  open.set_place("440106001");
  open.set_decision_number("SD-AWAY-1");
  *open.mutable_decision_date() = D(2026, 1, 20);
  *open.mutable_received_on() = D(2026, 1, 20);
  open.set_out_of_area_basis("GZ-FOUND-2026-002");
  detox::v1::Order order;
  s = detox_stub_->OpenOrder(Ctx(Role::kPolice, "440106").get(), open, &order);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  open.set_division(kResidence);
  open.set_place("330106001");
  s = detox_stub_->OpenOrder(Ctx(Role::kPolice, "440106").get(), open, &order);
  ASSERT_TRUE(s.ok()) << s.error_message();
}


// Townships (DESIGN.md §6): a case assigned to a township is seen and worked there; to
// every other township of the county it answers exactly as a case never issued.
TEST_F(ScopeMatrixTest, ATownshipSeesAndWorksOnlyItsOwnCases) {
  Today(2026, 2, 1);
  constexpr char kOwnTownship[] = "520102003";
  constexpr char kOtherTownship[] = "520102004";
  const std::string detox_case = Register(231, kResidence, D(2026, 1, 5), kOwnTownship);
  const std::string isolation_case = Register(232, kResidence, D(2026, 1, 5), kOwnTownship);
  const std::string rehab_case = Register(233, kResidence, D(2026, 1, 5), kOwnTownship);
  const std::string neighbours_case = Register(234, kResidence, D(2026, 1, 5), kOtherTownship);
  OpenDetox(detox_case);
  OpenDetox(neighbours_case);
  DecideIsolation(isolation_case);
  OpenRehab(rehab_case);
  RegisterSeeker(rehab_case);
  const std::string never_issued = CaseId::Mint(kHousehold, 2026, 9999998)->ToString();
  auto case_for = [&](const std::string& method) {
    if (absl::StartsWith(method, "/pathway.detox.")) return detox_case;
    if (absl::StartsWith(method, "/pathway.isolation.")) return isolation_case;
    return rehab_case;
  };

  // Lists: the township's due items and orders are its own cases only.
  auto due_cases = [&](const std::string& jurisdiction) {
    detox::v1::ListDueRequest req;
    *req.mutable_as_of() = D(2026, 2, 1);
    detox::v1::ListDueResponse resp;
    grpc::Status s = detox_stub_->ListDue(Ctx(Role::kCaseworker, jurisdiction).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    // Exact, after the township's own cases are kept: one page holds them all here.
    EXPECT_TRUE(resp.page().next_page_token().empty());
    EXPECT_EQ(resp.page().total_size(), resp.items_size());
    EXPECT_FALSE(resp.page().total_size_is_bound());
    std::set<std::string> cases;
    for (const auto& item : resp.items()) cases.insert(item.alert().case_id());
    return cases;
  };
  EXPECT_EQ(due_cases(kOwnTownship), std::set<std::string>{detox_case});
  EXPECT_EQ(due_cases(kOtherTownship), std::set<std::string>{neighbours_case});
  EXPECT_EQ(due_cases(kHousehold), (std::set<std::string>{detox_case, neighbours_case}));
  detox::v1::ListOrdersRequest orders_req;
  detox::v1::ListOrdersResponse orders;
  ASSERT_TRUE(detox_stub_->ListOrders(Ctx(Role::kCaseworker, kOwnTownship).get(), orders_req,
                                      &orders).ok());
  ASSERT_EQ(orders.orders_size(), 1);
  EXPECT_EQ(orders.orders(0).case_id(), detox_case);
  // A township gets no count: its county's would tell it about the neighbours' cases.
  EXPECT_EQ(orders.page().total_size(), 0);
  EXPECT_FALSE(orders.page().total_size_is_bound());
  registry::v1::ListCasesRequest cases_req;
  registry::v1::ListCasesResponse cases;
  ASSERT_TRUE(registry_stub_->ListCases(Ctx(Role::kCaseworker, kOtherTownship).get(), cases_req,
                                        &cases).ok());
  ASSERT_EQ(cases.cases_size(), 1);
  EXPECT_EQ(cases.cases(0).case_id(), neighbours_case);

  int walked = 0;
  for (const Walked& w : CaseMethods(detox_case)) {
    // Facility staff hold no township scope; caseworkers and police (派出所) may.
    if (w.role == Role::kFacilityStaff) continue;
    SCOPED_TRACE(w.full_method);
    ++walked;
    const std::string request = Request(w.method, case_for(w.full_method));
    Answer seen = Call(w.full_method, request, w.role, kOtherTownship, w.channel);
    Answer missing =
        Call(w.full_method, Request(w.method, never_issued), w.role, kOtherTownship, w.channel);
    EXPECT_EQ(seen, missing) << "another township: " << seen;
    // The own township sees every case method; it works community detox and
    // rehabilitation (the township executes them, 戒毒条例 Art 14, 37) in its county.
    Answer own = Call(w.full_method, request, w.role, kOwnTownship, w.channel);
    EXPECT_NE(own.message, "case not found") << own;
    const bool community = absl::StartsWith(w.full_method, "/pathway.detox.") ||
                           absl::StartsWith(w.full_method, "/pathway.rehab.");
    if (IsRead(w) || community) {
      EXPECT_NE(own.code, grpc::StatusCode::PERMISSION_DENIED) << own;
    }
  }
  EXPECT_GE(walked, 20);

  // Reassigned by the county to a caseworker of the other township by name: that
  // caseworker now sees it (and their township's other staff still do not).
  registry::v1::AssignCaseRequest assign;
  assign.set_case_id(detox_case);
  assign.set_township(kOwnTownship);
  assign.set_caseworker("cw-relief");
  assign.set_reason("covering for leave");
  registry::v1::Case assigned;
  ASSERT_TRUE(registry_stub_->AssignCase(Ctx(Role::kCaseworker, kHousehold).get(), assign,
                                         &assigned).ok());
  detox::v1::GetOrderRequest get;
  get.set_case_id(detox_case);
  detox::v1::Order order;
  auto relief = std::make_unique<grpc::ClientContext>();
  PrepareBearerContext(relief.get(), Token(Role::kCaseworker, kOtherTownship, "cw-relief"),
                       absl::Seconds(20));
  EXPECT_TRUE(detox_stub_->GetOrder(relief.get(), get, &order).ok());
  grpc::Status other = detox_stub_->GetOrder(Ctx(Role::kCaseworker, kOtherTownship).get(), get,
                                             &order);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace pathway
