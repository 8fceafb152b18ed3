// Reading the audit trail (Operations.ListAuditEntries): who may see which
// entries, the request's checks, the opaque page token and one page of a
// service's entries of a case or of a user, oldest first. Plain functions over
// a Store, testable without gRPC; operations_service.cc authorises (auditors
// only), audits the listing and answers.
//
//   common::v1::ListAuditEntriesResponse page;
//   std::string seen_case;  // the case the listing concerned, for its own
//   audit entry RETURN_IF_ERROR(ReadAuditEntries(store, "registry", caller,
//   request, &page, &seen_case));
//
// Who sees what. An auditor sees the entries of cases inside their
// jurisdiction, judged by the case id alone: its first 6 digits are the
// registering county (common/ids/case_id.h). The rule needs no call to the
// registry, so the trail can be read when the registry cannot answer, and it is
// a fact of the row that nobody changes afterwards: the same auditor sees the
// same entries tomorrow, whatever happens to the case (a move of residence, a
// seal). The registering county is the one answerable for the case, so its
// province, city or county oversees what was done to it, wherever it was done.
// An entry without a case (lists and exports over many cases, denied calls, the
// service's own rows) may concern cases anywhere, and a user's entries without
// a case show what that user did across the country; so only a national ("*")
// auditor sees them. A case outside the jurisdiction answers exactly as a case
// without entries (an empty page), so case ids cannot be probed through the
// trail either.
//
// Thread-safe as the store is.
#ifndef PATHWAY_COMMON_SERVER_AUDIT_LISTING_H_
#define PATHWAY_COMMON_SERVER_AUDIT_LISTING_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/audit/audit_log.h"
#include "common/auth/caller.h"
#include "common/store/store.h"
#include "pathway/common/v1/operations.pb.h"

namespace pathway {

inline constexpr int kDefaultAuditPageSize = 100;
inline constexpr int kMaxAuditPageSize = 1000;
inline constexpr size_t kMaxAuditSubjectBytes = 256;

// What `caller` may see of the entries asked for: nullopt when nothing; "" when
// everything (national); otherwise the case id prefix (2, 4 or 6 digits) every
// visible entry's case id starts with. `case_id` is a valid case id or empty (a
// listing by subject).
std::optional<std::string> AuditCasePrefix(const Caller &caller,
                                           absl::string_view case_id);

// The validated query of a request (without the caller's scope or the page
// position): case id canonical, times in microseconds, page size resolved.
struct AuditListing {
  std::string case_id;
  std::string subject;
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  int page_size = kDefaultAuditPageSize;
  std::optional<AuditCursor> after; // from the page token
};

// INVALID_ARGUMENT naming what is wrong (see operations.proto).
absl::StatusOr<AuditListing>
ParseAuditListing(const common::v1::ListAuditEntriesRequest &request);

// The page token that resumes `listing` after `last`, and its reading: nullopt
// for a token that is malformed or was handed out for another query.
std::string EncodeAuditPageToken(const AuditListing &listing,
                                 const AuditCursor &last);
std::optional<AuditCursor> DecodeAuditPageToken(const AuditListing &listing,
                                                absl::string_view token);

// One page of `store`'s entries for `request` as `caller` may see them, each
// naming `service`. `audited_case` (may be null) receives the case id the
// listing concerned when the caller may see it, else "". The caller's role is
// not checked here. INVALID_ARGUMENT for a bad request; the store's error if it
// cannot be read.
absl::Status
ReadAuditEntries(Store &store, absl::string_view service, const Caller &caller,
                 const common::v1::ListAuditEntriesRequest &request,
                 common::v1::ListAuditEntriesResponse *response,
                 std::string *audited_case);

} // namespace pathway

#endif // PATHWAY_COMMON_SERVER_AUDIT_LISTING_H_
