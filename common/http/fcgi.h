// The FastCGI responder protocol over one accepted connection, as nginx speaks it: one request
// at a time on a connection, records as in <fastcgi.h>. We speak it ourselves instead of through
// libfcgi's accept loop because libfcgi blocks in accept() and read() with no way to wake a thread
// for a clean shutdown, reads parameters without a size bound, and reads the body before the
// handler can refuse it (FIELD-NOTES pitfalls 1 and 2).
//
// Every read and write waits at most io_timeout_ms; a peer that stalls is dropped. The
// connection owns its descriptor and closes it. Not thread-safe: one thread per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/http.h"

namespace chatalot {

inline constexpr std::size_t kMaxParamsBytes = 64 * 1024;

class FcgiConnection {
 public:
  FcgiConnection(int fd, int io_timeout_ms);
  ~FcgiConnection();
  FcgiConnection(const FcgiConnection&) = delete;
  FcgiConnection& operator=(const FcgiConnection&) = delete;

  enum class Next {
    kRequest,  // *request has method, path and headers; the body is still unread
    kClosed,   // the peer closed the connection between requests
    kBroken,   // protocol error, timeout or I/O error: drop the connection
  };
  // Reads BEGIN_REQUEST and PARAMS of the next request.
  Next read_head(Request* request);

  // Reads STDIN into request->body: kTooLarge when it outgrows max_bytes, kUnavailable when the
  // peer stalls or breaks the protocol.
  Status read_body(Request* request, std::size_t max_bytes);

  // Sends the response (no body for HEAD) and END_REQUEST. False when the write failed.
  bool write_response(const Response& response, bool head_only, std::string_view request_id);

  // Whether the peer asked to keep the connection open for another request.
  bool keep_conn() const { return keep_conn_; }
  int fd() const { return fd_; }

 private:
  bool fill(std::size_t need);
  bool read_record(std::uint8_t* type, std::string* content);
  bool send_all(const std::string& data);

  int fd_;
  int io_timeout_ms_;
  std::uint16_t request_id_ = 0;
  bool keep_conn_ = false;
  std::string buffer_;
  std::size_t pos_ = 0;
};

// Decodes FastCGI name-value pairs; false when malformed.
bool decode_params(std::string_view data, std::vector<std::pair<std::string, std::string>>* out);

// The request fields taken from the parameters nginx passes.
void fill_request(const std::vector<std::pair<std::string, std::string>>& params, Request* request);

}  // namespace chatalot
