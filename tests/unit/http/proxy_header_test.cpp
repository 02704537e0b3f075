// PROXY protocol v1/v2 parser (haproxy's proxy-protocol.txt): every case is fed whole,
// split in two at every point, and byte by byte, and must reach the same verdict.
#include "gthreadd/http/proxy_header.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gthreadd::http {
namespace {

constexpr std::string_view kHttp = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

std::string be16(std::size_t v) {
  return {static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
}

std::string v2(std::uint8_t version_command, std::uint8_t family, const std::string& body) {
  std::string s("\r\n\r\n\0\r\nQUIT\n", 12);
  s += static_cast<char>(version_command);
  s += static_cast<char>(family);
  return s + be16(body.size()) + body;
}

std::string binary(int af, const char* text) {
  unsigned char b[16];
  EXPECT_EQ(::inet_pton(af, text, b), 1) << text;
  return std::string(reinterpret_cast<char*>(b), af == AF_INET ? 4 : 16);
}

std::string addresses(int af, const char* src, const char* dst, int sport, int dport) {
  return binary(af, src) + binary(af, dst) + be16(static_cast<std::size_t>(sport)) +
         be16(static_cast<std::size_t>(dport));
}

std::string tlv(std::uint8_t type, const std::string& value) {
  return static_cast<char>(type) + be16(value.size()) + value;
}

struct Case {
  std::string name;
  std::string bytes;
  ProxyStatus status = ProxyStatus::Incomplete;
  std::size_t consumed = 0;  // Done: the header's length
  // Done with an address:
  std::string src, dst;
  int sport = -1, dport = -1;
  std::string protocol;  // Done
  ProxyMode mode = ProxyMode::Auto;
  bool allowed = true;
};

Case done(std::string name, std::string header, std::string src, int sport, std::string dst,
          int dport, std::string protocol, ProxyMode mode = ProxyMode::Auto) {
  Case c;
  c.name = std::move(name);
  c.bytes = header + std::string(kHttp);
  c.status = ProxyStatus::Done;
  c.consumed = header.size();
  c.src = std::move(src);
  c.dst = std::move(dst);
  c.sport = sport;
  c.dport = dport;
  c.protocol = std::move(protocol);
  c.mode = mode;
  return c;
}

Case real_peer(std::string name, std::string header, std::string protocol,
               ProxyMode mode = ProxyMode::Auto) {
  return done(std::move(name), std::move(header), "", -1, "", -1, std::move(protocol), mode);
}

Case verdict(std::string name, std::string bytes, ProxyStatus status,
             ProxyMode mode = ProxyMode::Auto, bool allowed = true) {
  Case c;
  c.name = std::move(name);
  c.bytes = std::move(bytes);
  c.status = status;
  c.mode = mode;
  c.allowed = allowed;
  return c;
}

std::vector<Case> cases() {
  using S = ProxyStatus;
  using M = ProxyMode;
  const std::string v6max = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string tcp4 = addresses(AF_INET, "10.1.2.3", "10.0.0.1", 4567, 80);
  const std::string tcp6 = addresses(AF_INET6, "2001:db8::7", "2001:db8::1", 65535, 443);
  std::vector<Case> v = {
      // --- v1 (spec 2.1) ---
      done("v1 tcp4", "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", "192.168.0.1", 56324,
           "192.168.0.11", 443, "TCP4"),
      done("v1 tcp4 in v1 mode", "PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n", "1.2.3.4", 0, "5.6.7.8",
           65535, "TCP4", M::V1),
      done("v1 tcp6 canonicalised", "PROXY TCP6 2001:DB8:0:0::1 2001:db8::2 1 2\r\n", "2001:db8::1",
           1, "2001:db8::2", 2, "TCP6"),
      done("v1 tcp6 mapped", "PROXY TCP6 ::ffff:1.2.3.4 ::1 1 2\r\n", "::ffff:1.2.3.4", 1, "::1", 2,
           "TCP6"),
      done("v1 tcp6 longest line (104)", "PROXY TCP6 " + v6max + " " + v6max + " 65535 65535\r\n",
           "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
           "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, "TCP6"),
      real_peer("v1 unknown", "PROXY UNKNOWN\r\n", "UNKNOWN"),
      real_peer("v1 unknown with ignored rest", "PROXY UNKNOWN 1.2.3.4 whatever\r\n", "UNKNOWN"),
      real_peer("v1 unknown worst case (107)",
                "PROXY UNKNOWN " + v6max + " " + v6max + " 65535 65535\r\n", "UNKNOWN"),
      verdict("v1 108 bytes", "PROXY UNKNOWN " + v6max + " " + v6max + " 65535 655350\r\n",
              S::Error),
      verdict("v1 no CRLF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2" + std::string(200, ' '), S::Error),
      verdict("v1 bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n" + std::string(kHttp), S::Error),
      verdict("v1 bare CR", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rGET", S::Error),
      verdict("v1 no space after PROXY", "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 double space", "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 double space between addresses", "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 tab", "PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", S::Error),
      verdict("v1 seven fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", S::Error),
      verdict("v1 five fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", S::Error),
      verdict("v1 only PROXY", "PROXY\r\n", S::Error),
      verdict("v1 lower-case protocol", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 TCP5", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 UNKNOWNX", "PROXY UNKNOWNX\r\n", S::Error),
      verdict("v1 leading zero octet", "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 octet 256", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 three octets", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 ipv6 in TCP4", "PROXY TCP4 ::1 ::1 1 2\r\n", S::Error),
      verdict("v1 ipv4 in TCP6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 two ::", "PROXY TCP6 1::2::3 ::1 1 2\r\n", S::Error),
      verdict("v1 zone id", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", S::Error),
      verdict("v1 hostname", "PROXY TCP4 localhost 5.6.7.8 1 2\r\n", S::Error),
      verdict("v1 port leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", S::Error),
      verdict("v1 port 65536", "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", S::Error),
      verdict("v1 port sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", S::Error),
      verdict("v1 port negative", "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", S::Error),
      verdict("v1 port hex", "PROXY TCP4 1.2.3.4 5.6.7.8 0x1 2\r\n", S::Error),
      verdict("v1 NUL", std::string("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 33), S::Error),
      verdict("v1 from a peer not allowed", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", S::Forbidden,
              M::Auto, false),
      verdict("v1 signature alone, peer not allowed", "PROXY", S::Forbidden, M::V1, false),
      verdict("v1 in v2 mode is HTTP", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", S::Absent, M::V2),
      verdict("v1 with proxy protocol off is HTTP", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", S::Absent,
              M::Off),
      // --- not a PROXY header: plain HTTP (gunicorn 24.1: in every mode) ---
      verdict("http GET", std::string(kHttp), S::Absent),
      verdict("http POST (shares the P)", "POST / HTTP/1.1\r\n", S::Absent),
      verdict("http PROXZ", "PROXZ / HTTP/1.1\r\n", S::Absent),
      verdict("http after an empty line (shares the CRLF)", "\r\n" + std::string(kHttp), S::Absent),
      verdict("http in v1 mode", std::string(kHttp), S::Absent, M::V1),
      verdict("http in v2 mode", std::string(kHttp), S::Absent, M::V2),
      verdict("http from a peer not allowed", std::string(kHttp), S::Absent, M::Auto, false),
      verdict("tls hello", std::string("\x16\x03\x01\x02\x00", 5), S::Absent),
      // --- v2 (spec 2.2) ---
      done("v2 tcp4", v2(0x21, 0x11, tcp4), "10.1.2.3", 4567, "10.0.0.1", 80, "TCP4"),
      done("v2 tcp4 in v2 mode", v2(0x21, 0x11, tcp4), "10.1.2.3", 4567, "10.0.0.1", 80, "TCP4",
           M::V2),
      done("v2 tcp6", v2(0x21, 0x21, tcp6), "2001:db8::7", 65535, "2001:db8::1", 443, "TCP6"),
      done("v2 tcp6 mapped", v2(0x21, 0x21, addresses(AF_INET6, "::ffff:10.9.9.9", "::1", 1, 2)),
           "::ffff:10.9.9.9", 1, "::1", 2, "TCP6"),
      done("v2 tcp4 with TLVs",
           v2(0x21, 0x11,
              tcp4 + tlv(0x04, "") + tlv(0x02, "example.com") + tlv(0x03, "\x01\x02\x03\x04") +
                  tlv(0x20, std::string(5, '\0') + tlv(0x21, "TLSv1.3")) + tlv(0xEA, "vpce-123")),
           "10.1.2.3", 4567, "10.0.0.1", 80, "TCP4"),
      done("v2 tcp4 with a 3000-byte TLV", v2(0x21, 0x11, tcp4 + tlv(0x05, std::string(3000, 'u'))),
           "10.1.2.3", 4567, "10.0.0.1", 80, "TCP4"),
      real_peer("v2 local", v2(0x20, 0x00, ""), "LOCAL"),
      real_peer("v2 local with addresses, skipped", v2(0x20, 0x11, tcp4), "LOCAL"),
      real_peer("v2 local ignores the family byte", v2(0x20, 0xFF, "xyz"), "LOCAL"),
      real_peer("v2 proxy unspec", v2(0x21, 0x00, ""), "UNSPEC"),
      real_peer("v2 proxy unspec with bytes", v2(0x21, 0x00, "abc"), "UNSPEC"),
      real_peer("v2 inet with unspec transport", v2(0x21, 0x10, "ab"), "UNSPEC"),
      real_peer("v2 udp4 falls back", v2(0x21, 0x12, tcp4), "UNSPEC"),
      real_peer("v2 udp6 falls back", v2(0x21, 0x22, tcp6), "UNSPEC"),
      real_peer("v2 unix stream falls back", v2(0x21, 0x31, std::string(216, 'p')), "UNSPEC"),
      verdict("v2 version 1", v2(0x11, 0x11, tcp4), S::Error),
      verdict("v2 version 3", v2(0x31, 0x11, tcp4), S::Error),
      verdict("v2 command 2", v2(0x22, 0x11, tcp4), S::Error),
      verdict("v2 command 15", v2(0x2F, 0x11, tcp4), S::Error),
      verdict("v2 family 4", v2(0x21, 0x41, tcp4), S::Error),
      verdict("v2 transport 3", v2(0x21, 0x13, tcp4), S::Error),
      verdict("v2 tcp4 short", v2(0x21, 0x11, tcp4.substr(0, 11)), S::Error),
      verdict("v2 tcp6 with tcp4's length", v2(0x21, 0x21, tcp4), S::Error),
      verdict("v2 unix short", v2(0x21, 0x31, std::string(215, 'p')), S::Error),
      verdict("v2 TLV past the end", v2(0x21, 0x11, tcp4 + tlv(0x04, "abcd").substr(0, 5)),
              S::Error),
      verdict("v2 two stray bytes after the addresses", v2(0x21, 0x11, tcp4 + "ab"), S::Error),
      verdict("v2 from a peer not allowed", v2(0x21, 0x11, tcp4), S::Forbidden, M::Auto, false),
      verdict("v2 in v1 mode is HTTP", v2(0x21, 0x11, tcp4), S::Absent, M::V1),
  };
  return v;
}

void expect_case(const Case& c, const ProxyHeaderParser& p, ProxyResult r, const std::string& how) {
  SCOPED_TRACE(c.name + " (" + how + ")");
  ASSERT_EQ(static_cast<int>(r.status), static_cast<int>(c.status)) << p.error();
  if (c.status != ProxyStatus::Done) {
    EXPECT_EQ(r.consumed, 0u);
    if (c.status == ProxyStatus::Error || c.status == ProxyStatus::Forbidden) {
      EXPECT_FALSE(p.error().empty());
    }
    return;
  }
  EXPECT_EQ(r.consumed, c.consumed);
  const auto& h = p.header();
  EXPECT_EQ(h.protocol, c.protocol);
  EXPECT_EQ(h.version, c.bytes[0] == 'P' ? 1 : 2);
  EXPECT_EQ(h.use_real_peer, c.sport < 0);
  if (c.sport >= 0) {
    EXPECT_EQ(h.source_addr, c.src);
    EXPECT_EQ(h.dest_addr, c.dst);
    EXPECT_EQ(h.source_port, c.sport);
    EXPECT_EQ(h.dest_port, c.dport);
    EXPECT_EQ(h.family, c.src.find(':') == std::string::npos ? AF_INET : AF_INET6);
  }
}

TEST(ProxyHeader, Whole) {
  for (const auto& c : cases()) {
    ProxyHeaderParser p(c.mode, c.allowed);
    expect_case(c, p, p.feed(c.bytes), "whole");
  }
}

TEST(ProxyHeader, InTwoPartsAtEveryPoint) {
  for (const auto& c : cases()) {
    for (std::size_t cut = 0; cut <= c.bytes.size(); ++cut) {
      ProxyHeaderParser p(c.mode, c.allowed);
      const ProxyResult first = p.feed(std::string_view(c.bytes).substr(0, cut));
      if (first.status != ProxyStatus::Incomplete) {
        // A verdict before the whole input is fine only if it is the final one, and Done
        // only once every byte of the header is in.
        expect_case(c, p, first, "first part of " + std::to_string(cut));
        if (first.status == ProxyStatus::Done) {
          EXPECT_LE(first.consumed, cut);
        }
      }
      expect_case(c, p, p.feed(c.bytes), "split at " + std::to_string(cut));
    }
  }
}

TEST(ProxyHeader, ByteByByte) {
  for (const auto& c : cases()) {
    ProxyHeaderParser p(c.mode, c.allowed);
    ProxyResult r;
    std::size_t n = 0;
    for (; n <= c.bytes.size(); ++n) {
      r = p.feed(std::string_view(c.bytes).substr(0, n));
      if (r.status != ProxyStatus::Incomplete) break;
    }
    expect_case(c, p, r, "byte by byte, verdict at " + std::to_string(n));
    if (c.status == ProxyStatus::Done) {
      EXPECT_EQ(n, c.consumed) << c.name << ": Done exactly when the header is in";
    }
  }
}

TEST(ProxyHeader, AnErrorIsReportedAsSoonAsItIsCertain) {
  // A bad version byte needs no more bytes than the fixed part; a v1 line no more than its CRLF.
  ProxyHeaderParser p(ProxyMode::Auto, true);
  const std::string bad = v2(0x11, 0x11, std::string(12, 'x'));
  EXPECT_EQ(p.feed(std::string_view(bad).substr(0, 16)).status, ProxyStatus::Error);
  ProxyHeaderParser q(ProxyMode::Auto, true);
  EXPECT_EQ(q.feed("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n").status, ProxyStatus::Error);
  ProxyHeaderParser absent(ProxyMode::Auto, true);
  EXPECT_EQ(absent.feed("G").status, ProxyStatus::Absent);  // one byte tells HTTP apart
  ProxyHeaderParser off(ProxyMode::Off, true);
  EXPECT_EQ(off.feed("").status, ProxyStatus::Absent);  // off decides before any byte
}

TEST(ProxyHeader, NothingYetIsIncomplete) {
  ProxyHeaderParser p(ProxyMode::Auto, false);
  EXPECT_EQ(p.feed("").status, ProxyStatus::Incomplete);
  EXPECT_EQ(p.feed("PROX").status, ProxyStatus::Incomplete);  // not refused before it is one
  EXPECT_EQ(p.feed("PROXY").status, ProxyStatus::Forbidden);
}

TEST(ProxyHeader, TheVerdictIsFinal) {
  ProxyHeaderParser p(ProxyMode::Auto, true);
  const std::string header = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
  const auto r = p.feed(header);
  ASSERT_EQ(r.status, ProxyStatus::Done);
  // The keep-alive connection's next request starts with "PROXY": not a header any more.
  const auto again = p.feed(header + "PROXY TCP4 9.9.9.9 9.9.9.9 9 9\r\n");
  EXPECT_EQ(again.status, ProxyStatus::Done);
  EXPECT_EQ(again.consumed, header.size());
  EXPECT_EQ(p.header().source_addr, "1.2.3.4");
}

TEST(ProxyHeader, Modes) {
  EXPECT_EQ(parse_proxy_mode("off"), ProxyMode::Off);
  EXPECT_EQ(parse_proxy_mode("v1"), ProxyMode::V1);
  EXPECT_EQ(parse_proxy_mode("v2"), ProxyMode::V2);
  EXPECT_EQ(parse_proxy_mode("auto"), ProxyMode::Auto);
  EXPECT_EQ(parse_proxy_mode("on"), std::nullopt);
  EXPECT_EQ(parse_proxy_mode(""), std::nullopt);
}

}  // namespace
}  // namespace gthreadd::http
