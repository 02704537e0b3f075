#pragma once
// A listening address as gunicorn's --bind accepts it: HOST:PORT, [IPv6]:PORT, HOST
// (port 8000), unix:PATH, fd://N.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gthreadd::config {

struct BindAddress {
  enum class Kind { Tcp, Unix, Fd };
  Kind kind = Kind::Tcp;
  std::string host;  // Tcp: literal address or name, without brackets
  std::uint16_t port = 8000;
  std::string path;      // Unix
  int fd = -1;           // Fd
  std::string original;  // as written, for messages

  // "http://127.0.0.1:8000", "unix:/run/app.sock", "fd://3": gunicorn's "Listening at" form.
  [[nodiscard]] std::string url() const;
};

// Returns nullopt and fills `error` with a message naming the accepted forms.
std::optional<BindAddress> parse_bind_address(std::string_view text, std::string& error);

}  // namespace gthreadd::config
