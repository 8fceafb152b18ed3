#include "services/registry/registry_logic.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/case_scope.h"
#include "common/auth/jurisdiction.h"
#include "common/codec/proto_date.h"
#include "common/codec/proto_programme.h"
#include "common/ids/case_id.h"
#include "common/ids/division_code.h"
#include "common/legal_time/legal_time.h"
#include "common/program_status/program_status.h"
#include "common/status/status_macros.h"
#include "services/placement/labor_exchange_index.h"
#include "services/registry/registry_tables.h"
#include "services/registry/search_keys.h"
#include "services/registry/search_tables.h"

namespace pathway {
namespace registry {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
// A page filtered by programme state stops scanning after this many rows and
// returns a token to continue, so one call never walks a whole province.
constexpr int kMaxScannedPerPage = 5000;

absl::Status ValidateText(absl::string_view value, absl::string_view field, size_t max_len,
                          bool required) {
  if (value.empty()) {
    return required ? absl::InvalidArgumentError(absl::StrCat(field, " is required"))
                    : absl::OkStatus();
  }
  if (value.size() > max_len) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is longer than ", max_len, " bytes"));
  }
  for (unsigned char ch : value) {
    if (ch < 0x20 || ch == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(field, " contains control characters"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDivisionField(absl::string_view code, absl::string_view field) {
  if (!ValidateDivisionCode(code).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be a 6-digit division code"));
  }
  return absl::OkStatus();
}

// Roles that work with the person and so see name and contacts.
bool SeesContactDetails(Role role) {
  return role == Role::kPolice || role == Role::kCaseworker || role == Role::kFacilityStaff;
}

std::string Aad(absl::string_view case_id, absl::string_view field) {
  return absl::StrCat(case_id, "/", field);
}

enum class DateUse { kRequired, kTodayIfAbsent };

// Dates a caseworker records may lie in the past but not after today, nor before
// the case's registration. A required date that is absent or all zero is refused;
// an optional one then means today. A partial date is refused either way.
absl::StatusOr<absl::CivilDay> EffectiveDate(const common::v1::Date& d, absl::string_view field,
                                             DateUse use, absl::CivilDay today,
                                             absl::CivilDay earliest) {
  if (use == DateUse::kTodayIfAbsent && !IsDateSet(d)) return today;
  ASSIGN_OR_RETURN(absl::CivilDay day, RequiredDate(d, field));
  if (day > today) return absl::InvalidArgumentError(absl::StrCat(field, " is in the future"));
  if (day < earliest) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is before the case was registered"));
  }
  return day;
}

std::string EncodePageToken(int64_t created_us, absl::string_view case_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(created_us, "|", case_id));
}

bool DecodePageToken(absl::string_view token, int64_t* created_us, std::string* case_id) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return false;
  std::pair<std::string, std::string> parts = absl::StrSplit(raw, absl::MaxSplits('|', 1));
  if (!absl::SimpleAtoi(parts.first, created_us) || parts.second.empty()) return false;
  *case_id = parts.second;
  return true;
}

// The row of a case, personal fields left empty (the caller encrypts them).
CaseRow ToRow(const CaseRecord& c) {
  CaseRow row;
  row.case_id = c.case_id;
  row.birth_date = c.birth_date;
  row.sex = c.sex == ResidentId::Sex::kFemale ? 2 : 1;
  row.household_division = c.household_division;
  row.residence_division = c.residence_division;
  row.registering_division = c.registering_division;
  row.drug_types = c.drug_types;
  row.route_of_use = c.route_of_use;
  row.registered_on = c.registered_on;
  row.risk_grade = c.risk_grade;
  row.control_status = c.control_status;
  row.life_status = c.life_status;
  row.abstinence_anchor = c.abstinence_anchor;
  row.open_measures = c.open_measures;
  row.version = c.version;
  row.created_us = c.created_us;
  row.updated_us = absl::ToUnixMicros(c.updated_at);
  row.township = c.township;
  row.assigned_caseworker = c.assigned_caseworker;
  return row;
}

// A township code for the case: 9 digits inside its household or residence county,
// so the township's caseworkers work a case of their own county (双向管控 places
// only; a third county is reached by ChangeJurisdiction first).
absl::Status ValidateTownshipOf(absl::string_view township, absl::string_view household,
                                absl::string_view residence) {
  if (!IsTownshipCode(township) || !ValidateDivisionCode(township.substr(0, 6)).ok()) {
    return absl::InvalidArgumentError("township must be a 9-digit township code");
  }
  absl::string_view county = township.substr(0, 6);
  if (county != household && county != residence) {
    return absl::InvalidArgumentError(
        "township must lie in the case's household or residence county");
  }
  return absl::OkStatus();
}

// A caseworker's user id as an assignment names it: the token subject, printable.
absl::Status ValidateCaseworkerId(absl::string_view id) {
  if (id.size() > 128) return absl::InvalidArgumentError("caseworker is longer than 128 bytes");
  for (unsigned char ch : id) {
    if (ch <= 0x20 || ch == 0x7f) {
      return absl::InvalidArgumentError("caseworker contains spaces or control characters");
    }
  }
  return absl::OkStatus();
}

}  // namespace

RegistryLogic::RegistryLogic(const PiiCipher* cipher, RegistryConfig config,
                             std::string labor_exchange_key)
    : cipher_(cipher),
      config_(std::move(config)),
      labor_exchange_key_(std::move(labor_exchange_key)) {}

std::vector<Migration> RegistryLogic::Migrations() {
  std::vector<Migration> m = ProgramStatusMigrations();  // unused by the registry; keeps
                                                         // schemas uniform for tools
  for (Migration& own : RegistryTableMigrations()) m.push_back(std::move(own));
  return m;
}

absl::Status RegistryLogic::CheckVisible(const Caller& caller, const CaseRecord& c,
                                         absl::CivilDay today) const {
  // The one rule of every service (common/auth/case_scope.h).
  return CheckCaseVisible(caller, ScopeOf(c, today));
}

bool RegistryLogic::KnownGrade(absl::string_view grade) const {
  return std::find(config_.risk_grades.begin(), config_.risk_grades.end(), grade) !=
         config_.risk_grades.end();
}

absl::StatusOr<CaseRecord> RegistryLogic::Register(Transaction& tx, const Caller& caller,
                                                   const v1::RegisterPersonRequest& r,
                                                   absl::Time now) const {
  const absl::CivilDay today = legal_time::ToCivilDay(now);
  absl::StatusOr<ResidentId> id = ResidentId::Parse(r.resident_id_number(), today);
  if (!id.ok()) return id.status();  // the message never contains the number
  RETURN_IF_ERROR(ValidateText(r.name(), "name", 64 * 4, true));
  RETURN_IF_ERROR(ValidateText(r.phone(), "phone", 32, false));
  RETURN_IF_ERROR(ValidateText(r.residence_address(), "residence_address", 256 * 4, false));
  RETURN_IF_ERROR(ValidateDivisionField(r.household_division(), "household_division"));
  std::string residence =
      r.residence_division().empty() ? r.household_division() : r.residence_division();
  RETURN_IF_ERROR(ValidateDivisionField(residence, "residence_division"));
  // A township caller registers for its county and into its own township only.
  const bool township_caller = IsTownshipJurisdiction(caller.jurisdiction());
  const std::string caller_county =
      township_caller ? caller.jurisdiction().substr(0, 6) : caller.jurisdiction();
  std::string registering = r.registering_division();
  if (registering.empty()) {
    if (caller_county.size() != 6) {
      return absl::InvalidArgumentError(
          "registering_division is required unless the caller's jurisdiction is a county");
    }
    registering = caller_county;
  }
  RETURN_IF_ERROR(ValidateDivisionField(registering, "registering_division"));
  std::string township = r.township();
  if (township.empty() && township_caller) township = caller.jurisdiction();
  if (!township.empty()) {
    RETURN_IF_ERROR(ValidateTownshipOf(township, r.household_division(), residence));
  }
  if (township_caller) {
    if (registering != caller_county) {
      return absl::PermissionDeniedError("registering_division lies outside your jurisdiction");
    }
    if (township != caller.jurisdiction()) {
      return absl::PermissionDeniedError("township lies outside your jurisdiction");
    }
  } else {
    if (!caller.Covers(registering)) {
      return absl::PermissionDeniedError("registering_division lies outside your jurisdiction");
    }
    if (!caller.Covers(r.household_division()) && !caller.Covers(residence)) {
      return absl::PermissionDeniedError(
          "the case would lie outside your jurisdiction: household or residence must be in it");
    }
  }
  if (r.drug_types().empty() || r.drug_types_size() > 16) {
    return absl::InvalidArgumentError("drug_types needs 1 to 16 entries");
  }
  for (const std::string& t : r.drug_types()) {
    RETURN_IF_ERROR(ValidateText(t, "drug_types", 32, true));
    if (absl::StrContains(t, ",")) return absl::InvalidArgumentError("drug_types contains ','");
  }
  if (!v1::RouteOfUse_IsValid(r.route_of_use())) {
    return absl::InvalidArgumentError("route_of_use is not a known value");
  }
  ASSIGN_OR_RETURN(absl::CivilDay found_on, RequiredDate(r.found_on(), "found_on"));
  if (found_on > today) return absl::InvalidArgumentError("found_on is in the future");
  if (found_on < id->birth_date()) return absl::InvalidArgumentError("found_on is before birth");
  // 戒毒条例 Art 7: a record whose only finding is three years old or more is sealed the
  // moment it is written. Only roles with a statutory need may then see it, so anyone
  // else is told before anything is written, rather than meeting NOT_FOUND next.
  if (SealedAtRegistration(found_on, today) && !MayReadSealed(caller.role())) {
    return absl::FailedPreconditionError(
        "found_on is more than three years ago: the record would be sealed at once "
        "(戒毒条例 Art 7) and hidden from your role; police register such records");
  }
  std::string grade = r.risk_grade().empty() ? config_.default_risk_grade : r.risk_grade();
  if (!KnownGrade(grade)) return absl::InvalidArgumentError("risk_grade is not in the scheme");

  // One person, one case: the blind index finds an earlier registration.
  std::string index = cipher_->BlindIndex(id->normalized());
  ASSIGN_OR_RETURN(std::optional<std::string> existing, FindCaseIdByIndex(tx, index));
  if (existing.has_value()) {
    // The case id only to a caller who may see the case now (a sealed one included).
    ASSIGN_OR_RETURN(std::optional<CaseRecord> scope, LoadScope(tx, *existing));
    if (scope.has_value() && CheckVisible(caller, *scope, today).ok()) {
      return absl::AlreadyExistsError(
          absl::StrCat("this person is already registered as case ", *existing));
    }
    return absl::AlreadyExistsError(
        "this person is already registered in another jurisdiction");
  }

  // The durable sequence: the registering county's counter for this year.
  const int year = static_cast<int>(today.year());
  ASSIGN_OR_RETURN(int64_t seq, NextCaseSequence(tx, registering, year));
  ASSIGN_OR_RETURN(CaseId case_id, CaseId::Mint(registering, year, seq));

  CaseRecord c;
  c.case_id = case_id.ToString();
  c.resident_id = id->normalized();
  c.name = r.name();
  c.phone = r.phone();
  c.residence_address = r.residence_address();
  c.birth_date = id->birth_date();
  c.sex = id->sex();
  c.household_division = r.household_division();
  c.residence_division = residence;
  c.registering_division = registering;
  c.drug_types.assign(r.drug_types().begin(), r.drug_types().end());
  c.route_of_use = r.route_of_use();
  c.registered_on = found_on;
  c.risk_grade = grade;
  c.abstinence_anchor = found_on;  // the finding that led here starts the clock
  c.township = township;
  auto enc = [&](const std::string& v, const char* field) {
    return cipher_->Encrypt(v, Aad(c.case_id, field));
  };
  const int64_t now_us = absl::ToUnixMicros(now);
  ASSIGN_OR_RETURN(std::string id_cipher, enc(c.resident_id, "resident_id"));
  ASSIGN_OR_RETURN(std::string name_cipher, enc(c.name, "name"));
  ASSIGN_OR_RETURN(std::string phone_cipher, enc(c.phone, "phone"));
  ASSIGN_OR_RETURN(std::string address_cipher, enc(c.residence_address, "address"));
  c.version = 1;
  c.updated_at = now;
  c.created_us = now_us;
  CaseRow row = ToRow(c);
  row.id_cipher = std::move(id_cipher);
  row.name_cipher = std::move(name_cipher);
  row.phone_cipher = std::move(phone_cipher);
  row.address_cipher = std::move(address_cipher);
  RETURN_IF_ERROR(InsertCase(tx, row, index));
  RETURN_IF_ERROR(SetPersonSearchIndexes(tx, c.case_id, NameIndex(*cipher_, c.name),
                                         PhoneIndex(*cipher_, c.phone)));
  RETURN_IF_ERROR(InsertGradeChange(
      tx, {c.case_id, 1, c.risk_grade, "", "registered", caller.subject(), found_on, now_us}));
  RETURN_IF_ERROR(InsertJurisdictionChange(
      tx, {c.case_id, now_us, c.household_division, c.residence_division, found_on, "registered",
           caller.subject()}));
  if (!c.township.empty()) {
    RETURN_IF_ERROR(InsertAssignment(tx, {c.case_id, now_us, c.township, "", "", "", "registered",
                                          caller.subject(),
                                          std::string(RoleName(caller.role()))}));
  }
  return c;
}

absl::StatusOr<CaseRecord> RegistryLogic::Decode(const CaseRow& row) const {
  CaseRecord c;
  c.case_id = row.case_id;
  auto dec = [&](const std::string& cipher, const char* field) {
    return cipher_->Decrypt(cipher, Aad(c.case_id, field));
  };
  ASSIGN_OR_RETURN(c.resident_id, dec(row.id_cipher, "resident_id"));
  ASSIGN_OR_RETURN(c.name, dec(row.name_cipher, "name"));
  ASSIGN_OR_RETURN(c.phone, dec(row.phone_cipher, "phone"));
  ASSIGN_OR_RETURN(c.residence_address, dec(row.address_cipher, "address"));
  c.birth_date = row.birth_date;
  c.sex = row.sex == 2 ? ResidentId::Sex::kFemale : ResidentId::Sex::kMale;
  c.household_division = row.household_division;
  c.residence_division = row.residence_division;
  c.registering_division = row.registering_division;
  c.drug_types = row.drug_types;
  c.route_of_use = static_cast<v1::RouteOfUse>(row.route_of_use);
  c.registered_on = row.registered_on;
  c.risk_grade = row.risk_grade;
  c.control_status = static_cast<v1::ControlStatus>(row.control_status);
  c.life_status = static_cast<v1::LifeStatus>(row.life_status);
  c.abstinence_anchor = row.abstinence_anchor;
  c.open_measures = static_cast<int>(row.open_measures);
  c.version = row.version;
  c.updated_at = absl::FromUnixMicros(row.updated_us);
  c.created_us = row.created_us;
  c.township = row.township;
  c.assigned_caseworker = row.assigned_caseworker;
  return c;
}

absl::StatusOr<std::optional<CaseRecord>> RegistryLogic::Load(ReadTransaction& tx,
                                                              absl::string_view case_id) const {
  ASSIGN_OR_RETURN(std::optional<CaseRow> row, LoadCaseRow(tx, case_id));
  if (!row.has_value()) return std::optional<CaseRecord>();
  ASSIGN_OR_RETURN(CaseRecord c, Decode(*row));
  return std::optional<CaseRecord>(std::move(c));
}

absl::StatusOr<std::optional<CaseRecord>> RegistryLogic::LoadScope(
    ReadTransaction& tx, absl::string_view case_id) const {
  ASSIGN_OR_RETURN(std::optional<CaseScopeRow> row, LoadCaseScopeRow(tx, case_id));
  if (!row.has_value()) return std::optional<CaseRecord>();
  CaseRecord c;
  c.case_id = row->case_id;
  c.household_division = row->household_division;
  c.residence_division = row->residence_division;
  c.abstinence_anchor = row->abstinence_anchor;
  c.open_measures = static_cast<int>(row->open_measures);
  c.township = row->township;
  c.assigned_caseworker = row->assigned_caseworker;
  return std::optional<CaseRecord>(std::move(c));
}

absl::StatusOr<std::optional<CaseRecord>> RegistryLogic::FindByResidentId(
    ReadTransaction& tx, absl::string_view normalized) const {
  ASSIGN_OR_RETURN(std::optional<CaseRow> row,
                   FindCaseRowByIndex(tx, cipher_->BlindIndex(normalized)));
  if (!row.has_value()) return std::optional<CaseRecord>();
  ASSIGN_OR_RETURN(CaseRecord c, Decode(*row));
  return std::optional<CaseRecord>(std::move(c));
}

absl::StatusOr<CaseRecord> RegistryLogic::LoadScopeVisible(ReadTransaction& tx,
                                                           const Caller& caller,
                                                           absl::string_view case_id,
                                                           absl::CivilDay today) const {
  ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(case_id));
  ASSIGN_OR_RETURN(std::optional<CaseRecord> c, LoadScope(tx, id.ToString()));
  if (!c.has_value()) return CaseNotFound();
  RETURN_IF_ERROR(CheckVisible(caller, *c, today));
  return *std::move(c);
}

