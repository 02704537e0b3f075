// Setting rows: HTTP limits, header handling and the proxies trusted.
#include "gthreadd/config/setting_groups.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "gthreadd/config/setting_builders.hpp"
#include "gthreadd/config/value_parsers.hpp"

namespace gthreadd::config {

using namespace builders;  // the row builders, in every file that appends rows

namespace {

// gunicorn 24.1's --proxy-protocol off|v1|v2|auto; gunicorn up to 23 had a boolean, so a
// config file's True means auto (detect either version) and False means off.
std::string apply_proxy_protocol(Settings& s, std::string_view value) {
  const std::string word = lower_word(value);
  if (word == "off" || word == "v1" || word == "v2" || word == "auto") {
    s.proxy_protocol = word;
    return {};
  }
  if (auto flag = parse_boolean(word)) {
    s.proxy_protocol = *flag ? "auto" : "off";
    return {};
  }
  return quoted(value) +
         " is not one of: off, v1, v2, auto (or a boolean: true = auto, false = off)";
}

std::string apply_body_limit(Settings& s, std::string_view value) {
  auto limit = parse_integer(value);
  if (!limit || *limit < 0) return quoted(value) + " is not a byte count >= 0 (0 = no limit)";
  s.limit_request_body = static_cast<std::uint64_t>(*limit);
  return {};
}

// "X-FORWARDED-PROTO=https, X-FORWARDED-SSL=on": gunicorn's dict as an INI value.
std::string apply_scheme_headers(Settings& s, std::string_view value) {
  std::map<std::string, std::string> headers;
  for (const auto& item : split_list(value)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return quoted(item) + " is not HEADER=VALUE (a comma list such as X-FORWARDED-PROTO=https)";
    }
    std::string name(trim(std::string_view(item).substr(0, eq)));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    headers[name] = std::string(trim(std::string_view(item).substr(eq + 1)));
  }
  s.secure_scheme_headers = std::move(headers);
  return {};
}

std::string show_scheme_headers(const Settings& s) {
  std::string out = "{";
  for (const auto& [name, value] : s.secure_scheme_headers) {
    out += (out.size() > 1 ? ", '" : "'") + name + "': '" + value + "'";
  }
  return out + "}";
}

}  // namespace

void append_http_settings(std::vector<SettingSpec>& t) {
  const int kMaxInt = std::numeric_limits<int>::max();
  // Larger values are clamped with a warning after every source is applied (clamp_limits in
  // command_line.cpp), as gunicorn clamps them: configs with 8200 or 16384 start under gunicorn.
  t.push_back(integer("limit_request_line", "--limit-request-line",
                      "longest request line in bytes (0 or more than 8190 = 8190)",
                      &Settings::limit_request_line, 0, kMaxInt));
  t.push_back(integer("limit_request_fields", "--limit-request-fields",
                      "most header fields (0 or more than 32768 = 32768)",
                      &Settings::limit_request_fields, 0, kMaxInt));
  // gunicorn spells this flag with an underscore; both are accepted so a swapped-in command line
  // works.
  t.push_back(integer("limit_request_field_size",
                      "--limit-request-field-size,--limit-request-field_size",
                      "longest header field in bytes (0 = no limit beyond the maximum)",
                      &Settings::limit_request_field_size, 0, kMaxInt));
  t.push_back(make("limit_request_body", "--limit-request-body",
                   "largest request body in bytes (0 = no limit)", Kind::Value, apply_body_limit,
                   [](const Settings& s) { return std::to_string(s.limit_request_body); }));
  t.push_back(decimal("header_timeout", "--header-timeout",
                      "seconds for a whole request head to arrive", &Settings::header_timeout));
  t.push_back(decimal("body_timeout", "--body-timeout",
                      "seconds without a body byte before giving up", &Settings::body_timeout));
  t.push_back(boolean("permit_unconventional_http_method", "--permit-unconventional-http-method",
                      "accept lower-case and unusual methods",
                      &Settings::permit_unconventional_http_method));
  t.push_back(boolean("permit_obsolete_folding", "--permit-obsolete-folding",
                      "join obs-fold header lines instead of rejecting them",
                      &Settings::permit_obsolete_folding));
  t.push_back(boolean("strip_header_spaces", "--strip-header-spaces",
                      "tolerate spaces before a header colon", &Settings::strip_header_spaces));
  t.push_back(boolean("casefold_http_method", "--casefold-http-method",
                      "upper-case lower-case methods (with --permit-unconventional-http-method)",
                      &Settings::casefold_http_method));
  t.push_back(
      one_of("header_map", "--header-map",
             "header names with '_': drop (default), refuse with 400, or dangerous (map like '-')",
             &Settings::header_map, {"drop", "refuse", "dangerous"}));
  t.push_back(
      comma_list("forwarder_headers", "--forwarder-headers",
                 "headers with '_' that trusted forwarders may set (default SCRIPT_NAME,PATH_INFO)",
                 &Settings::forwarder_headers));
  t.push_back(address_list(
      "forwarded_allow_ips", "--forwarded-allow-ips",
      "front-end addresses or CIDR ranges trusted for X-Forwarded-* headers (comma list, * = all)",
      &Settings::forwarded_allow_ips));
  t.push_back(make("secure_scheme_headers", "",
                   "headers that mark a request as https: HEADER=VALUE, ...", Kind::Value,
                   apply_scheme_headers, show_scheme_headers));
  t.push_back(make("proxy_protocol", "--proxy-protocol",
                   "expect a PROXY protocol header: off, v1, v2 or auto (the bare flag means auto)",
                   Kind::Value, apply_proxy_protocol,
                   [](const Settings& s) { return s.proxy_protocol; }));
  t.push_back(
      address_list("proxy_allow_ips", "--proxy-allow-from",
                   "addresses or CIDR ranges allowed to send PROXY headers (comma list, * = all)",
                   &Settings::proxy_allow_ips));
}

}  // namespace gthreadd::config
