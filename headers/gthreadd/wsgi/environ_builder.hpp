#pragma once
// Builds the PEP 3333 environ with the keys gunicorn sets. The constant part is a template
// dict made once per worker and copied per request (PyDict_Copy), keys are interned once,
// and the HTTP_* keys of common headers are cached, so a request pays only for its values.
#include <Python.h>
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gthreadd/config/settings.hpp"
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
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  PyObject* header_key(std::string_view name, std::string& scratch) const;  // new reference
  bool is_secure(const http::Request& request, const PeerInfo& peer) const;

  pybind11::dict template_;
  std::string script_name_;
  bool trust_all_forwarders_ = false;
  std::unordered_set<std::string, Hash, std::equal_to<>> forwarded_allow_;
  std::vector<std::pair<std::string, std::string>> secure_headers_;  // upper-case name, value
  std::unordered_map<std::string, PyObject*, Hash, std::equal_to<>> header_keys_;  // "HOST" → "HTTP_HOST"
  std::unordered_map<std::string, PyObject*, Hash, std::equal_to<>> methods_;
  // Interned keys and shared values, owned (one reference each).
  PyObject *k_method_, *k_script_name_, *k_path_info_, *k_query_, *k_raw_uri_, *k_server_name_,
      *k_server_port_, *k_protocol_, *k_remote_addr_, *k_remote_port_, *k_content_type_,
      *k_content_length_, *k_scheme_, *k_input_;
  PyObject *v_http10_, *v_http11_, *v_https_;
};

}  // namespace gthreadd::wsgi