absl::StatusOr<CaseRecord> RegistryLogic::LoadVisible(ReadTransaction& tx, const Caller& caller,
                                                      absl::string_view case_id,
                                                      absl::CivilDay today) const {
  ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(case_id));
  ASSIGN_OR_RETURN(std::optional<CaseRecord> c, Load(tx, id.ToString()));
  if (!c.has_value()) return CaseNotFound();
  RETURN_IF_ERROR(CheckVisible(caller, *c, today));
  return *std::move(c);
}

absl::Status RegistryLogic::Save(Transaction& tx, CaseRecord* c, absl::Time now) const {
  c->version += 1;
  c->updated_at = now;
  return UpdateCase(tx, ToRow(*c));
}

absl::StatusOr<CaseRecord> RegistryLogic::SetRiskGrade(Transaction& tx, const Caller& caller,
                                                       const v1::SetRiskGradeRequest& r,
                                                       absl::Time now) const {
  const absl::CivilDay today = legal_time::ToCivilDay(now);
  ASSIGN_OR_RETURN(CaseRecord c, LoadVisible(tx, caller, r.case_id(), today));
  RETURN_IF_ERROR(CheckExpectedVersion(c, r.expected_version()));
  if (!KnownGrade(r.risk_grade())) {
    return absl::InvalidArgumentError("risk_grade is not in the configured scheme");
  }
  // A grade changes only with a reason and an actor (DESIGN.md §3).
  RETURN_IF_ERROR(ValidateText(r.reason(), "reason", 500 * 4, true));
  ASSIGN_OR_RETURN(absl::CivilDay effective,
                   EffectiveDate(r.effective_on(), "effective_on", DateUse::kTodayIfAbsent, today,
                                 c.registered_on));
  ASSIGN_OR_RETURN(int64_t last, LastGradeSeq(tx, c.case_id));
  RETURN_IF_ERROR(InsertGradeChange(tx, {c.case_id, last + 1, r.risk_grade(), c.risk_grade,
                                         r.reason(), caller.subject(), effective,
                                         absl::ToUnixMicros(now)}));
  c.risk_grade = r.risk_grade();
  RETURN_IF_ERROR(Save(tx, &c, now));
  return c;
}

