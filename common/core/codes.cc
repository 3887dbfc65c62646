#include "core/codes.h"

#include "core/text.h"

namespace chatalot {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::string_view kRecoveryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
constexpr std::size_t kInviteCodeLength = 28;  // 28 characters x 5 bits = 140 bits
constexpr std::size_t kRecoveryCodeLength = 16;
constexpr std::size_t kGroupSize = 4;
constexpr std::size_t kRefreshTokenBytes = 32;
// Real codes are 34 characters; a bound keeps a pasted novel from being scanned.
constexpr std::size_t kMaxInviteInput = 256;

// count characters drawn uniformly from alphabet. Bytes at or above the largest multiple of
// the alphabet size are redrawn, so no character is favoured (no modulo bias); for the 32
// character alphabets used here nothing is ever redrawn.
Result<std::string> random_string(Random& random, std::string_view alphabet, std::size_t count) {
  const std::size_t limit = 256 - 256 % alphabet.size();
  std::string out;
  out.reserve(count);
  while (out.size() < count) {
    Result<std::string> bytes = random.bytes(count - out.size());
    if (!bytes.is_ok()) return bytes.status();
    for (const char c : *bytes) {
      const auto b = static_cast<unsigned char>(c);
      if (b < limit) out += alphabet[b % alphabet.size()];
    }
  }
  return out;
}

std::string dashed(std::string_view chars) {
  std::string out;
  out.reserve(chars.size() + chars.size() / kGroupSize);
  for (std::size_t i = 0; i < chars.size(); ++i) {
    if (i > 0 && i % kGroupSize == 0) out += '-';
    out += chars[i];
  }
  return out;
}

// Blanks a user may paste along with a code, line breaks included.
bool is_ignorable(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '-'; }

}  // namespace

Result<std::string> generate_invite_code(Random& random) {
  Result<std::string> chars = random_string(random, kCrockford, kInviteCodeLength);
  if (!chars.is_ok()) return chars.status();
  return dashed(*chars);
}

std::string normalize_invite_code(std::string_view input) {
  if (input.size() > kMaxInviteInput) return "";
  std::string out;
  out.reserve(input.size());
  for (char c : input) {
    if (is_ignorable(c)) continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    // Crockford's aliases for the letters left out because they look like digits.
    if (c == 'I' || c == 'L') c = '1';
    if (c == 'O') c = '0';
    if (kCrockford.find(c) == std::string_view::npos) return "";
    out += c;
  }
  return out;
}

Result<std::string> generate_recovery_code(Random& random) {
  Result<std::string> chars = random_string(random, kRecoveryAlphabet, kRecoveryCodeLength);
  if (!chars.is_ok()) return chars.status();
  return dashed(*chars);
}

std::string normalize_recovery_code(std::string_view input) {
  if (input.size() > kMaxInviteInput) return "";
  std::string chars;
  for (char c : input) {
    if (is_ignorable(c)) continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (kRecoveryAlphabet.find(c) == std::string_view::npos) return "";
    chars += c;
  }
  return chars.size() == kRecoveryCodeLength ? dashed(chars) : "";
}

bool is_refresh_token(std::string_view text) {
  return text.size() == kRefreshTokenBytes * 2 &&
         text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Result<std::string> generate_refresh_token(Random& random) {
  Result<std::string> bytes = random.bytes(kRefreshTokenBytes);
  if (!bytes.is_ok()) return bytes.status();
  return to_hex(*bytes);
}

}  // namespace chatalot
