// The deployment: the shipped nginx site and systemd units, checked by their own tools (nginx -t,
// systemd-analyze verify) and against the handlers' needs, and the site's defences tried on a
// running stack with raw sockets (an HTTP client library would normalise most of these
// requests): every error nginx answers itself is the contract's JSON, its own 405 names the
// location's methods, bodiless locations take a small body, and one address can hold neither
// every connection nor every request.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "../fcgi_client.h"
#include "harness.h"

namespace chatalot::testing {
namespace {

namespace fs = std::filesystem;

Stack* g_stack = nullptr;

class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_stack = new Stack("deploy", 1, fast_unlimited_env());
    const CommandResult r = g_stack->up();
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  void TearDown() override { delete g_stack; }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new StackEnvironment);

const std::string kMalformed = "{\"error\":{\"code\":\"validation_error\",\"message\":\"malformed request\"}}\n";
const std::string kNotFound = "{\"error\":{\"code\":\"not_found\",\"message\":\"not found\"}}\n";
const std::string kMethod = "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"method not allowed\"}}\n";
const std::string kFlood = "{\"error\":{\"code\":\"rate_limited\",\"message\":\"too many requests, slow down\"}}\n";

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// ---- raw HTTP ---------------------------------------------------------------------------

// A TCP connection to the stack's nginx from the given loopback address; -1 on failure.
int connect_from(const std::string& source) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(static_cast<std::uint16_t>(g_stack->port()));
  peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether `raw` holds a whole response: its head and as much body as Content-Length says.
bool complete(const std::string& raw) {
  const std::size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  static const std::regex kLength("\r\ncontent-length: *([0-9]+)", std::regex::icase);
  std::smatch m;
  const std::string head = raw.substr(0, end);
  if (!std::regex_search(head, m, kLength)) return true;
  return raw.size() - end - 4 >= std::stoul(m[1].str());
}

// What arrived within timeout_ms: until a whole response, or until the peer closed. (nginx may
// linger after an error, reading what is left of a body it refused.)
std::string read_for(int fd, int timeout_ms) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[8192];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (complete(out)) break;
  }
  return out;
}

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string raw;
};

RawResponse parse_response(const std::string& raw) {
  RawResponse r;
  r.raw = raw;
  const std::size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::atoi(raw.c_str() + 9);
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  r.body = raw.substr(end + 4);
  if (const auto cl = r.headers.find("content-length"); cl != r.headers.end()) {
    r.body = r.body.substr(0, static_cast<std::size_t>(std::atoi(cl->second.c_str())));
  }
  return r;
}

// Sends the bytes as they are and reads the answer (nginx closes after an error like these).
RawResponse exchange(const std::string& request, const std::string& source = "127.0.0.1") {
  const int fd = connect_from(source);
  EXPECT_GE(fd, 0);
  if (fd < 0) return {};
  EXPECT_TRUE(write_all(fd, request));
  const std::string raw = read_for(fd, 5000);
  ::close(fd);
  return parse_response(raw);
}

