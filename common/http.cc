#include "http.h"

#include <algorithm>
#include <cctype>

#include "json.h"
#include "log.h"

namespace chatalot {

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthorized: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnsupportedMediaType: return 415;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kInternal: return 500;
    case ErrorCode::kUnavailable: return 503;
  }
  return 500;
}

std::string_view error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "validation_error";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kMethodNotAllowed: return "method_not_allowed";
    case ErrorCode::kAlreadyExists: return "conflict";
    case ErrorCode::kPayloadTooLarge: return "payload_too_large";
    case ErrorCode::kUnsupportedMediaType: return "unsupported_media_type";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kInternal: return "internal_error";
    case ErrorCode::kUnavailable: return "service_unavailable";
  }
  return "internal_error";
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

Response json_response(std::string body) { return Response{200, {}, std::move(body)}; }

Response error_response(const Status& status) {
  const ErrorCode code = status.is_ok() ? ErrorCode::kInternal : status.code();
  const std::string_view message = code == ErrorCode::kInternal
                                       ? std::string_view("an internal error occurred")
                                       : std::string_view(status.message());
  JsonWriter w;
  w.start_object();
  w.key("error");
  w.start_object();
  w.field("code", error_name(code));
  w.field("message", message);
  w.end_object();
  w.end_object();
  Response response{http_status(code), {}, w.take()};
  // Retry-After is what a client waits before trying again; the handler may set a better one.
  if (code == ErrorCode::kUnavailable) response.headers.emplace_back("Retry-After", "5");
  return response;
}

Response dependency_failure(const Status& status) {
  log_error(status.message());
  if (status.code() == ErrorCode::kUnavailable) {
    return error_response(Status(ErrorCode::kUnavailable, "the service is temporarily unavailable"));
  }
  return error_response(Status(ErrorCode::kInternal, ""));
}

namespace {

// "application/json" with optional parameters ("; charset=utf-8"), any letter case.
bool is_json_media_type(std::string_view content_type) {
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  std::string t;
  for (char c : media) {
    if (c != ' ' && c != '\t') t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return t == "application/json";
}

}  // namespace

Status check_request(const Request& request, const EndpointRules& rules, std::string* allow) {
  if (std::find(rules.methods.begin(), rules.methods.end(), request.method) ==
      rules.methods.end()) {
    std::string list;
    for (const std::string& m : rules.methods) list += (list.empty() ? "" : ", ") + m;
    *allow = list;
    return {ErrorCode::kMethodNotAllowed, "method " + request.method + " is not allowed"};
  }
  // Only a POST carries a body here; a GET or DELETE on the same endpoint needs no media type.
  if (!rules.json_body || request.method != "POST") return Status::ok();
  if (request.content_length_invalid) return invalid_argument("invalid Content-Length");
  if (request.content_length.value_or(0) > kMaxBodyBytes) {
    return {ErrorCode::kPayloadTooLarge, "request body must be at most 65536 bytes"};
  }
  if (!is_json_media_type(request.content_type)) {
    return {ErrorCode::kUnsupportedMediaType, "Content-Type must be application/json"};
  }
  return Status::ok();
}

Response rejection(const Status& status, const std::string& allow) {
  Response response = error_response(status);
  if (status.code() == ErrorCode::kMethodNotAllowed) response.headers.emplace_back("Allow", allow);
  return response;
}

}  // namespace chatalot
