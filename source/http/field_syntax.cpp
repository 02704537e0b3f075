#include "gthreadd/http/field_syntax.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <limits>

namespace gthreadd::http {

namespace {

constexpr bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr bool is_unreserved(char c) noexcept {  // RFC 3986 §2.3
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

constexpr bool is_sub_delim(char c) noexcept {  // RFC 3986 §2.2
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

// reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 §3.2.2), less ',': Host is a
// singleton, and a comma is what a repeated Host looks like once merged into a list
// (RFC 9110 §5.3), so "a, b" and "a,b" are refused alike.
bool is_reg_name(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return false;
      if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!is_unreserved(c) && (c == ',' || !is_sub_delim(c))) {
      return false;
    }
  }
  return true;
}

// IP-literal = "[" ( IPv6address / IPvFuture ) "]", given without its brackets.
bool is_ip_literal(std::string_view s) noexcept {
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) {
    // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
    std::size_t i = 1;
    while (i < s.size() && is_hex(s[i])) ++i;
    if (i == 1 || i >= s.size() || s[i] != '.' || i + 1 == s.size()) return false;
    for (++i; i < s.size(); ++i)
      if (!is_unreserved(s[i]) && !is_sub_delim(s[i]) && s[i] != ':') return false;
    return true;
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (s.empty() || s.size() >= sizeof text) return false;
  std::memcpy(text, s.data(), s.size());
  in6_addr addr{};
  return ::inet_pton(AF_INET6, text, &addr) == 1;
}

}  // namespace

bool parse_content_length(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// RFC 9112 §3.2: Host = uri-host [ ":" port ]; a server MUST answer 400 to an invalid one.
// An empty value is grammatical, but is what a client sends only for a target URI without
// an authority (§3.2); every target we serve is an http(s) URI, whose authority must not be
// empty (RFC 9110 §4.2.1: a recipient MUST reject such a URI as invalid; RFC 9112 §3.3 lets
// the server reject it), so an empty Host is a 400 too. No userinfo ("u@h"), no path.
bool is_valid_host(std::string_view v) noexcept {
  if (v.empty()) return false;
  std::string_view host = v, port;
  bool has_port = false;
  if (v.front() == '[') {
    const auto close = v.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = v.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      has_port = true;
    }
    if (!is_ip_literal(v.substr(1, close - 1))) return false;
  } else {
    const auto colon = v.find(':');
    if (colon != std::string_view::npos) {
      host = v.substr(0, colon);
      port = v.substr(colon + 1);
      has_port = true;
    }
    if (host.empty() || !is_reg_name(host)) return false;  // IPv4address is a reg-name too
  }
  if (!has_port) return true;
  // port = *DIGIT (RFC 3986 §3.2.3: may be empty); a number over 65535 names no port.
  if (port.size() > 5) return false;
  unsigned n = 0;
  for (char c : port) {
    if (!is_digit(c)) return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n <= 65535;
}

}  // namespace gthreadd::http
