#include "crypto/ed25519.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <memory>

#include "core/text.h"
#include "crypto/openssl_ptr.h"

namespace chatalot {
namespace {

constexpr std::size_t kPublicKeySize = 32;
constexpr std::size_t kSignatureSize = 64;

using Bn = BnPtr;

// A rejected key or signature is an answer, not a failure: whatever OpenSSL queues while
// finding that out is dropped, so it cannot surface later in an unrelated caller's error report.
class ErrorQueueMark {
 public:
  ErrorQueueMark() { ERR_set_mark(); }
  ~ErrorQueueMark() { ERR_pop_to_mark(); }
  ErrorQueueMark(const ErrorQueueMark&) = delete;
  ErrorQueueMark& operator=(const ErrorQueueMark&) = delete;
};

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

bool ed25519_point_is_valid(std::string_view public_key) {
  if (public_key.size() != kPublicKeySize) return false;
  ErrorQueueMark mark;

  std::array<unsigned char, kPublicKeySize> y_le{};
  std::memcpy(y_le.data(), public_key.data(), y_le.size());
  const bool x_is_odd = (y_le.back() & 0x80U) != 0;
  y_le.back() &= 0x7FU;

  const BnCtxPtr ctx(BN_CTX_new());
  // Built per call rather than shared: a few microseconds, and no state crosses threads.
  const Bn p(BN_new()), d(BN_new()), t(BN_new()), y(BN_new()), y2(BN_new()), u(BN_new()),
      v(BN_new()), v_inv(BN_new()), x2(BN_new()), e(BN_new()), x(BN_new()), xx(BN_new());
  if (!ctx || !p || !d || !t || !y || !y2 || !u || !v || !v_inv || !x2 || !e || !x || !xx) {
    return false;
  }

  // p = 2^255 - 19; d = -121665 / 121666 mod p.
  bool ok = BN_set_bit(p.get(), 255) == 1 && BN_sub_word(p.get(), 19) == 1 &&
            BN_set_word(t.get(), 121666) == 1 &&
            BN_mod_inverse(d.get(), t.get(), p.get(), ctx.get()) != nullptr &&
            BN_set_word(t.get(), 121665) == 1 && BN_sub(t.get(), p.get(), t.get()) == 1 &&
            BN_mod_mul(d.get(), d.get(), t.get(), p.get(), ctx.get()) == 1;
  if (!ok) return false;

  if (BN_lebin2bn(y_le.data(), static_cast<int>(y_le.size()), y.get()) == nullptr) return false;
  // A non-canonical y would give a second encoding of the same key.
  if (BN_cmp(y.get(), p.get()) >= 0) return false;

  // x^2 = (y^2 - 1) / (d y^2 + 1). The denominator is never zero on this curve (-1/d is not a
  // square), so a failed inverse can only mean OpenSSL itself failed.
  ok = BN_mod_sqr(y2.get(), y.get(), p.get(), ctx.get()) == 1 &&
       BN_mod_sub(u.get(), y2.get(), BN_value_one(), p.get(), ctx.get()) == 1 &&
       BN_mod_mul(v.get(), d.get(), y2.get(), p.get(), ctx.get()) == 1 &&
       BN_mod_add(v.get(), v.get(), BN_value_one(), p.get(), ctx.get()) == 1 &&
       BN_mod_inverse(v_inv.get(), v.get(), p.get(), ctx.get()) != nullptr &&
       BN_mod_mul(x2.get(), u.get(), v_inv.get(), p.get(), ctx.get()) == 1;
  if (!ok) return false;

  // x = 0 has no negative, so the sign bit must be clear for it.
  if (BN_is_zero(x2.get())) return !x_is_odd;

  // RFC 8032: the candidate x = (x^2)^((p+3)/8) squares to x^2 or to -x^2 (then x * sqrt(-1)
  // is the root) exactly when a root exists. The root itself is not needed, only whether it is.
  ok = BN_copy(e.get(), p.get()) != nullptr && BN_add_word(e.get(), 3) == 1 &&
       BN_rshift(e.get(), e.get(), 3) == 1 &&
       BN_mod_exp(x.get(), x2.get(), e.get(), p.get(), ctx.get()) == 1 &&
       BN_mod_sqr(xx.get(), x.get(), p.get(), ctx.get()) == 1;
  if (!ok) return false;
  if (BN_cmp(xx.get(), x2.get()) == 0) return true;
  if (BN_sub(t.get(), p.get(), x2.get()) != 1) return false;
  return BN_cmp(xx.get(), t.get()) == 0;
}

bool ed25519_is_small_order(std::string_view public_key) {
  // The canonical encodings of the points of order 1, 2, 4 and 8 (y = 1, y = -1, y = 0 with
  // either sign, and the four of order 8).
  static const char* const kSmallOrder[] = {
      "0100000000000000000000000000000000000000000000000000000000000000",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0000000000000000000000000000000000000000000000000000000000000080",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  };
  if (public_key.size() != 32) return false;
  const std::string hex = to_hex(public_key);
  for (const char* bad : kSmallOrder) {
    if (hex == bad) return true;
  }
  return false;
}

bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature) {
  if (public_key.size() != kPublicKeySize || signature.size() != kSignatureSize) return false;
  // OpenSSL reads the key modulo p, so a non-canonical encoding could otherwise verify as the
  // key it aliases.
  if (!ed25519_point_is_valid(public_key)) return false;
  ErrorQueueMark mark;

  const PkeyPtr key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(public_key), public_key.size()));
  if (!key) return false;
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  // Ed25519 hashes internally; it takes no digest and only one-shot verification.
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(message),
                          message.size()) == 1;
}

}  // namespace chatalot
