#pragma once
// The rows of the setting table for gunicorn's SSL section (certfile, keyfile, ca_certs,
// cert_reqs, ciphers, ssl_version, suppress_ragged_eofs, do_handshake_on_connect and the
// ssl_context hook): how each value is read on the command line, in INI and in .py files.
// The files themselves are checked when the OpenSSL context is built (tls/server_tls.hpp).
#include <vector>

#include "gthreadd/config/setting_table.hpp"

namespace gthreadd::config {

void append_tls_settings(std::vector<SettingSpec>& table);

}  // namespace gthreadd::config
