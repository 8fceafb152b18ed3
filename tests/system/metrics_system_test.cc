// The real registry binary with --metrics_port: after a few gRPC calls (answered,
// refused, and one to a method path that names a case), GET /metrics over plain HTTP
// shows the calls counted by method and code, the process and build metrics, and
// nothing a caller sent: no case id, no ID number, no name. Community detox, which
// sends hand-offs, also shows its outbox.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth/token.h"
#include "common/client/bearer_context.h"
#include "common/codec/proto_date.h"
#include "common/ids/resident_id.h"
#include "common/metrics/testing_http.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "pathway/registry/v1/registry.grpc.pb.h"
#include "tests/system/child_process.h"
#include "tests/testing/redis_server.h"

namespace pathway {
namespace {

constexpr char kKey[] = "metrics-test-key-0123456789abcdefghijklmnopqrstuvwxyz";
constexpr char kPersonName[] = "指标测试";

std::string Token(Role role, const std::string& jurisdiction) {
  auto signer = TokenSigner::Create(kKey);
  EXPECT_TRUE(signer.ok());
  Claims c;
  c.subject = "metrics-test";
  c.role = role;
  c.jurisdiction = jurisdiction;
  c.issued_at = absl::Now();
  c.expires_at = absl::Now() + absl::Hours(1);
  auto token = (*signer)->Sign(c);
  EXPECT_TRUE(token.ok());
  return *token;
}

// The value of the sample `name{...}` whose labels include every one of `labels`,
// from a Prometheus text exposition; nullopt if there is none.
std::optional<double> Sample(const std::string& exposition, const std::string& name,
                             const std::map<std::string, std::string>& labels) {
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (!absl::ConsumePrefix(&line, name)) continue;
    std::string label_text;
    if (absl::ConsumePrefix(&line, "{")) {
      const size_t close = line.find('}');
      if (close == absl::string_view::npos) continue;
      label_text = std::string(line.substr(0, close));
      line.remove_prefix(close + 1);
    } else if (!labels.empty()) {
      continue;
    }
    if (!absl::ConsumePrefix(&line, " ")) continue;  // a longer name
    bool all = true;
    for (const auto& [key, value] : labels) {
      if (!absl::StrContains(label_text, absl::StrCat(key, "=\"", value, "\""))) all = false;
    }
    double v;
    if (all && absl::SimpleAtod(line, &v)) return v;
  }
  return std::nullopt;
}

TEST(MetricsSystemTest, RegistryCountsItsCallsAndServesThemOverHttp) {
  ScopedTempDir dir;
  std::ofstream(dir.File("token.key")) << kKey << "\n";
  std::ofstream(dir.File("pii.key")) << "metrics-test-pii-key-0123456789abcdefghijklmn\n";
  const absl::StatusOr<int> metrics_port = test::PickUnusedLoopbackPort();
  ASSERT_TRUE(metrics_port.ok()) << metrics_port.status();
  auto started = test::ChildProcess::Start(
      {PATHWAY_REGISTRY_BIN, "--port=0", "--data_dir=" + dir.path(),
       "--token_key_file=" + dir.File("token.key"), "--pii_key_file=" + dir.File("pii.key"),
       "--plaintext", "--drain_timeout_s=1", absl::StrCat("--metrics_port=", *metrics_port)});
  ASSERT_TRUE(started.ok()) << started.status();
  test::ChildProcess& p = **started;
  auto line = p.WaitForOutput("event=server_started", absl::Seconds(60));
  ASSERT_TRUE(line.has_value()) << "did not start:\n" << p.Output();
  std::string address = line->substr(line->find("address=") + 8);
  address = address.substr(0, address.find(' '));
  EXPECT_TRUE(p.WaitForOutput(absl::StrCat("event=metrics_serving service=registry address=127.0.0.1:",
                                           *metrics_port),
                              absl::Seconds(10))
                  .has_value())
      << p.Output();
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto registry = registry::v1::Registry::NewStub(channel);

  // Answered: a caseworker registers a synthetic person and reads the case back.
  const std::string caseworker = Token(Role::kCaseworker, "520102");
  const std::string id_number =
      GenerateSyntheticResidentId("520102", absl::CivilDay(1991, 3, 14), 58);
  registry::v1::Case registered;
  {
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, caseworker, absl::Seconds(10));
    registry::v1::RegisterPersonRequest req;
    req.set_resident_id_number(id_number);
    req.set_name(kPersonName);
    req.set_household_division("520102");
    req.add_drug_types("methamphetamine");
    ToProtoDate(absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600)),
                req.mutable_found_on());
    grpc::Status s = registry->RegisterPerson(&ctx, req, &registered);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const std::string case_id = registered.case_id();
  auto get_case = [&](const std::string& token) {
    grpc::ClientContext ctx;
    PrepareBearerContext(&ctx, token, absl::Seconds(10));
    registry::v1::GetCaseRequest req;
    req.set_case_id(case_id);
    registry::v1::Case c;
    return registry->GetCase(&ctx, req, &c).error_code();
  };
  ASSERT_EQ(get_case(caseworker), grpc::StatusCode::OK);
  // Refused: no token, then a role that may not read cases.
  ASSERT_EQ(get_case(""), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_EQ(get_case(Token(Role::kLaborBureau, "52")), grpc::StatusCode::PERMISSION_DENIED);
  // A method path carrying the case id names no method.
  {
    grpc::GenericStub stub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, absl::StrCat("/pathway.registry.v1.Registry/", case_id),
                   grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(s); });
    EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }

  absl::StatusOr<std::string> body = test::HttpGet("127.0.0.1", *metrics_port, "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  const std::map<std::string, std::string> get_case_labels = {
      {"grpc_service", "pathway.registry.v1.Registry"},
      {"grpc_method", "GetCase"},
      {"grpc_type", "unary"}};
  auto with_code = [&](const char* code) {
    auto labels = get_case_labels;
    labels["grpc_code"] = code;
    return labels;
  };
  EXPECT_EQ(Sample(*body, "grpc_server_started_total", get_case_labels), 3) << *body;
  EXPECT_EQ(Sample(*body, "grpc_server_handled_total", with_code("OK")), 1) << *body;
  EXPECT_EQ(Sample(*body, "grpc_server_handled_total", with_code("UNAUTHENTICATED")), 1);
  EXPECT_EQ(Sample(*body, "grpc_server_handled_total", with_code("PERMISSION_DENIED")), 1);
  EXPECT_EQ(Sample(*body, "grpc_server_handling_seconds_count", get_case_labels), 3);
  EXPECT_EQ(Sample(*body, "grpc_server_handled_total",
                   {{"grpc_service", "pathway.registry.v1.Registry"},
                    {"grpc_method", "RegisterPerson"},
                    {"grpc_type", "unary"},
                    {"grpc_code", "OK"}}),
            1);
  auto le_inf = get_case_labels;
  le_inf["le"] = "+Inf";
  EXPECT_EQ(Sample(*body, "grpc_server_handling_seconds_bucket", le_inf), 3);
  EXPECT_TRUE(Sample(*body, "process_start_time_seconds", {}).has_value()) << *body;
  EXPECT_GT(Sample(*body, "process_resident_memory_bytes", {}).value_or(0), 0);
  EXPECT_GT(Sample(*body, "process_open_fds", {}).value_or(0), 0);
  EXPECT_EQ(Sample(*body, "pathway_build_info", {}), 1) << *body;

  // Nothing a caller sent reaches the exposition.
  ASSERT_FALSE(case_id.empty());
  EXPECT_FALSE(absl::StrContains(*body, case_id)) << *body;
  EXPECT_FALSE(absl::StrContains(*body, id_number));
  EXPECT_FALSE(absl::StrContains(*body, kPersonName));
  EXPECT_FALSE(absl::StrContains(*body, "metrics-test"));  // the caller's user id
  // The registry sends no hand-offs: it has no outbox to report.
  EXPECT_FALSE(absl::StrContains(*body, "pathway_outbox_"));

  p.Signal(SIGTERM);
  const int status = p.Wait(absl::Seconds(30));
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << p.Output();
  EXPECT_FALSE(test::HttpGet("127.0.0.1", *metrics_port, "/metrics").ok())
      << "the endpoint stops with the server";
}

