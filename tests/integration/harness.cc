#include "harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <libpq-fe.h>

extern char** environ;

namespace chatalot::testing {

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1 </dev/null").c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string source_dir() { return CHATALOT_SOURCE_DIR; }
std::string build_dir() { return CHATALOT_BUILD_DIR; }

pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::string& log_path) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    if (env.count(entry.substr(0, entry.find('='))) == 0) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (std::string& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, argp[0], &actions, nullptr, argp.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int wait_exit(pid_t pid, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

bool behind_pooler() {
  const char* pooler = std::getenv("CHATALOT_STACK_POOLER");
  return pooler != nullptr && std::string(pooler) == "pgbouncer";
}

std::map<std::string, std::string> fast_unlimited_env() {
  return {{"ARGON2_MEMORY_KIB", "19456"},
          {"ARGON2_ITERATIONS", "2"},
          {"RATE_LIMIT_REGISTER_PER_SECOND", "10000"},
          {"RATE_LIMIT_REGISTER_BURST", "100000"},
          {"RATE_LIMIT_INVITE_PER_SECOND", "10000"},
          {"RATE_LIMIT_INVITE_BURST", "100000"},
          {"RATE_LIMIT_INVITE_NETWORK_PER_SECOND", "10000"},
          {"RATE_LIMIT_INVITE_NETWORK_BURST", "100000"},
          {"RATE_LIMIT_LOGIN_PER_SECOND", "10000"},
          {"RATE_LIMIT_LOGIN_BURST", "100000"},
          {"RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS_PER_SECOND", "10000"},
          {"RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS_BURST", "100000"},
          {"RATE_LIMIT_LOGIN_ACCOUNT_PER_SECOND", "10000"},
          {"RATE_LIMIT_LOGIN_ACCOUNT_BURST", "100000"}};
}

bool process_running(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

namespace {

std::string env_prefix(const std::map<std::string, std::string>& env) {
  // A clean slate for the variables the tests set, then the overrides.
  std::string s = "env -u REGISTRATION_MODE -u ADMIN_USERNAME -u PUBLIC_URL";
  for (const auto& [k, v] : env) s += " " + k + "='" + v + "'";
  return s + " ";
}

}  // namespace

Stack::Stack(const std::string& name, int pools, std::map<std::string, std::string> base_env)
    : port_(free_port()), pools_(pools), base_env_(std::move(base_env)) {
  const char* root = std::getenv("CHATALOT_TEST_ROOT");
  std::string base = root != nullptr ? root : "/tmp";
  std::string templ = base + "/" + name + ".XXXXXX";
  dir_ = ::mkdtemp(templ.data());
}

Stack::~Stack() { down(true); }

CommandResult Stack::script(const std::string& args, const std::map<std::string, std::string>& env) {
  return run_command(env_prefix(env) + "CHATALOT_STACK_DIR='" + dir_ + "' CHATALOT_HTTP_PORT=" +
                     std::to_string(port_) + " CHATALOT_STACK_POOLS=" + std::to_string(pools_) +
                     " '" + source_dir() + "/scripts/stack' " + args);
}

CommandResult Stack::up(const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> all = base_env_;
  for (const auto& [k, v] : env) all[k] = v;
  return script("up", all);
}

std::string Stack::database_url() const {
  return "postgresql:///chatalot?host=" + run_dir() + "&user=chatalot";
}

std::string Stack::query(const std::string& sql, const std::vector<std::string>& params) const {
  // Tests inspect and seed the database with ad-hoc SQL, straight through libpq: the product's
  // connection runs only statements of its registry.
  const std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(database_url().c_str()), PQfinish);
  EXPECT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  const std::unique_ptr<PGresult, void (*)(PGresult*)> r(
      PQexecParams(conn.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                   values.data(), nullptr, nullptr, 0),
      PQclear);
  const ExecStatusType status = PQresultStatus(r.get());
  EXPECT_TRUE(status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
      << sql << ": " << PQerrorMessage(conn.get());
  if (status != PGRES_TUPLES_OK || PQntuples(r.get()) == 0) return "";
  return {PQgetvalue(r.get(), 0, 0), static_cast<std::size_t>(PQgetlength(r.get(), 0, 0))};
}

std::vector<int> Stack::redis_cluster_ports() const {
  std::vector<int> ports;
  std::istringstream lines(read_file(dir_ + "/redis-cluster/ports"));
  for (int port = 0, bus = 0; lines >> port >> bus;) ports.push_back(port);
  return ports;
}

std::vector<pid_t> Stack::redis_pids() const {
  std::vector<std::string> files = {run_dir() + "/redis.pid"};
  const std::size_t nodes = redis_cluster_ports().size();
  for (std::size_t n = 1; n <= nodes; ++n) {
    files.push_back(run_dir() + "/redis-" + std::to_string(n) + ".pid");
  }
  std::vector<pid_t> pids;
  for (const std::string& f : files) {
    const int pid = std::atoi(read_file(f).c_str());
    if (pid > 0) pids.push_back(pid);
  }
  return pids;
}

CommandResult Stack::signal_redis(const std::string& signal) const {
  std::string command = "kill -" + signal;
  for (const pid_t pid : redis_pids()) command += " " + std::to_string(pid);
  return run_command(command);
}

std::string Stack::redis_cli(const std::string& args) const {
  const std::vector<int> ports = redis_cluster_ports();
  for (std::size_t n = 0; n < ports.size(); ++n) {
    const int pid =
        std::atoi(read_file(run_dir() + "/redis-" + std::to_string(n + 1) + ".pid").c_str());
    if (pid > 0 && process_running(pid)) {
      return run_command("redis-cli -c -p " + std::to_string(ports[n]) + " " + args).output;
    }
  }
  return run_command("redis-cli -s '" + run_dir() + "/redis.sock' " + args).output;
}

void Stack::redis_flushall() const {
  const std::vector<int> ports = redis_cluster_ports();
  if (ports.empty()) {
    redis_cli("FLUSHALL");
    return;
  }
  for (const int port : ports) {  // replicas refuse it, and follow their masters
    run_command("redis-cli -p " + std::to_string(port) + " FLUSHALL");
  }
}

CommandResult Stack::down(bool purge) { return script(purge ? "down --purge" : "down"); }

std::unique_ptr<httplib::Client> Stack::client() const {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
  c->set_connection_timeout(5);
  c->set_read_timeout(30);
  return c;
}

pid_t Stack::handler_pid(const std::string& handler) const {
  return static_cast<pid_t>(std::atoi(read_file(run_dir() + "/" + handler + ".pid").c_str()));
}

}  // namespace chatalot::testing
