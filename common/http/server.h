// The FastCGI server: where the listening socket comes from, the pool of worker threads that
// serve it, and the clean stop on SIGTERM or SIGINT.
//
// All worker threads wait on one epoll set holding the listening socket and every open
// connection that waits for input (one-shot): the kernel hands each ready descriptor to one
// worker, which reads what has arrived without waiting, serves every request that is complete,
// and parks the connection again. So no thread is ever held by a peer's incomplete input, and
// nginx may pool more kept connections than there are threads (SPEC guarantee 11, FIELD-NOTES
// pitfall 1). serve()'s own thread sweeps the table every 250 ms: it closes parked connections
// past their request's deadline or idle for IDLE_TIMEOUT_MS, and puts the listening socket back
// after a pause for descriptor exhaustion. The table holds at most connection_limit()
// connections; at the limit a new connection replaces the parked one that has waited longest.
// A TCP peer whose address is not allowed (ServeOptions::allowed_peers) is reset at accept:
// nothing it sent is read. Such refusals are counted and logged at most once a second.
//
// Ownership: a connection is always in exactly one place, and its slot's atomic state says
// which: parked in the epoll set (only then may the sweeper close it), in one worker's hands,
// or free. See server.cc.
//
// Stop (SIGTERM, SIGINT or request_stop()): stop accepting, close idle connections, serve the
// requests that are complete or complete within a 2 s drain window, and every request a worker
// already holds; then abandon the incomplete ones and return 0.
//
// Each worker thread builds its own Worker once (Endpoint::new_worker): the Worker owns that
// thread's connections (PostgreSQL, Redis) and answers requests one at a time, so nothing in
// it is shared between threads. What all threads share (configuration, keys, the hash gate)
// lives in the endpoint's own state, which new_worker captures.
//
// run_main() is the whole life of a handler executable:
//   --check-config  validate the environment, print the effective configuration, exit 0 or 78
//   --listen unix:PATH | HOST:PORT   listen there (started by hand); otherwise the socket passed
//                   by systemd (LISTEN_FDS) or, as spawn-fcgi does, a listening socket on fd 0.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "http/http.h"
#include "http/listen.h"

namespace chatalot {

// One worker thread's handler: parse the request, call the domain, render the answer.
class Worker {
 public:
  virtual ~Worker() = default;
  virtual Response handle(const Request& request) = 0;
};

struct Endpoint {
  EndpointRules rules;  // checked before the body is read (check_request)
  std::function<std::unique_ptr<Worker>()> new_worker;  // once per worker thread, on it
  // Runs once after --check-config would have returned and before the first request (database
  // checks, start-up promotions). A failure stops the process with exit status 1.
  std::function<Status()> on_start;
};

// Builds the endpoint from the configuration, once, before the first request; a failure is a
// configuration error (exit 78).
using EndpointFactory = std::function<Result<Endpoint>(const Config&)>;

int run_main(int argc, char** argv, const char* name, unsigned needs,
             const EndpointFactory& factory);

// What serve() takes from the configuration (config/config.h; README.md documents each).
struct ServeOptions {
  int threads;             // WORKER_THREADS
  int request_timeout_ms;  // REQUEST_TIMEOUT_MS: one deadline per request, from its first byte
  int idle_timeout_ms;     // IDLE_TIMEOUT_MS: a kept connection with no request begun
  int max_connections;     // MAX_CONNECTIONS: 0 for as many as the descriptor limit allows
  // FASTCGI_ALLOWED_ADDRESSES: a TCP peer not in it is reset at accept, never read; empty: any.
  AddressList allowed_peers = {};
};
ServeOptions serve_options(const Config& config);

// How many connections serve() holds at once: RLIMIT_NOFILE less a reserve for the process's
// own descriptors (standard streams, listener, epoll, each worker's PostgreSQL and Redis
// connections), at most 65536, lowered to max_connections when that is set (> 0).
int connection_limit(int threads, int max_connections);

// Serves on listen_fd until SIGTERM/SIGINT or request_stop(); returns the exit status.
int serve(int listen_fd, const ServeOptions& options, const Endpoint& endpoint);

// What SIGTERM does: the running serve() begins its stop. Async-signal-safe; for tests, which
// run serve() on a thread of their own.
void request_stop();

// Runs the worker's handler on a request that passed check_request() and whose body was read,
// with the last-resort catch: an exception is logged and answered 500. serve() uses it for
// every request; tests call it directly.
Response dispatch(Worker& worker, const Request& request);

// A Worker over a plain function, for endpoints that hold no connections.
class FunctionWorker final : public Worker {
 public:
  explicit FunctionWorker(std::function<Response(const Request&)> f) : f_(std::move(f)) {}
  Response handle(const Request& request) override { return f_(request); }

 private:
  std::function<Response(const Request&)> f_;
};

}  // namespace chatalot