// A service that sends hand-offs reports its outbox as it is when scraped.
TEST(MetricsSystemTest, CommunityDetoxReportsItsOutbox) {
  ScopedTempDir dir;
  std::ofstream(dir.File("token.key")) << kKey << "\n";
  const absl::StatusOr<int> metrics_port = test::PickUnusedLoopbackPort();
  ASSERT_TRUE(metrics_port.ok()) << metrics_port.status();
  auto started = test::ChildProcess::Start(
      {PATHWAY_DETOX_BIN, "--port=0", "--data_dir=" + dir.path(),
       "--token_key_file=" + dir.File("token.key"), "--plaintext", "--drain_timeout_s=1",
       absl::StrCat("--metrics_port=", *metrics_port)});
  ASSERT_TRUE(started.ok()) << started.status();
  test::ChildProcess& p = **started;
  ASSERT_TRUE(p.WaitForOutput("event=metrics_serving", absl::Seconds(60)).has_value())
      << p.Output();
  absl::StatusOr<std::string> body = test::HttpGet("127.0.0.1", *metrics_port, "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(Sample(*body, "pathway_outbox_pending_rows", {}), 0) << *body;
  EXPECT_EQ(Sample(*body, "pathway_outbox_parked_rows", {}), 0) << *body;
  EXPECT_EQ(Sample(*body, "pathway_outbox_oldest_pending_age_seconds", {}), 0) << *body;
  p.Signal(SIGTERM);
  const int status = p.Wait(absl::Seconds(30));
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << p.Output();
}

// Without --metrics_port nothing listens besides the gRPC port.
TEST(MetricsSystemTest, NoEndpointUnlessAskedFor) {
  ScopedTempDir dir;
  std::ofstream(dir.File("token.key")) << kKey << "\n";
  std::ofstream(dir.File("pii.key")) << "metrics-test-pii-key-0123456789abcdefghijklmn\n";
  auto started = test::ChildProcess::Start(
      {PATHWAY_REGISTRY_BIN, "--port=0", "--data_dir=" + dir.path(),
       "--token_key_file=" + dir.File("token.key"), "--pii_key_file=" + dir.File("pii.key"),
       "--plaintext", "--drain_timeout_s=1"});
  ASSERT_TRUE(started.ok()) << started.status();
  test::ChildProcess& p = **started;
  ASSERT_TRUE(p.WaitForOutput("event=server_started", absl::Seconds(60)).has_value())
      << p.Output();
  EXPECT_FALSE(absl::StrContains(p.Output(), "metrics_serving")) << p.Output();
  p.Signal(SIGTERM);
  EXPECT_NE(p.Wait(absl::Seconds(30)), -1);
}

}  // namespace
}  // namespace pathway
