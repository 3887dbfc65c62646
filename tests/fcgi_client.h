// A FastCGI client for tests: encodes what nginx sends and reads back what the server answers.
#pragma once

#include <fastcgi.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chatalot::testing {

// One record; `padding` bytes follow the content, as the protocol allows (nginx pads to 8).
inline std::string record(std::uint8_t type, std::string_view content, std::uint16_t id = 1,
                          std::uint8_t padding = 0) {
  std::string r;
  r += static_cast<char>(FCGI_VERSION_1);
  r += static_cast<char>(type);
  r += static_cast<char>(id >> 8);
  r += static_cast<char>(id & 0xff);
  r += static_cast<char>(content.size() >> 8);
  r += static_cast<char>(content.size() & 0xff);
  r += static_cast<char>(padding);
  r += '\0';
  r += content;
  r.append(padding, '\0');
  return r;
}

inline std::string begin_request(bool keep_conn = false) {
  const char body[8] = {0, FCGI_RESPONDER, static_cast<char>(keep_conn ? FCGI_KEEP_CONN : 0), 0, 0, 0, 0, 0};
  return record(FCGI_BEGIN_REQUEST, std::string_view(body, 8));
}

inline void append_length(std::string& out, std::size_t n) {
  if (n < 128) {
    out += static_cast<char>(n);
  } else {
    out += static_cast<char>(0x80 | (n >> 24));
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 8) & 0xff);
    out += static_cast<char>(n & 0xff);
  }
}

inline std::string encode_params(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    append_length(out, name.size());
    append_length(out, value.size());
    out += name;
    out += value;
  }
  return out;
}

// A whole request: BEGIN_REQUEST, PARAMS, STDIN (in chunks below 64 KiB).
inline std::string whole_request(const std::vector<std::pair<std::string, std::string>>& params,
                                 std::string_view body = {}, bool keep_conn = false) {
  std::string out = begin_request(keep_conn);
  out += record(FCGI_PARAMS, encode_params(params));
  out += record(FCGI_PARAMS, "");
  while (!body.empty()) {
    const std::size_t n = body.size() < 32768 ? body.size() : 32768;
    out += record(FCGI_STDIN, body.substr(0, n));
    body.remove_prefix(n);
  }
  out += record(FCGI_STDIN, "");
  return out;
}

// On a socket; a peer that went away is a false, not a SIGPIPE.
inline bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads records until END_REQUEST; returns the STDOUT stream ("" when the connection ended
// first). *ended tells whether END_REQUEST arrived.
inline std::string read_response(int fd, bool* ended, int timeout_ms = 5000) {
  std::string in;
  std::string out;
  *ended = false;
  for (;;) {
    while (in.size() >= 8) {
      const auto* h = reinterpret_cast<const std::uint8_t*>(in.data());
      const std::size_t len = (static_cast<std::size_t>(h[4]) << 8) | h[5];
      const std::size_t total = 8 + len + h[6];
      if (in.size() < total) break;
      if (h[1] == FCGI_STDOUT) out.append(in, 8, len);
      if (h[1] == FCGI_END_REQUEST) {
        *ended = true;
        return out;
      }
      in.erase(0, total);
    }
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) return out;
    char buf[65536];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    in.append(buf, static_cast<std::size_t>(n));
  }
}

struct Record {
  std::uint8_t type = 0;
  std::uint16_t id = 0;
  std::string content;
};

// Reads the records a server sends, one at a time, across reads.
class RecordReader {
 public:
  explicit RecordReader(int fd) : fd_(fd) {}
  // The next record; nullopt when none came within timeout_ms or the connection ended.
  std::optional<Record> next(int timeout_ms = 5000) {
    for (;;) {
      if (in_.size() >= 8) {
        const auto* h = reinterpret_cast<const std::uint8_t*>(in_.data());
        const std::size_t len = (static_cast<std::size_t>(h[4]) << 8) | h[5];
        const std::size_t total = 8 + len + h[6];
        if (in_.size() >= total) {
          Record r{h[1], static_cast<std::uint16_t>((h[2] << 8) | h[3]), in_.substr(8, len)};
          in_.erase(0, total);
          return r;
        }
      }
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, timeout_ms) <= 0) return std::nullopt;
      char buf[65536];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      in_.append(buf, static_cast<std::size_t>(n));
    }
  }
  // The STDOUT stream of the next response, through its END_REQUEST; nullopt when it did not
  // end within timeout_ms per record. Unlike read_response(), keeps what follows it.
  std::optional<std::string> response(int timeout_ms = 5000) {
    std::string out;
    while (const std::optional<Record> r = next(timeout_ms)) {
      if (r->type == FCGI_END_REQUEST) return out;
      if (r->type == FCGI_STDOUT) out += r->content;
    }
    return std::nullopt;
  }

 private:
  int fd_;
  std::string in_;
};

// Connects an existing socket to a unix socket path.
inline bool connect_unix_fd(int fd, const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  return ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

// A connected unix stream socket, or -1.
inline int unix_stream_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect_unix_fd(fd, path)) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

// Whether the peer ended the connection (EOF or reset) within timeout_ms; input before the end
// is skipped.
inline bool ends_within(int fd, int timeout_ms) {
  for (;;) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    if (::read(fd, buf, sizeof buf) <= 0) return true;
  }
}

}  // namespace chatalot::testing
