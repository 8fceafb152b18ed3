// PgStore over TCP with TLS: a real PostgreSQL 15 that accepts only hostssl
// with a scram-sha-256 password, its certificate made by
// deploy/local/dev-tls.sh. The connection is verified (sslmode=verify-full),
// really encrypted, authenticated by the password file, and neither the
// password nor anything else secret reaches an error or a log line.
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"
#include "common/store/pg_store.h"
#include "common/store/testing_postgres.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "tests/testing/dev_pki.h"

namespace pathway {
namespace {

using test::TestingPostgres;

constexpr char kRole[] = "pathway_tls";
constexpr char kDatabase[] = "pathway_tls_db";
constexpr char kPassword[] = "tls-pw-for-tests-only-Zq81";

// Every log line written while it lives.
class LogCapture {
 public:
  LogCapture() {
    log::SetMinLevel(log::Level::kDebug);
    log::SetSinkForTesting([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() {
    log::Flush();
    log::SetSinkForTesting(nullptr);
    log::SetMinLevel(log::Level::kInfo);
  }
  std::vector<std::string> Lines() {
    log::Flush();
    absl::MutexLock lock(&mu_);
    return lines_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

class PgStoreTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScopedTempDir();
    absl::StatusOr<test::DevPki> pki = test::MakeDevPki(dir_->File("pki"), {"postgres"});
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = new test::DevPki(*pki);
    // Another CA, which signed nothing the server presents.
    absl::StatusOr<test::DevPki> other = test::MakeDevPki(dir_->File("other"), {});
    ASSERT_TRUE(other.ok()) << other.status();
    other_ca_ = new std::string(other->CaFile());

    TestingPostgres::Options options;
    options.ssl_cert_file = pki_->Cert("postgres");
    options.ssl_key_file = pki_->Key("postgres");
    absl::StatusOr<std::unique_ptr<TestingPostgres>> server = TestingPostgres::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    ASSERT_TRUE(server_->tls());
    ASSERT_TRUE(server_->CreatePasswordRole(kRole, kPassword).ok());
    ASSERT_TRUE(server_->CreateDatabase(kDatabase, kRole).ok());

    password_file_ = new std::string(dir_->File("pgpass"));
    std::ofstream(*password_file_) << "*:*:" << kDatabase << ":" << kRole << ":" << kPassword
                                   << "\n";
    ASSERT_EQ(chmod(password_file_->c_str(), 0600), 0);
    wrong_password_file_ = new std::string(dir_->File("wrong.pgpass"));
    std::ofstream(*wrong_password_file_) << "*:*:*:" << kRole << ":not-the-password\n";
    ASSERT_EQ(chmod(wrong_password_file_->c_str(), 0600), 0);
  }

  static void TearDownTestSuite() {
    delete server_;  // before its certificate's directory goes
    delete wrong_password_file_;
    delete password_file_;
    delete other_ca_;
    delete pki_;
    delete dir_;
  }

  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "the TLS server did not start";
  }

  // key=value form over TCP, verifying the server against `ca`.
  static std::string Conninfo(const std::string& sslmode, const std::string& ca) {
    std::string conninfo =
        absl::StrCat("host=127.0.0.1 port=", server_->port(), " dbname=", kDatabase,
                     " user=", kRole, " sslmode=", sslmode, " connect_timeout=10");
    if (!ca.empty()) absl::StrAppend(&conninfo, " sslrootcert=", ca);
    return conninfo;
  }

  static PgStoreOptions Options(const std::string& conninfo, const std::string& password_file) {
    PgStoreOptions options;
    options.conninfo = conninfo;
    options.password_file = password_file;
    options.pool_size = 2;
    return options;
  }

  // Whether the store's own session is encrypted, and with which protocol.
  static absl::Status ExpectEncrypted(Store& store) {
    return store.Read([](ReadTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(
          std::vector<Row> rows,
          tx.Query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"));
      EXPECT_EQ(rows.size(), 1u);
      if (rows.size() != 1) return absl::OkStatus();
      EXPECT_EQ(rows[0].GetInt(0), 1) << "the session is not encrypted";
      EXPECT_TRUE(absl::StartsWith(rows[0].GetString(1), "TLSv1.")) << rows[0].GetString(1);
      return absl::OkStatus();
    });
  }

  static void ExpectNoSecret(const std::vector<std::string>& lines) {
    EXPECT_FALSE(lines.empty());
    for (const std::string& line : lines) {
      EXPECT_FALSE(absl::StrContains(line, kPassword)) << line;
      EXPECT_FALSE(absl::StrContains(line, "not-the-password")) << line;
    }
  }

  static ScopedTempDir* dir_;
  static test::DevPki* pki_;
  static std::string* other_ca_;
  static TestingPostgres* server_;
  static std::string* password_file_;
  static std::string* wrong_password_file_;
};

ScopedTempDir* PgStoreTlsTest::dir_ = nullptr;
test::DevPki* PgStoreTlsTest::pki_ = nullptr;
std::string* PgStoreTlsTest::other_ca_ = nullptr;
TestingPostgres* PgStoreTlsTest::server_ = nullptr;
std::string* PgStoreTlsTest::password_file_ = nullptr;
std::string* PgStoreTlsTest::wrong_password_file_ = nullptr;

TEST_F(PgStoreTlsTest, VerifiedTlsWithThePasswordFileIsEncrypted) {
  LogCapture log;
  for (const std::string& conninfo :
       {Conninfo("verify-full", pki_->CaFile()),
        absl::StrCat("postgresql://", kRole, "@127.0.0.1:", server_->port(), "/", kDatabase,
                     "?sslmode=verify-full&sslrootcert=", pki_->CaFile())}) {
    SCOPED_TRACE(conninfo);
    PgStoreOptions options = Options(conninfo, *password_file_);
    options.migrations = {{"tls", 1, "CREATE TABLE IF NOT EXISTS t(n BIGINT NOT NULL)", ""}};
    absl::StatusOr<std::unique_ptr<PgStore>> store = PgStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE(ExpectEncrypted(**store).ok());
    EXPECT_TRUE((*store)->Write([](Transaction& tx) {
                          return tx.Exec("INSERT INTO t(n) VALUES(CAST(? AS BIGINT))",
                                         {int64_t{1}});
                        }).ok());
  }
  const std::vector<std::string> lines = log.Lines();
  ExpectNoSecret(lines);
  bool logged_conninfo = false;
  for (const std::string& line : lines) {
    if (absl::StrContains(line, "event=store_connecting") &&
        absl::StrContains(line, "sslmode=verify-full") &&
        absl::StrContains(line, "sslrootcert=")) {
      logged_conninfo = true;
    }
  }
  EXPECT_TRUE(logged_conninfo) << "the TLS settings appear in the connection log line";
}

TEST_F(PgStoreTlsTest, ServerCertificateFromAnotherCaIsRefused) {
  LogCapture log;
  absl::StatusOr<std::unique_ptr<PgStore>> store =
      PgStore::Open(Options(Conninfo("verify-full", *other_ca_), *password_file_));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
  EXPECT_TRUE(absl::StrContains(store.status().message(), "certificate verify failed"))
      << store.status();
  EXPECT_FALSE(absl::StrContains(store.status().message(), kPassword)) << store.status();
  ExpectNoSecret(log.Lines());
}

TEST_F(PgStoreTlsTest, VerifyFullWithoutARootCertificateIsRefused) {
  // libpq would look in ~/.postgresql/root.crt; an explicit missing file is the
  // same case without depending on the home directory.
  absl::StatusOr<std::unique_ptr<PgStore>> store = PgStore::Open(
      Options(Conninfo("verify-full", dir_->File("no-such-ca.pem")), *password_file_));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
  EXPECT_TRUE(absl::StrContains(store.status().message(), "root certificate file"))
      << store.status();
}

TEST_F(PgStoreTlsTest, MissingOrWrongPasswordIsRefusedAndNeverShown) {
  LogCapture log;
  absl::StatusOr<std::unique_ptr<PgStore>> missing = PgStore::Open(
      Options(Conninfo("verify-full", pki_->CaFile()), dir_->File("missing.pgpass")));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kUnavailable) << missing.status();
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "no password supplied"))
      << missing.status();

  absl::StatusOr<std::unique_ptr<PgStore>> wrong =
      PgStore::Open(Options(Conninfo("verify-full", pki_->CaFile()), *wrong_password_file_));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnavailable) << wrong.status();
  EXPECT_TRUE(absl::StrContains(wrong.status().message(), "password authentication failed"))
      << wrong.status();

  for (const absl::Status& status : {missing.status(), wrong.status()}) {
    EXPECT_FALSE(absl::StrContains(status.message(), kPassword)) << status;
    EXPECT_FALSE(absl::StrContains(status.message(), "not-the-password")) << status;
  }
  ExpectNoSecret(log.Lines());
}

TEST_F(PgStoreTlsTest, UnencryptedTcpIsRejectedEvenWithThePassword) {
  absl::StatusOr<std::unique_ptr<PgStore>> store =
      PgStore::Open(Options(Conninfo("disable", ""), *password_file_));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
  EXPECT_TRUE(absl::StrContains(store.status().message(), "no encryption")) << store.status();
}

}  // namespace
}  // namespace pathway
