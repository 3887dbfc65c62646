#include "http/server.h"

#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <thread>
#include <vector>

#include "core/log.h"
#include "http/fcgi.h"
#include "http/render.h"

namespace chatalot {
namespace {

constexpr int kSystemdFirstFd = 3;  // SD_LISTEN_FDS_START
constexpr auto kDrainWindow = std::chrono::seconds(2);

// The self-pipe written by the signal handler: once readable it stays readable, so every
// worker sees it.
int g_wake_read = -1;
int g_wake_write = -1;
std::atomic<bool> g_stopping{false};

void on_stop_signal(int /*signo*/) {
  const int saved = errno;
  g_stopping.store(true);
  const char byte = 1;
  (void)!::write(g_wake_write, &byte, 1);
  errno = saved;
}

Status errno_status(const std::string& what) {
  return unavailable(what + ": " + std::strerror(errno));
}

bool is_listening_socket(int fd) {
  int accepting = 0;
  socklen_t len = sizeof accepting;
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting != 0;
}

Result<int> listen_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Status(Code::kFailedPrecondition, "unix socket path is empty or too long: " + path);
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_status("socket");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::chmod(path.c_str(), 0660) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    Status s = errno_status("listen on unix:" + path);
    ::close(fd);
    return s;
  }
  return fd;
}

Result<int> listen_tcp(const std::string& spec) {
  const std::size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon + 1 == spec.size()) {
    return Status(Code::kFailedPrecondition, "--listen wants unix:PATH or HOST:PORT, got " + spec);
  }
  std::string host = spec.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = spec.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return Status(Code::kFailedPrecondition, "cannot resolve " + spec + ": " + gai_strerror(rc));
  }
  Status last = unavailable("no address for " + spec);
  int result = -1;
  for (addrinfo* ai = found; ai != nullptr && result < 0; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      result = fd;
    } else {
      last = errno_status("listen on " + spec);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (result < 0) return last;
  return result;
}

// The socket systemd passed (exactly one, for this process), or -1.
int systemd_socket() {
  const char* fds = std::getenv("LISTEN_FDS");  // NOLINT(concurrency-mt-unsafe): start-up only
  const char* pid = std::getenv("LISTEN_PID");  // NOLINT(concurrency-mt-unsafe)
  if (fds == nullptr || pid == nullptr || std::atoi(pid) != ::getpid() || std::atoi(fds) != 1) {
    return -1;
  }
  ::unsetenv("LISTEN_FDS");  // NOLINT(concurrency-mt-unsafe)
  ::unsetenv("LISTEN_PID");  // NOLINT(concurrency-mt-unsafe)
  ::unsetenv("LISTEN_FDNAMES");  // NOLINT(concurrency-mt-unsafe)
  ::fcntl(kSystemdFirstFd, F_SETFD, FD_CLOEXEC);
  return kSystemdFirstFd;
}

// Serves one request on a connection whose first bytes have arrived (or are about to: nginx
// connected to send it). Returns whether the connection may carry another request.
bool serve_one(FcgiConnection& conn, const EndpointRules& rules, Worker& worker) {
  Request request;
  if (conn.read_head(&request) != FcgiConnection::Next::kRequest) return false;
  const auto start = std::chrono::steady_clock::now();
  Status status = check_request(request, rules);
  if (status.is_ok()) status = conn.read_body(&request, kMaxBodyBytes);
  const Response response =
      status.is_ok() ? dispatch(worker, request) : render_error(status, request.request_id);
  const bool sent = conn.write_response(response, request.method == "HEAD", request.request_id);
  log_request(request.method, request.path, response.status,
              std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start),
              request.request_id);
  // A refused request may have left its body unread: the connection cannot carry another.
  return sent && status.is_ok() && conn.keep_conn();
}

