// Small pure text helpers shared by every layer: hex, integers, blanks, UUIDs, code points.
// Thread-safe.
#pragma once

#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chatalot {

std::string to_hex(std::string_view bytes);  // lower case

// The whole text as a decimal integer of type T (an optional leading '-' for signed T);
// nullopt for anything else, blanks and overflow included.
template <typename T>
std::optional<T> parse_integer(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view trim_ascii(std::string_view s);  // ASCII blanks (space, \t, \n, \v, \f, \r)
std::string ascii_lower(std::string_view s);

// Whether text is a UUID in its canonical 8-4-4-4-12 hexadecimal form (either letter case).
bool is_uuid(std::string_view text);

// A version 4 UUID in canonical form from 16 random bytes.
std::string uuid_v4(std::string_view random16);

// Number of Unicode code points in valid UTF-8 text.
std::size_t count_code_points(std::string_view utf8);

// Whether bytes are well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800 to
// U+DFFF, which a JSON parser may produce from a lone "\udc00" escape), nothing above U+10FFFF.
bool is_valid_utf8(std::string_view bytes);

struct CodePoint {
  char32_t value;
  std::size_t size;  // bytes
};

// The code point at s[i] (i < s.size()); a malformed sequence is taken as U+FFFD of one byte, so
// that nothing reads past the end.
CodePoint decode_utf8_at(std::string_view s, std::size_t i);

// C0, DEL and C1.
constexpr bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

// The bidirectional formatting characters that can reorder how text is displayed (Trojan
// Source): LRM, RLM, ALM, LRE..RLO, LRI..PDI.
constexpr bool is_bidi_control(char32_t c) {
  return c == 0x200E || c == 0x200F || c == 0x061C || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2066 && c <= 0x2069);
}

// Whether text holds a control or a bidirectional formatting character.
bool has_control_or_bidi(std::string_view utf8);

// Stored text made safe for a terminal: control and bidirectional characters, and malformed
// bytes, shown as \u{XXXX} (\x{XX} for a byte), a backslash as \\.
std::string escape_for_terminal(std::string_view utf8);

}  // namespace chatalot
