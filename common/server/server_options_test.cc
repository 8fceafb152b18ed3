#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/reflection.h"
#include "common/server/server_flags.h"
#include "common/server/server_options.h"
#include "gtest/gtest.h"

namespace pathway {
namespace {

ServerOptions Valid() {
  ServerOptions o;
  o.service_name = "registry";
  o.port = 50051;
  o.data_dir = "/tmp/x";
  o.token_key_file = "/tmp/x/key";
  o.tls.plaintext = true;
  return o;
}

TEST(ServerOptionsTest, ValidatesEachField) {
  EXPECT_TRUE(Valid().Validate().ok());
  ServerOptions o = Valid();
  o.port = 70000;
  EXPECT_EQ(o.Validate().code(), absl::StatusCode::kInvalidArgument);
  o = Valid();
  o.tls.plaintext = false;  // and no certificate: refused
  EXPECT_NE(o.Validate().message().find("--plaintext"), absl::string_view::npos);
  o.tls.cert_file = "/tmp/x/registry.pem";
  o.tls.key_file = "/tmp/x/registry.key";
  EXPECT_TRUE(o.Validate().ok());
  o = Valid();
  o.token_key_file.clear();
  EXPECT_NE(o.Validate().message().find("token_key_file"), absl::string_view::npos);
  o = Valid();
  o.data_dir.clear();
  EXPECT_FALSE(o.Validate().ok());
  o = Valid();
  o.max_message_bytes = 10;
  EXPECT_FALSE(o.Validate().ok());
  o = Valid();
  o.keepalive_time = absl::Seconds(1);
  EXPECT_FALSE(o.Validate().ok());
  o = Valid();
  o.handler_threads = 0;
  EXPECT_NE(o.Validate().message().find("handler_threads"), absl::string_view::npos);
  o = Valid();
  o.max_concurrent_streams = 0;
  EXPECT_NE(o.Validate().message().find("max_concurrent_streams"), absl::string_view::npos);
  o = Valid();
  o.memory_quota_mb = 1;
  EXPECT_NE(o.Validate().message().find("memory_quota_mb"), absl::string_view::npos);
  o = Valid();
  o.metrics_port = 70000;
  EXPECT_NE(o.Validate().message().find("metrics_port"), absl::string_view::npos);
  o.metrics_port = o.port;
  EXPECT_NE(o.Validate().message().find("metrics_port"), absl::string_view::npos);
  o.metrics_port = 9464;
  EXPECT_TRUE(o.Validate().ok());
}

TEST(ServerOptionsTest, ServiceCallersDefaultToTheServicesThatCallThisOne) {
  ServerOptions o = Valid();
  EXPECT_EQ(o.ServiceCallers(), (std::vector<std::string>{"community_detox",
                                                          "compulsory_isolation",
                                                          "community_rehab", "placement"}));
  o.service_name = "compulsory_isolation";
  EXPECT_EQ(o.ServiceCallers(), std::vector<std::string>{"registry"});
  o.service_callers = std::vector<std::string>{};
  EXPECT_TRUE(o.ServiceCallers().empty());
  EXPECT_TRUE(o.Validate().ok());
  o.service_callers = std::vector<std::string>{"registry", "client"};
  EXPECT_NE(o.Validate().message().find("\"client\" is not a Pathway service"),
            absl::string_view::npos)
      << o.Validate();
  // Bound only where clients present verified certificates.
  o = Valid();
  EXPECT_FALSE(o.BindsServiceIdentity());
  o.tls.plaintext = false;
  EXPECT_FALSE(o.BindsServiceIdentity());
  o.tls.require_client_cert = true;
  EXPECT_TRUE(o.BindsServiceIdentity());
}

TEST(ServerOptionsTest, AddressesAndPaths) {
  ServerOptions o = Valid();
  EXPECT_EQ(o.ListenAddress(), "127.0.0.1:50051");
  EXPECT_EQ(o.DatabasePath(), "/tmp/x/registry.db");
  o.listen_host = "::1";
  EXPECT_EQ(o.ListenAddress(), "[::1]:50051");
}

// Each case restores the flags it set (FlagSaver) and the environment it changed.
class ServerFlagsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* v : {"PATHWAY_PORT", "PATHWAY_METRICS_PORT", "PATHWAY_DATA_DIR",
                          "PATHWAY_TOKEN_KEY_FILE", "PATHWAY_REDIS_PORT", "PATHWAY_LOG_LEVEL",
                          "PATHWAY_PLAINTEXT", "PATHWAY_TLS_CERT_FILE", "PATHWAY_TLS_KEY_FILE",
                          "PATHWAY_SERVICE_CALLERS", "PATHWAY_JWKS_REREAD_INTERVAL_MS"}) {
      unsetenv(v);
    }
  }
  absl::StatusOr<ServerOptions> Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "server");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    return ServerOptionsFromFlagsAndEnv("registry", 50051, static_cast<int>(argv.size()),
                                        argv.data());
  }
  absl::FlagSaver saver_;
};

