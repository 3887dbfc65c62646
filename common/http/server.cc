#include "http/server.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/log.h"
#include "http/fcgi.h"
#include "http/render.h"

namespace chatalot {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kDrainWindow = std::chrono::seconds(2);
constexpr auto kSweepInterval = std::chrono::milliseconds(250);
constexpr auto kStopSweepInterval = std::chrono::milliseconds(50);  // exit soon after the last
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
constexpr auto kLogInterval = std::chrono::seconds(1);  // for lines an attack could repeat
constexpr int kReservedFds = 32;           // standard streams, listener, epoll, pipes, files...
constexpr int kReservedFdsPerThread = 4;   // ...and each worker's PostgreSQL and Redis sockets
constexpr int kMaxConnections = 65536;
// epoll data of the two descriptors that are not connections (a connection's is slot | seq).
constexpr std::uint64_t kListenerTag = ~std::uint64_t{0};
constexpr std::uint64_t kExitTag = kListenerTag - 1;

// The self-pipe written by the signal handler, read by serve()'s own thread.
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

std::int64_t ticks(Clock::time_point t) { return t.time_since_epoch().count(); }

// Lets a line through at most once per kLogInterval: for what an attack could repeat.
class Throttle {
 public:
  bool allow(Clock::time_point now) {
    std::int64_t next = next_.load(std::memory_order_relaxed);
    return ticks(now) >= next &&
           next_.compare_exchange_strong(next, ticks(now + kLogInterval), std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> next_{0};
};

// A slot's word is seq << 2 | hold. Its transitions, each one compare-and-swap or a store by
// the only thread that may make it:
//   add()    free(s)   -> owned(s)     the accepting worker
//   take()   parked(s) -> owned(s)     the worker whose epoll event carries s
//   claim()  parked(s) -> owned(s)     the sweeper, or a worker evicting at the limit
//   park()   owned(s)  -> parked(s+1)  the holder, after arming epoll with s+1; an event that
//                                      comes before finds owned(s) and marks it ready(s), and
//                                      the holder then keeps it as owned(s+1) and serves again
//   close()  owned(s)  -> free(s+1)    the holder
// So of an event, the sweeper and an eviction exactly one wins a parked connection, and an
// event from an earlier park or an earlier connection of the slot (a reused descriptor)
// matches nothing and is ignored. Only the low 32 bits of s travel in the event.
enum Hold : std::uint64_t {
  kFree = 0,
  kOwned = 1,       // in one thread's hands (a worker's, or the sweeper's while it closes)
  kParked = 2,      // in the epoll set: the next event or the sweeper takes it
  kOwnedReady = 3,  // owned, and its event already came while the owner was parking it
};
constexpr std::uint64_t word_of(std::uint64_t seq, Hold hold) { return seq << 2 | hold; }
constexpr std::uint64_t seq_of(std::uint64_t word) { return word >> 2; }
constexpr Hold hold_of(std::uint64_t word) { return static_cast<Hold>(word & 3); }
constexpr std::uint64_t event_data(std::uint32_t slot, std::uint64_t seq) {
  return (seq & 0xffffffffU) << 32 | slot;
}

struct Slot {
  std::atomic<std::uint64_t> word{word_of(0, kFree)};
  // Set by the holder before it parks the connection; read by the sweeper while parked.
  std::atomic<std::int64_t> expires{0};
  std::atomic<bool> idle{false};
  std::unique_ptr<FcgiConnection> conn;  // the holder's only
  bool in_epoll = false;                 // the holder's only: MOD rather than ADD
};

// The open connections: a fixed table of slots, one per connection, and the free ones.
class Connections {
 public:
  Connections(int capacity, int ep)
      : capacity_(static_cast<std::uint32_t>(capacity)),
        slots_(std::make_unique<Slot[]>(capacity_)),
        ep_(ep) {
    free_.reserve(capacity_);
    for (std::uint32_t i = capacity_; i > 0; --i) free_.push_back(i - 1);
  }

  int open() const { return open_.load(); }
  bool full() const { return open() >= static_cast<int>(capacity_); }
  FcgiConnection& at(std::uint32_t slot) { return *slots_[slot].conn; }

  // Puts a new connection in a free slot, held by the caller; nullopt (and the connection
  // closed) when there is none.
  std::optional<std::uint32_t> add(std::unique_ptr<FcgiConnection> conn) {
    std::uint32_t i = 0;
    {
      const std::lock_guard<std::mutex> lock(free_mutex_);
      if (free_.empty()) return std::nullopt;
      i = free_.back();
      free_.pop_back();
    }
    Slot& s = slots_[i];
    s.conn = std::move(conn);
    s.word.store(word_of(seq_of(s.word.load(std::memory_order_relaxed)), kOwned),
                 std::memory_order_release);
    open_.fetch_add(1);
    return i;
  }

  // The slot an event names, now held by the caller; nullopt for a stale event, or for one that
  // came while the holder was still parking the connection (the holder then serves it again).
  std::optional<std::uint32_t> take(std::uint64_t data) {
    const auto i = static_cast<std::uint32_t>(data);
    const auto seq = static_cast<std::uint32_t>(data >> 32);
    if (i >= capacity_) return std::nullopt;
    std::atomic<std::uint64_t>& word = slots_[i].word;
    std::uint64_t cur = word.load(std::memory_order_acquire);
    for (;;) {
      const auto cur_seq = static_cast<std::uint32_t>(seq_of(cur));
      Hold next = kFree;
      if (hold_of(cur) == kParked && cur_seq == seq) {
        next = kOwned;
      } else if (hold_of(cur) == kOwned && static_cast<std::uint32_t>(cur_seq + 1) == seq) {
        next = kOwnedReady;
      } else {
        return std::nullopt;
      }
      if (word.compare_exchange_weak(cur, word_of(seq_of(cur), next), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
        return next == kOwned ? std::optional(i) : std::nullopt;
      }
    }
  }

  enum class Park { kParked, kReady, kClosed };
  // The holder gives its connection to the epoll set until it is readable or `expires` passes.
  // kReady: it was readable already, and the caller still holds it.
  Park park(std::uint32_t i, Clock::time_point expires, bool idle) {
    Slot& s = slots_[i];
    const std::uint64_t seq = seq_of(s.word.load(std::memory_order_relaxed));
    s.expires.store(ticks(expires), std::memory_order_relaxed);
    s.idle.store(idle, std::memory_order_relaxed);
    // Armed before it is published as parked: once published, the sweeper may close it.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.u64 = event_data(i, seq + 1);
    if (::epoll_ctl(ep_, s.in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s.conn->fd(), &ev) != 0) {
      close(i);
      return Park::kClosed;
    }
    s.in_epoll = true;
    std::uint64_t expected = word_of(seq, kOwned);
    if (s.word.compare_exchange_strong(expected, word_of(seq + 1, kParked),
                                       std::memory_order_acq_rel)) {
      return Park::kParked;
    }
    s.word.store(word_of(seq + 1, kOwned), std::memory_order_relaxed);  // expected: kOwnedReady
    return Park::kReady;
  }

  // The holder closes its connection and frees the slot.
  void close(std::uint32_t i) {
    Slot& s = slots_[i];
    s.conn.reset();
    s.in_epoll = false;
    s.word.store(word_of(seq_of(s.word.load(std::memory_order_relaxed)) + 1, kFree),
                 std::memory_order_release);
    {
      const std::lock_guard<std::mutex> lock(free_mutex_);
      free_.push_back(i);
    }
    open_.fetch_sub(1);
  }

  // Closes the parked connections whose time is up, and the idle ones when `close_idle`.
  // Returns how many it closed.
  int sweep(Clock::time_point now, bool close_idle) {
    int closed = 0;
    for (std::uint32_t i = 0; i < capacity_; ++i) {
      Slot& s = slots_[i];
      const std::uint64_t cur = s.word.load(std::memory_order_acquire);
      if (hold_of(cur) != kParked) continue;
      const bool due = s.expires.load(std::memory_order_relaxed) <= ticks(now) ||
                       (close_idle && s.idle.load(std::memory_order_relaxed));
      if (due && claim(i, cur)) {
        close(i);
        ++closed;
      }
    }
    return closed;
  }

  // Makes room at the limit: closes the parked connection that has waited longest, idle ones
  // first (their expiry is their idle start plus the same timeout), then the request that began
  // first. False when every connection is in a worker's hands.
  bool evict() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::optional<std::uint32_t> victim;
      std::uint64_t victim_word = 0;
      std::pair<bool, std::int64_t> oldest{true, 0};
      for (std::uint32_t i = 0; i < capacity_; ++i) {
        const Slot& s = slots_[i];
        const std::uint64_t cur = s.word.load(std::memory_order_acquire);
        if (hold_of(cur) != kParked) continue;
        const std::pair<bool, std::int64_t> key{!s.idle.load(std::memory_order_relaxed),
                                                s.expires.load(std::memory_order_relaxed)};
        if (!victim || key < oldest) {
          victim = i;
          victim_word = cur;
          oldest = key;
        }
      }
      if (!victim) return false;
      if (claim(*victim, victim_word)) {
        close(*victim);
        return true;
      }
    }
    return false;
  }

 private:
  // Parked -> held by the caller, if the slot is still parked as `parked` says.
  bool claim(std::uint32_t i, std::uint64_t parked) {
    return slots_[i].word.compare_exchange_strong(parked, word_of(seq_of(parked), kOwned),
                                                 std::memory_order_acq_rel);
  }

  const std::uint32_t capacity_;
  const std::unique_ptr<Slot[]> slots_;
  const int ep_;
  std::mutex free_mutex_;
  std::vector<std::uint32_t> free_;
  std::atomic<int> open_{0};
};

// The listening socket's membership of the epoll set: out of it for kAcceptPause when accept()
// runs out of descriptors or memory (it stays readable: left in, every worker would spin on it),
// and for good once stopping. Rare events, so one mutex.
class Listener {
 public:
  Listener(int ep, int fd) : ep_(ep), fd_(fd) {}
  int fd() const { return fd_; }

