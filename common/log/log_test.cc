#include "common/log/log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace pathway {
namespace log {
namespace {

TEST(LogTest, FormatsKeyValueLine) {
  absl::Time ts = absl::FromUnixMillis(1767225600123);  // 2026-01-01T00:00:00.123Z
  std::string line = FormatLine(ts, Level::kInfo, "rpc",
                                {{"method", "/pathway.registry.v1.Registry/Get"},
                                 {"code", "OK"},
                                 {"ms", 1.5},
                                 {"n", 42}});
  EXPECT_EQ(line,
            "ts=2026-01-01T00:00:00.123Z level=info event=rpc "
            "method=/pathway.registry.v1.Registry/Get code=OK ms=1.5 n=42\n");
}

TEST(LogTest, QuotesValuesThatWouldBreakParsing) {
  std::string line = FormatLine(absl::UnixEpoch(), Level::kError, "store",
                                {{"msg", "disk full = bad"}, {"q", "a\"b\nc"}, {"e", ""}});
  EXPECT_NE(line.find("msg=\"disk full = bad\""), std::string::npos) << line;
  EXPECT_NE(line.find("q=\"a\\\"b\\nc\""), std::string::npos) << line;
  EXPECT_NE(line.find("e=\"\""), std::string::npos) << line;
  // Exactly one newline: an injected newline cannot forge a second log line.
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogTest, DropsBelowMinLevelAndWritesOneLinePerEvent) {
  std::vector<std::string> lines;
  SetSinkForTesting([&](absl::string_view l) { lines.emplace_back(l); });
  SetMinLevel(Level::kWarning);
  Info("ignored");
  Warning("kept", {{"k", "v"}});
  SetMinLevel(Level::kInfo);
  SetSinkForTesting(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("level=warning event=kept k=v"), std::string::npos);
}

// Points stderr at a fresh file for the life of the object.
class CapturedStderr {
 public:
  CapturedStderr() {
    char path[] = "/tmp/log_test.XXXXXX";
    fd_ = mkstemp(path);
    unlink(path);
    saved_ = dup(STDERR_FILENO);
    dup2(fd_, STDERR_FILENO);
  }
  ~CapturedStderr() {
    Flush();
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(fd_);
  }
  std::string Text() const {
    std::string out;
    char buf[4096];
    for (off_t off = 0;;) {
      ssize_t n = pread(fd_, buf, sizeof buf, off);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      off += n;
    }
    return out;
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
};

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(LogTest, InfoWaitsForFlushWarningWritesEverythingBeforeIt) {
  CapturedStderr err;
  Info("first", {{"n", 1}});
  Info("second", {{"n", 2}});
  Warning("third", {{"n", 3}});
  // The warning is on stderr when Warning returns, after the info lines, in order.
  std::string text = err.Text();
  size_t first = text.find("event=first"), second = text.find("event=second"),
         third = text.find("event=third");
  ASSERT_NE(third, std::string::npos) << text;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  Info("fourth");
  Flush();
  EXPECT_EQ(Count(err.Text(), "event=fourth"), 1);
}

TEST(LogTest, ManyLinesFromManyThreadsArriveWholeAndOnce) {
  CapturedStderr err;
  constexpr int kThreads = 8, kLines = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) {
        Info("line", {{"t", t}, {"i", i}, {"pad", std::string(40, 'x')}});
      }
    });
  }
  for (auto& th : threads) th.join();
  Flush();
  std::string text = err.Text();
  EXPECT_EQ(Count(text, "\n"), kThreads * kLines);
  EXPECT_EQ(Count(text, "event=line t="), kThreads * kLines);
  EXPECT_EQ(Count(text, "event=line t=3 i=1999 "), 1);
}

TEST(LogTest, ParsesLevels) {
  Level l;
  EXPECT_TRUE(ParseLevel("DEBUG", &l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_TRUE(ParseLevel("warn", &l));
  EXPECT_EQ(l, Level::kWarning);
  EXPECT_FALSE(ParseLevel("loud", &l));
}

}  // namespace
}  // namespace log
}  // namespace pathway
