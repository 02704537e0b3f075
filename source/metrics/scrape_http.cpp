#include "gthreadd/metrics/scrape_http.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "gthreadd/metrics/exposition.hpp"

namespace gthreadd::metrics {
namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds left until `deadline`, for poll(2); 0 once it has passed.
int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
  }
}

std::string response(int status, std::string_view content_type, const std::string& body,
                     bool head_only, std::string_view extra = {}) {
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) + "\r\n";
  out += "Server: gthreadd\r\nConnection: close\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra;
  out += "\r\n";
  if (!head_only) out += body;
  return out;
}

std::string plain(int status, bool head_only = false, std::string_view extra = {}) {
  return response(status, "text/plain; charset=utf-8", std::string(reason(status)) + "\n",
                  head_only, extra);
}

}  // namespace

std::string read_request_head(int fd, Clock::time_point deadline, int& status) {
  std::string head;
  char buffer[2048];
  for (;;) {
    // The blank line ends the head (a bare LF too, RFC 9112 section 2.2); only within the cap.
    const std::string_view within = std::string_view(head).substr(0, kMaxScrapeHead);
    if (const auto end = within.find("\r\n\r\n"); end != std::string::npos)
      return head.substr(0, end + 2);
    if (const auto end = within.find("\n\n"); end != std::string::npos)
      return head.substr(0, end + 1);
    if (head.size() >= kMaxScrapeHead) {
      status = 431;
      return {};
    }
    if (!wait_for(fd, POLLIN, deadline)) {
      status = 408;
      return {};
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      head.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      status = 0;
      return {};
    }
  }
}

std::string route_scrape(std::string_view head, const std::function<std::string()>& render) {
  // request-line = method SP request-target SP HTTP-version (RFC 9112 section 3)
  const auto line_end = head.find_first_of("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1."))
    return plain(400);
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));  // Prometheus may add params[] as a query
  const bool head_only = method == "HEAD";
  if (target != "/metrics") return plain(404, head_only);
  if (method != "GET" && !head_only) return plain(405, false, "Allow: GET, HEAD\r\n");
  return response(200, kContentType, render(), head_only);
}

std::string error_response(int status) { return plain(status); }

void discard_input(int fd, Clock::time_point deadline) {
  char buffer[4096];
  std::size_t total = 0;
  while (total < 65536 && wait_for(fd, POLLIN, deadline)) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
    if (n > 0) total += static_cast<std::size_t>(n);
  }
}

bool send_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (!wait_for(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace gthreadd::metrics
