#pragma once
// The IMF-fixdate for the Date header (RFC 9110 §5.6.7), formatted at most once a second
// per process and readable from any thread without a lock.
#include <string_view>

namespace gthreadd::http {

// Returns e.g. "Wed, 25 Nov 2026 08:00:00 GMT" (29 bytes). The view stays valid until the
// same thread calls again.
std::string_view http_date_now();

}  // namespace gthreadd::http
