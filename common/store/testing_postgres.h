// A real PostgreSQL 15 server for tests (test-only; STYLE.md rule 14: the
// real thing on a private socket, the way cache tests run a real
// redis-server).
//
// TestingPostgres runs Debian's postgresql-15 (initdb, then postgres, from
// /usr/lib/postgresql/15/bin) as a child process on a fresh temporary
// directory, listening only on a unix socket in that directory (no TCP port,
// so tests never collide), unless TLS is asked for (below). Each test takes
// its own database:
//
//   absl::StatusOr<TestingPostgres*> pg = TestingPostgres::Shared();
//   ASSERT_TRUE(pg.ok()) << pg.status();
//   absl::StatusOr<std::string> conninfo = (*pg)->CreateDatabase("t_counter");
//   options.conninfo = *conninfo;
//
// The server is set up for speed, which is acceptable for tests only:
// fsync=off and full_page_writes=off (a machine crash
// could corrupt it; the data is thrown away anyway). Never copy these settings
// to a deployment.
//
// initdb and postgres refuse to run as root. Run as root, the server runs as
// the `postgres` system user (which Debian's package creates; `nobody` if it
// is missing), and the directory is handed to that user; run as anyone else,
// it runs as the current user. Authentication is `trust` on the socket for
// the superuser `postgres`, except for members of the role `password_login`
// (see CreatePasswordRole), who must give a password (scram-sha-256).
//
// TLS: with Options::ssl_cert_file and ssl_key_file (say, from
// deploy/local/dev-tls.sh) the server also listens on 127.0.0.1, on a port
// that was free (the socket takes the same number), with ssl = on and that
// certificate. Over TCP it accepts only TLS (hostssl) with a password
// (scram-sha-256), so only password roles log in there and a client that does
// not ask for TLS is rejected; the socket is as above:
//
//   TestingPostgres::Options options;
//   options.ssl_cert_file = pki.Cert("postgres");
//   options.ssl_key_file = pki.Key("postgres");
//   ASSIGN_OR_RETURN(std::unique_ptr<TestingPostgres> pg, TestingPostgres::Start(options));
//   // "host=127.0.0.1 port=<pg->port()> ... sslmode=verify-full sslrootcert=<ca.pem>"
//
// Ownership: the object owns the child process and the directory; the
// destructor stops the server (immediate shutdown) and removes the directory.
// The postmaster also gets SIGQUIT if the thread that started it exits
// (PR_SET_PDEATHSIG), so a crashed test leaves no server behind: start it from
// the test's main thread. Shared() is one lazily started server per test
// binary, stopped at exit; tests that Stop a server start their own.
//
// The namespace is pathway::test (not pathway::testing, which would shadow
// gtest's ::testing inside namespace pathway). Not thread-safe, except that
// CreateDatabase, CreatePasswordRole and RunSql may be called from any thread
// while the server runs.
#ifndef PATHWAY_COMMON_STORE_TESTING_POSTGRES_H_
#define PATHWAY_COMMON_STORE_TESTING_POSTGRES_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pathway {
namespace test {

class TestingPostgres {
 public:
  struct Options {
    // Where Debian's postgresql-15 puts initdb and postgres.
    std::string bin_dir = "/usr/lib/postgresql/15/bin";
    // How long to wait for the server to accept connections after a start.
    absl::Duration start_timeout = absl::Seconds(60);
    // The server's TLS certificate and private key (PEM), both or neither.
    // Copied into the server's directory at start (the key with mode 0600, as
    // postgres demands), so they may live where the server user cannot read.
    std::string ssl_cert_file;
    std::string ssl_key_file;
  };

  // Runs initdb in a fresh directory, starts the server and waits until it
  // accepts connections.
  static absl::StatusOr<std::unique_ptr<TestingPostgres>> Start();
  static absl::StatusOr<std::unique_ptr<TestingPostgres>> Start(const Options& options);

  // The process-wide server of this test binary, started on first call.
  static absl::StatusOr<TestingPostgres*> Shared();

  TestingPostgres(const TestingPostgres&) = delete;
  TestingPostgres& operator=(const TestingPostgres&) = delete;
  ~TestingPostgres();

  // Creates an empty database (name: lower-case letters, digits, '_') owned by
  // `owner` (default: the superuser) and returns a libpq connection string
  // for it, connecting as `owner`.
  absl::StatusOr<std::string> CreateDatabase(const std::string& name,
                                             const std::string& owner = "");

  // A postgresql:// URI for `database` as the superuser, through the socket
  // (what a service under test is given as its --database).
  std::string Uri(const std::string& database) const;

  // Creates a login role that must authenticate with `password`.
  absl::Status CreatePasswordRole(const std::string& role, const std::string& password);

  // Runs `sql` as the superuser on `database`.
  absl::Status RunSql(const std::string& sql, const std::string& database = "postgres");

  // A connection string for `database` as `user` (default: the superuser).
  std::string Conninfo(const std::string& database, const std::string& user = "") const;

  // Immediate shutdown (SIGQUIT), as a crash looks to clients: every
  // connection drops at once. OK if already stopped.
  absl::Status Stop();
  // Starts the server again on the same directory and socket; waits until it
  // accepts connections (after crash recovery).
  absl::Status StartAgain();

  // The directory holding the socket (the `host` of a connection string).
  const std::string& socket_dir() const { return dir_; }
  // The port of the socket and, with TLS, of 127.0.0.1; unchanged by Stop and
  // StartAgain.
  int port() const { return port_; }
  // Whether the server listens on 127.0.0.1 with TLS.
  bool tls() const { return !options_.ssl_cert_file.empty(); }
  // The postmaster's process id; 0 while stopped.
  pid_t pid() const { return pid_; }

 private:
  TestingPostgres(const Options& options, std::string dir, uid_t uid, gid_t gid, bool switch_user);

  absl::Status Init();
  // Copies the TLS certificate and key into the data directory.
  absl::Status InstallTlsFiles(const std::string& data);
  // Starts postgres on port_ and waits until it accepts connections. On
  // failure *exited_early says whether it exited before (as it does when the
  // port was taken).
  absl::Status SpawnAndWait(bool* exited_early = nullptr);
  std::string LogTail() const;

  const Options options_;
  const std::string dir_;
  const uid_t uid_;
  const gid_t gid_;
  const bool switch_user_;
  // Without TLS nothing listens on TCP, so the usual number is safe.
  int port_ = 5432;
  pid_t pid_ = 0;
};

}  // namespace test
}  // namespace pathway

#endif  // PATHWAY_COMMON_STORE_TESTING_POSTGRES_H_
