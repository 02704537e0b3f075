#include "gthreadd/tls/server_tls.hpp"

#include <memory>

#include <spdlog/spdlog.h>

namespace gthreadd::tls {
namespace {

std::unique_ptr<TlsContext>& slot() {
  static std::unique_ptr<TlsContext> context;
  return context;
}

}  // namespace

std::string install(const config::Settings& settings) {
  if (settings.certfile.empty()) {
    if (!settings.keyfile.empty()) return "keyfile is set without certfile: set certfile too";
    slot().reset();
    return {};
  }
  std::string error;
  auto fresh = TlsContext::build(settings, error);
  if (!fresh) return error;
  slot() = std::move(fresh);
  // gunicorn's do_handshake_on_connect picks when Python's ssl runs the handshake (at accept,
  // or at the first read); gthreadd always runs it in the event loop before the first read,
  // which is what either value looks like to a client. Said at debug, so a config that sets
  // it can see it is read and what it amounts to.
  spdlog::debug(
      "TLS: the handshake runs in the event loop before the first read "
      "(do_handshake_on_connect = {}: the same either way)",
      settings.do_handshake_on_connect ? "True" : "False");
  return {};
}

const TlsContext* current() noexcept { return slot().get(); }

}  // namespace gthreadd::tls
