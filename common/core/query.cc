#include "core/query.h"

#include "core/text.h"

namespace chatalot {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded: %XX and '+' for a blank; nullopt when an escape is broken
// or the result is not UTF-8.
std::optional<std::string> form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] != '%') {
      out += text[i];
    } else {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  if (!is_valid_utf8(out)) return std::nullopt;
  return out;
}

}  // namespace

Result<std::optional<std::string>> query_parameter(std::string_view query_string,
                                                   std::string_view name, Message bad_value) {
  std::optional<std::string> value;
  while (!query_string.empty()) {
    const std::size_t amp = query_string.find('&');
    const std::string_view pair = query_string.substr(0, amp);
    query_string = amp == std::string_view::npos ? "" : query_string.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    const std::optional<std::string> key = form_decode(pair.substr(0, eq));
    if (!key || *key != name) continue;
    value = eq == std::string_view::npos ? std::optional<std::string>("")
                                         : form_decode(pair.substr(eq + 1));
    if (!value) return invalid_argument(bad_value);
  }
  return value;
}

}  // namespace chatalot
