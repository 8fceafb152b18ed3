#include "common/store/testing_postgres.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace pathway {
namespace test {
namespace {

constexpr char kSuperuser[] = "postgres";
constexpr char kPasswordGroup[] = "password_login";
constexpr absl::Duration kPollInterval = absl::Milliseconds(20);
constexpr absl::Duration kStopTimeout = absl::Seconds(20);
// Attempts at a free TCP port when another process took the one picked.
constexpr int kPortAttempts = 5;

absl::Status ErrnoStatus(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 60) return false;
  for (char ch : name) {
    if (!absl::ascii_islower(static_cast<unsigned char>(ch)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(ch)) && ch != '_') {
      return false;
    }
  }
  return true;
}

// Forks and execs argv[0] with stdout and stderr appended to `log_path`,
// switching to uid/gid first when `switch_user`. With `die_with_parent` the
// child gets SIGQUIT when the calling thread exits.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path,
                            bool switch_user, uid_t uid, gid_t gid, bool die_with_parent) {
  // Everything the child needs is prepared before fork: afterwards only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return ErrnoStatus("open log");
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return ErrnoStatus("fork");
  }
  if (pid == 0) {
    if (switch_user) {
      if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
    }
    // After the user switch, which would clear it.
    if (die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGQUIT);
      if (getppid() != parent) _exit(1);
    }
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(log_fd);
  return pid;
}

// Waits for `pid`; its exit code, or -1 if it died of a signal.
int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) == -1) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Waits for `pid` to exit, up to `timeout`. True if it was reaped.
bool WaitForExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r == -1 && errno != EINTR) return true;  // not our child any more
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kPollInterval);
  }
}

absl::Status Chown(const std::string& path, uid_t uid, gid_t gid) {
  if (chown(path.c_str(), uid, gid) != 0) return ErrnoStatus(absl::StrCat("chown ", path));
  return absl::OkStatus();
}

// A loopback TCP port that was free a moment ago, below the kernel's
// ephemeral range (so no outgoing connection takes it as its source port
// before postgres binds it).
absl::StatusOr<int> PickFreeLoopbackPort() {
  static std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 32000);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = pick(random);
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ErrnoStatus("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (free) return port;
  }
  return absl::UnavailableError("no free loopback port found");
}

// Copies `from` to `to` (created with `mode`, owned by uid/gid).
absl::Status CopyFile(const std::string& from, const std::string& to, mode_t mode, uid_t uid,
                      gid_t gid) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read ", from));
  std::stringstream data;
  data << in.rdbuf();
  const int fd = open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus(absl::StrCat("create ", to));
  const std::string bytes = data.str();
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return ErrnoStatus(absl::StrCat("write ", to));
    }
    done += static_cast<size_t>(n);
  }
  if (fchmod(fd, mode) != 0 || fchown(fd, uid, gid) != 0) {
    close(fd);
    return ErrnoStatus(absl::StrCat("chmod/chown ", to));
  }
  if (close(fd) != 0) return ErrnoStatus(absl::StrCat("close ", to));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestingPostgres>> TestingPostgres::Start() {
  return Start(Options());
}