absl::StatusOr<std::vector<v1::RiskGradeChange>> RegistryLogic::GradeHistory(
    ReadTransaction& tx, absl::string_view case_id) const {
  ASSIGN_OR_RETURN(std::vector<GradeChangeRow> rows, LoadGradeHistory(tx, case_id));
  std::vector<v1::RiskGradeChange> out;
  for (const GradeChangeRow& row : rows) {
    v1::RiskGradeChange ch;
    ch.set_risk_grade(row.grade);
    ch.set_previous_grade(row.previous);
    ch.set_reason(row.reason);
    ch.set_actor(row.actor);
    ToProtoDate(row.effective_on, ch.mutable_effective_on());
    int64_t us = row.recorded_us;
    ch.mutable_recorded_at()->set_seconds(us / 1000000);
    ch.mutable_recorded_at()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
    out.push_back(std::move(ch));
  }
  return out;
}

absl::StatusOr<CaseRecord> RegistryLogic::ChangeJurisdiction(
    Transaction& tx, const Caller& caller, const v1::ChangeJurisdictionRequest& r,
    absl::Time now) const {
  const absl::CivilDay today = legal_time::ToCivilDay(now);
  ASSIGN_OR_RETURN(CaseRecord c, LoadVisible(tx, caller, r.case_id(), today));
  RETURN_IF_ERROR(CheckExpectedVersion(c, r.expected_version()));
  if (r.new_residence_division().empty() && r.new_household_division().empty()) {
    return absl::InvalidArgumentError("set new_residence_division or new_household_division");
  }
  ASSIGN_OR_RETURN(absl::CivilDay effective,
                   EffectiveDate(r.effective_on(), "effective_on", DateUse::kRequired, today,
                                 c.registered_on));
  RETURN_IF_ERROR(ValidateText(r.reason(), "reason", 500 * 4, false));
  if (!r.new_residence_division().empty()) {
    RETURN_IF_ERROR(ValidateDivisionField(r.new_residence_division(), "new_residence_division"));
    c.residence_division = r.new_residence_division();
  }
  if (!r.new_household_division().empty()) {
    RETURN_IF_ERROR(ValidateDivisionField(r.new_household_division(), "new_household_division"));
    c.household_division = r.new_household_division();
  }
  RETURN_IF_ERROR(InsertJurisdictionChange(
      tx, {c.case_id, absl::ToUnixMicros(now), c.household_division, c.residence_division,
           effective, r.reason(), caller.subject()}));
  // A township outside both new places no longer works the case: the assignment
  // ends, recorded like any other, and the county reassigns it.
  if (!c.township.empty() &&
      !ValidateTownshipOf(c.township, c.household_division, c.residence_division).ok()) {
    RETURN_IF_ERROR(InsertAssignment(
        tx, {c.case_id, absl::ToUnixMicros(now), "", "", c.township, c.assigned_caseworker,
             "jurisdiction changed", caller.subject(), std::string(RoleName(caller.role()))}));
    c.township.clear();
    c.assigned_caseworker.clear();
  }
  RETURN_IF_ERROR(Save(tx, &c, now));
  return c;
}

