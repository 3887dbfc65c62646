// The integration-test harness: a real stack (PostgreSQL, Redis, the handlers, nginx) started
// by scripts/stack in its own directory under $CHATALOT_TEST_ROOT (or /tmp) on a free port, and
// helpers to run commands, spawn handler processes and talk HTTP to it.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chatalot::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line and collects its output.
CommandResult run_command(const std::string& command);

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int free_port();

std::string read_file(const std::string& path);
std::string source_dir();
std::string build_dir();

// Starts a process with the current environment plus `env`, stdout and stderr to log_path.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::string& log_path);
// Whether pid runs (an exited process not yet reaped does not).
bool process_running(pid_t pid);
// Waits up to timeout_ms for the child; returns its exit status, or -1 if it did not exit.
int wait_exit(pid_t pid, int timeout_ms);

// The environment of a suite whose subject is not cost or limits: Argon2id at the OWASP floor
// (fast), and rate limits far out of the way (every request comes from one address).
std::map<std::string, std::string> fast_unlimited_env();

// Whether the stacks run PostgreSQL behind pgbouncer in transaction mode
// (CHATALOT_STACK_POOLER=pgbouncer, scripts/stack).
bool behind_pooler();

class Stack {
 public:
  // pools: worker processes per handler (CHATALOT_STACK_POOLS). base_env: given to every up().
  explicit Stack(const std::string& name, int pools = 1,
                 std::map<std::string, std::string> base_env = {});
  ~Stack();  // down --purge

  // scripts/stack with the given environment overrides (the rest of the mode variables unset).
  CommandResult up(const std::map<std::string, std::string>& env = {});
  CommandResult down(bool purge = false);
  CommandResult script(const std::string& args, const std::map<std::string, std::string>& env = {});

  std::unique_ptr<httplib::Client> client() const;
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string run_dir() const { return dir_ + "/run"; }
  std::string log_path(const std::string& handler) const { return dir_ + "/logs/" + handler + ".log"; }
  pid_t handler_pid(const std::string& handler) const;

  // The stack's Redis: one server, or a cluster (CHATALOT_STACK_REDIS=cluster), whose nodes'
  // ports are listed in node order (pidfile run/redis-N.pid for the Nth); none for one server.
  std::vector<int> redis_cluster_ports() const;
  bool redis_cluster() const { return !redis_cluster_ports().empty(); }
  // Every redis-server of the stack that has a pidfile (running or not).
  std::vector<pid_t> redis_pids() const;
  // kill(1) of them all with a signal ("TERM", "KILL", "STOP", "CONT").
  CommandResult signal_redis(const std::string& signal) const;
  // redis-cli with these arguments on the stack's Redis (a cluster: -c from a running node);
  // its output.
  std::string redis_cli(const std::string& args) const;
  // FLUSHALL on the server, or on every master of the cluster.
  void redis_flushall() const;

  // The stack's database, as the chatalot role.
  std::string database_url() const;
  // First column of the first row of a query ("" when no row); fails the test on error.
  std::string query(const std::string& sql, const std::vector<std::string>& params = {}) const;

 private:
  std::string dir_;
  int port_;
  int pools_;
  std::map<std::string, std::string> base_env_;
};

}  // namespace chatalot::testing
