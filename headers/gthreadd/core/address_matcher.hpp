#pragma once
// An allow-list of peer addresses, as gunicorn 23+ reads forwarded_allow_ips and
// proxy_allow_ips: '*' (every peer), exact IPv4/IPv6 addresses and CIDR ranges
// ("10.0.0.0/8", "fd00::/8"). Entries are strict like Python's ipaddress.ip_network: no
// leading zeros in IPv4 octets, no host bits set below the prefix ("10.0.0.1/8" is refused
// rather than silently widened).
//
// It lives in core because both config (validating the settings at start-up) and the
// request side (wsgi, worker) need it, and core is the area both link.
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gthreadd::core {

class AddressMatcher {
 public:
  AddressMatcher() = default;  // allows nobody (but unix-socket peers, see below)

  // The list as the setting holds it (one entry per element, already split on commas).
  // A bad entry returns nullopt with `error` saying which entry and why.
  static std::optional<AddressMatcher> parse(std::span<const std::string> entries,
                                             std::string& error);
  // Why `entry` is not a valid entry, or "" when it is (the settings' start-up check).
  static std::string check_entry(std::string_view entry);

  bool allows_all() const noexcept { return all_; }

  // A textual IPv4 or IPv6 address ("10.1.2.3", "::1"). IPv4-mapped IPv6 peers
  // ("::ffff:10.1.2.3", what a dual-stack [::] listener reports for IPv4 clients) match
  // IPv4 entries. Text that is not an address matches only '*'.
  bool allows(std::string_view address) const noexcept;
  // A socket address (getpeername). AF_UNIX peers are always allowed: gunicorn treats a
  // unix-socket peer as the local proxy (message.py: a peer address that is not an
  // (ip, port) tuple passes both the forwarded_allow_ips and the proxy_allow_ips checks).
  bool allows(const sockaddr* address, socklen_t length) const noexcept;
  // A peer as the environ shows it (wsgi::PeerInfo): its text address, or, for a unix-socket
  // connection without one, the unix-socket rule above. A unix-socket connection whose
  // address came from a PROXY header is judged by that address.
  bool allows_peer(std::string_view remote_addr, bool unix_socket) const noexcept;

 private:
  // IPv4 is kept as IPv4-mapped IPv6 (::ffff:a.b.c.d, prefix + 96), so one comparison
  // serves both families and mapped peers match IPv4 entries by construction.
  using Bytes = std::array<std::uint8_t, 16>;
  struct Range {
    Bytes network;
    int prefix;  // 0..128
  };
  bool matches(const Bytes& address) const noexcept;

  bool all_ = false;
  std::vector<Range> ranges_;
};

}  // namespace gthreadd::core
