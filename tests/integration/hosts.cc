#include "hosts.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <regex>
#include <sstream>

#include "core/json.h"
#include "http/json_writer.h"

namespace chatalot::testing {
namespace {

std::string env_quoted(const std::map<std::string, std::string>& env) {
  std::string s;
  for (const auto& [k, v] : env) s += k + "='" + v + "' ";
  return s;
}

std::string hosts_sh() { return "'" + source_dir() + "/tests/integration/hosts.sh'"; }

std::vector<std::string> split_list(const std::string& s, bool host_only) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    if (host_only) item = item.substr(0, item.rfind(':'));
    if (!item.empty() && item != "-") out.push_back(item);
  }
  return out;
}

}  // namespace

double at(Wall::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::string pooler() {
  const char* p = std::getenv("CHATALOT_HOSTS_POOLER");
  return p != nullptr ? p : "pgbouncer";
}

Hosts::Hosts() {
  const char* root = std::getenv("CHATALOT_TEST_ROOT");
  std::string templ = std::string(root != nullptr ? root : "/tmp") + "/hosts.XXXXXX";
  dir_ = ::mkdtemp(templ.data());
}

CommandResult Hosts::script(const std::string& args,
                            const std::map<std::string, std::string>& env) const {
  return run_command("env -u REGISTRATION_MODE " + env_quoted(env) + "CHATALOT_BUILD_DIR='" +
                     build_dir() + "' CHATALOT_HOSTS_OWNER=" + std::to_string(::getpid()) +
                     " CHATALOT_HOSTS_POOLER=" + pooler() + " " + hosts_sh() + " " + args + " '" +
                     dir_ + "'");
}

CommandResult Hosts::up(const std::map<std::string, std::string>& env) {
  CommandResult r = script("up", env);
  prefix_ = read_file(dir_ + "/netns-prefix");
  while (!prefix_.empty() && prefix_.back() == '\n') prefix_.pop_back();
  return r;
}

CommandResult Hosts::down() const { return script("down"); }

CommandResult Hosts::command(const std::string& what, const std::string& argument) const {
  return run_command("env CHATALOT_BUILD_DIR='" + build_dir() + "' " + hosts_sh() + " " + what +
                     " '" + dir_ + "' " + argument);
}

CommandResult Hosts::ctl(const std::string& args) const {
  return run_command("env DATABASE_URL='" + database_url() + "' '" + build_dir() +
                     "/cli/chatalotctl' " + args);
}

std::string Hosts::database_url() const {
  return "postgresql:///chatalot?host=" + dir_ + "/run&user=chatalot";
}

std::vector<std::vector<std::string>> Hosts::rows(const std::string& sql, const std::string& url,
                                                  const std::vector<std::string>& params) const {
  const std::unique_ptr<PGconn, void (*)(PGconn*)> conn(
      PQconnectdb((url.empty() ? database_url() : url).c_str()), PQfinish);
  std::vector<std::vector<std::string>> out;
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    ADD_FAILURE() << PQerrorMessage(conn.get());
    return out;
  }
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  const std::unique_ptr<PGresult, void (*)(PGresult*)> r(
      params.empty() ? PQexec(conn.get(), sql.c_str())
                     : PQexecParams(conn.get(), sql.c_str(), static_cast<int>(values.size()),
                                    nullptr, values.data(), nullptr, nullptr, 0),
      PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    ADD_FAILURE() << sql << ": " << PQerrorMessage(conn.get());
    return out;
  }
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r.get()); ++j) row.emplace_back(PQgetvalue(r.get(), i, j));
    out.push_back(std::move(row));
  }
  return out;
}

std::string Hosts::query(const std::string& sql) const {
  const auto r = rows(sql);
  return r.empty() || r[0].empty() ? "" : r[0][0];
}

bool enter_netns(const std::string& name) {
  const int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::setns(fd, CLONE_NEWNET) == 0;
  ::close(fd);
  return ok;
}

