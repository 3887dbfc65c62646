// The FastCGI server: where the listening socket comes from, the pool of worker threads that
// accept on it, and the clean stop on SIGTERM or SIGINT (stop accepting, drain what is already
// queued, finish every request in flight, exit 0).
//
// run_main() is the whole life of a handler executable:
//   --check-config  validate the environment, print the effective configuration, exit 0 or 78
//   --listen unix:PATH | HOST:PORT   listen there (started by hand); otherwise the socket passed
//                   by systemd (LISTEN_FDS) or, as spawn-fcgi does, a listening socket on fd 0.
#pragma once

#include <functional>
#include <string>

#include "config.h"
#include "http.h"

namespace chatalot {

// One endpoint: its request rules and its handler, called on many threads at once.
struct Endpoint {
  EndpointRules rules;
  std::function<Response(const Request&)> handle;
  // Runs once after --check-config would have returned and before the first request (database
  // checks, start-up promotions). A failure stops the process with exit status 1.
  std::function<Status()> on_start;
};

// Builds the endpoint from the configuration, once, before the first request; a failure is a
// start-up error (exit 78 for configuration problems, 1 otherwise).
using EndpointFactory = std::function<Result<Endpoint>(const Config&)>;

int run_main(int argc, char** argv, const char* name, unsigned needs,
             const EndpointFactory& factory);

// Opens the listening socket: "unix:PATH" (mode 0660) or "HOST:PORT"; "" means systemd's
// socket or fd 0. Returns the descriptor or a Status naming the problem.
Result<int> open_listener(const std::string& spec);

// Serves on listen_fd with `threads` workers until SIGTERM/SIGINT; returns the exit status.
int serve(int listen_fd, int threads, int io_timeout_ms, const Endpoint& endpoint);

// The response to one request, with the common checks of SPEC section 3 done before the handler
// runs and a last-resort catch. Exposed for tests; serve() uses it for every request.
Response dispatch(const Endpoint& endpoint, const Request& request);

}  // namespace chatalot
