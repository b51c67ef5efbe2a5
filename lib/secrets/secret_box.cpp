// SecretBox: AES-256-GCM through OpenSSL EVP.
#include "secrets/secret_box.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>

namespace h2r {

namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}
unsigned char* bytes_of(std::string& text) { return reinterpret_cast<unsigned char*>(text.data()); }

// Never says anything about the contents: only what a person should check.
Unexpected<Error> open_failed() {
  return fail(ErrorKind::permanent,
              "the stored client secret cannot be decrypted: the key file may have changed since it was "
              "stored, or the stored value is damaged; store the secret again (connection update "
              "--client-secret-stdin)");
}

} // namespace

Result<std::string> SecretBox::seal(const Secret& clear, std::string_view associated_data) const {
  const std::string& plain = clear.reveal();
  if (plain.size() > INT_MAX / 2 || associated_data.size() > INT_MAX / 2)
    return fail(ErrorKind::invalid, "the secret is too large to encrypt");
  std::string blob(1 + k_nonce_bytes + plain.size() + k_tag_bytes, '\0');
  blob[0] = static_cast<char>(k_version);
  unsigned char* nonce = bytes_of(blob) + 1;
  unsigned char* out = nonce + k_nonce_bytes;
  if (RAND_bytes(nonce, static_cast<int>(k_nonce_bytes)) != 1)
    return fail(ErrorKind::permanent, "cannot encrypt the secret: no random bytes for the nonce");

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int total = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(k_nonce_bytes), nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, m_key.data(), nonce) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(associated_data),
                              static_cast<int>(associated_data.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), out, &len, bytes_of(plain), static_cast<int>(plain.size())) == 1;
  if (ok) {
    total = len;
    ok = EVP_EncryptFinal_ex(ctx.get(), out + total, &len) == 1;
    total += len;
  }
  ok = ok && static_cast<std::size_t>(total) == plain.size() &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(k_tag_bytes), out + total) == 1;
  if (!ok) {
    OPENSSL_cleanse(blob.data(), blob.size());
    return fail(ErrorKind::permanent, "cannot encrypt the secret: OpenSSL AES-256-GCM failed");
  }
  return blob;
}

Result<Secret> SecretBox::open(std::string_view blob, std::string_view associated_data) const {
  if (blob.size() < 1 + k_nonce_bytes + k_tag_bytes || blob.size() > INT_MAX / 2 ||
      associated_data.size() > INT_MAX / 2)
    return open_failed();
  if (static_cast<unsigned char>(blob[0]) != k_version)
    return fail(ErrorKind::permanent, "the stored client secret has an unknown format version; store it again");
  const unsigned char* nonce = bytes_of(blob) + 1;
  const unsigned char* cipher = nonce + k_nonce_bytes;
  std::size_t cipher_size = blob.size() - 1 - k_nonce_bytes - k_tag_bytes;
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; copy the tag rather than cast constness away.
  std::array<unsigned char, k_tag_bytes> tag{};
  std::copy(cipher + cipher_size, cipher + cipher_size + k_tag_bytes, tag.begin());

  std::string plain(cipher_size, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int total = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(k_nonce_bytes), nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, m_key.data(), nonce) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(associated_data),
                              static_cast<int>(associated_data.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), bytes_of(plain), &len, cipher, static_cast<int>(cipher_size)) == 1;
  if (ok) {
    total = len;
    ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(k_tag_bytes), tag.data()) == 1 &&
         EVP_DecryptFinal_ex(ctx.get(), bytes_of(plain) + total, &len) == 1;
    total += len;
  }
  if (!ok || static_cast<std::size_t>(total) != cipher_size) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return open_failed();
  }
  Secret secret(std::move(plain));
  OPENSSL_cleanse(plain.data(), plain.capacity()); // a short string's bytes stay in its local buffer
  return secret;
}

} // namespace h2r
