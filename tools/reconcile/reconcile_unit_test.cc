// Unit tests of the reconciler's pure parts: case id packing, drift classification,
// the report's JSON round trip and atomic file writes, the progress bar line.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "common/store/testing_temp_dir.h"
#include "gtest/gtest.h"
#include "tools/reconcile/case_key_set.h"
#include "tools/reconcile/drift.h"
#include "tools/reconcile/progress.h"
#include "tools/reconcile/report.h"

namespace pathway {
namespace reconcile {
namespace {

TEST(CaseKeySetTest, PacksCanonicalIdsInjectivelyAndKeepsOthersAsStrings) {
  EXPECT_TRUE(PackCaseId("520102-2026-0000042-2").has_value());
  EXPECT_TRUE(PackCaseId("520102-2026-0000042-X").has_value());
  EXPECT_NE(*PackCaseId("520102-2026-0000042-2"), *PackCaseId("520102-2026-0000042-X"));
  EXPECT_NE(*PackCaseId("520102-2026-0000042-2"), *PackCaseId("520102-2025-0000042-2"));
  EXPECT_NE(*PackCaseId("999999-9999-9999999-X"), *PackCaseId("000000-0000-0000000-0"));
  EXPECT_FALSE(PackCaseId("520102-2026-000004-22").has_value());
  EXPECT_FALSE(PackCaseId("520102-2026-0000042-x").has_value());
  EXPECT_FALSE(PackCaseId("not-a-case").has_value());

  CaseKeySet set;
  set.Insert("520102-2026-0000042-2");
  set.Insert("legacy-case-7");
  set.Insert("520102-2026-0000042-2");
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(set.Contains("520102-2026-0000042-2"));
  EXPECT_TRUE(set.Contains("legacy-case-7"));
  EXPECT_FALSE(set.Contains("520102-2026-0000043-0"));
  EXPECT_FALSE(set.Contains("legacy-case-8"));
  set.Clear();
  EXPECT_EQ(set.size(), 0u);
}

common::v1::ProgramStatus Status(int64_t version) {
  common::v1::ProgramStatus s;
  s.set_case_id("520102-2026-0000042-2");
  s.set_state("ACTIVE");
  s.set_version(version);
  s.mutable_began()->set_year(2026);
  s.mutable_began()->set_month(3);
  s.mutable_began()->set_day(1);
  s.mutable_next_deadline()->set_kind("REPORT");
  s.mutable_next_deadline()->mutable_due()->set_year(2026);
  s.mutable_next_deadline()->mutable_due()->set_month(3);
  s.mutable_next_deadline()->mutable_due()->set_day(16);
  s.mutable_updated_at()->set_seconds(1773000000);
  s.mutable_updated_at()->set_nanos(123456789);
  return s;
}

TEST(DriftTest, ConvertsAsPublishProgramStatusDoes) {
  ProgrammeStatus c = ToCacheStatus(Status(3));
  EXPECT_EQ(c.state, "ACTIVE");
  EXPECT_EQ(c.version, 3);
  EXPECT_EQ(c.began, absl::CivilDay(2026, 3, 1));
  EXPECT_EQ(c.next_deadline_kind, "REPORT");
  EXPECT_EQ(c.next_deadline, absl::CivilDay(2026, 3, 16));
  EXPECT_EQ(c.written_at, absl::FromUnixMillis(1773000000123));  // truncated to the ms
  EXPECT_TRUE(ValidateProgrammeStatus(c).ok());

  common::v1::ProgramStatus bare;
  bare.set_state("CLOSED");
  bare.set_version(1);
  ProgrammeStatus b = ToCacheStatus(bare);
  EXPECT_FALSE(b.began.has_value());
  EXPECT_FALSE(b.next_deadline.has_value());
  EXPECT_TRUE(b.next_deadline_kind.empty());
}

TEST(DriftTest, ClassifiesByVersionThenContent) {
  const ProgrammeStatus service = ToCacheStatus(Status(5));
  ProgrammeStatus cached = service;
  EXPECT_EQ(ClassifyDrift(service, nullptr), DriftKind::kMissing);
  EXPECT_EQ(ClassifyDrift(service, &cached), DriftKind::kInSync);
  cached.version = 4;
  EXPECT_EQ(ClassifyDrift(service, &cached), DriftKind::kStale);
  cached.version = 6;
  EXPECT_EQ(ClassifyDrift(service, &cached), DriftKind::kCacheAhead);
  cached = service;
  cached.state = "SUSPENDED";
  EXPECT_EQ(ClassifyDrift(service, &cached), DriftKind::kContentMismatch);
  cached = service;
  cached.next_deadline = absl::CivilDay(2026, 3, 17);
  EXPECT_EQ(ClassifyDrift(service, &cached), DriftKind::kContentMismatch);
  cached = service;
  cached.written_at += absl::Milliseconds(1);
  EXPECT_EQ(ClassifyDrift(service, &cached), DriftKind::kContentMismatch);
  EXPECT_EQ(DriftKindName(DriftKind::kCacheAhead), "cache_ahead");
}

TEST(ReportTest, JsonRoundTripsAndFilesAreReplacedAtomically) {
  Report r;
  r.set_format_version(1);
  r.set_as_of("2026-03-20");
  ServiceReport* s = r.add_services();
  s->set_service("community_detox");
  s->set_outcome("complete");
  s->mutable_found()->set_missing(7);
  (*s->mutable_overdue_by_division())["520102"] = 3;
  s->mutable_outbox()->mutable_summary()->set_pending(2);
  std::string json = ReportToJson(r);
  EXPECT_TRUE(absl::StrContains(json, "\"overdueByDivision\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"cacheAhead\": \"0\"")) << json;  // defaults printed
  absl::StatusOr<Report> back = ReportFromJson(json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->services(0).found().missing(), 7);
  EXPECT_EQ(back->services(0).overdue_by_division().at("520102"), 3);
  EXPECT_FALSE(ReportFromJson("{not json").ok());

  ScopedTempDir dir;
  const std::string path = dir.path() + "/ckpt.json";
  absl::StatusOr<std::optional<Report>> none = ReadReportFile(path);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(WriteReportFile(path, r).ok());
  r.set_as_of("2026-03-21");
  ASSERT_TRUE(WriteReportFile(path, r).ok());
  absl::StatusOr<std::optional<Report>> read = ReadReportFile(path);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->as_of(), "2026-03-21");
  EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0);  // the temporary file was renamed
  EXPECT_FALSE(WriteReportFile(dir.path() + "/missing/dir/x.json", r).ok());
  EXPECT_EQ(ReportFileName(absl::FromUnixSeconds(1773972000)), "reconcile-20260320T020000Z.json");
}

TEST(ReportTest, SummaryNamesEveryServiceAndTheOrphans) {
  Report r;
  r.set_as_of("2026-03-20");
  r.set_complete(true);
  r.set_cases(10);
  ServiceReport* s = r.add_services();
  s->set_service("community_rehab");
  s->set_outcome("complete");
  s->set_cases(10);
  s->mutable_found()->set_stale(2);
  s->mutable_repaired()->set_stale(2);
  r.mutable_orphans()->set_outcome("complete");
  r.mutable_orphans()->set_found(1);
  r.mutable_orphans()->set_removed(1);
  std::string text = FormatSummary(r);
  EXPECT_TRUE(absl::StrContains(text, "community_rehab")) << text;
  EXPECT_TRUE(absl::StrContains(text, "repaired 2")) << text;
  EXPECT_TRUE(absl::StrContains(text, "orphans: complete, 1 found, 1 removed")) << text;
}

TEST(ProgressTest, BarLineShowsTheFraction) {
  std::string line = Progress::BarLine("community_detox", 50, 100, 1234.0);
  EXPECT_TRUE(absl::StrContains(line, " 50% 50/100 cases 1234/s")) << line;
  EXPECT_TRUE(absl::StrContains(line, "[###############...............]")) << line;
}

}  // namespace
}  // namespace reconcile
}  // namespace pathway
