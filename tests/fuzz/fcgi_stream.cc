// A whole FastCGI connection: the input is every byte a peer sends on it, then the peer stops
// sending (shutdown). An FcgiConnection over a socketpair is driven as the server's
// serve_ready() drives it: read() until a step, check_request() at the head (a refusal is
// answered, then refuse()), a 413 when the body outgrows the limit, an answer for each complete
// request, next_request() while the peer keeps the connection; where the server would park the
// connection in epoll (kPending), the harness waits for the descriptor instead. The harness
// reads everything written back.
//
// Invariants: no crash, no hang (every wait is bounded; libFuzzer's -timeout catches one), no
// leak (LeakSanitizer; the descriptor is closed by the connection); a head has no body yet and a
// body is never larger than asked; REQUEST_ID is kept only when it is [A-Za-z0-9._-]{1,64}; the
// input buffers stay bounded whatever the stream; what comes back is well-formed records with
// one END_REQUEST per answer sent.
#include <fastcgi.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <thread>

#include "http/fcgi.h"
#include "http/render.h"
#include "fuzz.h"

namespace chatalot {
namespace {

constexpr int kRequestTimeoutMs = 2000;
// fcgi.h: one incomplete record (8 + 65535 + 255 bytes) and one read beyond it, and the
// parameters (kMaxParamsBytes); twice that for std::string's growth.
constexpr std::size_t kMaxBufferBytes = 2 * (8 + 65535 + 255 + 16384 + kMaxParamsBytes);

// The endpoints' rules, chosen by path as nginx routes them.
const EndpointRules& rules_for(std::string_view path) {
  static const EndpointRules kConfig{{"GET", "HEAD"}, false};
  static const EndpointRules kAdmin{{"GET", "POST", "DELETE"}, true};
  static const EndpointRules kPost{{"POST"}, true};
  if (path == "/api/auth/config") return kConfig;
  if (path.starts_with("/api/admin/")) return kAdmin;
  return kPost;
}

// What the connection wrote back, parsed as records as they arrive.
class Peer {
 public:
  explicit Peer(int fd) : fd_(fd) {}

  // Reads what is there now (wait_ms 0) or until the other end closes.
  void read(int wait_ms) {
    for (;;) {
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        in_.append(buf, static_cast<std::size_t>(n));
        parse();
        continue;
      }
      if (n == 0) return;
      if (errno == EINTR) continue;
      if (errno != EAGAIN || wait_ms == 0) return;
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, wait_ms) == 0) {
        FUZZ_CHECK(!"the connection neither wrote nor closed within the wait");
      }
    }
  }

  int completed() const { return completed_; }
  int unknown_roles() const { return unknown_roles_; }
  bool all_parsed() const { return in_.size() == pos_; }

 private:
  void parse() {
    while (in_.size() - pos_ >= FCGI_HEADER_LEN) {
      const auto* h = reinterpret_cast<const std::uint8_t*>(in_.data() + pos_);
      const std::size_t length = (static_cast<std::size_t>(h[4]) << 8) | h[5];
      const std::size_t total = FCGI_HEADER_LEN + length + h[6];
      if (in_.size() - pos_ < total) return;
      FUZZ_CHECK(h[0] == FCGI_VERSION_1);
      FUZZ_CHECK(h[1] == FCGI_STDOUT || h[1] == FCGI_END_REQUEST ||
                 h[1] == FCGI_GET_VALUES_RESULT || h[1] == FCGI_UNKNOWN_TYPE);
      const std::uint16_t request_id = static_cast<std::uint16_t>((h[2] << 8) | h[3]);
      // Management answers go to request id 0, and only they do.
      FUZZ_CHECK((request_id == 0) ==
                 (h[1] == FCGI_GET_VALUES_RESULT || h[1] == FCGI_UNKNOWN_TYPE));
      if (h[1] == FCGI_UNKNOWN_TYPE) FUZZ_CHECK(length == 8);
      if (h[1] == FCGI_END_REQUEST) {
        FUZZ_CHECK(length == 8);
        const std::uint8_t protocol_status = h[FCGI_HEADER_LEN + 4];
        FUZZ_CHECK(protocol_status == FCGI_REQUEST_COMPLETE || protocol_status == FCGI_UNKNOWN_ROLE);
        (protocol_status == FCGI_REQUEST_COMPLETE ? completed_ : unknown_roles_) += 1;
      }
      pos_ += total;
    }
  }

  int fd_;
  std::string in_;
  std::size_t pos_ = 0;
  int completed_ = 0;
  int unknown_roles_ = 0;
};

