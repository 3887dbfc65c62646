// serve() in this process, on a unix socket in a temporary directory, with two workers, attacked
// with raw sockets: the review's slow, idle, many and padded peers, and a stop among them.
#include "http/server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <thread>

#include "../fcgi_client.h"
#include "http/render.h"

namespace chatalot {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::begin_request;
using testing::encode_params;
using testing::read_response;
using testing::record;
using testing::RecordReader;
using testing::whole_request;
using testing::write_all;

using Params = std::vector<std::pair<std::string, std::string>>;

Params get(const std::string& path) { return {{"REQUEST_METHOD", "GET"}, {"DOCUMENT_URI", path}}; }

ServeOptions options(int request_timeout_ms, int idle_timeout_ms, int max_connections = 0) {
  return {2, request_timeout_ms, idle_timeout_ms, max_connections};
}

int open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  int n = 0;
  while (const dirent* e = ::readdir(dir)) n += e->d_name[0] != '.';
  ::closedir(dir);
  return n - 1;  // the directory's own
}

long rss_bytes() {
  long pages = 0;
  long resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr || std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  if (f != nullptr) std::fclose(f);
  return resident * ::sysconf(_SC_PAGESIZE);
}

// serve() on a thread of its own. The handler answers 200 {"path":...}; "/slow" takes 800 ms.
class TestServer {
 public:
  explicit TestServer(const ServeOptions& opts) {
    char dir[] = "/tmp/server_test.XXXXXX";
    dir_ = ::mkdtemp(dir);
    path_ = dir_ + "/s.sock";
    Result<int> fd = open_listener("unix:" + path_);
    EXPECT_TRUE(fd.is_ok());
    endpoint_.rules = {{"GET", "HEAD", "POST"}, true};
    endpoint_.new_worker = [] {
      return std::make_unique<FunctionWorker>([](const Request& r) {
        if (r.path == "/slow") std::this_thread::sleep_for(milliseconds(800));
        return json_response(R"({"path":")" + r.path + R"("})");
      });
    };
    done_ = std::async(std::launch::async, [this, fd = *fd, opts] { return serve(fd, opts, endpoint_); })
                .share();
    // Up once it answers: from then on request_stop() reaches it.
    const int probe = connect();
    bool ended = false;
    write_all(probe, whole_request(get("/probe")));
    read_response(probe, &ended);
    EXPECT_TRUE(ended);
    ::close(probe);
  }
  ~TestServer() {
    request_stop();
    done_.wait();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  int connect() const { return testing::unix_stream_to(path_); }
  const std::string& path() const { return path_; }

  // Stops the server; whether serve() returned 0 within timeout_ms.
  bool stops_within(int timeout_ms) {
    request_stop();
    return done_.wait_for(milliseconds(timeout_ms)) == std::future_status::ready && done_.get() == 0;
  }

 private:
  std::string dir_;
  std::string path_;
  Endpoint endpoint_;
  std::shared_future<int> done_;
};

// One request on a new connection: whether a 200 came within timeout_ms.
bool answered(const TestServer& server, const std::string& path, int timeout_ms = 1000) {
  const int fd = server.connect();
  bool ended = false;
  const bool ok = write_all(fd, whole_request(get(path))) &&
                  read_response(fd, &ended, timeout_ms).find("Status: 200 OK") != std::string::npos;
  ::close(fd);
  return ok && ended;
}

// Peers that send a long request one byte per interval, on a thread, until destroyed.
class Tricklers {
 public:
  Tricklers(const TestServer& server, int count, milliseconds interval) {
    const std::string request = whole_request(get("/" + std::string(4000, 'x')));
    for (int i = 0; i < count; ++i) fds_.push_back(server.connect());
    thread_ = std::thread([this, request, interval] {
      for (std::size_t at = 0; !stop_.load() && at < request.size(); ++at) {
        for (const int fd : fds_) write_all(fd, request.substr(at, 1));
        std::this_thread::sleep_for(interval);
      }
    });
  }
  ~Tricklers() {
    stop_ = true;
    thread_.join();
    for (const int fd : fds_) ::close(fd);
  }
  const std::vector<int>& fds() const { return fds_; }