std::string header(const RawResponse& r, const std::string& name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

// ---- nginx -t and systemd-analyze verify --------------------------------------------------

TEST(ShippedSite, PassesNginxTInAMinimalHttpBlock) {
  // The site is an http-level include: wrap it as a server's nginx.conf would, with the stock
  // paths of the sockets and the listen line substituted as scripts/stack does.
  const std::string dir = g_stack->dir() + "/nginx-t";
  fs::create_directories(dir + "/run");
  std::string site = read_file(source_dir() + "/nginx/chatalot.conf");
  ASSERT_FALSE(site.empty());
  site = replace_all(site, "/run/chatalot/", dir + "/run/");
  site = replace_all(site, "\n    listen 80;", "\n    listen 127.0.0.1:" + std::to_string(free_port()) + ";");
  write_file(dir + "/chatalot.conf", site);
  write_file(dir + "/nginx.conf", "pid " + dir + "/nginx.pid;\nerror_log " + dir +
                                      "/error.log;\nevents { }\nhttp {\n"
                                      "    client_body_temp_path " + dir + "/body;\n"
                                      "    fastcgi_temp_path " + dir + "/fastcgi;\n"
                                      "    proxy_temp_path " + dir + "/proxy;\n"
                                      "    uwsgi_temp_path " + dir + "/uwsgi;\n"
                                      "    scgi_temp_path " + dir + "/scgi;\n"
                                      "    include " + dir + "/chatalot.conf;\n}\n");
  const CommandResult r =
      run_command("nginx -t -p '" + dir + "' -e '" + dir + "/error.log' -c '" + dir + "/nginx.conf'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("syntax is ok"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("test is successful"), std::string::npos) << r.output;
  for (const char* level : {"[warn]", "[emerg]", "[alert]", "[crit]", "[error]"}) {
    EXPECT_EQ(r.output.find(level), std::string::npos) << r.output;
  }
}

std::vector<fs::path> unit_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(source_dir() + "/systemd")) {
    const std::string ext = e.path().extension();
    if (ext == ".service" || ext == ".socket" || ext == ".target") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> services() {
  std::vector<fs::path> out;
  for (const fs::path& p : unit_files()) {
    if (p.extension() == ".service") out.push_back(p);
  }
  return out;
}

TEST(ShippedUnits, SystemdAnalyzeVerifiesThemWithoutAWord) {
  ASSERT_EQ(run_command("command -v systemd-analyze").exit_code, 0) << "systemd-analyze is missing";
  // verify needs every ExecStart to exist: copies that start the executables just built.
  const std::string dir = g_stack->dir() + "/units";
  fs::create_directories(dir);
  std::string files;
  for (const fs::path& unit : unit_files()) {
    std::string text = read_file(unit);
    text = replace_all(text, "/usr/local/bin/chatalotctl", build_dir() + "/cli/chatalotctl");
    text = replace_all(text, "/usr/local/bin/", build_dir() + "/handlers/");
    write_file(dir + "/" + unit.filename().string(), text);
    files += " '" + dir + "/" + unit.filename().string() + "'";
  }
  ASSERT_GE(unit_files().size(), 24U);
  const CommandResult r = run_command("systemd-analyze verify" + files);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // An unknown or misspelt directive is only a warning ("Unknown key ..., ignoring"): none.
  EXPECT_EQ(r.output, "") << r.output;
}

// The lines of a unit that are not comments, blank or section headers, as key=value.
std::vector<std::string> settings(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
    out.push_back(line);
  }
  return out;
}

bool has_setting(const std::string& text, const std::string& setting) {
  const std::vector<std::string> s = settings(text);
  return std::find(s.begin(), s.end(), setting) != s.end();
}

bool has_key(const std::string& text, const std::string& key) {
  for (const std::string& s : settings(text)) {
    if (s.rfind(key + "=", 0) == 0) return true;
  }
  return false;
}

TEST(ShippedUnits, EveryServiceIsBoundedAndItsHardeningSorted) {
  for (const fs::path& unit : services()) {
    SCOPED_TRACE(unit.filename().string());
    const std::string text = read_file(unit);
    // The hardening block: the paragraph that starts with CapabilityBoundingSet=.
    const std::size_t start = text.find("\nCapabilityBoundingSet=");
    ASSERT_NE(start, std::string::npos);
    const std::size_t end = text.find("\n\n", start + 1);
    std::vector<std::string> keys;
    for (const std::string& s : settings(text.substr(start + 1, end - start - 1))) {
      keys.push_back(s.substr(0, s.find('=')));
    }
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end())) << "the hardening block is not sorted";
    // The handlers size their connection table from RLIMIT_NOFILE (systemd's default soft
    // limit is 1024).
    EXPECT_TRUE(has_setting(text, "LimitNOFILE=65536"));
    EXPECT_TRUE(has_key(text, "MemoryMax"));
    EXPECT_TRUE(has_setting(text, "IPAddressDeny=any"));
    for (const char* s : {"NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                          "CapabilityBoundingSet=", "SystemCallFilter=@system-service"}) {
      EXPECT_TRUE(has_setting(text, s)) << s;
    }
  }
  for (const fs::path& unit : unit_files()) {
    if (unit.extension() != ".socket") continue;
    // A TCP socket for a pool on another host: an allow-list, ready to uncomment.
    const std::string text = read_file(unit);
    EXPECT_NE(text.find("\n#IPAddressDeny=any\n#IPAddressAllow="), std::string::npos) << unit;
  }
}

