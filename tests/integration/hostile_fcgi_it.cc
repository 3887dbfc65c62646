// Hostile FastCGI peers straight on a real handler's socket (the auth-config one of a whole
// stack), while requests through nginx keep being answered: SPEC guarantees 8 (malformed and
// slow peers never crash or 500) and 11 (no peer, however slow or however many its connections,
// stops a handler from serving others; descriptors are bounded).
#include <dirent.h>
#include <fastcgi.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "../fcgi_client.h"
#include "harness.h"

namespace chatalot::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Short deadlines, so that the slow peers are cut off and come back within the test.
constexpr int kRequestTimeoutMs = 3000;
constexpr int kIdleTimeoutMs = 4000;

Stack* g_stack = nullptr;

class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_stack = new Stack("hostile", 1, fast_unlimited_env());
    const CommandResult r = g_stack->up({{"REQUEST_TIMEOUT_MS", std::to_string(kRequestTimeoutMs)},
                                         {"IDLE_TIMEOUT_MS", std::to_string(kIdleTimeoutMs)}});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  void TearDown() override { delete g_stack; }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new StackEnvironment);

std::string handler_socket() { return g_stack->run_dir() + "/auth-config.sock"; }

int descriptors(pid_t pid) {
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(dir)) n += e->d_name[0] != '.';
  ::closedir(dir);
  return n;
}

long rss_kib(pid_t pid) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  const std::size_t at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + 6);
}

// The handler's worst figures while `attack` runs, and how the requests through nginx fared.
struct Watch {
  int most_fds = 0;
  long most_rss_kib = 0;
  int requests = 0;
  int failures = 0;  // anything but a 200 within a second
  Clock::duration slowest{};
};

// GET /api/auth/config through nginx every 100 ms for `duration`, and the handler's figures.
Watch watch_for(pid_t pid, milliseconds duration) {
  Watch w;
  auto client = g_stack->client();
  client->set_read_timeout(1, 0);
  for (const auto until = Clock::now() + duration; Clock::now() < until;) {
    const auto start = Clock::now();
    const auto res = client->Get("/api/auth/config");
    const auto took = Clock::now() - start;
    ++w.requests;
    if (!res || res->status != 200 || took > std::chrono::seconds(1)) ++w.failures;
    w.slowest = std::max(w.slowest, took);
    w.most_fds = std::max(w.most_fds, descriptors(pid));
    w.most_rss_kib = std::max(w.most_rss_kib, rss_kib(pid));
    std::this_thread::sleep_for(milliseconds(100));
  }
  return w;
}

void print(const char* what, const Watch& w) {
  std::printf("%s: %d requests, %d failed, slowest %lld ms; handler at most %d descriptors, %ld KiB\n",
              what, w.requests, w.failures,
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(w.slowest).count()),
              w.most_fds, w.most_rss_kib);
}

// More slow peers (20) than the handler has threads (16): each sends a long request one byte
// every 200 ms, and starts again when the handler cuts it off at its deadline.
class SlowPeers {
 public:
  explicit SlowPeers(int count) : fds_(static_cast<std::size_t>(count), -1) {
    thread_ = std::thread([this] {
      const std::string request = whole_request(
          {{"REQUEST_METHOD", "GET"}, {"DOCUMENT_URI", "/api/auth/config" + std::string(5000, 'x')}});
      std::vector<std::size_t> at(fds_.size(), 0);
      while (!stop_.load()) {
        for (std::size_t i = 0; i < fds_.size(); ++i) {
          if (fds_[i] < 0 || !write_all(fds_[i], request.substr(at[i]++ % request.size(), 1))) {
            if (fds_[i] >= 0) {
              ++cut_off_;
              ::close(fds_[i]);
            }
            fds_[i] = unix_stream_to(handler_socket());
          }
        }
        std::this_thread::sleep_for(milliseconds(200));
      }
    });
  }
  ~SlowPeers() {
    stop_ = true;
    thread_.join();
    for (const int fd : fds_) ::close(fd);
  }
  int cut_off() const { return cut_off_.load(); }

 private:
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<int> cut_off_{0};
  std::thread thread_;
};

