// Protection for personal fields at rest (DESIGN.md §6): AES-256-GCM encryption and
// an HMAC-SHA-256 blind index for exact lookup and duplicate detection, with keys
// derived (HKDF-SHA-256) from one configured master key.
//
//   ASSIGN_OR_RETURN(auto cipher, PiiCipher::Create(master_key));
//   std::string index = cipher->BlindIndex(id.normalized());         // lookup key
//   ASSIGN_OR_RETURN(std::string sealed, cipher->Encrypt(id.normalized(), aad));
//   ASSIGN_OR_RETURN(std::string plain, cipher->Decrypt(sealed, aad));
//
// `aad` binds a ciphertext to where it belongs (e.g. "<case id>/resident_id"), so
// one row's ciphertext cannot be moved into another row. The ciphertext carries a
// key-version byte so keys can be rotated later. Never log inputs or outputs.
// Thread-safe (immutable after Create).
#ifndef PATHWAY_COMMON_CRYPTO_PII_CIPHER_H_
#define PATHWAY_COMMON_CRYPTO_PII_CIPHER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pathway {

class PiiCipher {
 public:
  // master_key: at least 32 bytes of secret (e.g. the contents of a key file).
  static absl::StatusOr<std::unique_ptr<PiiCipher>> Create(absl::string_view master_key);
  ~PiiCipher();

  // version byte || 12-byte random nonce || ciphertext || 16-byte tag.
  absl::StatusOr<std::string> Encrypt(absl::string_view plaintext, absl::string_view aad) const;
  // DATA_LOSS when the ciphertext was altered, moved (other aad) or made with another key.
  absl::StatusOr<std::string> Decrypt(absl::string_view sealed, absl::string_view aad) const;
  // 32 raw bytes; equal inputs give equal outputs, and nothing about the input can
  // be learned without the key.
  std::string BlindIndex(absl::string_view value) const;

 private:
  PiiCipher() = default;
  unsigned char enc_key_[32];
  unsigned char index_key_[32];
};

}  // namespace pathway

#endif  // PATHWAY_COMMON_CRYPTO_PII_CIPHER_H_