// What each handler needs (SPEC sections 3 and 6): the private key only where an answer holds
// a token it signs, Argon2id memory where passwords are hashed or verified (ARGON2_MAX_CONCURRENT
// caps the hashes, MemoryMax is the backstop). The handlers' main.cc and their units must both
// agree with this table.
struct Needs {
  std::string name;  // the executable's suffix: handlers/NAME (with '_'), chatalot-NAME.service
  bool signs;        // kNeedJwtSign: the private key
  bool verifies;     // kNeedJwtVerify: the public key
  bool database;     // kNeedDatabase
  bool redis;        // kNeedRedis
  std::string memory_max;
};
const Needs kNeeds[] = {
    {"auth-config", false, false, false, false, "512M"},
    {"register", true, false, true, true, "2G"},
    {"invite-redeem", false, false, true, true, "512M"},
    {"admin-invites", false, true, true, false, "512M"},
    {"login", true, false, true, true, "2G"},
    {"refresh", true, false, true, false, "512M"},
    {"recover", false, false, true, true, "2G"},  // its answer holds no token
    {"logout", false, false, true, false, "512M"},
    {"account", false, true, true, true, "2G"},  // the password change
    {"keys", false, true, true, false, "512M"},
    {"admin-users", false, true, true, false, "512M"},
};

// A handler's needs, from its main.cc (the Need bits it passes to run_main).
struct Handler {
  std::string name;
  bool signs = false;
  bool verifies = false;
  bool database = false;
  bool redis = false;
};

std::vector<Handler> handlers() {
  std::vector<Handler> out;
  for (const auto& e : fs::directory_iterator(source_dir() + "/handlers")) {
    const std::string main = read_file(e.path().string() + "/main.cc");
    if (main.empty()) continue;
    Handler h;
    h.name = replace_all(e.path().filename().string(), "_", "-");
    h.signs = main.find("kNeedJwtSign") != std::string::npos;
    h.verifies = main.find("kNeedJwtVerify") != std::string::npos;
    h.database = main.find("kNeedDatabase") != std::string::npos;
    h.redis = main.find("kNeedRedis") != std::string::npos;
    out.push_back(h);
  }
  return out;
}

std::string unit_text(const std::string& name, const std::string& type) {
  return read_file(source_dir() + "/systemd/chatalot-" + name + "." + type);
}

TEST(ShippedUnits, EveryHandlerNeedsWhatTheTableSaysAndHasItsRow) {
  const std::vector<Handler> all = handlers();
  ASSERT_GE(all.size(), std::size(kNeeds));
  for (const Handler& h : all) {
    SCOPED_TRACE(h.name);
    const auto row = std::find_if(std::begin(kNeeds), std::end(kNeeds),
                                  [&](const Needs& n) { return n.name == h.name; });
    ASSERT_NE(row, std::end(kNeeds)) << "a handler without a row in kNeeds";
    EXPECT_EQ(h.signs, row->signs);
    EXPECT_EQ(h.verifies, row->verifies);
    EXPECT_EQ(h.database, row->database);
    EXPECT_EQ(h.redis, row->redis);
  }
  for (const Needs& n : kNeeds) {
    const std::string main =
        source_dir() + "/handlers/" + replace_all(n.name, "-", "_") + "/main.cc";
    EXPECT_FALSE(read_file(main).empty()) << "no handler for the row " << n.name;
  }
}