absl::StatusOr<CaseRecord> RegistryLogic::Assign(Transaction& tx, const Caller& caller,
                                                 const v1::AssignCaseRequest& r,
                                                 absl::Time now) const {
  const absl::CivilDay today = legal_time::ToCivilDay(now);
  ASSIGN_OR_RETURN(CaseRecord c, LoadVisible(tx, caller, r.case_id(), today));
  RETURN_IF_ERROR(CheckExpectedVersion(c, r.expected_version()));
  RETURN_IF_ERROR(ValidateTownshipOf(r.township(), c.household_division, c.residence_division));
  RETURN_IF_ERROR(ValidateCaseworkerId(r.caseworker()));
  RETURN_IF_ERROR(ValidateText(r.reason(), "reason", 500 * 4, true));
  // Seeing the case is not enough: the caller must cover the township it hands the
  // case to, so a township reassigns within itself and a county within its townships.
  if (!caller.Covers(r.township())) {
    return absl::PermissionDeniedError("township lies outside your jurisdiction");
  }
  if (c.township == r.township() && c.assigned_caseworker == r.caseworker()) return c;
  RETURN_IF_ERROR(InsertAssignment(
      tx, {c.case_id, absl::ToUnixMicros(now), r.township(), r.caseworker(), c.township,
           c.assigned_caseworker, r.reason(), caller.subject(),
           std::string(RoleName(caller.role()))}));
  c.township = r.township();
  c.assigned_caseworker = r.caseworker();
  RETURN_IF_ERROR(Save(tx, &c, now));
  return c;
}

