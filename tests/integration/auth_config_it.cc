// The mode query end to end: HTTP through nginx to the real handler, and the stack's life.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "../fcgi_client.h"
#include "harness.h"

namespace chatalot::testing {
namespace {

Stack* g_stack = nullptr;

class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_stack = new Stack("auth-config");
    const CommandResult r = g_stack->up();
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  void TearDown() override { delete g_stack; }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new StackEnvironment);

const char* const kJsonError = R"(^\{"error":\{"code":"[a-z_]+","message":"[^"]+"\}\}\n?$)";

TEST(ModeQuery, EachModeIsReportedAfterARestartWithIt) {
  const std::pair<std::string, std::string> cases[] = {
      {" Open ", "open"}, {"INVITE_ONLY", "invite_only"}, {"closed", "closed"}, {"", "invite_only"}};
  for (const auto& [given, expected] : cases) {
    ASSERT_EQ(g_stack->down().exit_code, 0);
    const CommandResult up = g_stack->up({{"REGISTRATION_MODE", given}});
    ASSERT_EQ(up.exit_code, 0) << up.output;
    EXPECT_NE(up.output.find("http://127.0.0.1:" + std::to_string(g_stack->port())),
              std::string::npos);
    const auto res = g_stack->client()->Get("/api/auth/config");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(res->body, R"({"registration_mode":")" + expected + R"(","e2e_enabled":true})")
        << "REGISTRATION_MODE='" << given << "'";
  }
}

TEST(ModeQuery, PublicUrlIsEchoedWhenSet) {
  ASSERT_EQ(g_stack->down().exit_code, 0);
  ASSERT_EQ(g_stack->up({{"PUBLIC_URL", "https://chat.example.org"}}).exit_code, 0);
  const auto res = g_stack->client()->Get("/api/auth/config");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body,
            R"({"registration_mode":"invite_only","e2e_enabled":true,"public_url":"https://chat.example.org"})");
  ASSERT_EQ(g_stack->down().exit_code, 0);
  ASSERT_EQ(g_stack->up().exit_code, 0);
}

TEST(ModeQuery, HeadAnswersTheSameHeadersWithoutBody) {
  auto c = g_stack->client();
  const auto get = c->Get("/api/auth/config");
  const auto head = c->Head("/api/auth/config");
  ASSERT_TRUE(get);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(head->get_header_value("Content-Length"), std::to_string(get->body.size()));
}

TEST(ModeQuery, OtherMethodsAre405WithAllow) {
  auto c = g_stack->client();
  for (const auto& res : {c->Post("/api/auth/config", "{}", "application/json"),
                          c->Put("/api/auth/config", "{}", "application/json"),
                          c->Delete("/api/auth/config")}) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 405);
    EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");
    EXPECT_TRUE(std::regex_match(res->body, std::regex(kJsonError))) << res->body;
    EXPECT_NE(res->body.find(R"("code":"method_not_allowed")"), std::string::npos);
  }
}

