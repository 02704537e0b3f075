#pragma once
// Text → value conversions shared by the command line and config files. Each returns nullopt
// on bad input; the caller names the setting and the accepted form.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gthreadd::config {

std::optional<long long> parse_integer(std::string_view text);
std::optional<double> parse_decimal(std::string_view text);
// "1048576", "512K", "64M", "2G" (powers of 1024, case-insensitive): bytes.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);
// true/false, yes/no, on/off, 1/0, case-insensitive.
std::optional<bool> parse_boolean(std::string_view text);
// gunicorn's auto_int: "0022" is octal, otherwise Python int(x, 0) ("18", "0o22", "0x12").
std::optional<long long> parse_umask(std::string_view text);
// "a, b,,c" → {"a", "b", "c"}: items trimmed, empty ones dropped.
std::vector<std::string> split_list(std::string_view text, char separator = ',');
std::string_view trim(std::string_view text);

}  // namespace gthreadd::config