TEST(HostilePeers, SlowAndIdlePeersDoNotStopTheHandlerAndItsDescriptorsStayBounded) {
  const pid_t pid = g_stack->handler_pid("auth-config");
  ASSERT_GT(pid, 0);
  const Watch calm = watch_for(pid, milliseconds(500));
  ASSERT_EQ(calm.failures, 0);
  std::vector<int> idle;
  for (int i = 0; i < 50; ++i) idle.push_back(unix_stream_to(handler_socket()));
  Watch attacked;
  int cut_off = 0;
  {
    SlowPeers slow(20);
    attacked = watch_for(pid, milliseconds(10000));
    cut_off = slow.cut_off();
  }
  print("calm", calm);
  print("20 slow and 50 idle peers", attacked);
  EXPECT_EQ(attacked.failures, 0) << "of " << attacked.requests << "; slowest "
                                  << std::chrono::duration_cast<milliseconds>(attacked.slowest).count()
                                  << " ms";
  EXPECT_GT(attacked.requests, 50);
  // 20 slow and 50 idle peers, nginx's kept connections (at most 32) and the handler's own.
  EXPECT_LE(attacked.most_fds, calm.most_fds + 20 + 50 + 32) << "before: " << calm.most_fds;
  EXPECT_LE(attacked.most_rss_kib, calm.most_rss_kib + 16 * 1024) << "before: " << calm.most_rss_kib;
  EXPECT_GE(cut_off, 20) << "each slow peer is cut off at its 3 s deadline";
  int idle_closed = 0;
  for (const int fd : idle) {
    idle_closed += ends_within(fd, 0) ? 1 : 0;
    ::close(fd);
  }
  EXPECT_EQ(idle_closed, 50) << "idle connections closed after IDLE_TIMEOUT_MS (4 s)";
  EXPECT_TRUE(process_running(pid));
  EXPECT_EQ(g_stack->handler_pid("auth-config"), pid);
}

// Sends `data` on a new connection, gives up after two seconds of not being read.
void send_on_new_connection(const std::string& data) {
  const int fd = unix_stream_to(handler_socket());
  const timeval two_seconds{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &two_seconds, sizeof two_seconds);
  write_all(fd, data);
  ends_within(fd, 2000);
  ::close(fd);
}

// The review's padded records (1 byte of content, 254 of padding) grew a handler from 37 MB to
// 644 MB; with them, the other malformed peers of guarantee 8.
TEST(HostilePeers, PaddedRecordsAndMalformedPeersNeitherCrashNorGrowTheHandler) {
  const pid_t pid = g_stack->handler_pid("auth-config");
  const Watch calm = watch_for(pid, milliseconds(300));
  std::string padded = begin_request();
  while (padded.size() < 8 * 1024 * 1024) padded += record(FCGI_PARAMS, "x", 1, 254);
  std::string many_records = begin_request();
  for (int i = 0; i < 10000; ++i) many_records += record(FCGI_PARAMS, "");
  const char begin_zero[8] = {0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0};
  const std::vector<std::string> malformed = {
      many_records,
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      record(FCGI_BEGIN_REQUEST, std::string_view(begin_zero, 8), 0),
      record(99, "", 0) + record(FCGI_GET_VALUES, encode_params({{"FCGI_MAX_CONNS", ""}}), 0),
      begin_request() + record(FCGI_PARAMS, std::string(65535, '\xff')),
      begin_request() + record(FCGI_STDIN, "out of order"),
  };
  std::vector<std::thread> peers;
  for (int i = 0; i < 12; ++i) peers.emplace_back(send_on_new_connection, std::cref(padded));
  for (int round = 0; round < 4; ++round) {
    for (const std::string& m : malformed) peers.emplace_back(send_on_new_connection, std::cref(m));
  }
  const Watch attacked = watch_for(pid, milliseconds(3000));
  for (std::thread& t : peers) t.join();
  print("calm", calm);
  print("padded and malformed peers", attacked);
  EXPECT_EQ(attacked.failures, 0);
  EXPECT_LE(attacked.most_rss_kib, calm.most_rss_kib + 16 * 1024) << "before: " << calm.most_rss_kib;
  EXPECT_TRUE(process_running(pid));
  EXPECT_EQ(g_stack->handler_pid("auth-config"), pid);
  const std::string log = read_file(g_stack->log_path("auth-config"));
  EXPECT_EQ(log.find("status=500"), std::string::npos);
}

}  // namespace
}  // namespace chatalot::testing