TEST(ShippedUnits, OnlyTheUnitsThatSignTokensGetThePrivateKey) {
  std::set<std::string> signers;
  for (const Needs& n : kNeeds) {
    SCOPED_TRACE(n.name);
    const std::string text = unit_text(n.name, "service");
    ASSERT_FALSE(text.empty()) << "no unit for the handler";
    const bool network = n.database || n.redis;
    if (n.signs) {
      signers.insert("chatalot-" + n.name + ".service");
      // systemd (root) reads the root-only key and gives these units alone a copy.
      EXPECT_TRUE(has_setting(text, "LoadCredential=jwt_ed25519.pem:/etc/chatalot/jwt_ed25519.pem"));
      EXPECT_TRUE(has_setting(text, "Environment=JWT_PRIVATE_KEY_PATH=%d/jwt_ed25519.pem"));
    } else {
      EXPECT_FALSE(has_key(text, "LoadCredential"));
      for (const std::string& s : settings(text)) {
        EXPECT_EQ(s.find("JWT_PRIVATE_KEY_PATH"), std::string::npos) << s;
        EXPECT_EQ(s.find("jwt_ed25519.pem"), std::string::npos) << s;
      }
    }
    if (!network) {
      // Nothing to reach: no network at all, and no other address family than its socket's.
      EXPECT_TRUE(has_setting(text, "PrivateNetwork=yes"));
      EXPECT_TRUE(has_setting(text, "RestrictAddressFamilies=AF_UNIX"));
    } else {
      // PostgreSQL or Redis may be on another host (IPAddressAllow=, commented out).
      EXPECT_FALSE(has_setting(text, "PrivateNetwork=yes"));
      EXPECT_TRUE(has_setting(text, "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"));
    }
    if (!n.signs && !n.verifies && !network) {
      // Needing nothing of the chatalot user's, it runs as its own.
      EXPECT_TRUE(has_setting(text, "DynamicUser=yes"));
      EXPECT_FALSE(has_key(text, "User"));
    }
    EXPECT_TRUE(has_setting(text, "MemoryMax=" + n.memory_max));
  }
  EXPECT_EQ(signers, (std::set<std::string>{"chatalot-register.service", "chatalot-login.service",
                                            "chatalot-refresh.service"}));
  // No other unit (the migrations, say) holds the key either.
  for (const fs::path& unit : unit_files()) {
    if (has_key(read_file(unit), "LoadCredential")) {
      EXPECT_TRUE(signers.contains(unit.filename().string())) << unit;
    }
  }
  // The shared environment file names no private key: under systemd an EnvironmentFile=
  // overrides Environment=, so the signing units would read the root-only file and fail.
  for (const std::string& s : settings(read_file(source_dir() + "/systemd/chatalot.env"))) {
    EXPECT_EQ(s.find("JWT_PRIVATE_KEY_PATH"), std::string::npos) << s;
  }
  EXPECT_TRUE(has_key(read_file(source_dir() + "/systemd/chatalot.env"), "JWT_PUBLIC_KEY_PATH"));
}

TEST(ShippedUnits, EveryHandlerHasItsSocketItsPlaceInTheTargetAndItsUpstream) {
  std::set<std::string> wanted;  // by chatalot.target
  for (const std::string& s : settings(read_file(source_dir() + "/systemd/chatalot.target"))) {
    if (!s.starts_with("Wants=")) continue;
    std::istringstream units(s.substr(6));
    wanted.insert(std::istream_iterator<std::string>(units), {});
  }
  const std::string site = read_file(source_dir() + "/nginx/chatalot.conf");
  // scripts/stack's list of handlers: HANDLERS=(...), over one or more lines.
  const std::string stack = read_file(source_dir() + "/scripts/stack");
  const std::size_t open = stack.find("\nHANDLERS=(");
  ASSERT_NE(open, std::string::npos);
  std::istringstream listed(stack.substr(open + 11, stack.find(')', open) - open - 11));
  const std::set<std::string> stacked{std::istream_iterator<std::string>(listed), {}};
  for (const Needs& n : kNeeds) {
    SCOPED_TRACE(n.name);
    const std::string unit = "chatalot-" + n.name;
    const std::string socket = "/run/chatalot/" + n.name + ".sock";
    EXPECT_TRUE(has_setting(unit_text(n.name, "socket"), "ListenStream=" + socket));
    const std::string service = unit_text(n.name, "service");
    EXPECT_TRUE(has_setting(service, "ExecStart=/usr/local/bin/" + unit));
    EXPECT_TRUE(has_setting(service, "Requires=" + unit + ".socket"));
    EXPECT_TRUE(wanted.contains(unit + ".socket") && wanted.contains(unit + ".service"));
    EXPECT_NE(site.find("    server unix:" + socket + " max_fails=0;\n"), std::string::npos);
    EXPECT_TRUE(stacked.contains(n.name)) << "not in scripts/stack's HANDLERS";
  }
}

