#pragma once
// Character classes from RFC 9110 §5.6.2 and §5.5, as lookup tables: locale-free and branch-light.
#include <array>
#include <cstdint>
#include <string_view>

namespace gthreadd::http {

namespace detail {
constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~")) t[c] = true;
  return t;
}
// field-vchar = VCHAR / obs-text, plus SP and HTAB inside a value (RFC 9110 §5.5).
constexpr std::array<bool, 256> make_field_value_table() {
  std::array<bool, 256> t{};
  for (int c = 0x21; c <= 0x7e; ++c) t[c] = true;
  for (int c = 0x80; c <= 0xff; ++c) t[c] = true;
  t[' '] = true;
  t['\t'] = true;
  return t;
}
inline constexpr auto kTchar = make_tchar_table();
inline constexpr auto kFieldValue = make_field_value_table();
}  // namespace detail

constexpr bool is_tchar(unsigned char c) noexcept { return detail::kTchar[c]; }
constexpr bool is_field_value_char(unsigned char c) noexcept { return detail::kFieldValue[c]; }

constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

// ASCII-only case-insensitive compare; never consults the locale.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return false;
  }
  return true;
}

}  // namespace gthreadd::http
