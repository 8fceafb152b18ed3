// The CSV reader and writer: quoting (commas, doubled quotes, line breaks in quotes),
// BOM, CRLF and lone CR line ends, empty fields and lines, row and line numbering,
// malformed records reported per record without stopping, the field size cap, UTF-8
// checks, and a round trip through the writer.
#include "tools/pathwayctl/csv.h"

#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pathway {
namespace pathwayctl {
namespace {

struct Rec {
  std::vector<std::string> fields;
  int64_t row;
  int64_t line;
  bool error;
};

std::vector<Rec> ReadAll(const std::string& text) {
  std::istringstream in(text);
  CsvReader reader(&in);
  CsvRecord r;
  std::vector<Rec> out;
  while (reader.Next(&r)) out.push_back({r.fields, r.row, r.line, !r.error.empty()});
  EXPECT_TRUE(reader.status().ok());
  return out;
}

using Fields = std::vector<std::string>;

TEST(CsvReaderTest, PlainRecordsWithLfCrlfAndLoneCr) {
  for (const std::string eol : {"\n", "\r\n", "\r"}) {
    SCOPED_TRACE(eol == "\n" ? "LF" : eol == "\r\n" ? "CRLF" : "CR");
    auto recs = ReadAll("a,b,c" + eol + "1,2,3" + eol);
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].fields, (Fields{"a", "b", "c"}));
    EXPECT_EQ(recs[1].fields, (Fields{"1", "2", "3"}));
    EXPECT_EQ(recs[1].row, 2);
    EXPECT_EQ(recs[1].line, 2);
    EXPECT_FALSE(recs[1].error);
  }
  // No line end after the last record.
  auto recs = ReadAll("a,b\n1,2");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].fields, (Fields{"1", "2"}));
}

TEST(CsvReaderTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  auto recs = ReadAll(
      "id,text\n"
      "1,\"a, b\"\n"
      "2,\"say \"\"hi\"\"\"\n"
      "3,\"two\nlines\"\n"
      "4,\"crlf\r\ninside\"\n"
      "5,\"\"\n"
      "6,last\n");
  ASSERT_EQ(recs.size(), 7u);
  EXPECT_EQ(recs[1].fields, (Fields{"1", "a, b"}));
  EXPECT_EQ(recs[2].fields, (Fields{"2", "say \"hi\""}));
  EXPECT_EQ(recs[3].fields, (Fields{"3", "two\nlines"}));
  EXPECT_EQ(recs[4].fields, (Fields{"4", "crlf\r\ninside"}));
  EXPECT_EQ(recs[5].fields, (Fields{"5", ""}));
  // Rows count records; lines count the file's lines.
  EXPECT_EQ(recs[3].row, 4);
  EXPECT_EQ(recs[3].line, 4);
  EXPECT_EQ(recs[4].row, 5);
  EXPECT_EQ(recs[4].line, 6);
  EXPECT_EQ(recs[6].row, 7);
  EXPECT_EQ(recs[6].line, 9);
  for (const Rec& r : recs) EXPECT_FALSE(r.error);
}

TEST(CsvReaderTest, ByteOrderMarkIsSkippedOnlyAtTheStart) {
  auto recs = ReadAll("\xEF\xBB\xBFrecord_id,title\nR1,\xEF\xBB\xBFx\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, (Fields{"record_id", "title"}));
  EXPECT_EQ(recs[1].fields, (Fields{"R1", "\xEF\xBB\xBFx"}));
  // A multi-byte character at the start that is no BOM stays.
  recs = ReadAll("\xEF\xBD\x98,b\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields, (Fields{"\xEF\xBD\x98", "b"}));
}

TEST(CsvReaderTest, EmptyFieldsAndBlankLines) {
  auto recs = ReadAll("a,,c\n,,\n\n\"\",x\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "", "c"}));
  EXPECT_EQ(recs[1].fields, (Fields{"", "", ""}));
  EXPECT_FALSE(recs[1].error);
  EXPECT_EQ(recs[2].fields, (Fields{""}));  // a blank line
  EXPECT_EQ(recs[3].fields, (Fields{"", "x"}));
  EXPECT_EQ(recs[3].row, 4);
  EXPECT_TRUE(ReadAll("").empty());
}

TEST(CsvReaderTest, RaggedRowsAreReturnedAsTheyAre) {
  // The reader does not know the header; the import counts fields per row.
  auto recs = ReadAll("a,b,c\n1,2\n1,2,3,4\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].fields.size(), 2u);
  EXPECT_EQ(recs[2].fields.size(), 4u);
}

TEST(CsvReaderTest, MalformedQuotingIsAnErrorOfThatRecordOnly) {
  auto recs = ReadAll(
      "a,b\n"
      "1,ab\"c\n"        // a quote inside an unquoted field
      "2,\"ab\"c\n"      // text after the closing quote
      "3,fine\n"
      "4,\"never closed\n"
      "5,swallowed\n");
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_TRUE(recs[1].error);
  EXPECT_EQ(recs[1].fields, (Fields{"1", "ab\"c"}));
  EXPECT_TRUE(recs[2].error);
  EXPECT_EQ(recs[2].fields, (Fields{"2", "abc"}));
  EXPECT_FALSE(recs[3].error);
  EXPECT_EQ(recs[3].fields, (Fields{"3", "fine"}));
  // An unclosed quote runs to the end of the file: one bad record.
  EXPECT_TRUE(recs[4].error);
  EXPECT_EQ(recs[4].row, 5);
}

TEST(CsvReaderTest, OverlongFieldsAreCutAndReported) {
  std::string big(kMaxCsvFieldBytes + 10, 'x');
  std::istringstream in("a,b\n1," + big + "\n2,ok\n");
  CsvReader reader(&in);
  CsvRecord r;
  ASSERT_TRUE(reader.Next(&r));
  ASSERT_TRUE(reader.Next(&r));
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(r.fields[1].size(), kMaxCsvFieldBytes);
  ASSERT_TRUE(reader.Next(&r));
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(r.fields[1], "ok");
}

TEST(CsvReaderTest, ReadsAcrossBufferBoundaries) {
  // Records longer than the 64 KiB read buffer, and many of them.
  std::string text = "id,text\n";
  for (int i = 0; i < 3000; ++i) {
    text += std::to_string(i) + ",\"" + std::string(40, 'a') + "\"\"," + std::string(20, 'b') +
            "\"\r\n";
  }
  auto recs = ReadAll(text);
  ASSERT_EQ(recs.size(), 3001u);
  EXPECT_EQ(recs[2999].fields[0], "2998");
  EXPECT_EQ(recs[2999].fields[1], std::string(40, 'a') + "\"," + std::string(20, 'b'));
  EXPECT_EQ(recs[3000].line, 3001);
}

TEST(CsvTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("焊工 welder"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600
  EXPECT_FALSE(IsValidUtf8("\xC3"));             // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));         // overlong
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));     // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));     // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80")); // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("caf\xE9"));          // Latin-1
}

TEST(CsvTest, WriterQuotesWhatNeedsItAndRoundTrips) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  std::ostringstream out;
  Fields fields = {"1", "a,b", "say \"hi\"", "two\r\nlines", "", "焊工"};
  WriteCsvRow(out, fields);
  WriteCsvRow(out, {"x"});
  auto recs = ReadAll(out.str());
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, fields);
  EXPECT_EQ(recs[1].fields, (Fields{"x"}));
}

}  // namespace
}  // namespace pathwayctl
}  // namespace pathway