int tcp_in(const std::string& ns, const char* host, int port) {
  return in_netns(ns, [host, port] {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, host, &to.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  });
}

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kConfig:
      return "mode query";
    case Kind::kCheck:
      return "invite check";
    case Kind::kRegister:
      return "registration";
    case Kind::kAdmin:
      return "invite creation";
    case Kind::kLimitRegister:
      return "registration (budget)";
    case Kind::kLimitCheck:
      return "invite check (budget)";
  }
  return "?";
}

bool nginx_failure(const Call& c) {
  return c.status == -1 || c.status == 502 || c.status == 504 ||
         (c.status == 503 &&
          c.body.find("the service is temporarily unavailable") != std::string::npos);
}

Client::Client(const std::string& source) : http_("127.0.0.1", 80) {
  http_.set_keep_alive(true);
  http_.set_connection_timeout(5);
  http_.set_read_timeout(60);  // longer than nginx's own timeouts: its answer comes first
  http_.set_socket_options([source](int fd) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    ::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from);
  });
}

namespace {

template <typename F>
Call timed(Kind kind, F f) {
  Call c;
  c.kind = kind;
  c.start = Wall::now();
  const httplib::Result res = f();
  c.end = Wall::now();
  if (res) {
    c.status = res->status;
    c.body = res->body;
    c.request_id = res->get_header_value("X-Request-Id");
  }
  return c;
}

}  // namespace

Call Client::get(Kind kind, const std::string& path) {
  return timed(kind, [&] { return http_.Get(path.c_str()); });
}

Call Client::post(Kind kind, const std::string& path, const std::string& body,
                  const httplib::Headers& headers) {
  return timed(kind, [&] { return http_.Post(path.c_str(), headers, body, "application/json"); });
}

std::string json_string(const std::string& body, const char* name) {
  Result<rapidjson::Document> doc = parse_json_object(body);
  if (!doc.is_ok() || !doc->HasMember(name) || !(*doc)[name].IsString()) return "";
  return (*doc)[name].GetString();
}

std::string invite_check_body(const std::string& code) {
  JsonWriter w;
  w.start_object();
  w.field("invite_code", code);
  w.end_object();
  return w.take();
}

std::string Logged::route() const {
  std::string out;
  for (const std::string& u : upstreams) out += (out.empty() ? "" : ", ") + u;
  return out.empty() ? "-" : out;
}

std::vector<Logged> read_access_log(const std::string& path) {
  static const std::regex line(
      R"re(^(\S+) (\S+) (\S+) (\S+) (\d+) "(\S+) (\S+)" "([^"]*)" "([^"]*)"$)re");
  std::vector<Logged> out;
  std::stringstream in(read_file(path));
  for (std::string text; std::getline(in, text);) {
    std::smatch m;
    if (!std::regex_match(text, m, line)) continue;
    Logged l;
    l.end = std::stod(m[1]);
    l.start = l.end - std::stod(m[2]);
    l.remote = m[3];
    l.request_id = m[4];
    l.status = std::stoi(m[5]);
    l.method = m[6];
    l.uri = m[7];
    l.upstreams = split_list(m[8], true);
    l.upstream_statuses = split_list(m[9], false);
    out.push_back(std::move(l));
  }
  return out;
}

std::map<std::string, Logged> by_request_id(const std::vector<Logged>& log) {
  std::map<std::string, Logged> out;
  for (const Logged& l : log) out[l.request_id] = l;
  return out;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t i = text.find(needle); i != std::string::npos; i = text.find(needle, i + 1)) ++n;
  return n;
}

std::pair<long long, long long> cpu_ticks() {
  std::istringstream in(read_file("/proc/stat"));
  std::string cpu;
  in >> cpu;
  long long total = 0;
  long long idle = 0;
  long long v = 0;
  for (int i = 0; i < 8 && in >> v; ++i) {
    total += v;
    if (i == 3 || i == 4) idle += v;  // idle, iowait
  }
  return {total - idle, total};
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1,
                         static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

}  // namespace chatalot::testing