absl::StatusOr<std::vector<v1::CaseAssignment>> RegistryLogic::Assignments(
    ReadTransaction& tx, absl::string_view case_id) const {
  ASSIGN_OR_RETURN(std::vector<AssignmentRow> rows, LoadAssignments(tx, case_id));
  std::vector<v1::CaseAssignment> out;
  out.reserve(rows.size());
  for (const AssignmentRow& row : rows) {
    v1::CaseAssignment a;
    a.set_township(row.township);
    a.set_caseworker(row.caseworker);
    a.set_previous_township(row.previous_township);
    a.set_previous_caseworker(row.previous_caseworker);
    a.set_reason(row.reason);
    a.set_actor(row.actor);
    a.set_actor_role(row.actor_role);
    a.mutable_recorded_at()->set_seconds(row.recorded_us / 1000000);
    a.mutable_recorded_at()->set_nanos(static_cast<int32_t>(row.recorded_us % 1000000) * 1000);
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<CaseRecord> RegistryLogic::SetStatus(Transaction& tx, const Caller& caller,
                                                    const v1::SetStatusRequest& r,
                                                    absl::Time now) const {
  const absl::CivilDay today = legal_time::ToCivilDay(now);
  ASSIGN_OR_RETURN(CaseRecord c, LoadVisible(tx, caller, r.case_id(), today));
  RETURN_IF_ERROR(CheckExpectedVersion(c, r.expected_version()));
  if (r.control_status() == v1::CONTROL_STATUS_UNSPECIFIED &&
      r.life_status() == v1::LIFE_STATUS_UNSPECIFIED) {
    return absl::InvalidArgumentError("set control_status or life_status");
  }
  if (!v1::ControlStatus_IsValid(r.control_status()) || !v1::LifeStatus_IsValid(r.life_status())) {
    return absl::InvalidArgumentError("unknown status value");
  }
  if (c.life_status == v1::LIFE_STATUS_DECEASED) {
    return absl::FailedPreconditionError("the person is recorded as deceased");
  }
  ASSIGN_OR_RETURN(absl::CivilDay effective,
                   EffectiveDate(r.effective_on(), "effective_on", DateUse::kRequired, today,
                                 c.registered_on));
  RETURN_IF_ERROR(ValidateText(r.reason(), "reason", 500 * 4, false));
  const int64_t now_us = absl::ToUnixMicros(now);
  if (r.control_status() != v1::CONTROL_STATUS_UNSPECIFIED) {
    c.control_status = r.control_status();
    RETURN_IF_ERROR(InsertStatusChange(tx, {c.case_id, now_us, "control", c.control_status,
                                            effective, r.reason(), caller.subject()}));
  }
  if (r.life_status() != v1::LIFE_STATUS_UNSPECIFIED) {
    c.life_status = r.life_status();
    RETURN_IF_ERROR(InsertStatusChange(tx, {c.case_id, now_us, "life", c.life_status,
                                            effective, r.reason(), caller.subject()}));
  }
  RETURN_IF_ERROR(Save(tx, &c, now));
  return c;
}

absl::StatusOr<CaseRecord> RegistryLogic::ReportEvent(Transaction& tx, const Caller& caller,
                                                      const v1::ReportEventRequest& r,
                                                      absl::Time now) const {
  const absl::CivilDay today = legal_time::ToCivilDay(now);
  ASSIGN_OR_RETURN(CaseId id, CaseId::Parse(r.case_id()));
  ASSIGN_OR_RETURN(std::optional<CaseRecord> found, Load(tx, id.ToString()));
  if (!found.has_value()) return CaseNotFound();
  CaseRecord c = *std::move(found);
  // Scope first, so nothing below tells an outsider the case exists.
  RETURN_IF_ERROR(CheckVisible(caller, c, today));
  if (r.kind() == v1::ReportEventRequest::KIND_UNSPECIFIED ||
      !v1::ReportEventRequest::Kind_IsValid(r.kind())) {
    return absl::InvalidArgumentError("kind is required");
  }
  RETURN_IF_ERROR(ValidateText(r.source_event_id(), "source_event_id", 128, true));
  const bool measure = r.kind() == v1::ReportEventRequest::KIND_MEASURE_STARTED ||
                       r.kind() == v1::ReportEventRequest::KIND_MEASURE_ENDED;
  if (measure && (r.program() == common::v1::PROGRAM_UNSPECIFIED ||
                  r.program() == common::v1::PROGRAM_PLACEMENT ||
                  !common::v1::Program_IsValid(r.program()))) {
    return absl::InvalidArgumentError("program must name a measure (SD, QZ or SK)");
  }
  // A measure starts and ends only in the service that records it, so the registry's
  // abstinence facts always agree with the programme's own record (戒毒条例 Art 7).
  if (measure && caller.role() != Role::kService && caller.role() != Role::kAdmin) {
    return absl::PermissionDeniedError(
        "a measure's start and end are reported by the service that records the measure; "
        "police report findings (positive tests, drug use)");
  }
  ASSIGN_OR_RETURN(absl::CivilDay day, RequiredDate(r.occurred_on(), "occurred_on"));
  if (day > today) return absl::InvalidArgumentError("occurred_on is in the future");
  if (day < c.birth_date) return absl::InvalidArgumentError("occurred_on is before birth");

  // A re-sent report changes nothing.
  ASSIGN_OR_RETURN(bool first,
                   InsertCaseEventOnce(tx, {c.case_id, r.source_event_id(), r.kind(),
                                            r.program(), day, absl::ToUnixMicros(now)}));
  if (!first) return c;
  switch (r.kind()) {
    case v1::ReportEventRequest::KIND_POSITIVE_TEST:
    case v1::ReportEventRequest::KIND_DRUG_USE:
      // A new finding resets the three-year clock (戒毒条例 Art 7).
      c.abstinence_anchor = std::max(c.abstinence_anchor, day);
      break;
    case v1::ReportEventRequest::KIND_MEASURE_STARTED: {
      ASSIGN_OR_RETURN(std::optional<absl::CivilDay> open,
                       OpenMeasureStart(tx, c.case_id, r.program()));
      if (!open.has_value()) {
        RETURN_IF_ERROR(InsertOpenMeasure(tx, c.case_id, r.program(), day));
        c.open_measures += 1;
      }
      break;
    }
    case v1::ReportEventRequest::KIND_MEASURE_ENDED: {
      ASSIGN_OR_RETURN(std::optional<absl::CivilDay> open,
                       OpenMeasureStart(tx, c.case_id, r.program()));
      if (open.has_value() && day < *open) {
        return absl::InvalidArgumentError("occurred_on is before the measure began");
      }
      ASSIGN_OR_RETURN(int64_t ended, EndOpenMeasures(tx, c.case_id, r.program(), day));
      if (ended > 0) c.open_measures = std::max(0, c.open_measures - 1);
      // The end of the last measure is an anchor of the clock.
      c.abstinence_anchor = std::max(c.abstinence_anchor, day);
      break;
    }
    default:
      break;
  }
  RETURN_IF_ERROR(Save(tx, &c, now));
  return c;
}

absl::StatusOr<RegistryLogic::ListPage> RegistryLogic::List(ReadTransaction& tx,
                                                            const Caller& caller,
                                                            const v1::ListCasesRequest& r,
                                                            absl::CivilDay today) const {
  int page_size = r.page().page_size() <= 0 ? kDefaultPageSize
                                            : std::min(r.page().page_size(), kMaxPageSize);
  int64_t after_us = INT64_MAX;
  std::string after_id = "~";  // sorts after every case id
  if (!r.page().page_token().empty() &&
      !DecodePageToken(r.page().page_token(), &after_us, &after_id)) {
    return absl::InvalidArgumentError("page_token is not valid");
  }
  if (!r.division_prefix().empty()) {
    size_t n = r.division_prefix().size();
    if ((n != 2 && n != 4 && n != 6) ||
        !std::all_of(r.division_prefix().begin(), r.division_prefix().end(),
                     [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return absl::InvalidArgumentError("division_prefix must be 2, 4 or 6 digits");
    }
  }
  if (!r.risk_grade().empty() && !KnownGrade(r.risk_grade())) {
    return absl::InvalidArgumentError("risk_grade is not in the configured scheme");
  }
  if (!r.township().empty() && !IsTownshipCode(r.township())) {
    return absl::InvalidArgumentError("township must be 9 digits");
  }
  if (!v1::ControlStatus_IsValid(r.control_status())) {
    return absl::InvalidArgumentError("control_status is not a known value");
  }
  if (r.program() != common::v1::PROGRAM_UNSPECIFIED && !FromProtoProgram(r.program())) {
    return absl::InvalidArgumentError("program is not a known value");
  }
  if (!r.program_state().empty() && r.program() == common::v1::PROGRAM_UNSPECIFIED) {
    return absl::InvalidArgumentError("program_state needs a program");
  }

  // Jurisdiction and division filters are prefixes on either division (双向管控). A
  // township caller's cases all lie in its county (an assignment's township is in the
  // household or residence county), narrowed to its township or its name.
  const bool township_caller = IsTownshipJurisdiction(caller.jurisdiction());
  const std::string jur = caller.jurisdiction() == "*" ? ""
                          : township_caller            ? caller.jurisdiction().substr(0, 6)
                                                       : caller.jurisdiction();
  const std::string div = r.division_prefix();
  CaseListQuery filters;
  filters.jurisdiction_prefix = jur;
  filters.division_prefix = div;
  filters.control_status = r.control_status();
  filters.risk_grade = r.risk_grade();
  if (township_caller) {
    filters.scope_township = caller.jurisdiction();
    filters.scope_caseworker = caller.subject();
  }
  filters.township = r.township();
  if (r.assigned_to_me()) filters.assigned_caseworker = caller.subject();
  // The programme index, kept by the programme services (worklist_tables.h): the
  // record, never the cache.
  filters.program = r.program();
  filters.program_state = r.program_state();
  ListPage page;
  ASSIGN_OR_RETURN(page.total_bound, CountCaseRows(tx, filters));
  int scanned = 0;
  int64_t last_us = after_us;
  std::string last_id = after_id;
  bool exhausted = false;
  while (static_cast<int>(page.cases.size()) < page_size && scanned < kMaxScannedPerPage) {
    const int batch = std::min(page_size * 2, kMaxScannedPerPage - scanned);
    CaseListQuery query = filters;
    query.after_us = last_us;
    query.after_case_id = last_id;
    query.limit = batch;
    ASSIGN_OR_RETURN(std::vector<CaseRow> rows, ListCaseRows(tx, query));
    scanned += static_cast<int>(rows.size());
    std::vector<CaseRecord> candidates;
    for (const CaseRow& row : rows) {
      ASSIGN_OR_RETURN(CaseRecord c, Decode(row));
      last_us = c.created_us;
      last_id = c.case_id;
      if (!CheckVisible(caller, c, today).ok()) continue;
      candidates.push_back(std::move(c));
    }
    for (CaseRecord& c : candidates) {
      if (static_cast<int>(page.cases.size()) == page_size) break;
      page.cases.push_back(std::move(c));
    }
    if (static_cast<int>(rows.size()) < batch) {
      exhausted = true;
      break;
    }
  }
  // A full page continues after its last case; a page cut short by the scan
  // budget continues after the last row scanned; an exhausted scan has no next page.
  if (static_cast<int>(page.cases.size()) == page_size) {
    page.next_page_token = EncodePageToken(page.cases.back().created_us, page.cases.back().case_id);
  } else if (!exhausted) {
    page.next_page_token = EncodePageToken(last_us, last_id);
  }
  return page;
}

void RegistryLogic::ToProto(const CaseRecord& c, const Caller& caller, absl::CivilDay today,
                            v1::Case* out) const {
  out->set_case_id(c.case_id);
  v1::Person* p = out->mutable_person();
  absl::StatusOr<ResidentId> id = ResidentId::Parse(c.resident_id, today);
  // The full ID number only for police (DESIGN.md §6); everyone else sees it masked.
  if (caller.role() == Role::kPolice) {
    p->set_resident_id_number(c.resident_id);
  } else if (id.ok()) {
    p->set_resident_id_number(id->Masked());
  }
  if (SeesContactDetails(caller.role())) {
    p->set_name(c.name);
    p->set_phone(c.phone);
    p->set_residence_address(c.residence_address);
  }
  ToProtoDate(c.birth_date, p->mutable_birth_date());
  p->set_sex(c.sex == ResidentId::Sex::kFemale ? v1::Person::SEX_FEMALE : v1::Person::SEX_MALE);
  out->set_household_division(c.household_division);
  out->set_residence_division(c.residence_division);
  out->set_registering_division(c.registering_division);
  for (const std::string& t : c.drug_types) out->add_drug_types(t);
  out->set_route_of_use(c.route_of_use);
  ToProtoDate(c.registered_on, out->mutable_registered_on());
  out->set_risk_grade(c.risk_grade);
  out->set_control_status(c.control_status);
  out->set_life_status(c.life_status);
  if (std::optional<absl::CivilDay> m = AbstinenceMilestone(c)) {
    ToProtoDate(*m, out->mutable_abstinence_milestone());
  }
  out->set_sealed(Sealed(c, today));
  out->set_township(c.township);
  out->set_assigned_caseworker(c.assigned_caseworker);
  out->set_version(c.version);
  int64_t us = absl::ToUnixMicros(c.updated_at);
  out->mutable_updated_at()->set_seconds(us / 1000000);
  out->mutable_updated_at()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
}

void RegistryLogic::ToFacts(const CaseRecord& c, absl::CivilDay today, v1::CaseFacts* out) const {
  out->set_case_id(c.case_id);
  out->set_household_division(c.household_division);
  out->set_residence_division(c.residence_division);
  ToProtoDate(c.birth_date, out->mutable_birth_date());
  out->set_sex(c.sex == ResidentId::Sex::kFemale ? v1::Person::SEX_FEMALE : v1::Person::SEX_MALE);
  out->set_sealed(Sealed(c, today));
  out->set_life_status(c.life_status);
  out->set_township(c.township);
  out->set_assigned_caseworker(c.assigned_caseworker);
  // Placement matches its placements with the labor bureau's registrations by this
  // index; a sealed record is no longer shared (戒毒条例 Art 7).
  out->clear_labor_exchange_index();
  if (!labor_exchange_key_.empty() && !out->sealed()) {
    out->set_labor_exchange_index(LaborExchangeIndex(labor_exchange_key_, c.resident_id));
  }
}

}  // namespace registry
}  // namespace pathway
