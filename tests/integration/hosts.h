// The several-hosts harness of hosts_it: one run of tests/integration/hosts.sh (network
// namespaces for nginx, two worker hosts and a database host), sockets made inside those
// namespaces, an HTTP client of that nginx from a chosen address, and nginx's access log as
// hosts.sh writes it. Needs root: entering a namespace is setns(2).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"

namespace chatalot::testing {

using Wall = std::chrono::system_clock;

// hosts.sh's addresses, and its ports: handler i of scripts/stack's HANDLERS on 9000 + i.
inline constexpr const char* kNginxAddr = "10.77.0.10";
inline constexpr const char* kW1 = "10.77.0.11";
inline constexpr const char* kW2 = "10.77.0.12";
inline constexpr const char* kDbAddr = "10.77.0.20";
inline constexpr int kAuthConfigPort = 9001;
inline constexpr int kRegisterPort = 9002;
// hosts.sh's nginx: fastcgi_read_timeout and every server's fail_timeout.
inline constexpr auto kReadTimeout = std::chrono::seconds(10);
inline constexpr auto kFailTimeout = std::chrono::seconds(10);

// Seconds since the epoch, as nginx's $msec.
double at(Wall::time_point t);

// CHATALOT_HOSTS_POOLER: "pgbouncer" (the default) or "none".
std::string pooler();

// One run of hosts.sh, in a new directory under $CHATALOT_TEST_ROOT (or /tmp). The caller
// runs up() once and down() at the end, whatever happened.
class Hosts {
 public:
  Hosts();

  // hosts.sh up DIR, with the handlers' environment overrides.
  CommandResult up(const std::map<std::string, std::string>& env);
  CommandResult down() const;
  // hosts.sh cut|mend DIR HOST, or hosts.sh nginx DIR new|kept.
  CommandResult command(const std::string& what, const std::string& argument) const;
  // The operator CLI against this run's database.
  CommandResult ctl(const std::string& args) const;

  std::string ns(const std::string& host) const { return prefix_ + "-" + host; }
  std::string file(const std::string& relative) const { return dir_ + "/" + relative; }
  // PostgreSQL itself, as the chatalot role, over its unix socket (reachable from here).
  std::string database_url() const;

  // Rows of a query, each the text of its columns; fails the test on error. `url` defaults to
  // database_url(); the query runs as simple protocol unless it has parameters.
  std::vector<std::vector<std::string>> rows(const std::string& sql, const std::string& url = {},
                                             const std::vector<std::string>& params = {}) const;
  // The first column of the first row, "" when none.
  std::string query(const std::string& sql) const;

 private:
  CommandResult script(const std::string& args,
                       const std::map<std::string, std::string>& env = {}) const;

  std::string dir_;
  std::string prefix_;
};

// Moves the calling thread into the network namespace `name`: the sockets it makes from then on
// are made there. False when it cannot.
bool enter_netns(const std::string& name);

// Runs f on a thread of its own inside namespace `name`; what f returns.
template <typename F>
auto in_netns(const std::string& name, F f) {
  return std::async(std::launch::async,
                    [name, f] {
                      EXPECT_TRUE(enter_netns(name)) << name;
                      return f();
                    })
      .get();
}

// A TCP connection to host:port made in namespace `ns`, or -1.
int tcp_in(const std::string& ns, const char* host, int port);

// What the tests ask nginx for.
enum class Kind { kConfig, kCheck, kRegister, kAdmin, kLimitRegister, kLimitCheck };
const char* kind_name(Kind kind);

struct Call {
  Kind kind = Kind::kConfig;
  int status = -1;  // -1: no answer at all
  std::string body;
  std::string request_id;  // nginx's X-Request-Id
  Wall::time_point start;
  Wall::time_point end;
  int invite = -1;  // which invite of the load's supply, where one was used
};

// An answer no handler gave: none at all, or nginx's own 502/504 (its error page turns them into
// a 503 with the catalogue's message, which a handler's 503 shares: the access log tells them
// apart by the upstream status).
bool nginx_failure(const Call& c);

// A client of nginx at 127.0.0.1:80 from the loopback address `source`, for a thread inside
// nginx's namespace. Not thread-safe: one per thread.
class Client {
 public:
  explicit Client(const std::string& source);
  Call get(Kind kind, const std::string& path);
  Call post(Kind kind, const std::string& path, const std::string& body,
            const httplib::Headers& headers = {});

 private:
  httplib::Client http_;
};

// A string member of a JSON object body, "" when absent.
std::string json_string(const std::string& body, const char* name);
std::string invite_check_body(const std::string& code);

// A line of nginx's access log in hosts.sh's log_format.
struct Logged {
  double end = 0;    // $msec
  double start = 0;  // $msec - $request_time
  std::string remote;
  std::string request_id;
  int status = 0;
  std::string method;
  std::string uri;                     // after an internal redirect, the error page's
  std::vector<std::string> upstreams;  // the hosts tried, in order
  std::vector<std::string> upstream_statuses;
  bool first_on(const char* host) const { return !upstreams.empty() && upstreams.front() == host; }
  bool last_on(const char* host) const { return !upstreams.empty() && upstreams.back() == host; }
  std::string route() const;  // "10.77.0.12, 10.77.0.11", or "-" for none
};
std::vector<Logged> read_access_log(const std::string& path);
std::map<std::string, Logged> by_request_id(const std::vector<Logged>& log);

std::size_t count_of(const std::string& text, const std::string& needle);
// The machine's CPU time so far in clock ticks: busy, total (/proc/stat).
std::pair<long long, long long> cpu_ticks();
double percentile(std::vector<double> values, double p);

}  // namespace chatalot::testing
