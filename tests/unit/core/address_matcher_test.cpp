#include "gthreadd/core/address_matcher.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace gthreadd::core {
namespace {

AddressMatcher make(std::vector<std::string> entries) {
  std::string error;
  auto m = AddressMatcher::parse(entries, error);
  EXPECT_TRUE(m.has_value()) << error;
  return m.value_or(AddressMatcher{});
}

std::string refusal(std::string entry) {
  std::vector<std::string> entries = {"127.0.0.1", entry};
  std::string error;
  auto m = AddressMatcher::parse(entries, error);
  EXPECT_FALSE(m.has_value()) << entry;
  EXPECT_EQ(error, AddressMatcher::check_entry(entry));
  return error;
}

TEST(AddressMatcher, ExactAddressesMatchOnlyThemselves) {
  const auto m = make({"127.0.0.1", "::1"});
  EXPECT_TRUE(m.allows("127.0.0.1"));
  EXPECT_TRUE(m.allows("::1"));
  EXPECT_TRUE(m.allows("0:0:0:0:0:0:0:1"));  // the same address in another spelling
  EXPECT_FALSE(m.allows("127.0.0.2"));
  EXPECT_FALSE(m.allows("::2"));
  EXPECT_FALSE(m.allows_all());
}

TEST(AddressMatcher, CidrRanges) {
  const auto m = make({"10.0.0.0/8", "192.168.1.0/24", "fd00::/8", "172.16.0.0/12"});
  EXPECT_TRUE(m.allows("10.255.1.2"));
  EXPECT_TRUE(m.allows("192.168.1.200"));
  EXPECT_FALSE(m.allows("192.168.2.1"));
  EXPECT_TRUE(m.allows("172.31.255.255"));
  EXPECT_FALSE(m.allows("172.32.0.0"));
  EXPECT_TRUE(m.allows("fd12:3456::1"));
  EXPECT_FALSE(m.allows("fe80::1"));
  EXPECT_FALSE(m.allows("11.0.0.1"));
}

TEST(AddressMatcher, NonByteAlignedPrefixesAndTheExtremes) {
  const auto m = make({"10.0.0.0/9", "2001:db8::/33"});
  EXPECT_TRUE(m.allows("10.127.255.255"));
  EXPECT_FALSE(m.allows("10.128.0.0"));
  EXPECT_TRUE(m.allows("2001:db8:7fff::1"));
  EXPECT_FALSE(m.allows("2001:db8:8000::1"));
  const auto any4 = make({"0.0.0.0/0"});
  EXPECT_TRUE(any4.allows("203.0.113.9"));
  EXPECT_FALSE(any4.allows("2001:db8::1"));  // every IPv4 address, no IPv6 one
  const auto any6 = make({"::/0"});
  EXPECT_TRUE(any6.allows("2001:db8::1"));
  EXPECT_TRUE(any6.allows("203.0.113.9"));  // IPv4 is inside IPv6's ::ffff:0:0/96
}

TEST(AddressMatcher, Ipv4MappedPeersMatchIpv4Entries) {
  // What a dual-stack [::] listener reports for an IPv4 client.
  const auto m = make({"10.0.0.0/8", "127.0.0.1"});
  EXPECT_TRUE(m.allows("::ffff:10.1.2.3"));
  EXPECT_TRUE(m.allows("::ffff:127.0.0.1"));
  EXPECT_FALSE(m.allows("::ffff:11.1.2.3"));
  EXPECT_FALSE(m.allows("::10.1.2.3"));  // IPv4-compatible (deprecated) is not mapped
}

TEST(AddressMatcher, StarAllowsEveryone) {
  const auto m = make({"*"});
  EXPECT_TRUE(m.allows_all());
  EXPECT_TRUE(m.allows("203.0.113.9"));
  EXPECT_TRUE(m.allows("2001:db8::1"));
  EXPECT_TRUE(m.allows_peer("", false));
}

TEST(AddressMatcher, AnEmptyListAllowsNoAddress) {
  const auto m = make({});
  EXPECT_FALSE(m.allows("127.0.0.1"));
  EXPECT_TRUE(m.allows_peer("", true));  // unix-socket peers still pass
}

TEST(AddressMatcher, TextThatIsNotAnAddressNeverMatches) {
  const auto m = make({"0.0.0.0/0", "::/0"});
  for (const char* text :
       {"", "localhost", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", " 1.2.3.4", "1.2.3.4 ",
        "fe80::1%eth0", "::1::2", "1:2:3:4:5:6:7:8:9", "+1.2.3.4"})
    EXPECT_FALSE(m.allows(text)) << text;
}

TEST(AddressMatcher, SocketAddresses) {
  const auto m = make({"10.0.0.0/8", "fd00::/8"});
  sockaddr_in in4{};
  in4.sin_family = AF_INET;
  ::inet_pton(AF_INET, "10.9.8.7", &in4.sin_addr);
  EXPECT_TRUE(m.allows(reinterpret_cast<sockaddr*>(&in4), sizeof in4));
  ::inet_pton(AF_INET, "11.9.8.7", &in4.sin_addr);
  EXPECT_FALSE(m.allows(reinterpret_cast<sockaddr*>(&in4), sizeof in4));

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, "::ffff:10.1.1.1", &in6.sin6_addr);
  EXPECT_TRUE(m.allows(reinterpret_cast<sockaddr*>(&in6), sizeof in6));
  ::inet_pton(AF_INET6, "fd01::5", &in6.sin6_addr);
  EXPECT_TRUE(m.allows(reinterpret_cast<sockaddr*>(&in6), sizeof in6));
  ::inet_pton(AF_INET6, "2001:db8::5", &in6.sin6_addr);
  EXPECT_FALSE(m.allows(reinterpret_cast<sockaddr*>(&in6), sizeof in6));
  EXPECT_FALSE(m.allows(reinterpret_cast<sockaddr*>(&in6), 8));  // truncated

