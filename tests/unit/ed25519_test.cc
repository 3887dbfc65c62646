#include "crypto/ed25519.h"
#include "crypto/openssl_ptr.h"
#include "../test_keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace chatalot {
namespace {

using Pkey = PkeyPtr;

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// y as 32 little-endian bytes, with the x sign bit set when asked.
std::string encode_y(unsigned y, bool x_sign = false) {
  std::string out(32, '\0');
  out[0] = static_cast<char>(y & 0xFFU);
  out[1] = static_cast<char>((y >> 8) & 0xFFU);
  if (x_sign) out[31] = static_cast<char>(0x80);
  return out;
}

// p + k for small k: p = 2^255 - 19 is ed ff .. ff 7f little-endian.
std::string p_plus(unsigned k, bool x_sign = false) {
  std::string out(32, static_cast<char>(0xFF));
  out[0] = static_cast<char>(0xED + k);
  out[31] = static_cast<char>(x_sign ? 0xFF : 0x7F);
  return out;
}

struct KeyPair {
  Pkey key;
  std::string public_key;
};

KeyPair generate() {
  Pkey key = testing::new_ed25519_key();
  EXPECT_NE(key, nullptr);
  std::string public_key = testing::raw_public_key(key.get());
  return {std::move(key), std::move(public_key)};
}

using testing::sign;

// RFC 8032 section 7.1, tests 1 and 2.
constexpr std::string_view kRfcKey1 =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kRfcSignature1 =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
    "6bd25bf5f0595bbe24655141438e7a100b";
constexpr std::string_view kRfcKey2 =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
constexpr std::string_view kRfcSignature2 =
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d"
    "8c387b2eaeb4302aeeb00d291612bb0c00";

TEST(Ed25519PointTest, AcceptsRfc8032Keys) {
  EXPECT_TRUE(ed25519_point_is_valid(from_hex(kRfcKey1)));
  EXPECT_TRUE(ed25519_point_is_valid(from_hex(kRfcKey2)));
}

TEST(Ed25519PointTest, AcceptsGeneratedKeys) {
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(ed25519_point_is_valid(generate().public_key));
  }
}

TEST(Ed25519PointTest, RejectsWrongSizes) {
  const std::string key = from_hex(kRfcKey1);
  EXPECT_FALSE(ed25519_point_is_valid(""));
  EXPECT_FALSE(ed25519_point_is_valid(key.substr(0, 31)));
  EXPECT_FALSE(ed25519_point_is_valid(key + '\0'));
}

TEST(Ed25519PointTest, MatchesCurveEquationForSmallY) {
  // For y < 40, whether (y^2 - 1) / (d y^2 + 1) is a square mod p, worked out independently of
  // this code with arbitrary-precision integers.
  const std::vector<unsigned> kNotOnCurve = {2, 7, 8, 11, 12, 13, 17, 20, 22, 31, 34, 36, 38};
  for (unsigned y = 0; y < 40; ++y) {
    const bool expected = std::find(kNotOnCurve.begin(), kNotOnCurve.end(), y) == kNotOnCurve.end();
    EXPECT_EQ(ed25519_point_is_valid(encode_y(y)), expected) << "y = " << y;
  }
  // The other sign of x is as valid, except where x = 0 (y = 1).
  EXPECT_TRUE(ed25519_point_is_valid(encode_y(3, true)));
  EXPECT_FALSE(ed25519_point_is_valid(encode_y(2, true)));
}

TEST(Ed25519PointTest, RejectsXZeroWithSignBit) {
  EXPECT_TRUE(ed25519_point_is_valid(encode_y(1)));
  EXPECT_FALSE(ed25519_point_is_valid(encode_y(1, true)));
  // y = p - 1 also gives x = 0.
  std::string p_minus_1 = p_plus(0);
  p_minus_1[0] = static_cast<char>(0xEC);
  EXPECT_TRUE(ed25519_point_is_valid(p_minus_1));
  p_minus_1[31] = static_cast<char>(0xFF);
  EXPECT_FALSE(ed25519_point_is_valid(p_minus_1));
}

TEST(Ed25519PointTest, RejectsNonCanonicalY) {
  for (unsigned k = 0; k <= 18; ++k) {
    EXPECT_FALSE(ed25519_point_is_valid(p_plus(k))) << "y = p + " << k;
    EXPECT_FALSE(ed25519_point_is_valid(p_plus(k, true))) << "y = p + " << k;
  }
  EXPECT_FALSE(ed25519_point_is_valid(std::string(32, static_cast<char>(0xFF))));
}

