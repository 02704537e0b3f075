#pragma once
// The process's TLS context: built by the master at start-up (an error stops the start,
// exit 1) and again on HUP (an error keeps the context in use and logs why, so a bad
// renewal never takes HTTPS down; gunicorn #2536 asks that HUP serve a renewed
// certificate). Workers inherit it through fork and read it only: new workers after a HUP
// serve the new certificate, old ones finish with the old.
//
// Threads: install and reload run on the master's only thread, never while a worker of
// this process image runs; current() is read by a worker's loop after fork.
#include <string>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/tls/tls_context.hpp"

namespace gthreadd::tls {

// Builds from `settings` (none when certfile is unset) and makes it current. Returns an
// empty string, or the error, and then leaves the current context as it was.
std::string install(const config::Settings& settings);

// Null: plain HTTP on every listener.
const TlsContext* current() noexcept;

}  // namespace gthreadd::tls
