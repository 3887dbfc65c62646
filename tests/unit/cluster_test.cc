// Redis Cluster routing without a cluster: key slots (the vectors Redis itself answers with
// CLUSTER KEYSLOT), redirects, the slot map from CLUSTER SLOTS replies (fed to hiredis' own
// reader, as they come over the wire), and the redis+cluster:// URL.
#include "limits/cluster.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "config/config.h"
#include "limits/redis.h"

namespace chatalot {
namespace {

TEST(KeySlot, Crc16XmodemCheckValue) {
  EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);
  EXPECT_EQ(crc16_xmodem(""), 0);
}

TEST(KeySlot, MatchesWhatRedisAnswers) {
  EXPECT_EQ(key_slot("123456789"), 12739);
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("hello"), 866);
  EXPECT_EQ(key_slot(""), 0);
  EXPECT_EQ(key_slot("chatalot:rl:register:ip4:127.0.0.1"), 5783);
  for (const std::string_view key : {"a", "chatalot:stats:invite-failures", "x{y"}) {
    EXPECT_GE(key_slot(key), 0);
    EXPECT_LT(key_slot(key), kClusterSlots);
  }
}

TEST(KeySlot, HashTags) {
  // The first non-empty {tag} alone is hashed.
  EXPECT_EQ(key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(key_slot("{user1000}.followers"), key_slot("user1000"));
  EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));
  // The first '{' and the first '}' after it: "{bar" is the tag here.
  EXPECT_EQ(key_slot("foo{{bar}}zap"), 4015);
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
  // An empty tag, or none closed: the whole key.
  EXPECT_EQ(key_slot("foo{}{bar}"), 8363);
  EXPECT_EQ(key_slot("{}"), 15257);
  EXPECT_EQ(key_slot("foo{bar"), 15278);
  EXPECT_NE(key_slot("foo{bar"), key_slot("bar"));
}

TEST(Redirect, MovedAndAsk) {
  std::optional<Redirect> r = parse_redirect("MOVED 3999 127.0.0.1:6381", "10.0.0.9");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ask);
  EXPECT_EQ(r->slot, 3999);
  EXPECT_EQ(r->node, (RedisNode{"127.0.0.1", 6381}));
  r = parse_redirect("ASK 0 cache-2.internal:7000", "10.0.0.9");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ask);
  EXPECT_EQ(r->slot, 0);
  EXPECT_EQ(r->node, (RedisNode{"cache-2.internal", 7000}));
}

TEST(Redirect, Ipv6AndAnUnknownEndpoint) {
  // Redis writes IPv6 addresses without brackets: the port is after the last ':'.
  std::optional<Redirect> r = parse_redirect("MOVED 16383 2001:db8::7:7001", "x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->slot, 16383);
  EXPECT_EQ(r->node, (RedisNode{"2001:db8::7", 7001}));
  r = parse_redirect("ASK 12 [::1]:7002", "x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->node, (RedisNode{"::1", 7002}));
  // No address known to the node: the host of the node that answered.
  r = parse_redirect("MOVED 12 :7003", "10.0.0.9");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->node, (RedisNode{"10.0.0.9", 7003}));
}

TEST(Redirect, AnythingElseIsNone) {
  for (const char* error :
       {"", "ERR unknown command", "NOSCRIPT No matching script", "CLUSTERDOWN The cluster is down",
        "TRYAGAIN Multiple keys request during rehashing of slot", "MOVED", "MOVED 12",
        "MOVED 12 host", "MOVED x 127.0.0.1:7000", "MOVED 16384 127.0.0.1:7000",
        "MOVED -1 127.0.0.1:7000", "MOVED 12 127.0.0.1:0", "MOVED 12 127.0.0.1:65536",
        "MOVED 12 127.0.0.1:70a", "ASKING", "moved 12 127.0.0.1:7000", "MOVED 12 a b:7000"}) {
    EXPECT_FALSE(parse_redirect(error, "h")) << error;
  }
}

// A reply as hiredis reads it off the wire.
RedisReply read_reply(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &reply), REDIS_OK);
  redisReaderFree(reader);
  EXPECT_NE(reply, nullptr) << resp;
  return RedisReply(static_cast<redisReply*>(reply));
}

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
std::string node(const std::string& host, int port, const std::string& id) {
  // Redis 7: host, port, node id, and a (here empty) array of extra endpoint metadata.
  return "*4\r\n" + bulk(host) + ":" + std::to_string(port) + "\r\n" + bulk(id) + "*0\r\n";
}
std::string range(int first, int last, const std::string& nodes, int count) {
  return "*" + std::to_string(2 + count) + "\r\n:" + std::to_string(first) +
         "\r\n:" + std::to_string(last) + "\r\n" + nodes;
}

