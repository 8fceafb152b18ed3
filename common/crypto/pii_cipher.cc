#include "common/crypto/pii_cipher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cstring>

namespace pathway {
namespace {

constexpr unsigned char kKeyVersion = 1;
constexpr size_t kNonceLen = 12;
constexpr size_t kTagLen = 16;

bool Hkdf(absl::string_view secret, const char* info, unsigned char out[32]) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  if (ctx == nullptr) return false;
  size_t len = 32;
  static const unsigned char kSalt[] = "pathway-pii-v1";
  bool ok = EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) > 0 &&
            EVP_PKEY_CTX_set1_hkdf_salt(ctx, kSalt, sizeof(kSalt) - 1) > 0 &&
            EVP_PKEY_CTX_set1_hkdf_key(ctx, reinterpret_cast<const unsigned char*>(secret.data()),
                                       static_cast<int>(secret.size())) > 0 &&
            EVP_PKEY_CTX_add1_hkdf_info(ctx, reinterpret_cast<const unsigned char*>(info),
                                        static_cast<int>(std::strlen(info))) > 0 &&
            EVP_PKEY_derive(ctx, out, &len) > 0 && len == 32;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

struct CipherCtx {
  CipherCtx() : ctx(EVP_CIPHER_CTX_new()) {}
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
  EVP_CIPHER_CTX* ctx;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PiiCipher>> PiiCipher::Create(absl::string_view master_key) {
  if (master_key.size() < 32) {
    return absl::InvalidArgumentError("personal-data key must be at least 32 bytes");
  }
  std::unique_ptr<PiiCipher> c(new PiiCipher());
  if (!Hkdf(master_key, "aes-256-gcm", c->enc_key_) ||
      !Hkdf(master_key, "hmac-sha-256-index", c->index_key_)) {
    return absl::InternalError("key derivation failed");
  }
  return c;
}

PiiCipher::~PiiCipher() {
  OPENSSL_cleanse(enc_key_, sizeof(enc_key_));
  OPENSSL_cleanse(index_key_, sizeof(index_key_));
}

absl::StatusOr<std::string> PiiCipher::Encrypt(absl::string_view plaintext,
                                               absl::string_view aad) const {
  std::string out(1 + kNonceLen + plaintext.size() + kTagLen, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kKeyVersion;
  unsigned char* nonce = p + 1;
  if (RAND_bytes(nonce, kNonceLen) != 1) return absl::InternalError("no randomness");
  CipherCtx c;
  int len = 0;
  unsigned char* body = nonce + kNonceLen;
  if (c.ctx == nullptr ||
      EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, enc_key_, nonce) != 1 ||
      EVP_EncryptUpdate(c.ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(c.ctx, body, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(c.ctx, body + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTagLen, body + plaintext.size()) != 1) {
    return absl::InternalError("encryption failed");
  }
  return out;
}

absl::StatusOr<std::string> PiiCipher::Decrypt(absl::string_view sealed,
                                               absl::string_view aad) const {
  if (sealed.size() < 1 + kNonceLen + kTagLen ||
      static_cast<unsigned char>(sealed[0]) != kKeyVersion) {
    return absl::DataLossError("encrypted field is malformed or from an unknown key");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  const unsigned char* nonce = p + 1;
  const unsigned char* body = nonce + kNonceLen;
  size_t body_len = sealed.size() - 1 - kNonceLen - kTagLen;
  std::string out(body_len, '\0');
  CipherCtx c;
  int len = 0;
  unsigned char tag[kTagLen];
  std::memcpy(tag, body + body_len, kTagLen);
  bool ok =
      c.ctx != nullptr &&
      EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, enc_key_, nonce) == 1 &&
      EVP_DecryptUpdate(c.ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(out.data()), &len, body,
                        static_cast<int>(body_len)) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTagLen, tag) == 1 &&
      EVP_DecryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
  if (!ok) return absl::DataLossError("encrypted field failed authentication");
  return out;
}

std::string PiiCipher::BlindIndex(absl::string_view value) const {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), index_key_, sizeof(index_key_),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

}  // namespace pathway
