#include "common/server/audit_listing.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/auth/jurisdiction.h"
#include "common/ids/case_id.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace {

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, google.protobuf.Timestamp's
// range.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;
constexpr char kTokenVersion = 1;
constexpr size_t kTokenDigestBytes = 8;
constexpr size_t kTokenBytes = 1 + 8 + 8 + kTokenDigestBytes;

bool IsDigits(absl::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

absl::StatusOr<absl::Time> TimeOf(const google::protobuf::Timestamp &t,
                                  absl::string_view field, bool round_up) {
  if (t.seconds() < kMinTimestampSeconds ||
      t.seconds() > kMaxTimestampSeconds || t.nanos() < 0 ||
      t.nanos() > 999'999'999) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": timestamp out of range"));
  }
  // Entries are kept to the microsecond: `to` (exclusive) rounds up, `from`
  // down, so neither drops an entry inside the range.
  int64_t micros = t.nanos() / 1000;
  if (round_up && t.nanos() % 1000 != 0)
    ++micros;
  return absl::FromUnixSeconds(t.seconds()) + absl::Microseconds(micros);
}

void PutU64(std::string *out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}

uint64_t GetU64(absl::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

// Binds a token to its query: a token from another case, user or range is
// refused rather than silently resuming somewhere else. Not a secret: a changed
// token can only move within the same query, which the caller may read anyway.
std::string QueryDigest(const AuditListing &l) {
  std::string data;
  for (const std::string *s : {&l.case_id, &l.subject}) {
    PutU64(&data, s->size());
    data += *s;
  }
  PutU64(&data, static_cast<uint64_t>(absl::ToUnixMicros(l.from)));
  PutU64(&data, static_cast<uint64_t>(absl::ToUnixMicros(l.to)));
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char *>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<const char *>(md), kTokenDigestBytes);
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp *out) {
  const int64_t us = absl::ToUnixMicros(t);
  int64_t seconds = us / 1'000'000;
  int64_t micros = us % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(micros * 1000));
}

} // namespace

std::optional<std::string> AuditCasePrefix(const Caller &caller,
                                           absl::string_view case_id) {
  const std::string &jurisdiction = caller.jurisdiction();
  if (jurisdiction == kNationalJurisdiction)
    return std::string();
  if (!case_id.empty()) {
    if (!caller.Covers(case_id.substr(0, 6)))
      return std::nullopt;
  }
  // Fails closed: a jurisdiction that is not 2, 4 or 6 digits sees nothing.
  if ((jurisdiction.size() != 2 && jurisdiction.size() != 4 &&
       jurisdiction.size() != 6) ||
      !IsDigits(jurisdiction)) {
    return std::nullopt;
  }
  return jurisdiction;
}

absl::StatusOr<AuditListing>
ParseAuditListing(const common::v1::ListAuditEntriesRequest &r) {
  AuditListing l;
  if (r.case_id().empty() == r.subject().empty()) {
    return absl::InvalidArgumentError(
        "give exactly one of case_id and subject");
  }
  if (!r.case_id().empty()) {
    ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(r.case_id()));
    l.case_id = id.ToString();
  }
  if (r.subject().size() > kMaxAuditSubjectBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("subject: longer than ", kMaxAuditSubjectBytes, " bytes"));
  }
  l.subject = r.subject();
  if (r.has_from()) {
    ASSIGN_OR_RETURN(l.from, TimeOf(r.from(), "from", /*round_up=*/false));
  }
  if (r.has_to()) {
    ASSIGN_OR_RETURN(l.to, TimeOf(r.to(), "to", /*round_up=*/true));
  }
  if (l.from > l.to)
    return absl::InvalidArgumentError("from: after to");
  if (r.page_size() < 0)
    return absl::InvalidArgumentError("page_size: must not be negative");
  l.page_size = r.page_size() == 0 ? kDefaultAuditPageSize
                                   : std::min(r.page_size(), kMaxAuditPageSize);
  if (!r.page_token().empty()) {
    l.after = DecodeAuditPageToken(l, r.page_token());
    if (!l.after.has_value()) {
      return absl::InvalidArgumentError(
          "page_token: not one this query handed out");
    }
  }
  return l;
}

std::string EncodeAuditPageToken(const AuditListing &listing,
                                 const AuditCursor &last) {
  std::string raw(1, kTokenVersion);
  PutU64(&raw, static_cast<uint64_t>(last.at_us));
  PutU64(&raw, static_cast<uint64_t>(last.seq));
  raw += QueryDigest(listing);
  return absl::WebSafeBase64Escape(raw);
}

std::optional<AuditCursor> DecodeAuditPageToken(const AuditListing &listing,
                                                absl::string_view token) {
  std::string raw;
  if (token.size() > 64 || !absl::WebSafeBase64Unescape(token, &raw))
    return std::nullopt;
  if (raw.size() != kTokenBytes || raw[0] != kTokenVersion)
    return std::nullopt;
  // The encoding is canonical: anything that does not re-encode to itself
  // (padding, stray bits) was not handed out.
  if (absl::WebSafeBase64Escape(raw) != token)
    return std::nullopt;
  absl::string_view rest(raw);
  rest.remove_prefix(1);
  AuditCursor c;
  c.at_us = static_cast<int64_t>(GetU64(rest));
  c.seq = static_cast<int64_t>(GetU64(rest.substr(8)));
  if (c.seq < 1 || rest.substr(16) != QueryDigest(listing))
    return std::nullopt;
  return c;
}

absl::Status
ReadAuditEntries(Store &store, absl::string_view service, const Caller &caller,
                 const common::v1::ListAuditEntriesRequest &request,
                 common::v1::ListAuditEntriesResponse *response,
                 std::string *audited_case) {
  response->Clear();
  response->set_service(std::string(service));
  if (audited_case != nullptr)
    audited_case->clear();
  ASSIGN_OR_RETURN(AuditListing listing, ParseAuditListing(request));
  std::optional<std::string> prefix = AuditCasePrefix(caller, listing.case_id);
  if (!prefix.has_value())
    return absl::OkStatus(); // as a case without entries
  if (audited_case != nullptr)
    *audited_case = listing.case_id;

  AuditTimeQuery q;
  q.case_id = listing.case_id;
  q.subject = listing.subject;
  q.from = listing.from;
  q.to = listing.to;
  q.case_prefix = *std::move(prefix);
  q.after = listing.after;
  q.limit =
      listing.page_size + 1; // one more tells whether another page follows
  int64_t total = 0;
  ASSIGN_OR_RETURN(std::vector<AuditRow> rows, ListAuditByTime(store, q, &total));
  response->set_total_size(total);
  const bool more = rows.size() > static_cast<size_t>(listing.page_size);
  if (more)
    rows.resize(listing.page_size);
  response->mutable_entries()->Reserve(static_cast<int>(rows.size()));
  for (const AuditRow &r : rows) {
    common::v1::AuditTrailEntry *e = response->add_entries();
    e->set_seq(r.seq);
    e->set_service(std::string(service));
    SetTimestamp(r.entry.at, e->mutable_at());
    e->set_subject(r.entry.subject);
    e->set_role(r.entry.role);
    e->set_action(r.entry.action);
    e->set_case_id(r.entry.case_id);
    e->set_outcome(r.entry.outcome);
    e->set_request_id(r.entry.request_id);
  }
  if (more) {
    const AuditRow &last = rows.back();
    response->set_next_page_token(EncodeAuditPageToken(
        listing, AuditCursor{absl::ToUnixMicros(last.entry.at), last.seq}));
  }
  return absl::OkStatus();
}

} // namespace pathway