TEST(Ed25519PointTest, IsThreadSafe) {
  const std::string key = from_hex(kRfcKey1);
  std::array<int, 8> failures{};  // one counter per thread: no shared writes in the test itself
  std::vector<std::thread> threads;
  threads.reserve(failures.size());
  for (int& thread_failures : failures) {
    threads.emplace_back([&key, &thread_failures] {
      for (int i = 0; i < 100; ++i) {
        if (!ed25519_point_is_valid(key) || ed25519_point_is_valid(encode_y(2))) ++thread_failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const int f : failures) EXPECT_EQ(f, 0);
}

TEST(Ed25519VerifyTest, Rfc8032Vectors) {
  EXPECT_TRUE(ed25519_verify(from_hex(kRfcKey1), "", from_hex(kRfcSignature1)));
  EXPECT_TRUE(ed25519_verify(from_hex(kRfcKey2), from_hex("72"), from_hex(kRfcSignature2)));
  EXPECT_FALSE(ed25519_verify(from_hex(kRfcKey2), "", from_hex(kRfcSignature1)));
}

TEST(Ed25519VerifyTest, GoodSignatureVerifies) {
  const KeyPair pair = generate();
  const std::string message(32, '\x5A');
  EXPECT_TRUE(ed25519_verify(pair.public_key, message, sign(pair.key.get(), message)));
}

TEST(Ed25519VerifyTest, FlippedBitInSignatureFails) {
  const KeyPair pair = generate();
  const std::string message = "signed prekey bytes";
  const std::string signature = sign(pair.key.get(), message);
  for (std::size_t bit : {0U, 7U, 255U, 256U, 511U}) {
    std::string bad = signature;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(ed25519_verify(pair.public_key, message, bad)) << "bit " << bit;
  }
}

TEST(Ed25519VerifyTest, FlippedBitInMessageFails) {
  const KeyPair pair = generate();
  const std::string message = "signed prekey bytes";
  const std::string signature = sign(pair.key.get(), message);
  std::string bad = message;
  bad[3] = static_cast<char>(bad[3] ^ 0x01);
  EXPECT_FALSE(ed25519_verify(pair.public_key, bad, signature));
}

TEST(Ed25519VerifyTest, OtherKeyFails) {
  const KeyPair pair = generate();
  const std::string signature = sign(pair.key.get(), "m");
  EXPECT_FALSE(ed25519_verify(generate().public_key, "m", signature));
}

TEST(Ed25519VerifyTest, WrongSizesFail) {
  const KeyPair pair = generate();
  const std::string signature = sign(pair.key.get(), "m");
  EXPECT_FALSE(ed25519_verify(pair.public_key.substr(0, 31), "m", signature));
  EXPECT_FALSE(ed25519_verify(pair.public_key + '\0', "m", signature));
  EXPECT_FALSE(ed25519_verify(pair.public_key, "m", signature.substr(0, 63)));
  EXPECT_FALSE(ed25519_verify(pair.public_key, "m", signature + '\0'));
  EXPECT_FALSE(ed25519_verify("", "m", ""));
}

TEST(Ed25519VerifyTest, InvalidPointKeyFails) {
  const std::string not_on_curve = encode_y(2);
  ASSERT_FALSE(ed25519_point_is_valid(not_on_curve));
  EXPECT_FALSE(ed25519_verify(not_on_curve, "m", std::string(64, '\x01')));
}

TEST(Ed25519VerifyTest, NonCanonicalKeyFailsWhereItsCanonicalTwinVerifies) {
  // With the neutral point as key, R = neutral and S = 0 verify for any message. OpenSSL reads
  // y = p + 1 as y = 1, so only the point check stops the second encoding of that key.
  std::string signature(64, '\0');
  signature[0] = '\x01';
  EXPECT_TRUE(ed25519_verify(encode_y(1), "any message", signature));
  EXPECT_FALSE(ed25519_verify(p_plus(1), "any message", signature));
}

}  // namespace
}  // namespace chatalot

namespace chatalot {
namespace {

TEST(Ed25519SmallOrderTest, TheEightSmallOrderPointsDecodeButAreFlagged) {
  for (const char* hex : {"0100000000000000000000000000000000000000000000000000000000000000",
                          "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                          "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
                          "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"}) {
    const std::string key = from_hex(hex);
    EXPECT_TRUE(ed25519_point_is_valid(key)) << hex;
    EXPECT_TRUE(ed25519_is_small_order(key)) << hex;
  }
  const std::string rfc8032 =
      from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_FALSE(ed25519_is_small_order(rfc8032));
  EXPECT_FALSE(ed25519_is_small_order("short"));
}

}  // namespace
}  // namespace chatalot
