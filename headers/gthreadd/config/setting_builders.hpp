#pragma once
// Builders for the rows of the setting table (config/setting_table.hpp): one per kind of
// value (integer, seconds, byte size, boolean, text, list, choice), each validating the text
// and storing it into one Settings member, and --print-config's Python-repr helpers. Used
// only by the files that append a group of rows (config/setting_groups.hpp,
// config/tls_settings.cpp). Start-up only: nothing here is touched once workers run.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gthreadd/config/setting_table.hpp"

namespace gthreadd::config::builders {

using Kind = SettingSpec::Kind;
using Apply = std::function<std::string(Settings&, std::string_view)>;
using Show = std::function<std::string(const Settings&)>;

// A row from its parts; the other builders fill apply/show for a kind of value.
SettingSpec make(std::string_view name, std::string_view flags, std::string_view help, Kind kind,
                 Apply apply, Show show);

// 'text', as the refusal messages quote a value.
std::string quoted(std::string_view text);
// Python's repr, since --print-config mirrors gunicorn's output.
std::string py_string(const std::string& text);
std::string py_list(const std::vector<std::string>& items);
std::string py_bool(bool value);
// The value trimmed and in ASCII lower case, for words compared case-insensitively.
std::string lower_word(std::string_view value);

// An integer from min to max (INT).
SettingSpec integer(std::string_view name, std::string_view flags, std::string_view help,
                    int Settings::*field, long long min, long long max);
// A number of seconds > 0 (SECONDS).
SettingSpec decimal(std::string_view name, std::string_view flags, std::string_view help,
                    double Settings::*field);
// A number of seconds >= 0 where 0 turns the limit off (SECONDS).
SettingSpec seconds_or_off(std::string_view name, std::string_view flags, std::string_view help,
                           double Settings::*field);
// Bytes, with an optional K, M or G suffix (powers of 1024) (SIZE).
SettingSpec byte_size(std::string_view name, std::string_view flags, std::string_view help,
                      std::uint64_t Settings::*field);
SettingSpec boolean(std::string_view name, std::string_view flags, std::string_view help,
                    bool Settings::*field, Kind kind = Kind::Flag);
SettingSpec text(std::string_view name, std::string_view flags, std::string_view help,
                 std::string Settings::*field);
// "a, b,c" (LIST).
SettingSpec comma_list(std::string_view name, std::string_view flags, std::string_view help,
                       std::vector<std::string> Settings::*field);
// '*', IP addresses and CIDR ranges, each checked (ADDRESSES).
SettingSpec address_list(std::string_view name, std::string_view flags, std::string_view help,
                         std::vector<std::string> Settings::*field);
// -e A -e B: values add up within one source; `check` may refuse one.
SettingSpec repeatable(std::string_view name, std::string_view flags, std::string_view help,
                       std::vector<std::string> Settings::*field,
                       std::function<std::string(std::string_view)> check = {});
// One of `choices`, case-insensitive ({a,b,c}).
SettingSpec one_of(std::string_view name, std::string_view flags, std::string_view help,
                   std::string Settings::*field, std::vector<std::string> choices);
// A gunicorn setting gthreadd refuses, with why.
SettingSpec refused(std::string_view name, std::string_view flags, Kind kind, std::string why);

}  // namespace gthreadd::config::builders
