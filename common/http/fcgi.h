// The FastCGI responder protocol over one accepted connection, as nginx speaks it: one request
// at a time on a connection, records as in <fastcgi.h>. We speak it ourselves instead of through
// libfcgi's accept loop because libfcgi blocks in accept() and read() with no way to wake a thread
// for a clean shutdown, reads parameters without a size bound, and reads the body before the
// handler can refuse it (FIELD-NOTES pitfalls 1 and 2).
//
// Reading never waits: read() takes what has arrived, parses the complete records and keeps the
// rest, so a connection whose request is incomplete goes back to the server's epoll set and
// holds no thread (SPEC guarantee 11). Consumed input is dropped as it is parsed: the buffer
// holds at most one incomplete record and one read beyond it. Each request has one deadline,
// from its first byte to its answer, and bounds on its bytes and records, padding included.
// Writes wait, until the deadline at most.
//
// Management records (request id 0) are answered in passing: FCGI_GET_VALUES with
// FCGI_GET_VALUES_RESULT, any other type (a BEGIN_REQUEST with id 0 included) with
// FCGI_UNKNOWN_TYPE.
//
// Ownership: the connection owns its descriptor and closes it. Not thread-safe: one thread at a
// time (the server hands a connection from thread to thread through epoll).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/http.h"

namespace chatalot {

// Bounds of one request, whatever the peer sends. nginx's largest request (64 KiB of
// parameters, 64 KiB of body) stays well inside them.
inline constexpr std::size_t kMaxParamsBytes = 64 * 1024;     // PARAMS content
inline constexpr std::size_t kMaxRequestRecords = 4096;       // records of any type
inline constexpr std::size_t kMaxRequestBytes = 256 * 1024;   // headers and padding included
// Input read and dropped after a refused request before the connection closes, so that the
// peer reads the answer and an orderly end instead of a reset.
inline constexpr std::size_t kMaxDrainBytes = 64 * 1024;

class FcgiConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // request_timeout_ms: each request's deadline, from its first byte. max_conns: what
  // FCGI_GET_VALUES answers for FCGI_MAX_CONNS and FCGI_MAX_REQS.
  FcgiConnection(int fd, int request_timeout_ms, int max_conns = 1);
  ~FcgiConnection();
  FcgiConnection(const FcgiConnection&) = delete;
  FcgiConnection& operator=(const FcgiConnection&) = delete;

  enum class Step {
    kPending,   // the input so far is incomplete: call read() again once the fd is readable
    kHead,      // request() has method, path and headers; its body is unread
    kRequest,   // request() is complete, body included: answer it, then next_request()
    kTooLarge,  // the body outgrew max_body: answer 413, then refuse()
    kClosed,    // the peer ended the connection between requests, or a refusal is drained
    kSkipped,   // a refused request's body has been read and dropped: next_request()
    kBroken,    // protocol error, a bound or the deadline passed, I/O error: close it
  };
  // Reads what has arrived, without waiting, and goes as far as it allows.
  Step read(std::size_t max_body);

  Request& request() { return request_; }

  // Sends the response (no body for HEAD) and END_REQUEST. False when the write failed.
  bool write_response(const Response& response, bool head_only, std::string_view request_id);

  // After an answer: the next request may begin. Bytes already read are kept: a pipelined
  // request is parsed by the next read().
  void next_request();
  // After answering a request refused before its body was read. When the peer keeps the
  // connection (nginx's fastcgi_keep_conn), read() drops the rest of that request's body and
  // answers kSkipped: the connection serves the next request, so nginx never reuses one the
  // handler has closed under it. Otherwise no more output (the peer sees the end of the
  // stream), and read() drops input until the peer ends, kMaxDrainBytes or the deadline; it
  // then answers kClosed.
  void refuse();

  // No request begun and nothing buffered: an idle kept connection.
  bool idle() const { return !started_.has_value(); }
  // When the current request began (its first byte), and its deadline; idle: the idle start.
  Clock::time_point started() const { return started_.value_or(idle_since_); }
  Clock::time_point deadline() const { return started() + request_timeout_; }
  // The end of the last answer (or the accept): an idle connection's age starts there.
  Clock::time_point idle_since() const { return idle_since_; }

  // Transitional, for tests/fuzz/fcgi_stream.cc until it drives read(): the first loop's
  // blocking interface, over read() and a wait of at most the request timeout for each read.
  // The server never calls these. read_head() copies the head into *request; read_body() moves
  // the body there (kTooLarge, or kUnavailable when the peer stalls or breaks the protocol).
  enum class Next { kRequest, kClosed, kBroken };
  Next read_head(Request* request);
  Status read_body(Request* request, std::size_t max_bytes);

  // Whether the peer asked to keep the connection open for another request.
  bool keep_conn() const { return keep_conn_; }
  int fd() const { return fd_; }
  // Memory held for input, for tests of the bounds.
  std::size_t buffer_capacity() const { return buffer_.capacity() + params_.capacity(); }

 private:
  enum class Phase { kBetween, kParams, kBody, kSkipping, kDone, kDraining };
  enum class Input { kData, kAgain, kEnd, kError };
  struct Header {
    std::uint8_t type;
    std::uint16_t request_id;
    std::size_t length;
    std::size_t padding;
  };

  Input receive();
  std::optional<Step> parse_buffered(std::size_t max_body);
  std::optional<Step> take_record(const Header& h, std::string_view content, std::size_t max_body);
  std::optional<Step> begin(const Header& h, std::string_view content);
  std::optional<Step> params(const Header& h, std::string_view content);
  std::optional<Step> body(const Header& h, std::string_view content, std::size_t max_body);
  std::optional<Step> management(std::uint8_t type, std::string_view content);
  bool send_all(const std::string& data);
  bool wait_readable() const;

  int fd_;
  std::chrono::milliseconds request_timeout_;
  int max_conns_;
  Phase phase_ = Phase::kBetween;
  std::uint16_t request_id_ = 0;
  bool keep_conn_ = false;
  std::optional<Clock::time_point> started_;
  Clock::time_point idle_since_;
  std::size_t records_ = 0;  // of the current request, management records included
  std::size_t bytes_ = 0;    // likewise, headers and padding included
  std::size_t drained_ = 0;
  std::string buffer_;  // unparsed input from pos_ on
  std::size_t pos_ = 0;
  std::string params_;
  Request request_;
};

// Decodes FastCGI name-value pairs; false when malformed.
bool decode_params(std::string_view data, std::vector<std::pair<std::string, std::string>>* out);

// The request fields taken from the parameters nginx passes. REQUEST_ID is kept only when it
// matches [A-Za-z0-9._-]{1,64}: it is echoed in a header and logged, and an operator may map it
// from a client header.
void fill_request(const std::vector<std::pair<std::string, std::string>>& params, Request* request);

}  // namespace chatalot
