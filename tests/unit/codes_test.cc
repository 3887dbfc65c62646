#include "core/codes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "crypto/crypto.h"

namespace chatalot {
namespace {

OpenSslRandom g_random;

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::string_view kRecoveryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

std::string without_dashes(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  return s;
}

// Every character of the alphabet shows up, none far from its fair share: a broken mapping
// (a character never drawn, or one drawn twice as often) fails this by many standard deviations.
void expect_uniform_over(std::string_view alphabet, const std::string& drawn) {
  std::map<char, int> counts;
  for (const char c : drawn) ++counts[c];
  EXPECT_EQ(counts.size(), alphabet.size());
  const double fair = static_cast<double>(drawn.size()) / static_cast<double>(alphabet.size());
  for (const char c : alphabet) {
    EXPECT_GT(counts[c], 0.8 * fair) << c;
    EXPECT_LT(counts[c], 1.2 * fair) << c;
  }
}

TEST(InviteCode, IsSevenDashedGroupsOfCrockfordBase32) {
  static const std::regex kFormat("^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$");
  for (int i = 0; i < 100; ++i) {
    Result<std::string> code = generate_invite_code(g_random);
    ASSERT_TRUE(code.is_ok()) << code.status().describe();
    EXPECT_EQ(code->size(), 34U);
    EXPECT_TRUE(std::regex_match(*code, kFormat)) << *code;
  }
}

TEST(InviteCode, ThousandCodesAreDistinctAndUseTheWholeAlphabet) {
  std::set<std::string> seen;
  std::string chars;
  for (int i = 0; i < 1000; ++i) {
    Result<std::string> code = generate_invite_code(g_random);
    ASSERT_TRUE(code.is_ok());
    seen.insert(*code);
    chars += without_dashes(*code);
  }
  EXPECT_EQ(seen.size(), 1000U);
  expect_uniform_over(kCrockford, chars);
}

TEST(InviteCode, GeneratedCodeNormalisesToItsCharacters) {
  Result<std::string> code = generate_invite_code(g_random);
  ASSERT_TRUE(code.is_ok());
  EXPECT_EQ(normalize_invite_code(*code), without_dashes(*code));
}

TEST(NormalizeInviteCode, IgnoresCaseBlanksAndDashes) {
  EXPECT_EQ(normalize_invite_code("7k2m-q9xa"), "7K2MQ9XA");
  EXPECT_EQ(normalize_invite_code("  7K2M Q9XA  "), "7K2MQ9XA");
  EXPECT_EQ(normalize_invite_code("7K2M--Q9XA"), "7K2MQ9XA");
  EXPECT_EQ(normalize_invite_code("\t7K2M-\r\nQ9XA\n"), "7K2MQ9XA");
  EXPECT_EQ(normalize_invite_code("7K2MQ9XA"), "7K2MQ9XA");
}

TEST(NormalizeInviteCode, MapsCrockfordAliases) {
  EXPECT_EQ(normalize_invite_code("IiLlOo"), "111100");
  EXPECT_EQ(normalize_invite_code("1O0L"), "1001");
}

TEST(NormalizeInviteCode, RejectsCharactersOutsideTheAlphabet) {
  const std::vector<std::string> bad_inputs = {"U",
                                               "7K2M-Q9XU",
                                               "u",
                                               "7K2M_Q9XA",
                                               "7K2M.Q9XA",
                                               "7K2M!",
                                               "*",
                                               "7K2M/Q9XA",
                                               "\u00c4BCD",       // A with diaeresis
                                               "7K2M\u2013Q9XA",  // en dash
                                               "7K2M\u00a0Q9XA",  // no-break space
                                               std::string("7K2M\0Q9XA", 9)};
  for (const std::string& bad : bad_inputs) {
    EXPECT_EQ(normalize_invite_code(bad), "") << bad;
  }
}

TEST(NormalizeInviteCode, RejectsEmptyAndOverlongInput) {
  EXPECT_EQ(normalize_invite_code(""), "");
  EXPECT_EQ(normalize_invite_code(" - -\t"), "");
  EXPECT_EQ(normalize_invite_code(std::string(256, 'A')), std::string(256, 'A'));
  EXPECT_EQ(normalize_invite_code(std::string(257, 'A')), "");
  EXPECT_EQ(normalize_invite_code(std::string(257, ' ') + "ABCD"), "");
}

TEST(InviteCodeHash, IsTheSha256OfTheNormalisedCode) {
  EXPECT_EQ(sha256_hex("7K2MQ9XA"), sha256_hex("7K2MQ9XA"));
  EXPECT_EQ(sha256_hex("ABC"),
            "b5d4045c3f466fa91fe2cc6abe79232a1a57cdf104f7a26e716e0a1e2789df78");
  // What a user types and what was printed meet at the same stored hash.
  Result<std::string> code = generate_invite_code(g_random);
  ASSERT_TRUE(code.is_ok());
  std::string typed = *code;
  std::transform(typed.begin(), typed.end(), typed.begin(), [](char c) {
    return c == '-' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  EXPECT_EQ(sha256_hex(normalize_invite_code(typed)),
            sha256_hex(normalize_invite_code(*code)));
  EXPECT_EQ(sha256_hex(normalize_invite_code(*code)).size(), 64U);
}

TEST(RecoveryCode, IsFourDashedGroupsFromItsAlphabet) {
  static const std::regex kFormat("^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$");
  std::set<std::string> seen;
  std::string chars;
  for (int i = 0; i < 2000; ++i) {
    Result<std::string> code = generate_recovery_code(g_random);
    ASSERT_TRUE(code.is_ok()) << code.status().describe();
    ASSERT_EQ(code->size(), 19U);
    EXPECT_TRUE(std::regex_match(*code, kFormat)) << *code;
    seen.insert(*code);
    chars += without_dashes(*code);
  }
  EXPECT_EQ(seen.size(), 2000U);
  // Letters that read like digits (I, O) and the digits 0 and 1 never appear.
  EXPECT_EQ(chars.find_first_of("IO01"), std::string::npos);
  expect_uniform_over(kRecoveryAlphabet, chars);
}

TEST(RefreshToken, Is64LowerCaseHexAndUnique) {
  static const std::regex kFormat("^[0-9a-f]{64}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    Result<std::string> token = generate_refresh_token(g_random);
    ASSERT_TRUE(token.is_ok()) << token.status().describe();
    EXPECT_TRUE(std::regex_match(*token, kFormat)) << *token;
    seen.insert(*token);
  }
  EXPECT_EQ(seen.size(), 1000U);
}

}  // namespace
}  // namespace chatalot
