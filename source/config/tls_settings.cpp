#include "gthreadd/config/tls_settings.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "gthreadd/config/value_parsers.hpp"

namespace gthreadd::config {
namespace {

using Kind = SettingSpec::Kind;

std::string lower(std::string_view text) {
  std::string word(trim(text));
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return word;
}

// A .py config's `ssl.CERT_REQUIRED` arrives as "VerifyMode.CERT_REQUIRED", and
// `ssl.PROTOCOL_TLS_SERVER` as "_SSLMethod.PROTOCOL_TLS_SERVER": the enum's class goes.
std::string enum_word(std::string_view text) {
  std::string word = lower(text);
  if (const auto dot = word.rfind('.'); dot != std::string::npos) word.erase(0, dot + 1);
  return word;
}

SettingSpec row(std::string_view name, std::string_view flags, std::string help, Kind kind,
                std::function<std::string(Settings&, std::string_view)> apply,
                std::function<std::string(const Settings&)> show, std::string value_name) {
  SettingSpec spec;
  spec.name = name;
  spec.flags = flags;
  spec.help = std::move(help);
  spec.kind = kind;
  spec.apply = std::move(apply);
  spec.show = std::move(show);
  spec.value_name = std::move(value_name);
  return spec;
}

SettingSpec path_row(std::string_view name, std::string_view flags, std::string help,
                     std::string Settings::*field) {
  return row(
      name, flags, std::move(help), Kind::Value,
      [field](Settings& s, std::string_view value) {
        // gunicorn's validate_string strips; None (a .py config's default) is unset.
        const std::string_view v = trim(value);
        s.*field = v == "None" ? std::string() : std::string(v);
        return std::string();
      },
      [field](const Settings& s) { return (s.*field).empty() ? std::string("None") : s.*field; },
      "FILE");
}

// gunicorn's cert_reqs: ssl.CERT_NONE (0), CERT_OPTIONAL (1), CERT_REQUIRED (2).
std::string apply_cert_reqs(Settings& s, std::string_view value) {
  const std::string word = enum_word(value);
  static const char* const names[] = {"cert_none", "cert_optional", "cert_required"};
  for (int i = 0; i < 3; ++i) {
    if (word == names[i] || word == std::to_string(i)) {
      s.cert_reqs = i;
      return {};
    }
  }
  return "'" + std::string(value) +
         "' is not 0/CERT_NONE, 1/CERT_OPTIONAL or 2/CERT_REQUIRED (Python's ssl constants)";
}

// gunicorn 21+ ignores ssl_version (its context is Python's create_default_context, TLS 1.2
// at least) and warns when it is not the default. gthreadd reads it as a minimum version:
// the defaults and TLS 1.2 mean TLS 1.2, TLS 1.3 means TLS 1.3 only. Older versions are
// never served (OpenSSL 3 and Python 3.10+ refuse them too): such a value is ignored with
// a warning, as gunicorn 21+ ignores it, so the config still starts.
std::string apply_ssl_version(Settings& s, std::string_view value) {
  std::string word = enum_word(value);
  if (word.starts_with("protocol_")) word.erase(0, 9);
  if (word == "2" || word == "17" || word == "tls" || word == "sslv23" || word == "tls_server" ||
      word == "5" || word == "771" || word == "tlsv1_2" || word == "minimum_supported") {
    s.ssl_version = 0x0303;
    return {};
  }
  if (word == "772" || word == "tlsv1_3" || word == "maximum_supported") {
    s.ssl_version = 0x0304;
    return {};
  }
  if (word == "1" || word == "3" || word == "4" || word == "sslv3" || word == "tlsv1" ||
      word == "tlsv1_1" || word == "769" || word == "770") {
    s.ssl_version = 0x0303;
    s.config_warnings.push_back("ssl_version " + std::string(trim(value)) +
                                " asks for a protocol older than TLS 1.2, which is never "
                                "served; ignored (gunicorn 21+ ignores ssl_version too)");
    return {};
  }
  return "'" + std::string(value) +
         "' is not a TLS version: TLS (the default), TLSv1_2 or TLSv1_3 (a minimum version)";
}

std::string apply_flag(bool Settings::*field, Settings& s, std::string_view value) {
  auto flag = parse_boolean(value);
  if (!flag) return "'" + std::string(value) + "' is not a boolean (true/false, 1/0)";
  s.*field = *flag;
  return {};
}

std::string show_bool(bool value) { return value ? "True" : "False"; }

}  // namespace

void append_tls_settings(std::vector<SettingSpec>& t) {
  t.push_back(path_row("certfile", "--certfile",
                       "TLS certificate (PEM, with its chain): every listener serves HTTPS",
                       &Settings::certfile));
  t.push_back(path_row("keyfile", "--keyfile", "TLS private key (PEM; unset: in the certfile)",
                       &Settings::keyfile));
  t.push_back(path_row("ca_certs", "--ca-certs", "CA certificates to verify client certificates",
                       &Settings::ca_certs));
  t.push_back(row(
      "ciphers", "--ciphers", "OpenSSL cipher list for TLS 1.2 (unset: OpenSSL's default)",
      Kind::Value,
      [](Settings& s, std::string_view v) {
        s.ciphers = trim(v) == "None" ? std::string() : std::string(trim(v));
        return std::string();
      },
      [](const Settings& s) { return s.ciphers.empty() ? std::string("None") : s.ciphers; },
      "TEXT"));
  t.push_back(row(
      "cert_reqs", "--cert-reqs", "client certificate: 0 none, 1 optional, 2 required", Kind::Value,
      apply_cert_reqs, [](const Settings& s) { return std::to_string(s.cert_reqs); }, "{0,1,2}"));
  t.push_back(row(
      "ssl_version", "--ssl-version", "minimum TLS version: TLS (1.2), TLSv1_2, TLSv1_3",
      Kind::Value, apply_ssl_version,
      [](const Settings& s) {
        return std::string(s.ssl_version == 0x0304 ? "TLSv1_3" : "TLSv1_2");
      },
      "{TLS,TLSv1_2,TLSv1_3}"));
  t.push_back(row(
      "suppress_ragged_eofs", "--suppress-ragged-eofs",
      "a client closing without close_notify ends the stream cleanly (default on)", Kind::Flag,
      [](Settings& s, std::string_view v) {
        return apply_flag(&Settings::suppress_ragged_eofs, s, v);
      },
      [](const Settings& s) { return show_bool(s.suppress_ragged_eofs); }, "TEXT"));
  t.push_back(row(
      "do_handshake_on_connect", "--do-handshake-on-connect",
      "accepted: the handshake always runs in the event loop before the first request", Kind::Flag,
      [](Settings& s, std::string_view v) {
        return apply_flag(&Settings::do_handshake_on_connect, s, v);
      },
      [](const Settings& s) { return show_bool(s.do_handshake_on_connect); }, "TEXT"));
  // gunicorn 21's ssl_context(config, default_ssl_context_factory) returns a Python
  // ssl.SSLContext. Its certificates, keys and callbacks live inside CPython's _ssl module
  // and cannot be handed to gthreadd's own OpenSSL objects, which the event loop drives
  // without the GIL; accepting it would serve a context other than the one configured.
  SettingSpec hook = row(
      "ssl_context", "", "", Kind::Value,
      [](Settings&, std::string_view) {
        return std::string(
            "the ssl_context hook is not supported: it returns a Python ssl.SSLContext, which "
            "cannot drive gthreadd's OpenSSL connections (the event loop runs TLS without the "
            "GIL); express it with certfile, keyfile, ca_certs, cert_reqs, ciphers and "
            "ssl_version (minimum version) instead");
      },
      [](const Settings&) { return std::string("None"); }, "TEXT");
  hook.help = "refused: a Python ssl.SSLContext cannot drive gthreadd's OpenSSL";
  hook.refused = true;
  t.push_back(std::move(hook));
}

}  // namespace gthreadd::config