  bool start() {
    const std::lock_guard<std::mutex> lock(mutex_);
    listening_ = add();
    return listening_;
  }

  // A worker's accept() failed for want of descriptors or memory.
  void pause(int error) {
    const Clock::time_point now = Clock::now();
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!listening_) return;
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd_, nullptr);
    listening_ = false;
    resume_at_ = now + kAcceptPause;
    ++pauses_;
    if (log_.allow(now)) {
      log_error(std::string("accept: ") + std::strerror(error) + "; not accepting for " +
                std::to_string(kAcceptPause.count()) + " ms (" + std::to_string(pauses_) +
                " pause(s) since the last such line)");
      pauses_ = 0;
    }
  }

  // The sweeper: back into the epoll set once the pause is over. Returns when to call again.
  std::optional<Clock::time_point> resume_if_due(Clock::time_point now) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (listening_ || stopped_) return std::nullopt;
    if (now < resume_at_) return resume_at_;
    listening_ = add();
    return listening_ ? std::nullopt : std::optional(now + kAcceptPause);
  }

  void stop() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (listening_) ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd_, nullptr);
    listening_ = false;
    stopped_ = true;
  }

 private:
  bool add() {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerTag;
    return ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd_, &ev) == 0;
  }

  const int ep_;
  const int fd_;
  std::mutex mutex_;
  bool listening_ = false;
  bool stopped_ = false;
  Clock::time_point resume_at_{};
  int pauses_ = 0;
  Throttle log_;
};