 private:
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// (a) The review's 16 peers sending a byte every 20 s held all 16 threads: here 8 peers and 2
// workers, and every other request is still answered at once.
TEST(Serve, SlowPeersOutnumberingTheWorkersHoldNone) {
  TestServer server(options(10000, 10000));
  Tricklers slow(server, 8, milliseconds(100));
  std::this_thread::sleep_for(milliseconds(300));
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    EXPECT_TRUE(answered(server, "/ok")) << i;
    EXPECT_LT(Clock::now() - start, milliseconds(500)) << i;
  }
}

// (b) One deadline per request, from its first byte, however regularly its bytes come.
TEST(Serve, ARequestThatNeverCompletesIsClosedAtItsDeadline) {
  TestServer server(options(300, 10000));
  const int fd = server.connect();
  const std::string request = whole_request(get("/" + std::string(1000, 'x')));
  const auto start = Clock::now();
  bool closed = false;
  for (std::size_t at = 0; at < request.size() && !closed; ++at) {
    write_all(fd, request.substr(at, 1));
    closed = testing::ends_within(fd, 50);
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_GE(elapsed, milliseconds(280));
  EXPECT_LT(elapsed, milliseconds(1000)) << "300 ms deadline, 250 ms sweeps";
  ::close(fd);
  EXPECT_TRUE(answered(server, "/ok")) << "a complete request is not cut short";
}

// (c) Idle kept connections are closed, whether they carried a request or never sent a byte.
TEST(Serve, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  TestServer server(options(10000, 300));
  const int kept = server.connect();
  const int silent = server.connect();
  bool ended = false;
  ASSERT_TRUE(write_all(kept, whole_request(get("/a"), {}, /*keep_conn=*/true)));
  EXPECT_NE(read_response(kept, &ended).find("Status: 200"), std::string::npos);
  const auto start = Clock::now();
  EXPECT_TRUE(testing::ends_within(kept, 1500));
  EXPECT_GE(Clock::now() - start, milliseconds(250));
  EXPECT_TRUE(testing::ends_within(silent, 1500));
  ::close(kept);
  ::close(silent);
}

// (c) Beyond the limit, a new connection takes the place of the one idle longest: descriptors
// stay bounded and new connections are served.
TEST(Serve, TheConnectionLimitHoldsAndNewConnectionsAreServed) {
  constexpr int kLimit = 8;
  constexpr int kPeers = 40;
  TestServer server(options(10000, 60000, kLimit));
  const int base = open_fds();
  std::vector<int> peers;
  for (int i = 0; i < kPeers; ++i) {
    peers.push_back(server.connect());
    bool ended = false;
    ASSERT_TRUE(write_all(peers.back(), whole_request(get("/a"), {}, true)));
    EXPECT_NE(read_response(peers.back(), &ended).find("Status: 200"), std::string::npos) << i;
  }
  std::this_thread::sleep_for(milliseconds(100));
  // The test's own kPeers descriptors, and at most kLimit of the server's.
  EXPECT_LE(open_fds(), base + kPeers + kLimit);
  EXPECT_TRUE(answered(server, "/new"));
  bool ended = false;
  ASSERT_TRUE(write_all(peers.back(), whole_request(get("/again"), {}, true)));
  EXPECT_NE(read_response(peers.back(), &ended).find("Status: 200"), std::string::npos)
      << "the newest kept connection still works";
  EXPECT_TRUE(testing::ends_within(peers.front(), 500)) << "the oldest idle one made room";
  for (const int fd : peers) ::close(fd);
}

// Redirects stderr to a file while it lives; text() is what was written.
class CapturedStderr {
 public:
  CapturedStderr() : file_(std::tmpfile()), saved_(::dup(STDERR_FILENO)) {
    ::dup2(::fileno(file_), STDERR_FILENO);
  }
  ~CapturedStderr() {
    restore();
    std::fclose(file_);
  }
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  std::string text() {
    std::string out;
    char buf[4096];
    ::lseek(::fileno(file_), 0, SEEK_SET);
    for (ssize_t n; (n = ::read(::fileno(file_), buf, sizeof buf)) > 0;) {
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  std::FILE* file_;
  int saved_;
};

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Descriptors run out anyway (other files, a limit lowered under it): accept pauses, the log
// gets a line a second at most (the review counted 97 000 a minute), and serving resumes.
TEST(Serve, DescriptorExhaustionPausesAcceptingAndLogsRarely) {
  TestServer server(options(10000, 60000));
  std::vector<int> peers;  // made now: connect() needs no new descriptor
  for (int i = 0; i < 20; ++i) peers.push_back(::socket(AF_UNIX, SOCK_STREAM, 0));
  CapturedStderr log;
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(open_fds() + 8);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;  // every descriptor below the limit taken
  for (int fd; (fd = ::dup(STDIN_FILENO)) >= 0;) fillers.push_back(fd);
  for (const int fd : peers) EXPECT_TRUE(testing::connect_unix_fd(fd, server.path()));
  std::this_thread::sleep_for(milliseconds(1500));
  for (const int fd : fillers) ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  log.restore();
  bool ended = false;
  ASSERT_TRUE(write_all(peers.back(), whole_request(get("/queued"))));
  EXPECT_NE(read_response(peers.back(), &ended).find("Status: 200"), std::string::npos)
      << "accepting resumed";
  for (const int fd : peers) ::close(fd);
  const std::string text = log.text();
  EXPECT_GE(count(text, "accept: Too many open files"), 1U) << text;
  EXPECT_LE(count(text, "accept: "), 2U) << text.substr(0, 2000);
}

// (d) The review's 1-byte records with 254 bytes of padding grew a handler by 600 MB: here 8
// peers send 8 MB of them each, and each is cut off at the request's bound, memory flat.
TEST(Serve, PaddedRecordsKeepMemoryBounded) {
  TestServer server(options(10000, 10000));
  std::string attack = begin_request();
  while (attack.size() < 8 * 1024 * 1024) attack += record(FCGI_PARAMS, "x", 1, 254);
  const long base = rss_bytes();
  std::atomic<long> peak{base};
  std::atomic<int> running{8};
  std::vector<std::size_t> sent(8);
  std::vector<std::thread> peers;
  for (int i = 0; i < 8; ++i) {
    peers.emplace_back([&, i] {
      const int fd = server.connect();
      const timeval two_seconds{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &two_seconds, sizeof two_seconds);
      std::string_view rest = attack;
      for (ssize_t n; !rest.empty() && (n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL)) > 0;) {
        rest.remove_prefix(static_cast<std::size_t>(n));
      }
      sent[static_cast<std::size_t>(i)] = attack.size() - rest.size();
      ::close(fd);
      --running;
    });
  }
  while (running.load() > 0) {
    peak = std::max(peak.load(), rss_bytes());
    std::this_thread::sleep_for(milliseconds(2));
  }
  for (std::thread& t : peers) t.join();
  for (const std::size_t n : sent) EXPECT_LT(n, 2U * 1024 * 1024) << "bytes taken before the cut";
  EXPECT_LT(peak.load() - base, 16L * 1024 * 1024) << "peak growth of the process's memory";
  EXPECT_TRUE(answered(server, "/after"));
}

// (e) Stop: trickling peers do not hold it up beyond the 2 s drain window, and the request a
// worker is serving is answered.
TEST(Serve, AStopAmongTricklingPeersIsPromptAndFinishesTheRequestInFlight) {
  TestServer server(options(10000, 10000));
  Tricklers slow(server, 4, milliseconds(100));
  const int idle = server.connect();
  const int busy = server.connect();
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_TRUE(write_all(busy, whole_request(get("/slow"))));
  std::this_thread::sleep_for(milliseconds(100));
  const auto start = Clock::now();
  std::future<bool> stopped = std::async(std::launch::async, [&] { return server.stops_within(3000); });
  EXPECT_TRUE(testing::ends_within(idle, 500)) << "an idle connection is closed at once";
  bool ended = false;
  EXPECT_NE(read_response(busy, &ended).find("Status: 200 OK"), std::string::npos);
  EXPECT_TRUE(stopped.get()) << "serve() returned 0 within 3 s";
  EXPECT_LT(Clock::now() - start, milliseconds(3000));
  for (const int fd : slow.fds()) EXPECT_TRUE(testing::ends_within(fd, 100));
  ::close(idle);
  ::close(busy);
}

// (f) REQUEST_ID is echoed as X-Request-Id only when it is a plain token.
TEST(Serve, ARequestIdWithControlCharactersOrTooLongIsNotEchoed) {
  TestServer server(options(10000, 10000));
  const auto answer_to = [&](const std::string& id) {
    Params params = get("/id");
    params.emplace_back("REQUEST_ID", id);
    const int fd = server.connect();
    bool ended = false;
    write_all(fd, whole_request(params));
    const std::string out = read_response(fd, &ended);
    ::close(fd);
    return out;
  };
  EXPECT_NE(answer_to("0123abcd").find("X-Request-Id: 0123abcd\r\n"), std::string::npos);
  const std::string injected = answer_to("abc\r\nSet-Cookie: session=stolen");
  EXPECT_NE(injected.find("Status: 200 OK"), std::string::npos);
  EXPECT_EQ(injected.find("X-Request-Id"), std::string::npos) << injected;
  EXPECT_EQ(injected.find("Set-Cookie"), std::string::npos) << injected;
  EXPECT_EQ(answer_to(std::string(65, 'a')).find("X-Request-Id"), std::string::npos);
}

// (g) Two requests in one write: the second was never served when the connection was parked
// with it already in the buffer.
TEST(Serve, PipelinedRequestsAreBothAnswered) {
  TestServer server(options(10000, 10000));
  const int fd = server.connect();
  ASSERT_TRUE(write_all(fd, whole_request(get("/one"), {}, true) + whole_request(get("/two"), {}, true)));
  RecordReader reader(fd);
  EXPECT_NE(reader.response(1000).value_or("").find(R"({"path":"/one"})"), std::string::npos);
  EXPECT_NE(reader.response(1000).value_or("").find(R"({"path":"/two"})"), std::string::npos);
  ::close(fd);
}

// (h) Management records, as the FastCGI specification says: GET_VALUES is answered (one
// request per connection: FCGI_MAX_REQS is the connection limit), other types are unknown, and
// a BEGIN_REQUEST with the management id 0 is refused; the connection goes on.
TEST(Serve, ManagementRecordsAreAnswered) {
  TestServer server(options(10000, 10000, 12));
  const int fd = server.connect();
  RecordReader reader(fd);
  write_all(fd, record(FCGI_GET_VALUES,
                       encode_params({{"FCGI_MAX_CONNS", ""}, {"FCGI_MAX_REQS", ""}, {"FCGI_MPXS_CONNS", ""}}),
                       0));
  const auto values = reader.next(1000);
  ASSERT_TRUE(values);
  EXPECT_EQ(values->type, FCGI_GET_VALUES_RESULT);
  EXPECT_EQ(values->content, encode_params({{"FCGI_MAX_CONNS", "12"},
                                            {"FCGI_MAX_REQS", "12"},
                                            {"FCGI_MPXS_CONNS", "0"}}));
  write_all(fd, record(42, "", 0));
  const auto unknown = reader.next(1000);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->type, FCGI_UNKNOWN_TYPE);
  EXPECT_EQ(unknown->content, std::string("\x2a\0\0\0\0\0\0\0", 8));
  write_all(fd, record(FCGI_BEGIN_REQUEST, std::string("\0\x01\x01\0\0\0\0\0", 8), 0));
  const auto refused = reader.next(1000);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->type, FCGI_UNKNOWN_TYPE);
  EXPECT_EQ(refused->content[0], FCGI_BEGIN_REQUEST);
  write_all(fd, whole_request(get("/after")));
  EXPECT_NE(reader.response().value_or("").find("Status: 200 OK"), std::string::npos);
  ::close(fd);
}

// A request refused before its body is read (415 here) leaves the body unread: the server
// drains it, so the peer reads the answer and the end of the stream, not a reset (nginx logged
// "Connection reset by peer").
TEST(Serve, ARefusedRequestsBodyIsDrainedNotReset) {
  TestServer server(options(10000, 10000));
  Params params = {{"REQUEST_METHOD", "POST"}, {"DOCUMENT_URI", "/x"}, {"CONTENT_TYPE", "text/plain"}};
  const int fd = server.connect();
  ASSERT_TRUE(write_all(fd, whole_request(params, std::string(60000, 'x'), false)));
  std::this_thread::sleep_for(milliseconds(100));
  bool ended = false;
  EXPECT_NE(read_response(fd, &ended).find("Status: 415"), std::string::npos);
  EXPECT_TRUE(ended);
  char byte = 0;
  errno = 0;
  EXPECT_EQ(::read(fd, &byte, 1), 0) << std::strerror(errno);
  ::close(fd);
}

// On a kept connection (nginx's fastcgi_keep_conn) a refused request's body is dropped and the
// connection serves the next request: closing it would fail the next request nginx sends on
// it (nginx answered 503 "upstream prematurely closed connection").
TEST(Serve, ARefusedRequestOnAKeptConnectionLeavesItServing) {
  TestServer server(options(10000, 10000));
  Params params = {{"REQUEST_METHOD", "POST"}, {"DOCUMENT_URI", "/x"}, {"CONTENT_TYPE", "text/plain"}};
  const int fd = server.connect();
  ASSERT_TRUE(write_all(fd, whole_request(params, std::string(60000, 'x'), true)));
  bool ended = false;
  EXPECT_NE(read_response(fd, &ended).find("Status: 415"), std::string::npos);
  ASSERT_TRUE(write_all(fd, whole_request(get("/a"), {}, true)));
  EXPECT_NE(read_response(fd, &ended).find("Status: 200"), std::string::npos);
  ::close(fd);
}

// The ownership of a connection under churn: kept connections served by both workers, closed
// by the sweeper (a 20 ms idle timeout) and evicted at the limit (6), all at once. Every
// answer is whole and is the answer to its own request; a request on a connection closed under
// it is sent again on a new one.
TEST(Serve, ConnectionsChurningBetweenWorkersSweeperAndEvictionAreAnsweredWhole) {
  TestServer server(options(10000, 20, 6));
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      int fd = -1;
      for (int i = 0; i < 150; ++i) {
        const std::string path = "/c" + std::to_string(c) + "/" + std::to_string(i);
        for (int attempt = 0; attempt < 20; ++attempt) {
          if (fd < 0) fd = server.connect();
          bool ended = false;
          const std::string out = write_all(fd, whole_request(get(path), {}, true))
                                      ? read_response(fd, &ended, 2000)
                                      : std::string();
          if (ended) {
            if (out.find(R"({"path":")" + path + R"("})") == std::string::npos) ++wrong;
            break;
          }
          ::close(fd);  // closed under the request: again, on a new connection
          fd = -1;
        }
        if (i % 7 == c % 7) std::this_thread::sleep_for(milliseconds(25));  // idle: swept
      }
      ::close(fd);
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_TRUE(answered(server, "/after"));
}

// A TCP connection to 127.0.0.1:port from the loopback address `source`, or -1.
int tcp_from(const char* source, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// FASTCGI_ALLOWED_ADDRESSES on a TCP listener: a listed peer is served; any other is reset at
// accept with nothing read or answered, and the refusals are logged a line a second at most,
// with their count, and counted again at the stop.
TEST(Serve, ATcpPeerNotAllowedIsResetAtAcceptAndLoggedRarely) {
  Result<int> listener = open_listener("127.0.0.1:0");
  ASSERT_TRUE(listener.is_ok()) << listener.status().describe();
  sockaddr_in bound{};
  socklen_t bound_length = sizeof bound;
  ::getsockname(*listener, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  const int port = ntohs(bound.sin_port);
  ServeOptions opts = options(10000, 10000);
  opts.allowed_peers = AddressList::parse("127.0.0.2, ::1").value();
  Endpoint endpoint;
  endpoint.rules = {{"GET"}, true};
  endpoint.new_worker = [] {
    return std::make_unique<FunctionWorker>([](const Request&) { return json_response("{}"); });
  };
  CapturedStderr captured;
  auto done =
      std::async(std::launch::async, [&, fd = *listener] { return serve(fd, opts, endpoint); });
  const auto served_from = [port](const char* source) {
    const int fd = tcp_from(source, port);
    bool ended = false;
    const bool ok = fd >= 0 && write_all(fd, whole_request(get("/x"))) &&
                    read_response(fd, &ended, 2000).find("Status: 200") != std::string::npos;
    if (fd >= 0) ::close(fd);
    return ok && ended;
  };
  EXPECT_TRUE(served_from("127.0.0.2"));
  constexpr int kStrangers = 20;
  for (int i = 0; i < kStrangers; ++i) {
    const int fd = tcp_from("127.0.0.1", port);
    ASSERT_GE(fd, 0) << "the kernel completes the handshake; the server refuses at accept";
    write_all(fd, whole_request(get("/x")));
    char byte = 0;
    pollfd pfd{fd, POLLIN, 0};
    ASSERT_EQ(::poll(&pfd, 1, 2000), 1) << i;
    const ssize_t n = ::read(fd, &byte, 1);
    EXPECT_TRUE(n < 0 ? errno == ECONNRESET : n == 0) << i << ": not one byte is answered";
    ::close(fd);
  }
  EXPECT_TRUE(served_from("127.0.0.2")) << "the listener serves on";
  request_stop();
  ASSERT_EQ(done.get(), 0);
  captured.restore();
  const std::string log = captured.text();
  const std::size_t lines = count(log, "refused a FastCGI connection from 127.0.0.1: not in");
  EXPECT_GE(lines, 1U) << log;
  EXPECT_LE(lines, 3U) << "a line a second at most:\n" << log;
  EXPECT_NE(
      log.find(std::to_string(kStrangers) + " connection(s) from addresses not allowed refused"),
      std::string::npos)
      << log;
  EXPECT_EQ(count(log, "path=/x"), 2U) << "only the allowed peer's requests were served:\n" << log;
}

}  // namespace
}  // namespace chatalot
