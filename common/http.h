// Request and Response, owned in memory, and the one place that turns a Status into an HTTP
// status and the JSON error body of SPEC section 3. Pure data and functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "status.h"

namespace chatalot {

inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;

// A request as nginx passed it (FastCGI parameters), copied into owned memory.
struct Request {
  std::string method;      // REQUEST_METHOD
  std::string path;        // DOCUMENT_URI: the normalised path, no query string
  std::string query;       // QUERY_STRING
  std::string content_type;
  std::optional<std::size_t> content_length;  // absent, or a valid decimal CONTENT_LENGTH
  bool content_length_invalid = false;        // present but not a decimal number
  std::string request_id;                     // REQUEST_ID ($request_id)
  std::string remote_addr;                    // REMOTE_ADDR
  std::string authorization;                  // HTTP_AUTHORIZATION
  std::string body;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // JSON, sent with Content-Type: application/json
};

// The status line and error "code" for each ErrorCode (kOk maps to 200 "ok").
int http_status(ErrorCode code);
std::string_view error_name(ErrorCode code);
std::string_view reason_phrase(int status);

// 200 with a JSON body.
Response json_response(std::string body);
// The error body {"error":{"code":...,"message":...}} with its status. 500 always carries the
// fixed message of the contract; put the detail in the log instead.
Response error_response(const Status& status);

// A failure of a dependency (PostgreSQL, Redis, the hash, the CSPRNG): the detail goes to the
// log; kUnavailable answers 503 "the service is temporarily unavailable" (the client retries),
// anything else 500.
Response dependency_failure(const Status& status);

// What an endpoint accepts; checked by check_request() before the body is read.
struct EndpointRules {
  std::vector<std::string> methods;  // e.g. {"GET", "HEAD"}; the Allow header lists them
  bool json_body = false;  // POST bodies must be application/json, at most kMaxBodyBytes
};

// 405 (with Allow), 415 or 413, from the request line and headers alone; ok otherwise.
// On 405 the Allow value is written to *allow.
Status check_request(const Request& request, const EndpointRules& rules, std::string* allow);

// The response for a rejected request, with Allow on 405.
Response rejection(const Status& status, const std::string& allow);

}  // namespace chatalot