// PrivateNetwork=yes for the mode query: a socket made outside the network namespace (as
// systemd makes it) and passed in keeps working; the handler itself is in another namespace.
TEST(ShippedUnits, TheModeQueryServesItsSocketFromAPrivateNetwork) {
  const std::string path = g_stack->run_dir() + "/private-net.sock";
  const int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  // unshare execs the handler in its own process: LISTEN_PID stays right.
  const std::string unshare = ::geteuid() == 0 ? "unshare --net" : "unshare --user --map-root-user --net";
  const std::string script = "exec 3<&" + std::to_string(listener) + "; export LISTEN_PID=$$; exec " +
                             unshare + " '" + build_dir() + "/handlers/chatalot-auth-config'";
  const pid_t pid = spawn({"/bin/sh", "-c", script}, {{"LISTEN_FDS", "1"}, {"WORKER_THREADS", "2"}},
                          g_stack->dir() + "/logs/private-net.log");
  ASSERT_GT(pid, 0);
  int fd = -1;
  bool ended = false;
  std::string out;
  for (int i = 0; i < 100 && !ended; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_TRUE(write_all(fd, whole_request({{"REQUEST_METHOD", "GET"}, {"DOCUMENT_URI", "/api/auth/config"}})));
    out = read_response(fd, &ended, 2000);
    ::close(fd);
  }
  EXPECT_TRUE(ended) << read_file(g_stack->dir() + "/logs/private-net.log");
  EXPECT_NE(out.find("Status: 200 OK"), std::string::npos) << out;
  const std::string mine = fs::read_symlink("/proc/self/ns/net");
  std::error_code ec;
  const std::string its = fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/net", ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_NE(its, mine) << "the handler ran in this network namespace";
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 5000), 0);
  ::close(listener);
}

// ---- what nginx answers itself ----------------------------------------------------------

const std::string kHost = "Host: x\r\nConnection: close\r\n";

