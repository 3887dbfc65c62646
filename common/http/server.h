// The FastCGI server: where the listening socket comes from, the pool of worker threads that
// accept on it, and the clean stop on SIGTERM or SIGINT (stop accepting, drain what is already
// queued, finish every request in flight, exit 0).
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

// Opens the listening socket: "unix:PATH" (mode 0660) or "HOST:PORT"; "" means systemd's
// socket or fd 0. Returns the descriptor or a Status naming the problem.
Result<int> open_listener(const std::string& spec);

// Serves on listen_fd with `threads` workers until SIGTERM/SIGINT; returns the exit status.
int serve(int listen_fd, int threads, int io_timeout_ms, const Endpoint& endpoint);

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
