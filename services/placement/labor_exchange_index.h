// The labor exchange index: the one keyed hash of a resident ID number that both the
// case registry and the placement service compute, so a placement can be matched to the
// labor bureau's employment and unemployment registrations without either side keeping
// or exchanging the ID number in clear. This header is the single place where the key
// derivation is defined and documented; both services call it.
//
//   key   = HMAC-SHA-256(token key, "pathway.placement.v1.id_hash")
//   index = HMAC-SHA-256(key, normalised 18-character ID number)   // 32 bytes
//
// The token key (ServerOptions::token_key_file, >= 32 bytes) is configuration that every
// Pathway service already has, so no second secret is deployed; a deployment that
// rotates the token key must re-import the labor bureau's registrations and let
// placement backfill its seekers (the index changes with the key). The normalised
// number is ResidentId::normalized() (common/ids/resident_id.h): 18 characters, upper
// case X. The index is personal data: never logged, never shown to a person-facing role.
//
//   std::string key = DeriveLaborExchangeKey(token_key);
//   std::string index = LaborExchangeIndex(key, id.normalized());
//
// Pure functions; thread-safe.
#ifndef PATHWAY_SERVICES_PLACEMENT_LABOR_EXCHANGE_INDEX_H_
#define PATHWAY_SERVICES_PLACEMENT_LABOR_EXCHANGE_INDEX_H_

#include <string>

#include "absl/strings/string_view.h"

namespace pathway {

// Length of an index in bytes (SHA-256).
inline constexpr size_t kLaborExchangeIndexBytes = 32;

// The HMAC key for the index, derived from the token key (see above).
std::string DeriveLaborExchangeKey(absl::string_view token_key);

// The index of a normalised ID number under `key` (32 bytes).
std::string LaborExchangeIndex(absl::string_view key, absl::string_view normalized_id_number);

}  // namespace pathway

#endif  // PATHWAY_SERVICES_PLACEMENT_LABOR_EXCHANGE_INDEX_H_
