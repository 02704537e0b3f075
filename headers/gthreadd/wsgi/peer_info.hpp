#pragma once
// What the environ needs to know about the connection and listener a request came in on.
#include <cstdint>
#include <string>

namespace gthreadd::wsgi {

struct PeerInfo {
  std::string remote_addr;  // "127.0.0.1", "::1"; empty for unix sockets (gunicorn: "")
  std::uint16_t remote_port = 0;
  std::string server_name;  // listener host ("127.0.0.1"), or the socket path for unix
  std::string server_port;  // "8000"; "" for unix sockets
  bool unix_socket = false;
  bool tls = false;  // came in over TLS: wsgi.url_scheme is https
};

}  // namespace gthreadd::wsgi
