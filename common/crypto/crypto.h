// Small cryptographic helpers over OpenSSL: CSPRNG bytes, hex, SHA-256, base64url, and an
// Ed25519 key holder used for access tokens. Thread-safe (OpenSSL 3 is, and no state is shared).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/ports.h"
#include "core/status.h"

typedef struct evp_pkey_st EVP_PKEY;  // NOLINT(modernize-use-using): OpenSSL's own declaration

namespace chatalot {

// n bytes from OpenSSL's CSPRNG (RAND_bytes). kUnavailable if the generator fails.
Result<std::string> random_bytes(std::size_t n);

// The Random port over random_bytes().
class OpenSslRandom final : public Random {
 public:
  Result<std::string> bytes(std::size_t n) override { return random_bytes(n); }
};

std::string sha256(std::string_view data);          // 32 raw bytes
// 64 hex characters: what the stores keep of a secret (invite codes, refresh tokens,
// recovery codes), never the secret itself.
std::string sha256_hex(std::string_view data);
std::string base64url_encode(std::string_view bytes);                  // no padding
Result<std::string> base64url_decode(std::string_view text);          // no padding accepted

// An Ed25519 key pair or public key, owning its EVP_PKEY (for the PEM files) and its raw bytes:
// tokens are signed and verified with libsodium, two to three times as fast as OpenSSL's EVP
// path, which looks its algorithm up on every call (tests/bench/run, refresh and account/me).
// Move-only; the private bytes are wiped when the key goes.
class Ed25519Key {
 public:
  static Result<Ed25519Key> generate();
  // PEM files as written by write_*_pem (PKCS#8 private, SubjectPublicKeyInfo public).
  static Result<Ed25519Key> load_private_pem(const std::string& path);
  static Result<Ed25519Key> load_public_pem(const std::string& path);

  // Writes the PEM file; the private key file is created with mode 0600, the public with 0644.
  // Refuses to overwrite an existing file (kAlreadyExists).
  Status write_private_pem(const std::string& path) const;
  Status write_public_pem(const std::string& path) const;

  Ed25519Key(Ed25519Key&&) noexcept = default;
  Ed25519Key& operator=(Ed25519Key&&) noexcept = default;
  ~Ed25519Key();

  bool has_private() const { return has_private_; }
  // Signature over message (64 bytes). Requires the private key.
  Result<std::string> sign(std::string_view message) const;
  bool verify(std::string_view message, std::string_view signature) const;

 private:
  struct Free {
    void operator()(EVP_PKEY* key) const;
  };
  // The raw bytes of key (its public half only unless has_private).
  static Result<Ed25519Key> from(EVP_PKEY* key, bool has_private);
  Ed25519Key(EVP_PKEY* key, bool has_private) : key_(key), has_private_(has_private) {}
  std::unique_ptr<EVP_PKEY, Free> key_;
  bool has_private_ = false;
  std::string public_;  // 32 bytes
  std::string secret_;  // libsodium's 64-byte secret key (seed and public key); empty if none
};

}  // namespace chatalot