// Connections from addresses FASTCGI_ALLOWED_ADDRESSES does not list: counted, and logged at
// most once per kLogInterval (a scan or a flood could repeat them).
class RefusedPeers {
 public:
  void refuse(const sockaddr* peer, socklen_t length) {
    const std::int64_t since = unlogged_.fetch_add(1) + 1;
    total_.fetch_add(1);
    if (log_.allow(Clock::now())) {
      unlogged_.fetch_sub(since);
      log_error("refused a FastCGI connection from " + peer_text(peer, length) +
                ": not in FASTCGI_ALLOWED_ADDRESSES (" + std::to_string(since) +
                " refused since the last such line)");
    }
  }
  std::int64_t total() const { return total_.load(); }

 private:
  std::atomic<std::int64_t> unlogged_{0};
  std::atomic<std::int64_t> total_{0};
  Throttle log_;
};

struct Loop {
  int ep;
  int request_timeout_ms;
  std::chrono::milliseconds idle_timeout;
  int max_connections;
  const EndpointRules& rules;
  Connections& connections;
  Listener& listener;
  Throttle& full_log;
  const AddressList& allowed_peers;
  RefusedPeers& refused_peers;
  std::atomic<bool>& exiting;  // set once the stop is over: workers return
  bool stopping() const { return g_stopping.load(); }
};

// Sends an answer and writes the access line; false when the write failed.
bool answer(FcgiConnection& conn, const Response& response) {
  const Request& request = conn.request();
  const bool sent = conn.write_response(response, request.method == "HEAD", request.request_id);
  log_request(request.method, request.path, response.status,
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - conn.started()),
              request.request_id);
  return sent;
}

// A request refused before its body is read: answered, then its body dropped (a kept
// connection goes on) or its input drained before close.
void refuse(FcgiConnection& conn, const Status& status) {
  answer(conn, render_error(status, conn.request().request_id));
  conn.refuse();
}

