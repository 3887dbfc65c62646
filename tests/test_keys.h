// Ed25519 keys and signatures for tests, made with OpenSSL directly (not with the code under
// test), as a client would make them.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "crypto/openssl_ptr.h"

namespace chatalot::testing {

inline PkeyPtr new_ed25519_key() { return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }

inline std::string raw_public_key(EVP_PKEY* key) {
  std::string out(32, '\0');
  std::size_t size = out.size();
  EXPECT_EQ(EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(out.data()), &size),
            1);
  return out;
}

inline std::string sign(EVP_PKEY* key, std::string_view message) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string signature(64, '\0');
  std::size_t size = signature.size();
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key), 1);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size()),
            1);
  EXPECT_EQ(size, 64U);
  return signature;
}

}  // namespace chatalot::testing
