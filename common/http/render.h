// The one place that turns a Status into an HTTP answer (SPEC section 3): the HTTP status, the
// headers that go with it (Allow on 405, Retry-After on 429 and 503, WWW-Authenticate on 401)
// and the JSON body {"error":{"code":...,"message":...}}. The message is the Status's
// client-facing one; the detail goes to the log for 5xx answers only. nginx's own error pages
// (nginx/chatalot.conf) follow the same table; tests/unit/nginx_errors_test.cc compares them.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "http/http.h"

namespace chatalot {

struct ErrorKind {
  Code code;
  int http_status;
  std::string_view name;  // the body's "code"
};

// Every code but kOk, with its HTTP status and name.
std::span<const ErrorKind> error_kinds();
const ErrorKind& error_kind(Code code);
std::string_view reason_phrase(int status);

inline constexpr int kDefaultRetryAfterSeconds = 5;  // 503 without a better estimate

// request_id only labels the log line of a 5xx answer.
Response render_error(const Status& status, std::string_view request_id = {});

// 200 with a JSON body.
Response json_response(std::string body);

// An operation that answers nothing: 200 {} or the error.
Response render(const Status& status, std::string_view request_id);

// A domain result: its value written by `write(const T&) -> std::string`, or the error.
template <typename T, typename Write>
Response render(const Result<T>& result, std::string_view request_id, Write write) {
  if (!result.is_ok()) return render_error(result.status(), request_id);
  return json_response(write(*result));
}

}  // namespace chatalot