enum class After { kPark, kClose };

// Serves every request the connection's input holds, and reads no further than has arrived.
After serve_ready(const Loop& loop, FcgiConnection& conn, Worker& worker) {
  for (;;) {
    switch (conn.read(kMaxBodyBytes)) {
      case FcgiConnection::Step::kPending:
        return loop.stopping() && conn.idle() ? After::kClose : After::kPark;
      case FcgiConnection::Step::kHead:
        if (Status s = check_request(conn.request(), loop.rules); !s.is_ok()) refuse(conn, s);
        break;
      case FcgiConnection::Step::kTooLarge:
        refuse(conn, Status(Code::kTooLarge, Msg::kBodyTooLarge));
        break;
      case FcgiConnection::Step::kSkipped:
        conn.next_request();
        break;
      case FcgiConnection::Step::kRequest:
        if (!answer(conn, dispatch(worker, conn.request())) || !conn.keep_conn()) {
          return After::kClose;
        }
        conn.next_request();  // a pipelined request is served in the next turn
        break;
      case FcgiConnection::Step::kClosed:
      case FcgiConnection::Step::kBroken:
        return After::kClose;
    }
  }
}

// The caller holds the slot; it leaves it parked or closed.
void serve_slot(const Loop& loop, std::uint32_t slot, Worker& worker) {
  for (;;) {
    FcgiConnection& conn = loop.connections.at(slot);
    if (serve_ready(loop, conn, worker) == After::kClose) {
      loop.connections.close(slot);
      return;
    }
    const Clock::time_point expires =
        conn.idle() ? conn.idle_since() + loop.idle_timeout : conn.deadline();
    if (loop.connections.park(slot, expires, conn.idle()) != Connections::Park::kReady) return;
  }
}

void accept_one(const Loop& loop, Worker& worker) {
  if (loop.stopping()) return;
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  const int fd =
      ::accept4(loop.listener.fd(), reinterpret_cast<sockaddr*>(&peer), &peer_length, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
      loop.listener.pause(errno);
    }
    return;
  }
  if (!loop.allowed_peers.allows(reinterpret_cast<const sockaddr*>(&peer), peer_length)) {
    // A reset, not a FIN: the peer learns at once, and no TIME_WAIT is left here.
    const linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
    loop.refused_peers.refuse(reinterpret_cast<const sockaddr*>(&peer), peer_length);
    return;
  }
  auto conn = std::make_unique<FcgiConnection>(fd, loop.request_timeout_ms, loop.max_connections);
  if (loop.connections.full() && !loop.connections.evict()) {
    if (loop.full_log.allow(Clock::now())) log_error("connection limit reached: refusing one");
    return;
  }
  if (const std::optional<std::uint32_t> slot = loop.connections.add(std::move(conn))) {
    serve_slot(loop, *slot, worker);  // nginx connects to send a request: it is likely there
  }
}

void worker_thread(const Loop& loop, const Endpoint& endpoint) {
  const std::unique_ptr<Worker> worker = endpoint.new_worker();
  for (;;) {
    flush_request_log();  // the access lines of what this worker served since it last waited
    // One event at a time, so a ready connection never waits behind another.
    epoll_event event{};
    const int n = ::epoll_wait(loop.ep, &event, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || loop.exiting.load()) return;
    if (n == 0) continue;
    if (event.data.u64 == kListenerTag) {
      accept_one(loop, *worker);
    } else if (const std::optional<std::uint32_t> slot = loop.connections.take(event.data.u64)) {
      serve_slot(loop, *slot, *worker);
    }
  }
}

