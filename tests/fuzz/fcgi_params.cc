// FastCGI name-value pairs (the content of PARAMS records, as one stream): decode_params(),
// fill_request(), then the common checks of the request line and headers (check_request) for
// each kind of endpoint, and the bearer token of HTTP_AUTHORIZATION.
//
// Invariants: decoded pairs fit in the input and encode back to pairs that decode the same;
// fill_request() takes the last of each parameter (REQUEST_ID only when it is a safe token), and
// CONTENT_LENGTH is a number or flagged invalid; check_request() answers ok or one of its four refusals, each with a message.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/auth.h"
#include "core/json.h"
#include "http/render.h"
#include "http/fcgi.h"
#include "fuzz.h"

namespace chatalot {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// tests/fcgi_client.h's encoding: 1-byte lengths below 128, 4-byte ones from there.
void append_length(std::string& out, std::size_t n) {
  if (n < 128) {
    out += static_cast<char>(n);
  } else {
    out += static_cast<char>(0x80 | (n >> 24));
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 8) & 0xff);
    out += static_cast<char>(n & 0xff);
  }
}

std::string encode(const Pairs& pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    append_length(out, name.size());
    append_length(out, value.size());
    out += name;
    out += value;
  }
  return out;
}

const std::string* last(const Pairs& pairs, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [n, v] : pairs) {
    if (n == name) found = &v;
  }
  return found;
}

// The refusal as the client gets it: {"error":{"code":...,"message":...}} with the status's
// message, and Allow on a 405.
void check_rendered(const Status& s, const Request& request) {
  const Response r = render_error(s, request.request_id);
  FUZZ_CHECK(r.status == error_kind(s.code()).http_status && r.status >= 400 && r.status < 500);
  if (s.code() == Code::kUnsupportedOperation) {
    FUZZ_CHECK(!r.headers.empty() && r.headers[0].first == "Allow");
  }
  // Whatever the method: a 405 once quoted it as sent, so one that is not UTF-8 made a body that
  // is not JSON (regressions/fcgi_params/405-method-not-utf8).
  Result<rapidjson::Document> body = parse_json_object(r.body);
  FUZZ_CHECK_MSG(body.is_ok(), r.body);
  const auto error = body->FindMember("error");
  FUZZ_CHECK(error != body->MemberEnd() && error->value.IsObject());
  const auto code = error->value.FindMember("code");
  const auto message = error->value.FindMember("message");
  FUZZ_CHECK(code != error->value.MemberEnd() && code->value.IsString() &&
             code->value.GetString() == error_kind(s.code()).name);
  FUZZ_CHECK(message != error->value.MemberEnd() && message->value.IsString() &&
             std::string_view(message->value.GetString(), message->value.GetStringLength()) ==
                 s.message());
}

const EndpointRules kRules[] = {
    {{"GET", "HEAD"}, false},           // GET /api/auth/config
    {{"POST"}, true},                   // register, invite check
    {{"GET", "POST", "DELETE"}, true},  // the admin invites
};

}  // namespace
}  // namespace chatalot

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chatalot;
  const std::string_view input = fuzz::as_text(data, size);
  Pairs pairs;
  if (!decode_params(input, &pairs)) {
    fuzz::trace("params", "malformed");
    return 0;
  }
  fuzz::trace("params", std::to_string(pairs.size()) + " pairs");

  std::size_t bytes = 0;
  for (const auto& [name, value] : pairs) bytes += 2 + name.size() + value.size();
  FUZZ_CHECK(bytes <= size);
  Pairs again;
  FUZZ_CHECK(decode_params(encode(pairs), &again) && again == pairs);

  Request request;
  fill_request(pairs, &request);
  const auto expect = [&](std::string_view name, const std::string& field) {
    const std::string* v = last(pairs, name);
    FUZZ_CHECK(v == nullptr ? field.empty() : field == *v);
  };
  expect("REQUEST_METHOD", request.method);
  expect("DOCUMENT_URI", request.path);
  expect("QUERY_STRING", request.query);
  expect("CONTENT_TYPE", request.content_type);
  // REQUEST_ID is echoed in a header and logged: kept only when it is [A-Za-z0-9._-]{1,64}.
  if (const std::string* id = last(pairs, "REQUEST_ID")) {
    const bool valid = !id->empty() && id->size() <= 64 &&
                       std::all_of(id->begin(), id->end(), [](char c) {
                         return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                       });
    FUZZ_CHECK(request.request_id == (valid ? *id : std::string()));
  } else {
    FUZZ_CHECK(request.request_id.empty());
  }
  expect("REMOTE_ADDR", request.remote_addr);
  expect("HTTP_AUTHORIZATION", request.authorization);
  FUZZ_CHECK(!(request.content_length && request.content_length_invalid));
  // An empty CONTENT_LENGTH (nginx's for a GET) means none: the last non-empty one counts.
  const std::string* length = nullptr;
  for (const auto& [n, v] : pairs) {
    if (n == "CONTENT_LENGTH" && !v.empty()) length = &v;
  }
  if (length == nullptr) {
    FUZZ_CHECK(!request.content_length && !request.content_length_invalid);
  } else {
    FUZZ_CHECK(request.content_length == parse_integer<std::size_t>(*length));
    FUZZ_CHECK(request.content_length_invalid == !request.content_length);
  }
  FUZZ_CHECK(request.body.empty());

  for (const EndpointRules& rules : kRules) {
    const Status s = check_request(request, rules);
    if (s.is_ok()) {
      FUZZ_CHECK(std::find(rules.methods.begin(), rules.methods.end(), request.method) !=
                 rules.methods.end());
      if (rules.json_body && request.method == "POST") {
        FUZZ_CHECK(!request.content_length_invalid);
        FUZZ_CHECK(request.content_length.value_or(0) <= kMaxBodyBytes);
      }
      continue;
    }
    FUZZ_CHECK(!s.message().empty());
    check_rendered(s, request);
    switch (s.code()) {
      case Code::kUnsupportedOperation: FUZZ_CHECK(!s.allow().empty()); break;
      case Code::kUnsupportedFormat:
      case Code::kTooLarge:
      case Code::kInvalidArgument: FUZZ_CHECK(rules.json_body && request.method == "POST"); break;
      default: FUZZ_CHECK(!"an unexpected code from check_request");
    }
  }

  if (const std::optional<std::string_view> token = bearer_token(request.authorization)) {
    FUZZ_CHECK(!token->empty() && token->find(' ') == std::string_view::npos);
  }
  return 0;
}
