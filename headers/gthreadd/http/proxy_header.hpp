#pragma once
// The PROXY protocol header (haproxy's doc/proxy-protocol.txt, versions 1 and 2) that a
// TCP proxy (haproxy `send-proxy`, nginx stream `proxy_protocol on;`, cloud load
// balancers) puts before the first byte of the client's data, telling the server who the
// client really is.
//
// The parser is strict and resumable. Call feed() with the connection's bytes from its very
// first byte, as many as have arrived: the same growing prefix on each call (like
// RequestParser::parse); each byte is examined once. It keeps what it needs (at most the
// 232 bytes of v2 addresses), so the caller may drop the header bytes once it is Done.
//
// As gunicorn 24.1 (message.py, Request._handle_proxy_protocol) does, in every mode a
// connection that does not start with a PROXY header is plain HTTP (Absent): a PROXY header
// is accepted, never required. A header from a peer outside proxy_allow_ips is refused as
// soon as its signature is seen (Forbidden: gunicorn's ForbiddenProxyRequest, a 403); a
// malformed one is an Error (gunicorn's InvalidProxyLine / InvalidProxyHeader, a 400).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gthreadd::http {

enum class ProxyMode {
  Off,   // no PROXY header is looked for: a PROXY line is an HTTP request line (a 400)
  V1,    // "PROXY TCP4 ..." text lines only
  V2,    // the binary header only
  Auto,  // either, told apart by the first bytes
};

// The proxy_protocol setting: "off", "v1", "v2", "auto"; nullopt for anything else.
std::optional<ProxyMode> parse_proxy_mode(std::string_view setting) noexcept;

enum class ProxyStatus {
  Incomplete,  // the bytes so far may still become a header: call again with more
  Absent,      // not a PROXY header: every byte (consumed == 0) is the HTTP request's
  Done,        // a valid header: its `consumed` bytes come off the front; HTTP follows
  Forbidden,   // a PROXY header from a peer not allowed to send one: answer 403, close
  Error,       // a malformed PROXY header: answer 400, close
};

struct ProxyResult {
  ProxyStatus status = ProxyStatus::Incomplete;
  std::size_t consumed = 0;  // only for Done: the header's length in bytes
};

// What a Done header says.
struct ProxyHeader {
  int version = 0;  // 1 or 2
  // True when the header carries no client address to use: v1 "UNKNOWN", v2 LOCAL (the
  // proxy's own health check), v2 UNSPEC, and the families and transports the spec lets
  // a receiver fall back on (UDP, AF_UNIX). The real peer stays the peer.
  bool use_real_peer = true;
  int family = 0;           // AF_INET or AF_INET6 when !use_real_peer
  std::string source_addr;  // the client, canonical text (inet_ntop): "203.0.113.7"
  std::uint16_t source_port = 0;
  std::string dest_addr;  // the address the client connected to, on the proxy
  std::uint16_t dest_port = 0;
  // gunicorn's PROXY_PROTOCOL environ value: "TCP4", "TCP6", "UNKNOWN" (v1), "LOCAL",
  // "UNSPEC" (v2).
  std::string protocol;
};

class ProxyHeaderParser {
 public:
  // `peer_allowed`: the real peer is in proxy_allow_ips (AddressMatcher::allows on the
  // socket address; unix-socket peers are allowed, as in gunicorn).
  ProxyHeaderParser(ProxyMode mode, bool peer_allowed) noexcept
      : mode_(mode), allowed_(peer_allowed) {}

  // `data`: the connection's bytes from its first one. Once the status is final (anything
  // but Incomplete) it stays what it was, whatever is fed afterwards.
  ProxyResult feed(std::string_view data);

  const ProxyHeader& header() const noexcept { return header_; }
  // Why the header was refused (for a debug log line), or "".
  std::string_view error() const noexcept { return error_; }

  // A v1 line is at most 107 bytes with its CRLF (spec 2.1); a v2 header is 16 bytes plus
  // its 16-bit length.
  static constexpr std::size_t kMaxV1Line = 107;
  static constexpr std::size_t kV2Fixed = 16;

 private:
  enum class Phase { Detect, V1Line, V2Fixed, V2Addresses, V2Tlvs, V2Skip, Finished };
  ProxyResult finish(ProxyStatus status, std::size_t consumed = 0);
  ProxyResult fail(const char* why) {
    error_ = why;
    return finish(ProxyStatus::Error);
  }
  ProxyResult detect(std::string_view data);
  ProxyResult v1_line(std::string_view data);
  ProxyResult v1_parse(std::string_view line, std::size_t consumed);
  ProxyResult v2(std::string_view data);
  bool v2_fixed(std::string_view data);
  void v2_addresses(std::string_view data);

  ProxyMode mode_;
  bool allowed_;
  Phase phase_ = Phase::Detect;
  std::size_t pos_ = 0;          // bytes examined so far
  std::size_t v2_total_ = 0;     // 16 + the v2 length field
  std::size_t v2_addr_len_ = 0;  // the address block the family/transport byte announces
  std::uint8_t v2_command_ = 0, v2_family_ = 0;
  ProxyResult result_;
  ProxyHeader header_;
  std::string_view error_;
};

}  // namespace gthreadd::http
