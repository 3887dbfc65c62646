#include "limits/cluster.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "core/text.h"

namespace chatalot {
namespace {

std::string address(const RedisNode& node) { return node.host + ":" + std::to_string(node.port); }

Status cluster_failure(const std::string& what) { return unavailable("Redis Cluster: " + what); }

bool is_string(const redisReply& r) {
  return r.type == REDIS_REPLY_STRING || r.type == REDIS_REPLY_STATUS;
}

}  // namespace

std::uint16_t crc16_xmodem(std::string_view data) {
  std::uint16_t crc = 0;
  for (const char c : data) {
    crc ^= static_cast<std::uint16_t>(static_cast<unsigned char>(c) << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<std::uint16_t>(crc << 1);
    }
  }
  return crc;
}

int key_slot(std::string_view key) {
  if (const std::size_t open = key.find('{'); open != std::string_view::npos) {
    const std::size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return crc16_xmodem(key) % kClusterSlots;
}

std::optional<Redirect> parse_redirect(std::string_view error, const std::string& answered_host) {
  Redirect r;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    r.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const std::size_t space = error.find(' ');
  const std::optional<int> slot = parse_integer<int>(error.substr(0, space));
  if (space == std::string_view::npos || !slot || *slot < 0 || *slot >= kClusterSlots) {
    return std::nullopt;
  }
  std::string_view where = error.substr(space + 1);
  const std::size_t colon = where.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::optional<int> port = parse_integer<int>(where.substr(colon + 1));
  if (!port || *port < 1 || *port > 65535) return std::nullopt;
  std::string_view host = where.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.find(' ') != std::string_view::npos) return std::nullopt;
  r.slot = *slot;
  r.node = {host.empty() ? answered_host : std::string(host), *port};
  return r;
}

Result<SlotMap> SlotMap::parse(const redisReply& reply, const std::string& answered_host) {
  const auto bad = [](const std::string& what) {
    return cluster_failure("unexpected CLUSTER SLOTS reply (" + what + ")");
  };
  if (reply.type == REDIS_REPLY_ERROR) return cluster_failure(std::string(error_text(reply)));
  if (reply.type != REDIS_REPLY_ARRAY) return bad("not an array");
  SlotMap map;
  for (std::size_t i = 0; i < reply.elements; ++i) {
    const redisReply& range = *reply.element[i];
    if (range.type != REDIS_REPLY_ARRAY || range.elements < 3) return bad("a range");
    const redisReply& first = *range.element[0];
    const redisReply& last = *range.element[1];
    const redisReply& master = *range.element[2];
    if (first.type != REDIS_REPLY_INTEGER || last.type != REDIS_REPLY_INTEGER ||
        first.integer < 0 || first.integer > last.integer || last.integer >= kClusterSlots) {
      return bad("slot numbers");
    }
    if (master.type != REDIS_REPLY_ARRAY || master.elements < 2 || !is_string(*master.element[0]) ||
        master.element[1]->type != REDIS_REPLY_INTEGER) {
      return bad("a master");
    }
    std::string host(master.element[0]->str, master.element[0]->len);
    const long long port = master.element[1]->integer;
    if (host == "?") continue;  // the master's address is unknown: no master for these slots
    if (port < 1 || port > 65535) return bad("a port");
    if (host.empty()) host = answered_host;
    map.ranges_.push_back({static_cast<int>(first.integer),
                           static_cast<int>(last.integer),
                           {host, static_cast<int>(port)}});
  }
  std::sort(map.ranges_.begin(), map.ranges_.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < map.ranges_.size(); ++i) {
    if (map.ranges_[i].first <= map.ranges_[i - 1].last) return bad("overlapping ranges");
  }
  return map;
}

const RedisNode* SlotMap::master_of(int slot) const {
  auto after = std::upper_bound(ranges_.begin(), ranges_.end(), slot,
                                [](int s, const Range& r) { return s < r.first; });
  if (after == ranges_.begin()) return nullptr;
  const Range& range = *std::prev(after);
  return slot <= range.last ? &range.master : nullptr;
}

std::vector<RedisNode> SlotMap::masters() const {
  std::vector<RedisNode> out;
  for (const Range& r : ranges_) {
    if (std::find(out.begin(), out.end(), r.master) == out.end()) out.push_back(r.master);
  }
  return out;
}

Result<RedisConnection*> ClusterRoute::connection(const RedisNode& node) {
  for (auto& [n, conn] : connections_) {
    if (n == node) {
      if (conn.still_open()) return &conn;
      drop(node);
      break;
    }
  }
  RedisTarget t;
  t.host = node.host;
  t.port = node.port;
  t.user = target_.user;
  t.password = target_.password;
  Result<RedisConnection> opened = RedisConnection::open(t, timeout_ms_);
  if (!opened.is_ok()) return cluster_failure(address(node) + ": " + opened.status().detail());
  connections_.emplace_back(node, std::move(opened).value());
  return &connections_.back().second;
}

void ClusterRoute::drop(const RedisNode& node) {
  connections_.remove_if([&](const auto& c) { return c.first == node; });
}

Status ClusterRoute::refresh() {
  std::vector<RedisNode> candidates;
  const auto add = [&](const RedisNode& n) {
    if (std::find(candidates.begin(), candidates.end(), n) == candidates.end()) {
      candidates.push_back(n);
    }
  };
  for (const auto& c : connections_) add(c.first);
  // Each refresh starts from the next seed, so one that does not answer is not always first.
  const std::vector<RedisNode>& seeds = target_.cluster_seeds;
  for (std::size_t i = 0; i < seeds.size(); ++i) add(seeds[(next_seed_ + i) % seeds.size()]);
  ++next_seed_;
  if (map_) {
    for (const RedisNode& m : map_->masters()) add(m);
  }
  map_.reset();
  // Nodes that refuse at once are all tried; nodes that time out, until one timeout has passed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  std::string failures;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (i > 0 && std::chrono::steady_clock::now() >= deadline) break;
    const RedisNode& node = candidates[i];
    Result<RedisConnection*> conn = connection(node);
    Result<RedisReply> reply =
        conn.is_ok() ? (*conn)->call({"CLUSTER", "SLOTS"}) : Result<RedisReply>(conn.status());
    if (!reply.is_ok()) {
      drop(node);
      failures += "; " + reply.status().detail();
      continue;
    }
    Result<SlotMap> parsed = SlotMap::parse(**reply, node.host);
    if (!parsed.is_ok()) {
      failures += "; " + address(node) + ": " + parsed.status().detail();
      continue;
    }
    map_ = std::move(parsed).value();
    // Connections only to masters: a seed asked for the map may be a replica.
    const std::vector<RedisNode> masters = map_->masters();
    connections_.remove_if([&](const auto& c) {
      return std::find(masters.begin(), masters.end(), c.first) == masters.end();
    });
    return Status::ok();
  }
  return cluster_failure("no node gave the slot map" + failures);
}