TEST(SlotMap, ParsesClusterSlotsOfThreeMastersWithReplicas) {
  // Listed out of order, as a resharded cluster may list them; 5461 moved on its own.
  const std::string reply =
      "*4\r\n" +
      range(10923, 16383, node("127.0.0.1", 7002, "c") + node("127.0.0.1", 7005, "f"), 2) +
      range(0, 5460, node("127.0.0.1", 7000, "a") + node("127.0.0.1", 7003, "d"), 2) +
      range(5462, 10922, node("127.0.0.1", 7001, "b") + node("127.0.0.1", 7004, "e"), 2) +
      range(5461, 5461, node("127.0.0.1", 7002, "c"), 1);
  const RedisReply r = read_reply(reply);
  Result<SlotMap> map = SlotMap::parse(*r, "127.0.0.1");
  ASSERT_TRUE(map.is_ok()) << map.status().detail();
  const auto master = [&](int slot) { return map->master_of(slot)->port; };
  EXPECT_EQ(master(0), 7000);
  EXPECT_EQ(master(5460), 7000);
  EXPECT_EQ(master(5461), 7002);
  EXPECT_EQ(master(5462), 7001);
  EXPECT_EQ(master(10922), 7001);
  EXPECT_EQ(master(10923), 7002);
  EXPECT_EQ(master(16383), 7002);
  EXPECT_EQ(master(key_slot("123456789")), 7002);
  const std::vector<RedisNode> masters = map->masters();
  EXPECT_EQ(masters.size(), 3U);
  for (const int port : {7000, 7001, 7002}) {
    EXPECT_NE(std::find(masters.begin(), masters.end(), RedisNode{"127.0.0.1", port}),
              masters.end());
  }
}

TEST(SlotMap, HolesAndUnknownMastersHaveNoMaster) {
  const std::string reply = "*3\r\n" + range(0, 99, node("10.0.0.1", 7000, "a"), 1) +
                            range(200, 299, node("?", 7001, "b"), 1) +
                            range(300, 16383, node("", 7002, "c"), 1);
  const RedisReply r = read_reply(reply);
  Result<SlotMap> map = SlotMap::parse(*r, "10.0.0.9");
  ASSERT_TRUE(map.is_ok()) << map.status().detail();
  EXPECT_EQ(map->master_of(99)->host, "10.0.0.1");
  EXPECT_EQ(map->master_of(100), nullptr);  // a hole: the slot is served by nobody
  EXPECT_EQ(map->master_of(250), nullptr);  // "?": the master's address is unknown
  // "": the node that answered.
  EXPECT_EQ(*map->master_of(300), (RedisNode{"10.0.0.9", 7002}));
  EXPECT_EQ(map->masters().size(), 2U);
  // No slot assigned at all (a cluster not yet created).
  const RedisReply empty = read_reply("*0\r\n");
  Result<SlotMap> none = SlotMap::parse(*empty, "h");
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(none->master_of(0), nullptr);
  EXPECT_TRUE(none->masters().empty());
}