TEST(NginxErrors, EveryMalformedRequestIsTheContractsJson400) {
  std::string many_headers;
  for (int i = 0; i < 6; ++i) many_headers += "X-H" + std::to_string(i) + ": " + std::string(7000, 'a') + "\r\n";
  const std::pair<std::string, std::string> cases[] = {
      {"an 8 KB URI (414)", "GET /api/auth/config?" + std::string(9000, 'a') + " HTTP/1.1\r\n" + kHost + "\r\n"},
      {"an 8 KB URI in HTTP/1.0", "GET /" + std::string(9000, 'a') + " HTTP/1.0\r\n\r\n"},
      {"a header over the buffers (494)", "GET /api/auth/config HTTP/1.1\r\n" + kHost + "X-Big: " + std::string(10000, 'a') + "\r\n\r\n"},
      {"headers over all buffers together", "GET /api/auth/config HTTP/1.1\r\n" + kHost + many_headers + "\r\n"},
      {"Transfer-Encoding: gzip (501)", "POST /api/auth/register HTTP/1.1\r\n" + kHost + "Transfer-Encoding: gzip\r\n\r\n"},
      {"HTTP/9.9 (505)", "GET /api/auth/config HTTP/9.9\r\n" + kHost + "\r\n"},
      {"%00 in the path (was an HTML 500)", "GET /api/auth/config%00 HTTP/1.1\r\n" + kHost + "\r\n"},
      {"%00 inside the path", "GET /api/%00/x HTTP/1.1\r\n" + kHost + "\r\n"},
      {"dot segments past the root", "GET /../../etc/passwd HTTP/1.1\r\n" + kHost + "\r\n"},
      {"a request line that is no request", "GARBAGE\r\n\r\n"},
      {"a method with a bad character", "G@T /api/auth/config HTTP/1.1\r\n" + kHost + "\r\n"},
      {"an asterisk target", "OPTIONS * HTTP/1.1\r\n" + kHost + "\r\n"},
      {"the HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
      {"HTTP/1.1 without Host", "GET /api/auth/config HTTP/1.1\r\nConnection: close\r\n\r\n"},
      {"a Content-Length that is no number", "POST /api/auth/register HTTP/1.1\r\n" + kHost + "Content-Length: abc\r\n\r\n"},
      {"a length and chunked", "POST /api/auth/register HTTP/1.1\r\n" + kHost + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"a broken chunk", "POST /api/auth/register HTTP/1.1\r\n" + kHost + "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n"},
  };
  for (const auto& [name, request] : cases) {
    SCOPED_TRACE(name);
    const RawResponse r = exchange(request);
    EXPECT_EQ(r.status, 400) << r.raw.substr(0, 300);
    EXPECT_EQ(header(r, "content-type"), "application/json");
    EXPECT_EQ(r.body, kMalformed);
    EXPECT_TRUE(std::regex_match(header(r, "x-request-id"), std::regex("[0-9a-f]{32}")));
  }
  // A HEAD gets the same status and headers, without the body.
  const RawResponse head = exchange("HEAD /api/auth/config%00 HTTP/1.1\r\n" + kHost + "\r\n");
  EXPECT_EQ(head.status, 400);
  EXPECT_EQ(header(head, "content-type"), "application/json");
  EXPECT_EQ(head.body, "");
  // The error pages are internal: asked for from outside, they are an unknown path.
  for (const char* path : {"/_error/503", "/_error/400"}) {
    const RawResponse r = exchange(std::string("GET ") + path + " HTTP/1.1\r\n" + kHost + "\r\n");
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body, kNotFound) << path;
  }
}

const std::string kId = "0b7e2a4c-1f3d-4e5a-9c6b-7d8e9f0a1b2c";

TEST(NginxErrors, NginxsOwn405NamesTheLocationsMethodsAsTheHandlerDoes) {
  // nginx refuses TRACE itself, anywhere; a PATCH (no endpoint takes one) reaches the handler,
  // whose 405 is the reference.
  auto c = g_stack->client();
  const std::string paths[] = {
      "/api/auth/config", "/api/auth/register", "/api/auth/invites/redeem", "/api/auth/login",
      "/api/auth/refresh", "/api/auth/recover", "/api/auth/logout", "/api/account/me",
      "/api/account/sessions", "/api/account/sessions/" + kId, "/api/account/logout-all",
      "/api/account/password", "/api/account/regenerate-recovery-code", "/api/keys/register",
      "/api/admin/invites", "/api/admin/invites/" + kId, "/api/admin/users",
      "/api/admin/users/" + kId + "/admin", "/api/admin/users/" + kId + "/suspend",
      "/api/admin/users/" + kId + "/unsuspend"};
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    const auto patch = c->Patch(path, "{}", "application/json");
    ASSERT_TRUE(patch);
    ASSERT_EQ(patch->status, 405) << patch->body;
    const std::string handler_allow = patch->get_header_value("Allow");
    ASSERT_FALSE(handler_allow.empty());
    const RawResponse trace = exchange("TRACE " + path + " HTTP/1.1\r\n" + kHost + "\r\n");
    EXPECT_EQ(trace.status, 405);
    EXPECT_EQ(header(trace, "allow"), handler_allow);
    EXPECT_EQ(header(trace, "content-type"), "application/json");
    EXPECT_EQ(trace.body, kMethod);
  }
  // On a path that does not exist there is no method to name: it stays a 404, as a GET's.
  const std::string unknown[] = {"/api/nope", "/API/AUTH/CONFIG", "/api/admin/users/" + kId,
                                 "/api/admin/users/" + kId + "/delete"};
  for (const std::string& path : unknown) {
    const RawResponse trace = exchange("TRACE " + path + " HTTP/1.1\r\n" + kHost + "\r\n");
    EXPECT_EQ(trace.status, 404) << path;
    EXPECT_EQ(trace.body, kNotFound) << path;
  }
}