Result<RedisReply> ClusterRoute::run_at(const RedisNode& node, const KeyCommand& command,
                                        bool asking) {
  // On failure the node may be gone: the cluster is asked again on the next call.
  Result<RedisConnection*> conn = connection(node);
  if (!conn.is_ok()) {
    map_.reset();
    return conn.status();
  }
  Result<RedisReply> reply = (*conn)->run(command, asking);
  if (!reply.is_ok()) {
    drop(node);
    map_.reset();
    return cluster_failure(address(node) + ": " + reply.status().detail());
  }
  return reply;
}

Result<RedisReply> ClusterRoute::run(const KeyCommand& command) {
  if (!map_) {
    if (Status s = refresh(); !s.is_ok()) return s;
  }
  const int slot = key_slot(command.key);
  const RedisNode* master = map_->master_of(slot);
  if (master == nullptr) {
    map_.reset();
    return cluster_failure("no master serves slot " + std::to_string(slot));
  }
  RedisNode node = *master;
  bool asking = false;
  for (int redirects = 0;; ++redirects) {
    Result<RedisReply> reply = run_at(node, command, asking);
    if (!reply.is_ok()) return reply;
    const std::string_view error = error_text(**reply);
    if (error.starts_with("CLUSTERDOWN") || error.starts_with("TRYAGAIN")) {
      map_.reset();
      return cluster_failure(address(node) + ": " + std::string(error));
    }
    std::optional<Redirect> redirect = parse_redirect(error, node.host);
    if (!redirect) return reply;
    if (redirects == kMaxRedirects) {
      map_.reset();
      return cluster_failure("more than " + std::to_string(kMaxRedirects) + " redirects for slot " +
                             std::to_string(slot));
    }
    if (!redirect->ask) {
      log_info("event=redis_cluster_moved slot=" + std::to_string(redirect->slot) +
               " node=" + address(redirect->node));
      // A map that cannot be had now is fetched on the next call; this one follows the reply.
      if (Status s = refresh(); !s.is_ok()) log_error(s.detail());
    }
    node = std::move(redirect->node);
    asking = redirect->ask;
  }
}

}  // namespace chatalot