absl::StatusOr<std::unique_ptr<TestingPostgres>> TestingPostgres::Start(const Options& options) {
  for (const char* tool : {"/initdb", "/postgres"}) {
    const std::string path = options.bin_dir + tool;
    if (access(path.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " not executable (install Debian's postgresql-15)"));
    }
  }
  if (options.ssl_cert_file.empty() != options.ssl_key_file.empty()) {
    return absl::InvalidArgumentError("give both ssl_cert_file and ssl_key_file, or neither");
  }
  uid_t uid = geteuid();
  gid_t gid = getegid();
  const bool switch_user = uid == 0;
  std::string base = "/tmp";
  if (switch_user) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) pw = getpwnam("nobody");
    if (pw == nullptr) return absl::FailedPreconditionError("no postgres or nobody user to run as");
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  } else if (const char* tmp = getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') {
    base = tmp;
  }
  std::string templ = base + "/pathway-pg-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return ErrnoStatus("mkdtemp");
  // The server owns the directory from here on (its destructor removes it).
  std::unique_ptr<TestingPostgres> server(
      new TestingPostgres(options, templ, uid, gid, switch_user));
  if (absl::Status s = server->Init(); !s.ok()) return s;
  if (!server->tls()) {
    if (absl::Status s = server->SpawnAndWait(); !s.ok()) return s;
  } else {
    // Over TCP the port may be taken between the pick and the bind: then
    // postgres exits at once and another port is tried.
    absl::Status started;
    for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
      absl::StatusOr<int> port = PickFreeLoopbackPort();
      if (!port.ok()) return port.status();
      server->port_ = *port;
      bool exited_early = false;
      started = server->SpawnAndWait(&exited_early);
      if (started.ok() || !exited_early) break;
    }
    if (!started.ok()) return started;
  }
  if (absl::Status s = server->RunSql(absl::StrCat("CREATE ROLE ", kPasswordGroup, " NOLOGIN"));
      !s.ok()) {
    return s;
  }
  return server;
}

absl::StatusOr<TestingPostgres*> TestingPostgres::Shared() {
  // Destroyed at exit, which stops the server.
  static absl::StatusOr<std::unique_ptr<TestingPostgres>> shared = Start();
  if (!shared.ok()) return shared.status();
  return shared->get();
}

TestingPostgres::TestingPostgres(const Options& options, std::string dir, uid_t uid, gid_t gid,
                                 bool switch_user)
    : options_(options), dir_(std::move(dir)), uid_(uid), gid_(gid), switch_user_(switch_user) {}

TestingPostgres::~TestingPostgres() {
  Stop().IgnoreError();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::Status TestingPostgres::Init() {
  if (switch_user_) {
    if (absl::Status s = Chown(dir_, uid_, gid_); !s.ok()) return s;
  }
  const std::string data = dir_ + "/data";
  absl::StatusOr<pid_t> pid =
      Spawn({options_.bin_dir + "/initdb", "-D", data, "-U", kSuperuser, "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"},
            dir_ + "/initdb.log", switch_user_, uid_, gid_, /*die_with_parent=*/false);
  if (!pid.ok()) return pid.status();
  if (const int rc = WaitExit(*pid); rc != 0) {
    std::ifstream in(dir_ + "/initdb.log");
    std::stringstream text;
    text << in.rdbuf();
    return absl::InternalError(absl::StrCat("initdb failed (exit ", rc, "): ", text.str()));
  }
  {
    std::ofstream conf(data + "/postgresql.conf", std::ios::app);
    conf << "\n# Test server: speed over crash safety (tests only).\n"
         << "unix_socket_directories = '" << dir_ << "'\n"
         << "fsync = off\n"
         << "full_page_writes = off\n"
         << "max_connections = 300\n"
         << "shared_buffers = 32MB\n"
         << "log_min_messages = warning\n";
    // The port is given on the command line (it may change between attempts).
    if (tls()) {
      conf << "# TCP on loopback, TLS only (see pg_hba.conf).\n"
           << "listen_addresses = '127.0.0.1'\n"
           << "ssl = on\n"
           << "ssl_cert_file = 'server.crt'\n"
           << "ssl_key_file = 'server.key'\n";
    } else {
      conf << "# Unix socket only.\n"
           << "listen_addresses = ''\n";
    }
    std::ofstream hba(data + "/pg_hba.conf", std::ios::trunc);
    hba << "local all +" << kPasswordGroup << " scram-sha-256\n"
        << "local all all trust\n";
    if (tls()) {
      hba << "hostssl all all 127.0.0.1/32 scram-sha-256\n"
          << "hostnossl all all 127.0.0.1/32 reject\n";
    }
    if (!conf || !hba) return absl::InternalError("cannot write the test server's configuration");
  }
  if (tls()) return InstallTlsFiles(data);
  return absl::OkStatus();
}

absl::Status TestingPostgres::InstallTlsFiles(const std::string& data) {
  // postgres refuses a key that others may read; the certificate is public.
  if (absl::Status s = CopyFile(options_.ssl_cert_file, data + "/server.crt", 0644, uid_, gid_);
      !s.ok()) {
    return s;
  }
  return CopyFile(options_.ssl_key_file, data + "/server.key", 0600, uid_, gid_);
}

std::string TestingPostgres::LogTail() const {
  std::ifstream in(dir_ + "/postgres.log");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  constexpr size_t kTail = 1500;
  if (text.size() > kTail) text = text.substr(text.size() - kTail);
  return text;
}

absl::Status TestingPostgres::SpawnAndWait(bool* exited_early) {
  if (exited_early != nullptr) *exited_early = false;
  absl::StatusOr<pid_t> pid =
      Spawn({options_.bin_dir + "/postgres", "-D", dir_ + "/data", "-p", absl::StrCat(port_)},
            dir_ + "/postgres.log", switch_user_, uid_, gid_, /*die_with_parent=*/true);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  const std::string conninfo = absl::StrCat(Conninfo("postgres"), " connect_timeout=2");
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  for (;;) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return absl::OkStatus();
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      if (exited_early != nullptr) *exited_early = true;
      return absl::InternalError(absl::StrCat("postgres exited at start: ", LogTail()));
    }
    if (absl::Now() >= deadline) {
      Stop().IgnoreError();
      return absl::DeadlineExceededError(
          absl::StrCat("postgres did not accept connections: ", LogTail()));
    }
    absl::SleepFor(kPollInterval);
  }
}

