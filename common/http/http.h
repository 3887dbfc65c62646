// Request and Response, owned in memory, and the common checks of SPEC section 3 that need only
// the request line and headers (method, media type, size). Pure data and functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace chatalot {

inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;

// A request as nginx passed it (FastCGI parameters), copied into owned memory.
struct Request {
  std::string method;  // REQUEST_METHOD
  std::string path;    // DOCUMENT_URI: the normalised path, no query string
  std::string query;   // QUERY_STRING
  std::string content_type;
  std::optional<std::size_t> content_length;  // absent, or a valid decimal CONTENT_LENGTH
  bool content_length_invalid = false;        // present but not a decimal number
  std::string request_id;                     // REQUEST_ID ($request_id)
  std::string remote_addr;                    // REMOTE_ADDR
  std::string authorization;                  // HTTP_AUTHORIZATION
  std::string user_agent;                     // HTTP_USER_AGENT (a session's device name)
  std::string body;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // JSON, sent with Content-Type: application/json
};

// What an endpoint accepts; checked by check_request() before the body is read.
struct EndpointRules {
  std::vector<std::string> methods;  // e.g. {"GET", "HEAD"}; the Allow header lists them
  bool json_body = false;  // POST and PUT bodies: application/json, at most kMaxBodyBytes
};

// kUnsupportedOperation (405, with the Allow list), kUnsupportedFormat (415), kTooLarge (413)
// or kInvalidArgument (a Content-Length that is not a number), from the request line and
// headers alone; ok otherwise.
Status check_request(const Request& request, const EndpointRules& rules);

// 405 for a method that `allowed` (e.g. "GET, POST") does not list.
Status method_not_allowed(std::string_view method, std::string allowed);

}  // namespace chatalot
