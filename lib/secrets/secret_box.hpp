// Client secrets encrypted at rest: a 32-byte key file and AES-256-GCM (OpenSSL EVP).
// A sealed blob is: version byte (1) + 12-byte random nonce + ciphertext + 16-byte tag. The associated
// data (the connection name) is authenticated but not stored, so a blob copied to another connection
// does not open.
#pragma once

#include "core/error.hpp"
#include "core/secret.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace h2r {

inline constexpr std::size_t k_secret_key_bytes = 32;

// The key bytes. Move-only; cleansed on destruction; deliberately has no way to be printed.
class SecretKey {
public:
  // Takes exactly k_secret_key_bytes bytes; invalid error otherwise.
  static Result<SecretKey> from_bytes(std::string_view bytes);

  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  ~SecretKey();

  const unsigned char* data() const { return m_bytes.data(); }
  static constexpr std::size_t size() { return k_secret_key_bytes; }

private:
  SecretKey() = default;
  std::array<unsigned char, k_secret_key_bytes> m_bytes{};
};

// What load_or_create_key does when the key file is missing.
enum class MissingKey {
  create,   // make a new key: right only while no secret sealed with an earlier key exists
  refuse,   // error (kind invalid, code "key_missing"): secrets sealed with the lost key exist
};

// Reads the key at `path` (exactly 32 bytes). When the file is missing, creates it (O_EXCL, mode 0600,
// fsynced) with 32 random bytes, or (MissingKey::refuse) fails with code "key_missing" and nothing
// created. Refused, with an error naming the file: a symlink, a non-regular file, a file readable or
// writable by group or others (the message says `chmod 600 FILE`), a wrong size.
Result<SecretKey> load_or_create_key(const std::string& path, MissingKey missing = MissingKey::create);

// Seals and opens secrets with one key. Thread-safe (const methods, no shared mutable state).
class SecretBox {
public:
  explicit SecretBox(SecretKey key) : m_key(std::move(key)) {}

  // Encrypts `clear` with a fresh random nonce; the result is binary.
  Result<std::string> seal(const Secret& clear, std::string_view associated_data) const;
  // Decrypts a blob made by seal() with the same key and associated data. A damaged blob, another key
  // or other associated data give a permanent error; its text never contains secret bytes.
  Result<Secret> open(std::string_view blob, std::string_view associated_data) const;

  static constexpr unsigned char k_version = 1;
  static constexpr std::size_t k_nonce_bytes = 12;
  static constexpr std::size_t k_tag_bytes = 16;

private:
  SecretKey m_key;
};

} // namespace h2r