std::size_t send_some(int fd, const std::uint8_t* data, std::size_t size) {
  std::size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fd, data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  return sent;
}

// The rest of an input too large for the socket buffers, sent as the connection reads it.
void send_rest(int fd, const std::uint8_t* data, std::size_t size) {
  std::size_t sent = 0;
  while (sent < size) {
    sent += send_some(fd, data + sent, size - sent);
    if (sent == size || (errno != EAGAIN && errno != EINTR)) break;  // EPIPE: the reader left
    pollfd pfd{fd, POLLOUT, 0};
    if (::poll(&pfd, 1, 100) < 0 && errno != EINTR) break;
  }
  ::shutdown(fd, SHUT_WR);
}

bool valid_request_id(std::string_view id) {
  return id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

// The answer the harness gives: small, and without render_error() for 5xx, which it logs.
Response answer_for(const Status& status, const Request& request) {
  Response response;
  if (status.is_ok()) {
    response = json_response(R"({"ok":true})");
    response.headers.emplace_back("X-Body-Bytes", std::to_string(request.body.size()));
  } else {
    response.status = error_kind(status.code()).http_status;
    response.body = R"({"error":{}})";
  }
  return response;
}

}  // namespace
}  // namespace chatalot

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chatalot;
  int fds[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  const int peer_fd = fds[0];
  const int server_fd = fds[1];
  const int buffer = 1 << 20;
  ::setsockopt(peer_fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  ::setsockopt(server_fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);

  const std::size_t first = send_some(peer_fd, data, size);
  std::thread writer;
  if (first == size) {
    ::shutdown(peer_fd, SHUT_WR);
  } else {
    writer = std::thread(send_rest, peer_fd, data + first, size - first);
  }

  Peer peer(peer_fd);
  int answers = 0;
  {
    FcgiConnection conn(server_fd, kRequestTimeoutMs);
    const auto answer = [&](const Status& status) {
      const Request& request = conn.request();
      const bool sent =
          conn.write_response(answer_for(status, request), request.method == "HEAD", request.request_id);
      if (sent) ++answers;
      fuzz::trace("request", request.method + " " + request.path + " -> " +
                                 std::to_string(answer_for(status, request).status) + " body " +
                                 std::to_string(request.body.size()) + (sent ? "" : " (unsent)"));
      peer.read(0);
      return sent;
    };
    for (bool done = false; !done;) {
      const FcgiConnection::Step step = conn.read(kMaxBodyBytes);
      FUZZ_CHECK(conn.buffer_capacity() <= kMaxBufferBytes);
      switch (step) {
        case FcgiConnection::Step::kPending: {
          // Where the server parks the connection in epoll: wait until more arrives, or the
          // request's deadline (which read() enforces).
          pollfd pfd{server_fd, POLLIN, 0};
          ::poll(&pfd, 1, 100);
          break;
        }
        case FcgiConnection::Step::kHead: {
          const Request& request = conn.request();
          FUZZ_CHECK(request.body.empty());
          FUZZ_CHECK(!(request.content_length && request.content_length_invalid));
          FUZZ_CHECK_MSG(valid_request_id(request.request_id), request.request_id);
          if (const Status s = check_request(request, rules_for(request.path)); !s.is_ok()) {
            answer(s);
            conn.refuse();
          }
          break;
        }
        case FcgiConnection::Step::kTooLarge:
          FUZZ_CHECK(conn.request().body.size() <= kMaxBodyBytes);
          answer(Status(Code::kTooLarge, Msg::kBodyTooLarge));
          conn.refuse();
          break;
        case FcgiConnection::Step::kRequest:
          FUZZ_CHECK(conn.request().body.size() <= kMaxBodyBytes);
          if (!answer(Status::ok()) || !conn.keep_conn()) {
            done = true;
          } else {
            conn.next_request();
          }
          break;
        case FcgiConnection::Step::kSkipped:
          conn.next_request();
          break;
        case FcgiConnection::Step::kClosed:
        case FcgiConnection::Step::kBroken:
          done = true;
          break;
      }
    }
  }  // the connection closes its descriptor
  FUZZ_CHECK(::fcntl(server_fd, F_GETFD) == -1 && errno == EBADF);
  peer.read(kRequestTimeoutMs);
  if (writer.joinable()) writer.join();
  ::close(peer_fd);

  FUZZ_CHECK(peer.all_parsed());
  FUZZ_CHECK(peer.completed() == answers);
  FUZZ_CHECK(peer.unknown_roles() <= 1);
  return 0;
}
