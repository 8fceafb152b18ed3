// The bulk commands' shared helpers: flag parsing, CSV dates, enum words, the output
// file written beside and renamed into place, and the progress line (on a FakeClock).
#include "tools/pathwayctl/command_common.h"

#include <fstream>
#include <sstream>

#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"

namespace pathway {
namespace pathwayctl {
namespace {

TEST(CommandCommonTest, ParsesFlags) {
  std::vector<std::string> args = {"postings", "--addr", "h:1", "--validate-only", "--batch=5"};
  ParsedFlags f = ParseFlags(args, {"--addr", "--batch"}, {"--validate-only"});
  EXPECT_TRUE(f.error.empty());
  EXPECT_EQ(f.positional, std::vector<std::string>{"postings"});
  EXPECT_EQ(f.Get("--addr"), "h:1");
  EXPECT_EQ(f.Get("--batch"), "5");
  EXPECT_TRUE(f.Has("--validate-only"));
  EXPECT_EQ(f.Get("--missing", "x"), "x");
  std::vector<std::string> unknown = {"--nope", "1"};
  EXPECT_FALSE(ParseFlags(unknown, {"--addr"}, {}).error.empty());
  std::vector<std::string> dangling = {"--addr"};
  EXPECT_FALSE(ParseFlags(dangling, {"--addr"}, {}).error.empty());
  std::vector<std::string> help = {"-h"};
  EXPECT_TRUE(ParseFlags(help, {}, {}).help);
}

TEST(CommandCommonTest, CsvDates) {
  auto d = ParseCsvDate("2028-02-29");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->year(), 2028);
  EXPECT_EQ(d->month(), 2);
  EXPECT_EQ(d->day(), 29);
  EXPECT_EQ(FormatCsvDate(*d), "2028-02-29");
  EXPECT_EQ(FormatCsvDate(common::v1::Date()), "");
  for (const char* bad : {"2027-02-29", "2026-13-01", "2026/03/01", "2026-3-1", "", "20260301",
                          "2026-03-01x", "abcd-ef-gh"}) {
    EXPECT_FALSE(ParseCsvDate(bad).has_value()) << bad;
  }
}

TEST(CommandCommonTest, EnumWords) {
  EXPECT_EQ(EnumWord("PLACEMENT_MODE_CONCENTRATED", "PLACEMENT_MODE_"), "CONCENTRATED");
  EXPECT_EQ(EnumWord("PLACEMENT_MODE_UNSPECIFIED", "PLACEMENT_MODE_"), "");
}

TEST(CommandCommonTest, OutputFileAppearsOnlyWhenCommitted) {
  ScopedTempDir dir;
  const std::string path = dir.path() + "/out.csv";
  std::ostringstream stdout_text;
  {
    OutputSink sink;
    std::string error;
    ASSERT_TRUE(sink.Open(path, &stdout_text, &error));
    sink.stream() << "half";
  }  // dropped without Commit: nothing left behind
  EXPECT_FALSE(std::ifstream(path).good());
  EXPECT_FALSE(std::ifstream(path + ".partial").good());
  {
    OutputSink sink;
    std::string error;
    ASSERT_TRUE(sink.Open(path, &stdout_text, &error));
    sink.stream() << "whole\n";
    ASSERT_TRUE(sink.Commit(&error)) << error;
  }
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "whole");
  EXPECT_TRUE(stdout_text.str().empty());
  OutputSink to_stdout;
  std::string error;
  ASSERT_TRUE(to_stdout.Open("", &stdout_text, &error));
  to_stdout.stream() << "x";
  ASSERT_TRUE(to_stdout.Commit(&error));
  EXPECT_EQ(stdout_text.str(), "x");
}

TEST(CommandCommonTest, ProgressOnATerminalOnly) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  std::ostringstream shown;
  Progress progress(shown, true, clock, "rows");
  clock.Advance(absl::Seconds(2));
  progress.Update(1000, 4000);
  EXPECT_EQ(shown.str(), "\r[#######                       ] 1000/4000 rows  500 rows/s   ");
  progress.Update(2000, 4000);  // within 100 ms of the last: not redrawn
  EXPECT_EQ(shown.str().find("2000/4000"), std::string::npos);
  clock.Advance(absl::Seconds(2));
  progress.Finish();
  EXPECT_NE(shown.str().find("2000/4000 rows  500 rows/s"), std::string::npos);
  EXPECT_EQ(shown.str().back(), '\n');

  std::ostringstream hidden;
  Progress off(hidden, false, clock, "rows");
  off.Update(5, 10);
  off.Finish();
  EXPECT_TRUE(hidden.str().empty());
}

}  // namespace
}  // namespace pathwayctl
}  // namespace pathway
