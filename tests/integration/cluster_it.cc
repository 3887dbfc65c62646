// The rate limits on Redis Cluster (SPEC section 7 and guarantee 5), through nginx and two worker
// pools per handler: a local cluster of three masters and three replicas
// (CHATALOT_STACK_REDIS=cluster). Limits stay exact while their keys spread over the masters,
// and while a resharding moves the slot of live keys (the handlers follow ASK, then MOVED); a
// master killed costs 503s for the keys it served until its replica takes over, and service
// resumes without restarting a handler.
//
// A registration with an empty body is refused (400) only after the per-address limit let it
// through: 400 means "allowed", 429 "limited", 503 "the limiter could not answer".
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "core/limits.h"
#include "harness.h"
#include "limits/cluster.h"

namespace chatalot::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Stack* g_stack = nullptr;
constexpr int kBurst = 20;  // registration attempts per address, none refilled during the test

class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_stack = new Stack("cluster", 2,
                        {{"CHATALOT_STACK_REDIS", "cluster"},
                         {"RATE_LIMIT_REGISTER_PER_SECOND", "0.0001"},
                         {"RATE_LIMIT_REGISTER_BURST", std::to_string(kBurst)}});
    const CommandResult r = g_stack->up();
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_EQ(g_stack->redis_cluster_ports().size(), 6U);
  }
  void TearDown() override { delete g_stack; }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new StackEnvironment);

// --- The cluster as CLUSTER NODES shows it -------------------------------------------------

struct Node {
  std::string id;
  int port = 0;
  bool master = false;
  bool failed = false;
  std::string master_id;                   // a replica's master
  std::vector<std::pair<int, int>> slots;  // the ranges it serves (a master)
};

std::string cli(int port, const std::string& args) {
  return run_command("redis-cli -p " + std::to_string(port) + " " + args).output;
}

// The view of the first node that answers.
std::vector<Node> cluster_nodes() {
  for (const int port : g_stack->redis_cluster_ports()) {
    const CommandResult r = run_command("redis-cli -p " + std::to_string(port) + " CLUSTER NODES");
    if (r.exit_code != 0 || r.output.find("myself") == std::string::npos) continue;
    std::vector<Node> nodes;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string id, address, flags, master, ping, pong, epoch, link, slot;
      if (!(words >> id >> address >> flags >> master >> ping >> pong >> epoch >> link)) continue;
      Node n;
      n.id = id;
      n.port = std::atoi(address.substr(address.rfind(':') + 1).c_str());
      n.master = flags.find("master") != std::string::npos;
      n.failed = flags.find("fail") != std::string::npos;
      n.master_id = master;
      while (words >> slot) {
        if (slot.front() == '[') continue;  // a slot being migrated or imported
        const std::size_t dash = slot.find('-');
        const int first = std::atoi(slot.substr(0, dash).c_str());
        n.slots.emplace_back(
            first, dash == std::string::npos ? first : std::atoi(slot.substr(dash + 1).c_str()));
      }
      nodes.push_back(n);
    }
    return nodes;
  }
  ADD_FAILURE() << "no cluster node answers CLUSTER NODES";
  return {};
}

const Node* owner_of(const std::vector<Node>& nodes, int slot) {
  for (const Node& n : nodes) {
    if (!n.master || n.failed) continue;
    for (const auto& [first, last] : n.slots) {
      if (slot >= first && slot <= last) return &n;
    }
  }
  return nullptr;
}
// The answer points into nodes: never a temporary's.
const Node* owner_of(std::vector<Node>&& nodes, int slot) = delete;

std::vector<const Node*> masters(const std::vector<Node>& nodes) {
  std::vector<const Node*> out;
  for (const Node& n : nodes) {
    if (n.master && !n.failed && !n.slots.empty()) out.push_back(&n);
  }
  return out;
}

pid_t pid_of_node(int port) {
  const std::vector<int> ports = g_stack->redis_cluster_ports();
  const auto at = std::find(ports.begin(), ports.end(), port);
  if (at == ports.end()) return -1;
  return std::atoi(
      read_file(g_stack->run_dir() + "/redis-" + std::to_string(at - ports.begin() + 1) + ".pid")
          .c_str());
}

// The i-th of the loopback addresses from 127.<block>.0.1 on, that the tests bind as client
// addresses (62500 per block; a large i goes on into the next blocks).
std::string address(int block, int i) {
  return "127." + std::to_string(block + i / 62500) + "." + std::to_string(i / 250 % 250) + "." +
         std::to_string(i % 250 + 1);
}

int slot_of(const std::string& addr) { return key_slot(registration_key(addr)); }