TEST(NginxLimits, BodilessLocationsTakeASmallBodyAndAnswerAsTheHandlerWould) {
  const auto send = [](const std::string& method, const std::string& path, std::size_t size) {
    return exchange(method + " " + path + " HTTP/1.1\r\n" + kHost + "Content-Type: application/json\r\n" +
                    "Content-Length: " + std::to_string(size) + "\r\n\r\n" + std::string(size, ' '));
  };
  // Within 1k the handler answers as ever.
  EXPECT_EQ(send("GET", "/api/auth/config", 500).status, 200);
  // Over it nginx refuses before reading: a GET with a body is malformed...
  const RawResponse get = send("GET", "/api/auth/config", 2000);
  EXPECT_EQ(get.status, 400) << get.raw.substr(0, 300);
  EXPECT_EQ(get.body, kMalformed);
  // ...any other method is not allowed, as the handler would say...
  const RawResponse post = send("POST", "/api/auth/config", 2000);
  EXPECT_EQ(post.status, 405) << post.raw.substr(0, 300);
  EXPECT_EQ(header(post, "allow"), "GET, HEAD");
  EXPECT_EQ(post.body, kMethod);
  const RawResponse item = send("DELETE", "/api/admin/invites/" + kId, 2000);
  EXPECT_EQ(item.status, 400) << item.raw.substr(0, 300);
  // The account's and the admin's bodiless locations alike. Within 1k the handler answers (no
  // bearer: 401); over it, their method is told malformed, any other not allowed.
  const std::tuple<std::string, std::string, std::string> bodiless[] = {
      {"GET", "/api/account/me", "GET"},
      {"GET", "/api/account/sessions", "GET"},
      {"DELETE", "/api/account/sessions/" + kId, "DELETE"},
      {"GET", "/api/admin/users", "GET"},
  };
  for (const auto& [method, path, allow] : bodiless) {
    SCOPED_TRACE(method + " " + path);
    const RawResponse small = send(method, path, 500);
    EXPECT_EQ(small.status, 401) << small.raw.substr(0, 300);
    const RawResponse own = send(method, path, 2000);
    EXPECT_EQ(own.status, 400) << own.raw.substr(0, 300);
    EXPECT_EQ(own.body, kMalformed);
    const RawResponse other = send("POST", path, 2000);
    EXPECT_EQ(other.status, 405) << other.raw.substr(0, 300);
    EXPECT_EQ(header(other, "allow"), allow);
    EXPECT_EQ(other.body, kMethod);
  }
  // ...and only a body over the contract's 64 KiB is told so.
  const RawResponse large = exchange("POST /api/auth/config HTTP/1.1\r\n" + kHost +
                                     "Content-Length: 65537\r\n\r\n");
  EXPECT_EQ(large.status, 413);
  EXPECT_NE(large.body.find("\"payload_too_large\""), std::string::npos) << large.body;
  // A chunked body over 1k is refused as well.
  const RawResponse chunked = exchange("GET /api/auth/config HTTP/1.1\r\n" + kHost +
                                       "Transfer-Encoding: chunked\r\n\r\n7d0\r\n" +
                                       std::string(2000, 'a') + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 400) << chunked.raw.substr(0, 300);
}

