#include "http/listen.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace chatalot {
namespace {

constexpr int kSystemdFirstFd = 3;  // SD_LISTEN_FDS_START

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

}  // namespace

Result<int> open_listener(const std::string& spec) {
  if (spec.rfind("unix:", 0) == 0) return listen_unix(spec.substr(5));
  if (!spec.empty()) return listen_tcp(spec);
  if (const int fd = systemd_socket(); fd >= 0) return fd;
  if (is_listening_socket(STDIN_FILENO)) return STDIN_FILENO;
  return Status(Code::kFailedPrecondition,
                "no listening socket: pass --listen unix:PATH or --listen HOST:PORT, or start "
                "the service through its systemd socket");
}

}  // namespace chatalot
