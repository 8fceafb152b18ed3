// Visit and support records (DESIGN.md §8): the notes a township caseworker keeps of
// home visits, talks, psychological support (心理辅导) and help with work or benefits
// (帮扶), with the date the next contact is due. The record is append-only: an entry
// is never changed or deleted, and a correction is a new entry naming the one it
// corrects, which is then shown as superseded. Place and notes are personal data:
// encrypted at rest with the case id, visit id and field as associated data, never
// logged, audited or put in an error, and returned only to roles that work with the
// person (caseworker, police, auditor).
//
// Who (DESIGN.md §6, common/auth/case_scope.h): the caller must see the case
// (CheckCaseVisible, NOT_FOUND otherwise, sealed cases included) and, to record,
// act for it (CheckExecutesCase): the case is worked from the county of the township
// it is assigned to, or from its residence county while unassigned; a township
// caller acts for its own township's cases and those assigned to it by name. The
// other side of 双向管控 sees the visits but does not record them.
//
//   VisitLogic visits(&registry_logic, cipher);
//   store.Write([&](Transaction& tx) -> absl::Status {
//     ASSIGN_OR_RETURN(v1::Visit v, visits.Record(tx, caller, request, clock.Now()));
//     ...
//   });
//
// The case's next visit date is kept in visit_next_due with every write (see
// visit_tables.h, LoadNextVisitDue / LoadNextVisitsDue, for worklists).
//
// Thread-safe: stateless apart from the logic and cipher it holds (not owned; must
// outlive it).
#ifndef PATHWAY_SERVICES_REGISTRY_VISITS_H_
#define PATHWAY_SERVICES_REGISTRY_VISITS_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/auth/role.h"
#include "common/crypto/pii_cipher.h"
#include "common/store/store.h"
#include "pathway/registry/v1/registry.pb.h"
#include "services/registry/registry_logic.h"
#include "services/registry/visit_tables.h"

namespace pathway {
namespace registry {

// Roles that record visits, and roles that list them.
inline const std::initializer_list<Role> kVisitRecorders = {Role::kCaseworker, Role::kPolice};
inline const std::initializer_list<Role> kVisitReaders = {Role::kCaseworker, Role::kPolice,
                                                          Role::kAuditor, Role::kAdmin};

// Limits of the free text, in characters (Unicode code points).
inline constexpr int kMaxVisitNotesChars = 4000;
inline constexpr int kMaxVisitPlaceChars = 200;
// The next visit is due at most this many days after the visit.
inline constexpr int kMaxDaysToNextVisit = 366;

// True for the roles that are shown a visit's place and notes.
bool SeesVisitText(Role role);

// The date the case's next visit is due, from its visits (the rule behind
// visit_next_due): the next_visit_on of the newest entry (by visited_on, then
// visit_id) that is not superseded by a correction and names one; none when no such
// entry exists, or when an entry not superseded took place on or after that date
// (the planned visit happened, and it planned none).
std::optional<absl::CivilDay> NextVisitDue(const std::vector<VisitDatesRow>& visits);

class VisitLogic {
 public:
  // Both not owned; must outlive this.
  VisitLogic(const RegistryLogic* cases, const PiiCipher* cipher);

  // RecordVisit: checks role, scope (NOT_FOUND) and who acts (PERMISSION_DENIED)
  // before any field, then the fields (INVALID_ARGUMENT), a sealed case and a second
  // correction (FAILED_PRECONDITION); appends the entry and recomputes the case's
  // next visit due. Returns the entry with place and notes left out (text_withheld).
  absl::StatusOr<v1::Visit> Record(Transaction& tx, const Caller& caller,
                                   const v1::RecordVisitRequest& request, absl::Time now) const;

  // OK while the caller may still see the case (a RecordVisit repeat is answered only
  // then); otherwise NOT_FOUND, as for a case never issued.
  absl::Status CheckStillVisible(ReadTransaction& tx, const Caller& caller,
                                 absl::string_view case_id, absl::CivilDay today) const;

  struct Page {
    std::string case_id;  // normalised
    std::vector<v1::Visit> visits;
    std::string next_page_token;
    int64_t total = 0;
  };
  // ListVisits: newest first, corrected entries marked; place and notes decrypted only
  // for SeesVisitText roles.
  absl::StatusOr<Page> List(ReadTransaction& tx, const Caller& caller,
                            const v1::ListVisitsRequest& request, absl::CivilDay today) const;

 private:
  absl::StatusOr<v1::Visit> ToProto(const VisitRow& row, bool with_text) const;

  const RegistryLogic* cases_;
  const PiiCipher* cipher_;
};

}  // namespace registry
}  // namespace pathway

#endif  // PATHWAY_SERVICES_REGISTRY_VISITS_H_
