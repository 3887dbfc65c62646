#include "http/render.h"

#include "core/log.h"
#include "http/json_writer.h"

namespace chatalot {
namespace {

constexpr ErrorKind kKinds[] = {
    {Code::kInvalidArgument, 400, "validation_error"},
    {Code::kUnauthenticated, 401, "unauthorized"},
    {Code::kPermissionDenied, 403, "forbidden"},
    {Code::kNotFound, 404, "not_found"},
    {Code::kUnsupportedOperation, 405, "method_not_allowed"},
    {Code::kAlreadyExists, 409, "conflict"},
    {Code::kTooLarge, 413, "payload_too_large"},
    {Code::kUnsupportedFormat, 415, "unsupported_media_type"},
    {Code::kResourceExhausted, 429, "rate_limited"},
    // Never a client's doing: a deployment problem shows as the fixed 500.
    {Code::kFailedPrecondition, 500, "internal_error"},
    {Code::kInternal, 500, "internal_error"},
    {Code::kUnavailable, 503, "service_unavailable"},
};

}  // namespace

std::span<const ErrorKind> error_kinds() { return kKinds; }

const ErrorKind& error_kind(Code code) {
  for (const ErrorKind& k : kKinds) {
    if (k.code == code) return k;
  }
  return error_kind(Code::kInternal);  // kOk is no error: render it as one, never as a 200
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}

Response render_error(const Status& status, std::string_view request_id) {
  const ErrorKind& kind = error_kind(status.code());
  // 500 always carries the fixed message: whatever went wrong is the log's.
  const std::string_view message =
      kind.http_status == 500 ? Msg::kInternal.text() : std::string_view(status.message());
  if (kind.http_status >= 500) {
    log_error(std::string(kind.name) + ": " + status.describe() +
              " request_id=" + std::string(request_id.empty() ? "-" : request_id));
  }
  JsonWriter w;
  w.start_object();
  w.key("error");
  w.start_object();
  w.field("code", kind.name);
  w.field("message", message);
  w.end_object();
  w.end_object();
  Response response{kind.http_status, {}, w.take()};
  if (status.code() == Code::kUnsupportedOperation && !status.allow().empty()) {
    response.headers.emplace_back("Allow", status.allow());
  }
  if (status.code() == Code::kUnauthenticated) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (status.code() == Code::kResourceExhausted || status.code() == Code::kUnavailable) {
    const int seconds = status.retry_after() > 0 ? status.retry_after() : kDefaultRetryAfterSeconds;
    response.headers.emplace_back("Retry-After", std::to_string(seconds));
  }
  return response;
}

Response json_response(std::string body) { return Response{200, {}, std::move(body)}; }

Response render(const Status& status, std::string_view request_id) {
  if (!status.is_ok()) return render_error(status, request_id);
  return json_response("{}");
}

}  // namespace chatalot
