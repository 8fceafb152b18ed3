#include "tests/testing/redis_server.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace pathway {
namespace test {
namespace {

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

// Connects with a 1 s connect timeout and a 300 ms reply timeout.
ContextPtr Connect(int port) {
  ContextPtr c(redisConnectWithTimeout("127.0.0.1", port,
                                       absl::ToTimeval(absl::Seconds(1))));
  if (c != nullptr && c->err == 0) {
    redisSetTimeout(c.get(), absl::ToTimeval(absl::Milliseconds(300)));
  }
  return c;
}

ReplyPtr Command(redisContext* c, const char* cmd) {
  return ReplyPtr(static_cast<redisReply*>(redisCommand(c, cmd)));
}

bool Pings(int port) {
  ContextPtr c = Connect(port);
  if (c == nullptr || c->err != 0) return false;
  ReplyPtr r = Command(c.get(), "PING");
  return r != nullptr && r->type == REDIS_REPLY_STATUS &&
         std::string(r->str, r->len) == "PONG";
}

TEST(RedisServerTest, StartsOnFreePortAndAnswers) {
  absl::StatusOr<std::unique_ptr<RedisServer>> a = RedisServer::Start();
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::unique_ptr<RedisServer>> b = RedisServer::Start();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_GT((*a)->port(), 0);
  EXPECT_NE((*a)->port(), (*b)->port());
  EXPECT_TRUE((*a)->running());
  EXPECT_TRUE(Pings((*a)->port()));
  EXPECT_TRUE(Pings((*b)->port()));
}

TEST(RedisServerTest, StopRefusesAndRestartComesBackOnSamePortEmpty) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  RedisServer& s = **server;
  const int port = s.port();
  const pid_t first_pid = s.pid();
  {
    ContextPtr c = Connect(port);
    ASSERT_EQ(c->err, 0);
    ReplyPtr r = Command(c.get(), "SET k v");
    ASSERT_NE(r, nullptr);
  }

  ASSERT_TRUE(s.Stop().ok());
  EXPECT_FALSE(s.running());
  ContextPtr refused = Connect(port);
  ASSERT_NE(refused, nullptr);
  EXPECT_NE(refused->err, 0);

  ASSERT_TRUE(s.Restart().ok());
  EXPECT_EQ(s.port(), port);
  EXPECT_NE(s.pid(), first_pid);
  ContextPtr c = Connect(port);
  ASSERT_EQ(c->err, 0);
  ReplyPtr r = Command(c.get(), "EXISTS k");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->integer, 0);  // No persistence: a fresh, empty server.
}

TEST(RedisServerTest, PausedServerAcceptsButNeverAnswers) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Pause().ok());
  EXPECT_TRUE((*server)->paused());

  ContextPtr c = Connect((*server)->port());
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->err, 0) << c->errstr;  // The kernel completes the handshake.
  const absl::Time start = absl::Now();
  ReplyPtr r = Command(c.get(), "PING");
  EXPECT_EQ(r, nullptr);  // Reply timeout.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  ASSERT_TRUE((*server)->Resume().ok());
  EXPECT_TRUE(Pings((*server)->port()));
}

TEST(RedisServerTest, StopWorksWhilePaused) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Pause().ok());
  ASSERT_TRUE((*server)->Stop().ok());
  EXPECT_FALSE((*server)->running());
}

TEST(RedisServerTest, PasswordIsRequired) {
  RedisServer::Options options;
  options.password = "s3cret";
  absl::StatusOr<std::unique_ptr<RedisServer>> server =
      RedisServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ContextPtr c = Connect((*server)->port());
  ASSERT_EQ(c->err, 0);
  ReplyPtr denied = Command(c.get(), "GET k");
  ASSERT_NE(denied, nullptr);
  EXPECT_EQ(denied->type, REDIS_REPLY_ERROR);
  ReplyPtr auth = Command(c.get(), "AUTH s3cret");
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->type, REDIS_REPLY_STATUS);
}

TEST(RedisServerTest, DestructorRemovesDirectory) {
  std::string dir;
  {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    dir = (*server)->dir();
    EXPECT_EQ(access(dir.c_str(), F_OK), 0);
  }
  EXPECT_NE(access(dir.c_str(), F_OK), 0);
}

TEST(RedisServerTest, MissingBinaryIsAnError) {
  RedisServer::Options options;
  options.binary = "/nonexistent/redis-server";
  EXPECT_FALSE(RedisServer::Start(options).ok());
}

TEST(BlackHoleListenerTest, ConnectSucceedsCommandHangsUntilTimeout) {
  absl::StatusOr<std::unique_ptr<BlackHoleListener>> hole =
      BlackHoleListener::Start();
  ASSERT_TRUE(hole.ok()) << hole.status();
  EXPECT_GT((*hole)->port(), 0);
  ContextPtr c = Connect((*hole)->port());
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->err, 0) << c->errstr;
  const absl::Time start = absl::Now();
  ReplyPtr r = Command(c.get(), "PING");
  EXPECT_EQ(r, nullptr);
  EXPECT_NE(c->err, 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(PickUnusedLoopbackPortTest, NothingListens) {
  absl::StatusOr<int> port = PickUnusedLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();
  ContextPtr c = Connect(*port);
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->err, 0);
}

}  // namespace
}  // namespace test
}  // namespace pathway