// --- Requests ----------------------------------------------------------------------------------

constexpr std::string_view kLimitedBody =
    R"({"error":{"code":"rate_limited","message":"too many requests, try again later"}})";
constexpr std::string_view kUnavailableBody =
    R"({"error":{"code":"service_unavailable","message":"the service is temporarily unavailable"}})";

struct Answer {
  int status = -1;  // -1: no answer
  std::string body;
  bool retry_after = false;
  Clock::duration took{};
};

Answer attempt(const std::string& from) {
  auto c = g_stack->client();
  c->set_interface(from);
  const auto start = Clock::now();
  const auto res = c->Post("/api/auth/register", "{}", "application/json");
  Answer a;
  a.took = Clock::now() - start;
  if (res) {
    a.status = res->status;
    a.body = res->body;
    a.retry_after = !res->get_header_value("Retry-After").empty();
  }
  return a;
}

// What each address was answered, from many threads.
class Tally {
 public:
  void add(const std::string& addr, const Answer& a) {
    const std::lock_guard lock(mu_);
    ++counts_[addr][a.status];
    const bool expected = a.status == 400 || (a.status == 429 && a.body == kLimitedBody);
    if (!expected) odd_.push_back(addr + ": " + std::to_string(a.status) + " " + a.body);
  }
  int count(const std::string& addr, int status) {
    const std::lock_guard lock(mu_);
    return counts_[addr][status];
  }
  int sent(const std::string& addr) {
    const std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [status, k] : counts_[addr]) n += k;
    return n;
  }
  std::vector<std::string> odd() {
    const std::lock_guard lock(mu_);
    return odd_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::map<int, int>> counts_;
  std::vector<std::string> odd_;
};

// Client threads that are stopped and joined however the test ends.
struct Threads {
  std::atomic<bool> stop{false};
  std::vector<std::thread> running;
  ~Threads() { join(); }
  void join() {
    stop = true;
    for (auto& t : running) {
      if (t.joinable()) t.join();
    }
  }
};

// --- (a) keys spread over the masters ------------------------------------------------------

TEST(Cluster, KeysSpreadOverEveryMasterAndEachLimitIsExactAcrossTwoPools) {
  const std::vector<Node> nodes = cluster_nodes();
  const std::vector<const Node*> ms = masters(nodes);
  ASSERT_EQ(ms.size(), 3U);
  // Six addresses whose keys each master serves, chosen by the slots of their keys.
  std::map<int, std::vector<std::string>> by_master;
  for (int i = 0;
       by_master.size() < 3 || std::any_of(by_master.begin(), by_master.end(),
                                           [](const auto& m) { return m.second.size() < 6; });
       ++i) {
    const std::string addr = address(30, i);
    const Node* owner = owner_of(nodes, slot_of(addr));
    ASSERT_NE(owner, nullptr) << "slot " << slot_of(addr) << " has no master";
    if (by_master[owner->port].size() < 6) by_master[owner->port].push_back(addr);
  }
  // Each address tries kBurst + 4 times, from two client threads at once; nginx spreads the
  // requests over both pools of the registration handler.
  Tally tally;
  std::vector<std::thread> threads;
  for (const auto& [port, addrs] : by_master) {
    for (const std::string& addr : addrs) {
      for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&tally, addr] {
          for (int i = 0; i < (kBurst + 4) / 2; ++i) tally.add(addr, attempt(addr));
        });
      }
    }
  }
  for (auto& t : threads) t.join();
  for (const std::string& odd : tally.odd())
    ADD_FAILURE() << "neither allowed nor limited: " << odd;
  for (const auto& [port, addrs] : by_master) {
    for (const std::string& addr : addrs) {
      EXPECT_EQ(tally.count(addr, 400), kBurst) << addr << " on the master at port " << port;
      EXPECT_EQ(tally.count(addr, 429), 4) << addr;
    }
  }
  // Each master holds exactly the keys of its own addresses: they are spread, each in its slot.
  for (const auto& [port, addrs] : by_master) {
    std::istringstream scan(cli(port, "--scan --pattern 'chatalot:rl:register:ip4:127.30.*'"));
    std::set<std::string> held;
    for (std::string key; std::getline(scan, key);) held.insert(key);
    std::set<std::string> expected;
    for (const std::string& addr : addrs) expected.insert(registration_key(addr));
    EXPECT_EQ(held, expected) << "the master at port " << port;
  }
  EXPECT_NE(read_file(g_stack->log_path("register")).find("status=429"), std::string::npos);
  EXPECT_NE(read_file(g_stack->log_path("register.2")).find("status=429"), std::string::npos);
}

