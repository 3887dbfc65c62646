// FASTCGI_ALLOWED_ADDRESSES: parsing, the canonical form, and which peers it lets through.
#include "config/address_list.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <map>

#include "config/config.h"

namespace chatalot {
namespace {

sockaddr_in v4(const char* text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(40000);
  EXPECT_EQ(::inet_pton(AF_INET, text, &a.sin_addr), 1) << text;
  return a;
}

sockaddr_in6 v6(const char* text) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(40000);
  EXPECT_EQ(::inet_pton(AF_INET6, text, &a.sin6_addr), 1) << text;
  return a;
}

template <typename Address>
bool allows(const AddressList& list, const Address& a) {
  return list.allows(reinterpret_cast<const sockaddr*>(&a), sizeof a);
}

AddressList parsed(const char* text) {
  Result<AddressList> list = AddressList::parse(text);
  EXPECT_TRUE(list.is_ok()) << text << ": " << list.status().describe();
  return list.is_ok() ? *list : AddressList{};
}

TEST(AddressList, EmptyOrBlankAllowsEveryPeer) {
  for (const char* text : {"", "  ", "\t"}) {
    const AddressList list = parsed(text);
    EXPECT_TRUE(list.allows_any()) << '"' << text << '"';
    EXPECT_TRUE(allows(list, v4("203.0.113.9")));
    EXPECT_TRUE(allows(list, v6("2001:db8::9")));
    EXPECT_EQ(list.to_string(), "");
  }
}

TEST(AddressList, OnlyListedAddressesAreAllowedExactly) {
  const AddressList list = parsed(" 10.0.0.5 ,2001:DB8:0:0::5,10.0.0.6");
  EXPECT_FALSE(list.allows_any());
  EXPECT_TRUE(allows(list, v4("10.0.0.5")));
  EXPECT_TRUE(allows(list, v4("10.0.0.6")));
  EXPECT_TRUE(allows(list, v6("2001:db8::5")));
  EXPECT_FALSE(allows(list, v4("10.0.0.7")));
  EXPECT_FALSE(allows(list, v4("10.0.0.50")));
  EXPECT_FALSE(allows(list, v4("0.0.0.0")));
  EXPECT_FALSE(allows(list, v6("2001:db8::6")));
  EXPECT_FALSE(allows(list, v6("::1")));
  EXPECT_EQ(list.to_string(), "10.0.0.5,2001:db8::5,10.0.0.6");
}

// A dual-stack listener ([::]:9001) sees an IPv4 peer as ::ffff:a.b.c.d.
TEST(AddressList, AnIpv4MappedPeerMatchesItsIpv4Entry) {
  const AddressList list = parsed("10.0.0.5");
  EXPECT_TRUE(allows(list, v6("::ffff:10.0.0.5")));
  EXPECT_FALSE(allows(list, v6("::ffff:10.0.0.6")));
  EXPECT_FALSE(allows(list, v6("::10.0.0.5"))) << "IPv4-compatible is another address";
  const AddressList mapped = parsed("::ffff:10.0.0.5");
  EXPECT_TRUE(allows(mapped, v4("10.0.0.5")));
  EXPECT_EQ(mapped.to_string(), "10.0.0.5");
}

TEST(AddressList, UnixPeersAreAlwaysAllowedOtherFamiliesNever) {
  const AddressList list = parsed("10.0.0.5");
  sockaddr_un unix_peer{};
  unix_peer.sun_family = AF_UNIX;
  EXPECT_TRUE(list.allows(reinterpret_cast<const sockaddr*>(&unix_peer), sizeof(sa_family_t)));
  sockaddr other{};
  other.sa_family = AF_APPLETALK;
  EXPECT_FALSE(list.allows(&other, sizeof other));
  const sockaddr_in peer = v4("10.0.0.5");
  EXPECT_FALSE(list.allows(reinterpret_cast<const sockaddr*>(&peer), 4)) << "truncated";
}

TEST(AddressList, DuplicatesAreKeptOnce) {
  EXPECT_EQ(parsed("10.0.0.5,10.0.0.5, ::ffff:10.0.0.5").to_string(), "10.0.0.5");
}

TEST(AddressList, AnythingButAddressesIsRefusedNamingTheEntry) {
  const std::map<std::string, std::string> refused = {
      {"10.0.0.0/24",
       "\"10.0.0.0/24\" is not an IPv4 or IPv6 address (list addresses, not networks)"},
      {"nginx.example", "\"nginx.example\" is not an IPv4 or IPv6 address"},
      {"10.0.0.5,", "has an empty entry"},
      {"10.0.0.5,,10.0.0.6", "has an empty entry"},
      {"10.0.0.5 10.0.0.6", "\"10.0.0.5 10.0.0.6\" is not an IPv4 or IPv6 address"},
      {"10.0.0.256", "\"10.0.0.256\" is not an IPv4 or IPv6 address"},
      {"[2001:db8::5]", "\"[2001:db8::5]\" is not an IPv4 or IPv6 address"},
      {"fe80::1%eth0", "\"fe80::1%eth0\" is not an IPv4 or IPv6 address"},
  };
  for (const auto& [text, problem] : refused) {
    const Result<AddressList> list = AddressList::parse(text);
    ASSERT_FALSE(list.is_ok()) << text;
    EXPECT_EQ(list.status().code(), Code::kFailedPrecondition);
    EXPECT_EQ(list.status().describe(), problem) << text;
  }
}

TEST(AddressList, PeerTextNamesTheAddress) {
  const sockaddr_in a = v4("10.77.0.20");
  const sockaddr_in6 b = v6("2001:db8::5");
  EXPECT_EQ(peer_text(reinterpret_cast<const sockaddr*>(&a), sizeof a), "10.77.0.20");
  EXPECT_EQ(peer_text(reinterpret_cast<const sockaddr*>(&b), sizeof b), "2001:db8::5");
  sockaddr_un u{};
  u.sun_family = AF_UNIX;
  EXPECT_EQ(peer_text(reinterpret_cast<const sockaddr*>(&u), sizeof u), "unix");
}

// The configuration row: a bad list stops the start (exit 78) naming the variable; a good one
// reaches Config and --check-config shows it in canonical form.
TEST(AddressList, TheConfigurationRowParsesAndReportsIt) {
  const auto env = [](const char* value) {
    return [value](const char* name) -> const char* {
      return std::strcmp(name, "FASTCGI_ALLOWED_ADDRESSES") == 0 ? value : nullptr;
    };
  };
  const Result<Config> bad = load_config(env("10.0.0.5, nginx"), kNeedNothing);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().describe(),
            "FASTCGI_ALLOWED_ADDRESSES: \"nginx\" is not an IPv4 or IPv6 address, got "
            "\"10.0.0.5, nginx\"");
  const Result<Config> good = load_config(env(" 10.0.0.5 , 10.0.0.6 "), kNeedNothing);
  ASSERT_TRUE(good.is_ok()) << good.status().describe();
  EXPECT_EQ(good->fastcgi_allowed_addresses.to_string(), "10.0.0.5,10.0.0.6");
  EXPECT_NE(describe_config(*good).find("\nFASTCGI_ALLOWED_ADDRESSES=10.0.0.5,10.0.0.6\n"),
            std::string::npos);
  EXPECT_TRUE(default_config().fastcgi_allowed_addresses.allows_any());
}

}  // namespace
}  // namespace chatalot
