#pragma once
// Builds the PEP 3333 environ with the keys gunicorn sets. The constant part is a template
// dict made once per worker and copied per request (PyDict_Copy), sized so that a request's
// keys fit without a resize; keys are interned once, and the HTTP_* keys of common headers
// are cached (found by length, then a case-insensitive compare: no hashing, no copy), so a
// request pays only for its values.
#include <Python.h>
#include <pybind11/pybind11.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/core/address_matcher.hpp"
#include "gthreadd/http/request.hpp"
#include "gthreadd/http/request_body.hpp"
#include "gthreadd/wsgi/peer_info.hpp"
#include "gthreadd/wsgi/py_visibility.hpp"

namespace gthreadd::wsgi {

class GTHREADD_PY_HIDDEN EnvironBuilder {
 public:
  // With the GIL held. `errors` and `file_wrapper` go into the template.
  EnvironBuilder(const config::Settings& settings, pybind11::object errors,
                 pybind11::object file_wrapper);
  ~EnvironBuilder();
  EnvironBuilder(const EnvironBuilder&) = delete;
  EnvironBuilder& operator=(const EnvironBuilder&) = delete;

  // A new environ (GIL held). `input` becomes wsgi.input.
  pybind11::dict build(const http::Request& request, const http::RequestBody& body,
                       const PeerInfo& peer, pybind11::handle input) const;

 private:
  // A header the builder knows by name: its environ key (owned) and what it means.
  struct KnownHeader {
    std::string upper;  // "USER-AGENT"
    PyObject* key;      // "HTTP_USER_AGENT", or CONTENT_TYPE / CONTENT_LENGTH
    enum class Kind { Plain, ContentType, ContentLength, Host } kind;
  };
  static constexpr std::size_t kLongestKnown = 32;
  // Construction, in order (GIL held).
  void intern_keys();
  void read_forwarding(const config::Settings& settings);
  void index_known_headers();
  void fill_template(const config::Settings& settings, pybind11::object errors,
                     pybind11::object file_wrapper);
  // build()'s parts, into the environ `e`.
  void set_request_line(PyObject* e, const http::Request& request, const PeerInfo& peer,
                        std::string& scratch) const;
  std::string_view set_headers(PyObject* e, const http::Request& request,
                               const http::RequestBody& body, std::string& scratch) const;
  void set_peer(PyObject* e, const PeerInfo& peer, std::string_view host, bool secure) const;
  const KnownHeader* known_header(std::string_view name) const noexcept;
  PyObject* method_value(std::string_view method) const noexcept;  // borrowed, or null
  PyObject* cached_latin1(std::string_view s, std::string& last, PyObject*& value) const;
  PyObject* remote_port_value(std::uint16_t port) const;  // new reference
  bool is_secure(const http::Request& request, const PeerInfo& peer) const;
  // gunicorn's forwarded_allow_ips test: the peer's address (from a PROXY header when there
  // was one) in the list, or a unix-socket peer without an address (the local proxy).
  bool trusted_forwarder(const PeerInfo& peer) const noexcept {
    return forwarded_allow_.allows_peer(peer.remote_addr, peer.unix_socket);
  }
  // The SCRIPT_NAME a trusted forwarder sent (gunicorn 22+ forwarder_headers), or null.
  const http::HeaderField* forwarded_script_name(const http::Request& request,
                                                 const PeerInfo& peer) const;

  pybind11::dict template_;
  std::string script_name_;
  core::AddressMatcher forwarded_allow_;  // forwarded_allow_ips: '*', addresses, CIDR ranges
  bool script_name_forwardable_ = false;  // forwarder_headers lists SCRIPT_NAME (or '*')
  std::vector<std::pair<std::string, std::string>> secure_headers_;  // upper-case name, value
  std::array<std::vector<KnownHeader>, kLongestKnown + 1> known_by_length_;
  std::vector<std::pair<std::string, PyObject*>> methods_;  // "GET" → interned "GET"
  // The peer and listener strings repeat across requests: the last value of each is kept
  // (GIL held whenever they are touched).
  mutable std::string last_remote_addr_, last_server_name_, last_server_port_;
  mutable PyObject *remote_addr_value_ = nullptr, *server_name_value_ = nullptr,
                   *server_port_value_ = nullptr;
  // REMOTE_PORT strs of recent connections, by port modulo the size: a keep-alive
  // connection's requests share one instead of formatting it each time.
  mutable std::array<std::pair<std::uint16_t, PyObject*>, 64> remote_ports_{};
  // Interned keys and shared values, owned (one reference each).
  PyObject *k_method_, *k_script_name_, *k_path_info_, *k_query_, *k_raw_uri_, *k_server_name_,
      *k_server_port_, *k_protocol_, *k_remote_addr_, *k_remote_port_, *k_content_type_,
      *k_content_length_, *k_scheme_, *k_input_;
  PyObject *v_http10_, *v_http11_, *v_https_;
};

}  // namespace gthreadd::wsgi
