#pragma once
// Field-value grammar the request parser checks once a head is complete (RFC 9110 §5.6,
// RFC 9112 §3.2, RFC 3986 §3.2): whitespace, #lists, Content-Length and Host. Pure functions
// of their argument, usable from any thread; no allocation.
#include <cstdint>
#include <string_view>

namespace gthreadd::http {

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each element of a #list (RFC 9110 §5.6.1), OWS trimmed.
template <typename Fn>
void for_each_list_element(std::string_view value, Fn&& fn) {
  while (true) {
    const auto comma = value.find(',');
    fn(trim_ows(value.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

// Content-Length = 1*DIGIT (RFC 9110 §8.6); no sign, no spaces, no list, no overflow.
bool parse_content_length(std::string_view s, std::uint64_t& out) noexcept;

// Host = uri-host [ ":" port ] (RFC 9112 §3.2), non-empty, no userinfo, no path; see
// field_syntax.cpp for why an empty Host and a ',' in a reg-name are refused.
bool is_valid_host(std::string_view v) noexcept;

}  // namespace gthreadd::http
