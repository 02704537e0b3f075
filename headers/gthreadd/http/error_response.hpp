#pragma once
// Complete responses the server itself sends: errors found before the app runs (400, 408,
// 413, 414, 431, 500, 501, 505) and "100 Continue".
#include <string>
#include <string_view>

namespace gthreadd::http {

// "HTTP/1.1 400 Bad Request\r\nDate: ...\r\nServer: gthreadd\r\nConnection: close\r\n
// Content-Type: text/plain\r\nContent-Length: N\r\n\r\n<body>" — always closes.
std::string make_error_response(int status);

std::string_view reason_phrase(int status);  // "Bad Request"; "Unknown" for unlisted codes

inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace gthreadd::http
