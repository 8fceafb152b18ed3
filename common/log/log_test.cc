#include "common/log/log.h"

#include <string>
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