TEST(Nginx, UnknownPathsAreJson404) {
  auto c = g_stack->client();
  for (const char* path : {"/api/nope", "/api/auth/config/", "/api/auth/configx", "/", "/index.html"}) {
    const auto res = c->Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
    EXPECT_EQ(res->body, "{\"error\":{\"code\":\"not_found\",\"message\":\"not found\"}}\n") << path;
  }
  const auto post = c->Post("/api/auth/nothing", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
}

TEST(Nginx, BodyOverTheLimitIsJson413) {
  const auto res = g_stack->client()->Post("/api/auth/config", std::string(70000, ' '),
                                           "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_TRUE(std::regex_match(res->body, std::regex(kJsonError))) << res->body;
  EXPECT_NE(res->body.find("payload_too_large"), std::string::npos);
}

TEST(Nginx, RequestIdComesBackAndIsLogged) {
  auto c = g_stack->client();
  const auto a = c->Get("/api/auth/config");
  const auto b = c->Get("/api/auth/config");
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  const std::string id = a->get_header_value("X-Request-Id");
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
  EXPECT_NE(id, b->get_header_value("X-Request-Id"));
  // A client-sent id does not replace nginx's.
  const auto c3 = c->Get("/api/auth/config", {{"X-Request-Id", "forged"}});
  ASSERT_TRUE(c3);
  EXPECT_NE(c3->get_header_value("X-Request-Id"), "forged");
  const std::string log = read_file(g_stack->log_path("auth-config"));
  EXPECT_NE(log.find("method=GET path=/api/auth/config status=200"), std::string::npos);
  EXPECT_NE(log.find("request_id=" + id), std::string::npos) << log;
  // Errors nginx makes itself carry an id too.
  const auto missing = c->Get("/api/missing");
  ASSERT_TRUE(missing);
  EXPECT_TRUE(std::regex_match(missing->get_header_value("X-Request-Id"), std::regex("[0-9a-f]{32}")));
}

TEST(Stack, BadModeMakesUpFailWithTheHandlersMessage) {
  Stack other("bad-mode");
  const CommandResult r = other.up({{"REGISTRATION_MODE", "inviteonly"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("chatalot-auth-config: REGISTRATION_MODE: invalid value \"inviteonly\"; "
                          "valid values are open, invite_only, closed"),
            std::string::npos)
      << r.output;
  const CommandResult status = other.script("status");
  EXPECT_EQ(status.output.find("running"), std::string::npos) << status.output;
}

TEST(Stack, StatusAndASecondStackSideBySide) {
  const CommandResult status = g_stack->script("status");
  EXPECT_NE(status.output.find("postgresql: running"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("redis: running"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("chatalot-auth-config: running"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("nginx: running"), std::string::npos) << status.output;

  Stack other("side-by-side");
  ASSERT_EQ(other.up({{"REGISTRATION_MODE", "closed"}}).exit_code, 0);
  const auto mine = g_stack->client()->Get("/api/auth/config");
  const auto theirs = other.client()->Get("/api/auth/config");
  ASSERT_TRUE(mine);
  ASSERT_TRUE(theirs);
  EXPECT_NE(theirs->body.find("\"closed\""), std::string::npos);
  EXPECT_EQ(mine->body.find("\"closed\""), std::string::npos);
  ASSERT_EQ(other.down().exit_code, 0);
  EXPECT_EQ(other.script("status").output.find("running"), std::string::npos);
}

// Replaces the stack's auth-config handler by a child of this test, on the same socket.
pid_t take_over_handler(const std::string& log) {
  const pid_t old = g_stack->handler_pid("auth-config");
  ::kill(old, SIGTERM);
  for (int i = 0; i < 400 && process_running(old); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  const std::string sock = g_stack->run_dir() + "/auth-config.sock";
  return spawn({build_dir() + "/handlers/chatalot-auth-config", "--listen", "unix:" + sock},
               {{"REGISTRATION_MODE", "open"}, {"WORKER_THREADS", "4"}}, log);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(Shutdown, SigtermUnderLoadLosesNoAcceptedRequest) {
  const std::string log = g_stack->dir() + "/logs/takeover.log";
  const pid_t pid = take_over_handler(log);
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 100 && !g_stack->client()->Get("/api/auth/config"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::size_t warmup = count(read_file(log), "status=200");

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> unavailable{0};
  std::atomic<int> other{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      auto c = g_stack->client();
      while (!stop.load()) {
        const auto res = c->Get("/api/auth/config");
        if (res && res->status == 200 && res->body.find("\"open\"") != std::string::npos) {
          ++ok;
        } else if (res && res->status == 503 && res->get_header_value("Retry-After") == "5" &&
                   res->body.find("service_unavailable") != std::string::npos) {
          ++unavailable;
        } else {
          ++other;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ::kill(pid, SIGTERM);
  const int exit_code = wait_exit(pid, 10000);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : clients) t.join();

  EXPECT_EQ(exit_code, 0);
  EXPECT_EQ(other.load(), 0) << "responses that were neither a 200 nor nginx's JSON 503";
  EXPECT_GT(ok.load(), 100);
  EXPECT_GT(unavailable.load(), 0) << "the load went on after the handler stopped";
  // Every request the handler logged as answered reached its client, and no more.
  const std::string text = read_file(log);
  EXPECT_EQ(count(text, "status=200") - warmup, static_cast<std::size_t>(ok.load()));
  EXPECT_NE(text.find("stopped: every accepted request was answered"), std::string::npos);
  ASSERT_EQ(g_stack->up().exit_code, 0);  // the stack's own handler again
}

// A connection to a handler's unix socket, retried while the handler starts; -1 on failure.
int connect_unix(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return -1;
}

const std::vector<std::pair<std::string, std::string>> kGetConfig = {
    {"REQUEST_METHOD", "GET"}, {"DOCUMENT_URI", "/api/auth/config"}};

// nginx may pool more kept-alive connections than a handler has threads: an idle one must not
// hold a thread, or requests on the others would wait for ever (FIELD-NOTES pitfall 1).
TEST(KeepAlive, IdleConnectionsOutnumberingTheThreadsAreAllServed) {
  const std::string sock = g_stack->dir() + "/run/keepalive.sock";
  const pid_t pid = spawn({build_dir() + "/handlers/chatalot-auth-config", "--listen", "unix:" + sock},
                          {{"WORKER_THREADS", "2"}}, g_stack->dir() + "/logs/keepalive.log");
  ASSERT_GT(pid, 0);
  std::vector<int> fds;
  for (int i = 0; i < 6; ++i) fds.push_back(connect_unix(sock));
  for (int round = 0; round < 3; ++round) {
    for (const int fd : fds) {
      ASSERT_GE(fd, 0);
      ASSERT_TRUE(write_all(fd, whole_request(kGetConfig, {}, /*keep_conn=*/true)));
      bool ended = false;
      const std::string out = read_response(fd, &ended, 3000);
      EXPECT_TRUE(ended) << "round " << round << ": no answer on a kept connection";
      EXPECT_NE(out.find("Status: 200 OK"), std::string::npos);
    }
  }
  // Idle kept connections do not hold up a stop either.
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 2000), 0);
  for (const int fd : fds) ::close(fd);
}

// Starts the handler as systemd would: the listening socket at fd 3, LISTEN_FDS=1 and LISTEN_PID
// set to the handler's own pid (the shell's, which exec keeps).
pid_t spawn_activated(int listen_fd, const std::string& log) {
  const std::string exe = build_dir() + "/handlers/chatalot-auth-config";
  const std::string script = "exec 3<&" + std::to_string(listen_fd) + "; export LISTEN_PID=$$; exec '" + exe + "'";
  return spawn({"/bin/sh", "-c", script}, {{"LISTEN_FDS", "1"}, {"WORKER_THREADS", "2"}}, log);
}

// SPEC section 6: the socket stays with systemd, so a restart (after an edit of the
// environment file, say) refuses no connection: requests wait in the backlog for the next one.
TEST(SocketActivation, ARestartRefusesNoConnection) {
  const std::string path = g_stack->dir() + "/run/activated.sock";
  const int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);  // what systemd holds
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 64), 0);
  const std::string log = g_stack->dir() + "/logs/activated.log";

  pid_t pid = spawn_activated(listener, log);
  int fd = connect_unix(path);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(write_all(fd, whole_request(kGetConfig)));
  bool ended = false;
  EXPECT_NE(read_response(fd, &ended).find("Status: 200 OK"), std::string::npos);
  ::close(fd);
  ::kill(pid, SIGTERM);
  ASSERT_EQ(wait_exit(pid, 5000), 0);

  // Nobody serves the socket now: a client still connects, and its request waits.
  fd = connect_unix(path);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(write_all(fd, whole_request(kGetConfig)));
  pid = spawn_activated(listener, log);
  ended = false;
  const std::string out = read_response(fd, &ended, 5000);
  EXPECT_TRUE(ended);
  EXPECT_NE(out.find("Status: 200 OK"), std::string::npos) << out;
  ::close(fd);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 5000), 0);
  ::close(listener);
}

TEST(Shutdown, SigtermWaitsForARequestInFlight) {
  const std::string sock = g_stack->dir() + "/run/inflight.sock";
  const pid_t pid = spawn({build_dir() + "/handlers/chatalot-auth-config", "--listen", "unix:" + sock},
                          {{"REGISTRATION_MODE", "closed"}}, g_stack->dir() + "/logs/inflight.log");
  ASSERT_GT(pid, 0);
  const int fd = connect_unix(sock);
  ASSERT_GE(fd, 0);
  const std::string request = whole_request(kGetConfig);
  ASSERT_TRUE(write_all(fd, request.substr(0, 20)));  // the request has begun...
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(pid, SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(wait_exit(pid, 0), -1) << "the handler left with a request in flight";
  ASSERT_TRUE(write_all(fd, request.substr(20)));  // ...and ends after the signal
  bool ended = false;
  const std::string out = read_response(fd, &ended);
  ::close(fd);
  EXPECT_TRUE(ended);
  EXPECT_NE(out.find("Status: 200 OK"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"registration_mode":"closed","e2e_enabled":true})"), std::string::npos);
  EXPECT_EQ(wait_exit(pid, 5000), 0);
}

}  // namespace
}  // namespace chatalot::testing