// serve()'s own thread: the clock of the loop, and the stop. Returns once the stop is over: no
// connection left, or the drain window past.
void sweep_until_stopped(const Loop& loop) {
  std::optional<Clock::time_point> drain_until;
  std::optional<Clock::time_point> resume_at;
  for (;;) {
    Clock::time_point wake = Clock::now() + (drain_until ? kStopSweepInterval : kSweepInterval);
    if (resume_at) wake = std::min(wake, *resume_at);
    pollfd pfd{g_wake_read, POLLIN, 0};
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count();
    if (::poll(&pfd, 1, static_cast<int>(std::max<long long>(wait, 0))) > 0) {
      char bytes[64];
      while (::read(g_wake_read, bytes, sizeof bytes) > 0) {
      }
    }
    const Clock::time_point now = Clock::now();
    if (!drain_until && g_stopping.load()) {
      loop.listener.stop();
      drain_until = now + kDrainWindow;
    }
    loop.connections.sweep(now, drain_until.has_value());
    resume_at = loop.listener.resume_if_due(now);
    if (drain_until && (loop.connections.open() == 0 || now >= *drain_until)) return;
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

ServeOptions serve_options(const Config& config) {
  return {config.worker_threads, config.request_timeout_ms, config.idle_timeout_ms,
          config.max_connections, config.fastcgi_allowed_addresses};
}

int connection_limit(int threads, int max_connections) {
  rlimit limit{};
  const rlim_t descriptors = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
  const long long room = static_cast<long long>(std::min<rlim_t>(descriptors, kMaxConnections * 2)) -
                         kReservedFds - static_cast<long long>(kReservedFdsPerThread) * threads;
  int cap = static_cast<int>(std::clamp<long long>(room, 1, kMaxConnections));
  if (max_connections > 0) cap = std::min(cap, max_connections);
  return cap;
}

void request_stop() { on_stop_signal(0); }

int serve(int listen_fd, const ServeOptions& options, const Endpoint& endpoint) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    log_error(std::string("pipe: ") + std::strerror(errno));
    return 1;
  }
  g_wake_read = pipe_fds[0];
  g_wake_write = pipe_fds[1];
  g_stopping.store(false);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Non-blocking, so a worker woken for a connection another took does not block in accept.
  ::fcntl(listen_fd, F_SETFL, ::fcntl(listen_fd, F_GETFL) | O_NONBLOCK);

  // Readable once written and never read: every worker's epoll_wait sees it at the end.
  const int exit_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event exit_event{};
  exit_event.events = EPOLLIN;
  exit_event.data.u64 = kExitTag;
  const int max_connections = connection_limit(options.threads, options.max_connections);
  Connections connections(max_connections, ep);
  Listener listener(ep, listen_fd);
  if (exit_fd < 0 || ep < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, exit_fd, &exit_event) != 0 ||
      !listener.start()) {
    log_error(std::string("epoll: ") + std::strerror(errno));
    return 1;
  }
  std::atomic<bool> exiting{false};
  Throttle full_log;
  RefusedPeers refused_peers;
  const Loop loop{ep,
                  options.request_timeout_ms,
                  std::chrono::milliseconds(options.idle_timeout_ms),
                  max_connections,
                  endpoint.rules,
                  connections,
                  listener,
                  full_log,
                  options.allowed_peers,
                  refused_peers,
                  exiting};
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(options.threads));
  for (int i = 0; i < options.threads; ++i) {
    pool.emplace_back(worker_thread, std::cref(loop), std::cref(endpoint));
  }
  sweep_until_stopped(loop);
  exiting.store(true);
  const std::uint64_t one = 1;
  (void)!::write(exit_fd, &one, sizeof one);
  for (std::thread& t : pool) t.join();  // each finishes the request it holds
  // What is still parked is incomplete (idle connections were closed): abandoned with the table.
  const int abandoned = connections.open();
  ::close(listen_fd);
  ::close(ep);
  ::close(exit_fd);
  g_wake_write = -1;
  g_wake_read = -1;
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  const std::int64_t refused = refused_peers.total();
  log_info("stopped: every accepted request was answered" +
           (abandoned > 0 ? "; " + std::to_string(abandoned) + " incomplete one(s) abandoned"
                          : std::string()) +
           (refused > 0 ? "; " + std::to_string(refused) +
                              " connection(s) from addresses not allowed refused"
                        : std::string()));
  return 0;
}

int run_main(int argc, char** argv, const char* name, unsigned needs,
             const EndpointFactory& factory) {
  // glibc gives each of the worker threads a malloc arena of its own (up to 8 per core), and each
  // keeps what its thread freed: with 16 threads that was most of a handler's memory beyond its
  // Argon2 hashes (tests/bench/run, "Peak resident memory"). Two arenas bound that; the threads
  // spend their time waiting on PostgreSQL and Redis, not contending for malloc.
  mallopt(M_ARENA_MAX, 2);
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
  log_info(std::string(name) +
           " started: registration_mode=" + std::string(to_string(config->registration_mode)) +
           " threads=" + std::to_string(config->worker_threads) + " max_connections=" +
           std::to_string(connection_limit(config->worker_threads, config->max_connections)) +
           " allowed_peers=" +
           (config->fastcgi_allowed_addresses.allows_any()
                ? std::string("any")
                : config->fastcgi_allowed_addresses.to_string()));
  return serve(*fd, serve_options(*config), *endpoint);
}

}  // namespace chatalot
