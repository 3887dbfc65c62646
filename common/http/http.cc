#include "http/http.h"

#include <algorithm>

#include "core/text.h"

namespace chatalot {
namespace {

// "application/json" with optional parameters ("; charset=utf-8"), any letter case.
bool is_json_media_type(std::string_view content_type) {
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  std::string t;
  for (const char c : media) {
    if (c != ' ' && c != '\t') t += c;
  }
  return ascii_lower(t) == "application/json";
}

// An HTTP method is a token (RFC 9110 5.6.2); nginx passes nothing else, a direct FastCGI peer
// might (tests/fuzz/regressions/fcgi_params), and the answer must stay valid UTF-8 JSON.
bool is_token(std::string_view s) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

}  // namespace

Status method_not_allowed(std::string_view method, std::string allowed) {
  Status s = is_token(method) ? Status(Code::kUnsupportedOperation, Msg::kMethodNotAllowed, method)
                              : Status(Code::kUnsupportedOperation, Msg::kMethodNotAllowedHere);
  return std::move(s).with_allow(std::move(allowed));
}

Status check_request(const Request& request, const EndpointRules& rules) {
  if (std::find(rules.methods.begin(), rules.methods.end(), request.method) ==
      rules.methods.end()) {
    std::string list;
    for (const std::string& m : rules.methods) list += (list.empty() ? "" : ", ") + m;
    return method_not_allowed(request.method, list);
  }
  // Only a POST or a PUT carries a body here; a GET or DELETE needs no media type.
  if (!rules.json_body || (request.method != "POST" && request.method != "PUT")) return Status::ok();
  if (request.content_length_invalid) return invalid_argument(Msg::kBadContentLength);
  if (request.content_length.value_or(0) > kMaxBodyBytes) {
    return {Code::kTooLarge, Msg::kBodyTooLarge};
  }
  if (!is_json_media_type(request.content_type)) {
    return {Code::kUnsupportedFormat, Msg::kBodyNotJson};
  }
  return Status::ok();
}

}  // namespace chatalot