absl::Status TestingPostgres::Stop() {
  if (pid_ == 0) return absl::OkStatus();
  kill(pid_, SIGQUIT);  // immediate shutdown
  if (!WaitForExit(pid_, kStopTimeout)) {
    kill(pid_, SIGKILL);
    WaitExit(pid_);
  }
  pid_ = 0;
  return absl::OkStatus();
}

absl::Status TestingPostgres::StartAgain() {
  if (pid_ != 0) return absl::FailedPreconditionError("server is running");
  return SpawnAndWait();
}

std::string TestingPostgres::Conninfo(const std::string& database, const std::string& user) const {
  return absl::StrCat("host=", dir_, " port=", port_, " dbname=", database,
                      " user=", user.empty() ? kSuperuser : user);
}

std::string TestingPostgres::Uri(const std::string& database) const {
  return absl::StrCat("postgresql:///", database, "?host=", dir_, "&port=", port_,
                      "&user=", kSuperuser);
}

absl::Status TestingPostgres::RunSql(const std::string& sql, const std::string& database) {
  const std::string conninfo = absl::StrCat(Conninfo(database), " connect_timeout=10");
  PGconn* conn = PQconnectdb(conninfo.c_str());
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = absl::UnavailableError(absl::StrCat("connect: ", PQerrorMessage(conn)));
  } else {
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      status = absl::InternalError(absl::StrCat(sql, ": ", PQresultErrorMessage(r)));
    }
    PQclear(r);
  }
  PQfinish(conn);
  return status;
}

absl::StatusOr<std::string> TestingPostgres::CreateDatabase(const std::string& name,
                                                            const std::string& owner) {
  if (!ValidName(name) || (!owner.empty() && !ValidName(owner))) {
    return absl::InvalidArgumentError("database and role names: [a-z0-9_]+");
  }
  std::string sql = absl::StrCat("CREATE DATABASE ", name);
  if (!owner.empty()) absl::StrAppend(&sql, " OWNER ", owner);
  if (absl::Status s = RunSql(sql); !s.ok()) return s;
  return Conninfo(name, owner);
}

absl::Status TestingPostgres::CreatePasswordRole(const std::string& role,
                                                 const std::string& password) {
  if (!ValidName(role)) return absl::InvalidArgumentError("role names: [a-z0-9_]+");
  if (password.find('\'') != std::string::npos) {
    return absl::InvalidArgumentError("password must not contain a quote");
  }
  return RunSql(absl::StrCat("CREATE ROLE ", role, " LOGIN PASSWORD '", password, "' IN ROLE ",
                             kPasswordGroup));
}

}  // namespace test
}  // namespace pathway
