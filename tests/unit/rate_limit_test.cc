#include <gtest/gtest.h>

#include "core/limits.h"
#include "limits/gcra.h"
#include "limits/redis.h"
#include "http/render.h"

namespace chatalot {
namespace {

TEST(ClientKey, Ipv4IsTheAddress) {
  EXPECT_EQ(client_key("192.0.2.7"), "ip4:192.0.2.7");
  EXPECT_NE(client_key("192.0.2.7"), client_key("192.0.2.8"));
}

TEST(ClientKey, Ipv6IsGroupedBySlash64) {
  EXPECT_EQ(client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "ip6:2001:db8:1:2::/64");
  EXPECT_EQ(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:2:ffff::9"));
  EXPECT_NE(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:3::1"));
  // One address, two spellings.
  EXPECT_EQ(client_key("2001:DB8:0001:0002::1"), client_key("2001:db8:1:2::1"));
}

TEST(ClientKey, MappedIpv4IsIpv4) {
  EXPECT_EQ(client_key("::ffff:192.0.2.7"), "ip4:192.0.2.7");
}

TEST(ClientKey, AnythingElseIsBounded) {
  EXPECT_EQ(client_key("unix:"), "other:unix:");
  EXPECT_EQ(client_key(std::string(1000, 'x')).size(), 6U + 64U);
}

TEST(RedisUrl, ParsesTheForms) {
  Result<RedisTarget> t = parse_redis_url("redis://cache.internal:6380/2");
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->host, "cache.internal");
  EXPECT_EQ(t->port, 6380);
  EXPECT_EQ(t->db, 2);
  t = parse_redis_url("redis://user:s3cret@[::1]:7000");
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, 7000);
  EXPECT_EQ(t->user, "user");
  EXPECT_EQ(t->password, "s3cret");
  t = parse_redis_url("redis://localhost");
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->port, 6379);
  t = parse_redis_url("unix:///run/redis/redis.sock?db=3");
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(t->db, 3);
}

TEST(RedisUrl, RefusesBadOnes) {
  for (const char* bad : {"http://x", "redis://", "redis://host:port", "redis://host/db",
                          "unix://relative", "redis://[::1", "redis://h:6379/x"}) {
    EXPECT_FALSE(parse_redis_url(bad).is_ok()) << bad;
  }
}

TEST(RateLimiter, RedisAwayFailsClosedOrOpenAsConfigured) {
  RedisTarget nowhere;
  nowhere.unix_path = "/nonexistent/redis.sock";
  RedisLimiter closed(nowhere, 50, false);
  Status d = closed.apply("k", {1, 1}, LimitMode::kTake);
  EXPECT_EQ(d.code(), Code::kUnavailable);
  RedisLimiter open(nowhere, 50, true);
  d = open.apply("k", {1, 1}, LimitMode::kTake);
  EXPECT_TRUE(d.is_ok());
}

TEST(RateLimiter, RefusalIs429WithRetryAfter) {
  const Response r =
      render_error(Status(Code::kResourceExhausted, Msg::kRateLimited).with_retry_after(7));
  EXPECT_EQ(r.status, 429);
  ASSERT_EQ(r.headers.size(), 1U);
  EXPECT_EQ(r.headers[0].second, "7");
}

}  // namespace
}  // namespace chatalot
