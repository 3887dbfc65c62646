#include "core/text.h"

#include <algorithm>

namespace chatalot {

std::string to_hex(std::string_view bytes) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0F];
  }
  return out;
}

std::string_view trim_ascii(std::string_view s) {
  const auto is_blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
  };
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

std::string uuid_v4(std::string_view random16) {
  std::string b(random16.substr(0, 16));
  b.resize(16, '\0');
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  const std::string h = to_hex(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::size_t count_code_points(std::string_view utf8) {
  return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

CodePoint decode_utf8_at(std::string_view s, std::size_t i) {
  constexpr CodePoint kReplacement{0xFFFD, 1};
  const auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return {lead, 1};
  if (lead < 0xC2 || lead > 0xF4) return kReplacement;
  const std::size_t size = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  if (s.size() - i < size) return kReplacement;
  char32_t value = lead & (0x7FU >> size);
  for (std::size_t k = 1; k < size; ++k) {
    const auto next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xC0U) != 0x80U) return kReplacement;
    value = (value << 6) | (next & 0x3FU);
  }
  // Overlong three- and four-byte forms, surrogates, and beyond U+10FFFF are malformed.
  const bool overlong = (size == 3 && value < 0x800) || (size == 4 && value < 0x10000);
  if (overlong || (value >= 0xD800 && value <= 0xDFFF) || value > 0x10FFFF) return kReplacement;
  return {value, size};
}

bool is_valid_utf8(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    const CodePoint c = decode_utf8_at(bytes, i);
    // U+FFFD spelt as its own three bytes is fine; a one-byte "U+FFFD" is a malformed byte.
    if (c.value == 0xFFFD && c.size == 1) return false;
    i += c.size;
  }
  return true;
}

bool has_control_or_bidi(std::string_view utf8) {
  for (std::size_t i = 0; i < utf8.size();) {
    const CodePoint c = decode_utf8_at(utf8, i);
    if (is_control(c.value) || is_bidi_control(c.value)) return true;
    i += c.size;
  }
  return false;
}

std::string escape_for_terminal(std::string_view utf8) {
  constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < utf8.size();) {
    const CodePoint c = decode_utf8_at(utf8, i);
    if (c.value == 0xFFFD && c.size == 1) {
      const auto b = static_cast<unsigned char>(utf8[i]);
      out += std::string("\\x{") + kDigits[b >> 4] + kDigits[b & 15] + "}";
    } else if (is_control(c.value) || is_bidi_control(c.value)) {
      std::string hex;
      for (char32_t v = c.value; hex.size() < 4 || v != 0; v >>= 4) hex.insert(hex.begin(), kDigits[v & 15]);
      out += "\\u{" + hex + "}";
    } else if (c.value == '\\') {
      out += "\\\\";
    } else {
      out.append(utf8, i, c.size);
    }
    i += c.size;
  }
  return out;
}

}  // namespace chatalot
