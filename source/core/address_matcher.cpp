#include "gthreadd/core/address_matcher.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

namespace gthreadd::core {
namespace {

using Bytes = std::array<std::uint8_t, 16>;

struct Parsed {
  Bytes bytes{};
  bool v4 = false;
};

Bytes mapped_v4(const void* in4) {
  Bytes b{};
  b[10] = b[11] = 0xff;
  std::memcpy(b.data() + 12, in4, 4);
  return b;
}

// inet_pton, on a bounded copy (it needs a C string) and with the characters each family
// allows checked first: no zone ids ("%eth0"), no spaces, no signs. glibc's inet_pton is
// itself strict: four decimal octets without leading zeros for IPv4, at most one "::"
// and 128 bits exactly for IPv6.
std::optional<Parsed> parse_address(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  const bool v6 = text.find(':') != std::string_view::npos;
  for (char c : text) {
    const bool digit = c >= '0' && c <= '9';
    const bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!(digit || c == '.' || (v6 && (hex || c == ':')))) return std::nullopt;
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Parsed out;
  if (v6) {
    in6_addr a6{};
    if (::inet_pton(AF_INET6, buf, &a6) != 1) return std::nullopt;
    std::memcpy(out.bytes.data(), &a6, 16);
  } else {
    in_addr a4{};
    if (::inet_pton(AF_INET, buf, &a4) != 1) return std::nullopt;
    out.bytes = mapped_v4(&a4);
    out.v4 = true;
  }
  return out;
}

bool prefix_equal(const Bytes& a, const Bytes& b, int prefix) noexcept {
  const int whole = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.data(), b.data(), static_cast<std::size_t>(whole)) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

bool host_bits_clear(const Bytes& a, int prefix) noexcept {
  for (int bit = prefix; bit < 128; ++bit)
    if (a[bit / 8] & (0x80 >> (bit % 8))) return false;
  return true;
}

Bytes network_of(Bytes a, int prefix) noexcept {
  for (int bit = prefix; bit < 128; ++bit)
    a[bit / 8] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  return a;
}

std::string format(const Bytes& a, bool v4) {
  char text[INET6_ADDRSTRLEN] = {};
  if (v4) {
    ::inet_ntop(AF_INET, a.data() + 12, text, sizeof text);
  } else {
    ::inet_ntop(AF_INET6, a.data(), text, sizeof text);
  }
  return text;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

struct Entry {
  Bytes network{};
  int prefix = 0;  // on the 128-bit (mapped) scale
  std::string error;
};

Entry parse_entry(std::string_view entry) {
  Entry out;
  const auto slash = entry.find('/');
  const std::string_view address = entry.substr(0, slash);
  const auto parsed = parse_address(address);
  if (!parsed) {
    out.error =
        quoted(entry) + " is not '*', an IP address or a CIDR range (like 10.0.0.0/8 or fd00::/8)";
    return out;
  }
  const int bits = parsed->v4 ? 32 : 128;
  int prefix = bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = entry.substr(slash + 1);
    bool ok = !digits.empty() && digits.size() <= 3;
    int value = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') ok = false;
      value = value * 10 + (c - '0');
    }
    if (!ok || value > bits) {
      out.error = quoted(entry) + " has an invalid prefix length (0 to " + std::to_string(bits) +
                  " for an IPv" + (parsed->v4 ? "4" : "6") + " range)";
      return out;
    }
    prefix = value;
  }
  const int scaled = parsed->v4 ? prefix + 96 : prefix;
  // gunicorn validates with ipaddress.ip_network(strict=True): "10.0.0.1/8" is a mistake
  // (a host written where a network was meant), not a way to say 10.0.0.0/8.
  if (!host_bits_clear(parsed->bytes, scaled)) {
    out.error = quoted(entry) + " has host bits set; the range is " +
                format(network_of(parsed->bytes, scaled), parsed->v4) + "/" +
                std::to_string(prefix);
    return out;
  }
  out.network = parsed->bytes;
  out.prefix = scaled;
  return out;
}

}  // namespace

std::string AddressMatcher::check_entry(std::string_view entry) {
  if (entry == "*") return {};
  return parse_entry(entry).error;
}

std::optional<AddressMatcher> AddressMatcher::parse(std::span<const std::string> entries,
                                                    std::string& error) {
  AddressMatcher m;
  for (const auto& entry : entries) {
    if (entry == "*") {
      m.all_ = true;
      continue;
    }
    Entry e = parse_entry(entry);
    if (!e.error.empty()) {
      error = std::move(e.error);
      return std::nullopt;
    }
    m.ranges_.push_back({e.network, e.prefix});
  }
  return m;
}

bool AddressMatcher::matches(const Bytes& address) const noexcept {
  if (all_) return true;
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const Range& r) { return prefix_equal(address, r.network, r.prefix); });
}

bool AddressMatcher::allows(std::string_view address) const noexcept {
  if (all_) return true;
  const auto parsed = parse_address(address);
  return parsed && matches(parsed->bytes);
}

bool AddressMatcher::allows(const sockaddr* address, socklen_t length) const noexcept {
  if (address == nullptr) return false;
  switch (address->sa_family) {
    case AF_UNIX: return true;
    case AF_INET: {
      if (length < static_cast<socklen_t>(sizeof(sockaddr_in))) return false;
      sockaddr_in in4;
      std::memcpy(&in4, address, sizeof in4);
      return matches(mapped_v4(&in4.sin_addr));
    }
    case AF_INET6: {
      if (length < static_cast<socklen_t>(sizeof(sockaddr_in6))) return false;
      sockaddr_in6 in6;
      std::memcpy(&in6, address, sizeof in6);
      Bytes b;
      std::memcpy(b.data(), &in6.sin6_addr, 16);
      return matches(b);
    }
    default: return all_;
  }
}

bool AddressMatcher::allows_peer(std::string_view remote_addr, bool unix_socket) const noexcept {
  if (remote_addr.empty()) return unix_socket || all_;
  return allows(remote_addr);
}

}  // namespace gthreadd::core
