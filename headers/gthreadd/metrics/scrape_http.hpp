#pragma once
// The HTTP/1.1 the metrics endpoint speaks (RFC 9112), and no more: one request per
// connection, its head read within a deadline and a size cap so a slow or hostile client
// cannot hold the endpoint, `GET /metrics` (or HEAD) answered, everything else 404 or 405,
// always with `Connection: close` (RFC 9112 section 9.6).
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace gthreadd::metrics {

inline constexpr std::size_t kMaxScrapeHead = 8192;
inline constexpr std::chrono::milliseconds kScrapeDeadline{2000};

// Reads a request head from the non-blocking socket `fd` until the blank line. Returns the
// head, or an empty string with `status` set: 408 (the deadline passed), 431 (too large),
// 0 (the client closed or failed: send nothing).
std::string read_request_head(int fd, std::chrono::steady_clock::time_point deadline, int& status);

// The whole response to `head` (status line, fields, body); `render` makes the metrics text.
std::string route_scrape(std::string_view head, const std::function<std::string()>& render);

// The response for a request the endpoint refuses before routing (408, 431).
std::string error_response(int status);

// Reads and drops input until the client closes, 64 KiB or `deadline`, whichever first.
void discard_input(int fd, std::chrono::steady_clock::time_point deadline);

// Writes all of `data` before `deadline`; false if the client did not take it in time.
bool send_all(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline);

}  // namespace gthreadd::metrics