// The open connections, by descriptor. A descriptor is in one thread's hands at a time: epoll
// hands each ready one to a single worker (one-shot) and that worker parks it again, so a slot
// needs no lock. The connections still parked at exit are freed with the table.
class Connections {
 public:
  Connections() {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    slots_.resize(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
  }
  // A connection beyond the table is served, but not parked: the caller owns it.
  bool parkable(int fd) const { return static_cast<std::size_t>(fd) < slots_.size(); }
  void park(std::unique_ptr<FcgiConnection> conn) {
    slots_[static_cast<std::size_t>(conn->fd())] = std::move(conn);
  }
  FcgiConnection& at(int fd) { return *slots_[static_cast<std::size_t>(fd)]; }
  void close(int fd) { slots_[static_cast<std::size_t>(fd)].reset(); }

 private:
  std::vector<std::unique_ptr<FcgiConnection>> slots_;
};

struct Loop {
  int ep;
  int listen_fd;
  int io_timeout_ms;
  const EndpointRules& rules;
  Connections& connections;
};

// Serves a parked connection's ready request; a kept-alive connection then goes back into the
// epoll set (one-shot), idle, holding no thread: any worker takes its next request. This is
// what makes nginx's fastcgi_keep_conn safe with any number of pooled connections (FIELD-NOTES
// pitfall 1).
void serve_and_park(const Loop& loop, int fd, Worker& worker) {
  if (!serve_one(loop.connections.at(fd), loop.rules, worker)) {
    loop.connections.close(fd);
    return;
  }
  epoll_event ev{EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, {.fd = fd}};
  if (::epoll_ctl(loop.ep, EPOLL_CTL_MOD, fd, &ev) != 0 &&
      ::epoll_ctl(loop.ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    loop.connections.close(fd);
  }
}

// Returns whether it served a connection.
bool accept_and_serve(const Loop& loop, Worker& worker) {
  const int fd = ::accept4(loop.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
      log_error(std::string("accept: ") + std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  auto conn = std::make_unique<FcgiConnection>(fd, loop.io_timeout_ms);
  if (!loop.connections.parkable(fd)) {
    (void)serve_one(*conn, loop.rules, worker);
    return true;
  }
  loop.connections.park(std::move(conn));
  serve_and_park(loop, fd, worker);
  return true;
}

// All workers wait on one epoll set holding the listening socket, the wake pipe and the idle
// kept-alive connections; the kernel hands each ready descriptor to one waiting worker.
void worker_thread(const Loop& loop, const Endpoint& endpoint) {
  const std::unique_ptr<Worker> worker = endpoint.new_worker();
  std::chrono::steady_clock::time_point drain_until{};
  epoll_event events[8];
  for (;;) {
    const bool stopping = g_stopping.load();
    if (stopping && drain_until == std::chrono::steady_clock::time_point{}) {
      drain_until = std::chrono::steady_clock::now() + kDrainWindow;
    }
    if (stopping && std::chrono::steady_clock::now() > drain_until) break;
    // Running: one event at a time, so a ready connection never waits behind another. Stopping:
    // serve what is already there (queued connections, requests on kept connections), then
    // leave when nothing is ready but the wake pipe.
    const int n = ::epoll_wait(loop.ep, events, stopping ? 8 : 1, stopping ? 0 : -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    bool served = false;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == g_wake_read) continue;
      if (fd == loop.listen_fd) {
        served = accept_and_serve(loop, *worker) || served;
      } else {
        serve_and_park(loop, fd, *worker);
        served = true;
      }
    }
    if (stopping && !served) break;
  }
}

}  // namespace

Response dispatch(Worker& worker, const Request& request) {
  try {
    return worker.handle(request);
  } catch (const std::exception& e) {
    log_error(std::string("unhandled exception: ") + e.what() + " request_id=" + request.request_id);
  } catch (...) {
    log_error("unhandled non-standard exception request_id=" + request.request_id);
  }
  return render_error(internal_error("unhandled exception"));
}

Result<int> open_listener(const std::string& spec) {
  if (spec.rfind("unix:", 0) == 0) return listen_unix(spec.substr(5));
  if (!spec.empty()) return listen_tcp(spec);
  if (const int fd = systemd_socket(); fd >= 0) return fd;
  if (is_listening_socket(STDIN_FILENO)) return STDIN_FILENO;
  return Status(Code::kFailedPrecondition,
                "no listening socket: pass --listen unix:PATH or --listen HOST:PORT, or start "
                "the service through its systemd socket");
}

int serve(int listen_fd, int threads, int io_timeout_ms, const Endpoint& endpoint) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    log_error(std::string("pipe: ") + std::strerror(errno));
    return 1;
  }
  g_wake_read = pipe_fds[0];
  g_wake_write = pipe_fds[1];
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Non-blocking, so a worker woken for a connection another took does not block in accept.
  ::fcntl(listen_fd, F_SETFL, ::fcntl(listen_fd, F_GETFL) | O_NONBLOCK);

  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event listen_event{EPOLLIN, {.fd = listen_fd}};
  epoll_event wake_event{EPOLLIN, {.fd = g_wake_read}};
  if (ep < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &listen_event) != 0 ||
      ::epoll_ctl(ep, EPOLL_CTL_ADD, g_wake_read, &wake_event) != 0) {
    log_error(std::string("epoll: ") + std::strerror(errno));
    return 1;
  }
  Connections connections;
  const Loop loop{ep, listen_fd, io_timeout_ms, endpoint.rules, connections};
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker_thread, std::cref(loop), std::cref(endpoint));
  for (std::thread& t : pool) t.join();
  // Idle kept-alive connections still parked close with `connections`: none holds a request.
  ::close(listen_fd);
  ::close(ep);
  log_info("stopped: every accepted request was answered");
  return 0;
}

int run_main(int argc, char** argv, const char* name, unsigned needs,
             const EndpointFactory& factory) {
  std::string listen;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: %s [--check-config] [--listen unix:PATH | --listen HOST:PORT]\n", name);
      return 0;
    } else {
      std::fprintf(stderr, "%s: unknown argument %s (try --help)\n", name, arg.c_str());
      return 2;
    }
  }
  Result<Config> config = load_config(process_env(), needs);
  if (!config.is_ok()) {
    // One line per problem, each naming the executable, so every problem shows in the journal.
    const std::string& problems = config.status().describe();
    for (std::size_t start = 0; start <= problems.size();) {
      const std::size_t end = std::min(problems.find('\n', start), problems.size());
      std::fprintf(stderr, "%s: %s\n", name, problems.substr(start, end - start).c_str());
      start = end + 1;
    }
    return kExitConfig;
  }
  Result<Endpoint> endpoint = factory(*config);
  if (!endpoint.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", name, endpoint.status().describe().c_str());
    return kExitConfig;
  }
  if (check_only) {
    std::printf("%s", describe_config(*config).c_str());
    return 0;
  }
  if (endpoint->on_start) {
    if (Status s = endpoint->on_start(); !s.is_ok()) {
      std::fprintf(stderr, "%s: %s\n", name, s.describe().c_str());
      return 1;
    }
  }
  Result<int> fd = open_listener(listen);
  if (!fd.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", name, fd.status().describe().c_str());
    return 1;
  }
  log_info(std::string(name) + " started: registration_mode=" +
           std::string(to_string(config->registration_mode)) +
           " threads=" + std::to_string(config->worker_threads));
  return serve(*fd, config->worker_threads, config->request_timeout_ms, *endpoint);
}

}  // namespace chatalot
