#include "gthreadd/http/error_response.hpp"

#include "gthreadd/http/date_cache.hpp"

namespace gthreadd::http {

std::string_view reason_phrase(int status) {
  // RFC 9110 §15 reason phrases.
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";  // RFC 4918 §11.5: the body could not be stored
    default: return "Unknown";
  }
}

std::string make_error_response(int status) {
  const std::string_view reason = reason_phrase(status);
  const std::string code = std::to_string(status);
  const std::string body = code + " " + std::string(reason) + "\n";
  std::string r;
  r.reserve(160 + body.size());
  r.append("HTTP/1.1 ").append(code).append(" ").append(reason);
  r.append("\r\nDate: ").append(http_date_now());
  r.append(
      "\r\nServer: gthreadd\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ");
  r.append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  return r;
}

}  // namespace gthreadd::http
