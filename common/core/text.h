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

}  // namespace chatalot
