#include "gthreadd/tls/server_tls.hpp"

#include <memory>

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
  return {};
}

const TlsContext* current() noexcept { return slot().get(); }

}  // namespace gthreadd::tls
