// Redis Cluster for the limiter (hiredis 0.14 has no cluster support): key slots, the slot map
// read with CLUSTER SLOTS, the MOVED and ASK redirects, and ClusterRoute, the KeyRoute that
// sends each command on one key to the master of the key's slot.
//
// ClusterRoute belongs to one worker thread, like the RedisLimiter that owns it: one connection
// per master it has talked to, opened on first use. A MOVED reply (the slot has a new owner)
// refreshes the map and retries at the named node; an ASK reply (the slot is migrating) retries
// once at the named node after ASKING and leaves the map as it is; at most kMaxRedirects per
// call. CLUSTERDOWN, TRYAGAIN, a slot without a master or a node that cannot be reached is
// kUnavailable (the limiter fails closed), and the map is fetched again on the next call, so
// service resumes by itself once the cluster has failed over. Every command names one key, so
// there is no cross-slot command.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "limits/redis.h"

namespace chatalot {

inline constexpr int kClusterSlots = 16384;
inline constexpr int kMaxRedirects = 5;

// CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster slots are made of.
std::uint16_t crc16_xmodem(std::string_view data);

// The slot of a key: CRC16 of the key mod 16384, or of its hash tag when it has one (the text
// between its first '{' and the first '}' after it, when not empty).
int key_slot(std::string_view key);

// A redirect reply: "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>".
struct Redirect {
  bool ask = false;  // ASK: this command only; MOVED: the slot's owner has changed
  int slot = 0;
  RedisNode node;
};
// nullopt when the error is no redirect. An empty host (the node does not know its address)
// means the host of the node that answered.
std::optional<Redirect> parse_redirect(std::string_view error, const std::string& answered_host);

// Which master serves which slots.
class SlotMap {
 public:
  // From a CLUSTER SLOTS reply given by a node on answered_host (an empty host in it means that
  // one). A range whose master's address is unknown ("?") is left unserved.
  static Result<SlotMap> parse(const redisReply& reply, const std::string& answered_host);

  // The master of a slot; nullptr when none serves it.
  const RedisNode* master_of(int slot) const;
  // Every master, once each.
  std::vector<RedisNode> masters() const;

 private:
  struct Range {
    int first;
    int last;
    RedisNode master;
  };
  std::vector<Range> ranges_;  // sorted by first
};

class ClusterRoute final : public KeyRoute {
 public:
  // target.cluster_seeds, its user and password; timeout_ms for each connect and command.
  ClusterRoute(RedisTarget target, int timeout_ms)
      : target_(std::move(target)), timeout_ms_(timeout_ms) {}
  Result<RedisReply> run(const KeyCommand& command) override;

 private:
  // The slot map from the first node that gives one: nodes already connected, then the seeds.
  Status refresh();
  // The connection to a node, reused while open, else opened.
  Result<RedisConnection*> connection(const RedisNode& node);
  void drop(const RedisNode& node);
  // The command at a node; a failed connection is dropped and the map forgotten.
  Result<RedisReply> run_at(const RedisNode& node, const KeyCommand& command, bool asking);

  RedisTarget target_;
  int timeout_ms_;
  std::optional<SlotMap> map_;  // nullopt: fetched before the next command
  std::list<std::pair<RedisNode, RedisConnection>> connections_;  // stable while in use
  std::size_t next_seed_ = 0;  // the seed a refresh starts from, turned after each refresh
};

}  // namespace chatalot