  // gunicorn: a unix-socket peer is the local proxy, trusted whatever the list says.
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  EXPECT_TRUE(make({}).allows(reinterpret_cast<sockaddr*>(&un), sizeof(sa_family_t)));
}

TEST(AddressMatcher, PeersAsTheEnvironShowsThem) {
  const auto m = make({"127.0.0.1"});
  EXPECT_TRUE(m.allows_peer("127.0.0.1", false));
  EXPECT_FALSE(m.allows_peer("10.0.0.1", false));
  EXPECT_TRUE(m.allows_peer("", true));           // a unix socket: the local proxy
  EXPECT_FALSE(m.allows_peer("", false));         // no address known
  EXPECT_FALSE(m.allows_peer("10.0.0.1", true));  // unix socket, address from a PROXY header
}

TEST(AddressMatcher, BadEntriesAreRefusedSayingWhy) {
  EXPECT_NE(refusal("10.0.0.1/8").find("host bits set; the range is 10.0.0.0/8"),
            std::string::npos);
  EXPECT_NE(refusal("fd00::1/8").find("the range is fd00::/8"), std::string::npos);
  EXPECT_NE(refusal("10.0.0.0/33").find("invalid prefix length (0 to 32"), std::string::npos);
  EXPECT_NE(refusal("::/129").find("0 to 128"), std::string::npos);
  for (const char* bad :
       {"10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/08x", "10.0.0.0/0008"})
    EXPECT_NE(refusal(bad).find("prefix length"), std::string::npos) << bad;
  for (const char* bad : {"localhost", "10.0.0", "010.0.0.1", "256.0.0.1", "fe80::1%eth0", "::g",
                          "1.2.3.4:80", "[::1]", "**"})
    EXPECT_NE(refusal(bad).find("is not '*', an IP address or a CIDR range"), std::string::npos)
        << bad;
  EXPECT_EQ(AddressMatcher::check_entry("*"), "");
  EXPECT_EQ(AddressMatcher::check_entry("192.168.0.0/16"), "");
  EXPECT_EQ(AddressMatcher::check_entry("::ffff:10.0.0.0/104"), "");
}

}  // namespace
}  // namespace gthreadd::core
