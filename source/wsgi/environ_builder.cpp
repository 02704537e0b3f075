#include "gthreadd/wsgi/environ_builder.hpp"

#include <array>
#include <charconv>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "gthreadd/http/char_class.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

PyObject* interned(const char* s) { return PyUnicode_InternFromString(s); }

// PEP 3333 native strings: bytes from the wire are decoded as latin-1, losslessly.
PyObject* latin1(std::string_view s) {
  return PyUnicode_DecodeLatin1(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
}

void set_steal(PyObject* dict, PyObject* key, PyObject* value) {
  if (value == nullptr) throw py::error_already_set();
  const int rc = PyDict_SetItem(dict, key, value);
  Py_DECREF(value);
  if (rc != 0) throw py::error_already_set();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// gunicorn's unquote_to_wsgi_str (urllib.parse.unquote_to_bytes, then latin-1): a '%' not
// followed by two hex digits is kept as it is, never an error.
PyObject* unquote_latin1(std::string_view path, std::string& scratch) {
  if (path.find('%') == std::string_view::npos) return latin1(path);
  scratch.clear();
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      const int hi = hex_value(path[i + 1]), lo = hex_value(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        scratch.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    scratch.push_back(path[i]);
  }
  return latin1(scratch);
}

// A number as a str, without PyUnicode_FromFormat's format-string interpreter.
PyObject* decimal(std::uint64_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  return PyUnicode_DecodeLatin1(digits, end - digits, nullptr);
}

// Stores one header field under `key` (a reference this call takes over). One lookup for the
// usual single field: setdefault stores it unless the name was seen; repeated fields are one
// list-valued field (RFC 9110 §5.3), joined with "," exactly as gunicorn joins them.
void add_field(PyObject* e, PyObject* key, std::string_view text) {
  PyObject* value = latin1(text);
  if (value == nullptr) {
    Py_DECREF(key);
    throw py::error_already_set();
  }
  PyObject* stored = PyDict_SetDefault(e, key, value);  // borrowed
  if (stored != nullptr && stored != value) {
    PyObject* joined = PyUnicode_FromFormat("%U,%U", stored, value);
    const int rc = joined ? PyDict_SetItem(e, key, joined) : -1;
    Py_XDECREF(joined);
    if (rc != 0) stored = nullptr;
  }
  Py_DECREF(key);
  Py_DECREF(value);
  if (stored == nullptr) throw py::error_already_set();
}

void upper_into(std::string_view name, std::string& out) {
  out.assign(name);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
}

constexpr std::array<const char*, 32> kCommonHeaders = {"HOST",
                                                        "USER-AGENT",
                                                        "ACCEPT",
                                                        "ACCEPT-ENCODING",
                                                        "ACCEPT-LANGUAGE",
                                                        "ACCEPT-CHARSET",
                                                        "CONNECTION",
                                                        "COOKIE",
                                                        "REFERER",
                                                        "ORIGIN",
                                                        "AUTHORIZATION",
                                                        "CACHE-CONTROL",
                                                        "PRAGMA",
                                                        "IF-NONE-MATCH",
                                                        "IF-MODIFIED-SINCE",
                                                        "IF-MATCH",
                                                        "RANGE",
                                                        "X-FORWARDED-FOR",
                                                        "X-FORWARDED-PROTO",
                                                        "X-FORWARDED-HOST",
                                                        "X-FORWARDED-PORT",
                                                        "X-REAL-IP",
                                                        "X-REQUEST-ID",
                                                        "X-REQUESTED-WITH",
                                                        "X-CSRFTOKEN",
                                                        "DNT",
                                                        "UPGRADE-INSECURE-REQUESTS",
                                                        "SEC-FETCH-MODE",
                                                        "SEC-FETCH-SITE",
                                                        "TRANSFER-ENCODING",
                                                        "EXPECT",
                                                        "KEEP-ALIVE"};

constexpr std::array<const char*, 9> kMethods = {"GET",     "HEAD",  "POST",  "PUT",    "DELETE",
                                                 "OPTIONS", "PATCH", "TRACE", "CONNECT"};

}  // namespace

EnvironBuilder::EnvironBuilder(const config::Settings& settings, py::object errors,
                               py::object file_wrapper) {
  intern_keys();
  // gunicorn takes SCRIPT_NAME from the process environment (-e SCRIPT_NAME=/app).
  if (const char* sn = std::getenv("SCRIPT_NAME")) script_name_ = sn;
  read_forwarding(settings);
  index_known_headers();
  fill_template(settings, std::move(errors), std::move(file_wrapper));
}

void EnvironBuilder::intern_keys() {
  k_method_ = interned("REQUEST_METHOD");
  k_script_name_ = interned("SCRIPT_NAME");
  k_path_info_ = interned("PATH_INFO");
  k_query_ = interned("QUERY_STRING");
  k_raw_uri_ = interned("RAW_URI");
  k_server_name_ = interned("SERVER_NAME");
  k_server_port_ = interned("SERVER_PORT");
  k_protocol_ = interned("SERVER_PROTOCOL");
  k_remote_addr_ = interned("REMOTE_ADDR");
  k_remote_port_ = interned("REMOTE_PORT");
  k_content_type_ = interned("CONTENT_TYPE");
  k_content_length_ = interned("CONTENT_LENGTH");
  k_scheme_ = interned("wsgi.url_scheme");
  k_input_ = interned("wsgi.input");
  v_http10_ = interned("HTTP/1.0");
  v_http11_ = interned("HTTP/1.1");
  v_https_ = interned("https");
}

// forwarded_allow_ips, forwarder_headers and secure_scheme_headers.
void EnvironBuilder::read_forwarding(const config::Settings& settings) {
  // The setting is checked at start-up (config/http_settings.cpp); a list that still does not
  // parse here (built in code) trusts nobody rather than everybody.
  std::string bad_entry;
  if (auto allow = core::AddressMatcher::parse(settings.forwarded_allow_ips, bad_entry)) {
    forwarded_allow_ = std::move(*allow);
  } else {
    spdlog::error("forwarded_allow_ips: {}; trusting no forwarder", bad_entry);
  }
  for (const auto& name : settings.forwarder_headers)
    if (name == "*" || http::iequals(name, "SCRIPT_NAME")) script_name_forwardable_ = true;
  for (const auto& [name, value] : settings.secure_scheme_headers) {
    std::string upper;
    upper_into(name, upper);
    secure_headers_.emplace_back(std::move(upper), value);
  }
}

// The HTTP_* keys of common headers and the interned methods, made once per worker.
void EnvironBuilder::index_known_headers() {
  auto know = [&](std::string upper, PyObject* key, KnownHeader::Kind kind) {
    auto& same_length = known_by_length_.at(upper.size());
    same_length.push_back({std::move(upper), key, kind});
  };
  for (const char* name : kCommonHeaders) {
    std::string key = std::string("HTTP_") + name;
    for (char& c : key)
      if (c == '-') c = '_';
    know(name, interned(key.c_str()),
         std::string_view(name) == "HOST" ? KnownHeader::Kind::Host : KnownHeader::Kind::Plain);
  }
  Py_INCREF(k_content_type_);
  know("CONTENT-TYPE", k_content_type_, KnownHeader::Kind::ContentType);
  Py_INCREF(k_content_length_);
  know("CONTENT-LENGTH", k_content_length_, KnownHeader::Kind::ContentLength);
  for (const char* method : kMethods) methods_.emplace_back(method, interned(method));
}

void EnvironBuilder::fill_template(const config::Settings& settings, py::object errors,
                                   py::object file_wrapper) {
  // Room for the keys every request adds (about ten) and a browser's worth of headers, so
  // the per-request copy never resizes (a resize was two table rebuilds per request).
  template_ = py::reinterpret_steal<py::dict>(_PyDict_NewPresized(40));
  if (!template_) throw py::error_already_set();
  template_["wsgi.version"] = py::make_tuple(1, 0);
  template_["wsgi.url_scheme"] = py::str("http");
  template_["wsgi.multithread"] = true;
  template_["wsgi.multiprocess"] = settings.workers > 1;
  template_["wsgi.run_once"] = false;
  template_["wsgi.input_terminated"] = true;
  template_["wsgi.errors"] = std::move(errors);
  template_["wsgi.file_wrapper"] = std::move(file_wrapper);
  template_["SERVER_SOFTWARE"] = py::str(std::string("gthreadd/") + GTHREADD_VERSION);
  template_[py::handle(k_script_name_)] = py::str(script_name_);
}

EnvironBuilder::~EnvironBuilder() {
  for (PyObject* o : {k_method_, k_script_name_, k_path_info_, k_query_, k_raw_uri_, k_server_name_,
                      k_server_port_, k_protocol_, k_remote_addr_, k_remote_port_, k_content_type_,
                      k_content_length_, k_scheme_, k_input_, v_http10_, v_http11_, v_https_})
    Py_XDECREF(o);
  for (auto& known : known_by_length_)
    for (auto& header : known) Py_XDECREF(header.key);
  for (auto& [name, value] : methods_) Py_XDECREF(value);
  for (PyObject* o : {remote_addr_value_, server_name_value_, server_port_value_}) Py_XDECREF(o);
  for (auto& [port, value] : remote_ports_) Py_XDECREF(value);
}

namespace {

// `upper` is already upper case: only `name` needs folding. The first letter rules out most
// candidates of the same length before the loop (& 0xDF upper-cases a letter, and turns no
// other byte into one).
bool equals_upper(std::string_view name, std::string_view upper) noexcept {
  if ((static_cast<unsigned char>(name[0]) & 0xDF) != static_cast<unsigned char>(upper[0]))
    return false;
  for (std::size_t i = 1; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (c != upper[i]) return false;
  }
  return true;
}

}  // namespace

const EnvironBuilder::KnownHeader* EnvironBuilder::known_header(
    std::string_view name) const noexcept {
  if (name.empty() || name.size() > kLongestKnown) return nullptr;
  for (const auto& header : known_by_length_[name.size()])
    if (equals_upper(name, header.upper)) return &header;
  return nullptr;
}

PyObject* EnvironBuilder::method_value(std::string_view method) const noexcept {
  for (const auto& [name, value] : methods_)
    if (name == method) return value;
  return nullptr;
}

// A new reference to `s` as a str, reusing the one made for the previous request when `s`
// is the same (the listener's name and port, the proxy's address).
PyObject* EnvironBuilder::cached_latin1(std::string_view s, std::string& last,
                                        PyObject*& value) const {
  if (value == nullptr || s != last) {
    PyObject* fresh = latin1(s);
    if (fresh == nullptr) return nullptr;
    last.assign(s);
    Py_XSETREF(value, fresh);
  }
  Py_INCREF(value);
  return value;
}

// gunicorn: the scheme headers count only from a peer in --forwarded-allow-ips ('*' = any;
// unix-socket peers are the local proxy). Headers that disagree leave it "http", where
// gunicorn answers 400: never upgrade on contradictory evidence.
PyObject* EnvironBuilder::remote_port_value(std::uint16_t port) const {
  auto& [cached_port, value] = remote_ports_[port % remote_ports_.size()];
  if (value == nullptr || cached_port != port) {
    PyObject* fresh = decimal(port);
    if (fresh == nullptr) return nullptr;
    Py_XSETREF(value, fresh);
    cached_port = port;
  }
  Py_INCREF(value);
  return value;
}

bool EnvironBuilder::is_secure(const http::Request& request, const PeerInfo& peer) const {
  if (secure_headers_.empty()) return false;
  bool secure = false, insecure = false;
  for (const auto& field : request.headers) {
    for (const auto& [name, value] : secure_headers_) {
      if (!http::iequals(field.name, name)) continue;
      (field.value == value ? secure : insecure) = true;
    }
  }
  // The peer is looked up only when a scheme header is there at all (rarely, without a proxy).
  if (!secure || insecure) return false;
  return trusted_forwarder(peer);
}

// gunicorn 22+ (wsgi.py create()): a SCRIPT_NAME header field, which survives parsing only
// from a trusted forwarder whose forwarder_headers name it, replaces the process's
// SCRIPT_NAME; the last one wins as in gunicorn's loop. The trust is checked here too, so a
// SCRIPT_NAME that reached the environ another way (header_map "dangerous") is not obeyed.
const http::HeaderField* EnvironBuilder::forwarded_script_name(const http::Request& request,
                                                               const PeerInfo& peer) const {
  if (!script_name_forwardable_) return nullptr;
  const http::HeaderField* found = nullptr;
  for (const auto& field : request.headers)
    if (field.name.size() == 11 && http::iequals(field.name, "SCRIPT_NAME")) found = &field;
  return found != nullptr && trusted_forwarder(peer) ? found : nullptr;
}

py::dict EnvironBuilder::build(const http::Request& request, const http::RequestBody& body,
                               const PeerInfo& peer, py::handle input) const {
  auto env = py::reinterpret_steal<py::dict>(PyDict_Copy(template_.ptr()));
  if (!env) throw py::error_already_set();
  PyObject* e = env.ptr();
  thread_local std::string scratch;

  set_request_line(e, request, peer, scratch);
  PyDict_SetItem(e, k_input_, input.ptr());
  const std::string_view host = set_headers(e, request, body, scratch);
  const bool secure = peer.tls || is_secure(request, peer);
  if (secure) PyDict_SetItem(e, k_scheme_, v_https_);
  set_peer(e, peer, host, secure);
  return env;
}

// REQUEST_METHOD, SCRIPT_NAME (when forwarded), PATH_INFO, QUERY_STRING, RAW_URI and
// SERVER_PROTOCOL.
void EnvironBuilder::set_request_line(PyObject* e, const http::Request& request,
                                      const PeerInfo& peer, std::string& scratch) const {
  if (PyObject* method = method_value(request.method)) {
    PyDict_SetItem(e, k_method_, method);
  } else {
    set_steal(e, k_method_, latin1(request.method));
  }
  std::string_view path = request.path;
  std::string_view script_name = script_name_;
  if (const http::HeaderField* forwarded = forwarded_script_name(request, peer)) {
    script_name = forwarded->value;
    set_steal(e, k_script_name_, latin1(script_name));
  }
  // A path outside SCRIPT_NAME keeps its whole path in PATH_INFO (gunicorn 22+ answers 400
  // "Configuration problem" there; gthreadd has always served it unchanged).
  if (!script_name.empty() && path.starts_with(script_name)) path.remove_prefix(script_name.size());
  set_steal(e, k_path_info_, unquote_latin1(path, scratch));
  set_steal(e, k_query_, latin1(request.query));
  set_steal(e, k_raw_uri_, latin1(request.target));
  PyDict_SetItem(e, k_protocol_, request.version_minor == 0 ? v_http10_ : v_http11_);
}

// HTTP_*, CONTENT_TYPE and CONTENT_LENGTH from the fields. Returns the Host field's value.
std::string_view EnvironBuilder::set_headers(PyObject* e, const http::Request& request,
                                             const http::RequestBody& body,
                                             std::string& scratch) const {
  std::string_view host;
  bool has_content_length = false;
  for (const auto& field : request.headers) {
    PyObject* key;
    if (const KnownHeader* known = known_header(field.name)) {
      using Kind = KnownHeader::Kind;
      if (known->kind == Kind::ContentType || known->kind == Kind::ContentLength) {
        if (known->kind == Kind::ContentLength) has_content_length = true;
        set_steal(e, known->key, latin1(field.value));
        continue;
      }
      if (known->kind == Kind::Host) host = field.value;
      key = known->key;
      Py_INCREF(key);
    } else {
      scratch.assign("HTTP_");
      for (char c : field.name)
        scratch.push_back(c == '-' ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
      key = PyUnicode_FromStringAndSize(scratch.data(), static_cast<Py_ssize_t>(scratch.size()));
      if (key == nullptr) throw py::error_already_set();
    }
    add_field(e, key, field.value);
  }
  // A chunked body is fully decoded before the app runs: give its size, so frameworks that
  // read CONTENT_LENGTH bytes (Django) see it. gunicorn leaves it unset here.
  if (!has_content_length && request.framing == http::BodyFraming::Chunked)
    set_steal(e, k_content_length_, decimal(body.size()));
  return host;
}

// REMOTE_ADDR, REMOTE_PORT, SERVER_NAME and SERVER_PORT.
void EnvironBuilder::set_peer(PyObject* e, const PeerInfo& peer, std::string_view host,
                              bool secure) const {
  set_steal(e, k_remote_addr_,
            cached_latin1(peer.remote_addr, last_remote_addr_, remote_addr_value_));
  // A unix-socket peer has no address or port, unless a PROXY header gave it both.
  if (!peer.unix_socket || !peer.remote_addr.empty())
    set_steal(e, k_remote_port_, remote_port_value(peer.remote_port));
  if (!peer.unix_socket) {
    set_steal(e, k_server_name_,
              cached_latin1(peer.server_name, last_server_name_, server_name_value_));
    set_steal(e, k_server_port_,
              cached_latin1(peer.server_port, last_server_port_, server_port_value_));
  } else if (!host.empty()) {
    // gunicorn: a unix socket has no address for the WSGI server keys; use Host, with the
    // scheme's default port when Host has none.
    const auto colon = host.rfind(':');
    const auto bracket = host.rfind(']');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
      set_steal(e, k_server_name_, latin1(host.substr(0, colon)));
      set_steal(e, k_server_port_, latin1(host.substr(colon + 1)));
    } else {
      set_steal(e, k_server_name_, latin1(host));
      set_steal(e, k_server_port_, latin1(secure ? "443" : "80"));
    }
  } else {
    set_steal(e, k_server_name_, latin1(peer.server_name));
    set_steal(e, k_server_port_, latin1(""));
  }
}

}  // namespace gthreadd::wsgi
