#include "http/fcgi.h"

#include <fastcgi.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/text.h"
#include "http/render.h"

namespace chatalot {
namespace {

constexpr std::size_t kHeaderLen = FCGI_HEADER_LEN;
constexpr std::size_t kMaxChunk = 32768;   // STDOUT record content size we send
constexpr std::size_t kReadChunk = 16384;  // one read: the lookahead beyond an incomplete record
constexpr std::size_t kMaxRequestIdLength = 64;

void append_header(std::string& out, std::uint8_t type, std::uint16_t request_id,
                   std::size_t length) {
  const char header[kHeaderLen] = {
      static_cast<char>(FCGI_VERSION_1),
      static_cast<char>(type),
      static_cast<char>(request_id >> 8),
      static_cast<char>(request_id & 0xff),
      static_cast<char>((length >> 8) & 0xff),
      static_cast<char>(length & 0xff),
      0,
      0};
  out.append(header, kHeaderLen);
}

void append_stream(std::string& out, std::uint16_t request_id, std::string_view data) {
  while (!data.empty()) {
    const std::size_t n = data.size() < kMaxChunk ? data.size() : kMaxChunk;
    append_header(out, FCGI_STDOUT, request_id, n);
    out.append(data.data(), n);
    data.remove_prefix(n);
  }
}

void append_end_request(std::string& out, std::uint16_t request_id, std::uint8_t protocol_status) {
  append_header(out, FCGI_END_REQUEST, request_id, 8);
  const char body[8] = {0, 0, 0, 0, static_cast<char>(protocol_status), 0, 0, 0};
  out.append(body, sizeof body);
}

// A short name-value pair (both below 128 bytes): what GET_VALUES_RESULT holds.
void append_short_pair(std::string& out, std::string_view name, std::string_view value) {
  out += static_cast<char>(name.size());
  out += static_cast<char>(value.size());
  out += name;
  out += value;
}

bool read_length(std::string_view& data, std::size_t* length) {
  if (data.empty()) return false;
  const auto b0 = static_cast<std::uint8_t>(data[0]);
  if ((b0 & 0x80) == 0) {
    *length = b0;
    data.remove_prefix(1);
    return true;
  }
  if (data.size() < 4) return false;
  *length = (static_cast<std::size_t>(b0 & 0x7f) << 24) |
            (static_cast<std::size_t>(static_cast<std::uint8_t>(data[1])) << 16) |
            (static_cast<std::size_t>(static_cast<std::uint8_t>(data[2])) << 8) |
            static_cast<std::size_t>(static_cast<std::uint8_t>(data[3]));
  data.remove_prefix(4);
  return true;
}

// nginx's $request_id is 32 hex digits; anything outside this set could split a header line.
bool valid_request_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxRequestIdLength &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

}  // namespace

bool decode_params(std::string_view data, std::vector<std::pair<std::string, std::string>>* out) {
  while (!data.empty()) {
    std::size_t name_len = 0;
    std::size_t value_len = 0;
    if (!read_length(data, &name_len) || !read_length(data, &value_len)) return false;
    if (name_len > data.size() || value_len > data.size() - name_len) return false;
    out->emplace_back(std::string(data.substr(0, name_len)),
                      std::string(data.substr(name_len, value_len)));
    data.remove_prefix(name_len + value_len);
  }
  return true;
}

void fill_request(const std::vector<std::pair<std::string, std::string>>& params,
                  Request* request) {
  for (const auto& [name, value] : params) {
    if (name == "REQUEST_METHOD") {
      request->method = value;
    } else if (name == "DOCUMENT_URI") {
      request->path = value;
    } else if (name == "QUERY_STRING") {
      request->query = value;
    } else if (name == "CONTENT_TYPE") {
      request->content_type = value;
    } else if (name == "CONTENT_LENGTH" && !value.empty()) {
      request->content_length = parse_integer<std::size_t>(value);
      request->content_length_invalid = !request->content_length;
    } else if (name == "REQUEST_ID") {
      request->request_id = valid_request_id(value) ? value : "";
    } else if (name == "REMOTE_ADDR") {
      request->remote_addr = value;
    } else if (name == "HTTP_AUTHORIZATION") {
      request->authorization = value;
    } else if (name == "HTTP_USER_AGENT") {
      request->user_agent = value;
    }
  }
}

FcgiConnection::FcgiConnection(int fd, int request_timeout_ms, int max_conns)
    : fd_(fd),
      request_timeout_(request_timeout_ms),
      max_conns_(max_conns),
      idle_since_(Clock::now()) {
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

FcgiConnection::~FcgiConnection() { ::close(fd_); }

FcgiConnection::Step FcgiConnection::read(std::size_t max_body) {
  for (;;) {
    if (started_ && Clock::now() >= deadline()) return Step::kBroken;
    if (phase_ == Phase::kDraining) {
      drained_ += buffer_.size() - pos_;
      buffer_.clear();
      pos_ = 0;
      if (drained_ > kMaxDrainBytes) return Step::kClosed;
    } else if (const std::optional<Step> step = parse_buffered(max_body)) {
      return *step;
    }
    switch (receive()) {
      case Input::kData:
        break;
      case Input::kAgain:
        return Step::kPending;
      case Input::kEnd:
      case Input::kError:
        // Between requests (nothing partial left) or after a refusal, the end is orderly.
        return phase_ == Phase::kDraining || (phase_ == Phase::kBetween && pos_ == buffer_.size())
                   ? Step::kClosed
                   : Step::kBroken;
    }
  }
}

// Reads once, after dropping what is parsed: the buffer never holds more than the incomplete
// record it waits for and this one read.
FcgiConnection::Input FcgiConnection::receive() {
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[kReadChunk];
  const ssize_t n = ::read(fd_, chunk, sizeof chunk);
  if (n > 0) {
    if (!started_) started_ = Clock::now();  // the request's deadline runs from here
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return Input::kData;
  }
  if (n == 0) return Input::kEnd;
  if (errno == EINTR) return Input::kData;  // nothing read; try again
  return errno == EAGAIN || errno == EWOULDBLOCK ? Input::kAgain : Input::kError;
}

// Takes the complete records in the buffer, one at a time; nullopt when it needs more input.
std::optional<FcgiConnection::Step> FcgiConnection::parse_buffered(std::size_t max_body) {
  while (buffer_.size() - pos_ >= kHeaderLen) {
    const auto* h = reinterpret_cast<const std::uint8_t*>(buffer_.data() + pos_);
    if (h[0] != FCGI_VERSION_1) return Step::kBroken;
    const Header header{h[1], static_cast<std::uint16_t>((h[2] << 8) | h[3]),
                        (static_cast<std::size_t>(h[4]) << 8) | h[5], h[6]};
    const std::size_t total = kHeaderLen + header.length + header.padding;
    // Counted at the header: a record beyond the bounds is refused before it is read.
    if (records_ + 1 > kMaxRequestRecords || bytes_ + total > kMaxRequestBytes) return Step::kBroken;
    if (buffer_.size() - pos_ < total) return std::nullopt;
    ++records_;
    bytes_ += total;
    const std::string_view content(buffer_.data() + pos_ + kHeaderLen, header.length);
    pos_ += total;
    if (std::optional<Step> step = take_record(header, content, max_body)) return step;
  }
  return std::nullopt;
}

// nullopt: the record is taken and the request goes on.
std::optional<FcgiConnection::Step> FcgiConnection::take_record(const Header& h,
                                                                std::string_view content,
                                                                std::size_t max_body) {
  if (h.request_id == 0) return management(h.type, content);
  switch (phase_) {
    case Phase::kBetween:
      return begin(h, content);
    case Phase::kParams:
      return params(h, content);
    case Phase::kBody:
      return body(h, content, max_body);
    case Phase::kSkipping:
      // The request's bounds (records, bytes) still hold while its body is dropped.
      if (h.type != FCGI_STDIN || h.request_id != request_id_) return Step::kBroken;
      if (!content.empty()) return std::nullopt;
      phase_ = Phase::kDone;
      return Step::kSkipped;
    case Phase::kDone:
    case Phase::kDraining:
      break;
  }
  return Step::kBroken;
}

std::optional<FcgiConnection::Step> FcgiConnection::begin(const Header& h,
                                                          std::string_view content) {
  if (h.type != FCGI_BEGIN_REQUEST || content.size() != 8) return Step::kBroken;
  const auto* b = reinterpret_cast<const std::uint8_t*>(content.data());
  request_id_ = h.request_id;
  keep_conn_ = (b[2] & FCGI_KEEP_CONN) != 0;
  if (((b[0] << 8) | b[1]) != FCGI_RESPONDER) {
    std::string out;
    append_end_request(out, request_id_, FCGI_UNKNOWN_ROLE);
    send_all(out);
    return Step::kBroken;
  }
  request_ = Request{};
  phase_ = Phase::kParams;
  return std::nullopt;
}

// nginx never multiplexes: a record of another request or type is a broken peer.
std::optional<FcgiConnection::Step> FcgiConnection::params(const Header& h,
                                                           std::string_view content) {
  if (h.type != FCGI_PARAMS || h.request_id != request_id_) return Step::kBroken;
  if (!content.empty()) {
    if (params_.size() + content.size() > kMaxParamsBytes) return Step::kBroken;
    params_ += content;
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!decode_params(params_, &pairs)) return Step::kBroken;
  fill_request(pairs, &request_);
  std::string().swap(params_);
  phase_ = Phase::kBody;
  return Step::kHead;
}

std::optional<FcgiConnection::Step> FcgiConnection::body(const Header& h,
                                                         std::string_view content,
                                                         std::size_t max_body) {
  if (h.type != FCGI_STDIN || h.request_id != request_id_) return Step::kBroken;
  if (content.empty()) {
    phase_ = Phase::kDone;
    return Step::kRequest;
  }
  if (request_.body.size() + content.size() > max_body) return Step::kTooLarge;
  request_.body += content;
  return std::nullopt;
}

// The FastCGI specification's management records: GET_VALUES is answered with the names we
// know (unknown ones are left out), any other type is unknown.
std::optional<FcgiConnection::Step> FcgiConnection::management(std::uint8_t type,
                                                               std::string_view content) {
  std::string out;
  if (type == FCGI_GET_VALUES) {
    std::vector<std::pair<std::string, std::string>> asked;
    if (!decode_params(content, &asked)) return Step::kBroken;
    const auto was_asked = [&](std::string_view name) {
      return std::any_of(asked.begin(), asked.end(), [&](const auto& p) { return p.first == name; });
    };
    const std::string max = std::to_string(max_conns_);
    std::string values;
    if (was_asked(FCGI_MAX_CONNS)) append_short_pair(values, FCGI_MAX_CONNS, max);
    if (was_asked(FCGI_MAX_REQS)) append_short_pair(values, FCGI_MAX_REQS, max);
    if (was_asked(FCGI_MPXS_CONNS)) append_short_pair(values, FCGI_MPXS_CONNS, "0");
    append_header(out, FCGI_GET_VALUES_RESULT, 0, values.size());
    out += values;
  } else {
    append_header(out, FCGI_UNKNOWN_TYPE, 0, 8);
    const char body[8] = {static_cast<char>(type), 0, 0, 0, 0, 0, 0, 0};
    out.append(body, sizeof body);
  }
  if (!send_all(out)) return Step::kBroken;
  return std::nullopt;
}

void FcgiConnection::next_request() {
  phase_ = Phase::kBetween;
  records_ = 0;
  bytes_ = 0;
  request_ = Request{};
  idle_since_ = Clock::now();
  if (pos_ == buffer_.size()) {
    std::string().swap(buffer_);  // an idle connection holds no input memory
    pos_ = 0;
    started_.reset();
  } else {
    started_ = idle_since_;  // a pipelined request: its deadline runs from now
  }
}

void FcgiConnection::refuse() {
  if (keep_conn_) {
    request_.body.clear();
    phase_ = Phase::kSkipping;
    return;
  }
  ::shutdown(fd_, SHUT_WR);
  phase_ = Phase::kDraining;
  std::string().swap(buffer_);
  pos_ = 0;
  drained_ = 0;
}

FcgiConnection::Next FcgiConnection::read_head(Request* request) {
  if (phase_ == Phase::kDone) next_request();
  for (;;) {
    switch (read(kMaxBodyBytes)) {
      case Step::kHead:
        *request = request_;
        return Next::kRequest;
      case Step::kPending:
        if (wait_readable()) continue;
        return idle() ? Next::kClosed : Next::kBroken;
      case Step::kClosed:
        return Next::kClosed;
      default:
        return Next::kBroken;
    }
  }
}

Status FcgiConnection::read_body(Request* request, std::size_t max_bytes) {
  for (;;) {
    switch (read(max_bytes)) {
      case Step::kRequest:
        request->body = std::move(request_.body);
        return Status::ok();
      case Step::kTooLarge:
        return {Code::kTooLarge, Msg::kBodyTooLarge};
      case Step::kPending:
        if (wait_readable()) continue;
        break;
      default:
        break;
    }
    return unavailable("the request body could not be read");
  }
}

bool FcgiConnection::wait_readable() const {
  pollfd pfd{fd_, POLLIN, 0};
  const int ready = ::poll(&pfd, 1, static_cast<int>(request_timeout_.count()));
  return ready > 0 || (ready < 0 && errno == EINTR);
}

bool FcgiConnection::write_response(const Response& response, bool head_only,
                                    std::string_view request_id) {
  std::string head = "Status: " + std::to_string(response.status) + " " +
                     std::string(reason_phrase(response.status)) +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(response.body.size()) + "\r\nCache-Control: no-store\r\n";
  if (!request_id.empty()) head += "X-Request-Id: " + std::string(request_id) + "\r\n";
  for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  std::string out;
  out.reserve(head.size() + response.body.size() + 64);
  append_stream(out, request_id_, head);
  if (!head_only) append_stream(out, request_id_, response.body);
  append_header(out, FCGI_STDOUT, request_id_, 0);  // the end of the STDOUT stream
  append_end_request(out, request_id_, FCGI_REQUEST_COMPLETE);
  return send_all(out);
}

// The one place that waits on the peer: for room to write, until the request's deadline.
bool FcgiConnection::send_all(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline() - Clock::now()).count();
      pollfd pfd{fd_, POLLOUT, 0};
      const int ready = left > 0 ? ::poll(&pfd, 1, static_cast<int>(left)) : 0;
      if (ready > 0 || (ready < 0 && errno == EINTR)) continue;
    }
    return false;
  }
  return true;
}

}  // namespace chatalot