TEST(NginxLimits, OneAddressCannotHoldEveryConnection) {
  // The review's attack: slow bodies from one address. Each request waits for a body that never
  // comes, holding a connection in progress; past limit_conn the rest are refused at once with
  // the contract's 429, and another address is served all the while.
  constexpr int kConnections = 100;
  std::vector<int> fds;
  for (int i = 0; i < kConnections; ++i) {
    const int fd = connect_from("127.0.0.5");
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(write_all(fd, "GET /api/auth/config HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"));
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Another address is served meanwhile.
  const RawResponse other = exchange("GET /api/auth/config HTTP/1.1\r\n" + kHost + "\r\n", "127.0.0.6");
  EXPECT_EQ(other.status, 200) << other.raw.substr(0, 300);
  // Collect the answers for a while (on a busy machine nginx may take its time); a held
  // request gets none before client_body_timeout (10 s).
  std::vector<std::string> answers(fds.size());
  std::vector<bool> done(fds.size(), false);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> waiting;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (!done[i]) {
        waiting.push_back({fds[i], POLLIN, 0});
        index.push_back(i);
      }
    }
    if (::poll(waiting.data(), waiting.size(), 100) <= 0) continue;
    for (std::size_t k = 0; k < waiting.size(); ++k) {
      if (waiting[k].revents == 0) continue;
      const std::size_t i = index[k];
      char buf[4096];
      const ssize_t n = ::read(fds[i], buf, sizeof buf);
      if (n > 0) answers[i].append(buf, static_cast<std::size_t>(n));
      done[i] = n <= 0 || complete(answers[i]);
    }
  }
  int held = 0;
  int refused = 0;
  for (const std::string& answer : answers) {
    const RawResponse r = parse_response(answer);
    if (r.raw.empty()) {
      ++held;
      continue;
    }
    ++refused;
    EXPECT_EQ(r.status, 429) << r.raw.substr(0, 300);
    EXPECT_EQ(header(r, "content-type"), "application/json");
    EXPECT_EQ(header(r, "retry-after"), "10");
    EXPECT_EQ(r.body, kFlood);
  }
  EXPECT_GE(held, 16) << "the limit must stay generous";
  EXPECT_LE(held, 64) << "one address held " << held << " connections";
  EXPECT_EQ(held + refused, kConnections);
  for (const int fd : fds) ::close(fd);
}

TEST(NginxLimits, EveryHandlersLocationHasAFloodGuardWithTheContractsAnswer) {
  // Each path from its own address, so that the zones start empty: past each guard's burst the
  // next requests are nginx's 429, and none before.
  const std::tuple<std::string, std::string, int> cases[] = {
      {"/api/auth/config", "127.0.0.21", 200},
      {"/api/auth/register", "127.0.0.22", 100},
      {"/api/auth/invites/redeem", "127.0.0.25", 100},
      {"/api/admin/invites", "127.0.0.23", 100},
      {"/api/admin/invites/" + kId, "127.0.0.24", 100},
      {"/api/auth/login", "127.0.0.26", 100},
      {"/api/auth/refresh", "127.0.0.27", 100},
      {"/api/auth/recover", "127.0.0.28", 100},
      {"/api/auth/logout", "127.0.0.29", 100},
      {"/api/account/me", "127.0.0.30", 100},
      {"/api/account/sessions", "127.0.0.31", 100},
      {"/api/account/sessions/" + kId, "127.0.0.32", 100},
      {"/api/account/logout-all", "127.0.0.33", 100},
      {"/api/account/password", "127.0.0.34", 100},
      {"/api/account/regenerate-recovery-code", "127.0.0.35", 100},
      {"/api/keys/register", "127.0.0.36", 100},
      {"/api/admin/users", "127.0.0.37", 100},
      {"/api/admin/users/" + kId + "/suspend", "127.0.0.38", 100},
  };
  for (const auto& [path, source, burst] : cases) {
    SCOPED_TRACE(path);
    auto c = g_stack->client();
    c->set_interface(source);
    c->set_keep_alive(true);
    int first_guarded = -1;
    for (int i = 0; i < burst + 100 && first_guarded < 0; ++i) {
      const auto res = c->Get(path);
      ASSERT_TRUE(res);
      if (res->status == 429) {
        first_guarded = i;
        EXPECT_EQ(res->body, kFlood);
        EXPECT_EQ(res->get_header_value("Retry-After"), "10");
      }
    }
    EXPECT_GT(first_guarded, burst) << "nginx's guard came too early (or never: -1)";
  }
}

}  // namespace
}  // namespace chatalot::testing
