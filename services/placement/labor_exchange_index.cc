#include "services/placement/labor_exchange_index.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace pathway {
namespace {

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

std::string DeriveLaborExchangeKey(absl::string_view token_key) {
  // The label predates the registry's use of the index: changing it would orphan every
  // registration already imported.
  return HmacSha256(token_key, "pathway.placement.v1.id_hash");
}

std::string LaborExchangeIndex(absl::string_view key, absl::string_view normalized_id_number) {
  return HmacSha256(key, normalized_id_number);
}

}  // namespace pathway
