#include "common/metrics/server_metrics.h"

#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/metrics/build_info.h"
#include "common/metrics/process_metrics.h"
#include "common/metrics/testing_http.h"
#include "gtest/gtest.h"
#include "tests/testing/redis_server.h"

namespace pathway {
namespace {

TEST(ProcessMetricsTest, ReadsThisProcessFromProc) {
  const auto start = ProcessMetrics::StartTimeSeconds();
  ASSERT_TRUE(start.has_value());
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  EXPECT_LE(*start, now + 1);
  EXPECT_GT(*start, now - 24 * 3600);  // a test process started today
  const auto rss = ProcessMetrics::ResidentMemoryBytes();
  ASSERT_TRUE(rss.has_value());
  EXPECT_GT(*rss, 1 << 20);
  const auto fds = ProcessMetrics::OpenFds();
  ASSERT_TRUE(fds.has_value());
  EXPECT_GE(*fds, 3);  // stdin, stdout, stderr
  const int extra = dup(0);
  ASSERT_GE(extra, 0);
  EXPECT_EQ(*ProcessMetrics::OpenFds(), *fds + 1);
  close(extra);
}

TEST(BuildInfoTest, NamesAVersionAndACommit) {
  EXPECT_STRNE(BuildVersion(), "");
  const std::string commit = BuildCommit();
  // A full commit hash from the checkout, or "unknown" outside one.
  EXPECT_TRUE(commit == "unknown" || commit.size() == 40) << commit;
}

TEST(ServerMetricsTest, ServesBuildAndProcessMetricsOverHttp) {
  const absl::StatusOr<int> picked = test::PickUnusedLoopbackPort();
  ASSERT_TRUE(picked.ok()) << picked.status();
  const int port = *picked;
  auto metrics = ServerMetrics::Start("127.0.0.1", port);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ((*metrics)->port(), port);

  auto body = test::HttpGet("127.0.0.1", port, "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(absl::StrContains(
      *body, absl::StrCat("pathway_build_info{commit=\"", BuildCommit(), "\",version=\"",
                          BuildVersion(), "\"} 1")))
      << *body;
  EXPECT_TRUE(absl::StrContains(*body, "\nprocess_start_time_seconds ")) << *body;
  EXPECT_TRUE(absl::StrContains(*body, "\nprocess_resident_memory_bytes ")) << *body;
  EXPECT_TRUE(absl::StrContains(*body, "\nprocess_open_fds ")) << *body;

  // The port is taken now: a second endpoint on it is refused, not thrown.
  auto second = ServerMetrics::Start("127.0.0.1", port);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();

  metrics->reset();
  EXPECT_FALSE(test::HttpGet("127.0.0.1", port, "/metrics").ok());
}

TEST(ServerMetricsTest, RefusesAnUnusablePort) {
  EXPECT_EQ(ServerMetrics::Start("127.0.0.1", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ServerMetrics::Start("", 9464).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pathway
