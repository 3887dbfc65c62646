#include "crypto/password.h"

#include <argon2.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace chatalot {
namespace {

using std::chrono::milliseconds;

// The floor keeps each hash at a few tens of milliseconds.
constexpr Argon2Params kFloor{kMinArgon2MemoryKib, kMinArgon2Iterations};
constexpr std::string_view kPassword = "Correct-Horse-Battery-9";

std::string hash_or_fail(std::string_view password) {
  Result<std::string> phc = hash_password(password, kFloor);
  EXPECT_TRUE(phc.is_ok()) << phc.status().describe();
  return phc.is_ok() ? phc.value() : std::string();
}

// A PHC string made by the reference implementation, as another Argon2id server would store it.
std::string libargon2_phc(argon2_type type, std::string_view password) {
  const std::string salt = "sixteen byte sal";
  std::string out(argon2_encodedlen(kFloor.iterations, kFloor.memory_kib, 1,
                                    static_cast<std::uint32_t>(salt.size()), 32, type),
                  '\0');
  const int rc = argon2_hash(kFloor.iterations, kFloor.memory_kib, 1, password.data(),
                             password.size(), salt.data(), salt.size(), nullptr, 32, out.data(),
                             out.size(), type, ARGON2_VERSION_13);
  EXPECT_EQ(rc, ARGON2_OK) << argon2_error_message(rc);
  out.resize(out.find('\0'));
  return out;
}

TEST(HashPassword, ProducesArgon2idPhcStringAtTheGivenCost) {
  const std::string phc = hash_or_fail(kPassword);
  const std::regex format(R"(^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$)");
  EXPECT_TRUE(std::regex_match(phc, format)) << phc;
  // Unpadded base64 of a 16-byte salt is 22 characters, of a 32-byte hash 43.
  const std::size_t hash_start = phc.rfind('$');
  const std::size_t salt_start = phc.rfind('$', hash_start - 1);
  EXPECT_EQ(hash_start - salt_start - 1, 22u) << phc;
  EXPECT_EQ(phc.size() - hash_start - 1, 43u) << phc;
}

TEST(HashPassword, DefaultCostIsTheSpecDefault) {
  const Argon2Params defaults;
  EXPECT_EQ(defaults.memory_kib, 64u * 1024);
  EXPECT_EQ(defaults.iterations, 3u);
}

TEST(HashPassword, RefusesCostBelowTheFloor) {
  Result<std::string> low_memory = hash_password(kPassword, {kMinArgon2MemoryKib - 1, 2});
  ASSERT_FALSE(low_memory.is_ok());
  EXPECT_EQ(low_memory.status().code(), Code::kInternal);
  Result<std::string> few_passes = hash_password(kPassword, {kMinArgon2MemoryKib, 1});
  ASSERT_FALSE(few_passes.is_ok());
  EXPECT_EQ(few_passes.status().code(), Code::kInternal);
}

TEST(VerifyPassword, AcceptsTheRightPasswordAndRejectsAWrongOne) {
  const std::string phc = hash_or_fail(kPassword);
  EXPECT_TRUE(verify_password(phc, kPassword));
  EXPECT_FALSE(verify_password(phc, "Correct-Horse-Battery-8"));
  EXPECT_FALSE(verify_password(phc, "correct-Horse-Battery-9"));
  EXPECT_FALSE(verify_password(phc, ""));
  EXPECT_FALSE(verify_password(phc, std::string(kPassword) + " "));
}

TEST(HashPassword, SamePasswordTwiceGivesDifferentStrings) {
  const std::string first = hash_or_fail(kPassword);
  const std::string second = hash_or_fail(kPassword);
  EXPECT_NE(first, second);
  EXPECT_TRUE(verify_password(first, kPassword));
  EXPECT_TRUE(verify_password(second, kPassword));
}

TEST(HashPassword, MultiByteUtf8PasswordRoundTrips) {
  const std::string password = "Pässwörd-密码-🔑-Ωmega9";
  const std::string phc = hash_or_fail(password);
  EXPECT_TRUE(verify_password(phc, password));
  // One byte off inside a multi-byte character must not match.
  std::string changed = password;
  changed[2] = static_cast<char>(changed[2] ^ 1);
  EXPECT_FALSE(verify_password(phc, changed));
}

TEST(VerifyPassword, MalformedStringsAreFalse) {
  for (const std::string_view phc :
       {"", "garbage", "$", "$argon2id$", "$argon2id$v=19$", "$argon2id$v=19$m=19456,t=2,p=1$$",
        "$argon2id$v=19$m=x,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=19456,t=2,p=1$!!!!$aGFzaGhhc2hoYXNoaGFzaA", "\xff\xfe\x00\x01",
        "$2b$12$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"}) {
    EXPECT_FALSE(verify_password(phc, kPassword)) << phc;
  }
}

TEST(VerifyPassword, EveryTruncationOfARealStringIsFalse) {
  const std::string phc = hash_or_fail(kPassword);
  for (std::size_t n = 0; n < phc.size(); ++n) {
    EXPECT_FALSE(verify_password(std::string_view(phc).substr(0, n), kPassword)) << n;
  }
}

TEST(VerifyPassword, TextAroundARealStringIsFalse) {
  const std::string phc = hash_or_fail(kPassword);
  EXPECT_FALSE(verify_password(" " + phc, kPassword));
  EXPECT_FALSE(verify_password(phc + " ", kPassword));
  EXPECT_FALSE(verify_password(phc + "AAAA", kPassword));
  // A C string would end at the NUL and leave the real hash in front of it.
  EXPECT_FALSE(verify_password(phc + std::string(1, '\0') + "junk", kPassword));
}

TEST(VerifyPassword, OtherArgon2VariantsAreFalseEvenWithTheRightPassword) {
  EXPECT_FALSE(verify_password(libargon2_phc(Argon2_i, kPassword), kPassword));
  EXPECT_FALSE(verify_password(libargon2_phc(Argon2_d, kPassword), kPassword));
}

TEST(VerifyPassword, AcceptsAnArgon2idStringMadeByLibargon2) {
  const std::string phc = libargon2_phc(Argon2_id, kPassword);
  ASSERT_TRUE(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << phc;
  EXPECT_TRUE(verify_password(phc, kPassword));
  EXPECT_FALSE(verify_password(phc, "Correct-Horse-Battery-8"));
}

TEST(HashPassword, StringVerifiesWithLibargon2) {
  const std::string phc = hash_or_fail(kPassword);
  EXPECT_EQ(argon2id_verify(phc.c_str(), kPassword.data(), kPassword.size()), ARGON2_OK);
}

// --- The PasswordHasher port ------------------------------------------------------------------

Argon2Hasher floor_hasher() { return Argon2Hasher(kFloor, 2, milliseconds(5000)); }

std::chrono::microseconds time_of(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

TEST(Argon2Hasher, VerifiesItsOwnHashes) {
  Argon2Hasher hasher = floor_hasher();
  Result<std::string> phc = hasher.hash(kPassword);
  ASSERT_TRUE(phc.is_ok()) << phc.status().describe();
  Result<bool> right = hasher.verify(*phc, kPassword);
  ASSERT_TRUE(right.is_ok());
  EXPECT_TRUE(*right);
  Result<bool> wrong = hasher.verify(*phc, "Correct-Horse-Battery-8");
  ASSERT_TRUE(wrong.is_ok());
  EXPECT_FALSE(*wrong);
}

// SPEC section 3, login: an unknown account costs the same work as a known one, so the time of
// the answer does not tell whether the account exists.
TEST(Argon2Hasher, WithoutAHashItAnswersFalseAfterTheSameWork) {
  Argon2Hasher hasher = floor_hasher();
  const std::string phc = hash_or_fail(kPassword);
  const std::optional<std::string> none;
  Result<bool> unknown = hasher.verify(none, kPassword);  // the first makes the dummy hash
  ASSERT_TRUE(unknown.is_ok()) << unknown.status().describe();
  EXPECT_FALSE(*unknown);
  // Whatever the password, even the empty one.
  for (const std::string_view password : {std::string_view(""), std::string_view("x")}) {
    Result<bool> r = hasher.verify(none, password);
    ASSERT_TRUE(r.is_ok());
    EXPECT_FALSE(*r);
  }
  // The fastest of a few runs of each, so that a busy machine does not decide the comparison.
  auto known_best = std::chrono::microseconds::max();
  auto unknown_best = std::chrono::microseconds::max();
  for (int i = 0; i < 3; ++i) {
    known_best =
        std::min(known_best, time_of([&] { (void)hasher.verify(phc, "wrong-Password-1"); }));
    unknown_best = std::min(unknown_best, time_of([&] { (void)hasher.verify(none, kPassword); }));
  }
  EXPECT_GE(unknown_best * 2, known_best)
      << "unknown " << unknown_best.count() << " us, known " << known_best.count() << " us";
  EXPECT_GE(known_best * 2, unknown_best)
      << "unknown " << unknown_best.count() << " us, known " << known_best.count() << " us";
}

TEST(Argon2Hasher, NeedsRehashOnlyForOtherParameters) {
  const Argon2Hasher hasher = floor_hasher();
  EXPECT_FALSE(hasher.needs_rehash(hash_or_fail(kPassword)));
  EXPECT_FALSE(
      hasher.needs_rehash(libargon2_phc(Argon2_id, kPassword)));  // same cost, other library
  Result<std::string> more_passes = hash_password(kPassword, {kFloor.memory_kib, 3});
  ASSERT_TRUE(more_passes.is_ok());
  EXPECT_TRUE(hasher.needs_rehash(*more_passes));
  Result<std::string> more_memory = hash_password(kPassword, {kFloor.memory_kib * 2, 2});
  ASSERT_TRUE(more_memory.is_ok());
  EXPECT_TRUE(hasher.needs_rehash(*more_memory));
  // A hasher configured with that cost keeps it, and would rehash the floor's.
  const Argon2Hasher stronger(Argon2Params{kFloor.memory_kib * 2, 2}, 1, milliseconds(5000));
  EXPECT_FALSE(stronger.needs_rehash(*more_memory));
  EXPECT_TRUE(stronger.needs_rehash(hash_or_fail(kPassword)));
  // Anything that is no Argon2id string of ours is replaced at the next login.
  for (const std::string_view phc :
       {std::string_view(""), std::string_view("garbage"),
        std::string_view("$2b$12$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui")}) {
    EXPECT_TRUE(hasher.needs_rehash(phc)) << phc;
  }
  EXPECT_TRUE(hasher.needs_rehash(libargon2_phc(Argon2_i, kPassword)));
  EXPECT_TRUE(hasher.needs_rehash(hash_or_fail(kPassword) + std::string(1, '\0')));
}

}  // namespace
}  // namespace chatalot