TEST_F(ServerFlagsTest, DefaultsThenEnvironmentThenFlags) {
  setenv("PATHWAY_TOKEN_KEY_FILE", "/env/key", 1);
  setenv("PATHWAY_PLAINTEXT", "1", 1);
  auto o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 50051);
  EXPECT_EQ(o->data_dir, "./data");
  EXPECT_EQ(o->redis.port, 6379);
  EXPECT_EQ(o->metrics_port, 0);  // no metrics endpoint unless asked for

  setenv("PATHWAY_PORT", "6000", 1);
  setenv("PATHWAY_DATA_DIR", "/env/data", 1);
  setenv("PATHWAY_METRICS_PORT", "9464", 1);
  o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 6000);
  EXPECT_EQ(o->metrics_port, 9464);
  EXPECT_EQ(o->data_dir, "/env/data");

  o = Parse({"--port=7000", "--data_dir=/flag/data", "--redis_timeout_ms=50",
              "--metrics_port=9465"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 7000);
  EXPECT_EQ(o->metrics_port, 9465);
  EXPECT_EQ(o->data_dir, "/flag/data");
  EXPECT_EQ(o->redis.command_timeout, absl::Milliseconds(50));
  EXPECT_EQ(o->token_key_file, "/env/key");
  EXPECT_EQ(o->handler_threads, 64);
  EXPECT_EQ(o->max_concurrent_streams, 256);
  EXPECT_EQ(o->memory_quota_mb, 128);
  o = Parse({"--handler_threads=8", "--max_concurrent_streams=32", "--memory_quota_mb=64"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->handler_threads, 8);
  EXPECT_EQ(o->max_concurrent_streams, 32);
  EXPECT_EQ(o->memory_quota_mb, 64);
}

TEST_F(ServerFlagsTest, TlsOrPlaintextMustBeChosen) {
  setenv("PATHWAY_TOKEN_KEY_FILE", "/env/key", 1);
  auto o = Parse({});
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("--plaintext"), absl::string_view::npos) << o.status();
  o = Parse({"--plaintext"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->tls.plaintext);
  // Flags keep their values between parses in one process: switch plaintext off.
  o = Parse({"--noplaintext", "--tls_cert_file=/etc/pathway/registry.pem",
             "--tls_key_file=/etc/pathway/registry.key",
             "--tls_ca_file=/etc/pathway/ca.pem", "--tls_require_client_cert"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->tls.plaintext);
  EXPECT_TRUE(o->tls.require_client_cert);
  EXPECT_EQ(o->tls.ca_file, "/etc/pathway/ca.pem");
  // Plaintext and a certificate at once is a mistake, not a choice.
  o = Parse({"--plaintext", "--tls_cert_file=/a.pem", "--tls_key_file=/a.key"});
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  o = Parse({"--noplaintext", "--notls_require_client_cert", "--tls_cert_file=", "--tls_key_file=",
             "--tls_ca_file="});
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  setenv("PATHWAY_TLS_CERT_FILE", "/env/registry.pem", 1);
  o = Parse({});
  EXPECT_NE(o.status().message().find("key"), absl::string_view::npos) << o.status();
}

TEST_F(ServerFlagsTest, ServiceCallersAndJwksRereadInterval) {
  setenv("PATHWAY_TOKEN_KEY_FILE", "/env/key", 1);
  setenv("PATHWAY_PLAINTEXT", "1", 1);
  auto o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->service_callers.has_value());
  EXPECT_EQ(o->identity_provider.check_interval, absl::Seconds(1));
  EXPECT_EQ(o->identity_provider.unknown_kid_reread_interval, absl::Seconds(1));
  setenv("PATHWAY_SERVICE_CALLERS", "placement", 1);
  setenv("PATHWAY_JWKS_REREAD_INTERVAL_MS", "250", 1);
  o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->ServiceCallers(), std::vector<std::string>{"placement"});
  EXPECT_EQ(o->identity_provider.check_interval, absl::Milliseconds(250));
  o = Parse({"--service_callers=community_detox, compulsory_isolation",
             "--jwks_reread_interval_ms=0"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->ServiceCallers(),
            (std::vector<std::string>{"community_detox", "compulsory_isolation"}));
  EXPECT_EQ(o->identity_provider.check_interval, absl::ZeroDuration());
  EXPECT_EQ(o->identity_provider.unknown_kid_reread_interval, absl::ZeroDuration());
  o = Parse({"--service_callers=none"});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_TRUE(o->service_callers.has_value());
  EXPECT_TRUE(o->ServiceCallers().empty());
  o = Parse({"--service_callers=registry,reconcile"});
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerFlagsTest, RejectsBadEnvironmentAndMissingKey) {
  setenv("PATHWAY_PLAINTEXT", "1", 1);
  auto o = Parse({});
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << "no token key file";
  setenv("PATHWAY_TOKEN_KEY_FILE", "/env/key", 1);
  setenv("PATHWAY_REDIS_PORT", "lots", 1);
  o = Parse({});
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("PATHWAY_REDIS_PORT"), absl::string_view::npos);
  unsetenv("PATHWAY_REDIS_PORT");
  setenv("PATHWAY_LOG_LEVEL", "loud", 1);
  EXPECT_FALSE(Parse({}).ok());
}

TEST_F(ServerFlagsTest, RedisPasswordComesFromItsFile) {
  setenv("PATHWAY_TOKEN_KEY_FILE", "/env/key", 1);
  setenv("PATHWAY_PLAINTEXT", "1", 1);
  const std::string path = ::testing::TempDir() + "/server_flags_redis.password";
  std::ofstream(path) << "redis-pw-flags-test\n";
  auto o = Parse({"--redis_password_file=" + path});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->redis.password, "redis-pw-flags-test");

  // A missing or empty file is an error that names the flag and the file,
  // never a silent start without AUTH.
  o = Parse({"--redis_password_file=" + path + ".missing"});
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("--redis_password_file"), absl::string_view::npos)
      << o.status();
  EXPECT_NE(o.status().message().find(path + ".missing"), absl::string_view::npos) << o.status();
  std::ofstream(path, std::ios::trunc) << "\n";
  o = Parse({"--redis_password_file=" + path});
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("holds no password"), absl::string_view::npos)
      << o.status();
}

}  // namespace
}  // namespace pathway