// The plain counter beside the limits (INCR) goes to its key's master too.
TEST(Cluster, TheFailedInviteCounterCountsEveryFailure) {
  const std::string key(kInviteFailuresKey);
  const int before = std::atoi(g_stack->redis_cli("GET " + key).c_str());
  for (int i = 0; i < 3; ++i) {
    auto c = g_stack->client();
    c->set_interface(address(34, i));
    const auto res =
        c->Post("/api/auth/invites/redeem", R"({"invite_code":"WRONG"})", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
  }
  EXPECT_EQ(std::atoi(g_stack->redis_cli("GET " + key).c_str()), before + 3);
  const std::vector<Node> nodes = cluster_nodes();
  const Node* owner = owner_of(nodes, key_slot(key));
  ASSERT_NE(owner, nullptr);
  EXPECT_EQ(std::atoi(cli(owner->port, "GET " + key).c_str()), before + 3);
}

// --- (b) a resharding under load ---------------------------------------------------------------

int stat_calls(int port, const std::string& command) {
  const std::string stats = cli(port, "INFO commandstats");
  const std::string prefix = "cmdstat_" + command + ":calls=";
  const std::size_t at = stats.find(prefix);
  return at == std::string::npos ? 0 : std::atoi(stats.c_str() + at + prefix.size());
}

// One slot moves from its master to another while requests for its keys run, the way
// `redis-cli --cluster reshard` moves it: the target IMPORTING, the source MIGRATING, the keys
// MIGRATEd a few at a time, then the slot given to the target on every master. Keys already on
// the target, and new keys, are answered ASK by the source (followed with ASKING, and the
// script reloaded there under ASKING after a SCRIPT FLUSH); once the slot is the target's, the
// source answers MOVED. Every limit stays exact, and no request fails.
TEST(Cluster, AReshardingUnderLoadKeepsEveryLimitExact) {
  const std::vector<Node> nodes = cluster_nodes();
  // Ten addresses whose keys share one slot: six in use before the move, four first seen during it.
  const int slot = slot_of(address(50, 0));
  std::vector<std::string> before_move;
  std::vector<std::string> during_move;
  for (int i = 0; during_move.size() < 4; ++i) {
    const std::string addr = address(50, i);
    if (slot_of(addr) != slot) continue;
    (before_move.size() < 6 ? before_move : during_move).push_back(addr);
  }
  const Node* source = owner_of(nodes, slot);
  ASSERT_NE(source, nullptr);
  const Node* target = nullptr;
  for (const Node* m : masters(nodes)) {
    if (m->port != source->port) target = m;
  }
  ASSERT_NE(target, nullptr);
  const int asking_before = stat_calls(target->port, "asking");

  Tally tally;
  std::atomic<bool> moving{false};
  std::atomic<int> other_answers{0};
  std::vector<std::string> other_odd;
  std::mutex other_mu;
  Threads threads;  // last: stopped before what they use goes
  const auto paced = [&](const std::string& addr, bool wait_for_move) {
    while (wait_for_move && !moving && !threads.stop) std::this_thread::sleep_for(milliseconds(10));
    while (!threads.stop && tally.sent(addr) < kBurst + 3) {
      tally.add(addr, attempt(addr));
      std::this_thread::sleep_for(milliseconds(150));
    }
  };
  for (const std::string& addr : before_move) threads.running.emplace_back(paced, addr, false);
  for (const std::string& addr : during_move) threads.running.emplace_back(paced, addr, true);
  // Load on the other masters too, a new address each time (so never limited); none on the
  // target, which then sees only what ASK sends it.
  for (int t = 0; t < 2; ++t) {
    threads.running.emplace_back([&, t] {
      for (int i = 0; !threads.stop; ++i) {
        const Node* owner = owner_of(nodes, slot_of(address(32 + t, i)));
        if (owner == nullptr || owner->port == target->port ||
            slot_of(address(32 + t, i)) == slot) {
          continue;
        }
        const Answer a = attempt(address(32 + t, i));
        ++other_answers;
        if (a.status != 400) {
          const std::lock_guard lock(other_mu);
          other_odd.push_back(std::to_string(a.status) + " " + a.body);
        }
      }
    });
  }
  // The six addresses' keys exist on the source.
  for (int i = 0; i < 100 && std::any_of(before_move.begin(), before_move.end(),
                                         [&](const auto& a) { return tally.sent(a) < 3; });
       ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }

  const std::string s = std::to_string(slot);
  const std::string migrate =
      "MIGRATE 127.0.0.1 " + std::to_string(target->port) + " '' 0 5000 KEYS ";
  ASSERT_NE(cli(target->port, "CLUSTER SETSLOT " + s + " IMPORTING " + source->id).find("OK"),
            std::string::npos);
  ASSERT_NE(cli(source->port, "CLUSTER SETSLOT " + s + " MIGRATING " + target->id).find("OK"),
            std::string::npos);
  ASSERT_NE(cli(target->port, "SCRIPT FLUSH").find("OK"), std::string::npos);
  const int eval_before = stat_calls(target->port, "eval");
  // The slot's keys on the source (the six addresses', and any an earlier test left there).
  const auto keys_in_slot = [&] {
    std::istringstream in_slot(cli(source->port, "CLUSTER GETKEYSINSLOT " + s + " 1000"));
    std::string keys;
    for (std::string key; std::getline(in_slot, key);) keys += " " + key;
    return keys;
  };
  const std::string first_keys = keys_in_slot();
  const int keys_before = std::atoi(cli(source->port, "CLUSTER COUNTKEYSINSLOT " + s).c_str());
  ASSERT_GE(keys_before, static_cast<int>(before_move.size())) << first_keys;
  const std::string half = first_keys.substr(0, first_keys.find(' ', first_keys.size() / 2));
  ASSERT_NE(cli(source->port, migrate + half).find("OK"), std::string::npos);
  moving = true;
  std::this_thread::sleep_for(milliseconds(800));  // half the keys there, half here, new ones there
  ASSERT_NE(cli(source->port, migrate + keys_in_slot()).find("OK"), std::string::npos);
  std::this_thread::sleep_for(milliseconds(500));  // every key of the slot is on the target
  EXPECT_EQ(cli(source->port, "CLUSTER COUNTKEYSINSLOT " + s), "0\n");
  EXPECT_EQ(std::atoi(cli(target->port, "CLUSTER COUNTKEYSINSLOT " + s).c_str()),
            keys_before + static_cast<int>(during_move.size()))
      << "the keys first seen during the move were made on the target, through ASK";
  EXPECT_GT(stat_calls(target->port, "asking"), asking_before);
  EXPECT_GT(stat_calls(target->port, "eval"), eval_before) << "the script reloaded under ASKING";
  for (const Node* m : {target, source}) {
    EXPECT_NE(cli(m->port, "CLUSTER SETSLOT " + s + " NODE " + target->id).find("OK"),
              std::string::npos);
  }
  for (const Node* m : masters(nodes)) {
    if (m->port != source->port && m->port != target->port) {
      EXPECT_NE(cli(m->port, "CLUSTER SETSLOT " + s + " NODE " + target->id).find("OK"),
                std::string::npos);
    }
  }
  std::this_thread::sleep_for(milliseconds(800));  // the source answers MOVED now
  threads.join();

  // Each address's remaining attempts, until it has tried kBurst + 3 times.
  for (const auto* group : {&before_move, &during_move}) {
    for (const std::string& addr : *group) {
      while (tally.sent(addr) < kBurst + 3) tally.add(addr, attempt(addr));
    }
  }
  for (const std::string& odd : tally.odd())
    ADD_FAILURE() << "neither allowed nor limited: " << odd;
  for (const std::string& odd : other_odd) ADD_FAILURE() << "another slot's request: " << odd;
  EXPECT_GT(other_answers.load(), 50);
  for (const auto* group : {&before_move, &during_move}) {
    for (const std::string& addr : *group) {
      EXPECT_EQ(tally.count(addr, 400), kBurst) << addr;
      EXPECT_EQ(tally.count(addr, 429), 3) << addr;
    }
  }
  const std::vector<Node> after = cluster_nodes();
  const Node* owner = owner_of(after, slot);
  ASSERT_NE(owner, nullptr);
  EXPECT_EQ(owner->port, target->port);
  const std::string logs =
      read_file(g_stack->log_path("register")) + read_file(g_stack->log_path("register.2"));
  EXPECT_NE(logs.find("event=redis_cluster_moved slot=" + s + " "), std::string::npos)
      << "a handler followed MOVED for the slot";
}

// --- (c) a master killed -------------------------------------------------------------------

TEST(Cluster, AMasterKilledIs503ForItsKeysUntilItsReplicaTakesOverThenServiceResumes) {
  const std::vector<Node> nodes = cluster_nodes();
  const Node* victim = masters(nodes).front();
  const Node* replica = nullptr;
  for (const Node& n : nodes) {
    if (!n.master && n.master_id == victim->id) replica = &n;
  }
  ASSERT_NE(replica, nullptr) << "the master has no replica";
  const pid_t handler = g_stack->handler_pid("register");
  const pid_t handler2 = g_stack->handler_pid("register.2");

  struct Seen {
    bool victims;  // the key's slot was the killed master's
    Answer answer;
    Clock::time_point at;
  };
  std::mutex mu;
  std::vector<Seen> seen;
  std::atomic<int> next{0};
  Threads threads;  // last: stopped before what they use goes
  for (int t = 0; t < 4; ++t) {
    threads.running.emplace_back([&] {
      while (!threads.stop) {
        const std::string addr = address(40, next++);  // never limited: a new address each time
        const Node* owner = owner_of(nodes, slot_of(addr));
        const bool victims = owner != nullptr && owner->port == victim->port;
        const Answer a = attempt(addr);
        {
          const std::lock_guard lock(mu);
          seen.push_back({victims, a, Clock::now()});
        }
        std::this_thread::sleep_for(milliseconds(20));
      }
    });
  }
  const auto victims_ok_since = [&](Clock::time_point since) {
    const std::lock_guard lock(mu);
    int ok = 0;
    for (const Seen& s : seen) ok += s.victims && s.at > since && s.answer.status == 400 ? 1 : 0;
    return ok;
  };
  std::this_thread::sleep_for(milliseconds(1000));
  ASSERT_GT(victims_ok_since(Clock::time_point{}), 5) << "the load never got going";

  const auto killed = Clock::now();
  ASSERT_EQ(::kill(pid_of_node(victim->port), SIGKILL), 0);
  // The replica takes over (the cluster's own failover); the handlers find out by themselves.
  bool promoted = false;
  for (int i = 0; i < 300 && !promoted; ++i) {
    promoted = cli(replica->port, "ROLE").starts_with("master");
    if (!promoted) std::this_thread::sleep_for(milliseconds(100));
  }
  const auto took_over = Clock::now();
  bool resumed = false;
  for (int i = 0; i < 100 && !resumed; ++i) {
    resumed = victims_ok_since(took_over) >= 20;
    if (!resumed) std::this_thread::sleep_for(milliseconds(100));
  }
  threads.join();
  ASSERT_TRUE(promoted) << "the replica never became master";
  EXPECT_TRUE(resumed) << "the killed master's keys were not served again";

  int refused = 0;
  int others_refused = 0;
  std::optional<Clock::time_point> last_refusal;
  std::optional<Clock::time_point> back;
  Clock::duration slowest{};
  for (const Seen& s : seen) {
    slowest = std::max(slowest, s.answer.took);
    if (s.answer.status == 503) {
      EXPECT_EQ(s.answer.body, kUnavailableBody);
      EXPECT_TRUE(s.answer.retry_after);
      (s.victims ? refused : others_refused) += 1;
      if (s.victims) last_refusal = s.at;
    } else {
      EXPECT_EQ(s.answer.status, 400) << s.answer.body;
    }
  }
  for (const Seen& s : seen) {
    if (s.victims && s.answer.status == 400 && last_refusal && s.at > *last_refusal && !back)
      back = s.at;
  }
  EXPECT_GT(refused, 0) << "the killed master's keys were never refused: was it ever killed?";
  EXPECT_EQ(others_refused, 0) << "the other masters' keys are served throughout";
  EXPECT_LT(slowest, std::chrono::seconds(1)) << "a refusal is quick, never a hang";
  ASSERT_TRUE(back);
  const auto ms = [&](Clock::time_point t) {
    return std::chrono::duration_cast<milliseconds>(t - killed).count();
  };
  std::cout << "[ measured ] master killed: replica master after " << ms(took_over)
            << " ms, last 503 at " << ms(*last_refusal) << " ms, served again at " << ms(*back)
            << " ms; " << refused << " requests refused with 503\n";
  ::testing::Test::RecordProperty("failover_ms", static_cast<int>(ms(*back)));
  EXPECT_EQ(g_stack->handler_pid("register"), handler);
  EXPECT_EQ(g_stack->handler_pid("register.2"), handler2);
  EXPECT_TRUE(process_running(handler));
  EXPECT_TRUE(process_running(handler2));

  // The killed node started again rejoins as a replica; nothing else restarts.
  ASSERT_EQ(g_stack->up().exit_code, 0);
  EXPECT_EQ(g_stack->handler_pid("register"), handler);
  EXPECT_TRUE(cli(victim->port, "ROLE").starts_with("slave"));
  EXPECT_EQ(attempt(address(41, 0)).status, 400);
}

}  // namespace
}  // namespace chatalot::testing