TEST(SlotMap, RefusesWhatIsNoSlotMap) {
  for (const std::string& reply : std::vector<std::string>{
           std::string("-ERR This instance has cluster support disabled\r\n"),
           std::string("+OK\r\n"),
           "*1\r\n" + range(0, 16384, node("h", 1, "a"), 1),     // past the last slot
           "*1\r\n" + range(10, 9, node("h", 1, "a"), 1),        // backwards
           "*1\r\n" + range(-1, 9, node("h", 1, "a"), 1),        // negative
           "*1\r\n" + range(0, 9, node("h", 0, "a"), 1),         // no port
           std::string("*1\r\n*2\r\n:0\r\n:9\r\n"),              // no master
           "*1\r\n*3\r\n:0\r\n:9\r\n*1\r\n" + bulk("h"),         // a master without a port
           "*1\r\n*3\r\n$1\r\n0\r\n:9\r\n" + node("h", 1, "a"),  // a slot as text
           "*2\r\n" + range(0, 10, node("h", 1, "a"), 1) + range(5, 20, node("h", 2, "b"), 1),
       }) {
    const RedisReply r = read_reply(reply);
    EXPECT_FALSE(SlotMap::parse(*r, "h").is_ok()) << reply;
    EXPECT_EQ(SlotMap::parse(*r, "h").status().code(), Code::kUnavailable);
  }
}

TEST(ClusterUrl, SeedsAndCredentials) {
  Result<RedisTarget> t = parse_redis_url(
      "redis+cluster://limiter:s3cret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002,cache");
  ASSERT_TRUE(t.is_ok()) << t.status().detail();
  EXPECT_EQ(t->user, "limiter");
  EXPECT_EQ(t->password, "s3cret");
  ASSERT_EQ(t->cluster_seeds.size(), 4U);
  EXPECT_EQ(t->cluster_seeds[0], (RedisNode{"10.0.0.1", 7000}));
  EXPECT_EQ(t->cluster_seeds[1], (RedisNode{"10.0.0.2", 7001}));
  EXPECT_EQ(t->cluster_seeds[2], (RedisNode{"::1", 7002}));
  EXPECT_EQ(t->cluster_seeds[3], (RedisNode{"cache", 6379}));
  t = parse_redis_url("redis+cluster://127.0.0.1:30001");
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->cluster_seeds.size(), 1U);
  EXPECT_TRUE(t->user.empty());
  EXPECT_TRUE(t->password.empty());
  // The single-server forms have no seeds: they stay a single server.
  EXPECT_TRUE(parse_redis_url("redis://127.0.0.1:6379").value().cluster_seeds.empty());
  EXPECT_TRUE(parse_redis_url("unix:///run/redis.sock").value().cluster_seeds.empty());
}

TEST(ClusterUrl, RefusesBadOnes) {
  for (const char* bad :
       {"redis+cluster://", "redis+cluster://h:7000,", "redis+cluster://,h:7000",
        "redis+cluster://h:7000,,h:7001", "redis+cluster://h:port", "redis+cluster://h:0",
        "redis+cluster://h:65536", "redis+cluster://h:7000/0", "redis+cluster://[::1:7000",
        "redis+cluster://u:p@", "rediss+cluster://h:7000"}) {
    EXPECT_FALSE(parse_redis_url(bad).is_ok()) << bad;
  }
}

TEST(ClusterUrl, IsAcceptedByTheConfigurationAndItsPasswordRedacted) {
  const std::string url = "redis+cluster://:hunter2@10.0.0.1:7000,10.0.0.2:7001";
  Result<Config> c = load_config(
      [&](const char* name) -> const char* {
        return std::string_view(name) == "REDIS_URL" ? url.c_str() : nullptr;
      },
      kNeedRedis);
  ASSERT_TRUE(c.is_ok()) << c.status().detail();
  EXPECT_EQ(c->redis_url, url);
  const std::string described = describe_config(*c);
  EXPECT_EQ(described.find("hunter2"), std::string::npos);
  EXPECT_NE(described.find("REDIS_URL=redis+cluster://:***@10.0.0.1:7000,10.0.0.2:7001"),
            std::string::npos)
      << described;
}

TEST(ClusterRoute, NoReachableSeedIsUnavailable) {
  // Port 1 on loopback: refused at once.
  RedisTarget target = parse_redis_url("redis+cluster://127.0.0.1:1,127.0.0.1:1").value();
  ClusterRoute route(target, 100);
  Result<RedisReply> r = route.run({"k", {"INCR", "k"}, {}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().detail().find("no node gave the slot map"), std::string::npos)
      << r.status().detail();
}

}  // namespace
}  // namespace chatalot
