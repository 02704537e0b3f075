#include "gthreadd/config/bind_address.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace gthreadd::config {
namespace {

constexpr std::string_view kAcceptedForms =
    "expected HOST:PORT, HOST (port 8000), [IPv6]:PORT, unix:PATH, unix://PATH or fd://N";

std::optional<unsigned long> parse_number(std::string_view text, unsigned long max) {
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return value;
}

bool fail(std::string& error, std::string_view text, std::string_view why) {
  error = "invalid bind address '" + std::string(text) + "': " + std::string(why) + "; " +
          std::string(kAcceptedForms);
  return false;
}

}  // namespace

std::string BindAddress::url() const {
  switch (kind) {
    case Kind::Unix: return "unix:" + path;
    case Kind::Fd: return "fd://" + std::to_string(fd);
    case Kind::Tcp: break;
  }
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Follows gunicorn's util.parse_address: "unix:" with or without "//", "fd://N", an optional
// "tcp://" prefix, brackets for IPv6, a missing port meaning 8000 and an empty host meaning
// every interface. Unlike gunicorn, an unbracketed IPv6 address is an error rather than a
// silently mangled host.
std::optional<BindAddress> parse_bind_address(std::string_view text, std::string& error) {
  BindAddress out;
  out.original = std::string(text);
  std::string_view rest = text;

  if (rest.starts_with("unix:")) {
    rest.remove_prefix(5);
    if (rest.starts_with("//")) rest.remove_prefix(2);
    if (rest.empty()) return fail(error, text, "the socket path is empty"), std::nullopt;
    out.kind = BindAddress::Kind::Unix;
    out.path = std::string(rest);
    return out;
  }
  if (rest.starts_with("fd://")) {
    auto fd = parse_number(rest.substr(5), std::numeric_limits<int>::max());
    if (!fd) return fail(error, text, "the file descriptor is not a number"), std::nullopt;
    out.kind = BindAddress::Kind::Fd;
    out.fd = static_cast<int>(*fd);
    return out;
  }
  if (rest.starts_with("tcp://")) rest.remove_prefix(6);

  std::string_view host = rest;
  std::string_view port;
  bool has_port = false;
  if (rest.starts_with("[")) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return fail(error, text, "missing ']' after the IPv6 address"), std::nullopt;
    }
    host = rest.substr(1, close - 1);
    auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail(error, text, "junk after ']'"), std::nullopt;
      port = after.substr(1);
      has_port = true;
    }
    if (host.empty()) return fail(error, text, "the IPv6 address is empty"), std::nullopt;
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    if (rest.find(':', colon + 1) != std::string_view::npos) {
      return fail(error, text, "an IPv6 address must be written in brackets"), std::nullopt;
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    has_port = true;
  }
  if (has_port) {
    auto number = parse_number(port, 65535);
    if (!number) return fail(error, text, "the port is not a number from 0 to 65535"), std::nullopt;
    out.port = static_cast<std::uint16_t>(*number);
  }
  if (host.find_first_of(" \t/") != std::string_view::npos) {
    return fail(error, text, "the host contains a space or '/'"), std::nullopt;
  }
  out.host = host.empty() ? "0.0.0.0" : std::string(host);
  std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace gthreadd::config
