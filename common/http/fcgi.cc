#include "http/fcgi.h"

#include <fastcgi.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "core/text.h"
#include "http/render.h"

namespace chatalot {
namespace {

constexpr std::size_t kHeaderLen = FCGI_HEADER_LEN;
constexpr std::size_t kMaxChunk = 32768;  // STDOUT record content size we send

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
  append_header(out, FCGI_STDOUT, request_id, 0);  // end of the STDOUT stream
  append_header(out, FCGI_END_REQUEST, request_id, 8);
  const char body[8] = {0, 0, 0, 0, static_cast<char>(protocol_status), 0, 0, 0};
  out.append(body, sizeof body);
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
      request->request_id = value;
    } else if (name == "REMOTE_ADDR") {
      request->remote_addr = value;
    } else if (name == "HTTP_AUTHORIZATION") {
      request->authorization = value;
    }
  }
}

FcgiConnection::FcgiConnection(int fd, int io_timeout_ms) : fd_(fd), io_timeout_ms_(io_timeout_ms) {
  // Non-blocking: every wait is a poll with the timeout, never a read that could hang.
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

FcgiConnection::~FcgiConnection() { ::close(fd_); }

// Makes at least `need` unread bytes available, waiting at most io_timeout_ms for each read.
bool FcgiConnection::fill(std::size_t need) {
  if (pos_ > 0 && pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  }
  // Read first, wait only when nothing is there: a connection handed over by epoll has its
  // request waiting, so the common case costs one read and no poll.
  while (buffer_.size() - pos_ < need) {
    char chunk[16384];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) return false;
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, io_timeout_ms_);
    if (ready == 0 || (ready < 0 && errno != EINTR)) return false;
  }
  return true;
}

bool FcgiConnection::read_record(std::uint8_t* type, std::string* content) {
  if (!fill(kHeaderLen)) return false;
  const auto* h = reinterpret_cast<const std::uint8_t*>(buffer_.data() + pos_);
  if (h[0] != FCGI_VERSION_1) return false;
  *type = h[1];
  const auto request_id = static_cast<std::uint16_t>((h[2] << 8) | h[3]);
  const std::size_t length = (static_cast<std::size_t>(h[4]) << 8) | h[5];
  const std::size_t padding = h[6];
  if (!fill(kHeaderLen + length + padding)) return false;
  content->assign(buffer_, pos_ + kHeaderLen, length);
  pos_ += kHeaderLen + length + padding;
  if (*type == FCGI_BEGIN_REQUEST) {
    request_id_ = request_id;
  } else if (request_id != request_id_) {
    return false;  // nginx never multiplexes; anything else is a broken peer
  }
  return true;
}

FcgiConnection::Next FcgiConnection::read_head(Request* request) {
  std::uint8_t type = 0;
  std::string content;
  if (!read_record(&type, &content)) {
    return buffer_.size() == pos_ ? Next::kClosed : Next::kBroken;
  }
  if (type != FCGI_BEGIN_REQUEST || content.size() != 8) return Next::kBroken;
  const int role = (static_cast<std::uint8_t>(content[0]) << 8) | static_cast<std::uint8_t>(content[1]);
  keep_conn_ = (static_cast<std::uint8_t>(content[2]) & FCGI_KEEP_CONN) != 0;
  if (role != FCGI_RESPONDER) {
    std::string out;
    append_header(out, FCGI_END_REQUEST, request_id_, 8);
    const char body[8] = {0, 0, 0, 0, static_cast<char>(FCGI_UNKNOWN_ROLE), 0, 0, 0};
    out.append(body, sizeof body);
    send_all(out);
    return Next::kBroken;
  }
  std::string params;
  for (;;) {
    if (!read_record(&type, &content) || type != FCGI_PARAMS) return Next::kBroken;
    if (content.empty()) break;
    if (params.size() + content.size() > kMaxParamsBytes) return Next::kBroken;
    params += content;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!decode_params(params, &pairs)) return Next::kBroken;
  *request = Request{};
  fill_request(pairs, request);
  return Next::kRequest;
}

Status FcgiConnection::read_body(Request* request, std::size_t max_bytes) {
  std::uint8_t type = 0;
  std::string content;
  for (;;) {
    if (!read_record(&type, &content) || type != FCGI_STDIN) {
      return unavailable("the request body could not be read");
    }
    if (content.empty()) return Status::ok();
    if (request->body.size() + content.size() > max_bytes) {
      return {Code::kTooLarge, Msg::kBodyTooLarge};
    }
    request->body += content;
  }
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
  append_end_request(out, request_id_, FCGI_REQUEST_COMPLETE);
  return send_all(out);
}

bool FcgiConnection::send_all(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd pfd{fd_, POLLOUT, 0};
      if (::poll(&pfd, 1, io_timeout_ms_) > 0) continue;
    }
    return false;
  }
  return true;
}

}  // namespace chatalot
