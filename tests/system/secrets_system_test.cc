// The real registry binary with its secrets given as files, the way a
// deployment gives them: the PostgreSQL password in a libpq password file
// (--database_password_file) with the database reached over verified TLS
// (sslmode=verify-full, sslrootcert), and the Redis password in
// --redis_password_file. With the right files the service serves and its
// cache is up; a missing or wrong password stops the start (PostgreSQL) or
// leaves the cache NOT_SERVING while the service serves (Redis). No password
// ever appears in the binary's output, even at log level debug.
#include <grpcpp/grpcpp.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/store/testing_postgres.h"
#include "common/store/testing_store.h"
#include "common/store/testing_temp_dir.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/system/child_process.h"
#include "tests/testing/dev_pki.h"
#include "tests/testing/redis_server.h"

namespace pathway {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr char kKey[] = "secrets-test-key-0123456789abcdefghijklmnopqrstuvwxyz";
constexpr char kDbPassword[] = "db-pw-for-tests-only-Lk93";
constexpr char kRedisPassword[] = "redis-pw-for-tests-only-Hv27";
constexpr char kWrongRedisPassword[] = "not-the-redis-pw-Qe58";
constexpr char kStatusCache[] = "pathway.status_cache";
constexpr char kRegistry[] = "pathway.registry.v1.Registry";

void WriteSecret(const std::string& path, const std::string& content) {
  std::ofstream(path) << content << "\n";
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
}

// The keys every registry needs, in `dir`.
std::vector<std::string> BaseArgs(const ScopedTempDir& dir) {
  std::ofstream(dir.File("token.key")) << kKey << "\n";
  std::ofstream(dir.File("pii.key")) << "secrets-test-pii-key-0123456789abcdefghijklmn\n";
  return {PATHWAY_REGISTRY_BIN,
          "--port=0",
          "--data_dir=" + dir.path(),
          "--token_key_file=" + dir.File("token.key"),
          "--pii_key_file=" + dir.File("pii.key"),
          "--plaintext",
          "--log_level=debug",
          "--drain_timeout_s=1"};
}

// The channel to a started binary, from its server_started line.
std::shared_ptr<grpc::Channel> Connect(test::ChildProcess& p) {
  auto line = p.WaitForOutput("event=server_started", absl::Seconds(60));
  if (!line.has_value()) {
    ADD_FAILURE() << "did not start:\n" << p.Output();
    return nullptr;
  }
  std::string address = line->substr(line->find("address=") + 8);
  address = address.substr(0, address.find(' '));
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

HealthCheckResponse::ServingStatus ServingStatus(const std::shared_ptr<grpc::Channel>& ch,
                                          const std::string& service) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  HealthCheckRequest req;
  req.set_service(service);
  HealthCheckResponse resp;
  grpc::Status s = Health::NewStub(ch)->Check(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << service << ": " << s.error_message();
  return resp.status();
}

// Follows the health Watch stream until `service` reports `want`.
bool WatchUntil(const std::shared_ptr<grpc::Channel>& ch, const std::string& service,
                HealthCheckResponse::ServingStatus want) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  HealthCheckRequest req;
  req.set_service(service);
  auto reader = Health::NewStub(ch)->Watch(&ctx, req);
  HealthCheckResponse resp;
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

// SIGTERM, a clean exit, and no secret in anything the binary wrote.
void StopAndCheckOutput(test::ChildProcess& p, const std::vector<std::string>& secrets) {
  p.Signal(SIGTERM);
  const int status = p.Wait(absl::Seconds(30));
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << p.Output();
  for (const std::string& secret : secrets) {
    EXPECT_FALSE(absl::StrContains(p.Output(), secret)) << "output shows a password";
  }
}

// How many sessions on `database` are encrypted, asked as the superuser
// through the server's socket.
int EncryptedSessions(test::TestingPostgres& server, const std::string& database) {
  PGconn* conn = PQconnectdb(server.Conninfo("postgres").c_str());
  int n = -1;
  if (PQstatus(conn) == CONNECTION_OK) {
    const std::string sql = absl::StrCat(
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
        "WHERE s.ssl AND a.datname = '", database, "'");
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
      n = std::atoi(PQgetvalue(r, 0, 0));
    }
    PQclear(r);
  }
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PQfinish(conn);
  return n;
}

TEST(SecretsFromFiles, RegistryUsesPostgresOverVerifiedTlsAndRedisWithPasswords) {
  ScopedTempDir dir;
  absl::StatusOr<test::DevPki> pki = test::MakeDevPki(dir.File("pki"), {"postgres"});
  ASSERT_TRUE(pki.ok()) << pki.status();
  test::TestingPostgres::Options pg_options;
  pg_options.ssl_cert_file = pki->Cert("postgres");
  pg_options.ssl_key_file = pki->Key("postgres");
  absl::StatusOr<std::unique_ptr<test::TestingPostgres>> pg =
      test::TestingPostgres::Start(pg_options);
  ASSERT_TRUE(pg.ok()) << pg.status();
  ASSERT_TRUE((*pg)->CreatePasswordRole("registry_tls", kDbPassword).ok());
  ASSERT_TRUE((*pg)->CreateDatabase("registry_tls", "registry_tls").ok());

  test::RedisServer::Options redis_options;
  redis_options.password = kRedisPassword;
  absl::StatusOr<std::unique_ptr<test::RedisServer>> redis =
      test::RedisServer::Start(redis_options);
  ASSERT_TRUE(redis.ok()) << redis.status();

  WriteSecret(dir.File("db.pgpass"), absl::StrCat("*:*:registry_tls:registry_tls:", kDbPassword));
  WriteSecret(dir.File("redis.password"), kRedisPassword);
  const std::string database =
      absl::StrCat("postgresql://registry_tls@127.0.0.1:", (*pg)->port(),
                   "/registry_tls?sslmode=verify-full&sslrootcert=", pki->CaFile());
  std::vector<std::string> argv = BaseArgs(dir);
  argv.push_back("--database=" + database);
  argv.push_back(absl::StrCat("--redis_port=", (*redis)->port()));
  argv.push_back("--redis_password_file=" + dir.File("redis.password"));

  // Without the database password the start fails, saying why.
  {
    std::vector<std::string> no_password = argv;
    no_password.push_back("--database_password_file=" + dir.File("missing.pgpass"));
    auto p = test::ChildProcess::Start(no_password);
    ASSERT_TRUE(p.ok()) << p.status();
    const int status = (*p)->Wait(absl::Seconds(60));
    ASSERT_TRUE(status != -1 && WIFEXITED(status)) << (*p)->Output();
    EXPECT_NE(WEXITSTATUS(status), 0);
    EXPECT_TRUE(absl::StrContains((*p)->Output(), "no password supplied")) << (*p)->Output();
    EXPECT_FALSE(absl::StrContains((*p)->Output(), "event=server_started"));
    EXPECT_FALSE(absl::StrContains((*p)->Output(), kDbPassword));
    EXPECT_FALSE(absl::StrContains((*p)->Output(), kRedisPassword));
  }

  argv.push_back("--database_password_file=" + dir.File("db.pgpass"));
  auto p = test::ChildProcess::Start(argv);
  ASSERT_TRUE(p.ok()) << p.status();
  std::shared_ptr<grpc::Channel> channel = Connect(**p);
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(ServingStatus(channel, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(ServingStatus(channel, kRegistry), HealthCheckResponse::SERVING);
  EXPECT_TRUE(WatchUntil(channel, kStatusCache, HealthCheckResponse::SERVING))
      << "Redis accepted the password from the file\n" << (*p)->Output();
  EXPECT_GE(EncryptedSessions(**pg, "registry_tls"), 1) << "the registry's sessions use TLS";
  StopAndCheckOutput(**p, {kDbPassword, kRedisPassword});
}

TEST(SecretsFromFiles, WrongOrMissingRedisPasswordLeavesTheCacheNotServing) {
  test::RedisServer::Options redis_options;
  redis_options.password = kRedisPassword;
  absl::StatusOr<std::unique_ptr<test::RedisServer>> redis =
      test::RedisServer::Start(redis_options);
  ASSERT_TRUE(redis.ok()) << redis.status();
  ScopedTempDir dir;
  WriteSecret(dir.File("wrong.password"), kWrongRedisPassword);
  const std::string database = TestDatabaseUriOrDie("registry_redis_pw");

  for (const bool give_file : {true, false}) {
    SCOPED_TRACE(give_file ? "wrong password file" : "no password file");
    std::vector<std::string> argv = BaseArgs(dir);
    argv.push_back("--database=" + database);
    argv.push_back(absl::StrCat("--redis_port=", (*redis)->port()));
    if (give_file) argv.push_back("--redis_password_file=" + dir.File("wrong.password"));
    auto p = test::ChildProcess::Start(argv);
    ASSERT_TRUE(p.ok()) << p.status();
    std::shared_ptr<grpc::Channel> channel = Connect(**p);
    ASSERT_NE(channel, nullptr);
    // The first probe has run and failed.
    ASSERT_TRUE((*p)->WaitForOutput("event=status_cache_down", absl::Seconds(30)).has_value())
        << (*p)->Output();
    EXPECT_EQ(ServingStatus(channel, kStatusCache), HealthCheckResponse::NOT_SERVING);
    EXPECT_EQ(ServingStatus(channel, ""), HealthCheckResponse::SERVING)
        << "the service itself serves";
    EXPECT_EQ(ServingStatus(channel, kRegistry), HealthCheckResponse::SERVING);
    StopAndCheckOutput(**p, {kRedisPassword, kWrongRedisPassword});
  }
}

}  // namespace
}  // namespace pathway
